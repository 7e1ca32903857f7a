using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using Triage.Platform.Redaction;
using Triage.Router.Cache;
using Triage.Router.Excerpts;

namespace Triage.Bench.Micro;

/// <summary>
/// What the router does to every log before a cache lookup: excerpt, redaction, fingerprint, identity and the
/// built-in embedding, on real CI logs from ../shared/data/logchunks: the median-sized log and the largest.
/// Signature times all of it; Stages the four stages of the speed target chained (excerpt, redaction, fingerprint
/// of the redacted excerpt, embedding), without the focus and identity; Excerpt the excerpt of the log alone; Redaction, Focus, Fingerprint, Embedding and FocusSignature (focus,
/// fingerprint, identity and embedding of the redacted excerpt) time one stage each, on that log's excerpt, and
/// Identity the identity of its focus.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Percentiles))]
public class FailureSignaturePipeline
{
    private readonly SecretRedactor redactor = new([]);
    private readonly HashedNgramEmbeddingGenerator embedder = new();
    private string log = string.Empty;
    private string excerpt = string.Empty;
    private string redacted = string.Empty;
    private string fingerprint = string.Empty;
    private string focus = string.Empty;

    [Params("median", "largest")]
    public string Log { get; set; } = "median";

    public double Megabytes => log.Length / 1_000_000.0;

    [GlobalSetup]
    public void Load()
    {
        var logs = Directory.GetFiles(DataFolder(), "*.log", SearchOption.AllDirectories)
            .Select(f => new FileInfo(f))
            .OrderBy(f => f.Length)
            .ToList();
        var chosen = Log == "largest" ? logs[^1] : logs[logs.Count / 2];
        log = File.ReadAllText(chosen.FullName);
        excerpt = FailureExcerpt.From(log);
        redacted = redactor.Redact(excerpt).Text;
        fingerprint = FailureFingerprint.Of(redacted);
        focus = FailureExcerpt.Focus(redacted);
        Console.WriteLine($"// {Log} log: {chosen.FullName} ({chosen.Length:N0} bytes)");
    }

    [Benchmark]
    public FailureSignature Signature() =>
        FailureSignature.Of(redactor.Redact(FailureExcerpt.From(log)).Text, embedder);

    /// <summary>The four stages the speed target names, chained on the whole log: excerpt, redaction, fingerprint, embedding.</summary>
    [Benchmark]
    public float[] Stages() => embedder.Embed(FailureFingerprint.Of(redactor.Redact(FailureExcerpt.From(log)).Text));

    [Benchmark]
    public string Excerpt() => FailureExcerpt.From(log);

    [Benchmark]
    public RedactionResult Redaction() => redactor.Redact(excerpt);

    [Benchmark]
    public FailureSignature FocusSignature() => FailureSignature.Of(redacted, embedder);

    [Benchmark]
    public string Focus() => FailureExcerpt.Focus(redacted);

    [Benchmark]
    public FailureIdentity Identity() => FailureIdentity.Of(focus);

    [Benchmark]
    public string Fingerprint() => FailureFingerprint.Of(redacted);

    [Benchmark]
    public float[] Embedding() => embedder.Embed(fingerprint);

    internal static string DataFolder()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Triage.sln")))
        {
            directory = directory.Parent;
        }

        var folder = Path.GetFullPath(Path.Combine(directory?.FullName ?? ".", "..", "shared", "data", "logchunks", "logs"));
        return Directory.Exists(folder) ? folder : throw new DirectoryNotFoundException($"{folder} is missing: the benchmark reads the LogChunks logs.");
    }

    private sealed class Percentiles : ManualConfig
    {
        public Percentiles() => AddColumn(StatisticColumn.Median, StatisticColumn.P95);
    }
}
