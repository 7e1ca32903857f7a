using System.Buffers;
using System.Text;
using Triage.Platform.Text;

namespace Triage.Router.Excerpts;

/// <summary>The lines of a log that explain its failure, and where each came from (0-based line of the cleaned log).</summary>
public sealed record Excerpt(string Text, IReadOnlyList<int> SourceLines, int LogLines)
{
    public static Excerpt Empty { get; } = new(string.Empty, [], 0);
}

/// <summary>
/// Finds the part of a build log that explains the failure. A log of several megabytes mostly says what went
/// right; the reason is in a few blocks around the markers that compilers, test runners and package managers
/// print (error, FAIL, exception, traceback…), usually near the end but rarely at the very end, where CI prints
/// its closing boilerplate ("The command … exited with 1"). So: every marker line seeds a block with a little
/// context before it and its continuation after it (indented lines, stack frames); blocks are ranked by how
/// strongly they mark a failure and by how late they come, and the best ones fill a budget of lines and bytes.
/// The result, in log order, is what the provider sees and what the cache compares.
/// </summary>
public static class FailureExcerpt
{
    public const int MaxLines = 160;
    public const int MaxBytes = 10 * 1024;
    public const int MaxLineLength = 400;

    private const int ContextBefore = 2;
    private const int ContextAfter = 3;
    private const int MaxContinuation = 40;
    private const int MaxFrames = 200;
    private const int MaxExitBlocks = 3;
    private const int ExitContext = 12;
    private const int MaxBlockLines = 40;
    private const int WholeLogLines = 60;
    private const int WholeLogChars = 6 * 1024;
    private const int Strong = 2;

    /// <summary>A gap between two kept blocks is marked so that neither a reader nor a model joins them up.</summary>
    public const string Gap = "…";

    public static string From(string log) => Extract(log).Text;

    public static Excerpt Extract(string log) => Extract(log, MaxLines, MaxBytes, focus: false);

    /// <summary>
    /// The few lines of an excerpt that say what failed: the cache compares these, not the context around them,
    /// which varies from run to run of the same failure (an apt mirror that timed out once, a test that printed
    /// more on one run). Computed from the excerpt's text alone, so the excerpt a router stores or a sender
    /// already cut gives the same focus.
    /// </summary>
    public static string Focus(string excerpt) => Extract(excerpt, FocusLines, FocusBytes, focus: true).Text;

    public const int FocusLines = 40;
    public const int FocusBytes = 3 * 1024;

