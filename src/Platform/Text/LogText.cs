using System.Buffers;

namespace Triage.Platform.Text;

/// <summary>Build logs as they arrive from CI: coloured, folded, with carriage-return progress bars.</summary>
/// <remarks>
/// A log of several megabytes passes through here on every failure, so the cleaning is a copy that jumps from one
/// escape character or fold marker to the next with vectorised searches, instead of a regular expression pass
/// per kind of noise (which cost 1.5 µs per KB, most of it in building the replaced text).
/// </remarks>
public static class LogText
{
    private const char Escape = '\x1B';
    private const char Bell = '\x07';

    private static readonly SearchValues<char> OscEnd = SearchValues.Create([Bell, Escape]);
    private static readonly SearchValues<char> LineEnd = SearchValues.Create("\r\n");

    // What any of the passes acts on; a log without any of these is already clean.
    private static readonly SearchValues<char> Noise = SearchValues.Create("\x1B[\r_#");

    /// <summary>
    /// Removes ANSI escape sequences (CSI, OSC and two-character ones), then CI fold markers (Travis's
    /// <c>travis_fold</c>/<c>travis_time</c>, GitHub's <c>##[group]</c>, GitLab's <c>section_start</c>), then colour codes
    /// that lost their escape character; line breaks become '\n'. Each pass compacts one pooled buffer in place.
    /// </summary>
    public static string StripAnsi(string log)
    {
        if (!log.AsSpan().ContainsAny(Noise))
        {
            return log;
        }

        var buffer = ArrayPool<char>.Shared.Rent(log.Length);
        try
        {
            return new string(buffer, 0, StripAnsi(log, buffer));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// <see cref="StripAnsi(string)"/> into <paramref name="destination"/> (at least as long as the log), for a caller
    /// that reads the clean text and keeps only a little of it; returns the clean text's length.
    /// </summary>
    public static int StripAnsi(ReadOnlySpan<char> log, Span<char> destination)
    {
        log.CopyTo(destination);
        var length = RemoveEscapes(destination[..log.Length]);
        length = RemoveFoldMarkers(destination[..length]);
        length = RemoveOrphanColours(destination[..length]);
        return NormaliseLineBreaks(destination[..length]);
    }

    /// <summary>The lines of a text whose line breaks are '\n' only (as <see cref="StripAnsi"/> leaves them).</summary>
    public static List<Range> Lines(ReadOnlySpan<char> text)
    {
        var lines = new List<Range>(text.Count('\n') + 1);
        var start = 0;
        while (start <= text.Length)
        {
            var next = start < text.Length ? text[start..].IndexOf('\n') : -1;
            if (next >= 0)
            {
                next += start;
            }

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

    private static int RemoveEscapes(Span<char> text) => Compact(text, Escape, EscapeLength);

    /// <summary>
    /// The length of the escape sequence at the start of <paramref name="at"/> (which starts with ESC), or 0 when it
    /// is none: CSI <c>ESC [ params intermediates final</c>, OSC <c>ESC ] … BEL</c> or <c>ESC ] … ESC \</c>, or a
    /// two-character <c>ESC</c> + one of '@'–'Z', '\'–'_'.
    /// </summary>
    private static int EscapeLength(ReadOnlySpan<char> at)
    {
        if (at.Length < 2)
        {
            return 0;
        }

        if (at[1] == '[')
        {
            var i = 2;
            while (i < at.Length && at[i] is >= '0' and <= '?')
            {
                i++;
            }

            while (i < at.Length && at[i] is >= ' ' and <= '/')
            {
                i++;
            }

            return i < at.Length && at[i] is >= '@' and <= '~' ? i + 1 : 0;
        }

        if (at[1] == ']')
        {
            var end = at[2..].IndexOfAny(OscEnd);
            if (end >= 0)
            {
                var i = 2 + end;
                if (at[i] == Bell)
                {
                    return i + 1;
                }

                if (i + 1 < at.Length && at[i + 1] == '\\')
                {
                    return i + 2;
                }
            }

            // An OSC that does not end is left as ESC + ']', itself a two-character sequence.
            return 2;
        }

        return at[1] is >= '@' and <= 'Z' or >= '\\' and <= '_' ? 2 : 0;
    }

    private static int RemoveFoldMarkers(Span<char> text)
    {
        var length = Compact(text, 't', TravisMarker, "travis_");
        length = Compact(text[..length], '#', GitHubMarker, "##[");
        return Compact(text[..length], 's', GitLabMarker, "section_");
    }

    private static int RemoveOrphanColours(Span<char> text) => Compact(text, '[', OrphanColourLength);

    // "[1;31m", "[0m", "[m": '[', then at most five numbers of one to three digits apart by ';', then 'm'.
    private static int OrphanColourLength(ReadOnlySpan<char> at)
    {
        var i = 1;
        var numbers = 0;
        while (numbers < 5)
        {
            var digits = 0;
            while (i + digits < at.Length && char.IsDigit(at[i + digits]))
            {
                digits++;
            }

            if (digits is 0 or > 3)
            {
                if (digits > 3 || numbers > 0)
                {
                    return 0;
                }

                break;
            }

            i += digits;
            numbers++;
            if (numbers == 5 || i >= at.Length || at[i] != ';')
            {
                break;
            }

            i++;
        }

        return i < at.Length && at[i] == 'm' ? i + 1 : 0;
    }

    // "\r\n" becomes "\n", a lone '\r' (a progress bar redrawing its line) becomes '\n'.
    private static int NormaliseLineBreaks(Span<char> text)
    {
        var length = Compact(text, '\r', at => at.Length > 1 && at[1] == '\n' ? 1 : 0);
        text[..length].Replace('\r', '\n');
        return length;
    }

    /// <summary>
    /// Removes, left to right, every sequence that starts with <paramref name="first"/> (or <paramref name="prefix"/>)
    /// and that <paramref name="measure"/> gives a length, moving the rest down; returns the new length.
    /// </summary>
    private static int Compact(Span<char> text, char first, Measure measure, string? prefix = null)
    {
        var next = Next(text, 0);
        if (next < 0)
        {
            return text.Length;
        }

        var write = next;
        var read = next;
        while (next >= 0)
        {
            var length = measure(text[next..]);
            if (length > 0)
            {
                text[read..next].CopyTo(text[write..]);
                write += next - read;
                read = next + length;
            }

            next = Next(text, next + Math.Max(length, 1));
        }

        text[read..].CopyTo(text[write..]);
        return write + text.Length - read;

        int Next(Span<char> span, int from)
        {
            if (from >= span.Length)
            {
                return -1;
            }

            var found = prefix is null ? span[from..].IndexOf(first) : span[from..].IndexOf(prefix, StringComparison.Ordinal);
            return found < 0 ? -1 : from + found;
        }
    }

    private delegate int Measure(ReadOnlySpan<char> at);

    // travis_fold:start:install.1 / travis_time:end:0a1b2c:start=…, to the end of the line.
    private static int TravisMarker(ReadOnlySpan<char> at)
    {
        var rest = at["travis_".Length..];
        if (!rest.StartsWith("fold:", StringComparison.Ordinal) && !rest.StartsWith("time:", StringComparison.Ordinal))
        {
            return 0;
        }

        var i = "travis_".Length + "fold:".Length;
        var word = i;
        while (i < at.Length && at[i] is >= 'a' and <= 'z')
        {
            i++;
        }

        return i > word && i < at.Length && at[i] == ':' ? ToLineEnd(at, i + 1) : 0;
    }

    private static int GitHubMarker(ReadOnlySpan<char> at) =>
        at.StartsWith("##[group]", StringComparison.Ordinal) ? "##[group]".Length
        : at.StartsWith("##[endgroup]", StringComparison.Ordinal) ? "##[endgroup]".Length
        : 0;

    // section_start:1700000000:build_script, to the end of the line.
    private static int GitLabMarker(ReadOnlySpan<char> at)
    {
        var rest = at["section_".Length..];
        var i = rest.StartsWith("start:", StringComparison.Ordinal) ? "section_start:".Length
            : rest.StartsWith("end:", StringComparison.Ordinal) ? "section_end:".Length
            : 0;
        if (i == 0)
        {
            return 0;
        }

        var digits = i;
        while (i < at.Length && char.IsDigit(at[i]))
        {
            i++;
        }

        return i > digits && i < at.Length && at[i] == ':' ? ToLineEnd(at, i + 1) : 0;
    }

    private static int ToLineEnd(ReadOnlySpan<char> at, int from)
    {
        var end = at[from..].IndexOfAny(LineEnd);
        return end < 0 ? at.Length : from + end;
    }
}
