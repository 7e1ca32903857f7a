namespace Triage.Platform.Configuration;

/// <summary>
/// Every problem of the configuration at once, each with the key it came from, so that one start-up
/// tells the operator all there is to fix.
/// </summary>
public static class TriageOptionsValidator
{
    private static readonly HashSet<string> Sections = new(StringComparer.OrdinalIgnoreCase)
    {
        "providers", "routing", "cache", "bus", "store", "ingest",
    };

    private static readonly HashSet<string> ProviderKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "type", "base_url", "api_key", "model", "weight", "capacity", "timeout_ms", "input_usd_per_mtok", "output_usd_per_mtok",
    };

    private static readonly HashSet<string> RouteKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "providers", "failover", "timeout_ms", "deadline_ms",
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
            else if (provider.Type == ProviderType.Anthropic)
            {
                errors.Add(($"{at}.type", "the anthropic provider is not available in this version; use openai-compatible or builtin"));
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
        else if (path is ["routing", _, var setting] && !RouteKeys.Contains(setting))
        {
            errors.Add((dotted, $"unknown route setting '{setting}'; known are {string.Join(", ", RouteKeys)}"));
        }
    }

    /// <summary>Connection strings may carry a password; errors show them without it.</summary>
    private static string Redact(string uri) =>
        System.Text.RegularExpressions.Regex.Replace(uri, "//([^:/@]+):[^@]*@", "//$1:***@");
}