    /// <param name="focus">Only the step CI reported as failed, when there is one; never the whole text because it is short.</param>
    private static Excerpt Extract(string log, int maxLines, int maxBytes, bool focus)
    {
        if (string.IsNullOrEmpty(log))
        {
            return Excerpt.Empty;
        }

        // The clean log lives in a pooled buffer: only the excerpt, a few KB of it, becomes a string.
        var buffer = ArrayPool<char>.Shared.Rent(log.Length);
        try
        {
            // Sized once: a log of megabytes has tens of thousands of lines, and a list that grows copies them all again.
            var lines = new List<Range>(log.AsSpan().Count('\n') + log.AsSpan().Count('\r') + 1);
            return Extract(buffer.AsMemory(0, LogText.StripAnsi(log, buffer, lines)), lines, maxLines, maxBytes, focus);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private static Excerpt Extract(ReadOnlyMemory<char> text, List<Range> lines, int maxLines, int maxBytes, bool focus)
    {
        if (lines.Count == 0)
        {
            return Excerpt.Empty;
        }

        if (!focus && lines.Count <= WholeLogLines && text.Length <= WholeLogChars)
        {
            // A short log costs little more than its excerpt and every line of it is context.
            var all = new bool[lines.Count];
            Array.Fill(all, true);
            return Render(text, lines, all);
        }

        var weights = new int[lines.Count];
        foreach (var i in FailureMarkers.CandidateLines(text.Span, lines))
        {
            weights[i] = FailureMarkers.Weight(text.Span[lines[i]]);
        }

        var exits = ExitBlocks(text, lines).ToList();
        var lastExit = exits.Count > 0 ? exits[0].End : lines.Count;
        var failedSteps = exits.Select(e => FailedStep(text, lines, e.End - 1)).ToList();
        var ranked = exits.Select(b => (Block: b, Rank: 0)).Concat(Blocks(text, lines, weights)
            .Select(b => (Block: b, Rank: Rank(b, failedSteps, lastExit)))
            .Where(b => !focus || failedSteps.Count == 0 || b.Rank <= InFailedStep)
            .OrderBy(b => b.Rank)
            .ThenByDescending(b => b.Block.End))
            .ToList();
        var keep = new bool[lines.Count];
        var budget = new Budget(text, lines, maxLines, maxBytes);

        // The command of each failed step: the reader learns what failed, and the focus where the step began.
        foreach (var step in failedSteps)
        {
            if (FailureMarkers.StartsStep(text.Span[lines[step.Start]]) && budget.Take(step.Start))
            {
                keep[step.Start] = true;
            }
        }

        // Every strong block gets its first lines, then the best one up to half the budget (the long trace of the
        // failure itself), then the weak markers their first lines; what is left goes to the rest of the long
        // blocks, strong before weak.
        var strong = ranked.Where(b => b.Rank < Weak).Select(b => b.Block).ToList();
        var weak = ranked.Where(b => b.Rank >= Weak).Select(b => b.Block).ToList();
        Keep(strong, MaxBlockLines);
        Keep(strong.Take(1), maxLines / 2);
        Keep(weak, MaxBlockLines);
        Keep(strong, int.MaxValue);
        Keep(weak, int.MaxValue);

        if (!keep.Contains(true))
        {
            // Nothing marks the failure: the end of the log is the best guess.
            for (var i = lines.Count - 1; i >= 0 && budget.Take(i); i--)
            {
                keep[i] = true;
            }
        }

        return Render(text, lines, keep);

        void Keep(IEnumerable<Block> blocks, int linesEach)
        {
            foreach (var block in blocks)
            {
                var end = block.End - block.Start <= linesEach ? block.End : block.Start + linesEach;
                for (var i = block.Start; i < end; i++)
                {
                    if (!keep[i] && budget.Take(i))
                    {
                        keep[i] = true;
                    }
                }
            }
        }
    }

    private static List<Block> Blocks(ReadOnlyMemory<char> text, List<Range> lines, int[] weights)
    {
        var blocks = new List<Block>();
        var i = 0;
        while (i < lines.Count)
        {
            if (weights[i] <= 0)
            {
                i++;
                continue;
            }

            var start = Math.Max(0, i - ContextBefore);
            var first = i;
            var strength = 0;
            if (blocks.Count > 0 && blocks[^1].End >= start)
            {
                start = blocks[^1].Start;
                first = blocks[^1].First;
                strength = blocks[^1].Strength;
                blocks.RemoveAt(blocks.Count - 1);
            }

            var end = i;
            var continuation = 0;
            var frames = 0;
            while (end < lines.Count)
            {
                if (weights[end] > 0)
                {
                    strength = Math.Max(strength, weights[end]);
                    continuation = 0;
                }
                else if (FailureMarkers.IsFrame(text.Span[lines[end]]) && frames < MaxFrames)
                {
                    // A trace is as long as the code that threw made it, and its frames say where: they do not
                    // count as the loose lines a block may carry.
                    frames++;
                }
                else if (continuation < MaxContinuation && ContinuesBlock(text.Span, lines, end, first))
                {
                    continuation++;
                }
                else
                {
                    break;
                }

                end++;
            }

            // A marker among the context after the block seeds a block of its own, which joins this one.
            blocks.Add(new Block(start, Math.Min(lines.Count, end + ContextAfter), strength, first));
            i = Math.Max(end, i + 1);
        }

        return blocks;
    }

    /// <summary>
    /// A line carries on the block above it when it is indented or a frame, and also when it is blank or the header
    /// of a nested trace ("Caused: X", "Command Close created at") and a stack frame follows within two lines: the
    /// trace goes on. A tool that marks each of its lines ("= ==123==ERROR: AddressSanitizer" then "=     #0 0x…")
    /// carries on with lines that start with the same mark and then a space.
    /// </summary>
    private static bool ContinuesBlock(ReadOnlySpan<char> text, List<Range> lines, int line, int marker)
    {
        var span = text[lines[line]];
        if (FailureMarkers.Continues(span) || FailureMarkers.SameDecoration(span, text[lines[marker]]))
        {
            return true;
        }

        return line + 1 < lines.Count && FailureMarkers.IsFrame(text[lines[line + 1]])
            || line + 2 < lines.Count && FailureMarkers.IsFrame(text[lines[line + 2]]);
    }

    // Blocks inside a step CI reported as failed explain it best, strong markers before weak ones; then strong
    // markers elsewhere before the last failure (an earlier step that printed errors and carried on), then what
    // came after it (clean-up, caches, after-failure scripts), then the weak markers anywhere.
    private const int InFailedStep = 1;
    private const int Weak = 4;

    private static int Rank(Block block, List<(int Start, int End)> failedSteps, int lastExit)
    {
        var inFailedStep = failedSteps.Exists(s => block.First > s.Start && block.First < s.End);
        return (inFailedStep, block.Strength == Strong, block.End <= lastExit) switch
        {
            (true, true, _) => 0,
            (true, false, _) => 1,
            (false, true, true) => 2,
            (false, true, false) => 3,
            _ => Weak,
        };
    }

    /// <summary>
    /// The lines of the step whose failed exit is at <paramref name="exit"/>: back to the command that started it
    /// ("$ make test" in Travis and GitLab) or to the end of the step before.
    /// </summary>
    private static (int Start, int End) FailedStep(ReadOnlyMemory<char> text, List<Range> lines, int exit)
    {
        for (var i = exit - 1; i >= 0; i--)
        {
            var line = text.Span[lines[i]];
            if (FailureMarkers.StartsStep(line) || FailureMarkers.IsExit(line))
            {
                return (i, exit + 1);
            }
        }

        return (0, exit + 1);
    }

    /// <summary>
    /// The last lines a failing command printed before CI reported its non-zero exit ("The command … exited with 1",
    /// "Process completed with exit code 1", "Job failed: exit code 1"): where a tool without markers says why.
    /// </summary>
    private static IEnumerable<Block> ExitBlocks(ReadOnlyMemory<char> text, List<Range> lines)
    {
        var found = 0;
        var candidates = FailureMarkers.ExitCandidateLines(text.Span, lines);
        for (var c = candidates.Count - 1; c >= 0 && found < MaxExitBlocks; c--)
        {
            var i = candidates[c];
            if (!FailureMarkers.IsFailedExit(text.Span[lines[i]]))
            {
                continue;
            }

            found++;
            var start = i;
            var taken = 0;
            while (start > 0 && taken < ExitContext)
            {
                start--;
                if (!text.Span[lines[start]].IsWhiteSpace())
                {
                    taken++;
                }
            }

            yield return new Block(start, i + 1, Strong, i);
        }
    }

    private static Excerpt Render(ReadOnlyMemory<char> text, List<Range> lines, bool[] keep)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxBytes) + 4 * MaxLines);
        var sources = new List<int>();
        var previous = -1;
        for (var i = 0; i < lines.Count; i++)
        {
            if (!keep[i])
            {
                continue;
            }

            if (builder.Length > 0)
            {
                builder.Append('\n');
                if (i != previous + 1)
                {
                    builder.Append(Gap).Append('\n');
                }
            }

            var line = text.Span[lines[i]].TrimEnd();
            builder.Append(line.Length > MaxLineLength ? line[..MaxLineLength] : line);
            if (line.Length > MaxLineLength)
            {
                builder.Append(" …");
            }

            sources.Add(i);
            previous = i;
        }

