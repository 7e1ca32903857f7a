using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triage.Contracts;
using Triage.Platform.Configuration;
using Triage.Platform.DeadLetters;
using Triage.Platform.Store;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.EndToEnd;

/// <summary><c>triage dead-letters</c> and <c>triage replay</c> run as an operator runs them, on a seeded SQLite store.</summary>
public sealed class DeadLettersCommandTests : IAsyncLifetime
{
    private const string Overloaded = "build_triage/anthropic/overloaded";
    private const string TimedOut = "build_triage/openai/timeout";
    private const string Refused = "nightly/key_unknown";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly string directory = Directory.CreateTempSubdirectory("triage-dead-letters-").FullName;
    private readonly string config;

    public DeadLettersCommandTests()
    {
        config = Path.Combine(directory, "triage.yaml");
        File.WriteAllText(config, "store: { sqlite: dead.db }");
    }

    public async Task InitializeAsync()
    {
        var database = TriageDatabase.From(new StoreOptions { Sqlite = Path.Combine(directory, "dead.db") }, directory);
        await database.MigrateAsync(CancellationToken.None);
        await SeedAsync(new DeadLetterStore(database, TimeProvider.System), "build_triage");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Groups_count_the_waiting_dead_letters_by_what_failed_alike_largest_first()
    {
        var (exitCode, output) = await TriageAsync("dead-letters", "groups");

        Assert.True(exitCode == 0, output);
        var rows = Rows(output, Overloaded, TimedOut, Refused);
        Assert.Matches(@"^build_triage/anthropic/overloaded\s+build_triage\s+overloaded\s+2\s", rows[0]);
        Assert.Matches(@"\s1\s", rows[1]);
        Assert.Matches(@"\s1\s", rows[2]);
        Assert.True(output.IndexOf(Overloaded, StringComparison.Ordinal) < output.IndexOf(TimedOut, StringComparison.Ordinal), output);
        Assert.Contains("4 dead letters wait in 3 group(s)", output);

        var (_, routeOnly) = await TriageAsync("dead-letters", "groups", "--route", "nightly", "--json");
        var groups = JsonNode.Parse(routeOnly)!["groups"]!.AsArray();
        Assert.Equal(Refused, Assert.Single(groups)!["group"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_shows_a_row_per_dead_letter_most_recent_first_and_filters_by_since_group_and_limit()
    {
        var (exitCode, output) = await TriageAsync("dead-letters", "list");

        Assert.True(exitCode == 0, output);
        Assert.Matches(@"(?m)^EVENT ID\s+ROUTE\s+GROUP\s+REASON\s+STATUS\s+DEAD\s+REPLAYS\s+LAST FAILURE$", output);
        Assert.Matches(@"^bf-1\s+build_triage\s+build_triage/anthropic/overloaded\s+overloaded\s+dead\s+1\s+0\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z$", Row(output, "bf-1"));
        Assert.Equal(["bf-3", "bf-2", "bf-1", "bf-4"], DataRows(output).Select(r => r.Split(' ')[0]));

        Assert.Equal(["bf-3"], DataRows((await TriageAsync("dead-letters", "list", "--since", "15m")).Output).Select(r => r.Split(' ')[0]));

        var (_, limited) = await TriageAsync("dead-letters", "list", "--limit", "2");
        Assert.Equal(2, DataRows(limited).Count);
        Assert.Contains("2 of 4", limited);

        var (_, json) = await TriageAsync("dead-letters", "list", "--group", Overloaded, "--json");
        var listed = JsonNode.Parse(json)!;
        Assert.Equal(2, listed["total"]!.GetValue<int>());
        Assert.All(listed["deadLetters"]!.AsArray(), d => Assert.Equal("anthropic", d!["lastProvider"]!.GetValue<string>()));
    }

    [Fact]
    public async Task List_refuses_bad_input_with_exit_2_naming_each_option()
    {
        var (exitCode, output) = await TriageAsync("dead-letters", "list", "--since", "yesterday", "--status", "gone", "--limit", "0");

        Assert.True(exitCode == 2, output);
        Assert.Contains("--since: 'yesterday' is not an ISO 8601 date", output);
        Assert.Contains("--status: 'gone' is not a status; use dead, replaying, replayed, archived", output);
        Assert.Contains("--limit: '0' is not a whole number from 1 to 1000", output);
    }

    [Fact]
    public async Task Show_prints_every_attempt_the_build_and_the_first_lines_of_the_excerpt()
    {
        var (exitCode, output) = await TriageAsync("dead-letters", "show", "bf-1");

        Assert.True(exitCode == 0, output);
        Assert.Contains("Dead letter bf-1", output);
        Assert.Contains(Overloaded, output);
        Assert.Matches(@"(?m)^\s+1\s+openai\s+timeout\s+30000 ms\s+0\.00\s+no answer within 30 s$", output);
        Assert.Matches(@"(?m)^\s+2\s+anthropic\s+overloaded\s+2100 ms\s+0\.0012\s+529 Overloaded$", output);
        Assert.Contains("payments/service #1842", output);
        Assert.Contains("acme/payments-service", output);
        Assert.Contains("RefundTest.settles: expected 2 but was 3", output);
        Assert.Contains("first 20 of 25 lines", output);
        Assert.Contains("| log line 20", output);
        Assert.DoesNotContain("log line 21", output);

        var (unknown, unknownOutput) = await TriageAsync("dead-letters", "show", "bf-404");
        Assert.True(unknown == 1, unknownOutput);
        Assert.Contains("no dead letter has the event id 'bf-404'", unknownOutput);
    }

    [Fact]
    public async Task Archive_needs_a_filter_or_all_and_archives_only_the_waiting_dead_letters_it_names()
    {
        var (refused, refusedOutput) = await TriageAsync("dead-letters", "archive");
        Assert.True(refused == 2, refusedOutput);
        Assert.Contains("--all: name what to archive with --id, --group, --route or --since, or pass --all", refusedOutput);

        var (_, dryRun) = await TriageAsync("dead-letters", "archive", "--group", Overloaded, "--dry-run");
        Assert.Contains("Would archive 2 dead letter(s); nothing was changed", dryRun);

        var (archived, archiveOutput) = await TriageAsync("dead-letters", "archive", "--group", Overloaded);
        Assert.True(archived == 0, archiveOutput);
        Assert.Contains("Archived 2 dead letter(s).", archiveOutput);
        Assert.Equal(["bf-2", "bf-1"], DataRows((await TriageAsync("dead-letters", "list", "--status", "archived")).Output).Select(r => r.Split(' ')[0]));

        // bf-1 is archived already: only bf-3 waits among the two.
        var (_, byId) = await TriageAsync("dead-letters", "archive", "--id", "bf-3", "--id", "bf-1");
        Assert.Contains("Archived 1 dead letter(s).", byId);
        Assert.Contains("Archived 1 dead letter(s).", (await TriageAsync("dead-letters", "archive", "--all")).Output);
    }

    [Fact]
    public async Task Replay_on_the_embedded_bus_explains_url_refuses_no_filter_and_a_dry_run_only_counts()
    {
        var (embedded, embeddedOutput) = await TriageAsync("replay", "--all");
        Assert.True(embedded == 2, embeddedOutput);
        Assert.Contains("--url", embeddedOutput);
        Assert.Contains("bus.rabbitmq", embeddedOutput);

        var (unnamed, unnamedOutput) = await TriageAsync("replay");
        Assert.True(unnamed == 2, unnamedOutput);
        Assert.Contains("--all: name what to replay with --id, --group, --route or --since, or pass --all", unnamedOutput);

        var (planned, plan) = await TriageAsync("replay", "--all", "--dry-run");
        Assert.True(planned == 0, plan);
        Assert.Contains("Would replay 4 dead letter(s):", plan);
        Assert.Matches(@"(?m)^build_triage/anthropic/overloaded\s+build_triage\s+overloaded\s+2\s", plan);
        Assert.Contains("Nothing was replayed (--dry-run).", plan);

        var (_, list) = await TriageAsync("dead-letters", "list");
        Assert.All(DataRows(list), row => Assert.Matches(@"\sdead\s+1\s+0\s", row));
    }

    [Fact]
    public async Task Replay_through_a_running_gateway_publishes_every_dead_letter_and_waits_for_their_triages()
    {
        const string AdminKey = "replay-admin-key-0123456789";
        await using var gateway = await GatewayUnderTest.StartAsync($"auth: {{ admin_key: \"{AdminKey}\" }}");
        var letters = gateway.Services.GetRequiredService<DeadLetterStore>();
        foreach (var id in new[] { "gw-1", "gw-2" })
        {
            await letters.RecordAsync(Dead(id, "build_triage", "anthropic", "overloaded", DateTimeOffset.UtcNow), CancellationToken.None);
        }

        var url = gateway.Http.BaseAddress!.ToString();
        var (refused, refusedOutput) = await TriageAsync("replay", "--all", "--url", url, "--admin-key", "wrong");
        Assert.True(refused == 1, refusedOutput);
        Assert.Contains("answered 401", refusedOutput);

        var (exitCode, output) = await TriageAsync("replay", "--all", "--url", url, "--admin-key", AdminKey, "--wait", "30");

        Assert.True(exitCode == 0, output);
        Assert.Contains("replayed 2, already done 0, held by another replay 0, not published 0", output);
        Assert.Contains("completed 2, failed again 0, still pending 0", output);
        Assert.Equal(TriageStatus.Completed, (await gateway.Store.FindAsync("gw-1", CancellationToken.None))?.Status);

        var (again, againOutput) = await TriageAsync("replay", "--all", "--url", url, "--admin-key", AdminKey);
        Assert.True(again == 0, againOutput);
        Assert.Contains("replayed 0, already done 0, held by another replay 0, not published 0", againOutput);
    }

    /// <summary>
    /// bf-1 and bf-2 failed alike (anthropic overloaded after openai timed out), bf-3 timed out at openai, and bf-4 was
    /// refused on the route nightly before any provider was tried; bf-3 is the most recent, bf-4 the oldest.
    /// </summary>
    private static async Task SeedAsync(DeadLetterStore letters, string route)
    {
        var now = DateTimeOffset.UtcNow;
        await letters.RecordAsync(Dead("bf-1", route, "anthropic", "overloaded", now.AddMinutes(-30)), CancellationToken.None);
        await letters.RecordAsync(Dead("bf-2", route, "anthropic", "overloaded", now.AddMinutes(-20)), CancellationToken.None);
        await letters.RecordAsync(Dead("bf-3", route, "openai", "timeout", now.AddMinutes(-10)), CancellationToken.None);
        await letters.RecordAsync(Dead("bf-4", "nightly", null, "key_unknown", now.AddMinutes(-60)), CancellationToken.None);
    }

    private static TriageDeadLettered Dead(string eventId, string route, string? provider, string reason, DateTimeOffset at)
    {
        List<AttemptOutcome> attempts = provider switch
        {
            null => [],
            "anthropic" =>
            [
                new AttemptOutcome("openai", "timeout", "no answer within 30 s", 30_000) { At = at.AddSeconds(-3) },
                new AttemptOutcome("anthropic", "overloaded", "529 Overloaded", 2_100) { At = at, CostUsd = 0.0012m },
            ],
            _ => [new AttemptOutcome(provider, reason, "no answer within 30 s", 30_000) { At = at }],
        };
        return new TriageDeadLettered
        {
            EventId = eventId,
            Route = route,
            Reason = reason,
            Detail = provider is null ? "key key_0000000000000000 is unknown" : null,
            Attempts = attempts,
            Failure = new BuildFailed
            {
                EventId = eventId,
                Source = "jenkins",
                Job = "payments/service",
                BuildNumber = "1842",
                Repository = "acme/payments-service",
                Branch = "main",
                Stage = "Build",
                Route = route,
                Log = string.Join('\n', Enumerable.Range(1, 25).Select(i => $"log line {i}")),
                FailedTests = [new FailedTest("RefundTest.settles", "expected 2 but was 3")],
                ReceivedAt = at.AddSeconds(-40),
            },
            DeadLetteredAt = at,
        };
    }

    private Task<(int ExitCode, string Output)> TriageAsync(params string[] arguments) =>
        TriageProcess.RunAsync(Timeout, [.. arguments, "--config", config]);

    /// <summary>The table's lines after its header, up to the first blank line.</summary>
    private static List<string> DataRows(string output) =>
        output.Split('\n').Select(l => l.TrimEnd())
            .SkipWhile(l => !l.StartsWith("EVENT ID", StringComparison.Ordinal) && !l.StartsWith("GROUP", StringComparison.Ordinal))
            .Skip(1)
            .TakeWhile(l => l.Length > 0)
            .ToList();

    private static string Row(string output, string first) =>
        DataRows(output).SingleOrDefault(r => r.StartsWith(first + " ", StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"no row starts with {first}:\n{output}");

    /// <summary>The rows of the named groups, in the order they were printed.</summary>
    private static List<string> Rows(string output, params string[] groups) =>
        DataRows(output).Where(r => groups.Any(g => r.StartsWith(g + " ", StringComparison.Ordinal))).ToList();
}
