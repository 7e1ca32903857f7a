using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Triage.Contracts;
using Triage.Ingest.BuildFailures;
using Triage.Platform.Configuration;
using Triage.Platform.Store;

namespace Triage.Tests.Store;

/// <summary>
/// <c>?wait=</c> answers as soon as the triage is stored: at once when this process records it, by polling when another
/// process does. The clock is fake and never moves unless a test moves it, so a poll cannot be what answers.
/// </summary>
public sealed class TriageWaitTests : IAsyncLifetime, IDisposable
{
    private readonly string file = Path.Combine(Path.GetTempPath(), $"triage-wait-{Guid.NewGuid():N}.db");
    private readonly FakeTimeProvider time = new();
    private readonly RecordedTriages recorded = new();
    private TriageDatabase database = null!;

    public async Task InitializeAsync()
    {
        database = TriageDatabase.From(new StoreOptions { Sqlite = file }, Path.GetTempPath());
        await database.MigrateAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_wait_ends_as_soon_as_this_process_records_the_result()
    {
        var store = new EfTriageStore(database, recorded);
        var failure = await QueuedAsync(store);
        var waiting = TriageWait.ForResultAsync(store, recorded, failure.EventId, TimeSpan.FromSeconds(30), time, CancellationToken.None);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);

        await store.RecordCompletedAsync(Result(failure.EventId), CancellationToken.None);

        var stored = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("fake", stored?.Result?.Provider);
    }

    [Fact]
    public async Task A_wait_ends_when_this_process_dead_letters_the_failure()
    {
        var store = new EfTriageStore(database, recorded);
        var failure = await QueuedAsync(store);
        var waiting = TriageWait.ForResultAsync(store, recorded, failure.EventId, TimeSpan.FromSeconds(30), time, CancellationToken.None);

        await store.MarkDeadLetteredAsync(failure.EventId, CancellationToken.None);

        var stored = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(TriageStatus.DeadLettered, stored?.Status);
    }

    [Fact]
    public async Task A_wait_finds_a_result_recorded_by_another_process_on_its_next_poll()
    {
        var store = new EfTriageStore(database, recorded);
        var otherProcess = new EfTriageStore(database);
        var failure = await QueuedAsync(store);
        var waiting = TriageWait.ForResultAsync(store, recorded, failure.EventId, TimeSpan.FromSeconds(30), time, CancellationToken.None);

        await otherProcess.RecordCompletedAsync(Result(failure.EventId), CancellationToken.None);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);

        for (var i = 0; i < 100 && !waiting.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(200));
            await Task.Delay(10);
        }

        var stored = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("fake", stored?.Result?.Provider);
    }

    [Fact]
    public async Task The_SQLite_store_lets_SQLite_queue_its_writers_instead_of_sleeping_a_thread_per_retry()
    {
        await using var db = database.CreateContext();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();

        command.CommandText = "PRAGMA busy_timeout;";
        var busyTimeout = Convert.ToInt64(await command.ExecuteScalarAsync());

        Assert.True(busyTimeout > 0, "no busy timeout: a writer that meets another gets SQLITE_BUSY and a 150 ms Thread.Sleep");
        Assert.DoesNotContain("Cache=Shared", connection.ConnectionString, StringComparison.OrdinalIgnoreCase);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var path in new[] { file, file + "-wal", file + "-shm" })
        {
            File.Delete(path);
        }
    }

    private static async Task<BuildFailed> QueuedAsync(ITriageStore store)
    {
        var failure = Infrastructure.Samples.Failure("log", "wait-" + Guid.NewGuid().ToString("N"));
        await store.TryAddQueuedAsync(failure, CancellationToken.None);
        return failure;
    }

    private static TriageCompleted Result(string eventId) => Infrastructure.Samples.Result(eventId, "fake");
}
