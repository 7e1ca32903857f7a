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

    public AuthOptions Auth { get; set; } = new();

    [ConfigurationKeyName("dead_letters")]
    public DeadLetterOptions DeadLetters { get; set; } = new();

    public RedactionOptions Redaction { get; set; } = new();

    /// <summary>Whom to suggest for a repository's failures, by repository (owner/name as the build reports it).</summary>
    public Dictionary<string, OwnershipOptions> Ownership { get; set; } = new(StringComparer.OrdinalIgnoreCase);

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

    /// <summary>Retries after the first attempt, for rate limits, overload, server and transport errors.</summary>
    [ConfigurationKeyName("max_retries")]
    public int MaxRetries { get; set; } = 2;

    /// <summary>The longest Retry-After the pool waits for; a longer one fails the attempt over instead.</summary>
    [ConfigurationKeyName("retry_after_cap_ms")]
    public int RetryAfterCapMs { get; set; } = 20_000;

    /// <summary>How long the circuit stays open once the provider is judged down.</summary>
    [ConfigurationKeyName("break_duration_ms")]
    public int BreakDurationMs { get; set; } = 30_000;

    [ConfigurationKeyName("max_output_tokens")]
    public int MaxOutputTokens { get; set; } = 1024;

    /// <summary>The budget of the log excerpt in the prompt, in tokens (about four characters each).</summary>
    [ConfigurationKeyName("max_excerpt_tokens")]
    public int MaxExcerptTokens { get; set; } = 4000;

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

    /// <summary>The model asked for when a provider names none; null where the model must be named (openai-compatible).</summary>
    public static string? DefaultModel(string type) => type switch
    {
        Anthropic => "claude-sonnet-4-5",
        OpenAi => "gpt-4.1-mini",
        _ => null,
    };
}

public sealed class RouteOptions
{
    public List<string> Providers { get; set; } = [];

    public bool Failover { get; set; } = true;

    [ConfigurationKeyName("timeout_ms")]
    public int TimeoutMs { get; set; } = 30_000;

    [ConfigurationKeyName("deadline_ms")]
    public int? DeadlineMs { get; set; }

    public RouteCacheOptions Cache { get; set; } = new();
}

public sealed class CacheOptions
{
    public SemanticCacheOptions Semantic { get; set; } = new();

    public EmbedderOptions Embedder { get; set; } = new();

    public QdrantOptions Qdrant { get; set; } = new();
}

public sealed class SemanticCacheOptions
{
    public bool Enabled { get; set; } = true;

    [ConfigurationKeyName("similarity_threshold")]
    public double SimilarityThreshold { get; set; } = 0.92;

    [ConfigurationKeyName("ttl_seconds")]
    public int TtlSeconds { get; set; } = 7 * 24 * 3600;

    /// <summary>Which earlier triages a failure may reuse: its repository's (default) or its route's (across repositories).</summary>
    public string Scope { get; set; } = CacheScope.Repository;

    /// <summary>Nearest neighbours fetched per lookup; the best one whose identity matches is reused.</summary>
    public int Candidates { get; set; } = 5;

    /// <summary>Vector collection name; by default one per embedder and dimension.</summary>
    public string? Collection { get; set; }

    /// <summary>Also remember the built-in triager's answers (off: they cost nothing to make again).</summary>
    [ConfigurationKeyName("cache_builtin")]
    public bool CacheBuiltin { get; set; }

    [ConfigurationKeyName("purge_interval_seconds")]
    public int PurgeIntervalSeconds { get; set; } = 600;
}

public static class CacheScope
{
    public const string Repository = "repository";
    public const string Route = "route";

    public static IReadOnlyList<string> All { get; } = [Repository, Route];
}

/// <summary>A route's own cache settings; what it leaves out comes from cache.semantic.</summary>
public sealed class RouteCacheOptions
{
    public bool? Enabled { get; set; }

    [ConfigurationKeyName("similarity_threshold")]
    public double? SimilarityThreshold { get; set; }

    [ConfigurationKeyName("ttl_seconds")]
    public int? TtlSeconds { get; set; }
}

