using MassTransit;
using Microsoft.Extensions.Logging;
using Triage.Contracts;
using Triage.Platform.Store;

namespace Triage.Router.Routing;

/// <summary>
/// Dead-letter failover: a failed attempt goes on to the next provider of the route that was not tried, within the
/// triage's deadline, and becomes a dead letter when none is left.
/// </summary>
public sealed partial class AttemptFailedConsumer(
    ProviderStates states,
    TriageDispatcher dispatcher,
    ITriageStore store,
    RoutingMetrics metrics,
    TimeProvider time,
    ILogger<AttemptFailedConsumer> logger) : IConsumer<TriageAttemptFailed>
{
    /// <summary>Failures that say nothing about the provider's health.</summary>
    private static readonly HashSet<string> NotAgainstHealth = new(StringComparer.Ordinal) { "bad_request", "invalid_answer" };

    public async Task Consume(ConsumeContext<TriageAttemptFailed> context)
    {
        var failed = context.Message;
        var request = failed.Request;
        var now = time.GetUtcNow();
        if (states.TryGet(request.Provider, out var state))
        {
            if (failed.Reason == "circuit_open")
            {
                state.CircuitOpened(now);
            }
            else
            {
                state.Failed(now, againstHealth: !NotAgainstHealth.Contains(failed.Reason));
            }
        }

        metrics.Attempt(request.Provider, failed.Reason);
        var known = await store.FindAsync(failed.EventId, context.CancellationToken);
        if (known is { Status: TriageStatus.Completed or TriageStatus.DeadLettered })
        {
            // A redelivered attempt failed after another one already settled the failure.
            LogSettled(logger, failed.EventId, known.Status);
            return;
        }

        var history = request.History
            .Append(new AttemptOutcome(request.Provider, failed.Reason, failed.Detail, (failed.FailedAt - request.RequestedAt).TotalMilliseconds))
            .ToList();
        await dispatcher.DispatchAsync(context, request.Failure, request.RedactedSecrets, history, request.TriageDeadline, failed.Reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ignored a failed attempt at {EventId}: already {Status}")]
    private static partial void LogSettled(ILogger logger, string eventId, string status);
}
