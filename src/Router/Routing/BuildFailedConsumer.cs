using MassTransit;
using Microsoft.Extensions.Logging;
using Triage.Contracts;
using Triage.Platform.Bus;
using Triage.Platform.Configuration;
using Triage.Platform.Redaction;
using Triage.Platform.Store;
using Triage.Router.Excerpts;

namespace Triage.Router.Routing;

/// <summary>Routes a failure to a provider's pool, once per event id.</summary>
public sealed partial class BuildFailedConsumer(
    ITriageStore store,
    RouteTable routes,
    TriageOptions options,
    SecretRedactor redactor,
    TimeProvider time,
    ILogger<BuildFailedConsumer> logger) : IConsumer<BuildFailed>
{
    public async Task Consume(ConsumeContext<BuildFailed> context)
    {
        var failure = context.Message;
        var known = await store.FindAsync(failure.EventId, context.CancellationToken);
        if (known is { Status: TriageStatus.Routed or TriageStatus.Completed })
        {
            LogDuplicate(logger, failure.EventId, known.Status);
            return;
        }

        if (known is null)
        {
            // Published straight to the broker, not through Ingest: the store learns of it here.
            await store.TryAddQueuedAsync(failure, context.CancellationToken);
        }

        var provider = routes.FirstProvider(failure.Route);
        var (view, redacted) = ProviderView.Of(failure, redactor);
        var endpoint = await context.GetSendEndpoint(BusTopology.ProviderQueueAddress(provider, options.Bus.UsesRabbitMq));
        await endpoint.Send(
            new TriageRequested
            {
                EventId = failure.EventId,
                Route = failure.Route,
                Provider = provider,
                Attempt = 1,
                Failure = view,
                RedactedSecrets = redacted,
                RequestedAt = time.GetUtcNow(),
            },
            context.CancellationToken);

        // Marked after the send: a crash in between redelivers the failure and sends it again, never loses it.
        await store.MarkRoutedAsync(failure.EventId, context.CancellationToken);
        LogRouted(logger, failure.EventId, provider);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Routed {EventId} to {Provider}")]
    private static partial void LogRouted(ILogger logger, string eventId, string provider);

    [LoggerMessage(Level = LogLevel.Information, Message = "Skipped {EventId}: already {Status}")]
    private static partial void LogDuplicate(ILogger logger, string eventId, string status);
}
