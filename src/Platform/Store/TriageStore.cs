using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Triage.Contracts;

namespace Triage.Platform.Store;

/// <summary>Where accepted failures and their triages are kept. Idempotent on the event id everywhere.</summary>
public interface ITriageStore
{
    /// <summary>Records an accepted failure as queued; false when the event id is already known.</summary>
    Task<bool> TryAddQueuedAsync(BuildFailed failure, CancellationToken cancellationToken);

    /// <summary>Forgets a queued failure whose publication failed, so that the caller may send it again.</summary>
    Task RemoveQueuedAsync(string eventId, CancellationToken cancellationToken);

    /// <summary>Notes that a queued failure was sent to a provider's pool, so that a duplicate is not sent again.</summary>
    /// <param name="cacheExcerpt">The redacted excerpt the cache will remember the result by; null when it must not.</param>
    Task MarkRoutedAsync(string eventId, string? cacheExcerpt, CancellationToken cancellationToken);

    /// <summary>
    /// What the cache needs to remember a failure's result: its route, repository and redacted excerpt; null once a
    /// result is recorded, so that a late second result never replaces the one the store kept.
    /// </summary>
    Task<CacheSource?> FindCacheSourceAsync(string eventId, CancellationToken cancellationToken);

    Task<StoredTriage?> FindAsync(string eventId, CancellationToken cancellationToken);

    /// <summary>Notes that no provider could triage the failure; a result recorded later still wins.</summary>
    Task MarkDeadLetteredAsync(string eventId, CancellationToken cancellationToken);

    /// <summary>
    /// Queues a dead-lettered failure again for its <paramref name="replay"/>-th replay; false when it is not dead-lettered
    /// or took that replay already (a replay published twice is triaged once).
    /// </summary>
    Task<bool> TakeReplayAsync(string eventId, int replay, CancellationToken cancellationToken);

    /// <summary>Stores a result; false when the failure already had one (the first result wins).</summary>
    Task<bool> RecordCompletedAsync(TriageCompleted result, CancellationToken cancellationToken);
}

public sealed record StoredTriage(string EventId, string Status, DateTimeOffset ReceivedAt, TriageCompleted? Result);

public sealed record CacheSource(string Route, string? Repository, string Excerpt);

