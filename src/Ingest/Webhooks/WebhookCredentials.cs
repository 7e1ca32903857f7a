using System.Security.Cryptography;
using System.Text;

namespace Triage.Ingest.Webhooks;

/// <summary>
/// Proof that an event comes from the build system the operator configured: a shared token (Jenkins, GitLab) or
/// GitHub's signature of the payload. Compared in constant time, so that answers do not reveal how much of a guess
/// was right.
/// </summary>
public static class WebhookCredentials
{
    public const string SignaturePrefix = "sha256=";

    public static bool TokenMatches(string? presented, string expected)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }

        // Hashing both first keeps the comparison's time independent of the lengths too.
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
    }

    /// <summary>
    /// GitHub's <c>X-Hub-Signature-256: sha256=&lt;hex&gt;</c>: the HMAC-SHA256 of the raw body, keyed with the webhook's
    /// secret. The body is checked as received, before it is parsed.
    /// </summary>
    public static bool SignatureMatches(string? header, ReadOnlySpan<byte> body, string secret)
    {
        if (header is null || !header.StartsWith(SignaturePrefix, StringComparison.Ordinal))
        {
            return false;
        }

        byte[] presented;
        try
        {
            presented = Convert.FromHexString(header.AsSpan(SignaturePrefix.Length));
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }
}
