using System.Text.RegularExpressions;

namespace Triage.Router.Cache;

/// <summary>
/// The failure excerpt with what varies between runs of the same failure masked: timestamps, durations, hex ids,
/// UUIDs, temporary and workspace paths, and numbers (build numbers, ports, line numbers, counts). Error text,
/// test names, file names and exception types stay, because they are what tells two failures apart.
/// </summary>
public static partial class FailureFingerprint
{
    public static string Of(string excerpt)
    {
        var text = Uuid().Replace(excerpt, "<uuid>");
        text = Timestamp().Replace(text, "<time>");
        text = TemporaryPath().Replace(text, "<tmp>");
        text = WorkspaceRoot().Replace(text, "<ws>/");
        text = HexId().Replace(text, "<hex>");
        text = Duration().Replace(text, "<duration>");
        return Number().Replace(text, "<n>");
    }

    [GeneratedRegex(@"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")]
    private static partial Regex Uuid();

    [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}([T ]\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|\s?[+-]\d{2}:?\d{2}|\s?UTC)?)?|\b\d{1,2}:\d{2}:\d{2}([.,]\d+)?\b")]
    private static partial Regex Timestamp();

    [GeneratedRegex(@"(/tmp|/var/folders|/private/var/folders|[A-Za-z]:\\Users\\[^\\\s]+\\AppData\\Local\\Temp)[^\s:'""),\]]*")]
    private static partial Regex TemporaryPath();

    // The checkout folder of the CI runner: /home/travis/build/owner/repo/, /builds/group/project/, C:\projects\x\ …
    [GeneratedRegex(@"(/home/travis/build/[^/\s]+/[^/\s]+/|/Users/travis/build/[^/\s]+/[^/\s]+/|/home/runner/work/[^/\s]+/[^/\s]+/|/builds/[^/\s]+/[^/\s]+/|/var/lib/jenkins/workspace/[^/\s]+/|/home/jenkins/[^\s]*?/workspace/[^/\s]+/|/github/workspace/|[A-Za-z]:\\projects\\[^\\\s]+\\|[A-Za-z]:\\a\\[^\\\s]+\\[^\\\s]+\\)")]
    private static partial Regex WorkspaceRoot();

    [GeneratedRegex(@"\b(0x)?(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b")]
    private static partial Regex HexId();

    [GeneratedRegex(@"\b\d+([.,]\d+)?\s?(ms|µs|us|ns|s|sec|secs|seconds?|m|min|mins|minutes?|h)\b")]
    private static partial Regex Duration();

    [GeneratedRegex(@"(?<![A-Za-z_\d])\d+([.,]\d+)*(?![A-Za-z_\d])")]
    private static partial Regex Number();
}
