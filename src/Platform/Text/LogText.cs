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
        text = OrphanColour().Replace(text, string.Empty);
        return text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
    }

    /// <summary>The lines of a text whose line breaks are '\n' only (as <see cref="StripAnsi"/> leaves them).</summary>
    public static List<Range> Lines(string text)
    {
        var lines = new List<Range>(text.Length / 40 + 1);
        var start = 0;
        while (start <= text.Length)
        {
            var next = text.IndexOf('\n', start);
            if (next < 0)
            {
                if (start < text.Length)
                {
                    lines.Add(new Range(start, text.Length));
                }

                break;
            }

            lines.Add(new Range(start, next));
            start = next + 1;
        }

        return lines;
    }

    [GeneratedRegex(@"\x1B(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1B]*(\x07|\x1B\\)|[@-Z\\-_])")]
    private static partial Regex AnsiEscape();

    // Colour codes whose escape character was lost on the way (Jenkins console text, copied logs): "[1;31mERROR[m".
    [GeneratedRegex(@"\[(\d{1,3}(;\d{1,3}){0,4})?m")]
    private static partial Regex OrphanColour();

    [GeneratedRegex(@"travis_(fold|time):[a-z]+:[^\r\n]*|##\[(group|endgroup)\]|section_(start|end):\d+:[^\r\n]*")]
    private static partial Regex FoldMarker();
}
