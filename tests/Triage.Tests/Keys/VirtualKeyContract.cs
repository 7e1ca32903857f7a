using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Triage.Contracts;
using Triage.Platform.Configuration;
using Triage.Platform.Keys;
using Triage.Platform.Store;

namespace Triage.Tests.Keys;

/// <summary>Keys, rate limits and budgets as each database must keep them; each database's test class runs all of it.</summary>
public abstract class VirtualKeyContract : IAsyncLifetime
{
    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));

    protected TriageDatabase Database { get; private set; } = null!;

    protected VirtualKeyStore Keys { get; private set; } = null!;

    protected RateLimiter Limiter { get; private set; } = null!;

    protected BudgetLedger Ledger { get; private set; } = null!;

    protected abstract Task<StoreOptions> CreateStoreAsync();

    protected virtual Task DropStoreAsync() => Task.CompletedTask;

    /// <summary>Every byte the database holds, as text, to search for secrets in.</summary>
    protected abstract Task<string> DumpAsync();

    public async Task InitializeAsync()
    {
        Database = TriageDatabase.From(await CreateStoreAsync(), Path.GetTempPath());
        await Database.MigrateAsync(CancellationToken.None);
        Keys = new VirtualKeyStore(Database, Clock);
        Limiter = new RateLimiter(Database, Clock);
        Ledger = new BudgetLedger(Database, Clock);
    }

    public Task DisposeAsync() => DropStoreAsync();

    [SkippableFact]
    public async Task A_new_key_is_recognised_by_its_secret_and_the_database_never_holds_the_secret()
    {
        var issued = await Keys.CreateAsync(new KeySpec("payments", ["build_triage"], RequestsPerMinute: 10), default);
        var rotated = await Keys.RotateAsync(issued.Key.Id, TimeSpan.FromHours(1), default);

        Assert.StartsWith("tk-", issued.Secret);
        Assert.True(issued.Secret.Length >= 3 + 32, "at least 128 bits of randomness, base64url");
        Assert.Equal(issued.Key.Id, (await Keys.CheckAsync(issued.Secret, default)).Key?.Id);
        Assert.Equal(issued.Key.Id, (await Keys.CheckAsync(rotated!.Secret, default)).Key?.Id);
        var dump = await DumpAsync();
        Assert.Contains(issued.Key.Id, dump);
        Assert.DoesNotContain(issued.Secret, dump);
        Assert.DoesNotContain(rotated.Secret, dump);
        Assert.DoesNotContain(issued.Secret[KeySecret.PrefixLength..], dump);
        Assert.DoesNotContain(rotated.Secret[KeySecret.PrefixLength..], dump);
    }

    [SkippableFact]
    public async Task Unknown_malformed_revoked_and_expired_keys_are_refused_with_their_reason()
    {
        var revoked = await Keys.CreateAsync(new KeySpec("payments"), default);
        var expiring = await Keys.CreateAsync(new KeySpec("payments", ExpiresAt: Clock.GetUtcNow().AddDays(1)), default);
        await Keys.RevokeAsync(revoked.Key.Id, "leaked in a build log", default);
        Clock.Advance(TimeSpan.FromDays(1));

        Assert.Null((await Keys.CheckAsync(KeySecret.New(), default)).Key);
        Assert.Null((await Keys.CheckAsync("not-a-key", default)).Key);
        Assert.Null((await Keys.CheckAsync(revoked.Secret[..^1] + (revoked.Secret[^1] == 'A' ? 'B' : 'A'), default)).Key);
        var check = await Keys.CheckAsync(revoked.Secret, default);
        Assert.Contains("revoked", check.Failure);
        Assert.Contains("leaked in a build log", check.Failure);
        Assert.Contains("expired", (await Keys.CheckAsync(expiring.Secret, default)).Failure);
    }

    [SkippableFact]
    public async Task A_rotated_out_secret_works_through_its_grace_period_and_not_after()
    {
        var issued = await Keys.CreateAsync(new KeySpec("payments", BudgetUsd: 5, BudgetPeriod: BudgetPeriod.Month), default);
        var rotated = await Keys.RotateAsync(issued.Key.Id, TimeSpan.FromHours(2), default);

        Clock.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));
        Assert.Null((await Keys.CheckAsync(issued.Secret, default)).Failure);
        Assert.Null((await Keys.CheckAsync(rotated!.Secret, default)).Failure);

        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Contains("rotated out", (await Keys.CheckAsync(issued.Secret, default)).Failure);
        var current = await Keys.CheckAsync(rotated.Secret, default);
        Assert.Null(current.Failure);
        Assert.Equal(5m, current.Key!.BudgetUsd);
        Assert.Equal(rotated.Secret[..KeySecret.PrefixLength], (await Keys.FindAsync(issued.Key.Id, default))!.Prefix);
    }

    [SkippableFact]
    public async Task Requests_per_minute_admit_a_minute_s_worth_then_the_steady_rate_and_say_when_to_retry()
    {
        var key = (await Keys.CreateAsync(new KeySpec("payments", RequestsPerMinute: 3), default)).Key;

        var first = new List<bool>();
        for (var i = 0; i < 4; i++)
        {
            first.Add((await Limiter.TryAcquireAsync(key, tokens: 100, default)).Admitted);
        }

        var refused = await Limiter.TryAcquireAsync(key, tokens: 100, default);
        Clock.Advance(TimeSpan.FromSeconds(19));
        var early = await Limiter.TryAcquireAsync(key, tokens: 100, default);
        Clock.Advance(TimeSpan.FromSeconds(1));
        var onTime = await Limiter.TryAcquireAsync(key, tokens: 100, default);

        Assert.Equal([true, true, true, false], first);
        Assert.Equal("rpm", refused.Limit);
        Assert.Equal(TimeSpan.FromSeconds(20), refused.RetryAfter);
        Assert.False(early.Admitted);
        Assert.True(onTime.Admitted);
    }

    [SkippableFact]
    public async Task Tokens_per_minute_count_the_estimate_and_are_corrected_by_what_was_used()
    {
        var key = (await Keys.CreateAsync(new KeySpec("payments", TokensPerMinute: 6000), default)).Key;

        Assert.True((await Limiter.TryAcquireAsync(key, tokens: 3000, default)).Admitted);
        Assert.True((await Limiter.TryAcquireAsync(key, tokens: 3000, default)).Admitted);
        var refused = await Limiter.TryAcquireAsync(key, tokens: 3000, default);
        Assert.Equal("tpm", refused.Limit);
        Assert.Equal(TimeSpan.FromSeconds(30), refused.RetryAfter);

        // Both triages used 1,000 tokens, not 3,000: 4,000 tokens of the minute come back.
        await Limiter.CorrectTokensAsync(key.Id, key.TokensPerMinute, -2000, default);
        await Limiter.CorrectTokensAsync(key.Id, key.TokensPerMinute, -2000, default);
        Assert.True((await Limiter.TryAcquireAsync(key, tokens: 3000, default)).Admitted);
    }

    [SkippableFact]
    public async Task Concurrent_reservations_never_spend_more_than_the_budget()
    {
        var key = (await Keys.CreateAsync(new KeySpec("payments", BudgetUsd: 0.50m, BudgetPeriod: BudgetPeriod.Day), default)).Key;

        var decisions = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            Task.Run(() => Ledger.ReserveAsync($"event-{i}", key, 0.01m, 1000, default))));

        Assert.Equal(50, decisions.Count(d => d.Admitted));
        var refused = decisions.First(d => !d.Admitted);
        Assert.Equal(0m, refused.RemainingUsd);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero), refused.ResetsAt);
        Assert.Equal((0m, refused.ResetsAt), await Ledger.RemainingAsync(key, default));
    }

    [SkippableFact]
    public async Task Admitting_the_same_event_twice_reserves_once()
    {
        var key = (await Keys.CreateAsync(new KeySpec("payments", BudgetUsd: 1m, BudgetPeriod: BudgetPeriod.Week), default)).Key;

        Assert.True((await Ledger.ReserveAsync("event-1", key, 0.4m, 1000, default)).Admitted);
        Assert.True((await Ledger.ReserveAsync("event-1", key, 0.4m, 1000, default)).Admitted);
        Assert.True(await Ledger.IsAdmittedAsync("event-1", default));

        Assert.Equal(0.6m, (await Ledger.RemainingAsync(key, default))!.Value.RemainingUsd);
    }

    [SkippableFact]
    public async Task Settling_charges_the_real_cost_and_billed_failed_attempts_once_and_records_usage()
    {
        var key = (await Keys.CreateAsync(new KeySpec("payments", BudgetUsd: 1m, BudgetPeriod: BudgetPeriod.Month), default)).Key;
        await Ledger.ReserveAsync("event-1", key, 0.30m, 5000, default);
        var result = Completed("event-1", "openai", 0.02m, new TokenUsage(1200, 300)) with
        {
            AttemptHistory =
            [
                new AttemptOutcome("anthropic", AttemptFailure.InvalidAnswer) { Model = "claude-sonnet-4-5", Usage = new TokenUsage(2000, 600), CostUsd = 0.015m },
                new AttemptOutcome("local", AttemptFailure.Transport),
                new AttemptOutcome("openai", "success") { Model = "gpt-4.1-mini", Usage = new TokenUsage(1200, 300), CostUsd = 0.02m },
            ],
        };

        var settlement = await Ledger.SettleAsync(result, default);
        var again = await Ledger.SettleAsync(result, default);

        Assert.NotNull(settlement);
        Assert.Null(again);
        Assert.Equal("payments", settlement.Team);
        Assert.Equal(0.035m, settlement.Calls.Sum(c => c.CostUsd));
        Assert.Equal(1200 + 300 + 2000 + 600 - 5000, settlement.TokenDifference);
        Assert.Equal(1m - 0.035m, (await Ledger.RemainingAsync(key, default))!.Value.RemainingUsd);
        var usage = await new UsageReport(Database).ReadAsync("payments", Clock.GetUtcNow().AddDays(-1), Clock.GetUtcNow().AddDays(1), default);
        var anthropic = Assert.Single(usage.Lines, l => l.Provider == "anthropic");
        Assert.Equal((0L, 1L, 2000L, 0.015m), (anthropic.Triages, anthropic.FailedAttempts, anthropic.InputTokens, anthropic.CostUsd));
        var openai = Assert.Single(usage.Lines, l => l.Provider == "openai");
        Assert.Equal((1L, 0L, 300L, 0.02m), (openai.Triages, openai.FailedAttempts, openai.OutputTokens, openai.CostUsd));
        Assert.Equal(0.035m, usage.CostUsd);
    }

    [SkippableFact]
    public async Task A_cache_hit_costs_nothing_and_counts_as_saved()
    {
        var key = (await Keys.CreateAsync(new KeySpec("payments", BudgetUsd: 1m, BudgetPeriod: BudgetPeriod.Month), default)).Key;
        await Ledger.ReserveAsync("event-1", key, 0.30m, 5000, default);
        var hit = Completed("event-1", "openai", 0m, new TokenUsage(0, 0)) with { Cache = new CacheHit(true, 0.97, "event-0", 0.02m) };

        var settlement = await Ledger.SettleAsync(hit, default);

        Assert.Empty(settlement!.Calls);
        Assert.Equal(0.02m, settlement.SavedUsd);
        Assert.Equal(1m, (await Ledger.RemainingAsync(key, default))!.Value.RemainingUsd);
        var usage = await new UsageReport(Database).ReadAsync(null, Clock.GetUtcNow().AddHours(-1), Clock.GetUtcNow().AddHours(1), default);
        var line = Assert.Single(usage.Lines);
        Assert.Equal(("cache", 1L, 1L, 0m, 0.02m), (line.Provider, line.Triages, line.CacheHits, line.CostUsd, line.SavedUsd));
    }

    [SkippableFact]
    public async Task A_dead_lettered_triage_gives_its_reservation_back_but_pays_what_was_billed()
    {
        var key = (await Keys.CreateAsync(new KeySpec("payments", BudgetUsd: 1m, BudgetPeriod: BudgetPeriod.Month), default)).Key;
        await Ledger.ReserveAsync("event-1", key, 0.30m, 5000, default);
        AttemptOutcome[] attempts =
        [
            new("anthropic", AttemptFailure.InvalidAnswer) { Model = "claude-sonnet-4-5", Usage = new TokenUsage(2000, 600), CostUsd = 0.015m },
            new("openai", AttemptFailure.ServerError),
        ];

        var released = await Ledger.ReleaseAsync("event-1", attempts, default);

        Assert.Equal(0.015m, Assert.Single(released!.Calls).CostUsd);
        Assert.Equal(1m - 0.015m, (await Ledger.RemainingAsync(key, default))!.Value.RemainingUsd);
        Assert.False(await Ledger.IsAdmittedAsync("event-1", default));

        // Replayed after the outage: admitted and reserved again.
        Assert.True((await Ledger.ReserveAsync("event-1", key, 0.30m, 5000, default)).Admitted);
        Assert.Equal(1m - 0.315m, (await Ledger.RemainingAsync(key, default))!.Value.RemainingUsd);
    }

    [SkippableFact]
    public async Task Another_team_cannot_take_over_the_released_charge_of_a_failure()
    {
        var owner = (await Keys.CreateAsync(new KeySpec("payments", BudgetUsd: 1m, BudgetPeriod: BudgetPeriod.Month), default)).Key;
        var other = (await Keys.CreateAsync(new KeySpec("web", BudgetUsd: 1m, BudgetPeriod: BudgetPeriod.Month), default)).Key;
        await Ledger.ReserveAsync("event-1", owner, 0.30m, 5000, default);
        await Ledger.ReleaseAsync("event-1", [], default);

        await Ledger.ReserveAsync("event-1", other, 0.30m, 5000, default);

        Assert.False(await Ledger.IsAdmittedAsync("event-1", default));
        Assert.Equal(1m, (await Ledger.RemainingAsync(other, default))!.Value.RemainingUsd);
    }

    [SkippableFact]
    public async Task A_cancelled_reservation_is_forgotten_so_the_failure_may_be_sent_again()
    {
        var key = (await Keys.CreateAsync(new KeySpec("payments", BudgetUsd: 1m, BudgetPeriod: BudgetPeriod.Month), default)).Key;
        await Ledger.ReserveAsync("event-1", key, 0.30m, 5000, default);

        await Ledger.CancelAsync("event-1", default);

        Assert.False(await Ledger.IsAdmittedAsync("event-1", default));
        Assert.Equal(1m, (await Ledger.RemainingAsync(key, default))!.Value.RemainingUsd);
    }

    [SkippableFact]
    public async Task Budgets_reset_with_the_calendar_period()
    {
        var key = (await Keys.CreateAsync(new KeySpec("payments", BudgetUsd: 0.10m, BudgetPeriod: BudgetPeriod.Day), default)).Key;
        Assert.True((await Ledger.ReserveAsync("event-1", key, 0.10m, 1000, default)).Admitted);
        Assert.False((await Ledger.ReserveAsync("event-2", key, 0.01m, 1000, default)).Admitted);

        Clock.SetUtcNow(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero));

        Assert.True((await Ledger.ReserveAsync("event-2", key, 0.01m, 1000, default)).Admitted);
    }

    private TriageCompleted Completed(string eventId, string provider, decimal cost, TokenUsage usage) => new()
    {
        EventId = eventId,
        Route = "build_triage",
        Summary = "s",
        Category = TriageCategory.CompileError,
        SuspectedCause = "c",
        Provider = provider,
        Model = "gpt-4.1-mini",
        Usage = usage,
        CostUsd = cost,
        CompletedAt = Clock.GetUtcNow(),
    };
}

