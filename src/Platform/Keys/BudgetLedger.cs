using Microsoft.EntityFrameworkCore;
using Triage.Contracts;
using Triage.Platform.Store;

namespace Triage.Platform.Keys;

/// <summary>
/// Budgets and usage. A triage reserves an estimate of its cost when it is admitted (once per event id, however often
/// it is delivered), and settles with what it really cost when it completes, or releases the reservation when it is
/// dead-lettered (keeping what failed attempts were billed). The reservation is one conditional UPDATE of the key's
/// period row, so concurrent admissions never spend more than the budget.
/// </summary>
public sealed class BudgetLedger(TriageDatabase database, TimeProvider time)
{
    /// <summary>The team name of triages made without a key (the gateway runs open).</summary>
    public const string NoTeam = "none";

    /// <summary>Reserves <paramref name="estimateUsd"/> of the key's budget for one triage.</summary>
    public async Task<BudgetDecision> ReserveAsync(
        string eventId, VirtualKey key, decimal estimateUsd, int estimateTokens, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var period = key.BudgetPeriod is { } name ? BudgetPeriod.Start(name, now) : DateTimeOffset.UnixEpoch;
        var estimate = Micros.FromUsd(estimateUsd);
        var created = now.ToUnixTimeMilliseconds();
        var periodMs = period.ToUnixTimeMilliseconds();
        await using var db = database.CreateContext();
        return await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var inserted = await db.Database.ExecuteSqlAsync(
                $"""
                INSERT INTO charges (event_id, key_id, team, period_start, reserved_micros, reserved_tokens, charged_micros, state, created_at)
                VALUES ({eventId}, {key.Id}, {key.Team}, {periodMs}, {estimate}, {estimateTokens}, 0, {ChargeState.Reserved}, {created})
                ON CONFLICT (event_id) DO UPDATE SET
                    key_id = excluded.key_id, team = excluded.team, period_start = excluded.period_start,
                    reserved_micros = excluded.reserved_micros, reserved_tokens = excluded.reserved_tokens,
                    charged_micros = 0, state = excluded.state, created_at = excluded.created_at, settled_at = NULL
                WHERE charges.state = {ChargeState.Released} AND charges.key_id = excluded.key_id
                """,
                cancellationToken);
            if (inserted == 0)
            {
                // Admitted before (Ingest, then the router; or a redelivery): one reservation per triage.
                await transaction.CommitAsync(cancellationToken);
                return BudgetDecision.Accepted;
            }

            if (key.BudgetUsd is { } budget)
            {
                var limit = Micros.FromUsd(budget);
                await db.Database.ExecuteSqlAsync(
                    $"""
                    INSERT INTO budget_usage (key_id, period_start, reserved_micros, spent_micros, saved_micros)
                    VALUES ({key.Id}, {periodMs}, 0, 0, 0)
                    ON CONFLICT (key_id, period_start) DO NOTHING
                    """,
                    cancellationToken);
                var reserved = await db.Database.ExecuteSqlAsync(
                    $"""
                    UPDATE budget_usage SET reserved_micros = reserved_micros + {estimate}
                    WHERE key_id = {key.Id} AND period_start = {periodMs}
                      AND spent_micros + reserved_micros + {estimate} <= {limit}
                    """,
                    cancellationToken);
                if (reserved == 0)
                {
                    await transaction.RollbackAsync(cancellationToken);
                    var remaining = await RemainingMicrosAsync(db, key.Id, periodMs, limit, cancellationToken);
                    return new BudgetDecision(false, Micros.ToUsd(remaining), BudgetPeriod.Reset(key.BudgetPeriod!, now));
                }
            }

            await transaction.CommitAsync(cancellationToken);
            return BudgetDecision.Accepted;
        });
    }

    /// <summary>True when the failure was admitted under a key before (by Ingest, or by an earlier delivery).</summary>
    public async Task<bool> IsAdmittedAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await db.Charges.AnyAsync(c => c.EventId == eventId && c.State != ChargeState.Released, cancellationToken);
    }

    /// <summary>
    /// The team whose key the triage of <paramref name="eventId"/> is charged to; null when no key was charged (the
    /// gateway ran open, or the failure was never admitted), which no team's key may claim.
    /// </summary>
    public async Task<string?> TeamOfAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await db.Charges.AsNoTracking()
            .Where(c => c.EventId == eventId && c.KeyId != null)
            .Select(c => c.Team)
            .SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>Forgets a reservation that was never used (the broker did not take the failure), so that the same failure may be sent again.</summary>
    public async Task CancelAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var charge = await db.Charges.AsNoTracking().SingleOrDefaultAsync(c => c.EventId == eventId && c.State == ChargeState.Reserved, cancellationToken);
            if (charge is not null
                && await db.Charges.Where(c => c.EventId == eventId && c.State == ChargeState.Reserved).ExecuteDeleteAsync(cancellationToken) == 1
                && charge.KeyId is { } keyId)
            {
                var periodMs = charge.PeriodStart.ToUnixTimeMilliseconds();
                await db.Database.ExecuteSqlAsync(
                    $"UPDATE budget_usage SET reserved_micros = reserved_micros - {charge.ReservedMicros} WHERE key_id = {keyId} AND period_start = {periodMs}",
                    cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        });
    }

    /// <summary>
    /// Settles a completed triage: what it cost (its own call and the billed failed attempts before it), or what it
    /// saved when the cache answered. Idempotent on the event id. Returns the charges made, for metrics.
    /// </summary>
    public Task<Settlement?> SettleAsync(TriageCompleted result, CancellationToken cancellationToken)
    {
        var calls = Billed(result.AttemptHistory).ToList();
        if (result.Cache is null)
        {
            calls.Add(new BilledCall(result.Provider, result.Model, result.Usage, result.CostUsd, Failed: false));
        }

        return CloseAsync(result.EventId, ChargeState.Settled, calls, result.Cache?.SavedCostUsd ?? 0, cancellationToken, cacheHit: result.Cache is not null, result);
    }

    /// <summary>Releases the reservation of a dead-lettered triage, charging only what failed attempts were billed.</summary>
    public Task<Settlement?> ReleaseAsync(string eventId, IReadOnlyList<AttemptOutcome> attempts, CancellationToken cancellationToken) =>
        CloseAsync(eventId, ChargeState.Released, Billed(attempts).ToList(), savedUsd: 0, cancellationToken);

    /// <summary>What a key has left in its current period; null without a budget.</summary>
    public async Task<(decimal RemainingUsd, DateTimeOffset ResetsAt)?> RemainingAsync(VirtualKey key, CancellationToken cancellationToken)
    {
        if (key.BudgetUsd is not { } budget || key.BudgetPeriod is not { } name)
        {
            return null;
        }

        var now = time.GetUtcNow();
        await using var db = database.CreateContext();
        var remaining = await RemainingMicrosAsync(db, key.Id, BudgetPeriod.Start(name, now).ToUnixTimeMilliseconds(), Micros.FromUsd(budget), cancellationToken);
        return (Micros.ToUsd(remaining), BudgetPeriod.Reset(name, now));
    }

    private static IEnumerable<BilledCall> Billed(IEnumerable<AttemptOutcome> attempts) =>
        attempts.Where(a => a.Outcome != AttemptOutcome.Success && (a.CostUsd > 0 || a.Usage is not null))
            .Select(a => new BilledCall(a.Provider, a.Model ?? "unknown", a.Usage ?? new TokenUsage(0, 0), a.CostUsd, Failed: true));

    private async Task<Settlement?> CloseAsync(
        string eventId,
        string state,
        List<BilledCall> calls,
        decimal savedUsd,
        CancellationToken cancellationToken,
        bool cacheHit = false,
        TriageCompleted? result = null)
    {
        var now = time.GetUtcNow();
        var charged = calls.Sum(c => Micros.FromUsd(c.CostUsd));
        var saved = Micros.FromUsd(savedUsd);
        await using var db = database.CreateContext();
        return await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            db.ChangeTracker.Clear();
            var charge = await db.Charges.AsNoTracking().SingleOrDefaultAsync(c => c.EventId == eventId, cancellationToken);
            if (charge is null && calls.Count == 0 && !cacheHit)
            {
                // Nothing was reserved and nothing was paid for (a failure parked before any attempt).
                await transaction.CommitAsync(cancellationToken);
                return null;
            }

            if (charge is null)
            {
                // Admitted by nobody: the gateway runs open, or the failure was published straight to the broker.
                charge = new ChargeRecord { EventId = eventId, Team = NoTeam, State = ChargeState.Reserved, PeriodStart = DateTimeOffset.UnixEpoch, CreatedAt = now };
                db.Charges.Add(charge);
                await db.SaveChangesAsync(cancellationToken);
                db.ChangeTracker.Clear();
            }

            if (charge.State != ChargeState.Reserved)
            {
                // Settled or released before: a redelivered result changes nothing.
                await transaction.CommitAsync(cancellationToken);
                return null;
            }

            var closed = await db.Charges.Where(c => c.EventId == eventId && c.State == ChargeState.Reserved)
                .ExecuteUpdateAsync(
                    set => set.SetProperty(c => c.State, state).SetProperty(c => c.ChargedMicros, charged).SetProperty(c => c.SettledAt, now),
                    cancellationToken);
            if (closed == 0)
            {
                // Another delivery of the same result closed it first.
                await transaction.CommitAsync(cancellationToken);
                return null;
            }
            if (charge.KeyId is { } keyId)
            {
                var periodMs = charge.PeriodStart.ToUnixTimeMilliseconds();
                await db.Database.ExecuteSqlAsync(
                    $"""
                    UPDATE budget_usage
                    SET reserved_micros = reserved_micros - {charge.ReservedMicros}, spent_micros = spent_micros + {charged}, saved_micros = saved_micros + {saved}
                    WHERE key_id = {keyId} AND period_start = {periodMs}
                    """,
                    cancellationToken);
            }

            var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
            var usageKey = charge.KeyId ?? string.Empty;
            foreach (var call in calls)
            {
                await AddUsageAsync(db, hour, usageKey, charge.Team, call.Provider, call.Model, triages: call.Failed ? 0 : 1, failed: call.Failed ? 1 : 0, hits: 0, call.Usage, Micros.FromUsd(call.CostUsd), 0, cancellationToken);
            }

            if (cacheHit && result is not null)
            {
                await AddUsageAsync(db, hour, usageKey, charge.Team, "cache", result.Model, triages: 1, failed: 0, hits: 1, new TokenUsage(0, 0), 0, saved, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            var tokens = calls.Sum(c => c.Usage.InputTokens + c.Usage.OutputTokens);
            return new Settlement(charge.KeyId, charge.Team, calls, savedUsd, tokens - charge.ReservedTokens);
        });
    }

    private static Task<int> AddUsageAsync(
        TriageDbContext db, long hour, string keyId, string team, string provider, string model,
        int triages, int failed, int hits, TokenUsage usage, long cost, long saved, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO usage_hourly (hour, key_id, team, provider, model, triages, failed_attempts, cache_hits, input_tokens, output_tokens, cost_micros, saved_micros)
            VALUES ({hour}, {keyId}, {team}, {provider}, {model}, {triages}, {failed}, {hits}, {usage.InputTokens}, {usage.OutputTokens}, {cost}, {saved})
            ON CONFLICT (hour, key_id, provider, model) DO UPDATE SET
                triages = usage_hourly.triages + excluded.triages,
                failed_attempts = usage_hourly.failed_attempts + excluded.failed_attempts,
                cache_hits = usage_hourly.cache_hits + excluded.cache_hits,
                input_tokens = usage_hourly.input_tokens + excluded.input_tokens,
                output_tokens = usage_hourly.output_tokens + excluded.output_tokens,
                cost_micros = usage_hourly.cost_micros + excluded.cost_micros,
                saved_micros = usage_hourly.saved_micros + excluded.saved_micros
            """,
            cancellationToken);

    private static async Task<long> RemainingMicrosAsync(TriageDbContext db, string keyId, long periodMs, long limit, CancellationToken cancellationToken)
    {
        var period = DateTimeOffset.FromUnixTimeMilliseconds(periodMs);
        var used = await db.BudgetUsage.AsNoTracking()
            .Where(b => b.KeyId == keyId && b.PeriodStart == period)
            .Select(b => b.SpentMicros + b.ReservedMicros)
            .SingleOrDefaultAsync(cancellationToken);
        return Math.Max(0, limit - used);
    }
}

/// <summary>Whether the budget admitted a triage; when not, what is left and when the period resets.</summary>
public sealed record BudgetDecision(bool Admitted, decimal RemainingUsd = 0, DateTimeOffset ResetsAt = default)
{
    public static BudgetDecision Accepted { get; } = new(true);
}

/// <summary>One provider call that was paid for: the triage's own, or a failed attempt the provider billed.</summary>
public sealed record BilledCall(string Provider, string Model, TokenUsage Usage, decimal CostUsd, bool Failed);

/// <summary>What settling or releasing a triage charged, and to whom.</summary>
/// <param name="TokenDifference">Tokens really used minus those estimated at admission (for the tokens-per-minute limit).</param>
public sealed record Settlement(string? KeyId, string Team, IReadOnlyList<BilledCall> Calls, decimal SavedUsd, int TokenDifference);
