using System.Diagnostics.Metrics;
using Polly.CircuitBreaker;
using Triage.Platform.Telemetry;

namespace Triage.Workers.Providers.Resilience;

/// <summary>Each provider's circuit as its pool sees it: 0 closed, 1 half-open, 2 open, 3 isolated.</summary>
public sealed class CircuitMetrics : IDisposable
{
    private readonly Meter meter = new(TriageTelemetry.Name);

    public CircuitMetrics(ProviderRegistry providers)
    {
        meter.CreateObservableGauge(
            "triage.provider.circuit",
            () => providers.Resiliences.Select(r => new Measurement<int>(
                r.Circuit switch
                {
                    CircuitState.Closed => 0,
                    CircuitState.HalfOpen => 1,
                    CircuitState.Open => 2,
                    _ => 3,
                },
                new KeyValuePair<string, object?>("provider", r.Provider))),
            description: "The provider's circuit in this pool: 0 closed, 1 half-open, 2 open, 3 isolated.");
    }

    public void Dispose() => meter.Dispose();
}
