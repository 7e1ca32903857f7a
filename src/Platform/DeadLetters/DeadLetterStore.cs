using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Triage.Contracts;
using Triage.Platform.Store;

namespace Triage.Platform.DeadLetters;

/// <summary>Which dead letters a list, a replay or an archive is about. Unset parts match everything.</summary>
public sealed record DeadLetterFilter(
    IReadOnlyList<string>? Ids = null,
    string? Group = null,
    string? Route = null,
    DateTimeOffset? Since = null,
    string? Status = null)
{
    public bool IsEmpty => Ids is not { Count: > 0 } && Group is null && Route is null && Since is null;

    internal IQueryable<DeadLetterRecord> Apply(IQueryable<DeadLetterRecord> letters)
    {
        if (Ids is { Count: > 0 } ids)
        {
            letters = letters.Where(d => ids.Contains(d.EventId));
        }

        if (Group is { } group)
        {
            letters = letters.Where(d => d.GroupKey == group);
        }

        if (Route is { } route)
        {
            letters = letters.Where(d => d.Route == route);
        }

        if (Since is { } since)
        {
            letters = letters.Where(d => d.LastFailedAt >= since);
        }

        if (Status is { } status)
        {
            letters = letters.Where(d => d.Status == status);
        }

        return letters;
    }
}

/// <summary>A dead letter as operators see it.</summary>
public sealed record DeadLetter(
    string EventId,
    string Route,
    string Group,
    string Reason,
    string? Detail,
    string Status,
    DateTimeOffset FirstFailedAt,
    DateTimeOffset LastFailedAt,
    int TimesDeadLettered,
    int ReplayCount,
    DateTimeOffset? ReplayedAt,
    IReadOnlyList<AttemptOutcome> Attempts,
    BuildFailed Failure);

/// <summary>Dead letters that failed alike: how many wait, since when.</summary>
public sealed record DeadLetterGroup(string Group, string Route, string Reason, int Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen);

