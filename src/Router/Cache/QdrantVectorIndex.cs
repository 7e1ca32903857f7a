using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Qdrant.Client;
using Qdrant.Client.Grpc;
using Triage.Platform.Configuration;
using static Qdrant.Client.Grpc.Conditions;

namespace Triage.Router.Cache;

/// <summary>
/// The vector cache in Qdrant, over its gRPC API: for gateways that share one cache, or caches too large for memory.
/// One Qdrant collection per embedder, cosine distance; every entry is a point whose payload carries the entry,
/// with the scope (keyword) and the creation time (integer Unix milliseconds) indexed for the search's filter.
/// </summary>
public sealed class QdrantVectorIndex : IVectorIndex, IDisposable
{
    private const string IdField = "id";
    private const string ScopeField = "scope";
    private const string IdentityField = "identity";
    private const string CreatedAtField = "created_at";
    private const string PayloadField = "payload";

    private readonly QdrantClient client;
    private readonly string address;
    private CacheCollection? collection;

    public QdrantVectorIndex(QdrantOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Uri.TryCreate(options.Url, UriKind.Absolute, out var url))
        {
            throw new ArgumentException($"cache.qdrant.url '{options.Url}' is not an absolute URL such as http://qdrant:6334.", nameof(options));
        }

        address = url.GetLeftPart(UriPartial.Authority);
        client = new QdrantClient(url, string.IsNullOrEmpty(options.ApiKey) ? null : options.ApiKey);
    }

    public string Description => $"Qdrant {address}";

    public async Task InitializeAsync(CacheCollection collection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(collection);
        if (!await client.CollectionExistsAsync(collection.Name, cancellationToken))
        {
            try
            {
                await client.CreateCollectionAsync(
                    collection.Name,
                    new VectorParams { Size = (ulong)collection.Dimensions, Distance = Distance.Cosine },
                    cancellationToken: cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.AlreadyExists or StatusCode.InvalidArgument)
            {
                // Qdrant tells an existing collection as invalid input: another gateway may have created it between
                // the check and the create, and its dimension is checked below. Any other bad input stands.
                if (!await client.CollectionExistsAsync(collection.Name, cancellationToken))
                {
                    throw;
                }
            }
        }

        var info = await client.GetCollectionInfoAsync(collection.Name, cancellationToken);
        var vectors = info.Config.Params.VectorsConfig;
        if (vectors?.Params is not { } single)
        {
            throw new InvalidOperationException(
                $"The Qdrant collection '{collection.Name}' holds named vectors; the cache needs a collection of one unnamed vector " +
                "per point. Point cache.semantic.collection at another collection.");
        }

        if (single.Size != (ulong)collection.Dimensions)
        {
            throw new CacheDimensionMismatchException(collection.Name, (int)single.Size, collection.Dimensions);
        }

        // The search filters on both on every lookup; without their indexes Qdrant would check each point's payload.
        if (!info.PayloadSchema.ContainsKey(ScopeField))
        {
            await client.CreatePayloadIndexAsync(collection.Name, ScopeField, PayloadSchemaType.Keyword, cancellationToken: cancellationToken);
        }

        if (!info.PayloadSchema.ContainsKey(CreatedAtField))
        {
            await client.CreatePayloadIndexAsync(collection.Name, CreatedAtField, PayloadSchemaType.Integer, cancellationToken: cancellationToken);
        }

        this.collection = collection;
    }

    public async Task<IReadOnlyList<CacheNeighbour>> SearchAsync(
        string scope, ReadOnlyMemory<float> vector, int limit, DateTimeOffset notBefore, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var current = Current();
        RequireDimensions(current, vector.Length, "query vector");
        if (limit <= 0)
        {
            return [];
        }

        var filter = new Filter
        {
            Must =
            {
                MatchKeyword(ScopeField, scope),
                Range(CreatedAtField, new Qdrant.Client.Grpc.Range { Gte = notBefore.ToUnixTimeMilliseconds() }),
            },
        };
        var points = await client.QueryAsync(
            current.Name,
            query: vector.ToArray(),
            filter: filter,
            limit: (ulong)limit,
            payloadSelector: true,
            vectorsSelector: true,
            cancellationToken: cancellationToken);
        return points.Select(point => new CacheNeighbour(Entry(point), point.Score)).ToList();
    }

    public async Task UpsertAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var current = Current();
        RequireDimensions(current, entry.Vector.Length, "entry vector");
        var point = new PointStruct
        {
            Id = PointId(current.Name, entry.Id),
            Vectors = entry.Vector.ToArray(),
            Payload =
            {
                [IdField] = entry.Id,
                [ScopeField] = entry.Scope,
                [IdentityField] = entry.Identity,
                [CreatedAtField] = entry.CreatedAt.ToUnixTimeMilliseconds(),
                [PayloadField] = entry.Payload,
            },
        };

        // Waits for the write to apply, so that the next search of this gateway finds the entry.
        await client.UpsertAsync(current.Name, [point], wait: true, cancellationToken: cancellationToken);
    }

    public async Task CheckAsync(CancellationToken cancellationToken) =>
        await client.HealthAsync(cancellationToken);

    public async Task<long> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken)
    {
        var current = Current();
        Filter old = Range(CreatedAtField, new Qdrant.Client.Grpc.Range { Lt = olderThan.ToUnixTimeMilliseconds() });

        // Qdrant's delete does not say how many points went; the count just before it does, give or take a
        // concurrent upsert of an entry that old, which the cache never makes.
        var count = await client.CountAsync(current.Name, old, exact: true, cancellationToken: cancellationToken);
        if (count > 0)
        {
            await client.DeleteAsync(current.Name, old, wait: true, cancellationToken: cancellationToken);
        }

        return (long)count;
    }

    /// <summary>Drops the collection and everything in it: for tests that made a collection of their own.</summary>
    internal Task DeleteCollectionAsync(string name, CancellationToken cancellationToken) =>
        client.DeleteCollectionAsync(name, cancellationToken: cancellationToken);

    public void Dispose() => client.Dispose();

    /// <summary>
    /// Qdrant ids are integers or UUIDs, and an entry's id is an event id: a UUID derived from it keeps an upsert of
    /// the same entry on the same point, in every gateway.
    /// </summary>
    internal static Guid PointId(string collection, string id)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(collection + "\n" + id));
        return new Guid(hash.AsSpan(0, 16));
    }

    private static CacheEntry Entry(ScoredPoint point)
    {
        var payload = point.Payload;
        var vector = point.Vectors?.Vector?.GetDenseVector()?.Data.ToArray() ?? [];
        return new CacheEntry(
            payload[IdField].StringValue,
            payload[ScopeField].StringValue,
            vector,
            payload[IdentityField].StringValue,
            DateTimeOffset.FromUnixTimeMilliseconds(payload[CreatedAtField].IntegerValue),
            payload[PayloadField].StringValue);
    }

    private CacheCollection Current() =>
        collection ?? throw new InvalidOperationException("The vector cache has no collection yet: InitializeAsync must run first.");

    private static void RequireDimensions(CacheCollection collection, int length, string what)
    {
        if (length != collection.Dimensions)
        {
            throw new ArgumentException(
                $"The {what} has {length} dimensions; the cache collection '{collection.Name}' holds {collection.Dimensions}.");
        }
    }
}
