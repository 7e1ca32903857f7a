using System.Diagnostics.Metrics;
using Triage.Platform.Telemetry;

namespace Triage.Router.Notifications;

/// <summary>
/// <c>triage.notifications{channel, outcome}</c>: results announced to subscribers on the plain JSON exchange
/// (<c>json_exchange</c>) and to outgoing webhooks (<c>webhook</c>, one count per webhook and triage).
/// </summary>
public sealed class NotificationMetrics : IDisposable
{
    public const string JsonExchange = "json_exchange";
    public const string Webhook = "webhook";
    public const string Delivered = "delivered";
    public const string Failed = "failed";

    /// <summary>A triage this process had announced already (a second delivery of the same event), not sent again.</summary>
    public const string Duplicate = "duplicate";

    private readonly Meter meter = new(TriageTelemetry.Name);
    private readonly Counter<long> notifications;

    public NotificationMetrics()
    {
        notifications = meter.CreateCounter<long>("triage.notifications", description: "Triages announced to subscribers, by channel and outcome.");
    }

    public void JsonPublished() => Count(JsonExchange, Delivered);

    public void JsonPublishFailed() => Count(JsonExchange, Failed);

    public void WebhookOutcome(string outcome) => Count(Webhook, outcome);

    private void Count(string channel, string outcome) =>
        notifications.Add(1, new KeyValuePair<string, object?>("channel", channel), new KeyValuePair<string, object?>("outcome", outcome));

    public void Dispose() => meter.Dispose();
}
