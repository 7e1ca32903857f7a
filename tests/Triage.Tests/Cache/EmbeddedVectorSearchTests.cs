using System.Numerics.Tensors;
using Triage.Router.Cache;
using Xunit.Abstractions;

namespace Triage.Tests.Cache;

/// <summary>
/// The embedded index's search on its own, in memory: the signature step is an approximation, so these tests hold
/// it against an exact scan of the same vectors.
/// </summary>
public sealed class EmbeddedVectorSearchTests(ITestOutputHelper output)
{
    private const int Dimensions = 256;
    private const string Scope = "acme/api";
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_signature_search_finds_the_exact_best_whenever_it_is_at_cosine_point_eight_or_more()
    {
        var random = new Random(20261124);

        // 20,000 entries around 200 causes (0.8 to their cause, ≈ 0.64 to each other), as failures of one scope bunch.
        var centres = Enumerable.Range(0, 200).Select(_ => Unit(random)).ToArray();
        var entries = Enumerable.Range(0, 20_000).Select(i => Near(random, centres[i % centres.Length], 0.8)).ToList();

        // Each query gets a planted neighbour at cosine 0.80–0.97, and a rival planted just below it (0.02–0.06
        // less similar to the query), so that the best is never alone in its neighbourhood.
        var queries = new List<float[]>();
        for (var q = 0; q < 300; q++)
        {
            var query = Near(random, entries[random.Next(entries.Count)], 0.5 + random.NextDouble() * 0.4);
            var cosine = 0.80 + random.NextDouble() * 0.17;
            entries.Add(Near(random, query, cosine));
            entries.Add(Near(random, query, cosine - 0.02 - random.NextDouble() * 0.04));
            queries.Add(query);
        }

        using var index = await IndexOf(entries);
        Assert.True(entries.Count > EmbeddedVectorIndex.ExactScanLimit * 10);

        int judged = 0, found = 0;
        var worst = 1.0;
        foreach (var query in queries)
        {
            var (best, similarity) = ExactBest(entries, query);
            if (similarity < 0.8)
            {
                continue;
            }

            judged++;
            var top = await index.SearchAsync(Scope, query, 1, Now.AddHours(-1), default);
            if (top.Count == 1 && top[0].Entry.Id == $"e{best}")
            {
                found++;
                Assert.Equal(similarity, top[0].Similarity, 1e-5);
            }
            else
            {
                output.WriteLine($"missed: exact best e{best} at {similarity:F3}, found {top.FirstOrDefault()?.Entry.Id} at {top.FirstOrDefault()?.Similarity:F3}");
            }

            worst = Math.Min(worst, similarity);
        }

        output.WriteLine($"{entries.Count:N0} entries in one scope, {judged} queries with an exact best at cosine >= 0.8 " +
            $"(lowest {worst:F3}): the signature search found {found} of them");
        Assert.True(judged >= 250, $"only {judged} queries had a best at 0.8 or more");
        Assert.Equal(judged, found);
    }

    [Fact]
    public async Task The_signature_search_leaves_out_expired_entries_without_losing_live_ones()
    {
        var random = new Random(11);
        var entries = Enumerable.Range(0, 6_000).Select(_ => Unit(random)).ToList();

        // Every even entry is two hours old: the TTL leaves out half the scope before any candidate is picked.
        using var index = new EmbeddedVectorIndex();
        await index.InitializeAsync(new CacheCollection("test", Dimensions), default);
        for (var i = 0; i < entries.Count; i++)
        {
            await index.UpsertAsync(new CacheEntry($"e{i}", Scope, entries[i], "identity", i % 2 == 0 ? Now.AddHours(-2) : Now, "{}"), default);
        }

        var nearOld = await index.SearchAsync(Scope, Near(random, entries[100], 0.95), 3, Now.AddHours(-1), default);
        var nearNew = await index.SearchAsync(Scope, Near(random, entries[101], 0.95), 3, Now.AddHours(-1), default);

        Assert.DoesNotContain(nearOld, n => n.Entry.Id == "e100");
        Assert.All(nearOld.Concat(nearNew), n => Assert.Equal(Now, n.Entry.CreatedAt));
        Assert.Equal("e101", nearNew[0].Entry.Id);
        Assert.Equal(3, nearOld.Count);
    }

