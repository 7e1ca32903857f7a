using System.Buffers;
using Microsoft.Extensions.AI;

namespace Triage.Router.Cache;

/// <summary>
/// The built-in embedder: signed feature hashing of the fingerprint's words and word pairs, with sublinear
/// term frequency, L2-normalised. Deterministic, needs no model and no network, and fast enough to run on every
/// failure; it finds failures that share their words, which is what a rerun of the same failure does. Whether a
/// neighbour is really the same failure is the identity check's call, not the embedding's.
/// </summary>
public sealed class HashedNgramEmbeddingGenerator(int dimensions = HashedNgramEmbeddingGenerator.DefaultDimensions)
    : IEmbeddingGenerator<string, Embedding<float>>
{
    public const int DefaultDimensions = 256;

    public const string Name = "hashed-ngrams";

    private readonly EmbeddingGeneratorMetadata metadata = new(Name, defaultModelId: $"{Name}-v1", defaultModelDimensions: dimensions);

    public int Dimensions { get; } = dimensions;

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var embeddings = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            embeddings.Add(new Embedding<float>(Embed(value)) { ModelId = metadata.DefaultModelId });
        }

        return Task.FromResult(embeddings);
    }

    public float[] Embed(string fingerprint)
    {
        using var tally = new HashTally();
        CountWordsAndPairs(fingerprint, tally);
        var vector = new float[Dimensions];

        // Adding in the order the hashes were first seen keeps every slot's float sum, and so the vector, bit for
        // bit what it was when the counts were kept in a dictionary.
        for (var i = 0; i < tally.Count; i++)
        {
            var hash = tally.Hash(i);
            var slot = (int)(hash % (ulong)Dimensions);
            var sign = ((hash >> 63) & 1) == 0 ? 1f : -1f;
            vector[slot] += sign * Weight(tally.Occurrences(i));
        }

        return Normalise(vector);
    }

    /// <summary>Scales a vector to unit length in place, so that cosine similarity is a dot product.</summary>
    public static float[] Normalise(float[] vector)
    {
        var norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(vector));
        if (norm > 0)
        {
            System.Numerics.Tensors.TensorPrimitives.Divide(vector, norm, vector);
        }

        return vector;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(metadata) ? metadata
        : serviceKey is null && serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }

    /// <summary>Sublinear term frequency, 1 + ln(count). Most words occur once, and ln(1) is exactly 0.</summary>
    private static float Weight(int count) => count == 1 ? 1f : 1f + MathF.Log(count);

    private static void CountWordsAndPairs(ReadOnlySpan<char> text, HashTally tally)
    {
        ulong previous = 0;
        var position = 0;
        while (NextWord(text, ref position, out var word))
        {
            var hash = Hash(word);
            tally.Add(hash);
            if (previous != 0)
            {
                tally.Add((previous * 31) ^ hash ^ 0x9E3779B97F4A7C15UL);
            }

            previous = hash;
        }
    }

    // FNV-1a over the lower-cased word: stable across processes and releases, unlike string.GetHashCode.
    private static ulong Hash(ReadOnlySpan<char> word)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in word)
        {
            hash = (hash ^ char.ToLowerInvariant(c)) * 1099511628211UL;
        }

        return hash;
    }

    /// <summary>The next run of word characters at or after <paramref name="position"/>, which moves past it.</summary>
    private static bool NextWord(ReadOnlySpan<char> text, ref int position, out ReadOnlySpan<char> word)
    {
        var start = position;
        while (start < text.Length && !IsWordCharacter(text[start]))
        {
            start++;
        }

        var end = start;
        while (end < text.Length && IsWordCharacter(text[end]))
        {
            end++;
        }

        position = end;
        word = text[start..end];
        return end > start;
    }

    // '<' and '>' belong to words so that the fingerprint's masks (<n>, <hex>, <tmp>) are words of their own.
    private static bool IsWordCharacter(char c) => char.IsLetterOrDigit(c) || c is '_' or '<' or '>';

    /// <summary>
    /// How often each distinct hash occurs, in the order the hashes were first seen: an open-addressing table over
    /// pooled arrays, because a dictionary per fingerprint was most of the embedding's time and garbage.
    /// </summary>
    private sealed class HashTally : IDisposable
    {
        private const int InitialCapacity = 512;

        private ulong[] hashes = ArrayPool<ulong>.Shared.Rent(InitialCapacity);
        private int[] occurrences = ArrayPool<int>.Shared.Rent(InitialCapacity);

        // Each slot holds an index into hashes plus one, so that zero means empty. The table is kept at most half
        // full, so that a probe ends after a step or two.
        private int[] slots = RentCleared(2 * InitialCapacity);
        private int mask = 2 * InitialCapacity - 1;

        public int Count { get; private set; }

        public ulong Hash(int index) => hashes[index];

        public int Occurrences(int index) => occurrences[index];

        public void Add(ulong hash)
        {
            var slot = Home(hash);
            while (slots[slot] != 0)
            {
                var index = slots[slot] - 1;
                if (hashes[index] == hash)
                {
                    occurrences[index]++;
                    return;
                }

                slot = (slot + 1) & mask;
            }

            hashes[Count] = hash;
            occurrences[Count] = 1;
            slots[slot] = ++Count;
            if (2 * Count > mask)
            {
                Grow();
            }
        }

        public void Dispose()
        {
            ArrayPool<ulong>.Shared.Return(hashes);
            ArrayPool<int>.Shared.Return(occurrences);
            ArrayPool<int>.Shared.Return(slots);
        }

        private int Home(ulong hash) => (int)(hash ^ (hash >> 32)) & mask;

        private void Grow()
        {
            var capacity = 2 * (mask + 1);
            hashes = Resize(hashes, capacity, Count);
            occurrences = Resize(occurrences, capacity, Count);
            ArrayPool<int>.Shared.Return(slots);
            slots = RentCleared(2 * capacity);
            mask = 2 * capacity - 1;
            for (var index = 0; index < Count; index++)
            {
                var slot = Home(hashes[index]);
                while (slots[slot] != 0)
                {
                    slot = (slot + 1) & mask;
                }

                slots[slot] = index + 1;
            }
        }

        private static T[] Resize<T>(T[] array, int capacity, int count)
        {
            var larger = ArrayPool<T>.Shared.Rent(capacity);
            Array.Copy(array, larger, count);
            ArrayPool<T>.Shared.Return(array);
            return larger;
        }

        private static int[] RentCleared(int length)
        {
            var array = ArrayPool<int>.Shared.Rent(length);
            Array.Clear(array, 0, length);
            return array;
        }
    }
}
