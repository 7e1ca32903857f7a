namespace Triage.Platform.Store;

/// <summary>
/// One entry of the embedded vector cache as the store keeps it, so that a restart keeps the cache. The index itself
/// lives in memory; this row is only read when a collection is loaded.
/// </summary>
public sealed class CacheEntryRecord
{
    /// <summary>The embedder's collection: entries of another embedder are never compared with these.</summary>
    public required string Collection { get; set; }

    /// <summary>The event id of the failure the triage was made for.</summary>
    public required string Id { get; set; }

    public required string Scope { get; set; }

    /// <summary>The L2-normalised vector as little-endian IEEE 754 floats, <see cref="Dimensions"/> of them.</summary>
    public required byte[] Vector { get; set; }

    /// <summary>Kept beside the vector so that a changed embedder is told at start without decoding a row.</summary>
    public int Dimensions { get; set; }

    public required string Identity { get; set; }

    /// <summary>
    /// Stored as Unix milliseconds: SQLite keeps a <see cref="DateTimeOffset"/> as text, which neither compares nor
    /// sorts by instant, and the TTL purge needs both databases to compare instants.
    /// </summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The triage as JSON.</summary>
    public required string Payload { get; set; }
}
