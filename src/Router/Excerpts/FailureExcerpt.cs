using System.Text;
using Triage.Platform.Text;

namespace Triage.Router.Excerpts;

/// <summary>
/// The part of a log a provider sees. Build tools print the reason for a failure near the end, so the tail of
/// the log, cleaned of colour codes and fold markers and bounded in lines and bytes, is the excerpt for now.
/// </summary>
public static class FailureExcerpt
{
    public const int MaxLines = 200;
    public const int MaxBytes = 16 * 1024;
    public const int MaxLineLength = 1_000;

    public static string From(string log)
    {
        var lines = LogText.StripAnsi(log).Split('\n');
        var kept = new List<string>();
        var bytes = 0;
        for (var i = lines.Length - 1; i >= 0 && kept.Count < MaxLines; i--)
        {
            var line = lines[i].TrimEnd();
            if (kept.Count == 0 && line.Length == 0)
            {
                continue;
            }

            if (line.Length > MaxLineLength)
            {
                line = line[..MaxLineLength] + " …";
            }

            bytes += Encoding.UTF8.GetByteCount(line) + 1;
            if (bytes > MaxBytes)
            {
                break;
            }

            kept.Add(line);
        }

        kept.Reverse();
        return string.Join('\n', kept);
    }
}
