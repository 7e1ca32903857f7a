using Triage.Host.Evaluation;
using Triage.Router.Excerpts;

namespace Triage.Tests.Unit;

public sealed class ExcerptEvaluationTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("triage-cidiff-");

    [Fact]
    public void Reports_what_no_excerpt_within_its_bounds_could_keep()
    {
        // More error lines than the excerpt may hold: at most 160 of 400 can be kept.
        Breakage("long_trace", Enumerable.Range(1, 400).Select(i => $"[ERROR] at Step{i}.run(Step{i}.java:{i})"), "E 1-400");
        // Two error lines of a 20-line log are 10% of it.
        Breakage("short_log", Enumerable.Range(1, 20).Select(i => i is 5 or 6 ? $"[ERROR] compile failed {i}" : $"step {i}"), "E 5-6");
        // One error line of a 1,000-line log.
        Breakage("needle", Enumerable.Range(1, 1000).Select(i => i == 990 ? "[ERROR] BUILD FAILURE" : $"Download {i}"), "E 990-990");
        // Context only: not scored.
        Breakage("context_only", ["one", "two"], "C 1");

        var report = ExcerptEvaluation.Run(folder.FullName);

        Assert.Equal(4, report.Breakages.Count);
        Assert.Equal(1, report.OverLineBudget);
        Assert.Equal(2, report.ErrorLinesOverShare);
        Assert.Equal(((double)FailureExcerpt.MaxLines / 400 + 1 + 1) / 3, report.ErrorLinesKeptCeiling, 6);
        Assert.True(report.ErrorLinesKeptMean <= report.ErrorLinesKeptCeiling);
    }

    public void Dispose() => folder.Delete(recursive: true);

    private void Breakage(string name, IEnumerable<string> log, string groundtruth)
    {
        var directory = folder.CreateSubdirectory(name);
        File.WriteAllLines(Path.Combine(directory.FullName, "fail.log"), log);
        File.WriteAllText(Path.Combine(directory.FullName, "groundtruth"), groundtruth + "\n");
    }
}
