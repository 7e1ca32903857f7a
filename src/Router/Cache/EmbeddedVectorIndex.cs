using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.EntityFrameworkCore;
using Triage.Platform.Store;

namespace Triage.Router.Cache;

/// <summary>
/// The vector cache of the embedded mode: searched in memory, kept in the store (SQLite or PostgreSQL, table
/// <c>cache_entries</c>) so that a restart keeps the cache. A collection is loaded once at start; upserts and purges
/// write through to the store before they change memory.
/// </summary>
/// <remarks>
/// A plain scan of 100,000 vectors of 256 floats reads 100 MB per lookup, which is memory-bound at several
/// milliseconds. Each vector therefore also carries a 256-bit sign signature (SimHash over orthogonalised random
/// hyperplanes): the Hamming distance of two signatures estimates the angle between the vectors, and 32 bytes per
/// entry scan in a fraction of the time. A scope larger than <see cref="ExactScanLimit"/> is searched in two steps:
/// the signatures pick the <see cref="CandidatePool"/> nearest candidates, which are then scored exactly. The
/// similarity returned is always the exact cosine; only which entries get scored is approximate.
/// </remarks>
public sealed class EmbeddedVectorIndex : IVectorIndex, IDisposable
{
    /// <summary>Up to this many entries a scope is scored exactly: scoring a candidate pool would cost about as much.</summary>
    public const int ExactScanLimit = 2_048;

    /// <summary>
    /// Candidates scored exactly after the signature scan; each costs about 0.2 µs and buys recall where many entries
    /// crowd the query (bench/Triage.Bench.Micro lookup-latency measures both).
    /// </summary>
    public const int DefaultCandidatePool = 512;

    private readonly TriageDatabase? database;
    private readonly ReaderWriterLockSlim gate = new(LockRecursionPolicy.NoRecursion);

    // Serialises writers so that the store and memory see upserts of one id in the same order.
    private readonly SemaphoreSlim writes = new(1, 1);
    private Shelf? shelf;

    public EmbeddedVectorIndex(TriageDatabase database)
        : this(database, DefaultCandidatePool)
    {
    }

    /// <summary>Memory only, with nothing kept: for measuring the search without a database in the way.</summary>
    internal EmbeddedVectorIndex(int candidatePool = DefaultCandidatePool)
        : this(null, candidatePool)
    {
    }

