using System.Buffers;
using System.Text.RegularExpressions;

namespace Triage.Router.Cache;

/// <summary>
/// The failure excerpt with what varies between runs of the same failure masked: timestamps, durations, hex ids,
/// UUIDs, temporary and workspace paths, and numbers (build numbers, ports, line numbers, counts). Error text,
/// test names, file names and exception types stay, because they are what tells two failures apart.
/// </summary>
public static partial class FailureFingerprint
{
    private const int ShortestHexId = 7;

    private static readonly SearchValues<char> Triggers = SearchValues.Create("0123456789-/\\");

    // Every match of TemporaryPath or WorkspaceRoot holds one of these, at its start or one character after it.
    private static readonly SearchValues<string> TemporaryPathAnchors =
        SearchValues.Create(["/tmp", "/private/var/folders", "/var/folders", @":\Users\"], StringComparison.Ordinal);

    private static readonly SearchValues<string> WorkspaceRootAnchors = SearchValues.Create(
        [
            "/home/travis/build/", "/Users/travis/build/", "/home/runner/work/", "/builds/", "/var/lib/jenkins/workspace/",
            "/home/jenkins/", "/github/workspace/", @":\projects\", @":\a\",
        ],
        StringComparison.Ordinal);

    // "Building OTP.................... failed.": a tool pads its lines with as many dots as the name leaves room for.
    private const string ProgressDots = "....";

    public static string Of(string excerpt)
    {
        // Every pattern below needs a digit, a '-' or a path separator, or a run of dots: a line of words alone is
        // its own fingerprint.
        if (!excerpt.AsSpan().ContainsAny(Triggers) && !excerpt.AsSpan().ContainsAnyExceptInRange('\0', '\x7F')
            && !excerpt.Contains(ProgressDots, StringComparison.Ordinal))
        {
            return excerpt;
        }

        var text = Uuid().Replace(excerpt, "<uuid>");
        if (text.Contains(ProgressDots, StringComparison.Ordinal))
        {
            text = DotLeader().Replace(text, "…");
        }

        text = Replace(Timestamp(), text, "<time>", EarliestTimestamp);
        text = Replace(TemporaryPath(), text, "<tmp>", EarliestTemporaryPath);
        text = Replace(WorkspaceRoot(), text, "<ws>/", EarliestWorkspaceRoot);
        text = Replace(HexId(), text, "<hex>", EarliestHexId);
        text = Duration().Replace(text, "<duration>");
        return Number().Replace(text, "<n>");
    }

    /// <summary>
    /// What <c>pattern.Replace(text, replacement)</c> returns, but the regex only runs from where
    /// <paramref name="earliestStart"/> says a match can begin: these patterns begin with characters that are
    /// everywhere in a log (letters, digits, '/'), so the engine would otherwise try almost every position.
    /// </summary>
    /// <param name="earliestStart">
    /// Given the text and a position, a position at or after it before which no match starts, or -1 if no match
    /// starts at or after it. The patterns it serves cannot match the empty string, so every match moves on.
    /// </param>
    private static string Replace(Regex pattern, string text, string replacement, Func<string, int, int> earliestStart)
    {
        List<Range>? matches = null;
        var length = text.Length;
        var end = 0;
        for (var from = earliestStart(text, 0); from >= 0; from = earliestStart(text, end))
        {
            // The search from 'from' still sees the text before it, so \b and lookbehinds judge as Replace would.
            var search = pattern.EnumerateMatches(text, from);
            if (!search.MoveNext())
            {
                break;
            }

            var match = search.Current;
            end = match.Index + match.Length;
            (matches ??= []).Add(match.Index..end);
            length += replacement.Length - match.Length;
        }

        return matches is null ? text : string.Create(length, (text, matches, replacement), static (destination, state) =>
        {
            var (original, found, replacement) = state;
            var copied = 0;
            foreach (var match in found)
            {
                var start = match.Start.Value;
                destination = Write(destination, original.AsSpan(copied, start - copied));
                destination = Write(destination, replacement);
                copied = match.End.Value;
            }

            Write(destination, original.AsSpan(copied));
        });
    }

    private static Span<char> Write(Span<char> destination, ReadOnlySpan<char> value)
    {
        value.CopyTo(destination);
        return destination[value.Length..];
    }

    /// <summary>A timestamp has a date's "-dd-" or a time's ":dd:" within its first eight characters.</summary>
    private static int EarliestTimestamp(string text, int from)
    {
        for (var i = from; i + 3 < text.Length; i++)
        {
            var next = text.AsSpan(i, text.Length - 3 - i).IndexOfAny('-', ':');
            if (next < 0)
            {
                return -1;
            }

            i += next;
            if (char.IsDigit(text[i + 1]) && char.IsDigit(text[i + 2]) && text[i + 3] == text[i])
            {
                // The separator comes after four digits of a year at most.
                return Math.Max(from, i - 4);
            }
        }

        return -1;
    }

    private static int EarliestTemporaryPath(string text, int from) => EarliestBeforeAnchor(text, from, TemporaryPathAnchors);

    private static int EarliestWorkspaceRoot(string text, int from) => EarliestBeforeAnchor(text, from, WorkspaceRootAnchors);

    /// <summary>One character before the first anchor: the drive letter of C:\Users\ or C:\projects\.</summary>
    private static int EarliestBeforeAnchor(string text, int from, SearchValues<string> anchors)
    {
        var anchor = text.AsSpan(from).IndexOfAny(anchors);
        return anchor < 0 ? -1 : Math.Max(from, from + anchor - 1);
    }

    /// <summary>A hex id is seven or more lower-case hex digits, right at its start or after "0x".</summary>
    private static int EarliestHexId(string text, int from)
    {
        var start = from;
        while (start + ShortestHexId <= text.Length)
        {
            // Look at the window from its end: past a character that is not a hex digit, no run that starts in
            // the window is long enough, so the search jumps over it.
            var last = start + ShortestHexId - 1;
            while (last >= start && char.IsAsciiHexDigitLower(text[last]))
            {
                last--;
            }

            if (last < start)
            {
                return Math.Max(from, start - 2);
            }

            start = last + 1;
        }

        return -1;
    }

    [GeneratedRegex(@"\.{4,}")]
    private static partial Regex DotLeader();

    [GeneratedRegex(@"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")]
    private static partial Regex Uuid();

    // 2019-11-05T05:01:58.327Z, and in file names 2019-11-05T05_01_58_327Z (npm's debug logs); 10:42:07 PM.
    [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}([T ]\d{1,2}([:_])\d{2}(\2\d{2}([.,_]\d+)?)?(Z|\s?[+-]\d{2}:?\d{2}|\s?UTC)?)?|\b\d{1,2}:\d{2}:\d{2}([.,]\d+)?(\s?[AP]M)?\b")]
    private static partial Regex Timestamp();

    [GeneratedRegex(@"(/tmp|/var/folders|/private/var/folders|[A-Za-z]:\\Users\\[^\\\s]+\\AppData\\Local\\Temp)[^\s:'""),\]]*")]
    private static partial Regex TemporaryPath();

    // The checkout folder of the CI runner: /home/travis/build/owner/repo/, /builds/group/project/, C:\projects\x\ …
    [GeneratedRegex(@"(/home/travis/build/[^/\s]+/[^/\s]+/|/Users/travis/build/[^/\s]+/[^/\s]+/|/home/runner/work/[^/\s]+/[^/\s]+/|/builds/[^/\s]+/[^/\s]+/|/var/lib/jenkins/workspace/[^/\s]+/|/home/jenkins/[^\s]*?/workspace/[^/\s]+/|/github/workspace/|[A-Za-z]:\\projects\\[^\\\s]+\\|[A-Za-z]:\\a\\[^\\\s]+\\[^\\\s]+\\)")]
    private static partial Regex WorkspaceRoot();

    // An address is as long as a pointer: "0x000000455084" has no letter, yet differs from run to run, where an
    // error code ("0x80004005") has eight digits at most and says what failed.
    [GeneratedRegex(@"\b(0x[0-9a-fA-F]{9,}|(0x)?(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,})\b")]
    private static partial Regex HexId();

    // One number and its unit: "58s", "2.31 s", "12 min".
    private const string DurationPart = @"\d+([.,]\d+)?\s?(ms|µs|us|ns|s|sec|secs|seconds?|m|min|mins|minutes?|h)";

    // One duration may have several units: "1m 12s" and Go's "1m12.5s" on a slow run, "58s" on a fast one.
    [GeneratedRegex(@"\b" + DurationPart + @"(\s?" + DurationPart + @")*\b")]
    private static partial Regex Duration();

    // A line reference is a number too: "[L3035]" in a link checker's report, "#L42" in a link to a source file.
    [GeneratedRegex(@"(?<![A-Za-z_\d])\d+([.,]\d+)*(?![A-Za-z_\d])|(?<=[\[#]L)\d+(?![A-Za-z_\d])")]
    private static partial Regex Number();
}
