using MassTransit;
using Microsoft.Extensions.Logging;
using Triage.Contracts;

namespace Triage.Router.Notifications;

/// <summary>
/// Posts each triage to the outgoing webhooks that want it, from its own queue <c>triage-notifications</c>, so that a
/// slow or broken receiver never holds up the results recorder. A webhook that still fails after its retries is logged
/// and counted and the message is acknowledged all the same: one broken Slack must not stop the others, nor be
/// retried forever. Delivery is at least once (a crash mid-delivery posts again); receivers de-duplicate on the
/// <c>X-Triage-Event-Id</c> header, and this process skips the event ids it posted lately.
/// </summary>
public sealed partial class WebhookNotifier(
    OutgoingWebhooks webhooks,
    RecentEvents recent,
    IHttpClientFactory http,
    NotificationMetrics metrics,
    ILogger<WebhookNotifier> logger) : IConsumer<TriageCompleted>
{
    public const string HttpClientName = "triage-webhooks";

    public async Task Consume(ConsumeContext<TriageCompleted> context)
    {
        var result = context.Message;
        var wanted = webhooks.All.Where(w => w.Wants(result)).ToList();
        if (wanted.Count == 0)
        {
            return;
        }

        if (!recent.TryAdd(result.EventId))
        {
            metrics.WebhookOutcome(NotificationMetrics.Duplicate);
            LogDuplicate(logger, result.EventId);
            return;
        }

        // Side by side: a webhook waiting out its retries does not delay the others.
        var client = http.CreateClient(HttpClientName);
        await Task.WhenAll(wanted.Select(async webhook =>
        {
            var delivered = await webhook.DeliverAsync(client, result, context.CancellationToken);
            metrics.WebhookOutcome(delivered ? NotificationMetrics.Delivered : NotificationMetrics.Failed);
        }));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The triage of {EventId} was posted to the webhooks already; not posted again")]
    private static partial void LogDuplicate(ILogger logger, string eventId);
}
