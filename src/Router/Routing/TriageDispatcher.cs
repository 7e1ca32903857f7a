using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Triage.Contracts;
using Triage.Platform.Bus;
using Triage.Platform.Configuration;
using Triage.Platform.Keys;
using Triage.Platform.Store;
using Triage.Platform.Telemetry;

using Triage.Router.Cache;

namespace Triage.Router.Routing;

/// <summary>
/// Sends a failure to the provider the route table chooses, or dead-letters it when none is left: the one place an
/// attempt is started, for first attempts and failovers alike.
/// </summary>
public sealed partial class TriageDispatcher(
    RouteTable routes,
    ITriageStore store,
    TriageOptions options,
    RoutingMetrics metrics,
    SingleFlight flights,
    BudgetLedger ledger,
    TriageMetrics spend,
    TimeProvider time,
    ILogger<TriageDispatcher> logger)
{
    /// <summary>Parks a failure its key may not send (unknown, revoked, route or budget) as a dead letter with the reason.</summary>
    public Task ParkAsync(ConsumeContext context, BuildFailed failure, Refusal refusal) =>
        DeadLetterAsync(context, failure, [], refusal.Reason, refusal.Detail);

    /// <summary>Starts the next attempt after <paramref name="history"/>, or dead-letters with <paramref name="lastFailure"/>.</summary>
    public async Task DispatchAsync(
        ConsumeContext context,
        BuildFailed failure,
        int redactedSecrets,
        IReadOnlyList<AttemptOutcome> history,
        DateTimeOffset? triageDeadline,
        string? lastFailure)
    {
        using var activity = TriageTelemetry.Source.StartActivity("triage.route");
        activity?.SetTag(TriageTelemetry.EventId, failure.EventId);
        activity?.SetTag(TriageTelemetry.Route, failure.Route);
        activity?.SetTag(TriageTelemetry.Attempt, history.Count + 1);
        var now = time.GetUtcNow();
        var route = routes.Options(failure.Route);
        if (triageDeadline is { } deadline && now >= deadline)
        {
            await DeadLetterAsync(context, failure, history, "deadline_passed");
            return;
        }

        var tried = history.Select(h => h.Provider).ToList();
        var provider = routes.Choose(failure.Route, tried, now);
        if (provider is null)
        {
            await DeadLetterAsync(context, failure, history, tried.Count > 0 && !route.Failover ? "failover_disabled" : lastFailure ?? "no_provider_available");
            return;
        }

        var attemptDeadline = now + TimeSpan.FromMilliseconds(route.TimeoutMs);
        if (triageDeadline < attemptDeadline)
        {
            attemptDeadline = triageDeadline.Value;
        }

        try
        {
            var endpoint = await context.GetSendEndpoint(BusTopology.ProviderQueueAddress(provider.Name, options.Bus.UsesRabbitMq));
            await endpoint.Send(
                new TriageRequested
                {
                    EventId = failure.EventId,
                    Route = failure.Route,
                    Provider = provider.Name,
                    Attempt = history.Count + 1,
                    Failure = failure,
                    RedactedSecrets = redactedSecrets,
                    RequestedAt = now,
                    AttemptDeadline = attemptDeadline,
                    TriageDeadline = triageDeadline,
                    History = history,
                },
                context.CancellationToken);
        }
        catch
        {
            // The message will be retried or redelivered and choose again; the reservation must not leak.
            provider.Unreserve();
            throw;
        }

        activity?.SetTag(TriageTelemetry.Provider, provider.Name);
        activity?.SetTag(TriageTelemetry.Outcome, history.Count > 0 ? "failover" : "routed");
        if (history.Count > 0)
        {
            metrics.Failover(failure.Route, history[^1].Provider, provider.Name, lastFailure ?? "unknown");
            LogFailover(logger, failure.EventId, history[^1].Provider, provider.Name, lastFailure ?? "unknown");
        }
        else
        {
            LogRouted(logger, failure.EventId, provider.Name);
        }
    }

    private async Task DeadLetterAsync(
        ConsumeContext context, BuildFailed failure, IReadOnlyList<AttemptOutcome> history, string reason, string? detail = null)
    {
        Activity.Current?.SetTag(TriageTelemetry.Outcome, "dead_lettered");
        Activity.Current?.SetTag("triage.dead_letter.reason", reason);
        var dead = new TriageDeadLettered
        {
            EventId = failure.EventId,
            Route = failure.Route,
            Reason = reason,
            Detail = detail,
            Attempts = history,
            Failure = failure,
            DeadLetteredAt = time.GetUtcNow(),
        };

        // Confirmed by the broker before the message that led here is acknowledged; DeadLetterRecorder stores it.
        await context.Publish(dead, context.CancellationToken);
        await store.MarkDeadLetteredAsync(failure.EventId, context.CancellationToken);

        // Its reservation goes back to the budget; what failed attempts were billed stays charged.
        if (await ledger.ReleaseAsync(failure.EventId, history, context.CancellationToken) is { } released)
        {
            spend.Charged(released);
        }

        flights.Failed(failure.EventId);
        metrics.DeadLettered(failure.Route, reason);
        LogDeadLettered(logger, failure.EventId, reason, history.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Routed {EventId} to {Provider}")]
    private static partial void LogRouted(ILogger logger, string eventId, string provider);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failed {EventId} over from {From} to {To} ({Reason})")]
    private static partial void LogFailover(ILogger logger, string eventId, string from, string to, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered {EventId} ({Reason}) after {Attempts} attempt(s)")]
    private static partial void LogDeadLettered(ILogger logger, string eventId, string reason, int attempts);
}
