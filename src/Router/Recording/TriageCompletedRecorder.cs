using MassTransit;
using Microsoft.Extensions.Logging;
using Triage.Contracts;
using Triage.Platform.Store;
using Triage.Platform.Telemetry;
using Triage.Router.Routing;

namespace Triage.Router.Recording;

/// <summary>The results recorder: stores each failure's first triage; later deliveries of a result change nothing.</summary>
public sealed partial class TriageCompletedRecorder(
    ITriageStore store,
    ProviderStates states,
    RoutingMetrics metrics,
    TriageMetrics triages,
    ILogger<TriageCompletedRecorder> logger) : IConsumer<TriageCompleted>
{
    public async Task Consume(ConsumeContext<TriageCompleted> context)
    {
        var result = context.Message;
        if (states.TryGet(result.Provider, out var state))
        {
            state.Succeeded();
            metrics.Attempt(result.Provider, "success");
        }

        if (await store.RecordCompletedAsync(result, context.CancellationToken))
        {
            triages.Completed(result);
            LogRecorded(logger, result.EventId, result.Provider, result.DurationMs);
        }
        else
        {
            LogAlreadyRecorded(logger, result.EventId);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Recorded {EventId} from {Provider}, {DurationMs:F1} ms after it was received")]
    private static partial void LogRecorded(ILogger logger, string eventId, string provider, double durationMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Result for {EventId} was already recorded; kept the first")]
    private static partial void LogAlreadyRecorded(ILogger logger, string eventId);
}
