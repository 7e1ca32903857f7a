using System.Text.Json;
using System.Text.RegularExpressions;
using Triage.Contracts;

namespace Triage.Workers.Providers;

/// <summary>
/// The one owner of what a valid triage answer is: its JSON schema (sent as structured output) and the checks
/// an answer must pass. Servers that ignore <c>response_format</c> wrap the JSON in prose or a code fence, so the
/// outermost JSON object in the text is read.
/// </summary>
public static partial class TriageAnswer
{
    public const int MaxSummarySentences = 3;
    public const int MaxNextSteps = 3;

    /// <summary>Strict-mode compatible: every property required, nothing else allowed; limits are checked on reading.</summary>
    public static JsonElement Schema { get; } = JsonDocument.Parse($$"""
        {
          "type": "object",
          "properties": {
            "summary": { "type": "string", "description": "At most three sentences on what failed and why." },
            "category": { "type": "string", "enum": [{{string.Join(", ", TriageCategory.All.Select(c => $"\"{c}\""))}}] },
            "suspectedCause": { "type": "string", "description": "The most likely root cause, quoting the decisive log line." },
            "suggestedOwners": { "type": "array", "items": { "type": "string" }, "description": "Owners from the ownership hints only." },
            "confidence": { "type": "number", "description": "0 to 1." },
            "flakyLikelihood": { "type": "number", "description": "0 to 1: how likely this is a flaky test or an infrastructure hiccup." },
            "nextSteps": { "type": "array", "items": { "type": "string" }, "description": "At most three concrete next steps." }
          },
          "required": ["summary", "category", "suspectedCause", "suggestedOwners", "confidence", "flakyLikelihood", "nextSteps"],
          "additionalProperties": false
        }
        """).RootElement.Clone();

    /// <summary>Reads an answer; on failure <paramref name="error"/> says every problem, fit to be sent back to the model.</summary>
    public static bool TryParse(string content, out TriageVerdict? verdict, out string error)
    {
        verdict = null;
        var start = content.IndexOf('{', StringComparison.Ordinal);
        var end = content.LastIndexOf('}');
        if (start < 0 || end <= start)
        {
            error = "the answer holds no JSON object";
            return false;
        }

        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(content[start..(end + 1)]);
        }
        catch (JsonException e)
        {
            error = $"the answer is not valid JSON ({e.Message})";
            return false;
        }

        using (json)
        {
            var root = json.RootElement;
            var problems = new List<string>();
            var summary = Text(root, "summary", problems);
            var category = Text(root, "category", problems);
            var cause = Text(root, "suspectedCause", problems);
            var confidence = Probability(root, "confidence", problems);
            var flaky = Probability(root, "flakyLikelihood", problems);
            var owners = Strings(root, "suggestedOwners", problems);
            var steps = Strings(root, "nextSteps", problems);
            if (category is not null && !TriageCategory.All.Contains(category))
            {
                problems.Add($"category '{category}' is not one of {string.Join(", ", TriageCategory.All)}");
            }

            if (summary is not null && Sentences().Split(summary.Trim()).Length > MaxSummarySentences)
            {
                problems.Add($"summary has more than {MaxSummarySentences} sentences");
            }

            if (steps.Count > MaxNextSteps)
            {
                problems.Add($"nextSteps has more than {MaxNextSteps} items");
            }

            if (problems.Count > 0)
            {
                error = string.Join("; ", problems);
                return false;
            }

            verdict = new TriageVerdict(summary!, category!, cause!, owners, confidence, flaky, steps);
            error = string.Empty;
            return true;
        }
    }

    private static string? Text(JsonElement root, string name, List<string> problems)
    {
        if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
        {
            return text.Trim();
        }

        problems.Add($"{name} must be a non-empty string");
        return null;
    }

    private static double Probability(JsonElement root, string name, List<string> problems)
    {
        if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.GetDouble() is >= 0 and <= 1 and var p)
        {
            return p;
        }

        problems.Add($"{name} must be a number from 0 to 1");
        return 0;
    }

    private static List<string> Strings(JsonElement root, string name, List<string> problems)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            problems.Add($"{name} must be an array of strings");
            return [];
        }

        return value.EnumerateArray().Select(e => e.GetString()!.Trim()).Where(s => s.Length > 0).ToList();
    }

    [GeneratedRegex(@"(?<=[.!?])\s+(?=[A-Z])")]
    private static partial Regex Sentences();
}
