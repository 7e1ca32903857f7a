using System.Text.Json;
using Triage.Contracts;

namespace Triage.Workers.Providers;

/// <summary>
/// Reads a model's answer into a <see cref="TriageVerdict"/>. Servers that ignore <c>response_format</c>
/// wrap the JSON in prose or a code fence, so the outermost JSON object in the text is taken.
/// </summary>
public static class VerdictParser
{
    public static TriageVerdict Parse(string provider, string content)
    {
        var start = content.IndexOf('{', StringComparison.Ordinal);
        var end = content.LastIndexOf('}');
        if (start < 0 || end <= start)
        {
            throw new ProviderException(provider, "the answer holds no JSON object");
        }

        try
        {
            using var json = JsonDocument.Parse(content[start..(end + 1)]);
            var root = json.RootElement;
            var summary = Text(root, "summary");
            var category = Text(root, "category");
            var cause = Text(root, "suspectedCause");
            if (summary is null || category is null || cause is null)
            {
                throw new ProviderException(provider, "the answer lacks summary, category or suspectedCause");
            }

            if (!TriageCategory.All.Contains(category))
            {
                throw new ProviderException(provider, $"the answer's category '{category}' is not one of {string.Join(", ", TriageCategory.All)}");
            }

            var owners = root.TryGetProperty("suggestedOwners", out var o) && o.ValueKind == JsonValueKind.Array
                ? o.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
                : [];
            var confidence = root.TryGetProperty("confidence", out var c) && c.ValueKind == JsonValueKind.Number
                ? Math.Clamp(c.GetDouble(), 0, 1)
                : 0.5;
            return new TriageVerdict(summary, category, cause, owners, confidence);
        }
        catch (JsonException e)
        {
            throw new ProviderException(provider, $"the answer is not valid JSON: {e.Message}", inner: e);
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;
}
