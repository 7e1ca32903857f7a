using System.Diagnostics;
using System.Globalization;
using Triage.Router.Cache;

namespace Triage.Bench.Micro;

/// <summary>
/// The latency of single lookups, each timed on its own (BenchmarkDotNet times batches, which hides the tail), and
/// the recall of the embedded index: how often its best entry is the exact best, for queries whose exact best has
/// cosine ≥ 0.8. Run for several candidate pools to show what the pool buys.
/// </summary>
internal static class LookupLatency
{
    public static int Run(string[] args)
    {
        var entries = 100_000;
        var calls = 30_000;
        int? clusters = null;
        var spread = 0.75f;
        int[] pools = [128, 256, 512, 1024];
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--entries":
                    entries = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--calls":
                    calls = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--clusters":
                    clusters = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--spread":
                    spread = float.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--pools":
                    pools = args[++i].Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
                    break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}; usage: lookup-latency [--entries N] [--calls N] [--clusters N] [--spread S] [--pools 128,512]");
                    return 2;
            }
        }

        var data = LookupData.Create(entries, clusters: clusters, spread: spread);
        var exact = data.Queries.Select(q => data.ExactBest(q)).ToArray();
        var judged = exact.Count(e => e.Similarity >= 0.8f);
        var strict = exact.Count(e => e.Similarity >= 0.92f);
        Console.WriteLine($"lookup-latency: {entries:N0} entries in one scope in {clusters ?? entries / 100:N0} clusters (spread {spread}), " +
            $"{data.Entries[0].Length} dimensions, {calls:N0} lookups, {data.Queries.Length:N0} queries " +
            $"({judged:N0} with an exact best at cosine >= 0.8, {strict:N0} at >= 0.92)");
        Console.WriteLine($"{"candidate pool",14} {"median µs",10} {"p99 µs",10} {"p99.9 µs",10} {"max µs",10} {"recall@1 >=0.8",16} {"recall@1 >=0.92",16} {"worst loss",11}");
        foreach (var pool in pools)
        {
            using var index = data.IndexAsync(pool).GetAwaiter().GetResult();
            int found = 0, foundStrict = 0;
            var worstLoss = 0.0;
            for (var q = 0; q < data.Queries.Length; q++)
            {
                var top = index.SearchAsync(LookupData.Scope, data.Queries[q], 1, DateTimeOffset.MinValue, CancellationToken.None)
                    .GetAwaiter().GetResult();
                if (exact[q].Similarity < 0.8f)
                {
                    continue;
                }

                // A miss costs the similarity between the exact best and what the index returned instead.
                if (top.Count > 0 && top[0].Entry.Id == $"e{exact[q].Index}")
                {
                    found++;
                    foundStrict += exact[q].Similarity >= 0.92f ? 1 : 0;
                }
                else
                {
                    worstLoss = Math.Max(worstLoss, exact[q].Similarity - (top.Count > 0 ? top[0].Similarity : 0));
                }
            }

            var samples = new double[calls];
            for (var i = 0; i < calls; i++)
            {
                var query = data.Queries[i % data.Queries.Length];
                var started = Stopwatch.GetTimestamp();
                index.SearchAsync(LookupData.Scope, query, 5, DateTimeOffset.MinValue, CancellationToken.None).GetAwaiter().GetResult();
                samples[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }

            Array.Sort(samples);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{pool,14} {At(samples, 0.5),10:F1} {At(samples, 0.99),10:F1} {At(samples, 0.999),10:F1} {samples[^1],10:F1} " +
                $"{(double)found / judged,16:P2} {(double)foundStrict / Math.Max(1, strict),16:P2} {worstLoss,11:F4}"));
        }

        return 0;
    }

    private static double At(double[] sorted, double quantile) => sorted[(int)Math.Min(sorted.Length - 1, Math.Round(quantile * (sorted.Length - 1)))];
}
