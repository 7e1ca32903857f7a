using System.Text.RegularExpressions;

namespace Triage.Tests.Chaos;

/// <summary>Which failures a fake provider was asked about, by the build number the prompt shows (the event id here).</summary>
public static partial class ProviderCalls
{
    public static IReadOnlyDictionary<string, int> ByFailure(IEnumerable<RecordedRequest> requests) =>
        requests.Select(r => Build().Match(r.UserMessage))
            .Where(m => m.Success)
            .GroupBy(m => m.Groups[1].Value, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    [GeneratedRegex(@"^- build: (\S+)$", RegexOptions.Multiline)]
    private static partial Regex Build();
}
