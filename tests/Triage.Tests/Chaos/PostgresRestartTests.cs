using Microsoft.Extensions.DependencyInjection;
using Triage.Contracts;
using Triage.Platform.Keys;
using Triage.Tests.Integration;
using Xunit.Abstractions;

namespace Triage.Tests.Chaos;

/// <summary>
/// PostgreSQL restarts in the middle of a steady load of failures posted with a virtual key and triaged at a price.
/// Ingest may refuse while the store is away; whatever it accepted is recorded once and charged once: one settled
/// charge per triage, and the key's spend equal to the sum of the recorded results' costs.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class PostgresRestartTests(ITestOutputHelper output) : ChaosTest(output)
{
    private const string Scenario = "postgres-restarted";

    protected override bool RequireKeys => true;

    protected override async Task<string> ScenarioConfigurationAsync()
    {
        var provider = await OwnAsync(FakeProviderServer.StartAsync());
        provider.Latency = TimeSpan.FromMilliseconds(100);
        return $"""
            providers:
              remote: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: m, capacity: 16, input_usd_per_mtok: 3, output_usd_per_mtok: 15 {"}"}
            routing:
              build_triage: {"{"} providers: [remote], timeout_ms: 120000 {"}"}
            """;
    }

    [SkippableFact]
    public async Task Every_failure_accepted_around_a_PostgreSQL_restart_is_recorded_once_and_charged_once()
    {
        var keys = Gateway.Services.GetRequiredService<VirtualKeyStore>();
        var issued = await keys.CreateAsync(new KeySpec("chaos", BudgetUsd: 10_000m, BudgetPeriod: BudgetPeriod.Month), default);
        var events = await CompletedEvents.BindAsync(Broker.Uri);
        RestartClock();
        var load = SteadyLoad.PostAsync(Gateway.Http, SteadyLoad.Failures("postgres", 250), perSecond: 25, bearer: issued.Secret);

        await Task.Delay(TimeSpan.FromSeconds(3));
        var bootedBefore = await BootedAtAsync();
        var restartStarted = DateTimeOffset.UtcNow;
        try
        {
            await SharedServices.RestartPostgresAsync();
        }
        finally
        {
            await SharedServices.EnsurePostgresRunsAsync();
        }

        var restartSeconds = (DateTimeOffset.UtcNow - restartStarted).TotalSeconds;
        var restarted = await BootedAtAsync() > bootedBefore;
        var posted = await load;
        var accepted = posted.Where(p => p.Accepted).Select(p => p.EventId).ToList();
        var (row, store) = await CountAsync(Scenario, posted.Count, accepted, events, TimeSpan.FromSeconds(120));

        // What the key should have paid: each recorded result's own call and the failed attempts billed before it.
        var results = store.Values.Where(o => o.Result is not null).Select(o => o.Result!).ToList();
        var expectedMicros = results.Sum(r => Micros.FromUsd(r.CostUsd)
            + r.AttemptHistory.Where(a => a.Outcome != AttemptOutcome.Success).Sum(a => Micros.FromUsd(a.CostUsd)));
        var spent = await StoredOutcomes.ScalarAsync(Database, "SELECT COALESCE(SUM(spent_micros), 0) FROM budget_usage");
        var reservedLeft = await StoredOutcomes.ScalarAsync(Database, "SELECT COALESCE(SUM(reserved_micros), 0) FROM budget_usage");
        var charged = await StoredOutcomes.ScalarAsync(Database, $"SELECT COALESCE(SUM(charged_micros), 0) FROM charges WHERE state = '{ChargeState.Settled}'");
        var settled = await StoredOutcomes.ScalarAsync(Database, $"SELECT count(*) FROM charges WHERE state = '{ChargeState.Settled}'");
        var stillReserved = await StoredOutcomes.ScalarAsync(Database, $"SELECT count(*) FROM charges WHERE state = '{ChargeState.Reserved}'");
        var usageTriages = await StoredOutcomes.ScalarAsync(Database, "SELECT COALESCE(SUM(triages), 0) FROM usage_hourly");
        var usageMicros = await StoredOutcomes.ScalarAsync(Database, "SELECT COALESCE(SUM(cost_micros), 0) FROM usage_hourly");
        var duplicateAnswers = posted.Count(p => p.Duplicate);
        var slowest = posted.Max(p => p.AnsweredAt - p.SentAt);
        var slowAnswers = posted.Count(p => p.AnsweredAt - p.SentAt > TimeSpan.FromSeconds(1));
        row = row with
        {
            Notes = $"restart took {restartSeconds:0.0} s; answers {Answers(posted)}, {slowAnswers} slower than 1 s (slowest {slowest.TotalSeconds:0.0} s); spent {spent} µUSD = results {expectedMicros} µUSD; "
                + $"{settled} settled charges for {results.Count} results; {stillReserved} reservations left open",
        };
        row.With("answers", Answers(posted))
            .With("answersSlowerThan1s", slowAnswers)
            .With("slowestAnswerSeconds", Math.Round(slowest.TotalSeconds, 1))
            .With("duplicateAnswersForNewIds", duplicateAnswers)
            .With("spentMicros", spent)
            .With("resultsCostMicros", expectedMicros)
            .With("settledChargedMicros", charged)
            .With("settledCharges", settled)
            .With("recordedResults", results.Count)
            .With("usageTriages", usageTriages)
            .With("usageCostMicros", usageMicros)
            .With("reservationsLeftOpen", stillReserved)
            .With("reservedMicrosLeft", reservedLeft);
        Report(row);

        Assert.True(restarted, "PostgreSQL's start time did not change: the restart did not happen");
        Assert.True(expectedMicros > 0, "the provider's price made no cost; the ledger check would prove nothing");
        row.AssertNothingLost(ReliabilityRow.Unsettled(accepted, store));
        Assert.Equal(0, duplicateAnswers);
        Assert.Equal(results.Count, settled);
        Assert.Equal(expectedMicros, spent);
        Assert.Equal(expectedMicros, charged);
        Assert.Equal(results.Count, usageTriages);
        Assert.Equal(expectedMicros, usageMicros);
    }

    /// <summary>When the PostgreSQL server last started, in Unix microseconds.</summary>
    private Task<long> BootedAtAsync() =>
        StoredOutcomes.ScalarAsync(Database, "SELECT (extract(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint");
}
