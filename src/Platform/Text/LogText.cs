using System.Buffers;

namespace Triage.Platform.Text;

/// <summary>Build logs as they arrive from CI: coloured, folded, with carriage-return progress bars.</summary>
/// <remarks>
/// A log of several megabytes passes through here on every failure, so the cleaning is a copy that jumps from one
/// escape character, fold marker or line break to the next with vectorised searches, instead of a regular
/// expression pass per kind of noise (which cost 1.5 µs per KB, most of it in building the replaced text).
/// </remarks>
public static class LogText
{
    private const char Escape = '\x1B';
    private const char Bell = '\x07';

    private static readonly SearchValues<char> OscEnd = SearchValues.Create([Bell, Escape]);
    private static readonly SearchValues<char> LineEnd = SearchValues.Create("\r\n");
    private static readonly SearchValues<string> FoldMarker = SearchValues.Create(["travis_", "##[", "section_"], StringComparison.Ordinal);

    // What any of the passes acts on; a log without any of these is already clean.
    private static readonly SearchValues<char> Noise = SearchValues.Create("\x1B[\r_#");

    /// <summary>
    /// Removes ANSI escape sequences (CSI, OSC and two-character ones), then CI fold markers (Travis's
    /// <c>travis_fold</c>/<c>travis_time</c>, GitHub's <c>##[group]</c>, GitLab's <c>section_start</c>), then colour codes
    /// that lost their escape character; line breaks become '\n'.
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
    public static int StripAnsi(ReadOnlySpan<char> log, Span<char> destination) => StripAnsi(log, destination, lines: null);

    /// <summary>
    /// <see cref="StripAnsi(ReadOnlySpan{char}, Span{char})"/> that also adds to <paramref name="lines"/> what
    /// <see cref="Lines"/> would find in the clean text: the last pass meets every line break anyway.
    /// </summary>
    public static int StripAnsi(ReadOnlySpan<char> log, Span<char> destination, List<Range>? lines)
    {
        var length = Compact<EscapeSequence>(log, destination, Escape);
        length = RemoveFoldMarkers(destination[..length]);
        length = Compact<OrphanColour>(destination[..length], destination, '[');
        return NormaliseLineBreaks(destination[..length], lines);
    }

    /// <summary>The lines of a text whose line breaks are '\n' only (as <see cref="StripAnsi(string)"/> leaves them).</summary>
    public static List<Range> Lines(ReadOnlySpan<char> text)
    {
        var lines = new List<Range>(text.Count('\n') + 1);
        var breaks = new CharPositions(text, '\n');
        var start = 0;
        while (breaks.MoveNext(out var next))
        {
            lines.Add(new Range(start, next));
            start = next + 1;
        }

        if (start < text.Length)
        {
            lines.Add(new Range(start, text.Length));
        }

        return lines;
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> (which may be the same memory) without the
    /// sequences that start with <paramref name="first"/> and that <typeparamref name="TSequence"/> gives a length,
    /// left to right; returns the length copied.
    /// </summary>
    private static int Compact<TSequence>(ReadOnlySpan<char> source, Span<char> destination, char first)
        where TSequence : struct, ISequence
    {
        var starts = new CharPositions(source, first);
        var (read, write) = (0, 0);
        while (starts.MoveNext(out var at))
        {
            var length = TSequence.Length(source[at..]);
            if (length == 0)
            {
                continue;
            }

            source[read..at].CopyTo(destination[write..]);
            write += at - read;
            read = at + length;
            starts.SkipTo(read);
        }

        source[read..].CopyTo(destination[write..]);
        return write + source.Length - read;
    }

    private interface ISequence
    {
        /// <summary>The length of the sequence at the start of <paramref name="at"/>, or 0 when there is none.</summary>
        static abstract int Length(ReadOnlySpan<char> at);
    }

    /// <summary>
    /// An ANSI escape sequence at the start of <c>at</c> (which starts with ESC): CSI <c>ESC [ params intermediates
    /// final</c>, OSC <c>ESC ] … BEL</c> or <c>ESC ] … ESC \</c>, nF <c>ESC intermediates final</c>, or a two-character
    /// <c>ESC</c> + one of '0'–'~'.
    /// </summary>
    private readonly struct EscapeSequence : ISequence
    {
        public static int Length(ReadOnlySpan<char> at) => EscapeLength(at);
    }

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

        if (at[1] is >= ' ' and <= '/')
        {
            // nF: intermediates and a final, as in "ESC ( B" (the character set that tput sgr0 selects).
            var i = 2;
            while (i < at.Length && at[i] is >= ' ' and <= '/')
            {
                i++;
            }

            return i < at.Length && at[i] is >= '0' and <= '~' ? i + 1 : 0;
        }

        // Fp, Fe and Fs: "ESC =" and "ESC >" (the keypad modes a pager sets), "ESC M", "ESC 7", "ESC c".
        return at[1] is >= '0' and <= '~' ? 2 : 0;
    }

    /// <summary>
    /// Removes the fold markers of <see cref="FoldMarkerLength"/>, left to right in one search for the three
    /// prefixes, moving the rest down; returns the new length.
    /// </summary>
    private static int RemoveFoldMarkers(Span<char> text)
    {
        var (read, write, from) = (0, 0, 0);
        while (from < text.Length)
        {
            var found = text[from..].IndexOfAny(FoldMarker);
            if (found < 0)
            {
                break;
            }

            var at = from + found;
            var length = FoldMarkerLength(text[at..]);
            if (length == 0)
            {
                from = at + 1;
                continue;
            }

            text[read..at].CopyTo(text[write..]);
            write += at - read;
            read = from = at + length;
        }

        text[read..].CopyTo(text[write..]);
        return write + text.Length - read;
    }

    private static int FoldMarkerLength(ReadOnlySpan<char> at) => at[0] switch
    {
        't' => TravisMarker(at),
        '#' => GitHubMarker(at),
        _ => GitLabMarker(at),
    };

    // "[1;31m", "[0m", "[m": '[', then at most five numbers of one to three digits apart by ';', then 'm'.
    private readonly struct OrphanColour : ISequence
    {
        public static int Length(ReadOnlySpan<char> at) => OrphanColourLength(at);
    }

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

    /// <summary>
    /// "\r\n" becomes "\n", a lone '\r' (a progress bar redrawing its line) becomes '\n'; each line, in the new
    /// text's positions, goes to <paramref name="lines"/> when it is given. Returns the new length.
    /// </summary>
    /// <remarks>
    /// Only the '\r' of a "\r\n" moves the text after it; a lone one is replaced where it stands, to be moved with
    /// the rest, which spares a copy for each line that a progress bar redraws.
    /// </remarks>
    private static int NormaliseLineBreaks(Span<char> text, List<Range>? lines)
    {
        var breaks = new CharPositions(text, '\r', '\n');
        var (read, write, line) = (0, 0, 0);
        while (breaks.MoveNext(out var at))
        {
            if (text[at] == '\r' && at + 1 < text.Length && text[at + 1] == '\n')
            {
                text[read..at].CopyTo(text[write..]);
                write += at - read;
                read = at + 1;
                continue;
            }

            text[at] = '\n';

            // Where this break lands once the text before it has moved down.
            var end = write + at - read;
            lines?.Add(new Range(line, end));
            line = end + 1;
        }

        text[read..].CopyTo(text[write..]);
        var length = write + text.Length - read;
        if (line < length)
        {
            lines?.Add(new Range(line, length));
        }

        return length;
    }

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
