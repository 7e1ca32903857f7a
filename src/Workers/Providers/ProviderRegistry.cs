using Triage.Platform.Configuration;
using Triage.Workers.Providers.Builtin;
using Triage.Workers.Providers.OpenAi;

namespace Triage.Workers.Providers;

/// <summary>The providers this process has pools for, built once from triage.yaml.</summary>
public sealed class ProviderRegistry
{
    private readonly Dictionary<string, (ITriageProvider Provider, ProviderOptions Options)> providers =
        new(StringComparer.OrdinalIgnoreCase);

    public ProviderRegistry(TriageOptions options, IHttpClientFactory http)
    {
        foreach (var (name, provider) in options.Providers)
        {
            providers[name] = (Create(name, provider, http), provider);
        }
    }

    public ITriageProvider Get(string name) =>
        providers.TryGetValue(name, out var entry)
            ? entry.Provider
            : throw new InvalidOperationException($"No provider '{name}' is configured in this process.");

    /// <summary>The one place a call's cost is computed: tokens times the configured price per million.</summary>
    public decimal CostOf(string name, Contracts.TokenUsage usage)
    {
        var options = providers[name].Options;
        return ((usage.InputTokens * (options.InputUsdPerMillionTokens ?? 0m))
            + (usage.OutputTokens * (options.OutputUsdPerMillionTokens ?? 0m))) / 1_000_000m;
    }

    private static ITriageProvider Create(string name, ProviderOptions options, IHttpClientFactory http) => options.Type switch
    {
        ProviderType.Builtin => new RuleBasedTriager(name),
        ProviderType.OpenAi or ProviderType.OpenAiCompatible => new OpenAiCompatibleProvider(name, options, Client(name, options, http)),
        _ => throw new InvalidOperationException($"Provider type '{options.Type}' of '{name}' is not available."),
    };

    private static HttpClient Client(string name, ProviderOptions options, IHttpClientFactory http)
    {
        var client = http.CreateClient($"provider-{name}");
        client.Timeout = TimeSpan.FromMilliseconds(options.TimeoutMs);
        return client;
    }
}
