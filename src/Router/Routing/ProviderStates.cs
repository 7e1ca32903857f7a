using Triage.Platform.Configuration;

namespace Triage.Router.Routing;

/// <summary>Every provider's live state in this router, shared by all routes that name it.</summary>
public sealed class ProviderStates(TriageOptions options)
{
    private readonly Dictionary<string, ProviderState> states = options.Providers.ToDictionary(
        p => p.Key,
        p => new ProviderState(p.Key, p.Value.Weight, p.Value.Capacity, TimeSpan.FromMilliseconds(p.Value.BreakDurationMs)),
        StringComparer.OrdinalIgnoreCase);

    public IEnumerable<ProviderState> All => states.Values;

    public ProviderState Of(string provider) => states[provider];

    public bool TryGet(string provider, out ProviderState state) => states.TryGetValue(provider, out state!);
}
