using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Triage.Host.Evaluation;
using Triage.Platform.Configuration;
using Triage.Platform.Redaction;
using Triage.Router.Excerpts;

namespace Triage.Host.Commands;

/// <summary><c>triage eval cache|excerpt</c>: measures the cache decision and the failure excerpt on labelled logs.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var command = new Command("eval", "Measure the cache decision and the failure excerpt on a labelled data set.");
        command.Subcommands.Add(Cache());
        command.Subcommands.Add(Excerpt());
        return command;
    }

    private static Command Cache()
    {
        var data = new Option<string>("--data") { Description = "A folder with logs/, labels.jsonl and pairs.jsonl (the LogChunks layout).", Required = true };
        var threshold = new Option<double>("--threshold")
        {
            Description = "Similarity threshold of the decision (default: the configured default).",
            DefaultValueFactory = _ => new SemanticCacheOptions().SimilarityThreshold,
        };
        var scope = new Option<string>("--scope")
        {
            Description = "repository: pairs of different repositories are never reused, as in the gateway; none: measure the decision alone.",
            DefaultValueFactory = _ => "repository",
        };
        scope.AcceptOnlyFromAmong("repository", "none");
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var details = new Option<string?>("--details") { Description = "Also write one JSON line per log (excerpt, identity, chunk lines kept) and per pair (similarity, verdict) to this file." };
        var command = new Command("cache", "Run excerpt → redaction → fingerprint → embedding → decision on every log and count reuse per tier of pairs.")
        {
            data, threshold, scope, json, details,
        };
        command.SetAction(parse =>
        {
            var t = parse.GetValue(threshold);
            if (t is <= 0 or > 1)
            {
                Console.Error.WriteLine("--threshold must be in (0, 1].");
                return 2;
            }

            try
            {
                var report = CacheEvaluation.Run(
                    LogChunksData.Load(parse.GetValue(data)!), t, parse.GetValue(scope) == "repository", new SecretRedactor([]), parse.GetValue(details));
                Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(CacheJson(report), Indented) : CacheTable(report));
                return 0;
            }
            catch (EvaluationDataException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
        });
        return command;
    }

    private static Command Excerpt()
    {
        var data = new Option<string>("--data") { Description = "A folder of breakages, each with fail.log and groundtruth (the cidiff layout).", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("excerpt", "Measure how many ground-truth error lines the failure excerpt keeps and how much of the log it costs.") { data, json };
        command.SetAction(parse =>
        {
            try
            {
                var report = ExcerptEvaluation.Run(parse.GetValue(data)!);
                Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(report, SnakeCase) : ExcerptTable(report));
                return 0;
            }
            catch (EvaluationDataException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
        });
        return command;
    }

    private static object CacheJson(CacheReport report) => new
    {
        threshold = report.Threshold,
        scope = report.Scope,
        tiers = report.Tiers.ToDictionary(t => t.Key, t => Tier(t.Value)),
        precision = Precision(report.Tiers),
        sweep = report.Sweep.Select(row => new
        {
            threshold = row.Threshold,
            tiers = row.Tiers.ToDictionary(t => t.Key, t => Tier(t.Value)),
            precision = Precision(row.Tiers),
        }),
        excerpt = new
        {
            logs = report.Excerpt.Logs,
            chunk_lines_kept_mean = report.Excerpt.ChunkLinesKeptMean,
            chunk_lines_kept_pooled = report.Excerpt.ChunkLinesKeptPooled,
            chunk_whole_lines_kept_mean = report.Excerpt.ChunkWholeLinesKeptMean,
            logs_with_whole_chunk = report.Excerpt.LogsWithWholeChunk,
            log_share_median = report.Excerpt.LogShareMedian,
            log_share_pooled = report.Excerpt.LogSharePooled,
            line_share_median = report.Excerpt.LineShareMedian,
        },
    };

    private static object Tier(TierResult tier) => new
    {
        expect = tier.Expect,
        pairs = tier.Pairs,
        reused = tier.Reused,
        rate = tier.Rate,
        above_threshold = tier.AboveThreshold,
    };

    /// <summary>Of the reuses among pairs whose labels settle the question, the share that were right.</summary>
    private static double? Precision(Dictionary<string, TierResult> tiers)
    {
        var right = tiers.Values.Where(t => t.Expect == "match").Sum(t => t.Reused);
        var wrong = tiers.Values.Where(t => t.Expect == "distinct").Sum(t => t.Reused);
        return right + wrong == 0 ? null : (double)right / (right + wrong);
    }

    private static string CacheTable(CacheReport report)
    {
        var lines = new List<string>
        {
            $"threshold {report.Threshold.ToString("0.00", CultureInfo.InvariantCulture)}, scope {report.Scope}",
            string.Empty,
            $"{"tier",-27} {"expect",-8} {"pairs",6} {"similar",8} {"reused",7} {"rate",7}",
        };
        foreach (var (name, tier) in report.Tiers)
        {
            lines.Add($"{name,-27} {tier.Expect,-8} {tier.Pairs,6} {tier.AboveThreshold,8} {tier.Reused,7} {Percent(tier.Rate),7}");
        }

        var precision = Precision(report.Tiers);
        var recall = report.Tiers.Values.Where(t => t.Expect == "match").Select(t => t.Rate).DefaultIfEmpty(0).Average();
        lines.Add(string.Empty);
        lines.Add($"precision of reuse (match vs distinct tiers): {(precision is { } p ? Percent(p) : "n/a")}; recall (match tiers): {Percent(recall)}");
        lines.Add("'similar' counts pairs at or above the threshold; 'reused' those the identity check also accepted.");
        lines.Add(string.Empty);
        lines.Add("threshold sweep (reuse rate per tier):");
        var names = report.Tiers.Keys.ToList();
        lines.Add($"{"threshold",9} " + string.Join(' ', names.Select(n => $"{Short(n),12}")) + $" {"precision",10}");
        foreach (var row in report.Sweep)
        {
            lines.Add($"{row.Threshold,9:0.00} " + string.Join(' ', names.Select(n => $"{Percent(row.Tiers[n].Rate),12}")) +
                $" {(Precision(row.Tiers) is { } rp ? Percent(rp) : "n/a"),10}");
        }

        var excerpt = report.Excerpt;
        lines.Add(string.Empty);
        lines.Add($"excerpt on {excerpt.Logs} logs: labelled chunk lines kept {Percent(excerpt.ChunkLinesKeptMean)} (mean per log), " +
            $"{Percent(excerpt.ChunkLinesKeptPooled)} (all lines pooled), whole chunk kept in {excerpt.LogsWithWholeChunk} logs; " +
            $"{Percent(excerpt.ChunkWholeLinesKeptMean)} counting a chunk's cut first and last lines as lost");
        lines.Add($"share of the log kept: median {Percent(excerpt.LogShareMedian)} of characters, {Percent(excerpt.LineShareMedian)} of lines; " +
            $"{Percent(excerpt.LogSharePooled)} of all characters");
        return string.Join(Environment.NewLine, lines);

        static string Short(string tier) => tier switch
        {
            "same_cause" => "same_cause",
            "near_duplicate_cause" => "near_dup",
            "same_category_other_cause" => "same_cat",
            "same_repo_other_category" => "same_repo",
            "other_repo" => "other_repo",
            _ => tier.Length > 12 ? tier[..12] : tier,
        };
    }

    private static string ExcerptTable(ExcerptReport report)
    {
        var lines = new List<string> { $"{"breakage",-28} {"error lines",11} {"kept",6} {"excerpt lines",13} {"log lines",9}" };
        foreach (var b in report.Breakages)
        {
            lines.Add($"{b.Name,-28} {b.ErrorLines,11} {b.ErrorLinesKept,6} {b.ExcerptLines,13} {b.LogLines,9}");
        }

        lines.Add(string.Empty);
        lines.Add($"error lines kept: {Percent(report.ErrorLinesKeptMean)} (mean per breakage), {Percent(report.ErrorLinesKeptPooled)} (pooled); " +
            $"all kept in {report.FullyKept} of {report.Breakages.Count(b => b.ErrorLines > 0)}");
        lines.Add($"share of the log kept: median {Percent(report.LineShareMedian)} of lines, {Percent(report.LogShareMedian)} of characters; " +
            $"{Percent(report.LogSharePooled)} of all characters");
        lines.Add($"bounds: at most {Percent(report.ErrorLinesKeptCeiling)} of error lines can be kept (mean per breakage) within the " +
            $"{FailureExcerpt.MaxLines}-line excerpt, as {report.OverLineBudget} breakages have more error lines than that; " +
            $"in {report.ErrorLinesOverShare} the error lines alone are more than {Percent(ExcerptEvaluation.ShareBar)} of the log's lines");
        return string.Join(Environment.NewLine, lines);
    }

    private static string Percent(double value) => value.ToString("0.0%", CultureInfo.InvariantCulture);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    // The same names as eval cache's JSON: error_lines_kept_mean, log_share_pooled.
    private static readonly JsonSerializerOptions SnakeCase = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
