using Triage.Contracts;
using Triage.Platform.Configuration;
using Triage.Platform.Store;

namespace Triage.Tests.Store;

/// <summary>What every store adapter must do; each adapter's test class runs all of it.</summary>
public abstract class TriageStoreContract : IAsyncLifetime
{
    protected ITriageStore Store { get; private set; } = null!;

    protected abstract Task<StoreOptions> CreateStoreAsync();

    protected virtual Task DropStoreAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        var database = TriageDatabase.From(await CreateStoreAsync(), Path.GetTempPath());
        await database.MigrateAsync(CancellationToken.None);
        Store = new EfTriageStore(database);
    }

    public Task DisposeAsync() => DropStoreAsync();

    [SkippableFact]
    public async Task A_queued_failure_is_found_as_queued()
    {
        var failure = Failure();

        Assert.True(await Store.TryAddQueuedAsync(failure, default));
        var found = await Store.FindAsync(failure.EventId, default);

        Assert.Equal(TriageStatus.Queued, found?.Status);
        Assert.Null(found?.Result);
    }

    [SkippableFact]
    public async Task The_same_event_id_is_queued_once()
    {
        var failure = Failure();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Store.TryAddQueuedAsync(failure, default)));

        Assert.Single(outcomes, added => added);
    }

    [SkippableFact]
    public async Task The_first_result_wins_and_later_ones_change_nothing()
    {
        var failure = Failure();
        await Store.TryAddQueuedAsync(failure, default);
        await Store.MarkRoutedAsync(failure.EventId, null, default);

        Assert.True(await Store.RecordCompletedAsync(Result(failure.EventId, "first"), default));
        Assert.False(await Store.RecordCompletedAsync(Result(failure.EventId, "second"), default));

        var found = await Store.FindAsync(failure.EventId, default);
        Assert.Equal(TriageStatus.Completed, found?.Status);
        Assert.Equal("first", found?.Result?.Provider);
        Assert.Equal(new TokenUsage(100, 20), found?.Result?.Usage);
        Assert.Equal(0.0012m, found?.Result?.CostUsd);
    }

    [SkippableFact]
    public async Task Concurrent_results_for_one_failure_record_exactly_one()
    {
        var failure = Failure();
        await Store.TryAddQueuedAsync(failure, default);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Store.RecordCompletedAsync(Result(failure.EventId, $"p{i}"), default)));

        Assert.Single(outcomes, recorded => recorded);
    }

    [SkippableFact]
    public async Task A_result_for_a_failure_never_queued_is_still_recorded()
    {
        var id = "unseen-" + Guid.NewGuid().ToString("N");

        Assert.True(await Store.RecordCompletedAsync(Result(id, "p"), default));

        Assert.Equal(TriageStatus.Completed, (await Store.FindAsync(id, default))?.Status);
    }

    [SkippableFact]
    public async Task Routing_marks_only_a_queued_failure_and_removing_forgets_only_a_queued_one()
    {
        var routed = Failure();
        var removed = Failure();
        await Store.TryAddQueuedAsync(routed, default);
        await Store.TryAddQueuedAsync(removed, default);

        await Store.MarkRoutedAsync(routed.EventId, null, default);
        await Store.RemoveQueuedAsync(routed.EventId, default);
        await Store.RemoveQueuedAsync(removed.EventId, default);

        Assert.Equal(TriageStatus.Routed, (await Store.FindAsync(routed.EventId, default))?.Status);
        Assert.Null(await Store.FindAsync(removed.EventId, default));
    }

    private static BuildFailed Failure() => Infrastructure.Samples.Failure("log", "store-" + Guid.NewGuid().ToString("N"));

    private static TriageCompleted Result(string eventId, string provider) => Infrastructure.Samples.Result(eventId, provider);
}

public sealed class SqliteTriageStoreTests : TriageStoreContract, IDisposable
{
    private readonly string file = Path.Combine(Path.GetTempPath(), $"triage-store-{Guid.NewGuid():N}.db");

    protected override Task<StoreOptions> CreateStoreAsync() => Task.FromResult(new StoreOptions { Sqlite = file });

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var path in new[] { file, file + "-wal", file + "-shm" })
        {
            File.Delete(path);
        }
    }
}

public sealed class PostgresTriageStoreTests : TriageStoreContract
{
    private Infrastructure.PostgresDatabase? database;

    protected override async Task<StoreOptions> CreateStoreAsync()
    {
        database = await Infrastructure.PostgresDatabase.CreateAsync();
        return new StoreOptions { Postgres = database.ConnectionString };
    }

    protected override async Task DropStoreAsync()
    {
        if (database is not null)
        {
            await database.DisposeAsync();
        }
    }
}
