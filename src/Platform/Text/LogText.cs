using System.Text.RegularExpressions;

namespace Triage.Platform.Text;

/// <summary>Build logs as they arrive from CI: coloured, folded, with carriage-return progress bars.</summary>
public static partial class LogText
{
    /// <summary>Removes ANSI escape sequences and CI fold markers, keeps line breaks.</summary>
    public static string StripAnsi(string log)
    {
        var text = AnsiEscape().Replace(log, string.Empty);
        text = FoldMarker().Replace(text, string.Empty);
        return text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
    }

    [GeneratedRegex(@"\x1B(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1B]*(\x07|\x1B\\)|[@-Z\\-_])")]
    private static partial Regex AnsiEscape();

    [GeneratedRegex(@"travis_(fold|time):[a-z]+:[^\r\n]*|##\[(group|endgroup)\]|section_(start|end):\d+:[^\r\n]*")]
    private static partial Regex FoldMarker();
}
