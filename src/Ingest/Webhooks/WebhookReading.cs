using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Triage.Ingest.BuildFailures;

namespace Triage.Ingest.Webhooks;

/// <summary>
/// What a build system's own event came to: a failure to triage (as the document a build step would have posted), an
/// event that is not a failure (with why, so that whoever reads the delivery log understands), or an unreadable payload.
/// </summary>
public sealed record WebhookReading(BuildFailureDocument? Failure, string? Ignored, IDictionary<string, string[]>? Errors)
{
    public static WebhookReading Triage(BuildFailureDocument failure) => new(failure, null, null);

    public static WebhookReading Ignore(string reason) => new(null, reason, null);

    public static WebhookReading Invalid(string field, string message) =>
        new(null, null, new Dictionary<string, string[]> { [field] = [message] });
}

/// <summary>The answer to an event that is not a failure: 202, so that the build system does not retry it.</summary>
public sealed record WebhookIgnored(string Ignored);

/// <summary>Reading the build systems' payloads: snake_case, ids as numbers or strings, whatever else they carry skipped.</summary>
internal static class WebhookJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    /// <summary>Invalid UTF-8 in a log becomes U+FFFD instead of failing the whole event.</summary>
    private static readonly UTF8Encoding Lenient = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>The payload as <typeparamref name="T"/>; null with <paramref name="invalid"/> naming the field when it cannot be.</summary>
    public static T? Read<T>(ReadOnlySpan<byte> body, out WebhookReading? invalid)
        where T : class
    {
        try
        {
            var value = JsonSerializer.Deserialize<T>(Lenient.GetString(body), Options);
            invalid = value is null ? WebhookReading.Invalid("$", "the body must be a JSON object") : null;
            return value;
        }
        catch (JsonException e)
        {
            invalid = WebhookReading.Invalid(BuildFailureReader.FieldOf(e.Path), e.Message.Split(" Path:", 2)[0]);
            return null;
        }
    }

    /// <summary>An absolute http(s) URL, or null: a build system without its own address configured sends odd ones.</summary>
    public static string? Url(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? text : null;

    public static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
