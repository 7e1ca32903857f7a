using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Microsoft.Extensions.AI;
using OpenAI;
using Triage.Platform.Configuration;
using Triage.Workers.Ownership;
using Triage.Workers.Prompt;
using Triage.Workers.Providers.Builtin;
using Triage.Workers.Providers.Resilience;

namespace Triage.Workers.Providers;

/// <summary>
/// The providers this process has pools for, built once from triage.yaml. The official SDKs speak each wire format
/// behind <see cref="IChatClient"/>; their own retries and timeouts are off, so the provider's pipeline owns both.
/// </summary>
public sealed class ProviderRegistry
{
    public const string AnthropicBaseUrl = "https://api.anthropic.com";
    public const string OpenAiBaseUrl = "https://api.openai.com/v1";
    public static readonly string DefaultAnthropicModel = ProviderType.DefaultModel(ProviderType.Anthropic)!;
    public static readonly string DefaultOpenAiModel = ProviderType.DefaultModel(ProviderType.OpenAi)!;

    private readonly Dictionary<string, (ITriageProvider Provider, ProviderOptions Options)> providers =
        new(StringComparer.OrdinalIgnoreCase);

    public ProviderRegistry(TriageOptions options, TriagePrompt prompt, OwnershipDirectory ownership, TimeProvider time)
    {
        foreach (var (name, provider) in options.Providers)
        {
            providers[name] = (Create(name, provider, prompt, ownership, time), provider);
        }
    }

    public ITriageProvider Get(string name) =>
        providers.TryGetValue(name, out var entry)
            ? entry.Provider
            : throw new InvalidOperationException($"No provider '{name}' is configured in this process.");

    public ProviderOptions OptionsOf(string name) => providers[name].Options;

    /// <summary>The resilience pipelines of the language-model providers (the built-in triager has none).</summary>
    public IEnumerable<ProviderResilience> Resiliences =>
        providers.Values.Select(p => p.Provider).OfType<ChatTriageProvider>().Select(p => p.Resilience);

    private static ITriageProvider Create(string name, ProviderOptions options, TriagePrompt prompt, OwnershipDirectory ownership, TimeProvider time)
    {
        if (options.Type == ProviderType.Builtin)
        {
            return new RuleBasedTriager(name, ownership);
        }

        var http = new HttpClient(new HttpExchangeRecorder(time, sendsCredentials: !string.IsNullOrEmpty(options.ApiKey))
        {
            InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) },
        })
        {
            // The pipeline's per-attempt timeout cancels the call; the client must not race it.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var chat = options.Type switch
        {
            ProviderType.Anthropic => new AnthropicClient(new Anthropic.Core.ClientOptions
            {
                // The Messages API's own header, which every Anthropic-compatible proxy accepts; the SDK would send
                // the key as a bearer token. Null also keeps the SDK from reading ANTHROPIC_API_KEY on its own.
                ApiKey = null,
                ExtraHeaders = new Dictionary<string, string> { ["x-api-key"] = options.ApiKey ?? string.Empty },
                BaseUrl = (options.BaseUrl ?? AnthropicBaseUrl).TrimEnd('/'),
                HttpClient = http,
                MaxRetries = 0,
                Timeout = TimeSpan.FromMilliseconds(options.TimeoutMs * 2L),
            }).AsIChatClient(options.Model ?? DefaultAnthropicModel, options.MaxOutputTokens),
            _ => new OpenAI.Chat.ChatClient(
                options.Model ?? DefaultOpenAiModel,
                new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? "no-key" : options.ApiKey),
                new OpenAIClientOptions
                {
                    Endpoint = new Uri(options.BaseUrl ?? OpenAiBaseUrl),
                    Transport = new HttpClientPipelineTransport(http),
                    RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                    NetworkTimeout = TimeSpan.FromMilliseconds(options.TimeoutMs * 2L),
                }).AsIChatClient(),
        };
        return new ChatTriageProvider(name, options, chat, new ProviderResilience(name, options, time), prompt);
    }
}
