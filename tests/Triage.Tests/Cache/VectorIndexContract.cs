using Triage.Router.Cache;

namespace Triage.Tests.Cache;

/// <summary>
/// What every vector index must do; each adapter's test class runs all of it. Vectors have 8 dimensions and sit at
/// known angles in the plane of the first two axes, so that every expected similarity is a cosine worked out by hand.
/// </summary>
public abstract class VectorIndexContract : IAsyncLifetime
{
    protected const int Dimensions = 8;

    private const double Tolerance = 1e-4;

    private readonly List<IVectorIndex> indexes = [];

    /// <summary>Times in whole milliseconds: the stores keep no finer, and a round trip must compare equal.</summary>
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    private static readonly DateTimeOffset NoTtl = Now.AddDays(-1);

    protected VectorIndexContract()
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        Collection = new CacheCollection($"triage-test-{suffix}", Dimensions);
        OtherCollectionName = $"triage-test-{suffix}-other";
    }

    protected CacheCollection Collection { get; }

    /// <summary>The second collection a test may make; the adapter's cleanup drops it too.</summary>
    protected string OtherCollectionName { get; }

    protected IVectorIndex Index { get; private set; } = null!;

    /// <summary>A new index over the adapter's backing store: a second one over the same store is a restart.</summary>
    protected abstract Task<IVectorIndex> CreateIndexAsync();

    protected virtual Task PrepareAsync() => Task.CompletedTask;

    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        await PrepareAsync();
        Index = await OpenAsync(Collection);
    }

    public async Task DisposeAsync()
    {
        foreach (var index in indexes)
        {
            (index as IDisposable)?.Dispose();
        }

        await CleanUpAsync();
    }

    [SkippableFact]
    public async Task An_upserted_entry_is_found_with_its_identity_and_payload_at_similarity_one()
    {
        var entry = Entry("failure-1", "acme/api", Angle(30), identity: "NullReferenceException at Foo.Bar", payload: """{"summary":"s"}""");

        await Index.UpsertAsync(entry, default);
        var found = await Index.SearchAsync("acme/api", Angle(30), 5, NoTtl, default);

        var hit = Assert.Single(found);
        Assert.Equal(1.0, hit.Similarity, Tolerance);
        Assert.Equal("failure-1", hit.Entry.Id);
        Assert.Equal("acme/api", hit.Entry.Scope);
        Assert.Equal("NullReferenceException at Foo.Bar", hit.Entry.Identity);
        Assert.Equal("""{"summary":"s"}""", hit.Entry.Payload);
        Assert.Equal(Now, hit.Entry.CreatedAt);
        Assert.Equal(entry.Vector.ToArray(), hit.Entry.Vector.ToArray(), (a, b) => Math.Abs(a - b) < Tolerance);
    }

    [SkippableFact]
    public async Task Neighbours_come_nearest_first_and_no_more_than_the_limit()
    {
        foreach (var (id, degrees) in new[] { ("d70", 70), ("d10", 10), ("d50", 50), ("d30", 30), ("d90", 90) })
        {
            await Index.UpsertAsync(Entry(id, "acme/api", Angle(degrees)), default);
        }

        var found = await Index.SearchAsync("acme/api", Angle(0), 3, NoTtl, default);

        Assert.Equal(["d10", "d30", "d50"], found.Select(n => n.Entry.Id));
        Assert.True(found[0].Similarity > found[1].Similarity && found[1].Similarity > found[2].Similarity);
    }

    [SkippableFact]
    public async Task Similarity_is_the_cosine_and_the_index_applies_no_threshold()
    {
        await Index.UpsertAsync(Entry("at-60", "acme/api", Angle(60)), default);
        await Index.UpsertAsync(Entry("at-90", "acme/api", Angle(90)), default);
        await Index.UpsertAsync(Entry("at-120", "acme/api", Angle(120)), default);

        var found = await Index.SearchAsync("acme/api", Angle(0), 10, NoTtl, default);

        var similarity = found.ToDictionary(n => n.Entry.Id, n => n.Similarity);
        Assert.Equal(0.5, similarity["at-60"], Tolerance);
        Assert.Equal(0.0, similarity["at-90"], Tolerance);
        Assert.Equal(-0.5, similarity["at-120"], Tolerance);
    }

    [SkippableFact]
    public async Task An_entry_created_before_not_before_is_left_out()
    {
        await Index.UpsertAsync(Entry("stale", "acme/api", Angle(0), createdAt: Now.AddHours(-2)), default);
        await Index.UpsertAsync(Entry("fresh", "acme/api", Angle(20), createdAt: Now), default);
        await Index.UpsertAsync(Entry("on-the-edge", "acme/api", Angle(40), createdAt: Now.AddHours(-1)), default);

        var found = await Index.SearchAsync("acme/api", Angle(0), 10, Now.AddHours(-1), default);

        Assert.Equal(["fresh", "on-the-edge"], found.Select(n => n.Entry.Id));
    }

    [SkippableFact]
    public async Task An_entry_of_one_scope_is_never_found_for_another()
    {
        await Index.UpsertAsync(Entry("of-a", "acme/a", Angle(0)), default);
        await Index.UpsertAsync(Entry("of-b", "acme/b", Angle(45)), default);

        var forB = await Index.SearchAsync("acme/b", Angle(0), 10, NoTtl, default);
        var forC = await Index.SearchAsync("acme/c", Angle(0), 10, NoTtl, default);

        Assert.Equal(["of-b"], forB.Select(n => n.Entry.Id));
        Assert.Empty(forC);
    }

    [SkippableFact]
    public async Task An_upsert_of_the_same_id_replaces_the_entry()
    {
        await Index.UpsertAsync(Entry("failure-1", "acme/api", Angle(0), payload: "first"), default);
        await Index.UpsertAsync(Entry("failure-1", "acme/api", Angle(90), payload: "second"), default);
        await Index.UpsertAsync(Entry("moved", "acme/api", Angle(10)), default);
        await Index.UpsertAsync(Entry("moved", "acme/web", Angle(10)), default);

        var found = await Index.SearchAsync("acme/api", Angle(90), 10, NoTtl, default);
        var web = await Index.SearchAsync("acme/web", Angle(10), 10, NoTtl, default);

        var replaced = Assert.Single(found);
        Assert.Equal("failure-1", replaced.Entry.Id);
        Assert.Equal("second", replaced.Entry.Payload);
        Assert.Equal(1.0, replaced.Similarity, Tolerance);
        Assert.Equal(["moved"], web.Select(n => n.Entry.Id));
    }

    [SkippableFact]
    public async Task Purge_removes_the_old_entries_and_only_those()
    {
        await Index.UpsertAsync(Entry("three-hours", "acme/api", Angle(0), createdAt: Now.AddHours(-3)), default);
        await Index.UpsertAsync(Entry("two-hours", "acme/web", Angle(10), createdAt: Now.AddHours(-2)), default);
        await Index.UpsertAsync(Entry("now", "acme/api", Angle(20), createdAt: Now), default);

        var purged = await Index.PurgeAsync(Now.AddHours(-1), default);

        Assert.Equal(2, purged);
        var api = await Index.SearchAsync("acme/api", Angle(0), 10, DateTimeOffset.UnixEpoch, default);
        var web = await Index.SearchAsync("acme/web", Angle(0), 10, DateTimeOffset.UnixEpoch, default);
        Assert.Equal(["now"], api.Select(n => n.Entry.Id));
        Assert.Empty(web);
    }

    [SkippableFact]
    public async Task A_collection_of_another_dimension_is_refused_at_start()
    {
        var eight = await OpenAsync(new CacheCollection(OtherCollectionName, 8));
        await eight.UpsertAsync(new CacheEntry("failure-1", "acme/api", Unit(8), "identity", Now, "{}"), default);

        var changed = await CreateIndexAsync();
        indexes.Add(changed);
        var error = await Assert.ThrowsAsync<CacheDimensionMismatchException>(
            () => changed.InitializeAsync(new CacheCollection(OtherCollectionName, 16), default));

        Assert.Equal(OtherCollectionName, error.Collection);
        Assert.Equal(8, error.Existing);
        Assert.Equal(16, error.Configured);
    }

    [SkippableFact]
    public async Task A_new_index_over_the_same_store_finds_what_the_first_one_kept()
    {
        await Index.UpsertAsync(Entry("failure-1", "acme/api", Angle(15), payload: "kept"), default);
        await Index.UpsertAsync(Entry("failure-2", "acme/api", Angle(80)), default);

        var restarted = await OpenAsync(Collection);
        var found = await restarted.SearchAsync("acme/api", Angle(15), 1, NoTtl, default);

        var hit = Assert.Single(found);
        Assert.Equal("failure-1", hit.Entry.Id);
        Assert.Equal("kept", hit.Entry.Payload);
        Assert.Equal(1.0, hit.Similarity, Tolerance);
    }

    [SkippableFact]
    public async Task A_vector_of_the_wrong_length_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(
            () => Index.UpsertAsync(new CacheEntry("failure-1", "acme/api", Unit(Dimensions + 1), "identity", Now, "{}"), default));
        await Assert.ThrowsAsync<ArgumentException>(
            () => Index.SearchAsync("acme/api", Unit(Dimensions - 1), 1, NoTtl, default));
    }

    protected async Task<IVectorIndex> OpenAsync(CacheCollection collection)
    {
        var index = await CreateIndexAsync();
        indexes.Add(index);
        await index.InitializeAsync(collection, default);
        return index;
    }

    /// <summary>The unit vector at <paramref name="degrees"/> from the first axis, towards the second.</summary>
    protected static float[] Angle(double degrees)
    {
        var vector = new float[Dimensions];
        vector[0] = (float)Math.Cos(degrees * Math.PI / 180);
        vector[1] = (float)Math.Sin(degrees * Math.PI / 180);
        return vector;
    }

    private static float[] Unit(int dimensions)
    {
        var vector = new float[dimensions];
        vector[0] = 1;
        return vector;
    }

    protected static CacheEntry Entry(
        string id, string scope, float[] vector, string identity = "identity", string payload = "{}", DateTimeOffset? createdAt = null) =>
        new(id, scope, vector, identity, createdAt ?? Now, payload);
}
