using Microsoft.EntityFrameworkCore;
using Triage.Platform.Store;

namespace Triage.Platform.Keys;

/// <summary>One line of a usage report: a team's key, provider and model over the period asked for.</summary>
public sealed record UsageLine(
    string Team,
    string KeyId,
    string Provider,
    string Model,
    long Triages,
    long FailedAttempts,
    long CacheHits,
    long InputTokens,
    long OutputTokens,
    decimal CostUsd,
    decimal SavedUsd);

public sealed record UsageSummary(DateTimeOffset From, DateTimeOffset To, string? Team, IReadOnlyList<UsageLine> Lines)
{
    public decimal CostUsd => Lines.Sum(l => l.CostUsd);

    public decimal SavedUsd => Lines.Sum(l => l.SavedUsd);

    public long Triages => Lines.Sum(l => l.Triages);

    public long CacheHits => Lines.Sum(l => l.CacheHits);
}

/// <summary>Adds up the hourly usage table for <c>GET /v1/usage</c> and <c>triage usage</c>.</summary>
public sealed class UsageReport(TriageDatabase database)
{
    /// <summary>
    /// Usage of one team or all, by the hour: from the start of the hour that holds <paramref name="from"/> (usage is
    /// kept per hour, so a report cannot start mid-hour) to the last hour that starts before <paramref name="to"/>.
    /// </summary>
    public async Task<UsageSummary> ReadAsync(string? team, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var start = new DateTimeOffset(from.UtcDateTime.Year, from.UtcDateTime.Month, from.UtcDateTime.Day, from.UtcDateTime.Hour, 0, 0, TimeSpan.Zero);
        await using var db = database.CreateContext();
        var rows = await db.Usage.AsNoTracking()
            .Where(u => u.Hour >= start && u.Hour < to && (team == null || u.Team == team))
            .ToListAsync(cancellationToken);
        var lines = rows
            .GroupBy(u => (u.Team, u.KeyId, u.Provider, u.Model))
            .Select(g => new UsageLine(
                g.Key.Team,
                g.Key.KeyId,
                g.Key.Provider,
                g.Key.Model,
                g.Sum(u => u.Triages),
                g.Sum(u => u.FailedAttempts),
                g.Sum(u => u.CacheHits),
                g.Sum(u => u.InputTokens),
                g.Sum(u => u.OutputTokens),
                Micros.ToUsd(g.Sum(u => u.CostMicros)),
                Micros.ToUsd(g.Sum(u => u.SavedMicros))))
            .OrderBy(l => l.Team, StringComparer.Ordinal)
            .ThenBy(l => l.KeyId, StringComparer.Ordinal)
            .ThenBy(l => l.Provider, StringComparer.Ordinal)
            .ThenBy(l => l.Model, StringComparer.Ordinal)
            .ToList();
        return new UsageSummary(start, to, team, lines);
    }
}
