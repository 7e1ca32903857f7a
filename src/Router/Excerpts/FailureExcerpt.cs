using System.Buffers;
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
    private const int MaxTailLines = 30;
    private const int WideningShareOfLog = 25;
    private const int WideningContext = 10;
    private const int WholeLogLines = 60;
    private const int WholeLogChars = 6 * 1024;
    private const int Strong = 2;
    private const int Verdict = 3;

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
            var text = buffer.AsMemory(0, LogText.StripAnsi(log, buffer, lines));
            var logLines = lines.Count;
            return Extract(text, lines, WithoutPipelineStructure(text.Span, lines), logLines, maxLines, maxBytes, focus);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Takes out the lines Jenkins prints about a pipeline's own structure ("[Pipeline] sh", "[Pipeline] }",
    /// "[Pipeline] // stage", "Stage \"Deploy\" skipped due to earlier failure(s)"): a dozen of them stand between a
    /// failed step's last output and the exit report at the end, where they would spend the context of the exit, and
    /// they are the same whatever failed. Null when there are none, or nothing else (then they are all there is to
    /// show); else the log line of each line left.
    /// </summary>
    private static int[]? WithoutPipelineStructure(ReadOnlySpan<char> text, List<Range> lines)
    {
        if (!text.Contains(FailureMarkers.PipelineStep, StringComparison.Ordinal))
        {
            return null;
        }

        var original = new List<int>(lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            if (!FailureMarkers.IsPipelineStructure(text[lines[i]]))
            {
                original.Add(i);
            }
        }

        if (original.Count == 0 || original.Count == lines.Count)
        {
            return null;
        }

        for (var left = 0; left < original.Count; left++)
        {
            lines[left] = lines[original[left]];
        }

        lines.RemoveRange(original.Count, lines.Count - original.Count);
        return [.. original];
    }

    /// <param name="original">The log line of each of <paramref name="lines"/>, when some lines were taken out.</param>
    /// <param name="logLines">How many lines the log has.</param>
    private static Excerpt Extract(ReadOnlyMemory<char> text, List<Range> lines, int[]? original, int logLines, int maxLines, int maxBytes, bool focus)
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
            return Render(text, lines, all, original, logLines);
        }

        var weights = new int[lines.Count];

        // Jenkins' close of a failed step has no "exit" but a "fail", so the marker search finds it: a search of its
        // own over the whole log would cost as much again as the one for "exit".
        var jenkinsCloses = new List<int>();
        foreach (var i in FailureMarkers.CandidateLines(text.Span, lines))
        {
            weights[i] = FailureMarkers.Weight(text.Span[lines[i]]);
            if (weights[i] == Verdict && i > 0 && FailureMarkers.IsHandled(text.Span[lines[i]], text.Span[lines[i - 1]]))
            {
                weights[i] = Strong;
            }
            else if (weights[i] >= Strong && i > 0 && FailureMarkers.ContinuesWarning(text.Span[lines[i]], text.Span[lines[i - 1]]))
            {
                weights[i] = 1;
            }
            else if (weights[i] == 0 && FailureMarkers.IsJenkinsFailedStep(text.Span[lines[i]]))
            {
                jenkinsCloses.Add(i);
            }
            else if (weights[i] == 0 && FailureMarkers.PassedTestClass(text.Span[lines[i]]))
            {
                PassedTests(text.Span, lines, weights, i);
            }
        }

        var exits = ExitBlocks(text, lines, jenkinsCloses).ToList();
        var lastExit = exits.Count > 0 ? exits[0].End : lines.Count;
        var failedSteps = exits.Select(e => FailedStep(text, lines, e.End - 1)).ToList();

        // A tool's verdicts come in the order it gave them only within one command ("$ mvn test"); a step whose
        // command CI did not print (a Jenkins shell script, a GitHub Actions step) may run many tools, and there
        // the latest verdicts are the closest to what failed it.
        var commands = failedSteps.Where(s => FailureMarkers.StartsStep(text.Span[lines[s.Start]])).ToList();
        bool InOneCommand(Block block) => commands.Exists(s => block.First > s.Start && block.First < s.End);
        var ranked = exits.Select(b => (Block: b, Rank: 0)).Concat(Blocks(text, lines, weights)
            .Select(b => (Block: b, Rank: Rank(b, failedSteps, lastExit)))
            .Where(b => !focus || failedSteps.Count == 0 || b.Rank <= InFailedStep)
            .OrderBy(b => b.Rank)
            .ThenBy(b => b.Rank == InFailedStepVerdict && InOneCommand(b.Block) ? b.Block.Start : -b.Block.End))
            .ToList();
        var keep = new bool[lines.Count];
        var budget = new Budget(text, lines, maxLines, maxBytes);
        var wideningShare = text.Length / WideningShareOfLog;

        // A block that repeats one already given its share in the same round (the same lines but for their numbers:
        // a trace logged once per test, a summary printed for every module) tells the reader nothing new, so it
        // waits for the last rounds and the budget goes to what differs. The focus keeps its copies: in their room
        // it would take lesser blocks, and those make different failures of one kind look alike.
        var given = focus ? null : new Given();

        // The command of each failed step: the reader learns what failed, and the focus where the step began.
        foreach (var step in failedSteps)
        {
            if (FailureMarkers.StartsStep(text.Span[lines[step.Start]]) && budget.Take(step.Start))
            {
                keep[step.Start] = true;
            }
        }

        // The closing lines of the failed steps get their first lines, then the best block up to half the budget
        // (the long trace of the failure itself, before a crowd of later blocks can spend it), then every other
        // strong block of a failed step its first lines and then the rest of it (a trace's frames say where the
        // failure came from, a weak marker beside it rarely does), then the weak blocks of a failed step their
        // first lines, then the lines above each failed step's close (where a tool without failure words says why:
        // it outranks a marker in a step that carried on, a settings list that mentions "error messages", a cache
        // that could not be fetched), then the other strong blocks their first lines, then the weak ones theirs;
        // what is left goes to the rest of the long blocks, strong first.
        var strong = ranked.Where(b => b.Rank < Weak).Select(b => b.Block).ToList();
        var weak = ranked.Where(b => b.Rank >= Weak).Select(b => b.Block).ToList();
        var strongInFailedStep = ranked.Where(b => b.Rank < InFailedStep).Select(b => b.Block).ToList();
        Keep(strong.Take(exits.Count), MaxBlockLines);
        Keep(strong.Skip(exits.Count).Take(1), maxLines / 2);
        Keep(strongInFailedStep, MaxBlockLines);
        Keep(strongInFailedStep, int.MaxValue);
        Keep(ranked.Where(b => b.Rank == InFailedStep).Select(b => b.Block), MaxBlockLines);
        var widening = !focus && WidenTails();
        Keep(strong, MaxBlockLines);
        Keep(weak, MaxBlockLines);
        Keep(strong, int.MaxValue);
        Keep(weak, int.MaxValue);
        if (widening)
        {
            Widen();
        }

        if (!keep.Contains(true))
        {
            // Nothing marks the failure: the end of the log is the best guess.
            for (var i = lines.Count - 1; i >= 0 && budget.Take(i); i--)
            {
                keep[i] = true;
            }
        }

        return Render(text, lines, keep, original, logLines);

        // Widening adds lines while the excerpt stays a small part of the log (so that its share stays under the bar
        // on any log): the lines above each failed step's closing lines, where a tool without failure words (a link
        // checker's list, a linter's report) says why; false once the share is spent.
        bool WidenTails()
        {
            for (var e = 0; e < exits.Count; e++)
            {
                if (!Take(exits[e].Start - 1, -1, MaxTailLines, failedSteps[e].Start))
                {
                    return false;
                }
            }

            return true;
        }

        // Then, with what the budget has left, the lines around each strong block, best first.
        void Widen()
        {
            foreach (var block in strong.Skip(exits.Count))
            {
                if (!Take(block.Start - 1, -1, WideningContext, -1) || !Take(block.End, 1, WideningContext, lines.Count))
                {
                    return;
                }
            }
        }

        // Takes up to 'count' lines not yet kept from 'from' on, one 'step' at a time, short of 'stop' and of a
        // run of lines that differ only in their numbers (progress, downloads, a list of passing tests): that is
        // noise, not context. False once the budget or the share is spent.
        bool Take(int from, int step, int count, int stop)
        {
            for (var i = from; (step < 0 ? i > stop : i < stop) && count > 0; i += step)
            {
                if (i - step >= 0 && i - step < lines.Count && FailureMarkers.SameShape(text.Span[lines[i]], text.Span[lines[i - step]]))
                {
                    return true;
                }

                if (keep[i])
                {
                    continue;
                }

                if (budget.Bytes >= wideningShare || !budget.Take(i))
                {
                    return false;
                }

                keep[i] = true;
                count--;
            }

            return true;
        }

        void Keep(IEnumerable<Block> blocks, int linesEach)
        {
            given?.Clear();
            foreach (var block in blocks)
            {
                if (budget.Spent)
                {
                    return;
                }

                if (given is not null && linesEach != int.MaxValue && given.Repeats(text.Span, lines, block))
                {
                    continue;
                }

                // A share begins at the block's strongest marker: the warnings that ran into an error are its context.
                var start = linesEach == int.MaxValue || focus ? block.Start : Math.Max(block.Start, block.Lead - ContextBefore);
                var end = block.End - start <= linesEach ? block.End : start + linesEach;
                for (var i = start; i < end; i++)
                {
                    if (!keep[i] && budget.Take(i))
                    {
                        keep[i] = true;
                    }
                }
            }
        }
    }

    /// <summary>
    /// A key for blocks that may be alike: their length and the hash of their first strong marker, each run of digits
    /// counted as one digit (FNV-1a). <see cref="Alike"/> compares the rest only when the key is the same.
    /// </summary>
    private static ulong Shape(ReadOnlySpan<char> text, List<Range> lines, Block block)
    {
        var hash = (14695981039346656037UL ^ (ulong)(block.End - block.Lead)) * 1099511628211UL;
        var digits = false;
        foreach (var c in text[lines[block.Lead]])
        {
            var digit = char.IsAsciiDigit(c);
            if (!digit || !digits)
            {
                hash = (hash ^ (digit ? '0' : c)) * 1099511628211UL;
            }

            digits = digit;
        }

        return hash;
    }

    /// <summary>Two blocks whose lines from the first strong marker on differ only in their numbers.</summary>
    private static bool Alike(ReadOnlySpan<char> text, List<Range> lines, Block a, Block b)
    {
        if (a.End - a.Lead != b.End - b.Lead)
        {
            return false;
        }

        for (var i = 0; i < a.End - a.Lead; i++)
        {
            if (!FailureMarkers.SameButNumbers(text[lines[a.Lead + i]], text[lines[b.Lead + i]]))
            {
                return false;
            }
        }

        return true;
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
            var lead = i;
            var strength = 0;
            if (blocks.Count > 0 && blocks[^1].End >= start)
            {
                (start, first, lead, strength) = (blocks[^1].Start, blocks[^1].First, blocks[^1].Lead, blocks[^1].Strength);
                blocks.RemoveAt(blocks.Count - 1);
            }

            var end = i;
            var continuation = 0;
            var frames = 0;
            while (end < lines.Count)
            {
                if (weights[end] > 0)
                {
                    if (weights[end] > strength)
                    {
                        // The share begins at the first failure word, not at the verdict: a Python trace names
                        // the exception last, after the frames that explain it.
                        lead = strength < Strong ? end : lead;
                        strength = weights[end];
                    }

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
            blocks.Add(new Block(start, Math.Min(lines.Count, end + ContextAfter), strength, first, lead));
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

    // Blocks inside a step CI reported as failed explain it best, a tool's verdict ("FAIL: x", "x FAILED",
    // "[ERROR] …", "TypeError: …") before other strong markers, which before weak ones; then the same outside the
    // failed step before the last failure (an earlier step that printed errors and carried on), then what came
    // after it (clean-up, caches, after-failure scripts), then the weak markers anywhere.
    // Verdicts in the order the tool gave them, the first failure being the one the others follow; other blocks
    // latest first, closest to where the build gave up.
    private const int InFailedStepVerdict = 0;
    private const int InFailedStep = 2;
    private const int Verdicts = 3;
    private const int Weak = 6;

    private static int Rank(Block block, List<(int Start, int End)> failedSteps, int lastExit)
    {
        var inFailedStep = failedSteps.Exists(s => block.First > s.Start && block.First < s.End);
        return (inFailedStep, block.Strength, block.End <= lastExit) switch
        {
            (true, Verdict, _) => InFailedStepVerdict,
            (true, Strong, _) => 1,
            (true, _, _) => 2,
            (false, Verdict, true) => Verdicts,
            (false, Strong, true) => 4,
            (false, >= Strong, false) => 5,
            _ => Weak,
        };
    }

    /// <summary>
    /// What the tests of a class printed while they passed: Maven's test runner opens a class with "Running a.FooTest"
    /// and closes it with "Tests run: 3, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.4 s - in a.FooTest". The
    /// errors and exceptions in between are what the tests expected (a usage message for a wrong option, a corrupt
    /// file that the code was meant to reject), so they mark no failure; the runner said so.
    /// </summary>
    private static void PassedTests(ReadOnlySpan<char> text, List<Range> lines, int[] weights, int summary)
    {
        var start = summary - 1;
        while (start >= 0 && !FailureMarkers.RunsTestClass(text[lines[start]]))
        {
            if (FailureMarkers.IsTestClassSummary(text[lines[start]]))
            {
                // The summary of a class before, passed or failed: this one's opening was lost (forked runs print
                // out of order), and what lies above is another class's.
                return;
            }

            start--;
        }

        if (start >= 0)
        {
            weights.AsSpan(start + 1, summary - start - 1).Clear();
        }
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
    /// "Process completed with exit code 1", "Job failed: exit code 1", Jenkins' "Build step 'Execute shell' marked
    /// build as failure"): where a tool without markers says why.
    /// </summary>
    private static IEnumerable<Block> ExitBlocks(ReadOnlyMemory<char> text, List<Range> lines, List<int> jenkinsCloses)
    {
        var found = 0;
        var candidates = FailureMarkers.ExitCandidateLines(text.Span, lines);
        if (jenkinsCloses.Count > 0)
        {
            candidates = [.. candidates.Union(jenkinsCloses).Order()];
        }

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

            yield return new Block(start, i + 1, Strong, i, start);
        }
    }

    // Written into a pooled buffer bounded by the kept lines: a builder sized for the largest excerpt cost 21 KB for
    // every excerpt and every focus, and that garbage was a tenth of a signature's time.
    private static Excerpt Render(ReadOnlyMemory<char> text, List<Range> lines, bool[] keep, int[]? original, int logLines)
    {
        var kept = keep.AsSpan().Count(true);
        var sources = new List<int>(kept);
        var buffer = ArrayPool<char>.Shared.Rent(Math.Max(1, kept * (MaxLineLength + Ellipsis.Length + 1 + Gap.Length + 1)));
        try
        {
            var at = 0;
            var previous = -1;
            for (var i = 0; i < lines.Count; i++)
            {
                if (!keep[i])
                {
                    continue;
                }

                // Blank lines at the start are dropped, with the gap after them. Structure taken out is no gap.
                if (at > 0)
                {
                    buffer[at++] = '\n';
                    if (i != previous + 1)
                    {
                        Gap.CopyTo(buffer.AsSpan(at));
                        at += Gap.Length;
                        buffer[at++] = '\n';
                    }
                }

                var line = FailureMarkers.Body(text.Span[lines[i]]).TrimEnd();
                line[..Math.Min(line.Length, MaxLineLength)].CopyTo(buffer.AsSpan(at));
                at += Math.Min(line.Length, MaxLineLength);
                if (line.Length > MaxLineLength)
                {
                    Ellipsis.CopyTo(buffer.AsSpan(at));
                    at += Ellipsis.Length;
                }

                sources.Add(original?[i] ?? i);
                previous = i;
            }

            return new Excerpt(new string(buffer, 0, at), sources, logLines);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private const string Ellipsis = " …";

    /// <param name="Strength">The strongest marker in the block: <see cref="Strong"/> or weaker.</param>
    /// <param name="First">The block's first marker line; the lines before it are context.</param>
    /// <param name="Lead">The block's first strong marker (its first marker when none is strong): where its first share of the budget begins.</param>
    private readonly record struct Block(int Start, int End, int Strength, int First, int Lead);

    /// <summary>The blocks given their share in a round, by <see cref="Shape"/>, those of one key chained.</summary>
    private sealed class Given
    {
        private readonly Dictionary<ulong, int> heads = [];
        private readonly List<(Block Block, int Next)> blocks = [];

        public void Clear()
        {
            heads.Clear();
            blocks.Clear();
        }

        /// <summary>True when a block alike was given its share; else the block joins them.</summary>
        public bool Repeats(ReadOnlySpan<char> text, List<Range> lines, Block block)
        {
            var shape = Shape(text, lines, block);
            var head = heads.GetValueOrDefault(shape, -1);
            for (var k = head; k >= 0; k = blocks[k].Next)
            {
                if (Alike(text, lines, blocks[k].Block, block))
                {
                    return true;
                }
            }

            blocks.Add((block, head));
            heads[shape] = blocks.Count - 1;
            return false;
        }
    }

    private sealed class Budget(ReadOnlyMemory<char> text, List<Range> lines, int maxLines, int maxBytes)
    {
        private int count;
        private int bytes;

        public int Bytes => bytes;

        /// <summary>Not even a blank line would fit.</summary>
        public bool Spent => count >= maxLines || bytes >= maxBytes;

        public bool Take(int line)
        {
            var length = Math.Min(FailureMarkers.Body(text.Span[lines[line]]).TrimEnd().Length, MaxLineLength + Ellipsis.Length);
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

    // Jenkins ends a freestyle build step that failed with "Build step 'Execute shell' marked build as failure".
    private const string JenkinsStep = "Build step '";
    private const string JenkinsFailedStep = "' marked build as failure";

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
        "ERROR: script returned exit code",
        "Run with --stacktrace option", "Run with --info or --debug", "Run with --scan", "Get more help at https://help.gradle.org",
        "Your build has been stopped", "Stopping the build", "store build cache", "attempting to upload", "Uploading ",
        "ERROR: Uploading artifacts", "travis_", "$ ",

        // What a JVM from 9 to 16 prints on every run of a tool that reflects into its internals (Maven among them).
        "WARNING: An illegal reflective access operation has occurred", "WARNING: Illegal reflective access by ",
        "WARNING: Please consider reporting this to the maintainers of ", "WARNING: Use --illegal-access=warn",
        "WARNING: All illegal access operations will be denied",
    ];

    private static readonly SearchValues<string> NoFailure = SearchValues.Create(
        [
            "error_reporting", "Warning(s)", "ignore-errors", "on_failure",

            // Declarative Jenkins on each stage after the one that failed: the same lines whatever failed.
            "skipped due to earlier failure",
        ],
        StringComparison.OrdinalIgnoreCase);

    private static readonly SearchValues<string> Warning = SearchValues.Create([": warning"], StringComparison.OrdinalIgnoreCase);

    /// <summary>2 for a strong failure marker, 1 for a weaker one, 0 for none or for closing boilerplate.</summary>
    public static int Weight(ReadOnlySpan<char> line)
    {
        if (!HasCandidate(line))
        {
            // The marker may be part of a name: the type that was thrown, where a tool reports it.
            return NamesThrownType(Body(line).TrimStart()) ? 1 : 0;
        }

        // Git's advice ("hint: … which will suppress this warning, call:"), the same on every checkout that prints it:
        // what failed, if anything, is on its "error:" or "fatal:" line.
        if (Body(line).StartsWith("hint: ", StringComparison.Ordinal))
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
        if (line.ContainsAny(NoFailure) || IsZeroCount(trimmed) || OnlyZeroCounts(line) || IsPassedTest(trimmed))
        {
            return 0;
        }

        // Warnings rarely fail a build on their own (linters and -Werror aside): never a strong marker.
        if (IsWarning(line, trimmed))
        {
            return 1;
        }

        return line.IndexOfAny(Strong) < 0 ? 1 : IsVerdict(trimmed) ? 3 : 2;
    }

    /// <summary>
    /// A tool's verdict, not a word in passing: the line starts with a failure tag or word ("[ERROR] …", "error[E0425]:",
    /// "FAIL src/a.test.js", "--- FAIL: TestX", "Failures:", "TypeError: …", "java.lang.AssertionError: …", pytest's "E   KeyError: 'x'"), names a
    /// location's error ("a.c:12:5: error: …", "A.java:[155,27] error: …") or ends with one ("… should throw FAILED",
    /// "… *** FAILED ***", "… [compilation failed]", "test_a.py:14: AssertionError"). "Graphviz dot encountered an error" and "[INFO] Error
    /// stacktraces are turned on" are not.
    /// </summary>
    private static bool IsVerdict(ReadOnlySpan<char> line)
    {
        var start = line.TrimStart("!*-=>#✗✖× \t");
        start = start.StartsWith("E ", StringComparison.Ordinal) ? start[2..].TrimStart() : start;
        var pid = start.IndexOfAnyExceptInRange('0', '9');
        if (pid > 0 && start[pid..].StartsWith("==", StringComparison.Ordinal))
        {
            // A sanitizer's report names the process first: "==16563==ERROR: AddressSanitizer: SEGV …".
            start = start[(pid + 2)..];
        }
        if (start.Length > 1 && start[0] == '[' && start.IndexOf(']') is > 1 and < 12 and var tag)
        {
            if (IsFailureWord(start[1..tag]))
            {
                return true;
            }

            start = start[(tag + 1)..].TrimStart();
        }

        var word = 0;
        while (word < start.Length && (char.IsLetterOrDigit(start[word]) || start[word] is '.' or '_' or '$'))
        {
            word++;
        }

        var first = start[..word];
        var next = word < start.Length ? start[word] : ' ';
        // A logger's level is no verdict: "ERROR balancer: dial failed" is what a passing test may print.
        var shoutsFailure = IsShout(first) && first.StartsWith("FAIL", StringComparison.Ordinal);
        if (IsFailureWord(first) && (next is ':' or '[' or '/' || shoutsFailure) || NamesThrownType(line) || LocatesError(line))
        {
            return true;
        }

        var end = line.TrimEnd(" *!.)");
        if (end.EndsWith(']'))
        {
            // "[compilation failed]", and xUnit's "Ledger.Rejects_a_negative_balance [FAIL]".
            var open = end.LastIndexOf('[');
            var verdict = open >= 0 ? end[(open + 1)..^1].Trim() : [];
            return verdict.EndsWith("failed", StringComparison.OrdinalIgnoreCase)
                || IsShout(verdict) && verdict.StartsWith("FAIL", StringComparison.Ordinal) && IsFailureWord(verdict);
        }

        var last = end.Length;
        while (last > 0 && char.IsLetter(end[last - 1]))
        {
            last--;
        }

        return IsShout(end[last..]) && IsFailureWord(end[last..]);

        static bool IsShout(ReadOnlySpan<char> word) => word.Length > 1 && !word.ContainsAnyInRange('a', 'z');
    }

    /// <summary>
    /// An exception that a logger recorded at a level below the error level: java.util.logging writes the level and
    /// the message on the line above it ("INFO: Server session closed due to error", "WARNING: Exception propagated
    /// to the default monitor"). The code went on, so the thrown type is no verdict, however it reads.
    /// </summary>
    public static bool IsHandled(ReadOnlySpan<char> line, ReadOnlySpan<char> above)
    {
        var record = Body(above);
        foreach (var level in LevelsBelowError)
        {
            if (record.StartsWith(level, StringComparison.Ordinal))
            {
                return NamesThrownType(Body(line).TrimStart());
            }
        }

        return false;
    }

    /// <summary>
    /// The second line of a warning that a logger split ("[WARNING] Cannot get the branch information from the git
    /// repository:" then "Detecting the current branch failed: fatal: ref HEAD is not a symbolic ref"): a warning,
    /// whatever words it carries.
    /// </summary>
    public static bool ContinuesWarning(ReadOnlySpan<char> line, ReadOnlySpan<char> above)
    {
        var record = Body(above).TrimEnd();
        return record.EndsWith(':') && !Body(line).StartsWith('[') && IsWarning(above, record.TrimStart());
    }

    /// <summary>A warning's record: "[WARNING] …", "[warn] …", "warning: …", "a.c:3:1: warning: …".</summary>
    private static bool IsWarning(ReadOnlySpan<char> line, ReadOnlySpan<char> body) =>
        body.StartsWith("[warn", StringComparison.OrdinalIgnoreCase) || body.StartsWith("warning", StringComparison.OrdinalIgnoreCase)
        || line.ContainsAny(Warning);

    private static readonly string[] LevelsBelowError = ["INFO: ", "WARNING: ", "CONFIG: ", "FINE: ", "FINER: ", "FINEST: "];

    /// <summary>
    /// A line that starts with the type of what was thrown and its message ("KeyError: 'user'", pytest's "E   KeyError:
    /// 'user'", "java.lang.IllegalStateException: closed") or that ends with a location and the type (pytest's
    /// "tests/test_ssl.py:14: AssertionError").
    /// </summary>
    private static bool NamesThrownType(ReadOnlySpan<char> line)
    {
        var start = line.StartsWith("E ", StringComparison.Ordinal) ? line[2..].TrimStart() : line;
        var colon = start.IndexOf(':');
        if (colon > 0 && IsThrownType(start[..colon]))
        {
            return true;
        }

        var end = line.TrimEnd();
        var located = end.LastIndexOf(": ", StringComparison.Ordinal);
        return located > 0 && end[..located].ContainsAnyInRange('0', '9') && IsThrownType(end[(located + 2)..]);

        static bool IsThrownType(ReadOnlySpan<char> name) =>
            name.Length > 5 && char.IsLetter(name[0]) && !name.ContainsAny(" \t/\\()[]")
            && (name.EndsWith("Error", StringComparison.Ordinal) || name.EndsWith("Exception", StringComparison.Ordinal));
    }

    /// <summary>A compiler's error at a location: "a.c:12:5: error: …", "A.java:[155,27] error: …", "x.c:3: fatal error: …".</summary>
    private static bool LocatesError(ReadOnlySpan<char> line)
    {
        foreach (var form in LocatedErrors)
        {
            var at = line.IndexOf(form, StringComparison.OrdinalIgnoreCase);
            if (at > 0 && (char.IsAsciiDigit(line[at - 1]) || line[at] == ']'))
            {
                return true;
            }
        }

        return false;
    }

    private static readonly string[] LocatedErrors = [": error", ": fatal error", "] error:"];

    private static bool IsFailureWord(ReadOnlySpan<char> word) =>
        word.Equals("error", StringComparison.OrdinalIgnoreCase) || word.Equals("errors", StringComparison.OrdinalIgnoreCase)
        || word.Equals("fail", StringComparison.OrdinalIgnoreCase) || word.Equals("failed", StringComparison.OrdinalIgnoreCase)
        || word.Equals("failure", StringComparison.OrdinalIgnoreCase) || word.Equals("failures", StringComparison.OrdinalIgnoreCase)
        || word.Equals("fatal", StringComparison.OrdinalIgnoreCase) || word.Equals("panic", StringComparison.OrdinalIgnoreCase)
        || word.Equals("panicked", StringComparison.OrdinalIgnoreCase) || word.Equals("exception", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A test runner's report of a test that passed or did not run, whatever its name says ("can display errors:
    /// 66.16 ms OK", "test_fails_on_bad_input PASSED", "✓ rejects an invalid token", "ok 12 - fails without a key",
    /// ScalaTest's "[info] - rejects a bad header" and "… !!! IGNORED !!!").
    /// </summary>
    private static bool IsPassedTest(ReadOnlySpan<char> line)
    {
        var end = line.TrimEnd();
        if (end.EndsWith("!!! IGNORED !!!", StringComparison.Ordinal) || end.EndsWith(": OK, proved property.", StringComparison.Ordinal)
            || line.Contains(": OK, passed ", StringComparison.Ordinal) || end.EndsWith(" SKIPPED", StringComparison.Ordinal)
            || end.EndsWith(" SKIP", StringComparison.Ordinal)
            || line.StartsWith("[info] - ", StringComparison.Ordinal) && !end.EndsWith("***", StringComparison.Ordinal))
        {
            return true;
        }

        if (line.StartsWith("OK (", StringComparison.Ordinal) && end.EndsWith(')') && OnlyCounts(end[4..^1]))
        {
            // PHPUnit's run that passed: "OK (41 tests, 123 assertions)". "OK, but incomplete, skipped, or risky
            // tests!" and its counts are no such line: a run may be set to fail on those.
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

    /// <summary>"41 tests, 123 assertions": each part a number and what it counts.</summary>
    private static bool OnlyCounts(ReadOnlySpan<char> list)
    {
        foreach (var part in list.Split(','))
        {
            var count = list[part].Trim();
            var space = count.IndexOf(' ');
            var what = count[(space + 1)..];
            if (space < 1 || count[..space].ContainsAnyExceptInRange('0', '9') || what.IsEmpty || what.ContainsAnyExcept(Letters))
            {
                return false;
            }
        }

        return true;
    }

    private static readonly SearchValues<char> Letters = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

    /// <summary>
    /// A summary whose every marker counts nothing: "Failed 0, Errors 0", "(0 failures)", "failures=0", "0 Error(s)",
    /// "no errors, no warnings".
    /// "Tests: 10 failed" and "Failures: 1, Errors: 0" still mark a failure.
    /// </summary>
    private static bool OnlyZeroCounts(ReadOnlySpan<char> line)
    {
        var counted = false;
        var offset = 0;
        while (offset < line.Length)
        {
            var found = NextCandidate(line[offset..]);
            if (found < 0)
            {
                break;
            }

            var at = offset + found;
            var end = at;
            while (end < line.Length && char.IsLetter(line[end]))
            {
                end++;
            }

            // "298 runs, 654 assertions, 0 failures" counts what was checked, not what failed; Maven tags its
            // summary of a class with skipped tests "[WARNING] Tests run: 12, Failures: 0, Errors: 0, Skipped: 1".
            var checks = line[at..end].Equals("assertions", StringComparison.OrdinalIgnoreCase)
                || line[at..end].StartsWith("warn", StringComparison.OrdinalIgnoreCase);
            if ((at == 0 || !IsNamePart(line[at - 1])) && !InName(line[at..]) && !checks)
            {
                if (!CountsZero(line, at, end))
                {
                    return false;
                }

                counted = true;
            }

            offset = Math.Max(end, at + 1);
        }

        return counted;
    }

    /// <summary>Whether the word at <paramref name="start"/> counts zero: "0 failed", "no errors", "errors: 0", "failures=0", "Error(s) 0".</summary>
    private static bool CountsZero(ReadOnlySpan<char> line, int start, int end)
    {
        var before = line[..start].TrimEnd();
        if (before.Length < start && (IsZero(before, before.Length - 1) || before.EndsWith("no", StringComparison.OrdinalIgnoreCase)
            && (before.Length == 2 || !char.IsLetter(before[^3]))))
        {
            return true;
        }

        var after = line[end..];
        after = after.StartsWith("(s)", StringComparison.Ordinal) ? after[3..].TrimStart() : after.TrimStart();
        after = after.Length > 0 && after[0] is ':' or '=' ? after[1..].TrimStart() : after;
        return after.Length > 0 && after[0] == '0' && (after.Length == 1 || !char.IsAsciiDigit(after[1]) && after[1] != '.');

        // A lone 0 ending at at: not the last digit of 10 nor of 1.0.
        static bool IsZero(ReadOnlySpan<char> text, int at) =>
            at >= 0 && text[at] == '0' && (at == 0 || !char.IsAsciiDigit(text[at - 1]) && text[at - 1] != '.');
    }

    /// <summary>A count that says nothing failed: "Number of failures in tests: 0", "errors = 0", when it is the line's only count.</summary>
    private static bool IsZeroCount(ReadOnlySpan<char> line)
    {
        line = line.TrimEnd();
        if (line.Length < 3 || line[^1] != '0' || char.IsAsciiDigit(line[^2]) || line[^2] == '.')
        {
            return false;
        }

        // Only the one count: "Tests run: 5, Failures: 1, Skipped: 0" ends with a zero and still failed.
        var before = line[..^1].TrimEnd();
        return before.Length > 0 && before[^1] is ':' or '=' && !before.ContainsAnyInRange('0', '9');
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

    /// <summary>The lines that may be CI's report of an exit: every phrase of <see cref="IsFailedExit"/> has "exit", but Jenkins' close of a failed step.</summary>
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

            // The lines need not cover the text: a hit in a line taken out belongs to none of them.
            var position = offset + at;
            var line = LineOf(lines, position);
            if (position >= lines[line].Start.Value && position <= lines[line].End.Value)
            {
                found.Add(line);
                offset = lines[line].End.Value + 1;
            }
            else
            {
                offset = position + 1;
            }
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

        if (fromMarker[word..].StartsWith("/Error:", StringComparison.Ordinal))
        {
            // RSpec's "Failure/Error: expect(x).to eq(y)".
            return false;
        }

        if (fromMarker[..word].Equals("timeout", StringComparison.OrdinalIgnoreCase) && IsSettingValue(fromMarker[word..]))
        {
            // "Password prompt timeout: 0.0 minutes", "Read timeout => 30": a setting's value, as "timeout=10" is.
            return true;
        }

        if (fromMarker[..word].Equals("error", StringComparison.OrdinalIgnoreCase)
            && fromMarker[word..].StartsWith(" message", StringComparison.OrdinalIgnoreCase))
        {
            // "error messages" names a kind of output, not a failure: sudo's settings list ("give useful error
            // messages"), a changelog ("Improve the error message of …"). A failure on such a line has a marker
            // of its own ("failed with the following error message").
            return true;
        }

        var next = word + 1 < fromMarker.Length ? fromMarker[word + 1] : ' ';
        return word < fromMarker.Length
            && (fromMarker[word] is '_' or '/' or '\\' or '=' || fromMarker[word] == '.' && char.IsLetter(next) || fromMarker[word] == '-' && char.IsAsciiDigit(next));
    }

    // ": 15.0 minutes", " => 30" and nothing after: the value of a setting. "timeout: 30 seconds elapsed while
    // waiting" goes on to say what happened.
    private static bool IsSettingValue(ReadOnlySpan<char> afterWord)
    {
        var rest = afterWord.TrimStart(' ');
        rest = rest.StartsWith("=>", StringComparison.Ordinal) ? rest[2..] : rest.StartsWith(':') ? rest[1..] : [];
        rest = rest.TrimStart(' ');
        var number = rest.IndexOfAnyExcept("0123456789.");
        if (rest.IsEmpty || number == 0)
        {
            return false;
        }

        var unit = number < 0 ? [] : rest[number..].Trim();
        return unit.IndexOfAnyExceptInRange('a', 'z') < 0;
    }

    /// <summary>CI's own report that the step failed, in the words of Travis, GitHub Actions, GitLab and Jenkins.</summary>
    public static bool IsFailedExit(ReadOnlySpan<char> line)
    {
        // Travis's last line repeats the job's result; the step that failed has said so already.
        if (Body(line).StartsWith("Done. Your build exited", StringComparison.Ordinal))
        {
            return false;
        }

        if (IsJenkinsFailedStep(line))
        {
            return true;
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

    /// <summary>Maven's test runner starting the tests of a class: "[INFO] Running org.example.FooTest".</summary>
    public static bool RunsTestClass(ReadOnlySpan<char> line)
    {
        var body = WithoutLevel(Body(line));
        if (!body.StartsWith(RunningClass, StringComparison.Ordinal))
        {
            return false;
        }

        var name = body[RunningClass.Length..].TrimEnd();
        return name.Length > 0 && name.Contains('.') && !name.ContainsAny(" \t/");
    }

    /// <summary>Maven's test runner closing the tests of a class: "Tests run: 3, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.4 s".</summary>
    public static bool IsTestClassSummary(ReadOnlySpan<char> line)
    {
        var body = WithoutLevel(Body(line));
        return body.StartsWith("Tests run: ", StringComparison.Ordinal) && body.Contains(", Time elapsed: ", StringComparison.Ordinal);
    }

    /// <summary>The close of a class whose tests all passed, skipped ones aside.</summary>
    public static bool PassedTestClass(ReadOnlySpan<char> line) =>
        IsTestClassSummary(line) && line.Contains(", Failures: 0, Errors: 0,", StringComparison.Ordinal);

    private const string RunningClass = "Running ";

    /// <summary>The line without a logger's level in brackets in front: "[INFO] Tests run: …" gives "Tests run: …".</summary>
    private static ReadOnlySpan<char> WithoutLevel(ReadOnlySpan<char> line) =>
        line.Length > 2 && line[0] == '[' && line.IndexOf(']') is > 1 and < 12 and var tag ? line[(tag + 1)..].TrimStart() : line;

    /// <summary>CI's report that a step ended, whatever its exit code.</summary>
    public static bool IsExit(ReadOnlySpan<char> line)
    {
        var body = Body(line);
        return body.StartsWith("The command \"", StringComparison.Ordinal) && body.Contains("\" exited with ", StringComparison.Ordinal)
            || body.StartsWith("##[error]Process completed with exit code", StringComparison.Ordinal)
            || IsJenkinsFailedStep(line);
    }

    /// <summary>Jenkins' close of a freestyle build step that failed: "Build step 'Execute shell' marked build as failure".</summary>
    public static bool IsJenkinsFailedStep(ReadOnlySpan<char> line)
    {
        var body = Body(line);
        return body.StartsWith(JenkinsStep, StringComparison.Ordinal) && body.TrimEnd().EndsWith(JenkinsFailedStep, StringComparison.Ordinal);
    }

    public const string PipelineStep = "[Pipeline] ";

    /// <summary>
    /// What Jenkins prints about a pipeline's own structure: each step it enters and leaves ("[Pipeline] sh",
    /// "[Pipeline] }", "[Pipeline] // stage"), also behind the time of day its Timestamper puts first, and each stage
    /// it skipped ("Stage \"Deploy\" skipped due to earlier failure(s)").
    /// </summary>
    public static bool IsPipelineStructure(ReadOnlySpan<char> line)
    {
        var body = Body(line);
        if (body.Length > 9 && IsTime(body) && body[8] == ' ')
        {
            body = body[8..].TrimStart(' ');
        }

        return body.StartsWith(PipelineStep, StringComparison.Ordinal)
            || body.StartsWith("Stage \"", StringComparison.Ordinal) && body.Contains("\" skipped due to ", StringComparison.Ordinal);
    }

    /// <summary>The line CI prints when it starts a step: the command itself.</summary>
    public static bool StartsStep(ReadOnlySpan<char> line) => Body(line).StartsWith("$ ", StringComparison.Ordinal);

    /// <summary>Two lines that differ only in their numbers: "Downloading 17/3000" and "Downloading 18/3000".</summary>
    public static bool SameShape(ReadOnlySpan<char> a, ReadOnlySpan<char> b) => SameButNumbers(a, b) && !a.IsWhiteSpace();

    /// <summary>The same text but for its runs of digits, blank lines included.</summary>
    public static bool SameButNumbers(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        var (i, j) = (0, 0);
        while (i < a.Length && j < b.Length)
        {
            if (char.IsAsciiDigit(a[i]) && char.IsAsciiDigit(b[j]))
            {
                while (i < a.Length && char.IsAsciiDigit(a[i]))
                {
                    i++;
                }

                while (j < b.Length && char.IsAsciiDigit(b[j]))
                {
                    j++;
                }

                continue;
            }

            if (a[i] != b[j])
            {
                return false;
            }

            (i, j) = (i + 1, j + 1);
        }

        return i == a.Length && j == b.Length;
    }

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
    /// the sanitizers, also behind a harness's "= " mark), whatever the indent.
    /// </summary>
    public static bool IsFrame(ReadOnlySpan<char> line)
    {
        var body = Body(line).TrimStart();
        if (body.StartsWith("at ", StringComparison.Ordinal)
            || body.StartsWith("... ", StringComparison.Ordinal) && body.EndsWith(" more", StringComparison.Ordinal))
        {
            return true;
        }

        // A harness that marks each line of a report ("=     #3 0x4fb97b in free") leaves the frame a frame.
        var native = body.TrimStart("=|> \t");
        return native.Length > 3 && native[0] == '#' && char.IsAsciiDigit(native[1])
            && native[2..].TrimStart("0123456789").StartsWith(" 0x", StringComparison.Ordinal);
    }

    /// <summary>
    /// The line without the time stamp CI may put before every line ("2022-05-30T09:11:02.8577255Z " in GitHub
    /// Actions, "[2024-01-02T10:11:12.345Z] " from Jenkins' timestamper): the checks that look at how a line starts
    /// look at what the tool printed, and the excerpt writes only this, so that stamps do not spend its budget.
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
