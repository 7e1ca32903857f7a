using System.Globalization;
using System.Text;
using System.Text.Json;
using Triage.Contracts;
using Triage.Platform.Configuration;

namespace Triage.Router.Notifications;

/// <summary>What an outgoing webhook is sent: the <see cref="TriageCompleted"/> itself, or a Slack message made of it.</summary>
internal static class WebhookPayload
{
    public static byte[] Create(OutgoingWebhookOptions webhook, TriageCompleted result) => webhook.Format switch
    {
        OutgoingWebhookFormat.Slack => JsonSerializer.SerializeToUtf8Bytes(new SlackMessage(SlackText(result, webhook.Link)), JsonSerializerOptions.Web),
        _ => JsonSerializer.SerializeToUtf8Bytes(result, JsonSerializerOptions.Web),
    };

    /// <summary>Slack's incoming-webhook text (mrkdwn): category, summary, likely cause, owners and the link.</summary>
    public static string SlackText(TriageCompleted result, string? link)
    {
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"*Build failure triaged: {Escape(result.Category)}* (route {Escape(result.Route)}, event `{Escape(result.EventId)}`)\n")
            .Append(Escape(result.Summary)).Append('\n')
            .Append("*Likely cause:* ").Append(Escape(result.SuspectedCause)).Append('\n')
            .Append("*Owners:* ").Append(result.SuggestedOwners.Count == 0 ? "none suggested" : Escape(string.Join(", ", result.SuggestedOwners)));
        if (result.Cache is { } cache)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n_Reused from an earlier triage (similarity {cache.Similarity:0.00})._");
        }

        if (link is { Length: > 0 })
        {
            text.Append('\n').Append('<').Append(link.Replace("{eventId}", Uri.EscapeDataString(result.EventId), StringComparison.Ordinal)).Append("|Open the triage>");
        }

        return text.ToString();
    }

    /// <summary>Slack reads &amp;, &lt; and &gt; as markup: a log line quoted in a summary must not become a link.</summary>
    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private sealed record SlackMessage(string Text);
}