public sealed class EmbedderOptions
{
    /// <summary>builtin (hashed n-grams, no model, no network) or openai-compatible (a /v1/embeddings endpoint).</summary>
    public string Type { get; set; } = EmbedderType.Builtin;

    [ConfigurationKeyName("base_url")]
    public string? BaseUrl { get; set; }

    [ConfigurationKeyName("api_key")]
    public string? ApiKey { get; set; }

    public string? Model { get; set; }

    /// <summary>Length of the vectors; required for openai-compatible, 256 for builtin.</summary>
    public int? Dimensions { get; set; }

    [ConfigurationKeyName("timeout_ms")]
    public int TimeoutMs { get; set; } = 10_000;
}

public static class EmbedderType
{
    public const string Builtin = "builtin";
    public const string OpenAiCompatible = "openai-compatible";

    public static IReadOnlyList<string> All { get; } = [Builtin, OpenAiCompatible];
}

public sealed class QdrantOptions
{
    /// <summary>gRPC address of Qdrant (its port 6334, not the REST one), e.g. http://qdrant:6334.</summary>
    public string? Url { get; set; }

    /// <summary>Sent as the api-key header when Qdrant requires one; never logged.</summary>
    [ConfigurationKeyName("api_key")]
    public string? ApiKey { get; set; }
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

public sealed class RedactionOptions
{
    /// <summary>Regular expressions of secrets of your own, redacted on top of the built-in ones.</summary>
    public List<string> Patterns { get; set; } = [];
}

public sealed class OwnershipOptions
{
    /// <summary>CODEOWNERS text of the repository.</summary>
    public string? Codeowners { get; set; }

    /// <summary>A CODEOWNERS file, relative to the config file.</summary>
    [ConfigurationKeyName("codeowners_file")]
    public string? CodeownersFile { get; set; }

    /// <summary>Path pattern to owner, applied after the CODEOWNERS rules.</summary>
    public Dictionary<string, string> Paths { get; set; } = new(StringComparer.Ordinal);
}

public sealed class IngestOptions
{
    [ConfigurationKeyName("max_body_bytes")]
    public long MaxBodyBytes { get; set; } = 5 * 1024 * 1024;
}

/// <summary>Virtual keys: whether Ingest demands one, and the admin key of <c>/v1/admin</c>.</summary>
public sealed class AuthOptions
{
    /// <summary>
    /// Writes need <c>Authorization: Bearer tk-...</c>. Unset: required whenever PostgreSQL is the store (a shared
    /// deployment); the embedded default runs open and says so at start.
    /// </summary>
    public bool? Required { get; set; }

    /// <summary>Bearer secret of the admin API (<c>/v1/admin/keys</c>, <c>/v1/usage</c> of every team); unset disables it.</summary>
    [ConfigurationKeyName("admin_key")]
    public string? AdminKey { get; set; }

    /// <summary>How long a rotated-out secret keeps working, so that builds can be moved to the new one.</summary>
    [ConfigurationKeyName("rotation_grace_seconds")]
    public int RotationGraceSeconds { get; set; } = 24 * 3600;

    /// <summary>How long a process trusts what it read of a key; a revocation reaches every process within it.</summary>
    [ConfigurationKeyName("key_cache_seconds")]
    public int KeyCacheSeconds { get; set; } = 5;

    public bool IsRequired(StoreOptions store) => Required ?? !string.IsNullOrWhiteSpace(store.Postgres);
}

/// <summary>Replays of dead letters: how fast by default, and whether the router replays a group by itself.</summary>
public sealed class DeadLetterOptions
{
    /// <summary>Replays per second when a replay names no rate, and of automatic replays.</summary>
    [ConfigurationKeyName("replay_rate_per_second")]
    public double ReplayRatePerSecond { get; set; } = 20;

    /// <summary>Replay a group by itself once a provider of its route has triaged again since the group's last failure.</summary>
    [ConfigurationKeyName("auto_replay")]
    public bool AutoReplay { get; set; }

    /// <summary>How often the router looks for groups to replay by itself.</summary>
    [ConfigurationKeyName("auto_replay_interval_seconds")]
    public int AutoReplayIntervalSeconds { get; set; } = 30;
}