    private EmbeddedVectorIndex(TriageDatabase? database, int candidatePool)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(candidatePool, 1);
        this.database = database;
        CandidatePool = candidatePool;
    }

    public string Description => database is null ? "embedded (in memory)" : $"embedded ({database.Description})";

    public int CandidatePool { get; }

    public async Task InitializeAsync(CacheCollection collection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ValidateCollection(collection);
        var loaded = new Shelf(collection);

        // Writers wait for the load, so that an upsert made meanwhile is neither lost nor loaded twice.
        await writes.WaitAsync(cancellationToken);
        try
        {
            await LoadAsync(loaded, cancellationToken);
            gate.EnterWriteLock();
            try
            {
                shelf = loaded;
            }
            finally
            {
                gate.ExitWriteLock();
            }
        }
        finally
        {
            writes.Release();
        }
    }

    private async Task LoadAsync(Shelf loaded, CancellationToken cancellationToken)
    {
        var collection = loaded.Collection;
        if (database is not null)
        {
            await using var db = database.CreateContext();
            var existing = await db.CacheEntries.AsNoTracking()
                .Where(e => e.Collection == collection.Name && e.Dimensions != collection.Dimensions)
                .Select(e => (int?)e.Dimensions)
                .FirstOrDefaultAsync(cancellationToken);
            if (existing is int dimensions)
            {
                throw new CacheDimensionMismatchException(collection.Name, dimensions, collection.Dimensions);
            }

            var vector = new float[collection.Dimensions];
            await foreach (var record in db.CacheEntries.AsNoTracking()
                .Where(e => e.Collection == collection.Name)
                .AsAsyncEnumerable()
                .WithCancellation(cancellationToken))
            {
                Decode(record, vector);
                loaded.Put(new CacheEntry(record.Id, record.Scope, vector, record.Identity, record.CreatedAt, record.Payload));
            }
        }
    }

    public Task<IReadOnlyList<CacheNeighbour>> SearchAsync(
        string scope, ReadOnlyMemory<float> vector, int limit, DateTimeOffset notBefore, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        cancellationToken.ThrowIfCancellationRequested();
        if (limit <= 0)
        {
            return Task.FromResult<IReadOnlyList<CacheNeighbour>>([]);
        }

        // The search is a few hundred microseconds of CPU work: done inline, it costs less than a hop to the pool.
        gate.EnterReadLock();
        try
        {
            var current = Current();
            current.RequireDimensions(vector.Length, "query vector");
            return Task.FromResult(current.Search(scope, vector.Span, limit, notBefore.ToUnixTimeMilliseconds(), CandidatePool));
        }
        finally
        {
            gate.ExitReadLock();
        }
    }

    public async Task UpsertAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await writes.WaitAsync(cancellationToken);
        try
        {
            // Holding the writers' turn, the shelf cannot change under us: only a writer or a load replaces it.
            var current = Current();
            RequireDimensions(current.Collection, entry.Vector.Length, "entry vector");
            if (database is not null)
            {
                await StoreAsync(current.Collection, entry, cancellationToken);
            }

            // Signing takes a few microseconds and needs no lock: the hyperplanes never change.
            var signature = current.Sign(entry.Vector.Span);
            gate.EnterWriteLock();
            try
            {
                current.Put(entry, signature);
            }
            finally
            {
                gate.ExitWriteLock();
            }
        }
        finally
        {
            writes.Release();
        }
    }

    public async Task<long> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken)
    {
        await writes.WaitAsync(cancellationToken);
        try
        {
            long deleted = -1;
            if (database is not null)
            {
                // Every collection, not only this one: a collection left behind by a changed embedder expires too.
                await using var db = database.CreateContext();
                deleted = await db.CacheEntries.Where(e => e.CreatedAt < olderThan).ExecuteDeleteAsync(cancellationToken);
            }

            gate.EnterWriteLock();
            try
            {
                var removed = shelf?.RemoveOlderThan(olderThan.ToUnixTimeMilliseconds()) ?? 0;
                return database is null ? removed : deleted;
            }
            finally
            {
                gate.ExitWriteLock();
            }
        }
        finally
        {
            writes.Release();
        }
    }

    /// <summary>How many entries the loaded collection holds in memory.</summary>
    public int Count
    {
        get
        {
            gate.EnterReadLock();
            try
            {
                return shelf?.Count ?? 0;
            }
            finally
            {
                gate.ExitReadLock();
            }
        }
    }

    public void Dispose()
    {
        gate.Dispose();
        writes.Dispose();
    }

    private async Task StoreAsync(CacheCollection collection, CacheEntry entry, CancellationToken cancellationToken)
    {
        var bytes = Encode(entry.Vector.Span);
        await using var db = database!.CreateContext();

        // Update first, insert when nothing was there: a replaced entry and a new one each cost one statement, and
        // an insert that lost a race with another process over the same id becomes the update it should have been.
        for (var attempt = 0; ; attempt++)
        {
            var updated = await db.CacheEntries
                .Where(e => e.Collection == collection.Name && e.Id == entry.Id)
                .ExecuteUpdateAsync(
                    set => set
                        .SetProperty(e => e.Scope, entry.Scope)
                        .SetProperty(e => e.Vector, bytes)
                        .SetProperty(e => e.Dimensions, collection.Dimensions)
                        .SetProperty(e => e.Identity, entry.Identity)
                        .SetProperty(e => e.CreatedAt, entry.CreatedAt)
                        .SetProperty(e => e.Payload, entry.Payload),
                    cancellationToken);
            if (updated > 0)
            {
                return;
            }

            var record = new CacheEntryRecord
            {
                Collection = collection.Name,
                Id = entry.Id,
                Scope = entry.Scope,
                Vector = bytes,
                Dimensions = collection.Dimensions,
                Identity = entry.Identity,
                CreatedAt = entry.CreatedAt,
                Payload = entry.Payload,
            };
            db.CacheEntries.Add(record);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (DbUpdateException) when (attempt == 0)
            {
                db.Entry(record).State = EntityState.Detached;
            }
        }
    }

    /// <summary>In process: ready once its collection is loaded.</summary>
    public Task CheckAsync(CancellationToken cancellationToken) => shelf is null ? Task.FromException(NotInitialized()) : Task.CompletedTask;

    private Shelf Current() => shelf ?? throw NotInitialized();

    private static InvalidOperationException NotInitialized() =>
        new("The vector cache has no collection yet: InitializeAsync must run first.");

    private static void ValidateCollection(CacheCollection collection)
    {
        if (string.IsNullOrEmpty(collection.Name) || collection.Name.Length > 100
            || !collection.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new ArgumentException(
                $"The cache collection name '{collection.Name}' must be 1 to 100 letters, digits, '-' or '_'.", nameof(collection));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(collection.Dimensions, 1, nameof(collection));
    }

    private static void RequireDimensions(CacheCollection collection, int length, string what)
    {
        if (length != collection.Dimensions)
        {
            throw new ArgumentException(
                $"The {what} has {length} dimensions; the cache collection '{collection.Name}' holds {collection.Dimensions}.");
        }
    }

    internal static byte[] Encode(ReadOnlySpan<float> vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(vector).CopyTo(bytes);
        }
        else
        {
            for (var i = 0; i < vector.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
            }
        }

        return bytes;
    }

    private static void Decode(CacheEntryRecord record, Span<float> vector)
    {
        if (record.Vector.Length != vector.Length * sizeof(float))
        {
            throw new InvalidDataException(
                $"The cache entry '{record.Id}' of collection '{record.Collection}' holds {record.Vector.Length} bytes of vector; " +
                $"{vector.Length} dimensions take {vector.Length * sizeof(float)}.");
        }

        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(record.Vector).CopyTo(vector);
        }
        else
        {
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] = BinaryPrimitives.ReadSingleLittleEndian(record.Vector.AsSpan(i * sizeof(float)));
            }
        }
    }

    /// <summary>The loaded collection: its scopes, and which scope holds each id. Guarded by the index's lock.</summary>
    private sealed class Shelf(CacheCollection collection)
    {
        private readonly Dictionary<string, ScopeVectors> scopes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ScopeVectors> scopeOfId = new(StringComparer.Ordinal);
        private readonly SignHasher hasher = new(collection.Dimensions);

        public CacheCollection Collection { get; } = collection;

        public int Count => scopeOfId.Count;

        public void RequireDimensions(int length, string what) => EmbeddedVectorIndex.RequireDimensions(Collection, length, what);

        public Signature Sign(ReadOnlySpan<float> vector) => hasher.Sign(vector);

        public void Put(CacheEntry entry) => Put(entry, hasher.Sign(entry.Vector.Span));

        public void Put(CacheEntry entry, Signature signature)
        {
            if (scopeOfId.TryGetValue(entry.Id, out var previous) && previous.Scope != entry.Scope)
            {
                previous.Remove(entry.Id);
                if (previous.Count == 0)
                {
                    scopes.Remove(previous.Scope);
                }
            }

            if (!scopes.TryGetValue(entry.Scope, out var scope))
            {
                scope = new ScopeVectors(entry.Scope, Collection.Dimensions);
                scopes.Add(entry.Scope, scope);
            }

            scope.Put(entry, signature);
            scopeOfId[entry.Id] = scope;
        }

        public long RemoveOlderThan(long unixMs)
        {
            long removed = 0;
            foreach (var scope in scopes.Values.ToList())
            {
                foreach (var id in scope.RemoveOlderThan(unixMs))
                {
                    scopeOfId.Remove(id);
                    removed++;
                }

                if (scope.Count == 0)
                {
                    scopes.Remove(scope.Scope);
                }
            }

            return removed;
        }

        public IReadOnlyList<CacheNeighbour> Search(string scope, ReadOnlySpan<float> query, int limit, long notBeforeUnixMs, int candidatePool)
        {
            if (!scopes.TryGetValue(scope, out var vectors))
            {
                return [];
            }

            if (vectors.Count <= ExactScanLimit)
            {
                return vectors.SearchExact(query, limit, notBeforeUnixMs);
            }

            return vectors.SearchBySignature(query, hasher.Sign(query), limit, notBeforeUnixMs, Math.Max(candidatePool, limit));
        }
    }

    /// <summary>
    /// The entries of one scope, side by side: vectors in one array, signatures in another, creation times in a
    /// third, so that a scan reads memory in order. A removed entry's slot is filled by the last one.
    /// </summary>
    private sealed class ScopeVectors(string scope, int dimensions)
    {
        /// <summary>Distances are bytes; this one marks an entry that the TTL leaves out.</summary>
        private const byte Expired = byte.MaxValue;

        private readonly Dictionary<string, int> slotOfId = new(StringComparer.Ordinal);
        private float[] vectors = [];
        private Signature[] signatures = [];
        private long[] createdAt = [];
        private CacheEntry[] entries = [];
        private long oldest = long.MaxValue;

        public string Scope { get; } = scope;

        public int Count { get; private set; }

        public void Put(CacheEntry entry, Signature signature)
        {
            if (!slotOfId.TryGetValue(entry.Id, out var slot))
            {
                slot = Count;
                Grow(Count + 1);
                Count++;
                slotOfId.Add(entry.Id, slot);
            }

            entry.Vector.Span.CopyTo(vectors.AsSpan(slot * dimensions, dimensions));
            signatures[slot] = signature;
            var created = entry.CreatedAt.ToUnixTimeMilliseconds();
            createdAt[slot] = created;
            oldest = Math.Min(oldest, created);

            // The vector lives in the shared array only; a result gets its own copy.
            entries[slot] = entry with { Vector = ReadOnlyMemory<float>.Empty };
        }

        public void Remove(string id)
        {
            if (slotOfId.Remove(id, out var slot))
            {
                MoveLastInto(slot);
            }
        }

        public List<string> RemoveOlderThan(long unixMs)
        {
            var removed = new List<string>();
            if (oldest >= unixMs)
            {
                return removed;
            }

            for (var slot = Count - 1; slot >= 0; slot--)
            {
                if (createdAt[slot] < unixMs)
                {
                    var id = entries[slot].Id;
                    slotOfId.Remove(id);
                    removed.Add(id);
                    MoveLastInto(slot);
                }
            }

            oldest = Count == 0 ? long.MaxValue : TensorPrimitives.Min<long>(createdAt.AsSpan(0, Count));
            return removed;
        }

        public IReadOnlyList<CacheNeighbour> SearchExact(ReadOnlySpan<float> query, int limit, long notBeforeUnixMs)
        {
            var best = new Best(Math.Min(limit, Count));
            for (var slot = 0; slot < Count; slot++)
            {
                if (createdAt[slot] >= notBeforeUnixMs)
                {
                    best.Offer(slot, TensorPrimitives.Dot(Vector(slot), query));
                }
            }

            return Results(best);
        }

        public IReadOnlyList<CacheNeighbour> SearchBySignature(
            ReadOnlySpan<float> query, in Signature signature, int limit, long notBeforeUnixMs, int pool)
        {
            var distances = ArrayPool<byte>.Shared.Rent(Count);
            try
            {
                Span<int> histogram = stackalloc int[256];
                var live = MeasureDistances(in signature, notBeforeUnixMs, distances.AsSpan(0, Count), histogram);
                if (live == 0)
                {
                    return [];
                }

                // The distance at which the pool fills: everything nearer is a candidate, and ties at it fill the rest.
                pool = Math.Min(pool, live);
                int cutoff = 0, nearer = 0;
                while (nearer + histogram[cutoff] < pool)
                {
                    nearer += histogram[cutoff];
                    cutoff++;
                }

                var ties = pool - nearer;
                var best = new Best(Math.Min(limit, pool));
                var span = distances.AsSpan(0, Count);
                var offset = 0;
                while (true)
                {
                    var next = span[offset..].IndexOfAnyInRange((byte)0, (byte)cutoff);
                    if (next < 0)
                    {
                        break;
                    }

                    var slot = offset + next;
                    if (span[slot] < cutoff || ties-- > 0)
                    {
                        best.Offer(slot, TensorPrimitives.Dot(Vector(slot), query));
                    }

                    offset = slot + 1;
                }

                return Results(best);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(distances);
            }
        }

        /// <summary>Hamming distance of each live entry's signature to the query's; returns how many are live.</summary>
        private int MeasureDistances(in Signature query, long notBeforeUnixMs, Span<byte> distances, Span<int> histogram)
        {
            var all = signatures.AsSpan(0, distances.Length);

            // Four histograms, one per slot modulo 4: counting runs of equal distances into one counter would make
            // each increment wait for the previous one's store.
            Span<int> counts = stackalloc int[4 * 256];
            var live = distances.Length;
            if (oldest >= notBeforeUnixMs)
            {
                for (var slot = 0; slot < all.Length; slot++)
                {
                    var distance = all[slot].DistanceTo(query);
                    distances[slot] = distance;
                    counts[((slot & 3) << 8) | distance]++;
                }
            }
            else
            {
                var times = createdAt.AsSpan(0, all.Length);
                for (var slot = 0; slot < all.Length; slot++)
                {
                    if (times[slot] < notBeforeUnixMs)
                    {
                        distances[slot] = Expired;
                        live--;
                        continue;
                    }

                    var distance = all[slot].DistanceTo(query);
                    distances[slot] = distance;
                    counts[((slot & 3) << 8) | distance]++;
                }
            }

            for (var distance = 0; distance < 256; distance++)
            {
                histogram[distance] = counts[distance] + counts[256 + distance] + counts[512 + distance] + counts[768 + distance];
            }

            return live;
        }

        private ReadOnlySpan<float> Vector(int slot) => vectors.AsSpan(slot * dimensions, dimensions);

        private IReadOnlyList<CacheNeighbour> Results(Best best)
        {
            var results = new CacheNeighbour[best.Count];
            for (var i = 0; i < results.Length; i++)
            {
                var slot = best.Slots[i];
                results[i] = new CacheNeighbour(entries[slot] with { Vector = Vector(slot).ToArray() }, best.Scores[i]);
            }

            return results;
        }

        private void MoveLastInto(int slot)
        {
            var last = Count - 1;
            if (slot != last)
            {
                Vector(last).CopyTo(vectors.AsSpan(slot * dimensions, dimensions));
                signatures[slot] = signatures[last];
                createdAt[slot] = createdAt[last];
                entries[slot] = entries[last];
                slotOfId[entries[slot].Id] = slot;
            }

            entries[last] = null!;
            Count = last;
        }

        private void Grow(int needed)
        {
            if (needed <= entries.Length)
            {
                return;
            }

            var capacity = Math.Max(16, Math.Max(needed, entries.Length * 2));
            Array.Resize(ref vectors, capacity * dimensions);
            Array.Resize(ref signatures, capacity);
            Array.Resize(ref createdAt, capacity);
            Array.Resize(ref entries, capacity);
        }
    }

    /// <summary>The best few slots by exact similarity, best first; a handful, so insertion into a sorted array.</summary>
    private sealed class Best(int capacity)
    {
        public int[] Slots { get; } = new int[capacity];

        public float[] Scores { get; } = new float[capacity];

        public int Count { get; private set; }

        public void Offer(int slot, float score)
        {
            if (Count == Slots.Length && (Count == 0 || score <= Scores[Count - 1]))
            {
                return;
            }

            var at = Count == Slots.Length ? Count - 1 : Count++;
            while (at > 0 && Scores[at - 1] < score)
            {
                Slots[at] = Slots[at - 1];
                Scores[at] = Scores[at - 1];
                at--;
            }

            Slots[at] = slot;
            Scores[at] = score;
        }
    }

    /// <summary>
    /// SimHash: one bit per hyperplane, set when the vector lies on its positive side. Two vectors at angle θ differ
    /// in each bit with probability θ/π, so the Hamming distance of signatures estimates the angle. The hyperplanes
    /// are Gaussian, orthogonalised in blocks (fewer redundant planes, a tighter estimate), and drawn from a fixed
    /// seed so that signatures are the same in every process.
    /// </summary>
    private sealed class SignHasher
    {
        private const int Seed = 0x5EED_CAC4;

        private readonly float[] planes;
        private readonly int dimensions;

        public SignHasher(int dimensions)
        {
            this.dimensions = dimensions;
            planes = new float[Signature.Bits * dimensions];
            var random = new Random(Seed);
            for (var i = 0; i < planes.Length; i++)
            {
                // Box-Muller: a Gaussian direction has no preferred axis, which the angle estimate relies on.
                var u = 1.0 - random.NextDouble();
                var v = random.NextDouble();
                planes[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v));
            }

            // Gram-Schmidt within each block of as many planes as there are dimensions.
            for (var row = 0; row < Signature.Bits; row++)
            {
                var plane = Plane(row);
                for (var earlier = row - (row % dimensions); earlier < row; earlier++)
                {
                    var other = Plane(earlier);
                    TensorPrimitives.MultiplyAdd(other, -TensorPrimitives.Dot(plane, other), plane, plane);
                }

                var norm = TensorPrimitives.Norm(plane);
                if (norm > 1e-6f)
                {
                    TensorPrimitives.Divide(plane, norm, plane);
                }
            }
        }

        public Signature Sign(ReadOnlySpan<float> vector)
        {
            Span<ulong> words = stackalloc ulong[Signature.Bits / 64];
            words.Clear();
            for (var row = 0; row < Signature.Bits; row++)
            {
                if (TensorPrimitives.Dot(Plane(row), vector) > 0)
                {
                    words[row >> 6] |= 1UL << (row & 63);
                }
            }

            return new Signature(words[0], words[1], words[2], words[3]);
        }

        private Span<float> Plane(int row) => planes.AsSpan(row * dimensions, dimensions);
    }

    /// <summary>256 sign bits of a vector; the Hamming distance between two estimates the angle between the vectors.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Signature(ulong A, ulong B, ulong C, ulong D)
    {
        public const int Bits = 256;

        /// <summary>The Hamming distance, 255 and 256 (all bits apart, never a near entry) folded into 254.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public byte DistanceTo(in Signature other)
        {
            var distance = BitOperations.PopCount(A ^ other.A) + BitOperations.PopCount(B ^ other.B)
                + BitOperations.PopCount(C ^ other.C) + BitOperations.PopCount(D ^ other.D);
            return (byte)Math.Min(distance, 254);
        }
    }
}
