using BenchmarkDotNet.Attributes;
using Triage.Platform.Text;
using Triage.Router.Excerpts;

namespace Triage.Bench.Micro;

/// <summary>The stages of the excerpt of a log, one at a time: cleaning, line index, marker searches, the pipeline search.</summary>
[MemoryDiagnoser]
public class ExcerptStages
{
    private string log = string.Empty;
    private char[] buffer = [];
    private char[] clean = [];
    private List<Range> lines = [];

    [Params("median", "largest")]
    public string Log { get; set; } = "median";

    [GlobalSetup]
    public void Load()
    {
        var logs = Directory.GetFiles(FailureSignaturePipeline.DataFolder(), "*.log", SearchOption.AllDirectories)
            .Select(f => new FileInfo(f)).OrderBy(f => f.Length).ToList();
        log = File.ReadAllText((Log == "largest" ? logs[^1] : logs[logs.Count / 2]).FullName);
        buffer = new char[log.Length];
        clean = buffer[..LogText.StripAnsi(log, buffer)];
        lines = LogText.Lines(clean);
    }

    [Benchmark]
    public int Clean() => LogText.StripAnsi(log, buffer);

    [Benchmark]
    public int CleanWithLines() => LogText.StripAnsi(log, buffer, new List<Range>(log.AsSpan().Count('\n') + log.AsSpan().Count('\r') + 1));

    [Benchmark]
    public int Lines() => LogText.Lines(clean).Count;

    [Benchmark]
    public int Candidates() => FailureMarkers.CandidateLines(clean, lines).Count;

    [Benchmark]
    public int Exits() => FailureMarkers.ExitCandidateLines(clean, lines).Count;

    /// <summary>The search for Jenkins' pipeline structure, which every log pays for whether or not it has any.</summary>
    [Benchmark]
    public bool PipelineSearch() => clean.AsSpan().Contains(FailureMarkers.PipelineStep, StringComparison.Ordinal);

    [Benchmark]
    public int Whole() => FailureExcerpt.Extract(log).SourceLines.Count;
}