    [Fact]
    public async Task Purge_and_replacement_keep_a_large_scope_consistent()
    {
        var random = new Random(3);
        var entries = Enumerable.Range(0, 5_000).Select(_ => Unit(random)).ToList();
        using var index = new EmbeddedVectorIndex();
        await index.InitializeAsync(new CacheCollection("test", Dimensions), default);
        for (var i = 0; i < entries.Count; i++)
        {
            await index.UpsertAsync(new CacheEntry($"e{i}", Scope, entries[i], "identity", i < 2_500 ? Now.AddDays(-2) : Now, "{}"), default);
        }

        // Entry e4000 now holds what e10 held; the purge then takes the older half, e10 among them.
        await index.UpsertAsync(new CacheEntry("e4000", Scope, entries[10], "moved", Now, "{}"), default);
        var purged = await index.PurgeAsync(Now.AddDays(-1), default);
        var found = await index.SearchAsync(Scope, entries[10], 1, DateTimeOffset.UnixEpoch, default);
        var last = await index.SearchAsync(Scope, entries[4_999], 1, DateTimeOffset.UnixEpoch, default);

        Assert.Equal(2_500, purged);
        Assert.Equal(2_500, index.Count);
        Assert.Equal(("e4000", "moved"), (found[0].Entry.Id, found[0].Entry.Identity));
        Assert.Equal(1.0, found[0].Similarity, 1e-5);
        Assert.Equal("e4999", last[0].Entry.Id);
    }

    [Fact]
    public async Task Lookups_run_while_entries_are_upserted()
    {
        var random = new Random(5);
        var entries = Enumerable.Range(0, 4_000).Select(_ => Unit(random)).ToArray();
        using var index = new EmbeddedVectorIndex();
        await index.InitializeAsync(new CacheCollection("test", Dimensions), default);
        using var done = new CancellationTokenSource();

        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < entries.Length; i += 2)
            {
                await index.UpsertAsync(new CacheEntry($"e{i}", Scope, entries[i], "identity", Now, "{}"), default);
            }
        })).ToArray();

        // The reader has a thread of its own: a busy loop on one of the pool's threads would starve the writers.
        var reader = Task.Factory.StartNew(
            () =>
            {
                var lookups = 0;
                while (!done.IsCancellationRequested)
                {
                    var query = entries[lookups * 7 % entries.Length];
                    var found = index.SearchAsync(Scope, query, 3, DateTimeOffset.UnixEpoch, default).GetAwaiter().GetResult();
                    Assert.InRange(found.Count, 0, 3);
                    lookups++;
                }

                return lookups;
            },
            TaskCreationOptions.LongRunning);

        await Task.WhenAll(writers);
        await done.CancelAsync();
        var lookups = await reader;

        Assert.True(lookups > 0);
        Assert.Equal(entries.Length, index.Count);
        foreach (var i in new[] { 0, 1, 2_345, entries.Length - 1 })
        {
            Assert.Equal($"e{i}", (await index.SearchAsync(Scope, entries[i], 1, DateTimeOffset.UnixEpoch, default))[0].Entry.Id);
        }
    }

    private static async Task<EmbeddedVectorIndex> IndexOf(IReadOnlyList<float[]> entries)
    {
        var index = new EmbeddedVectorIndex();
        await index.InitializeAsync(new CacheCollection("test", Dimensions), default);
        for (var i = 0; i < entries.Count; i++)
        {
            await index.UpsertAsync(new CacheEntry($"e{i}", Scope, entries[i], "identity", Now, "{}"), default);
        }

        return index;
    }

    private static (int Index, double Similarity) ExactBest(IReadOnlyList<float[]> entries, float[] query)
    {
        var best = (Index: -1, Similarity: double.NegativeInfinity);
        for (var i = 0; i < entries.Count; i++)
        {
            var similarity = TensorPrimitives.Dot(entries[i], query);
            if (similarity > best.Similarity)
            {
                best = (i, similarity);
            }
        }

        return best;
    }

    private static float[] Unit(Random random)
    {
        var vector = new float[Dimensions];
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }

        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }

    /// <summary>A unit vector at exactly <paramref name="cosine"/> to the unit vector <paramref name="of"/>.</summary>
    private static float[] Near(Random random, float[] of, double cosine)
    {
        // The part of a random direction orthogonal to `of`, then the mix of the two at the wanted angle.
        var direction = Unit(random);
        TensorPrimitives.MultiplyAdd(of, -TensorPrimitives.Dot(direction, of), direction, direction);
        TensorPrimitives.Divide(direction, TensorPrimitives.Norm(direction), direction);
        var vector = new float[Dimensions];
        TensorPrimitives.Multiply(of, (float)cosine, vector);
        TensorPrimitives.MultiplyAdd(direction, (float)Math.Sqrt(1 - cosine * cosine), vector, vector);
        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }
}
