using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Triage.Ingest.Apis;
using Triage.Platform.Keys;

namespace Triage.Host.Commands;

/// <summary><c>triage usage</c>: what triages cost and saved per team, key, provider and model, read from the store.</summary>
internal static class UsageCommand
{
    public static Command Create()
    {
        var config = TriageCommandLine.ConfigOption();
        var team = new Option<string?>("--team") { Description = "Only this team (default: every team)." };
        var from = new Option<string?>("--from")
        {
            Description = "Start of the period: an ISO 8601 date or date-time, UTC when no offset (default: the first day of this month, UTC).",
            HelpName = "DATE",
        };
        var to = new Option<string?>("--to")
        {
            Description = "End of the period, not included: a date means its midnight (default: now).",
            HelpName = "DATE",
        };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (the answer of GET /v1/usage)." };
        var command = new Command("usage", "Report triages, billed failed attempts, cache hits, tokens, cost and savings per team, key, provider and model.")
        {
            config, team, from, to, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var now = DateTimeOffset.UtcNow;
            var errors = new List<string>();
            var start = KeysCommand.Instant(parse.GetValue(from), "--from", errors) ?? BudgetPeriod.Start(BudgetPeriod.Month, now);
            var end = KeysCommand.Instant(parse.GetValue(to), "--to", errors) ?? now;
            if (errors.Count == 0 && start >= end)
            {
                errors.Add($"--from: must be before --to ({end:u})");
            }

            if (await KeysCommand.BadInputAsync(errors))
            {
                return 2;
            }

            var named = string.IsNullOrWhiteSpace(parse.GetValue(team)) ? null : parse.GetValue(team)!.Trim();
            return await KeysCommand.WithStoreAsync(parse.GetValue(config), async (_, database) =>
            {
                var report = UsageDocument.Of(await new UsageReport(database).ReadAsync(named, start, end, cancellationToken));
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(report, KeysCommand.Json));
                    return 0;
                }

                Console.WriteLine($"Usage from {report.From:u} to {report.To:u}, {(named is null ? "every team" : $"team {named}")}:");
                Console.WriteLine();
                var rows = report.Lines.Select(l => new[]
                {
                    l.Team,
                    l.KeyId.Length == 0 ? "-" : l.KeyId,
                    l.Provider,
                    l.Model,
                    Count(l.Triages),
                    Count(l.FailedAttempts),
                    Count(l.CacheHits),
                    Count(l.InputTokens),
                    Count(l.OutputTokens),
                    Usd(l.CostUsd),
                    Usd(l.SavedUsd),
                }).ToList();
                var totals = report.Totals;
                rows.Add(
                [
                    "total", string.Empty, string.Empty, string.Empty,
                    Count(totals.Triages), Count(totals.FailedAttempts), Count(totals.CacheHits),
                    Count(totals.InputTokens), Count(totals.OutputTokens), Usd(totals.CostUsd), Usd(totals.SavedUsd),
                ]);
                string[] header = ["TEAM", "KEY", "PROVIDER", "MODEL", "TRIAGES", "FAILED*", "CACHE HITS", "TOKENS IN", "TOKENS OUT", "COST USD", "SAVED USD"];
                foreach (var line in KeysCommand.Table(header, rows, rightAligned: [4, 5, 6, 7, 8, 9, 10]))
                {
                    Console.WriteLine(line);
                }

                Console.WriteLine();
                Console.WriteLine("* failed attempts that were billed: the provider answered, but the attempt failed.");
                return 0;
            }, cancellationToken);
        });
        return command;
    }

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Usd(decimal value) => value.ToString("0.00####", CultureInfo.InvariantCulture);
}
