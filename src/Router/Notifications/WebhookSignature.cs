using System.Security.Cryptography;
using System.Text;

namespace Triage.Router.Notifications;

/// <summary>
/// How an outgoing webhook proves it comes from this gateway: <c>X-Triage-Signature: sha256=&lt;hex&gt;</c>, the
/// HMAC-SHA256 with the webhook's secret of <c>"&lt;timestamp&gt;.&lt;body&gt;"</c>, where the timestamp (Unix seconds)
/// is sent in <c>X-Triage-Timestamp</c>. Signing the timestamp lets a receiver refuse old bodies replayed at it.
/// </summary>
internal static class WebhookSignature
{
    public const string SignatureHeader = "X-Triage-Signature";
    public const string TimestampHeader = "X-Triage-Timestamp";
    public const string EventIdHeader = "X-Triage-Event-Id";

    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }
}