        return new Excerpt(builder.ToString(), sources, lines.Count);
    }

    /// <param name="Strength">The strongest marker in the block: <see cref="Strong"/> or weaker.</param>
    /// <param name="First">The block's first marker line; the lines before it are context.</param>
    private readonly record struct Block(int Start, int End, int Strength, int First);

    private sealed class Budget(ReadOnlyMemory<char> text, List<Range> lines, int maxLines, int maxBytes)
    {
        private int count;
        private int bytes;

        public bool Take(int line)
        {
            var length = Math.Min(text.Span[lines[line]].TrimEnd().Length, MaxLineLength + 2);
            if (count + 1 > maxLines || bytes + length + 1 > maxBytes)
            {
                return false;
            }

            count++;
            bytes += length + 1;
            return true;
        }
    }
}

/// <summary>The words build tools print when something failed, and the lines that merely carry on a block.</summary>
internal static class FailureMarkers
{
    // Vectorised searches over the whole log find the lines worth a closer look; the finer checks below run only
    // on those. Two sets of half the words each search faster than one of all of them (35 against 80 µs on a
    // median log), and the symbols have a search of their own: a non-ASCII value would make a set scalar.
    private static readonly SearchValues<string>[] Candidates =
    [
        SearchValues.Create(
            [
                "error", "fail", "exception", "traceback", "panic", "fatal", "assert", "expected", "cannot ", "can't ",
                "could not", "couldn't", "unable to", "not found", "no such file", "undefined", "segmentation fault",
            ],
            StringComparison.OrdinalIgnoreCase),
        SearchValues.Create(
            [
                "timed out", "timeout", "killed", "denied", "unexpected", "invalid", "missing", "abort", "not ok",
                "refused", "unresolved", "conflict", "mismatch", "npm err!", "caused by", "warning", "violation", "** (",
            ],
            StringComparison.OrdinalIgnoreCase),
    ];

