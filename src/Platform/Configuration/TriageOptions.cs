using Microsoft.Extensions.Configuration;

namespace Triage.Platform.Configuration;

/// <summary>Everything triage.yaml says, bound once at start and validated by <see cref="TriageOptionsValidator"/>.</summary>
public sealed class TriageOptions
{
    public const string DefaultRoute = "build_triage";

    public Dictionary<string, ProviderOptions> Providers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, RouteOptions> Routing { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public CacheOptions Cache { get; set; } = new();

    public BusOptions Bus { get; set; } = new();

    public StoreOptions Store { get; set; } = new();

    public IngestOptions Ingest { get; set; } = new();

    /// <summary>The folder relative paths in the file are read from: the config file's own folder.</summary>
    [ConfigurationKeyName("__base_directory")]
    public string BaseDirectory { get; set; } = Directory.GetCurrentDirectory();
}

public sealed class ProviderOptions
{
    public string Type { get; set; } = string.Empty;

    [ConfigurationKeyName("base_url")]
    public string? BaseUrl { get; set; }

    [ConfigurationKeyName("api_key")]
    public string? ApiKey { get; set; }

    public string? Model { get; set; }

    /// <summary>Share of the route's traffic; 0 means failover only.</summary>
    public int Weight { get; set; } = 1;

    /// <summary>Triages one worker process runs at once for this provider.</summary>
    public int Capacity { get; set; } = 4;

    [ConfigurationKeyName("timeout_ms")]
    public int TimeoutMs { get; set; } = 30_000;

    [ConfigurationKeyName("input_usd_per_mtok")]
    public decimal? InputUsdPerMillionTokens { get; set; }

    [ConfigurationKeyName("output_usd_per_mtok")]
    public decimal? OutputUsdPerMillionTokens { get; set; }
}

public static class ProviderType
{
    public const string Anthropic = "anthropic";
    public const string OpenAi = "openai";
    public const string OpenAiCompatible = "openai-compatible";
    public const string Builtin = "builtin";

    public static IReadOnlyList<string> All { get; } = [Anthropic, OpenAi, OpenAiCompatible, Builtin];
}

public sealed class RouteOptions
{
    public List<string> Providers { get; set; } = [];

    public bool Failover { get; set; } = true;

    [ConfigurationKeyName("timeout_ms")]
    public int TimeoutMs { get; set; } = 30_000;

    [ConfigurationKeyName("deadline_ms")]
    public int? DeadlineMs { get; set; }
}

public sealed class CacheOptions
{
    public SemanticCacheOptions Semantic { get; set; } = new();

    public QdrantOptions Qdrant { get; set; } = new();
}

public sealed class SemanticCacheOptions
{
    public bool Enabled { get; set; } = true;

    [ConfigurationKeyName("similarity_threshold")]
    public double SimilarityThreshold { get; set; } = 0.92;

    [ConfigurationKeyName("ttl_seconds")]
    public int TtlSeconds { get; set; } = 3600;
}

public sealed class QdrantOptions
{
    public string? Url { get; set; }
}

public sealed class BusOptions
{
    /// <summary>amqp:// URI of RabbitMQ; empty means the in-memory bus of the embedded mode.</summary>
    public string? RabbitMq { get; set; }

    public bool UsesRabbitMq => !string.IsNullOrWhiteSpace(RabbitMq);
}

public sealed class StoreOptions
{
    /// <summary>Npgsql connection string; empty means the embedded SQLite store.</summary>
    public string? Postgres { get; set; }

    /// <summary>SQLite file of the embedded store, relative to the config file.</summary>
    public string Sqlite { get; set; } = "triage.db";
}

public sealed class IngestOptions
{
    [ConfigurationKeyName("max_body_bytes")]
    public long MaxBodyBytes { get; set; } = 5 * 1024 * 1024;
}
