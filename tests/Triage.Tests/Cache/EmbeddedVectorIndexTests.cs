using System.Numerics.Tensors;
using Microsoft.EntityFrameworkCore;
using Triage.Platform.Configuration;
using Triage.Platform.Store;
using Triage.Router.Cache;

namespace Triage.Tests.Cache;

/// <summary>The embedded index runs the contract over each database the store can live in.</summary>
public abstract class EmbeddedVectorIndexTests : VectorIndexContract
{
    protected TriageDatabase Database { get; private set; } = null!;

    protected abstract Task<StoreOptions> CreateStoreAsync();

    protected override async Task PrepareAsync()
    {
        Database = TriageDatabase.From(await CreateStoreAsync(), Path.GetTempPath());
        await Database.MigrateAsync(CancellationToken.None);
    }

    protected override Task<IVectorIndex> CreateIndexAsync() => Task.FromResult<IVectorIndex>(new EmbeddedVectorIndex(Database));

    [SkippableFact]
    public async Task Entries_are_kept_as_rows_of_the_store_with_little_endian_vectors()
    {
        await Index.UpsertAsync(Entry("failure-1", "acme/api", Angle(60), identity: "id-sig", payload: "{}"), default);
        await Index.UpsertAsync(Entry("failure-1", "acme/api", Angle(30), identity: "id-sig", payload: "{}"), default);

        await using var db = Database.CreateContext();
        var row = await db.CacheEntries.AsNoTracking().SingleAsync(e => e.Collection == Collection.Name);

        Assert.Equal("failure-1", row.Id);
        Assert.Equal(Dimensions, row.Dimensions);
        Assert.Equal(Dimensions * sizeof(float), row.Vector.Length);
        Assert.Equal(MathF.Cos(MathF.PI / 6), BitConverter.ToSingle(row.Vector, 0), 1e-6f);
    }

    [SkippableFact]
    public async Task A_restart_keeps_a_scope_large_enough_for_the_signature_search()
    {
        // Past the exact-scan size the search goes through signatures, which a restart rebuilds from the rows. The
        // rows go in with one insert: an upsert each would time the database, not the index.
        var random = new Random(7);
        var vectors = Enumerable.Range(0, EmbeddedVectorIndex.ExactScanLimit + 500).Select(_ => RandomUnit(random)).ToArray();
        await using (var db = Database.CreateContext())
        {
            db.CacheEntries.AddRange(vectors.Select((vector, i) => new CacheEntryRecord
            {
                Collection = Collection.Name,
                Id = $"e{i}",
                Scope = "acme/api",
                Vector = EmbeddedVectorIndex.Encode(vector),
                Dimensions = Dimensions,
                Identity = "identity",
                CreatedAt = DateTimeOffset.UtcNow,
                Payload = "{}",
            }));
            await db.SaveChangesAsync();
        }

        var restarted = (EmbeddedVectorIndex)await OpenAsync(Collection);
        var found = await restarted.SearchAsync("acme/api", vectors[1234], 1, DateTimeOffset.UnixEpoch, default);

        Assert.Equal(vectors.Length, restarted.Count);
        Assert.Equal("e1234", Assert.Single(found).Entry.Id);
        Assert.Equal(1.0, found[0].Similarity, 1e-4);
    }

    private static float[] RandomUnit(Random random)
    {
        var vector = new float[Dimensions];
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)(random.NextDouble() * 2 - 1);
        }

        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }
}

public sealed class EmbeddedVectorIndexOnSqliteTests : EmbeddedVectorIndexTests
{
    private readonly string file = Path.Combine(Path.GetTempPath(), $"triage-cache-{Guid.NewGuid():N}.db");

    protected override Task<StoreOptions> CreateStoreAsync() => Task.FromResult(new StoreOptions { Sqlite = file });

    protected override Task CleanUpAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var path in new[] { file, file + "-wal", file + "-shm" })
        {
            File.Delete(path);
        }

        return Task.CompletedTask;
    }
}

public sealed class EmbeddedVectorIndexOnPostgresTests : EmbeddedVectorIndexTests
{
    private Infrastructure.PostgresDatabase? database;

    protected override async Task<StoreOptions> CreateStoreAsync()
    {
        database = await Infrastructure.PostgresDatabase.CreateAsync();
        return new StoreOptions { Postgres = database.ConnectionString };
    }

    protected override async Task CleanUpAsync()
    {
        if (database is not null)
        {
            await database.DisposeAsync();
        }
    }
}
