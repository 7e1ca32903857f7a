using System.Diagnostics;
using System.Diagnostics.Metrics;
using Triage.Platform.Telemetry;

namespace Triage.Router.Cache;

/// <summary>Cache lookups by outcome, the similarity of the best neighbour and entries stored; saved cost is counted by team on settlement.</summary>
public sealed class CacheMetrics : IDisposable
{
    private readonly Meter meter = new(TriageTelemetry.Name);
    private readonly Counter<long> lookups;
    private readonly Histogram<double> similarity;
    private readonly Counter<long> stored;

    public CacheMetrics()
    {
        lookups = meter.CreateCounter<long>("triage.cache.lookups", "{lookup}", "Cache lookups by route and outcome (hit, miss, different_failure).");
        similarity = meter.CreateHistogram<double>(
            "triage.cache.similarity", "1", "Cosine similarity of the nearest earlier triage at each lookup.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.96, 0.98, 0.99, 1.0] });
        stored = meter.CreateCounter<long>("triage.cache.stored", "{entry}", "Fresh triages remembered by the cache.");
    }

    public void Lookup(string route, string outcome, double? best)
    {
        var tags = new TagList { { "route", route }, { "outcome", outcome } };
        lookups.Add(1, tags);
        if (best is { } value)
        {
            similarity.Record(value, new TagList { { "route", route } });
        }
    }

    public void Stored(string route) => stored.Add(1, new TagList { { "route", route } });

    public void Dispose() => meter.Dispose();
}
