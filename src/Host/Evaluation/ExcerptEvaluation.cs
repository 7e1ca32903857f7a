using Triage.Platform.Text;
using Triage.Router.Excerpts;

namespace Triage.Host.Evaluation;

/// <summary>
/// Measures the failure excerpt on folders in the cidiff layout (one folder per breakage with <c>fail.log</c> and
/// <c>groundtruth</c>: "E a-b" error lines, "C n" context lines, 1-based): the share of error lines it keeps and the
/// share of the log it costs.
/// </summary>
internal static class ExcerptEvaluation
{
    public static ExcerptReport Run(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new EvaluationDataException($"{folder} does not exist.");
        }

        var breakages = new List<BreakageResult>();
        foreach (var directory in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            var log = Path.Combine(directory, "fail.log");
            var truth = Path.Combine(directory, "groundtruth");
            if (!File.Exists(log) || !File.Exists(truth))
            {
                continue;
            }

            var errorLines = ErrorLines(truth);
            var raw = File.ReadAllText(log);
            var excerpt = FailureExcerpt.Extract(raw);
            var kept = excerpt.SourceLines.Select(l => l + 1).ToHashSet();
            breakages.Add(new BreakageResult(
                Path.GetFileName(directory),
                errorLines.Count,
                errorLines.Count(kept.Contains),
                excerpt.SourceLines.Count,
                excerpt.LogLines,
                excerpt.Text.Length,
                LogText.StripAnsi(raw).Length));
        }

        if (breakages.Count == 0)
        {
            throw new EvaluationDataException($"{folder} holds no breakage folders (each with fail.log and groundtruth).");
        }

        var scored = breakages.Where(b => b.ErrorLines > 0).ToList();
        return new ExcerptReport(
            breakages,
            ErrorLinesKeptMean: scored.Average(b => (double)b.ErrorLinesKept / b.ErrorLines),
            ErrorLinesKeptPooled: (double)scored.Sum(b => b.ErrorLinesKept) / scored.Sum(b => b.ErrorLines),
            FullyKept: scored.Count(b => b.ErrorLinesKept == b.ErrorLines),
            LineShareMedian: CacheEvaluation.Median(breakages.Select(b => (double)b.ExcerptLines / Math.Max(1, b.LogLines))),
            LogShareMedian: CacheEvaluation.Median(breakages.Select(b => (double)b.ExcerptChars / Math.Max(1, b.LogChars))),
            LogSharePooled: (double)breakages.Sum(b => (long)b.ExcerptChars) / breakages.Sum(b => (long)b.LogChars),
            ErrorLinesKeptCeiling: scored.Average(b => Math.Min(1.0, (double)FailureExcerpt.MaxLines / b.ErrorLines)),
            OverLineBudget: scored.Count(b => b.ErrorLines > FailureExcerpt.MaxLines),
            ErrorLinesOverShare: scored.Count(b => b.ErrorLines > ShareBar * b.LogLines));
    }

    /// <summary>The share of the log an excerpt is meant to stay within.</summary>
    public const double ShareBar = 0.05;

    private static List<int> ErrorLines(string groundtruth)
    {
        var lines = new List<int>();
        foreach (var row in File.ReadLines(groundtruth))
        {
            var parts = row.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || parts[0] != "E")
            {
                continue;
            }

            var range = parts[1].Split('-');
            if (int.TryParse(range[0], out var first))
            {
                var last = range.Length > 1 && int.TryParse(range[1], out var end) ? end : first;
                lines.AddRange(Enumerable.Range(first, last - first + 1));
            }
        }

        return lines;
    }
}

internal sealed record BreakageResult(string Name, int ErrorLines, int ErrorLinesKept, int ExcerptLines, int LogLines, int ExcerptChars, int LogChars);

internal sealed record ExcerptReport(
    List<BreakageResult> Breakages,
    double ErrorLinesKeptMean,
    double ErrorLinesKeptPooled,
    int FullyKept,
    double LineShareMedian,
    double LogShareMedian,
    double LogSharePooled,
    double ErrorLinesKeptCeiling,
    int OverLineBudget,
    int ErrorLinesOverShare);
