using MassTransit;
using Microsoft.Extensions.Logging;
using Triage.Contracts;
using Triage.Platform.Keys;
using Triage.Platform.Redaction;
using Triage.Platform.Store;
using Triage.Platform.Telemetry;
using Triage.Router.Cache;
using Triage.Router.Excerpts;

namespace Triage.Router.Routing;

/// <summary>Starts the triage of a failure, once per event id.</summary>
public sealed partial class BuildFailedConsumer(
    ITriageStore store,
    RouteTable routes,
    TriageDispatcher dispatcher,
    SecretRedactor redactor,
    TriageCache cache,
    SingleFlight flights,
    KeyAdmission admission,
    TimeProvider time,
    ILogger<BuildFailedConsumer> logger) : IConsumer<BuildFailed>
{
    public async Task Consume(ConsumeContext<BuildFailed> context)
    {
        var failure = context.Message;
        var known = await store.FindAsync(failure.EventId, context.CancellationToken);
        if (known is { Status: TriageStatus.DeadLettered } && failure.Replay > 0
            && await store.TakeReplayAsync(failure.EventId, failure.Replay, context.CancellationToken))
        {
            LogReplay(logger, failure.EventId, failure.Replay);
            known = known with { Status = TriageStatus.Queued };
        }

        if (known is { Status: TriageStatus.Routed } && Redelivered(context))
        {
            // Marked routed by a consume that did not finish (a crash, a failed send): this delivery routes it again.
            known = known with { Status = TriageStatus.Queued };
        }

        if (known is { Status: not TriageStatus.Queued })
        {
            LogDuplicate(logger, failure.EventId, known.Status);
            return;
        }

        if (known is null)
        {
            // Published straight to the broker, not through Ingest: the store learns of it here.
            await store.TryAddQueuedAsync(failure, context.CancellationToken);
        }

        BuildFailed view;
        int redacted;
        using (var excerpt = TriageTelemetry.Source.StartActivity("triage.excerpt"))
        {
            (view, redacted) = ProviderView.Of(failure, redactor);
            excerpt?.SetTag(TriageTelemetry.EventId, failure.EventId);
            excerpt?.SetTag("triage.excerpt.characters", view.Log.Length);
            excerpt?.SetTag("triage.redacted_secrets", redacted);
        }

        if (!routes.Knows(failure.Route))
        {
            // Published straight to the broker, or replayed after its route left triage.yaml: it waits, visibly.
            await dispatcher.ParkAsync(context, view, new Refusal(
                "unknown_route", $"route '{failure.Route}' is not configured; the routes are {string.Join(", ", routes.Names)}"));
            return;
        }

        var route = routes.Options(failure.Route);
        if (await admission.AdmitPublishedAsync(failure, context.CancellationToken) is { } refusal)
        {
            // Parked as the providers would have seen it: a dead letter never keeps a raw log.
            await dispatcher.ParkAsync(context, view, refusal);
            return;
        }

        var cacheExcerpt = (string?)null;
        if (failure.UseCache && cache.For(failure.Route).Enabled)
        {
            var lookup = await LookUpAsync(failure, view, context.CancellationToken);
            if (lookup.Reused is { } neighbour)
            {
                await PublishReusedAsync(context, cache.Reuse(neighbour, failure, redacted));
                return;
            }

            var key = $"{lookup.Scope}\n{lookup.Signature.Fingerprint}\n{lookup.Signature.Identity.Serialize()}";
            if (flights.LeadOrFollow(key, failure.EventId, TimeSpan.FromMilliseconds(route.TimeoutMs)) is { } flight)
            {
                var leader = await flights.WaitAsync(flight, TimeSpan.FromMilliseconds(route.TimeoutMs), context.CancellationToken);
                if (leader is not null)
                {
                    LogCoalesced(logger, failure.EventId, leader.EventId);
                    await PublishReusedAsync(context, cache.Reused(leader, failure, redacted, 1.0));
                    return;
                }
            }

            cacheExcerpt = view.Log;
        }

        var deadline = route.DeadlineMs is { } ms ? failure.ReceivedAt.AddMilliseconds(ms) : (DateTimeOffset?)null;
        if (deadline < time.GetUtcNow())
        {
            // Waited in the broker longer than the route allows (an outage): still one attempt, not none.
            deadline = null;
        }

        try
        {
            // Marked, with the excerpt the cache will remember the result under, before the send: a fast provider's
            // result must find it. A crash or a failed send in between redelivers the failure, which routes it again.
            await store.MarkRoutedAsync(failure.EventId, cacheExcerpt, context.CancellationToken);
            await dispatcher.DispatchAsync(context, view, redacted, [], deadline, lastFailure: null);
        }
        catch
        {
            // Redelivered later; its followers must not wait for a flight that never took off.
            flights.Failed(failure.EventId);
            throw;
        }
    }

    private static bool Redelivered(ConsumeContext context) =>
        context.GetRetryAttempt() > 0 || context.ReceiveContext.Redelivered;

    private async Task<CacheLookup> LookUpAsync(BuildFailed failure, BuildFailed view, CancellationToken cancellationToken)
    {
        using var activity = TriageTelemetry.Source.StartActivity("triage.cache.lookup");
        var lookup = await cache.LookupAsync(failure.Route, failure.Repository, view.Log, cancellationToken);
        activity?.SetTag(TriageTelemetry.EventId, failure.EventId);
        activity?.SetTag("triage.cache.outcome", lookup.Reused is null ? lookup.Verdict.ToString() : "hit");
        if (lookup.BestSimilarity is { } best)
        {
            activity?.SetTag("triage.cache.similarity", best);
        }

        return lookup;
    }

    private async Task PublishReusedAsync(ConsumeContext context, TriageCompleted reused)
    {
        await context.Publish(reused, context.CancellationToken);
        LogReused(logger, reused.EventId, reused.Cache!.SourceTriageId, reused.Cache.Similarity);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reused triage {SourceTriageId} for {EventId} (similarity {Similarity:F3})")]
    private static partial void LogReused(ILogger logger, string eventId, string sourceTriageId, double similarity);

    [LoggerMessage(Level = LogLevel.Information, Message = "{EventId} waited for the identical failure {LeaderEventId} in flight")]
    private static partial void LogCoalesced(ILogger logger, string eventId, string leaderEventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replay {Replay} of dead letter {EventId} taken")]
    private static partial void LogReplay(ILogger logger, string eventId, int replay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Skipped {EventId}: already {Status}")]
    private static partial void LogDuplicate(ILogger logger, string eventId, string status);
}