    private static readonly SearchValues<char> Symbols = SearchValues.Create("✗✖×");

    // A search set of one word: string.IndexOf ignoring case runs scalar under invariant globalization (20 times
    // slower on a median log), the set does not.
    private static readonly SearchValues<string> Exit = SearchValues.Create(["exit"], StringComparison.OrdinalIgnoreCase);

    private static readonly SearchValues<string> Strong = SearchValues.Create(
        ["error", "fail", "exception", "traceback", "panic", "fatal", "assert", "caused by", "not ok", "✗", "✖", "** ("],
        StringComparison.OrdinalIgnoreCase);

    private static readonly string[] Boilerplate =
    [
        "The command \"", "Done. Your build exited with", "[ERROR] -> [Help", "[ERROR] To see the full stack trace",
        "[ERROR] Re-run Maven", "[ERROR] For more information about the errors", "[ERROR] [Help ",
        "npm ERR! A complete log of this run", "npm ERR! Please include", "npm ERR! This is probably not a problem",
        "npm ERR! Tell the author", "npm ERR! You can get information on how to open an issue", "npm ERR! not with npm itself",
        "npm ERR!     <https://", "npm ERR!     npm owner ls", "npm ERR! There is likely additional logging output above",
        "##[error]Process completed with exit code", "ERROR: Job failed: exit code", "Build step '", "Finished: FAILURE",
        "Run with --stacktrace option", "Run with --info or --debug", "Run with --scan", "Get more help at https://help.gradle.org",
        "Your build has been stopped", "Stopping the build", "store build cache", "attempting to upload", "Uploading ",
        "ERROR: Uploading artifacts", "travis_", "$ ",
    ];

    private static readonly SearchValues<string> NoFailure = SearchValues.Create(
        [
            "Failures: 0, Errors: 0", "0 failed", "0 errors", "0 failures", "failed: 0", "errors: 0", "error_reporting",
            "failures=0", "errors=0", "0 error(s)", "Warning(s)", "ignore-errors", "on_failure",
        ],
        StringComparison.OrdinalIgnoreCase);

    private static readonly SearchValues<string> Warning = SearchValues.Create([": warning"], StringComparison.OrdinalIgnoreCase);

