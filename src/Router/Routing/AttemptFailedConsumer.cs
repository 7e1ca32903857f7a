using MassTransit;
using Microsoft.Extensions.Logging;
using Triage.Contracts;
using Triage.Platform.Store;

namespace Triage.Router.Routing;

/// <summary>A pool reported that its attempt failed.</summary>
public sealed class AttemptFailedConsumer(FailedAttempts failures) : IConsumer<TriageAttemptFailed>
{
    public Task Consume(ConsumeContext<TriageAttemptFailed> context) => failures.HandleAsync(context, context.Message);
}

/// <summary>
/// A request expired in its provider's queue (the pool is slow, stuck or not running) and RabbitMQ dead-lettered it
/// here: the same failure as one the pool reports, without a pool to report it.
/// </summary>
public sealed class ExpiredAttemptConsumer(FailedAttempts failures, TimeProvider time) : IConsumer<TriageRequested>
{
    public Task Consume(ConsumeContext<TriageRequested> context) => failures.HandleAsync(context, new TriageAttemptFailed
    {
        EventId = context.Message.EventId,
        Request = context.Message,
        Reason = AttemptFailure.Expired,
        Detail = $"expired in the queue of {context.Message.Provider} before a worker took it",
        FailedAt = time.GetUtcNow(),
    });
}

/// <summary>
/// Dead-letter failover: a failed attempt goes on to the next provider of the route that was not tried, within the
/// triage's deadline, and becomes a dead letter when none is left.
/// </summary>
public sealed partial class FailedAttempts(
    ProviderStates states,
    TriageDispatcher dispatcher,
    ITriageStore store,
    RoutingMetrics metrics,
    TimeProvider time,
    ILogger<FailedAttempts> logger)
{
    public async Task HandleAsync(ConsumeContext context, TriageAttemptFailed failed)
    {
        var request = failed.Request;
        var now = time.GetUtcNow();
        if (states.TryGet(request.Provider, out var state))
        {
            if (failed.Reason == AttemptFailure.CircuitOpen)
            {
                state.CircuitOpened(now);
            }
            else
            {
                state.Failed(now, againstHealth: AttemptFailure.CountsAgainstHealth(failed.Reason));
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

        // What a failed attempt was billed travels with the history, so that the triage or its dead letter accounts for it.
        var attempt = new AttemptOutcome(request.Provider, failed.Reason, failed.Detail, (failed.FailedAt - request.RequestedAt).TotalMilliseconds)
        {
            At = failed.FailedAt,
            Model = failed.Model,
            Usage = failed.Usage,
            CostUsd = failed.CostUsd,
        };
        var history = request.History.Append(attempt).ToList();
        await dispatcher.DispatchAsync(context, request.Failure, request.RedactedSecrets, history, request.TriageDeadline, failed.Reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ignored a failed attempt at {EventId}: already {Status}")]
    private static partial void LogSettled(ILogger logger, string eventId, string status);
}