/// <summary>
/// Dead letters in the store: written by the router in the consumer that dead-letters, before its message is
/// acknowledged (a redelivery writes the same row again), read and changed by replays and operators.
/// </summary>
public sealed class DeadLetterStore(TriageDatabase database, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string GroupOf(string route, string? lastProvider, string reason) =>
        lastProvider is null ? $"{route}/{reason}" : $"{route}/{lastProvider}/{reason}";

    /// <summary>Keeps a dead letter, or updates the one kept when a replay of it failed again.</summary>
    public async Task RecordAsync(TriageDeadLettered dead, CancellationToken cancellationToken)
    {
        var lastProvider = dead.Attempts.Count > 0 ? dead.Attempts[^1].Provider : null;
        var failedAt = dead.DeadLetteredAt == default ? time.GetUtcNow() : dead.DeadLetteredAt;
        var first = dead.Attempts.Select(a => a.At).Where(at => at is not null).Min() ?? failedAt;
        var record = new
        {
            Group = GroupOf(dead.Route, lastProvider, dead.Reason),
            Attempts = JsonSerializer.Serialize(dead.Attempts, Json),
            Failure = JsonSerializer.Serialize(dead.Failure with { LogIsExcerpt = true }, Json),
            First = Math.Min(first.ToUnixTimeMilliseconds(), failedAt.ToUnixTimeMilliseconds()),
            Last = failedAt.ToUnixTimeMilliseconds(),
        };
        await using var db = database.CreateContext();

        // The replay that failed again keeps its first failure time and its replay count, and waits again.
        await db.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO dead_letters (event_id, route, group_key, reason, detail, last_provider, attempts, failure,
                first_failed_at, last_failed_at, times_dead_lettered, status, replay_count)
            VALUES ({dead.EventId}, {dead.Route}, {record.Group}, {dead.Reason}, {dead.Detail}, {lastProvider}, {record.Attempts}, {record.Failure},
                {record.First}, {record.Last}, 1, {DeadLetterStatus.Dead}, 0)
            ON CONFLICT (event_id) DO UPDATE SET
                group_key = excluded.group_key, reason = excluded.reason, detail = excluded.detail,
                last_provider = excluded.last_provider, attempts = excluded.attempts, failure = excluded.failure,
                last_failed_at = excluded.last_failed_at,
                times_dead_lettered = dead_letters.times_dead_lettered + 1,
                status = excluded.status, claimed_at = NULL
            WHERE dead_letters.status <> {DeadLetterStatus.Archived} AND dead_letters.last_failed_at < excluded.last_failed_at
            """,
            cancellationToken);
    }

    /// <summary>A page of dead letters, most recent failure first; <paramref name="after"/> is the last event id of the previous page.</summary>
    public async Task<IReadOnlyList<DeadLetter>> ListAsync(DeadLetterFilter filter, int limit, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        var records = await filter.Apply(db.DeadLetters.AsNoTracking())
            .OrderByDescending(d => d.LastFailedAt)
            .ThenBy(d => d.EventId)
            .Take(limit)
            .ToListAsync(cancellationToken);
        return records.Select(ToDeadLetter).ToList();
    }

    public async Task<DeadLetter?> FindAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        var record = await db.DeadLetters.AsNoTracking().SingleOrDefaultAsync(d => d.EventId == eventId, cancellationToken);
        return record is null ? null : ToDeadLetter(record);
    }

    public async Task<int> CountAsync(DeadLetterFilter filter, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await filter.Apply(db.DeadLetters.AsNoTracking()).CountAsync(cancellationToken);
    }

    /// <summary>Dead letters that failed alike, largest group first (waiting ones unless the filter names a status).</summary>
    public async Task<IReadOnlyList<DeadLetterGroup>> GroupsAsync(DeadLetterFilter filter, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        var groups = await (filter with { Status = filter.Status ?? DeadLetterStatus.Dead }).Apply(db.DeadLetters.AsNoTracking())
            .GroupBy(d => new { d.GroupKey, d.Route, d.Reason })
            .Select(g => new { g.Key.GroupKey, g.Key.Route, g.Key.Reason, Count = g.Count(), First = g.Min(d => d.FirstFailedAt), Last = g.Max(d => d.LastFailedAt) })
            .ToListAsync(cancellationToken);
        return groups.Select(g => new DeadLetterGroup(g.GroupKey, g.Route, g.Reason, g.Count, g.First, g.Last))
            .OrderByDescending(g => g.Count)
            .ThenBy(g => g.Group, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Archives the waiting dead letters the filter names: they stay for the record and are never replayed.</summary>
    public async Task<int> ArchiveAsync(DeadLetterFilter filter, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = database.CreateContext();
        return await (filter with { Status = DeadLetterStatus.Dead }).Apply(db.DeadLetters)
            .ExecuteUpdateAsync(set => set.SetProperty(d => d.Status, DeadLetterStatus.Archived).SetProperty(d => d.ArchivedAt, now), cancellationToken);
    }

    /// <summary>
    /// The next event ids a replay may claim, in event id order after <paramref name="after"/>: waiting ones, and ones
    /// whose replay claim is older than <paramref name="lease"/> (the replay that held them stopped).
    /// </summary>
    internal async Task<IReadOnlyList<string>> CandidatesAsync(DeadLetterFilter filter, string? after, int count, TimeSpan lease, CancellationToken cancellationToken)
    {
        var stale = time.GetUtcNow() - lease;
        await using var db = database.CreateContext();
        var letters = (filter with { Status = null }).Apply(db.DeadLetters.AsNoTracking())
            .Where(d => d.Status == DeadLetterStatus.Dead || (d.Status == DeadLetterStatus.Replaying && d.ClaimedAt < stale));
        if (after is not null)
        {
            letters = letters.Where(d => string.Compare(d.EventId, after) > 0);
        }

        return await letters.OrderBy(d => d.EventId).Select(d => d.EventId).Take(count).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Claims dead letters for replay <paramref name="run"/>: a waiting one starts its next replay, one left behind by
    /// a stopped replay keeps that replay's number (publishing it again is harmless: the router takes a replay once).
    /// Returns the failures to publish, each numbered; those another replay holds, or that are gone, are left out.
    /// </summary>
    internal async Task<IReadOnlyList<(int Replay, BuildFailed Failure)>> ClaimAsync(
        IReadOnlyCollection<string> eventIds, string run, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var stale = now - lease;
        await using var db = database.CreateContext();
        await db.DeadLetters
            .Where(d => eventIds.Contains(d.EventId)
                && (d.Status == DeadLetterStatus.Dead || (d.Status == DeadLetterStatus.Replaying && d.ClaimedAt < stale)))
            .ExecuteUpdateAsync(
                set => set
                    .SetProperty(d => d.ReplayCount, d => d.Status == DeadLetterStatus.Dead ? d.ReplayCount + 1 : d.ReplayCount)
                    .SetProperty(d => d.Status, DeadLetterStatus.Replaying)
                    .SetProperty(d => d.ReplayRun, run)
                    .SetProperty(d => d.ClaimedAt, now),
                cancellationToken);
        var claimed = await db.DeadLetters.AsNoTracking()
            .Where(d => eventIds.Contains(d.EventId) && d.Status == DeadLetterStatus.Replaying && d.ReplayRun == run && d.ClaimedAt == now)
            .Select(d => new { d.ReplayCount, d.Failure })
            .ToListAsync(cancellationToken);
        return claimed.Select(c => (c.ReplayCount, JsonSerializer.Deserialize<BuildFailed>(c.Failure, Json)! with { Replay = c.ReplayCount, LogIsExcerpt = true }))
            .ToList();
    }

    /// <summary>Which of these failures completed (a late answer, or an earlier replay): they need no replay.</summary>
    internal async Task<HashSet<string>> CompletedAmongAsync(IReadOnlyCollection<string> eventIds, CancellationToken cancellationToken)
    {
        if (eventIds.Count == 0)
        {
            return [];
        }

        await using var db = database.CreateContext();
        var completed = await db.Triages.AsNoTracking()
            .Where(t => eventIds.Contains(t.EventId) && t.Status == TriageStatus.Completed)
            .Select(t => t.EventId)
            .ToListAsync(cancellationToken);
        return completed.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Marks claimed dead letters replayed; a failure that already died again in the meantime stays dead.</summary>
    internal async Task MarkReplayedAsync(IReadOnlyCollection<string> eventIds, string run, CancellationToken cancellationToken)
    {
        if (eventIds.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow();
        await using var db = database.CreateContext();
        await db.DeadLetters.Where(d => eventIds.Contains(d.EventId) && d.Status == DeadLetterStatus.Replaying && d.ReplayRun == run)
            .ExecuteUpdateAsync(set => set.SetProperty(d => d.Status, DeadLetterStatus.Replayed).SetProperty(d => d.ReplayedAt, now), cancellationToken);
    }

    /// <summary>Gives a claimed dead letter back (its publication failed): it waits again; its next replay gets a new number.</summary>
    internal async Task UnclaimAsync(string eventId, string run, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        await db.DeadLetters.Where(d => d.EventId == eventId && d.Status == DeadLetterStatus.Replaying && d.ReplayRun == run)
            .ExecuteUpdateAsync(set => set.SetProperty(d => d.Status, DeadLetterStatus.Dead), cancellationToken);
    }

    /// <summary>Event ids of the filter still held by replays other than <paramref name="run"/>, and the oldest claim among them.</summary>
    internal async Task<DateTimeOffset?> OldestForeignClaimAsync(DeadLetterFilter filter, string run, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        var claims = await (filter with { Status = DeadLetterStatus.Replaying }).Apply(db.DeadLetters.AsNoTracking())
            .Where(d => d.ReplayRun != run)
            .Select(d => d.ClaimedAt)
            .ToListAsync(cancellationToken);
        return claims.Min();
    }

    /// <summary>How the dead letters of a replay run stand: replayed (published), dead again, still being replayed.</summary>
    public async Task<IReadOnlyDictionary<string, int>> RunStatusAsync(string run, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await db.DeadLetters.AsNoTracking().Where(d => d.ReplayRun == run)
            .GroupBy(d => d.Status)
            .Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
    }

    private static DeadLetter ToDeadLetter(DeadLetterRecord record) => new(
        record.EventId,
        record.Route,
        record.GroupKey,
        record.Reason,
        record.Detail,
        record.Status,
        record.FirstFailedAt,
        record.LastFailedAt,
        record.TimesDeadLettered,
        record.ReplayCount,
        record.ReplayedAt,
        JsonSerializer.Deserialize<List<AttemptOutcome>>(record.Attempts, Json) ?? [],
        JsonSerializer.Deserialize<BuildFailed>(record.Failure, Json)!);
}