    /// <summary>2 for a strong failure marker, 1 for a weaker one, 0 for none or for closing boilerplate.</summary>
    public static int Weight(ReadOnlySpan<char> line)
    {
        if (!HasCandidate(line))
        {
            return 0;
        }

        var trimmed = Body(line).TrimStart();
        foreach (var phrase in Boilerplate)
        {
            if (trimmed.StartsWith(phrase, StringComparison.Ordinal))
            {
                return 0;
            }
        }

        // Sets, not string.Contains ignoring case: that runs scalar under invariant globalization.
        if (line.ContainsAny(NoFailure) || IsZeroCount(trimmed) || IsPassedTest(trimmed))
        {
            return 0;
        }

        // Warnings rarely fail a build on their own (linters and -Werror aside): never a strong marker.
        if (trimmed.StartsWith("[warn", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("warning", StringComparison.OrdinalIgnoreCase)
            || line.ContainsAny(Warning))
        {
            return 1;
        }

        return line.IndexOfAny(Strong) >= 0 ? 2 : 1;
    }

    /// <summary>
    /// A test runner's report of a test that passed or did not run, whatever its name says ("can display errors:
    /// 66.16 ms OK", "test_fails_on_bad_input PASSED", "✓ rejects an invalid token", "ok 12 - fails without a key",
    /// ScalaTest's "[info] - rejects a bad header" and "… !!! IGNORED !!!").
    /// </summary>
    private static bool IsPassedTest(ReadOnlySpan<char> line)
    {
        var end = line.TrimEnd();
        if (end.EndsWith("!!! IGNORED !!!", StringComparison.Ordinal) || end.EndsWith(" SKIPPED", StringComparison.Ordinal)
            || end.EndsWith(" SKIP", StringComparison.Ordinal)
            || line.StartsWith("[info] - ", StringComparison.Ordinal) && !end.EndsWith("***", StringComparison.Ordinal))
        {
            return true;
        }

        if (end.EndsWith(')') && end.LastIndexOf(" OK (", StringComparison.Ordinal) is var timed and >= 0 && end[(timed + 5)..].IndexOf('(') < 0)
        {
            // hspec: "responds with an error if …:   OK (0.01s)"
            return true;
        }

        if (end.EndsWith(" OK", StringComparison.Ordinal) || end.EndsWith(" PASSED", StringComparison.Ordinal)
            || end.EndsWith("[PASS]", StringComparison.Ordinal) || end.EndsWith(" ... ok", StringComparison.Ordinal))
        {
            return true;
        }

        return line.StartsWith("✓ ", StringComparison.Ordinal) || line.StartsWith("✔ ", StringComparison.Ordinal)
            || line.StartsWith("--- PASS", StringComparison.Ordinal) || line.StartsWith("PASS ", StringComparison.Ordinal)
            || line.StartsWith("ok ", StringComparison.Ordinal) && line.Length > 3 && char.IsAsciiDigit(line[3]);
    }

    /// <summary>A count that says nothing failed: "Number of failures in tests: 0", "errors = 0".</summary>
    private static bool IsZeroCount(ReadOnlySpan<char> line)
    {
        line = line.TrimEnd();
        if (line.Length < 3 || line[^1] != '0' || char.IsAsciiDigit(line[^2]) || line[^2] == '.')
        {
            return false;
        }

        var before = line[..^1].TrimEnd();
        return before.Length > 0 && before[^1] is ':' or '=';
    }

    /// <summary>A marker that starts a word: "errors" and "Error:" count, "Test_let_errors" and "stderr" do not.</summary>
    private static bool HasCandidate(ReadOnlySpan<char> line)
    {
        var offset = 0;
        while (offset < line.Length)
        {
            var found = NextCandidate(line[offset..]);
            if (found < 0)
            {
                return false;
            }

            var at = offset + found;
            if ((at == 0 || !IsNamePart(line[at - 1])) && !InName(line[at..]))
            {
                return true;
            }

            offset = at + 1;
        }

        return false;
    }

    /// <summary>The lines of <paramref name="text"/> with a candidate marker somewhere in them, in order.</summary>
    public static List<int> CandidateLines(ReadOnlySpan<char> text, List<Range> lines)
    {
        var found = new List<int>();
        foreach (var words in Candidates)
        {
            Mark(text, lines, found, span => span.IndexOfAny(words));
        }

        Mark(text, lines, found, span => span.IndexOfAny(Symbols));
        return InOrder(found);
    }

    /// <summary>The lines that may be CI's report of an exit: every phrase of <see cref="IsFailedExit"/> has "exit".</summary>
    public static List<int> ExitCandidateLines(ReadOnlySpan<char> text, List<Range> lines)
    {
        var found = new List<int>();
        Mark(text, lines, found, span => span.IndexOfAny(Exit));
        return found;
    }

    // Each search finds its lines in order; lines that more than one search found appear once.
    private static List<int> InOrder(List<int> found)
    {
        found.Sort();
        var distinct = 0;
        for (var i = 0; i < found.Count; i++)
        {
            if (i == 0 || found[i] != found[i - 1])
            {
                found[distinct++] = found[i];
            }
        }

        found.RemoveRange(distinct, found.Count - distinct);
        return found;
    }

    private static void Mark(ReadOnlySpan<char> text, List<Range> lines, List<int> found, Search search)
    {
        var offset = 0;
        while (offset < text.Length)
        {
            var at = search(text[offset..]);
            if (at < 0)
            {
                return;
            }

            var line = LineOf(lines, offset + at);
            found.Add(line);
            offset = lines[line].End.Value + 1;
        }
    }

    private delegate int Search(ReadOnlySpan<char> text);

    private static int LineOf(List<Range> lines, int position)
    {
        var (low, high) = (0, lines.Count - 1);
        while (low < high)
        {
            var middle = (low + high + 1) / 2;
            if (lines[middle].Start.Value <= position)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }

    private static int NextCandidate(ReadOnlySpan<char> line)
    {
        var next = line.IndexOfAny(Symbols);
        foreach (var words in Candidates)
        {
            var word = line.IndexOfAny(words);
            next = word >= 0 && (next < 0 || word < next) ? word : next;
        }

        return next;
    }

    private static bool IsNamePart(char c) => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or '/' or '\\';

    // "exceptions_test.rb", "error/handler.go", "ErrorHandler.java", "exceptions-0.10.0", "assertDoesNotThrow",
    // "assertj-core": a file, a name or a package, not a report of a failure; "timeout=10", "fail-fast=true": a setting.
    private static bool InName(ReadOnlySpan<char> fromMarker)
    {
        var word = 0;
        while (word < fromMarker.Length && char.IsLetter(fromMarker[word]))
        {
            if (word > 0 && char.IsUpper(fromMarker[word]) && char.IsLower(fromMarker[word - 1]))
            {
                return true;
            }

            word++;
        }

        if (word > "assert".Length && fromMarker.StartsWith("assert", StringComparison.OrdinalIgnoreCase)
            && !fromMarker.StartsWith("assertion", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var next = word + 1 < fromMarker.Length ? fromMarker[word + 1] : ' ';
        return word < fromMarker.Length
            && (fromMarker[word] is '_' or '/' or '\\' or '=' || fromMarker[word] == '.' && char.IsLetter(next) || fromMarker[word] == '-' && char.IsAsciiDigit(next));
    }

    /// <summary>CI's own report that the step failed, in the words of Travis, GitHub Actions, GitLab and Jenkins.</summary>
    public static bool IsFailedExit(ReadOnlySpan<char> line)
    {
        // Travis's last line repeats the job's result; the step that failed has said so already.
        if (Body(line).StartsWith("Done. Your build exited", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var phrase in ExitPhrases)
        {
            var at = line.IndexOf(phrase, StringComparison.OrdinalIgnoreCase);
            if (at < 0)
            {
                continue;
            }

            var rest = line[(at + phrase.Length)..].TrimStart();
            return rest.Length > 0 && char.IsAsciiDigit(rest[0]) && rest[0] != '0' || rest.Length > 1 && rest[0] == '0' && char.IsAsciiDigit(rest[1]);
        }

        return false;
    }

    /// <summary>CI's report that a step ended, whatever its exit code.</summary>
    public static bool IsExit(ReadOnlySpan<char> line)
    {
        var body = Body(line);
        return body.StartsWith("The command \"", StringComparison.Ordinal) && body.Contains("\" exited with ", StringComparison.Ordinal)
            || body.StartsWith("##[error]Process completed with exit code", StringComparison.Ordinal);
    }

    /// <summary>The line CI prints when it starts a step: the command itself.</summary>
    public static bool StartsStep(ReadOnlySpan<char> line) => Body(line).StartsWith("$ ", StringComparison.Ordinal);

    /// <summary>
    /// Whether <paramref name="line"/> starts with the symbols that start <paramref name="marker"/> ("=", "|", "#>")
    /// followed by a space: the prefix a tool or a CI script puts before each line it prints.
    /// </summary>
    public static bool SameDecoration(ReadOnlySpan<char> line, ReadOnlySpan<char> marker)
    {
        line = Body(line);
        marker = Body(marker);
        var length = 0;
        while (length < marker.Length && length < 4 && (char.IsPunctuation(marker[length]) || char.IsSymbol(marker[length])))
        {
            length++;
        }

        return length > 0 && length < marker.Length && marker[length] == ' '
            && line.Length > length + 1 && line.StartsWith(marker[..length], StringComparison.Ordinal) && line[length] == ' '
            && !line[length..].IsWhiteSpace();
    }

    /// <summary>
    /// A stack frame: "at X(File.java:12)", "... 4 more" (Java, .NET, JavaScript), "#3 0x4fb97b in free" (gdb and
    /// the sanitizers), whatever the indent.
    /// </summary>
    public static bool IsFrame(ReadOnlySpan<char> line)
    {
        var body = Body(line).TrimStart();
        return body.StartsWith("at ", StringComparison.Ordinal)
            || body.StartsWith("... ", StringComparison.Ordinal) && body.EndsWith(" more", StringComparison.Ordinal)
            || body.Length > 3 && body[0] == '#' && char.IsAsciiDigit(body[1]) && body[2..].TrimStart("0123456789").StartsWith(" 0x", StringComparison.Ordinal);
    }

    /// <summary>
    /// The line without the time stamp CI may put before every line ("2022-05-30T09:11:02.8577255Z " in GitHub
    /// Actions, "[2024-01-02T10:11:12.345Z] " from Jenkins' timestamper): the checks that look at how a line starts
    /// look at what the tool printed.
    /// </summary>
    public static ReadOnlySpan<char> Body(ReadOnlySpan<char> line)
    {
        var at = line.Length > 0 && line[0] == '[' ? 1 : 0;
        if (line.Length < at + 20 || !IsDate(line.Slice(at, 10)) || line[at + 10] is not ('T' or ' ') || !IsTime(line.Slice(at + 11, 8)))
        {
            return line;
        }

        at += 19;
        while (at < line.Length && (char.IsAsciiDigit(line[at]) || line[at] is '.' or ',' or 'Z' or '+' or '-' or ':'))
        {
            at++;
        }

        if (at < line.Length && line[at] == ']' && line[0] == '[')
        {
            at++;
        }

        return at < line.Length && line[at] == ' ' ? line[(at + 1)..] : at == line.Length ? [] : line;
    }

    private static bool IsDate(ReadOnlySpan<char> s) =>
        char.IsAsciiDigit(s[0]) && char.IsAsciiDigit(s[1]) && char.IsAsciiDigit(s[2]) && char.IsAsciiDigit(s[3]) && s[4] == '-'
        && char.IsAsciiDigit(s[5]) && char.IsAsciiDigit(s[6]) && s[7] == '-' && char.IsAsciiDigit(s[8]) && char.IsAsciiDigit(s[9]);

    private static bool IsTime(ReadOnlySpan<char> s) =>
        char.IsAsciiDigit(s[0]) && char.IsAsciiDigit(s[1]) && s[2] == ':' && char.IsAsciiDigit(s[3]) && char.IsAsciiDigit(s[4])
        && s[5] == ':' && char.IsAsciiDigit(s[6]) && char.IsAsciiDigit(s[7]);

    private static readonly string[] ExitPhrases = ["exited with", "exit code", "exit status", "returned exit code"];

    /// <summary>Indented lines, stack frames and pytest's "E" lines belong to the block above them.</summary>
    public static bool Continues(ReadOnlySpan<char> line)
    {
        line = Body(line);
        if (line.IsEmpty)
        {
            return false;
        }

        if (line[0] is ' ' or '\t')
        {
            return !line.IsWhiteSpace();
        }

        // An indented line behind a level tag: "[info]   at com.example.Foo.bar(Foo.scala:12)", "[ERROR]     symbol: x".
        if (line[0] == '[' && line.IndexOf(']') is > 1 and < 10 and var tag && line.Length > tag + 3
            && line[tag + 1] == ' ' && line[tag + 2] is ' ' or '\t' && !line[(tag + 1)..].IsWhiteSpace())
        {
            return true;
        }

        return line.StartsWith("at ", StringComparison.Ordinal)
            || line.StartsWith("E ", StringComparison.Ordinal)
            || line.StartsWith("|", StringComparison.Ordinal)
            || line.StartsWith("...", StringComparison.Ordinal)
            || line.StartsWith("Caused by", StringComparison.Ordinal)
            || line.StartsWith("[ERROR]", StringComparison.Ordinal)
            || line.StartsWith("npm ERR!", StringComparison.Ordinal);
    }
}
