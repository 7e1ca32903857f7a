using System.Buffers;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Triage.Router.Cache;

/// <summary>
/// What makes a failure this failure and not its neighbour: the tests that failed, the exception types, the
/// error codes and the source files the errors point at. Two failures that pass through the same assertion
/// helper differ in one test name, which no similarity threshold separates; comparing these sets does.
/// </summary>
public sealed partial record FailureIdentity(
    IReadOnlyList<string> Tests,
    IReadOnlyList<string> Exceptions,
    IReadOnlyList<string> Codes,
    IReadOnlyList<string> Files,
    IReadOnlyList<string> Messages)
{
    /// <summary>
    /// How much two failures' error lines (every line of the focus with a failure marker, masked) must overlap
    /// (Jaccard) to be one failure. On the LogChunks pairs at the default threshold, 0.6 let 8.4% of different
    /// failures of one kind through and 0.8 let 5.6% through, for 84.9% and 84.5% of true reruns (decision 0010).
    /// </summary>
    public const double MessageOverlap = 0.8;

    private const int MaxMessageLength = 200;

    public static FailureIdentity None { get; } = new([], [], [], [], []);

    public bool IsEmpty => Tests.Count == 0 && Exceptions.Count == 0 && Codes.Count == 0 && Files.Count == 0 && Messages.Count == 0;

    public static FailureIdentity Of(string excerpt)
    {
        var tests = new SortedSet<string>(StringComparer.Ordinal);
        var exceptions = new SortedSet<string>(StringComparer.Ordinal);
        var codes = new SortedSet<string>(StringComparer.Ordinal);
        var files = new SortedSet<string>(StringComparer.Ordinal);
        var messages = new SortedSet<string>(StringComparer.Ordinal);
        var inFailedTestList = false;
        foreach (var line in excerpt.Split('\n'))
        {
            // sbt names the failed suites one a line under "Failed tests:" ("[error] \tcom.example.FooTest"), xcodebuild
            // the failed tests under "Failing tests:", by target ("\tAppTests-iOS:", then "\t\tMapSpec.test_zoom()").
            if (inFailedTestList && (line.AsSpan().IsWhiteSpace() || FailedTestListTarget().IsMatch(line)))
            {
                continue;
            }

            if (inFailedTestList && FailedTestListEntry().Match(line) is { Success: true } listed)
            {
                tests.Add(listed.Groups["name"].Value);
                continue;
            }

            inFailedTestList = line.EndsWith("Failed tests:", StringComparison.Ordinal) || line.EndsWith("Failing tests:", StringComparison.Ordinal);
            if (Excerpts.FailureMarkers.Weight(line) >= 1)
            {
                var message = FailureFingerprint.Of(line.Trim());
                messages.Add(message.Length > MaxMessageLength ? message[..MaxMessageLength] : message);
            }

            // Each pattern runs only on a line that has what every match of it needs (most lines have nothing).
            if (line.AsSpan().ContainsAny(TestMarks))
            {
                foreach (Match match in FailedTest().Matches(line))
                {
                    var name = FirstGroup(match);
                    if (name.Length is > 1 and < 300)
                    {
                        tests.Add(name.Trim());
                    }
                }
            }

            if (line.AsSpan().ContainsAny(ExceptionWords))
            {
                foreach (Match match in ExceptionType().Matches(line))
                {
                    exceptions.Add(match.Groups["name"].Value);
                }
            }

            if (MayHaveDigit(line))
            {
                foreach (Match match in ErrorCode().Matches(line))
                {
                    codes.Add(match.Groups["code"].Value);
                }

                AddSourceFiles(line, files);
                AddRefusedAddresses(line, files);
            }
        }

        return new FailureIdentity([.. tests], [.. exceptions], [.. codes], [.. files], [.. messages]);
    }

    /// <summary>
    /// Whether a triage of <paramref name="other"/> may stand for this failure: every kind of evidence that either
    /// side has must be the same on both. A kind neither side shows says nothing.
    /// </summary>
    public bool Matches(FailureIdentity other) =>
        Same(Tests, other.Tests) && Same(Exceptions, other.Exceptions) && Same(Codes, other.Codes) && Same(Files, other.Files)
        && Overlap(Messages, other.Messages) >= MessageOverlap;

    // The error lines of two runs of one failure are the same once masked, give or take a line the build printed
    // on one run only; two failures that share a tool share its boilerplate but not their messages.
    private static double Overlap(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.Count == 0 && b.Count == 0)
        {
            return 1;
        }

        var shared = a.Intersect(b, StringComparer.Ordinal).Count();
        return (double)shared / (a.Count + b.Count - shared);
    }

    public string Serialize() => JsonSerializer.Serialize(this, IdentityJson.Default.FailureIdentity);

    public static FailureIdentity Deserialize(string json) =>
        string.IsNullOrEmpty(json) ? None : JsonSerializer.Deserialize(json, IdentityJson.Default.FailureIdentity) ?? None;

    // Every alternative of FailedTest holds one of these ("):" for JUnit's "shouldParse(com.acme.DateTest):", "::"
    // for PHPUnit's "1) Acme\\DateTest::testParse"): a bracket alone is on most lines of a log.
    private static readonly SearchValues<string> TestMarks =
        SearchValues.Create(["FAIL", "ERROR", "rspec ", "●", "✕", "not ok", "#test", "):", "::"], StringComparison.Ordinal);

    private static readonly SearchValues<string> ExceptionWords =
        SearchValues.Create(["Exception", "Error", "Failure", "Fault"], StringComparison.Ordinal);

    /// <summary>Error codes and file positions need a digit; \d is any Unicode digit, so a non-ASCII line may hold one.</summary>
    internal static bool MayHaveDigit(ReadOnlySpan<char> line) =>
        line.ContainsAnyInRange('0', '9') || line.ContainsAnyExceptInRange('\0', '\x7F');

    // What every match of SourceFile is followed by: one of ":([," and a digit (a space between them at most), Maven's
    // ":[" and a digit, or Python's '", line ' and a digit, nine characters in all.
    private static readonly SearchValues<char> PositionMarks = SearchValues.Create(":([,\"");
    private const int LongestPosition = 9;

    /// <summary>
    /// Adds what <see cref="SourceFile"/> finds in the line. A match is a run of word characters, '-' and '.' right
    /// before a position, so the pattern runs only on each such run and its position: over the whole line, the
    /// engine would try it at every letter, which was about half of the identity's time on a median log.
    /// </summary>
    internal static void AddSourceFiles(ReadOnlySpan<char> line, ISet<string> files)
    {
        for (var at = line.IndexOfAny(PositionMarks); at >= 0;)
        {
            if (IsPosition(line, at))
            {
                // Back over every character a file name may hold, any non-ASCII one included, so that the run
                // starts after a character that the pattern's look-behind would refuse as well, or at the line's start.
                var start = at;
                while (start > 0 && MayBeInFileName(line[start - 1]))
                {
                    start--;
                }

                var around = line[start..Math.Min(line.Length, at + LongestPosition)];
                foreach (var match in SourceFile().EnumerateMatches(around))
                {
                    files.Add(around.Slice(match.Index, match.Length).ToString());
                }
            }

            var further = line[(at + 1)..].IndexOfAny(PositionMarks);
            at = further < 0 ? -1 : at + 1 + further;
        }
    }

    /// <summary>
    /// The addresses a line reports an HTTP error status for: a link checker's "1. [L0153] 404 https://example.org/a.png",
    /// pip's "HTTP error 404 while getting https://…". What was refused names the failure as a file does; the query
    /// is left out, as it may carry a token or a build's own parameters.
    /// </summary>
    internal static void AddRefusedAddresses(string line, ISet<string> files)
    {
        if (!line.Contains("://", StringComparison.Ordinal))
        {
            return;
        }

        var addresses = Address().Matches(line);
        if (addresses.Count == 0 || !ErrorStatus().IsMatch(Address().Replace(line, " ")))
        {
            return;
        }

        foreach (Match address in addresses)
        {
            files.Add(address.Groups["address"].Value.TrimEnd('.', ',', ';', ':'));
        }
    }

    [GeneratedRegex(@"(?<address>https?://[^\s?#)\]>""'`]+)[^\s)\]>""'`]*")]
    private static partial Regex Address();

    // A status, not a size or a count: "404 Not Found", "[L0153] 404 https://…", "… 503", "status code: 503", "HTTP error
    // 404"; "(450 kB at 1.2 MB/s)" and "512 bytes" are none.
    [GeneratedRegex(@"(?<![\w.:/-])[45]\d\d(?=\s+(?:[A-Z]|https?://)|\s*$|[:,)\]])|(?i:error|status|code|http)[\s:=]+[45]\d\d(?!\d)")]
    private static partial Regex ErrorStatus();

    private static bool IsPosition(ReadOnlySpan<char> line, int at)
    {
        if (line[at] == '"')
        {
            return line[at..].StartsWith("\", line ", StringComparison.Ordinal) && at + 8 < line.Length && char.IsDigit(line[at + 8]);
        }

        // char.IsDigit and char.IsWhiteSpace are the pattern's \d and \s.
        return at + 1 < line.Length
            && (char.IsDigit(line[at + 1])
                || (char.IsWhiteSpace(line[at + 1]) || line[at] == ':' && line[at + 1] == '[') && at + 2 < line.Length && char.IsDigit(line[at + 2]));
    }

    private static bool MayBeInFileName(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' || !char.IsAscii(c);

    private static bool Same(IReadOnlyList<string> a, IReadOnlyList<string> b) => a.SequenceEqual(b, StringComparer.Ordinal);

    private static string FirstGroup(Match match)
    {
        for (var i = 1; i < match.Groups.Count; i++)
        {
            if (match.Groups[i].Success && match.Groups[i].Name.StartsWith('t'))
            {
                return match.Groups[i].Value;
            }
        }

        return match.Value;
    }

    // Failing tests as the common runners name them: go, pytest, unittest, xunit/nunit, cargo, JUnit/surefire,
    // rspec, jest/mocha, phpunit, TAP, ScalaTest, minitest, Gradle.
    [GeneratedRegex(
        @"--- FAIL: (?<t1>\S+)" +
        @"|FAILED (?<t2>[\w/.\-]+::[^\s]+)" +
        @"|^(?:FAIL|ERROR): (?<t3>\w+ \([\w.]+\))" +
        @"|^\s*(?<t4>[\w.`<>+]+) \[FAIL\]" +
        @"|^test (?<t5>\S+) \.\.\. FAILED" +
        @"|^(?<t6>\w+ \([\w.]+\)) \.\.\. (?:FAIL|ERROR)" +
        @"|^(?:\[ERROR\])?\s*(?<t7>\w+\([\w.$]+\))(?:\s+Time elapsed:.*<<< (?:FAILURE|ERROR)!|:)" +
        @"|Tests run:.*<<< FAILURE!.*? in (?<t8>[\w.$]+)" +
        @"|^\[ERROR\]\s+(?<t9>[\w$]+\.[\w$]+)(?::\d+)?\s" +
        @"|^rspec (?<ta>\./\S+)" +
        @"|● (?<tb>[^\n]+? › [^\n]+)" +
        @"|^\s*✕ (?<tc>.+?)(?: \(\d+ ?ms\))?$" +
        @"|^\d+\) (?<td>[\w\\]+::\w+)" +
        @"|^not ok \d+ (?:- )?(?<te>.+)$" +
        @"|^(?:\[info\] )?- (?<tf>.+?) \*\*\* FAILED \*\*\*" +
        @"|^(?<tg>[A-Z][\w:]*#test\w*):?\s*$" +
        @"|^(?<th>[\w.$]+ > .+?) FAILED\s*$",
        RegexOptions.Multiline | RegexOptions.ExplicitCapture)]
    private static partial Regex FailedTest();

    [GeneratedRegex(@"^(?:\[error\])?\s+(?<name>[\w.$]+(?:\(\))?|-\[[\w.]+ \w+\])\s*$")]
    private static partial Regex FailedTestListEntry();

    [GeneratedRegex(@"^\s+[\w.-]+:\s*$")]
    private static partial Regex FailedTestListTarget();

    [GeneratedRegex(@"(?<![\w.])(?:[a-z_][\w]*\.)*(?<name>[A-Z]\w*(?:Exception|Error|Failure|Fault))\b")]
    private static partial Regex ExceptionType();

    [GeneratedRegex(@"(?<![\w-])(?<code>(?:CS|TS|FS|BC|MSB|NU|NETSDK|LNK|C|E|SC|SA|CA|IDE|TS)\d{3,5})(?![\w-])|error\[(?<code>E\d{4})\]")]
    private static partial Regex ErrorCode();

    [GeneratedRegex(@"(?<![\w.])(?<file>[\w\-.]+\.(?:java|kt|kts|scala|groovy|gradle|cs|fs|vb|ts|tsx|js|jsx|mjs|py|rb|go|rs|c|cc|cpp|cxx|h|hpp|m|mm|swift|php|ex|exs|erl|hs|ml|clj|dart|lua|pl|r|sh|xml|json|ya?ml|toml|csproj|sln|md|rst|html|css|scss))(?=[:(\[,]\s?\d|:\[\d|\"", line \d)")]
    internal static partial Regex SourceFile();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(FailureIdentity))]
internal sealed partial class IdentityJson : System.Text.Json.Serialization.JsonSerializerContext;
