namespace Triage.Router.Cache;

/// <summary>
/// The vector cache port: where earlier triages are remembered with the embedding of their failure, and found
/// again by cosine similarity inside one scope. The embedded index and Qdrant both implement it and both run
/// the same contract suite. Deciding whether a neighbour may be reused is not the index's job (see
/// <see cref="CacheDecision"/>): the index finds candidates, nothing more.
/// </summary>
public interface IVectorIndex
{
    /// <summary>For logs, readiness and doctor: "embedded (SQLite …)" or "Qdrant http://…".</summary>
    string Description { get; }

    /// <summary>
    /// Prepares the collection that holds vectors of this embedder. Throws <see cref="CacheDimensionMismatchException"/>
    /// when the collection already exists with another dimension, so that a changed embedder is an error at start
    /// instead of a cache that silently never hits.
    /// </summary>
    Task InitializeAsync(CacheCollection collection, CancellationToken cancellationToken);

    /// <summary>
    /// The nearest entries of <paramref name="scope"/> by cosine similarity, best first, at most <paramref name="limit"/>,
    /// leaving out entries created before <paramref name="notBefore"/> (the TTL).
    /// </summary>
    Task<IReadOnlyList<CacheNeighbour>> SearchAsync(
        string scope, ReadOnlyMemory<float> vector, int limit, DateTimeOffset notBefore, CancellationToken cancellationToken);

    /// <summary>Adds an entry, or replaces the entry with the same id.</summary>
    Task UpsertAsync(CacheEntry entry, CancellationToken cancellationToken);

    /// <summary>Throws when the index cannot be reached (readiness and doctor); returns when it answers.</summary>
    Task CheckAsync(CancellationToken cancellationToken);

    /// <summary>Deletes entries created before <paramref name="olderThan"/>; returns how many went (-1 when the index cannot tell).</summary>
    Task<long> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken);
}

/// <summary>The collection of one embedder: its name (letters, digits, '-', '_') and the length of its vectors.</summary>
public sealed record CacheCollection(string Name, int Dimensions);

/// <summary>
/// A triage remembered for reuse. <paramref name="Id"/> is the event id of the failure it was made for;
/// <paramref name="Identity"/> is the failure's identity signature; <paramref name="Payload"/> is the triage as JSON.
/// Vectors are L2-normalised, so cosine similarity is their dot product.
/// </summary>
public sealed record CacheEntry(
    string Id,
    string Scope,
    ReadOnlyMemory<float> Vector,
    string Identity,
    DateTimeOffset CreatedAt,
    string Payload);

public sealed record CacheNeighbour(CacheEntry Entry, double Similarity);

public sealed class CacheDimensionMismatchException(string collection, int existing, int configured)
    : Exception($"The vector cache collection '{collection}' holds {existing}-dimensional vectors but the configured embedder " +
        $"makes {configured}-dimensional ones. Configure the embedder that filled it, or point the cache at another collection " +
        "(cache.semantic.collection) and let the old one expire.")
{
    public string Collection { get; } = collection;

    public int Existing { get; } = existing;

    public int Configured { get; } = configured;
}
