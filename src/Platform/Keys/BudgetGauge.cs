using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Triage.Platform.Store;

namespace Triage.Platform.Keys;

/// <summary>
/// Reads, every five seconds, what each team's budgeted keys have left in their current period, for the
/// <c>triage_budget_remaining_usd</c> gauge. Read from the store, so every process reports the same figure.
/// </summary>
public sealed partial class BudgetGauge(TriageDatabase database, KeyMetrics metrics, TimeProvider time, ILogger<BudgetGauge> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                metrics.Budgets(await ReadAsync(stoppingToken));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogUnreadable(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>USD left in the current period and USD per period, by team, over the team's usable keys with budgets.</summary>
    public async Task<IReadOnlyDictionary<string, (double Remaining, double Limit)>> ReadAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = database.CreateContext();
        var keys = await db.VirtualKeys.AsNoTracking()
            .Where(k => k.BudgetMicros != null && k.RevokedAt == null)
            .Select(k => new { k.Id, k.Team, k.BudgetMicros, k.BudgetPeriodName, k.ExpiresAt })
            .ToListAsync(cancellationToken);
        keys.RemoveAll(k => k.ExpiresAt <= now);
        var ids = keys.Select(k => k.Id).ToList();
        var usage = await db.BudgetUsage.AsNoTracking().Where(b => ids.Contains(b.KeyId)).ToListAsync(cancellationToken);
        return keys
            .GroupBy(k => k.Team)
            .ToDictionary(
                team => team.Key,
                team => (
                    (double)Micros.ToUsd(team.Sum(k =>
                    {
                        var start = BudgetPeriod.Start(k.BudgetPeriodName!, now);
                        var used = usage.Where(u => u.KeyId == k.Id && u.PeriodStart == start).Sum(u => u.SpentMicros + u.ReservedMicros);
                        return Math.Max(0, k.BudgetMicros!.Value - used);
                    })),
                    (double)Micros.ToUsd(team.Sum(k => k.BudgetMicros!.Value))));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the teams' remaining budgets")]
    private static partial void LogUnreadable(ILogger logger, Exception exception);
}
