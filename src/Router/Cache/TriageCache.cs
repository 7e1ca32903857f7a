using System.Text.Json;
using Microsoft.Extensions.AI;
using Triage.Contracts;
using Triage.Platform.Configuration;

namespace Triage.Router.Cache;

/// <summary>A route's cache settings once its own override and cache.semantic are combined.</summary>
public sealed record RouteCacheSettings(bool Enabled, double SimilarityThreshold, TimeSpan Ttl);

/// <summary>The outcome of a lookup: the reused triage if any, and what the failure is known by for the upsert.</summary>
public sealed record CacheLookup(string Scope, FailureSignature Signature, CacheNeighbour? Reused, double? BestSimilarity, CacheVerdict Verdict);

/// <summary>
/// The semantic cache as the router uses it: looks a failure up among earlier triages of its scope, and remembers
/// a fresh triage for the next one. Which neighbour may be reused is <see cref="CacheDecision"/>'s call.
/// </summary>
public sealed class TriageCache(
    IVectorIndex index,
    IEmbeddingGenerator<string, Embedding<float>> embedder,
    CacheCollection collection,
    TriageOptions options,
    CacheMetrics metrics,
    TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public CacheCollection Collection => collection;

    public string Description => index.Description;

    public RouteCacheSettings For(string route)
    {
        var semantic = options.Cache.Semantic;
        var own = options.Routing.TryGetValue(route, out var r) ? r.Cache : new RouteCacheOptions();
        return new RouteCacheSettings(
            semantic.Enabled && (own.Enabled ?? true),
            own.SimilarityThreshold ?? semantic.SimilarityThreshold,
            TimeSpan.FromSeconds(own.TtlSeconds ?? semantic.TtlSeconds));
    }

    /// <summary>Which triages a failure may reuse: its route's, and by default only its repository's.</summary>
    public string ScopeOf(string route, string? repository) =>
        options.Cache.Semantic.Scope == CacheScope.Route ? route : $"{route}/{repository?.Trim().ToLowerInvariant()}";

    public async Task<CacheLookup> LookupAsync(string route, string? repository, string redactedExcerpt, CancellationToken cancellationToken)
    {
        var settings = For(route);
        var scope = ScopeOf(route, repository);
        var signature = await SignAsync(redactedExcerpt, cancellationToken);
        var notBefore = time.GetUtcNow() - settings.Ttl;
        var neighbours = await index.SearchAsync(scope, signature.Vector, options.Cache.Semantic.Candidates, notBefore, cancellationToken);

        var verdict = CacheVerdict.BelowThreshold;
        foreach (var neighbour in neighbours)
        {
            var judged = CacheDecision.Judge(neighbour.Similarity, settings.SimilarityThreshold, signature.Identity, FailureIdentity.Deserialize(neighbour.Entry.Identity));
            if (judged == CacheVerdict.Reuse)
            {
                metrics.Lookup(route, "hit", neighbour.Similarity);
                return new CacheLookup(scope, signature, neighbour, neighbour.Similarity, CacheVerdict.Reuse);
            }

            if (judged == CacheVerdict.DifferentFailure)
            {
                verdict = CacheVerdict.DifferentFailure;
            }
        }

        var best = neighbours.Count > 0 ? neighbours[0].Similarity : (double?)null;
        metrics.Lookup(route, verdict == CacheVerdict.DifferentFailure ? "different_failure" : "miss", best);
        return new CacheLookup(scope, signature, null, best, verdict);
    }

    /// <summary>The earlier triage, re-addressed to this failure and marked as reused.</summary>
    public TriageCompleted Reuse(CacheNeighbour neighbour, BuildFailed failure, int redactedSecrets)
    {
        var source = JsonSerializer.Deserialize<TriageCompleted>(neighbour.Entry.Payload, Json)
            ?? throw new InvalidDataException($"cache entry {neighbour.Entry.Id} holds no triage");
        return Reused(source, failure, redactedSecrets, neighbour.Similarity);
    }

    public TriageCompleted Reused(TriageCompleted source, BuildFailed failure, int redactedSecrets, double similarity)
    {
        var now = time.GetUtcNow();
        return source with
        {
            EventId = failure.EventId,
            Route = failure.Route,
            RedactedSecrets = redactedSecrets,
            Attempts = 0,
            AttemptHistory = [],
            Usage = new TokenUsage(0, 0),
            CostUsd = 0,
            ProviderDurationMs = 0,
            DurationMs = (now - failure.ReceivedAt).TotalMilliseconds,
            CompletedAt = now,
            Cache = new CacheHit(true, Math.Round(similarity, 4), source.EventId, source.CostUsd),
        };
    }

    /// <summary>Remembers a fresh triage under the failure's scope and signature.</summary>
    public async Task RememberAsync(TriageCompleted result, string scope, string redactedExcerpt, CancellationToken cancellationToken)
    {
        var signature = await SignAsync(redactedExcerpt, cancellationToken);
        await index.UpsertAsync(
            new CacheEntry(result.EventId, scope, signature.Vector, signature.Identity.Serialize(), result.CompletedAt, JsonSerializer.Serialize(result, Json)),
            cancellationToken);
        metrics.Stored(result.Route);
    }

    public Task<long> PurgeAsync(CancellationToken cancellationToken)
    {
        var longest = options.Routing.Values.Select(r => r.Cache.TtlSeconds ?? 0).Append(options.Cache.Semantic.TtlSeconds).Max();
        return index.PurgeAsync(time.GetUtcNow() - TimeSpan.FromSeconds(longest), cancellationToken);
    }

    public async Task<FailureSignature> SignAsync(string redactedExcerpt, CancellationToken cancellationToken)
    {
        if (embedder is HashedNgramEmbeddingGenerator builtin)
        {
            return FailureSignature.Of(redactedExcerpt, builtin);
        }

        var (fingerprint, identity) = FailureSignature.Describe(redactedExcerpt);
        var embedding = await embedder.GenerateAsync(fingerprint, cancellationToken: cancellationToken);
        var vector = embedding.Vector.ToArray();
        if (vector.Length != collection.Dimensions)
        {
            throw new InvalidOperationException(
                $"The embedder returned {vector.Length}-dimensional vectors but cache.embedder.dimensions is {collection.Dimensions}.");
        }

        // Not every embedding endpoint returns unit vectors; cosine as a dot product needs them.
        return new FailureSignature(redactedExcerpt, fingerprint, identity, HashedNgramEmbeddingGenerator.Normalise(vector));
    }
}
