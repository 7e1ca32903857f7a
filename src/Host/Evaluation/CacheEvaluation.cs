using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Triage.Platform.Redaction;
using Triage.Platform.Text;
using Triage.Router.Cache;
using Triage.Router.Excerpts;

namespace Triage.Host.Evaluation;

/// <summary>
/// Runs the router's own pipeline (excerpt → redaction → fingerprint → embedding → decision) on every log of a
/// labelled folder and counts, per tier of pairs, how often a triage would be reused.
/// </summary>
internal static partial class CacheEvaluation
{
    private const int MinCutLine = 8;

    public static readonly double[] SweepThresholds = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98, 0.99];

    public static CacheReport Run(LogChunksData data, double threshold, bool scopeByRepository, SecretRedactor redactor, string? details = null)
    {
        var embedder = new HashedNgramEmbeddingGenerator();
        var signatures = new ConcurrentDictionary<string, Analysed>(StringComparer.Ordinal);
        Parallel.ForEach(data.Logs, log =>
        {
            var raw = File.ReadAllText(data.LogPath(log));
            var excerpt = FailureExcerpt.Extract(raw);
            var signature = FailureSignature.Of(redactor.Redact(excerpt.Text).Text, embedder);
            signatures[log.Log] = new Analysed(log, signature, ChunkCoverage(log.Chunk, excerpt), excerpt.Text.Length, LogText.StripAnsi(raw).Length, excerpt.SourceLines.Count, excerpt.LogLines);
        });

        var judged = new List<JudgedPair>();
        foreach (var pair in data.Pairs)
        {
            if (!signatures.TryGetValue(pair.A, out var a) || !signatures.TryGetValue(pair.B, out var b))
            {
                throw new EvaluationDataException($"pairs.jsonl names a log that labels.jsonl does not: {pair.A} / {pair.B}");
            }

            var inScope = !scopeByRepository || a.Log.Repo == b.Log.Repo;
            var similarity = System.Numerics.Tensors.TensorPrimitives.Dot(a.Signature.Vector, b.Signature.Vector);
            judged.Add(new JudgedPair(pair, inScope, similarity, a.Signature.Identity, b.Signature.Identity));
        }

        if (details is not null)
        {
            WriteDetails(details, signatures, judged, threshold);
        }

        var tiers = Tally(judged, threshold);
        var sweep = SweepThresholds.Select(t => new SweepRow(t, Tally(judged, t))).ToList();
        var analysed = signatures.Values.ToList();
        var withChunk = analysed.Where(a => a.Coverage.Total > 0).ToList();
        var excerptStats = new ExcerptStats(
            Logs: analysed.Count,
            ChunkLinesKeptMean: withChunk.Average(a => a.Coverage.Share),
            ChunkLinesKeptPooled: (double)withChunk.Sum(a => a.Coverage.Kept) / withChunk.Sum(a => a.Coverage.Total),
            ChunkWholeLinesKeptMean: withChunk.Average(a => (double)a.Coverage.KeptWhole / a.Coverage.Total),
            LogsWithWholeChunk: withChunk.Count(a => a.Coverage.Kept == a.Coverage.Total),
            LogShareMedian: Median(analysed.Select(a => (double)a.ExcerptChars / Math.Max(1, a.LogChars))),
            LogSharePooled: (double)analysed.Sum(a => (long)a.ExcerptChars) / analysed.Sum(a => (long)a.LogChars),
            LineShareMedian: Median(analysed.Select(a => (double)a.ExcerptLines / Math.Max(1, a.LogLines))));
        return new CacheReport(threshold, scopeByRepository ? "repository" : "none", tiers, sweep, excerptStats);
    }

    /// <summary>One JSON line per log (coverage, excerpt, identity) and per pair (similarity, identity, verdict), to see why.</summary>
    private static void WriteDetails(string file, IDictionary<string, Analysed> logs, List<JudgedPair> pairs, double threshold)
    {
        using var writer = new StreamWriter(file);
        foreach (var (name, log) in logs.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            writer.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
            {
                log = name,
                repo = log.Log.Repo,
                chunk_lines = log.Coverage.Total,
                chunk_lines_kept = log.Coverage.Kept,
                chunk_whole_lines_kept = log.Coverage.KeptWhole,
                excerpt_lines = log.ExcerptLines,
                log_lines = log.LogLines,
                identity = log.Signature.Identity,
                fingerprint = log.Signature.Fingerprint,
                excerpt = log.Signature.Excerpt,
            }));
        }

        foreach (var pair in pairs)
        {
            writer.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
            {
                a = pair.Pair.A,
                b = pair.Pair.B,
                tier = pair.Pair.Tier,
                similarity = pair.Similarity,
                identity_matches = pair.A.Matches(pair.B),
                reused = pair.Reused(threshold),
            }));
        }
    }

    private static Dictionary<string, TierResult> Tally(List<JudgedPair> judged, double threshold)
    {
        var result = new Dictionary<string, TierResult>(StringComparer.Ordinal);
        foreach (var group in judged.GroupBy(j => j.Pair.Tier).OrderBy(g => TierOrder(g.Key)))
        {
            var pairs = group.Count();
            var reused = group.Count(j => j.Reused(threshold));
            var similar = group.Count(j => j.InScope && j.Similarity >= threshold);
            result[group.Key] = new TierResult(group.First().Pair.Expect, pairs, reused, (double)reused / pairs, similar);
        }

        return result;
    }

    private static int TierOrder(string tier) => tier switch
    {
        "same_cause" => 0,
        "near_duplicate_cause" => 1,
        "same_category_other_cause" => 2,
        "same_repo_other_category" => 3,
        "other_repo" => 4,
        _ => 5,
    };

    /// <summary>
    /// Which of the labelled chunk's lines the excerpt kept, compared trimmed and without colour codes. A chunk is a
    /// span of the log's text, so its first line may begin inside a line ("FAIL: TestX" of "--- FAIL: TestX") and its
    /// last may end inside one: those two count as kept when a kept line ends, or begins, with them.
    /// <see cref="Coverage.KeptWhole"/> counts only lines kept exactly as labelled.
    /// </summary>
    internal static Coverage ChunkCoverage(string chunk, Excerpt excerpt)
    {
        var kept = new HashSet<string>(excerpt.Text.Split('\n').Select(Normalise), StringComparer.Ordinal);
        var lines = LabelColour().Replace(LogText.StripAnsi(chunk), string.Empty)
            .Split('\n')
            .Select(Normalise)
            .Where(l => l.Length > 0)
            .ToList();
        var whole = lines.Count(kept.Contains);
        var cut = 0;
        if (lines.Count > 0 && IsCut(lines[0], k => k.EndsWith(lines[0], StringComparison.Ordinal)))
        {
            cut++;
        }

        if (lines.Count > 1 && IsCut(lines[^1], k => k.StartsWith(lines[^1], StringComparison.Ordinal)))
        {
            cut++;
        }

        return new Coverage(whole + cut, lines.Count, whole);

        // A fragment of a few characters would end or begin many a line by chance.
        bool IsCut(string line, Func<string, bool> holds) => !kept.Contains(line) && line.Length >= MinCutLine && kept.Any(holds);

        static string Normalise(string line)
        {
            var trimmed = line.Trim();
            if (trimmed.EndsWith(" …", StringComparison.Ordinal))
            {
                trimmed = trimmed[..^2];
            }

            return trimmed.Length > FailureExcerpt.MaxLineLength - 20 ? trimmed[..(FailureExcerpt.MaxLineLength - 20)] : trimmed;
        }
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return 0;
        }

        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    // The labels lost the escape character of their colour codes: "[m[37m" is left of "\x1b[0m\x1b[37m".
    [GeneratedRegex(@"\[[0-9;]*m")]
    private static partial Regex LabelColour();

    private sealed record Analysed(LabelledLog Log, FailureSignature Signature, Coverage Coverage, int ExcerptChars, int LogChars, int ExcerptLines, int LogLines);

    private sealed record JudgedPair(LabelledPair Pair, bool InScope, double Similarity, FailureIdentity A, FailureIdentity B)
    {
        public bool Reused(double threshold) => InScope && CacheDecision.Judge(Similarity, threshold, A, B) == CacheVerdict.Reuse;
    }
}

internal readonly record struct Coverage(int Kept, int Total, int KeptWhole)
{
    public double Share => Total == 0 ? 1 : (double)Kept / Total;
}

internal sealed record TierResult(string Expect, int Pairs, int Reused, double Rate, int AboveThreshold);

internal sealed record SweepRow(double Threshold, Dictionary<string, TierResult> Tiers);

internal sealed record ExcerptStats(
    int Logs,
    double ChunkLinesKeptMean,
    double ChunkLinesKeptPooled,
    double ChunkWholeLinesKeptMean,
    int LogsWithWholeChunk,
    double LogShareMedian,
    double LogSharePooled,
    double LineShareMedian);

internal sealed record CacheReport(
    double Threshold,
    string Scope,
    Dictionary<string, TierResult> Tiers,
    List<SweepRow> Sweep,
    ExcerptStats Excerpt);
