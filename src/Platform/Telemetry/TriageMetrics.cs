using System.Diagnostics.Metrics;
using Triage.Contracts;
using Triage.Platform.Keys;

namespace Triage.Platform.Telemetry;

/// <summary>
/// The gateway's throughput, latency and spend on the <c>Triage</c> meter. Labels stay low-cardinality: routes,
/// providers, models and outcomes, never event ids or repositories.
/// </summary>
public sealed class TriageMetrics : IDisposable
{
    private readonly Meter meter = new(TriageTelemetry.Name);
    private readonly Counter<long> received;
    private readonly Counter<long> completed;
    private readonly Histogram<double> duration;
    private readonly Histogram<double> overhead;
    private readonly Histogram<double> providerDuration;
    private readonly Counter<long> tokens;
    private readonly Counter<double> cost;
    private readonly Counter<double> saved;

    public TriageMetrics()
    {
        received = meter.CreateCounter<long>("triage.received", description: "Build failures accepted for triage.");
        completed = meter.CreateCounter<long>("triage.completed", description: "Triages recorded, by route and provider.");
        duration = meter.CreateHistogram<double>("triage.duration", "s", "From receipt of a build failure to its triage.");
        overhead = meter.CreateHistogram<double>("triage.overhead", "s", "What the gateway added to a triage: its duration minus the provider's time.");
        providerDuration = meter.CreateHistogram<double>("triage.provider.duration", "s", "Time a provider took to answer, retries included.");
        tokens = meter.CreateCounter<long>("triage.tokens", "{token}", "Tokens sent to and received from providers.");
        cost = meter.CreateCounter<double>("triage.cost", "usd", "What the providers charged by the price table, failed attempts they billed included, by team.");
        saved = meter.CreateCounter<double>("triage.saved_cost", "usd", "What the triages reused from the cache cost when they were made, by team.");
    }

    public void Received(string route) => received.Add(1, new KeyValuePair<string, object?>("route", route));

    public void Completed(TriageCompleted result)
    {
        KeyValuePair<string, object?> route = new("route", result.Route);
        KeyValuePair<string, object?> provider = new("provider", result.Provider);
        KeyValuePair<string, object?> model = new("model", result.Model);
        KeyValuePair<string, object?> outcome = new("outcome", result.Cache is null ? "triaged" : "cached");
        completed.Add(1, route, provider, outcome);
        duration.Record(result.DurationMs / 1000, route, outcome);
        overhead.Record(Math.Max(0, result.DurationMs - result.ProviderDurationMs) / 1000, route, outcome);
        if (result.Cache is not null)
        {
            // A reused triage called no provider: its provider and model name who made the original.
            return;
        }

        providerDuration.Record(result.ProviderDurationMs / 1000, provider, model);
        tokens.Add(result.Usage.InputTokens, provider, model, new("direction", "input"));
        tokens.Add(result.Usage.OutputTokens, provider, model, new("direction", "output"));
    }

    /// <summary>What a settled or released triage cost its team, call by call, or saved it.</summary>
    public void Charged(Settlement settlement)
    {
        KeyValuePair<string, object?> team = new("team", settlement.Team);
        foreach (var call in settlement.Calls)
        {
            cost.Add((double)call.CostUsd, team, new("provider", call.Provider), new("model", call.Model));
        }

        if (settlement.SavedUsd > 0)
        {
            saved.Add((double)settlement.SavedUsd, team);
        }
    }

    public void Dispose() => meter.Dispose();
}
