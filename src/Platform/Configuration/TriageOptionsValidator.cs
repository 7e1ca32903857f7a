namespace Triage.Platform.Configuration;

/// <summary>
/// Every problem of the configuration at once, each with the key it came from, so that one start-up
/// tells the operator all there is to fix.
/// </summary>
public static class TriageOptionsValidator
{
    /// <summary>Shorter shared secrets can be guessed; the webhooks are open to anyone who can reach Ingest.</summary>
    private const int MinWebhookSecretLength = 16;

    private static readonly HashSet<string> Sections = new(StringComparer.OrdinalIgnoreCase)
    {
        "providers", "routing", "cache", "bus", "store", "ingest", "redaction", "ownership", "auth", "dead_letters", "webhooks",
        "notifications",
    };

    private static readonly HashSet<string> DeadLetterKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "replay_rate_per_second", "auto_replay", "auto_replay_interval_seconds",
    };

    private static readonly HashSet<string> AuthKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "required", "admin_key", "rotation_grace_seconds", "key_cache_seconds", "failed_attempts_per_minute",
    };

    /// <summary>Each webhook's settings: Jenkins and GitLab send a token, GitHub signs with a secret.</summary>
    private static readonly Dictionary<string, HashSet<string>> WebhookKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["jenkins"] = new(StringComparer.OrdinalIgnoreCase) { "token", "route", "key_id" },
        ["github"] = new(StringComparer.OrdinalIgnoreCase) { "secret", "route", "key_id" },
        ["gitlab"] = new(StringComparer.OrdinalIgnoreCase) { "token", "route", "key_id" },
    };

    private static readonly HashSet<string> NotificationKeys = new(StringComparer.OrdinalIgnoreCase) { "webhooks" };

    private static readonly HashSet<string> OutgoingWebhookKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "url", "format", "secret", "routes", "include_cached", "link",
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

        if (options.Bus.ConsumerCheckSeconds is < 0 or > 3600)
        {
            errors.Add(("bus.consumer_check_seconds", "must be from 0 (off) to 3600"));
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

        if (options.Auth.FailedAttemptsPerMinute < 0)
        {
            errors.Add(("auth.failed_attempts_per_minute", "must be 0 (no limit) or more: refused authentications a client address may have in a minute"));
        }

        foreach (var (name, hook) in options.Webhooks.Configured)
        {
            var at = $"webhooks.{name}";
            var (field, credential) = name == "github" ? ("secret", hook.Secret) : ("token", hook.Token);
            if (string.IsNullOrEmpty(credential) || credential.Length < MinWebhookSecretLength)
            {
                errors.Add(($"{at}.{field}", $"a webhook needs a {field} of at least {MinWebhookSecretLength} characters (write ${{ENV_VAR}} to read it from the environment); generate one with: openssl rand -hex 32"));
            }

            if (!options.Routing.ContainsKey(hook.Route))
            {
                errors.Add(($"{at}.route", $"'{hook.Route}' is not a route of the routing section"));
            }

            if (hook.KeyId is { Length: > 0 } keyId && !keyId.StartsWith("key_", StringComparison.Ordinal))
            {
                errors.Add(($"{at}.key_id", $"'{keyId}' is not a key id; ids look like key_1f2e3d4c5b6a7988 (triage keys list)"));
            }
            else if (string.IsNullOrEmpty(hook.KeyId) && options.Auth.IsRequired(options.Store))
            {
                errors.Add(($"{at}.key_id", "keys are required (auth.required, or PostgreSQL as the store): name the virtual key this webhook's failures are charged to (triage keys create --team T)"));
            }
        }

        ValidateNotifications(options, fileKeys, errors);
        return errors;
    }

    /// <summary>Outgoing webhooks. A URL is never echoed: a Slack webhook's path is its secret.</summary>
    private static void ValidateNotifications(TriageOptions options, IEnumerable<string>? fileKeys, List<(string, string)> errors)
    {
        // The binder leaves out, without a word, a list item with a value it cannot convert.
        var inFile = (fileKeys ?? []).Select(k => k.Split(':')).Where(k => k is ["notifications", "webhooks", _, ..]).Select(k => k[2]).Distinct().Count();
        if (inFile > options.Notifications.Webhooks.Count)
        {
            errors.Add(("notifications.webhooks", $"{inFile - options.Notifications.Webhooks.Count} of the {inFile} webhooks could not be read: include_cached takes true or false"));
        }

        for (var i = 0; i < options.Notifications.Webhooks.Count; i++)
        {
            var hook = options.Notifications.Webhooks[i];
            var at = $"notifications.webhooks.{i}";
            if (string.IsNullOrWhiteSpace(hook.Url))
            {
                errors.Add(($"{at}.url", "a webhook needs the absolute http(s) URL it posts to"));
            }
            else if (!IsHttpUrl(hook.Url))
            {
                errors.Add(($"{at}.url", "is not an absolute http(s) URL"));
            }

            if (!OutgoingWebhookFormat.All.Contains(hook.Format))
            {
                errors.Add(($"{at}.format", $"'{hook.Format}' is not a webhook format; use one of {string.Join(", ", OutgoingWebhookFormat.All)}"));
            }

            if (hook.Secret is { Length: > 0 and < MinWebhookSecretLength })
            {
                errors.Add(($"{at}.secret", $"must be at least {MinWebhookSecretLength} characters, or empty to send unsigned; generate one with: openssl rand -hex 32"));
            }

            foreach (var route in hook.Routes.Where(r => !options.Routing.ContainsKey(r)))
            {
                errors.Add(($"{at}.routes", $"'{route}' is not a route of the routing section"));
            }

            if (hook.Link is { Length: > 0 } link && !IsHttpUrl(link.Replace("{eventId}", "id", StringComparison.Ordinal)))
            {
                errors.Add(($"{at}.link", $"'{link}' is not an absolute http(s) URL (write {{eventId}} where the failure's id goes)"));
            }
        }

        static bool IsHttpUrl(string url) =>
            Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
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
        else if (path is ["webhooks", var hook, ..] && !WebhookKeys.ContainsKey(hook))
        {
            var error = ($"webhooks.{hook}", $"unknown webhook '{hook}'; the webhooks are {string.Join(", ", WebhookKeys.Keys)}");
            if (!errors.Contains(error))
            {
                errors.Add(error);
            }
        }
        else if (path is ["webhooks", var named, var webhookSetting, ..] && !WebhookKeys[named].Contains(webhookSetting))
        {
            errors.Add((dotted, $"unknown webhooks.{named} setting '{webhookSetting}'; known are {string.Join(", ", WebhookKeys[named])}"));
        }
        else if (path is ["routing", _, var setting] && !RouteKeys.Contains(setting))
        {
            errors.Add((dotted, $"unknown route setting '{setting}'; known are {string.Join(", ", RouteKeys)}"));
        }
        else if (path is ["notifications", var notification, ..] && !NotificationKeys.Contains(notification))
        {
            var error = ($"notifications.{notification}", $"unknown notifications setting '{notification}'; known are {string.Join(", ", NotificationKeys)}");
            if (!errors.Contains(error))
            {
                errors.Add(error);
            }
        }
        else if (path is ["notifications", _, var index, ..] && !int.TryParse(index, out _))
        {
            var error = ("notifications.webhooks", "must be a list: start each webhook with '- url:'");
            if (!errors.Contains(error))
            {
                errors.Add(error);
            }
        }
        else if (path is ["notifications", _, _, var webhookField, ..] && !OutgoingWebhookKeys.Contains(webhookField))
        {
            errors.Add((dotted, $"unknown notifications.webhooks setting '{webhookField}'; known are {string.Join(", ", OutgoingWebhookKeys)}"));
        }
        else if (path is ["notifications", _, _, "routes"])
        {
            // A single name would be read as no list at all, which means every route.
            errors.Add((dotted, "must be a list of routes, for example [build_triage]"));
        }
    }

    /// <summary>Connection strings may carry a password; errors show them without it.</summary>
    private static string Redact(string uri) =>
        System.Text.RegularExpressions.Regex.Replace(uri, "//([^:/@]+):[^@]*@", "//$1:***@");
}
