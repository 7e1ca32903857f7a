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
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}; usage: lookup-latency [--entries N] [--calls N] [--clusters N] [--spread S]");
                    return 2;
            }
        }

        var data = LookupData.Create(entries, clusters: clusters, spread: spread);
        var exact = data.Queries.Select(q => data.ExactBest(q)).ToArray();
        var judged = exact.Count(e => e.Similarity >= 0.8f);
        Console.WriteLine($"lookup-latency: {entries:N0} entries in one scope in {clusters ?? entries / 100:N0} clusters (spread {spread}), " +
            $"{data.Entries[0].Length} dimensions, {calls:N0} lookups, " +
            $"{data.Queries.Length:N0} queries ({judged:N0} with an exact best at cosine >= 0.8)");
        Console.WriteLine($"{"candidate pool",14} {"median µs",10} {"p99 µs",10} {"p99.9 µs",10} {"max µs",10} {"recall@1 (>=0.8)",18}");
        foreach (var pool in new[] { 128, 256, 512, 1024 })
        {
            using var index = data.IndexAsync(pool).GetAwaiter().GetResult();
            var found = 0;
            for (var q = 0; q < data.Queries.Length; q++)
            {
                var top = index.SearchAsync(LookupData.Scope, data.Queries[q], 1, DateTimeOffset.MinValue, CancellationToken.None)
                    .GetAwaiter().GetResult();
                if (exact[q].Similarity >= 0.8f && top.Count > 0 && top[0].Entry.Id == $"e{exact[q].Index}")
                {
                    found++;
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
                $"{pool,14} {At(samples, 0.5),10:F1} {At(samples, 0.99),10:F1} {At(samples, 0.999),10:F1} {samples[^1],10:F1} {found,8}/{judged} = {(double)found / judged,6:P2}"));
        }

        return 0;
    }

    private static double At(double[] sorted, double quantile) => sorted[(int)Math.Min(sorted.Length - 1, Math.Round(quantile * (sorted.Length - 1)))];
}
