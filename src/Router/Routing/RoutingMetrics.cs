using System.Diagnostics.Metrics;

namespace Triage.Router.Routing;

/// <summary>What an SRE pages on when providers have a bad day: failovers, attempt outcomes, dead letters, and each provider's load and health.</summary>
public sealed class RoutingMetrics : IDisposable
{
    public const string MeterName = Platform.Telemetry.TriageTelemetry.Name;

    private readonly Meter meter;
    private readonly Counter<long> failovers;
    private readonly Counter<long> attempts;
    private readonly Counter<long> deadLetters;

    public RoutingMetrics(ProviderStates states)
    {
        meter = new Meter(MeterName);
        failovers = meter.CreateCounter<long>("triage.failovers", description: "Triages moved from one provider to the next.");
        attempts = meter.CreateCounter<long>("triage.attempts", description: "Attempts at a provider by outcome.");
        deadLetters = meter.CreateCounter<long>("triage.dead_letters", description: "Triages no provider of the route could do.");
        meter.CreateObservableGauge("triage.provider.outstanding", () => states.All.Select(s => new Measurement<int>(s.Outstanding, new KeyValuePair<string, object?>("provider", s.Name))), description: "Triages sent to a provider and not yet answered.");
        meter.CreateObservableGauge("triage.provider.healthy", () => states.All.Select(s => new Measurement<int>(s.IsHealthy ? 1 : 0, new KeyValuePair<string, object?>("provider", s.Name))), description: "1 while the provider is taken to be healthy.");
    }

    public void Failover(string route, string from, string to, string reason) =>
        failovers.Add(1, new("route", route), new("from", from), new("to", to), new("reason", reason));

    public void Attempt(string provider, string outcome) => attempts.Add(1, new("provider", provider), new("outcome", outcome));

    public void DeadLettered(string route, string reason) => deadLetters.Add(1, new("route", route), new("reason", reason));

    public void Dispose() => meter.Dispose();
}
