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

    /// <summary>Build systems that post their own events; a webhook left out is not served (404).</summary>
    [ConfigurationKeyName("webhooks")]
    public WebhookOptions Webhooks { get; set; } = new();

    /// <summary>Who else hears of each triage: outgoing webhooks (Slack, or any endpoint taking JSON).</summary>
    [ConfigurationKeyName("notifications")]
    public NotificationOptions Notifications { get; set; } = new();

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

    /// <summary>
    /// How often each process checks on RabbitMQ that the queues it consumes have a consumer; a queue without one for
    /// three checks in a row while the broker answers gets its receive endpoint restarted. 0 turns the check off.
    /// </summary>
    [ConfigurationKeyName("consumer_check_seconds")]
    public int ConsumerCheckSeconds { get; set; } = 5;
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

/// <summary>
/// The webhooks of <c>/v1/webhooks/{name}</c>. A build system cannot send a team's bearer key, so each webhook is
/// proved by a shared secret of its own and charged to the key it names.
/// </summary>
public sealed class WebhookOptions
{
    public WebhookEndpointOptions? Jenkins { get; set; }

    public WebhookEndpointOptions? Github { get; set; }

    public WebhookEndpointOptions? Gitlab { get; set; }

    /// <summary>The webhooks the file sets, by the name triage.yaml gives them.</summary>
    public IEnumerable<(string Name, WebhookEndpointOptions Options)> Configured
    {
        get
        {
            if (Jenkins is not null)
            {
                yield return ("jenkins", Jenkins);
            }

            if (Github is not null)
            {
                yield return ("github", Github);
            }

            if (Gitlab is not null)
            {
                yield return ("gitlab", Gitlab);
            }
        }
    }
}

public sealed class WebhookEndpointOptions
{
    /// <summary>Jenkins and GitLab: the shared token the build system sends with every event.</summary>
    public string? Token { get; set; }

    /// <summary>GitHub: the secret the payload is signed with (<c>X-Hub-Signature-256</c>).</summary>
    public string? Secret { get; set; }

    /// <summary>The route its failures take.</summary>
    public string Route { get; set; } = TriageOptions.DefaultRoute;

    /// <summary>The virtual key (<c>key_...</c>) its failures are charged to; required when keys are.</summary>
    [ConfigurationKeyName("key_id")]
    public string? KeyId { get; set; }
}

/// <summary>Where each triage is announced besides the exchanges; see docs/contracts/README.md.</summary>
public sealed class NotificationOptions
{
    /// <summary>Outgoing webhooks, each POSTed every matching triage once it is known (at least once).</summary>
    public List<OutgoingWebhookOptions> Webhooks { get; set; } = [];
}

/// <summary>One outgoing webhook of <c>notifications.webhooks</c>.</summary>
public sealed class OutgoingWebhookOptions
{
    /// <summary>Absolute http(s) URL the triage is POSTed to.</summary>
    public string Url { get; set; } = string.Empty;

    /// <summary>One of <see cref="OutgoingWebhookFormat"/>.</summary>
    public string Format { get; set; } = OutgoingWebhookFormat.Json;

    /// <summary>
    /// Signs each body: <c>X-Triage-Signature: sha256=&lt;hex HMAC-SHA256 of "&lt;timestamp&gt;.&lt;body&gt;"&gt;</c>
    /// with the timestamp in <c>X-Triage-Timestamp</c>. Empty: unsigned.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>The routes whose triages are sent; every route when empty.</summary>
    public List<string> Routes { get; set; } = [];

    /// <summary>Also send triages reused from the semantic cache.</summary>
    [ConfigurationKeyName("include_cached")]
    public bool IncludeCached { get; set; } = true;

    /// <summary>Slack: where the message links to, with <c>{eventId}</c> replaced (a dashboard, or the gateway's /v1/triages/{eventId}).</summary>
    public string? Link { get; set; }
}

public static class OutgoingWebhookFormat
{
    /// <summary>A Slack incoming-webhook message: <c>{"text": ...}</c>.</summary>
    public const string Slack = "slack";

    /// <summary>The <c>TriageCompleted</c> itself, in camelCase JSON.</summary>
    public const string Json = "json";

    public static IReadOnlyList<string> All { get; } = [Slack, Json];
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

    /// <summary>
    /// Refused authentications (401) one client address may have in a minute before its requests are answered 429
    /// for the rest of that minute, before any key is looked up; 0 turns the limit off.
    /// </summary>
    [ConfigurationKeyName("failed_attempts_per_minute")]
    public int FailedAttemptsPerMinute { get; set; } = 20;

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
