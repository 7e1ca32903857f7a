using System.Numerics.Tensors;
using Triage.Router.Cache;

namespace Triage.Bench.Micro;

/// <summary>
/// One scope of clustered entries in the embedded index (memory only: the store is not what is measured) and the
/// queries a cache sees: a third near-duplicates of an entry (cosine ≈ 0.95), a third at the edge of reuse
/// (≈ 0.8), a third new failures with no neighbour at all.
/// </summary>
internal sealed class LookupData
{
    public const string Scope = "acme/build";

    public static readonly DateTimeOffset CreatedAt = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private LookupData(float[][] entries, float[][] queries)
    {
        Entries = entries;
        Queries = queries;
    }

    public float[][] Entries { get; }

    public float[][] Queries { get; }

    public static LookupData Create(int entries, int dimensions = 256, int queries = 3_000, int seed = 42, int? clusters = null, float spread = 0.75f)
    {
        var vectors = new ClusteredVectors(dimensions, seed);

        // By default 1,000 causes with 100 failures each, members of a cause at cosine ≈ 0.64 to each other.
        var all = vectors.Entries(entries, clusters ?? Math.Max(1, entries / 100), spread);
        var asked = new float[queries][];
        for (var i = 0; i < queries; i++)
        {
            asked[i] = (i % 3) switch
            {
                0 => vectors.At(all[vectors.Next(all.Length)], 0.95),
                1 => vectors.At(all[vectors.Next(all.Length)], 0.8),
                _ => vectors.Unit(),
            };
        }

        return new LookupData(all, asked);
    }

    public async Task<EmbeddedVectorIndex> IndexAsync(int candidatePool = EmbeddedVectorIndex.DefaultCandidatePool)
    {
        var index = new EmbeddedVectorIndex(candidatePool);
        await index.InitializeAsync(new CacheCollection("bench", Entries[0].Length), CancellationToken.None);
        for (var i = 0; i < Entries.Length; i++)
        {
            await index.UpsertAsync(new CacheEntry($"e{i}", Scope, Entries[i], "identity", CreatedAt, "{}"), CancellationToken.None);
        }

        return index;
    }

    /// <summary>The exact best entry by brute force: what the index is checked against.</summary>
    public (int Index, float Similarity) ExactBest(ReadOnlySpan<float> query)
    {
        var best = (Index: -1, Similarity: float.NegativeInfinity);
        for (var i = 0; i < Entries.Length; i++)
        {
            var similarity = TensorPrimitives.Dot(Entries[i], query);
            if (similarity > best.Similarity)
            {
                best = (i, similarity);
            }
        }

        return best;
    }
}
