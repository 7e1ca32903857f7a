using MassTransit;
using Microsoft.Extensions.Logging;
using Triage.Contracts;
using Triage.Platform.Redaction;
using Triage.Platform.Store;
using Triage.Platform.Telemetry;
using Triage.Router.Excerpts;

namespace Triage.Router.Routing;

/// <summary>Starts the triage of a failure, once per event id.</summary>
public sealed partial class BuildFailedConsumer(
    ITriageStore store,
    RouteTable routes,
    TriageDispatcher dispatcher,
    SecretRedactor redactor,
    TimeProvider time,
    ILogger<BuildFailedConsumer> logger) : IConsumer<BuildFailed>
{
    public async Task Consume(ConsumeContext<BuildFailed> context)
    {
        var failure = context.Message;
        var known = await store.FindAsync(failure.EventId, context.CancellationToken);
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

        var route = routes.Options(failure.Route);
        BuildFailed view;
        int redacted;
        using (var excerpt = TriageTelemetry.Source.StartActivity("triage.excerpt"))
        {
            (view, redacted) = ProviderView.Of(failure, redactor);
            excerpt?.SetTag(TriageTelemetry.EventId, failure.EventId);
            excerpt?.SetTag("triage.excerpt.characters", view.Log.Length);
            excerpt?.SetTag("triage.redacted_secrets", redacted);
        }

        var deadline = route.DeadlineMs is { } ms ? failure.ReceivedAt.AddMilliseconds(ms) : (DateTimeOffset?)null;
        if (deadline < time.GetUtcNow())
        {
            // Waited in the broker longer than the route allows (an outage): still one attempt, not none.
            deadline = null;
        }

        await dispatcher.DispatchAsync(context, view, redacted, [], deadline, lastFailure: null);

        // Marked after the send: a crash in between redelivers the failure and sends it again, never loses it.
        await store.MarkRoutedAsync(failure.EventId, context.CancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Skipped {EventId}: already {Status}")]
    private static partial void LogDuplicate(ILogger logger, string eventId, string status);
}
