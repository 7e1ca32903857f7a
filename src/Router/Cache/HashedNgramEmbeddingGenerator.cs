using System.Runtime.InteropServices;
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
        var counts = new Dictionary<ulong, int>();
        ulong previous = 0;
        foreach (var word in Words(fingerprint))
        {
            var hash = Hash(word);
            Count(counts, hash);
            if (previous != 0)
            {
                Count(counts, (previous * 31) ^ hash ^ 0x9E3779B97F4A7C15UL);
            }

            previous = hash;
        }

        var vector = new float[Dimensions];
        foreach (var (hash, count) in counts)
        {
            var slot = (int)(hash % (ulong)Dimensions);
            var sign = ((hash >> 63) & 1) == 0 ? 1f : -1f;
            vector[slot] += sign * (1f + MathF.Log(count));
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

    private static void Count(Dictionary<ulong, int> counts, ulong hash)
    {
        ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, hash, out _);
        count++;
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

    private static IEnumerable<string> Words(string text)
    {
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var inWord = i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '<' or '>');
            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                yield return text[start..i];
                start = -1;
            }
        }
    }
}
