using Triage.Contracts;

namespace Triage.Workers.Providers;

/// <summary>Something that can triage a failure: an LLM behind an API, or the built-in rules.</summary>
public interface ITriageProvider
{
    /// <summary>The provider's key in triage.yaml.</summary>
    string Name { get; }

    Task<ProviderAnswer> TriageAsync(TriageRequested request, CancellationToken cancellationToken);
}

/// <summary>What a provider concluded, before the pool adds timing, cost and identity.</summary>
public sealed record TriageVerdict(
    string Summary,
    string Category,
    string SuspectedCause,
    IReadOnlyList<string> SuggestedOwners,
    double Confidence);

public sealed record ProviderAnswer(TriageVerdict Verdict, string Model, TokenUsage Usage);

/// <summary>A provider call failed; <see cref="StatusCode"/> is the HTTP status when there was one.</summary>
public sealed class ProviderException(string provider, string message, int? statusCode = null, Exception? inner = null)
    : Exception($"{provider}: {message}", inner)
{
    public string Provider { get; } = provider;

    public int? StatusCode { get; } = statusCode;
}
