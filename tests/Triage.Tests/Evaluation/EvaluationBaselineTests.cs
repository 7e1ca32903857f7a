using System.Text.Json.Nodes;
using Triage.Host.Evaluation;
using Triage.Platform.Redaction;
using Xunit.Abstractions;

namespace Triage.Tests.Evaluation;

/// <summary>
/// The cache decision and the failure excerpt, measured on the real CI logs of ../shared/data, must not fall below
/// the figures committed in baseline.json. Without the data (a checkout on its own) the tests say they skipped.
/// </summary>
public sealed class EvaluationBaselineTests(ITestOutputHelper output)
{
    private static readonly JsonNode Baseline = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Evaluation", "baseline.json")))!;

    [SkippableFact]
    public void Cache_reuse_and_excerpt_on_LogChunks_hold_the_baseline()
    {
        var folder = Data("logchunks");
        var threshold = Baseline["cache"]!["threshold"]!.GetValue<double>();

        var report = CacheEvaluation.Run(LogChunksData.Load(folder), threshold, scopeByRepository: false, new SecretRedactor([]));

        foreach (var (tier, rate) in report.Tiers)
        {
            output.WriteLine($"{tier}: {rate.Reused}/{rate.Pairs} reused ({rate.Rate:P1})");
        }

        output.WriteLine($"chunk lines kept {report.Excerpt.ChunkLinesKeptMean:P1}, log share median {report.Excerpt.LogShareMedian:P1}");
        foreach (var (tier, minimum) in Baseline["cache"]!["min_rate"]!.AsObject())
        {
            Assert.True(report.Tiers[tier].Rate >= minimum!.GetValue<double>(), $"{tier} reuse {report.Tiers[tier].Rate:P1} fell below {minimum}");
        }

        foreach (var (tier, maximum) in Baseline["cache"]!["max_rate"]!.AsObject())
        {
            Assert.True(report.Tiers[tier].Rate <= maximum!.GetValue<double>(), $"{tier} false reuse {report.Tiers[tier].Rate:P1} rose above {maximum}");
        }

        var excerpt = Baseline["excerpt"]!;
        Assert.True(report.Excerpt.ChunkLinesKeptMean >= excerpt["min_chunk_lines_kept_mean"]!.GetValue<double>(), $"chunk lines kept {report.Excerpt.ChunkLinesKeptMean:P1}");
        Assert.True(report.Excerpt.ChunkWholeLinesKeptMean >= excerpt["min_chunk_whole_lines_kept_mean"]!.GetValue<double>(), $"chunk lines kept whole {report.Excerpt.ChunkWholeLinesKeptMean:P1}");
        Assert.True(report.Excerpt.LogShareMedian <= excerpt["max_log_share_median"]!.GetValue<double>(), $"log share {report.Excerpt.LogShareMedian:P1}");
    }

    [SkippableFact]
    public void Excerpt_on_the_cidiff_breakages_holds_the_baseline()
    {
        var report = ExcerptEvaluation.Run(Data("cidiff-breakages"));

        output.WriteLine($"error lines kept {report.ErrorLinesKeptMean:P1}, log share {report.LogSharePooled:P1} of all characters");
        var cidiff = Baseline["cidiff"]!;
        Assert.True(report.ErrorLinesKeptMean >= cidiff["min_error_lines_kept_mean"]!.GetValue<double>(), $"error lines kept {report.ErrorLinesKeptMean:P1}");
        Assert.True(report.LogSharePooled <= cidiff["max_log_share_pooled"]!.GetValue<double>(), $"log share {report.LogSharePooled:P1}");
    }

    private static string Data(string name)
    {
        var folder = Path.GetFullPath(Path.Combine(Unit.ShippedConfigurationTests.RepositoryRoot(), "..", "shared", "data", name));
        Skip.IfNot(Directory.Exists(folder), $"skipped: the labelled CI logs are not at ../shared/data/{name} next to the repository");
        return folder;
    }
}