/// <summary>The store on EF Core: the same code for PostgreSQL and SQLite.</summary>
/// <param name="recorded">Told of every outcome this store records, for the requests waiting on one; none outside a gateway.</param>
public sealed class EfTriageStore(TriageDatabase database, RecordedTriages? recorded = null) : ITriageStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<bool> TryAddQueuedAsync(BuildFailed failure, CancellationToken cancellationToken)
    {
        // Insert first: a new failure, the common case, costs one round trip; a duplicate is told by the key.
        await using var db = database.CreateContext();
        db.Triages.Add(new TriageRecord
        {
            EventId = failure.EventId,
            Route = failure.Route,
            Source = failure.Source,
            Job = failure.Job,
            BuildNumber = failure.BuildNumber,
            Repository = failure.Repository,
            Status = TriageStatus.Queued,
            ReceivedAt = failure.ReceivedAt,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            if (await ExistsAsync(failure.EventId, cancellationToken))
            {
                // Two deliveries of the same failure raced; the other one inserted it.
                return false;
            }

            throw;
        }
    }

    public async Task RemoveQueuedAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        await db.Triages.Where(t => t.EventId == eventId && t.Status == TriageStatus.Queued)
            .ExecuteDeleteAsync(cancellationToken);
    }

    public async Task MarkRoutedAsync(string eventId, string? cacheExcerpt, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        await db.Triages.Where(t => t.EventId == eventId && (t.Status == TriageStatus.Queued || t.Status == TriageStatus.Routed))
            .ExecuteUpdateAsync(
                set => set.SetProperty(t => t.Status, TriageStatus.Routed).SetProperty(t => t.CacheExcerpt, cacheExcerpt),
                cancellationToken);
    }

    public async Task<CacheSource?> FindCacheSourceAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        var found = await db.Triages.AsNoTracking()
            .Where(t => t.EventId == eventId && t.CacheExcerpt != null && t.Status != TriageStatus.Completed)
            .Select(t => new { t.Route, t.Repository, t.CacheExcerpt })
            .SingleOrDefaultAsync(cancellationToken);
        return found is null ? null : new CacheSource(found.Route, found.Repository, found.CacheExcerpt!);
    }

    public async Task MarkDeadLetteredAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        var marked = await db.Triages.Where(t => t.EventId == eventId && t.Status != TriageStatus.Completed)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, TriageStatus.DeadLettered), cancellationToken);
        if (marked > 0)
        {
            recorded?.Recorded(eventId);
        }
    }

    public async Task<bool> TakeReplayAsync(string eventId, int replay, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await db.Triages.Where(t => t.EventId == eventId && t.Status == TriageStatus.DeadLettered && t.Replays < replay)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, TriageStatus.Queued).SetProperty(t => t.Replays, replay), cancellationToken) == 1;
    }

    public async Task<StoredTriage?> FindAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        var record = await db.Triages.AsNoTracking().SingleOrDefaultAsync(t => t.EventId == eventId, cancellationToken);
        if (record is null)
        {
            return null;
        }

        var result = record.Result is null ? null : JsonSerializer.Deserialize<TriageCompleted>(record.Result, Json);
        return new StoredTriage(record.EventId, record.Status, record.ReceivedAt, result);
    }

    public async Task<bool> RecordCompletedAsync(TriageCompleted result, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(result, Json);
        await using var db = database.CreateContext();

        // One conditional update decides the race between two deliveries of a result: the first wins.
        var updated = await db.Triages
            .Where(t => t.EventId == result.EventId && t.Status != TriageStatus.Completed)
            .ExecuteUpdateAsync(
                set => set
                    .SetProperty(t => t.Status, TriageStatus.Completed)
                    .SetProperty(t => t.CompletedAt, result.CompletedAt)
                    .SetProperty(t => t.Category, result.Category)
                    .SetProperty(t => t.Provider, result.Provider)
                    .SetProperty(t => t.Model, result.Model)
                    .SetProperty(t => t.InputTokens, result.Usage.InputTokens)
                    .SetProperty(t => t.OutputTokens, result.Usage.OutputTokens)
                    .SetProperty(t => t.CostUsd, result.CostUsd)
                    .SetProperty(t => t.Result, json),
                cancellationToken);
        if (updated == 1)
        {
            recorded?.Recorded(result.EventId);
            return true;
        }

        if (await ExistsAsync(result.EventId, cancellationToken))
        {
            return false;
        }

        // A result for a failure the store never saw queued (published straight to the broker by a producer).
        db.Triages.Add(new TriageRecord
        {
            EventId = result.EventId,
            Route = result.Route,
            Source = "unknown",
            Job = "unknown",
            BuildNumber = "unknown",
            Status = TriageStatus.Completed,
            ReceivedAt = result.CompletedAt,
            CompletedAt = result.CompletedAt,
            Category = result.Category,
            Provider = result.Provider,
            Model = result.Model,
            InputTokens = result.Usage.InputTokens,
            OutputTokens = result.Usage.OutputTokens,
            CostUsd = result.CostUsd,
            Result = json,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another delivery inserted it meanwhile: the conditional update decides between the two. Any other
            // failure (a value the column cannot hold) is thrown, so the message faults instead of looping.
            if (!await ExistsAsync(result.EventId, cancellationToken))
            {
                throw;
            }

            db.ChangeTracker.Clear();
            return await RecordCompletedAsync(result, cancellationToken);
        }
    }

    private async Task<bool> ExistsAsync(string eventId, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await db.Triages.AnyAsync(t => t.EventId == eventId, cancellationToken);
    }
}
