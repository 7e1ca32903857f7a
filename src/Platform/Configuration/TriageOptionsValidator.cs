namespace Triage.Platform.Configuration;

/// <summary>
/// Every problem of the configuration at once, each with the key it came from, so that one start-up
/// tells the operator all there is to fix.
/// </summary>
public static class TriageOptionsValidator
{
    private static readonly HashSet<string> Sections = new(StringComparer.OrdinalIgnoreCase)
    {
        "providers", "routing", "cache", "bus", "store", "ingest", "redaction", "ownership", "auth", "dead_letters",
    };

    private static readonly HashSet<string> DeadLetterKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "replay_rate_per_second", "auto_replay", "auto_replay_interval_seconds",
    };

    private static readonly HashSet<string> AuthKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "required", "admin_key", "rotation_grace_seconds", "key_cache_seconds",
    };

    private static readonly HashSet<string> ProviderKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "type", "base_url", "api_key", "model", "weight", "capacity", "timeout_ms", "input_usd_per_mtok", "output_usd_per_mtok",
        "max_retries", "retry_after_cap_ms", "break_duration_ms", "max_output_tokens", "max_excerpt_tokens",
    };

    private static readonly HashSet<string> RouteKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "providers", "failover", "timeout_ms", "deadline_ms", "cache",
    };

    /// <summary>Problems as (key, message); the key is dotted (providers.openai.type).</summary>
    public static IReadOnlyList<(string Key, string Message)> Validate(TriageOptions options, IEnumerable<string>? fileKeys = null)
    {
        var errors = new List<(string, string)>();
        foreach (var key in fileKeys ?? [])
        {
            CheckKnownKey(key.Split(':'), errors);
        }

        foreach (var (name, provider) in options.Providers)
        {
            var at = $"providers.{name}";
            if (!ProviderType.All.Contains(provider.Type))
            {
                errors.Add(($"{at}.type", $"'{provider.Type}' is not a provider type; use one of {string.Join(", ", ProviderType.All)}"));
            }

            if (provider.Type is ProviderType.OpenAi or ProviderType.Anthropic && string.IsNullOrWhiteSpace(provider.ApiKey))
            {
                errors.Add(($"{at}.api_key", $"a {provider.Type} provider needs an api_key (write ${{ENV_VAR}} to read it from the environment)"));
            }

            if (provider.Type == ProviderType.OpenAiCompatible && string.IsNullOrWhiteSpace(provider.BaseUrl))
            {
                errors.Add(($"{at}.base_url", "an openai-compatible provider needs a base_url, for example http://gpu-box:8000/v1"));
            }

            if (provider.BaseUrl is { Length: > 0 } url
                && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            {
                errors.Add(($"{at}.base_url", $"'{url}' is not an absolute http(s) URL"));
            }

            if (provider.Type is ProviderType.OpenAiCompatible && string.IsNullOrWhiteSpace(provider.Model))
            {
                errors.Add(($"{at}.model", "an openai-compatible provider needs the model name the server serves"));
            }

            if (provider.Weight < 0)
            {
                errors.Add(($"{at}.weight", "must be 0 (failover only) or more"));
            }

            if (provider.Capacity < 1)
            {
                errors.Add(($"{at}.capacity", "must be at least 1"));
            }

            if (provider.TimeoutMs < 1)
            {
                errors.Add(($"{at}.timeout_ms", "must be a positive number of milliseconds"));
            }

            if (provider.MaxRetries is < 0 or > 10)
            {
                errors.Add(($"{at}.max_retries", "must be from 0 to 10"));
            }

            if (provider.RetryAfterCapMs < 0)
            {
                errors.Add(($"{at}.retry_after_cap_ms", "must be 0 or more milliseconds"));
            }

            if (provider.BreakDurationMs < 500)
            {
                errors.Add(($"{at}.break_duration_ms", "must be at least 500 milliseconds"));
            }

            if (provider.MaxOutputTokens < 64)
            {
                errors.Add(($"{at}.max_output_tokens", "must be at least 64"));
            }

            if (provider.MaxExcerptTokens < 100)
            {
                errors.Add(($"{at}.max_excerpt_tokens", "must be at least 100"));
            }

            if (provider.InputUsdPerMillionTokens < 0 || provider.OutputUsdPerMillionTokens < 0)
            {
                errors.Add(($"{at}.input_usd_per_mtok", "prices cannot be negative"));
            }
        }

        for (var i = 0; i < options.Redaction.Patterns.Count; i++)
        {
            try
            {
                _ = new System.Text.RegularExpressions.Regex(options.Redaction.Patterns[i]);
            }
            catch (ArgumentException e)
            {
                errors.Add(($"redaction.patterns.{i}", $"not a valid regular expression: {e.Message}"));
            }
        }

        foreach (var (repository, ownership) in options.Ownership)
        {
            if (ownership.CodeownersFile is { Length: > 0 } file && !File.Exists(Path.GetFullPath(file, options.BaseDirectory)))
            {
                errors.Add(($"ownership.{repository}.codeowners_file", $"'{Path.GetFullPath(file, options.BaseDirectory)}' does not exist"));
            }
        }

        foreach (var (name, route) in options.Routing)
        {
            var at = $"routing.{name}";
            if (route.Providers.Count == 0)
            {
                errors.Add(($"{at}.providers", "a route needs at least one provider"));
            }

            foreach (var provider in route.Providers.Where(p => !options.Providers.ContainsKey(p)))
            {
                errors.Add(($"{at}.providers", $"'{provider}' is not a provider of the providers section"));
            }

            if (route.TimeoutMs < 1)
            {
                errors.Add(($"{at}.timeout_ms", "must be a positive number of milliseconds"));
            }

            if (route.DeadlineMs is < 1)
            {
                errors.Add(($"{at}.deadline_ms", "must be a positive number of milliseconds"));
            }

            if (route.Cache.SimilarityThreshold is <= 0 or > 1)
            {
                errors.Add(($"{at}.cache.similarity_threshold", "must be above 0 and at most 1"));
            }

            if (route.Cache.TtlSeconds is < 1)
            {
                errors.Add(($"{at}.cache.ttl_seconds", "must be a positive number of seconds"));
            }
        }

        var semantic = options.Cache.Semantic;
        if (semantic.SimilarityThreshold is <= 0 or > 1)
        {
            errors.Add(("cache.semantic.similarity_threshold", "must be above 0 and at most 1"));
        }

        if (semantic.TtlSeconds < 1)
        {
            errors.Add(("cache.semantic.ttl_seconds", "must be a positive number of seconds"));
        }

        if (!CacheScope.All.Contains(semantic.Scope))
        {
            errors.Add(("cache.semantic.scope", $"'{semantic.Scope}' is not a cache scope; use one of {string.Join(", ", CacheScope.All)}"));
        }

        if (semantic.Candidates is < 1 or > 100)
        {
            errors.Add(("cache.semantic.candidates", "must be between 1 and 100"));
        }

        if (semantic.PurgeIntervalSeconds < 1)
        {
            errors.Add(("cache.semantic.purge_interval_seconds", "must be a positive number of seconds"));
        }

        if (semantic.Collection is { Length: > 0 } collection && !collection.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            errors.Add(("cache.semantic.collection", $"'{collection}' may hold only letters, digits, '-' and '_'"));
        }

        var embedder = options.Cache.Embedder;
        if (!EmbedderType.All.Contains(embedder.Type))
        {
            errors.Add(("cache.embedder.type", $"'{embedder.Type}' is not an embedder type; use one of {string.Join(", ", EmbedderType.All)}"));
        }
        else if (embedder.Type == EmbedderType.OpenAiCompatible)
        {
            if (string.IsNullOrWhiteSpace(embedder.BaseUrl) || !Uri.TryCreate(embedder.BaseUrl, UriKind.Absolute, out var embedderUri) || embedderUri.Scheme is not ("http" or "https"))
            {
                errors.Add(("cache.embedder.base_url", "an openai-compatible embedder needs an absolute http(s) base_url, for example http://ollama:11434/v1"));
            }

            if (string.IsNullOrWhiteSpace(embedder.Model))
            {
                errors.Add(("cache.embedder.model", "an openai-compatible embedder needs the embedding model's name"));
            }

            if (embedder.Dimensions is null or < 1)
            {
                errors.Add(("cache.embedder.dimensions", "an openai-compatible embedder needs the length of its vectors (for example 1536)"));
            }
        }

        if (embedder.Type == EmbedderType.Builtin && embedder.Dimensions is < 16 or > 4096)
        {
            errors.Add(("cache.embedder.dimensions", "the builtin embedder takes 16 to 4096 dimensions"));
        }

        if (options.Bus.RabbitMq is { Length: > 0 } amqp
            && (!Uri.TryCreate(amqp, UriKind.Absolute, out var broker) || broker.Scheme is not ("amqp" or "amqps")))
        {
            errors.Add(("bus.rabbitmq", $"'{Redact(amqp)}' is not an amqp:// or amqps:// URI"));
        }

        if (options.Cache.Qdrant.Url is { Length: > 0 } qdrant && !Uri.TryCreate(qdrant, UriKind.Absolute, out _))
        {
            errors.Add(("cache.qdrant.url", $"'{qdrant}' is not an absolute URL"));
        }

        if (options.Ingest.MaxBodyBytes < 1024)
        {
            errors.Add(("ingest.max_body_bytes", "must be at least 1024 bytes"));
        }

        if (options.Auth.AdminKey is { Length: > 0 and < 24 })
        {
            errors.Add(("auth.admin_key", "must be at least 24 characters; generate one with: openssl rand -base64 32"));
        }

        if (options.DeadLetters.ReplayRatePerSecond is <= 0 or > 10_000)
        {
            errors.Add(("dead_letters.replay_rate_per_second", "must be more than 0 and at most 10000"));
        }

        if (options.DeadLetters.AutoReplayIntervalSeconds < 1)
        {
            errors.Add(("dead_letters.auto_replay_interval_seconds", "must be at least 1"));
        }

        if (options.Auth.RotationGraceSeconds < 0)
        {
            errors.Add(("auth.rotation_grace_seconds", "must be 0 (the old secret stops at once) or more"));
        }

        if (options.Auth.KeyCacheSeconds is < 0 or > 300)
        {
            errors.Add(("auth.key_cache_seconds", "must be from 0 to 300: a revoked key works this long in a process that read it"));
        }

        return errors;
    }

    private static void CheckKnownKey(string[] path, List<(string, string)> errors)
    {
        var dotted = string.Join('.', path);
        if (!Sections.Contains(path[0]))
        {
            var error = (path[0], $"unknown section '{path[0]}'; the sections are {string.Join(", ", Sections)}");
            if (!errors.Contains(error))
            {
                errors.Add(error);
            }
        }
        else if (path is ["providers", _, var field] && !ProviderKeys.Contains(field))
        {
            errors.Add((dotted, $"unknown provider setting '{field}'; known are {string.Join(", ", ProviderKeys)}"));
        }
        else if (path is ["dead_letters", var dead] && !DeadLetterKeys.Contains(dead))
        {
            errors.Add((dotted, $"unknown dead_letters setting '{dead}'; known are {string.Join(", ", DeadLetterKeys)}"));
        }
        else if (path is ["auth", var auth] && !AuthKeys.Contains(auth))
        {
            errors.Add((dotted, $"unknown auth setting '{auth}'; known are {string.Join(", ", AuthKeys)}"));
        }
        else if (path is ["routing", _, var setting] && !RouteKeys.Contains(setting))
        {
            errors.Add((dotted, $"unknown route setting '{setting}'; known are {string.Join(", ", RouteKeys)}"));
        }
    }

    /// <summary>Connection strings may carry a password; errors show them without it.</summary>
    private static string Redact(string uri) =>
        System.Text.RegularExpressions.Regex.Replace(uri, "//([^:/@]+):[^@]*@", "//$1:***@");
}