public sealed class SqliteVirtualKeyTests : VirtualKeyContract, IDisposable
{
    private readonly string file = Path.Combine(Path.GetTempPath(), $"triage-keys-{Guid.NewGuid():N}.db");

    protected override Task<StoreOptions> CreateStoreAsync() => Task.FromResult(new StoreOptions { Sqlite = file });

    protected override async Task<string> DumpAsync()
    {
        await using (var db = Database.CreateContext())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);");
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var bytes = new List<byte>(await File.ReadAllBytesAsync(file));
        if (File.Exists(file + "-wal"))
        {
            bytes.AddRange(await File.ReadAllBytesAsync(file + "-wal"));
        }

        return System.Text.Encoding.Latin1.GetString(bytes.ToArray());
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var path in new[] { file, file + "-wal", file + "-shm" })
        {
            File.Delete(path);
        }
    }
}

public sealed class PostgresVirtualKeyTests : VirtualKeyContract
{
    private Infrastructure.PostgresDatabase? database;

    protected override async Task<StoreOptions> CreateStoreAsync()
    {
        database = await Infrastructure.PostgresDatabase.CreateAsync();
        return new StoreOptions { Postgres = database.ConnectionString };
    }

    /// <summary>Every row of every table of the database, as PostgreSQL prints it.</summary>
    protected override async Task<string> DumpAsync()
    {
        var (tables, rows) = await database!.DumpAsync();
        Assert.Contains("key_secrets", tables);
        return rows;
    }

    protected override async Task DropStoreAsync()
    {
        if (database is not null)
        {
            await database.DisposeAsync();
        }
    }
}
