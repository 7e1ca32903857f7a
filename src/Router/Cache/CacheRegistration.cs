using System.ClientModel;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenAI;
using Triage.Platform.Configuration;
using Triage.Platform.Store;

namespace Triage.Router.Cache;

/// <summary>Chooses the cache's adapters from configuration: Qdrant when a URL is given, else the embedded index.</summary>
public static class CacheRegistration
{
    public static void AddTriageCache(this IServiceCollection services, TriageOptions options)
    {
        var embedder = options.Cache.Embedder;
        var dimensions = embedder.Dimensions ?? HashedNgramEmbeddingGenerator.DefaultDimensions;
        var name = embedder.Type == EmbedderType.Builtin ? HashedNgramEmbeddingGenerator.Name : $"{embedder.Model}";
        var collection = new CacheCollection(options.Cache.Semantic.Collection ?? CollectionName(name, dimensions), dimensions);
        services.AddSingleton(collection);
        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(_ => embedder.Type == EmbedderType.Builtin
            ? new HashedNgramEmbeddingGenerator(dimensions)
            : new OpenAIClient(
                    new ApiKeyCredential(string.IsNullOrEmpty(embedder.ApiKey) ? "unused" : embedder.ApiKey),
                    new OpenAIClientOptions { Endpoint = new Uri(embedder.BaseUrl!), NetworkTimeout = TimeSpan.FromMilliseconds(embedder.TimeoutMs) })
                .GetEmbeddingClient(embedder.Model!)
                .AsIEmbeddingGenerator(dimensions));
        if (options.Cache.Qdrant.Url is { Length: > 0 })
        {
            services.AddSingleton<IVectorIndex>(_ => new QdrantVectorIndex(options.Cache.Qdrant));
        }
        else
        {
            services.AddSingleton<IVectorIndex>(sp => new EmbeddedVectorIndex(sp.GetRequiredService<TriageDatabase>()));
        }

        services.AddSingleton<CacheMetrics>();
        services.AddSingleton<SingleFlight>();
        services.AddSingleton<TriageCache>();
        services.AddHostedService<CacheMaintenance>();
    }

    /// <summary>"triage-hashed-ngrams-256": one collection per embedder and dimension.</summary>
    public static string CollectionName(string embedder, int dimensions)
    {
        var slug = new string(embedder.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-').ToArray()).Trim('-');
        return $"triage-{slug}-{dimensions}";
    }
}

/// <summary>
/// Prepares the collection before the router consumes anything (a dimension mismatch stops the start), then
/// purges expired entries now and then; reads ignore them anyway, the purge only reclaims space.
/// </summary>
internal sealed partial class CacheMaintenance(
    IVectorIndex index,
    CacheCollection collection,
    TriageCache cache,
    TriageOptions options,
    ILogger<CacheMaintenance> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private Task? purging;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await index.InitializeAsync(collection, cancellationToken);
        LogReady(logger, collection.Name, collection.Dimensions, index.Description);
        purging = PurgeAsync(stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        if (purging is not null)
        {
            await purging.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public void Dispose() => stopping.Dispose();

    private async Task PurgeAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Cache.Semantic.PurgeIntervalSeconds));
        try
        {
            do
            {
                try
                {
                    var purged = await cache.PurgeAsync(cancellationToken);
                    if (purged != 0)
                    {
                        LogPurged(logger, purged);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogPurgeFailed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Semantic cache ready: collection {Collection} ({Dimensions} dimensions) in {Index}")]
    private static partial void LogReady(ILogger logger, string collection, int dimensions, string index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} expired cache entries")]
    private static partial void LogPurged(ILogger logger, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purging expired cache entries failed; will try again")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
