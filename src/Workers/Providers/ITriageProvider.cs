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
    double Confidence,
    double FlakyLikelihood = 0,
    IReadOnlyList<string>? NextSteps = null);

public sealed record ProviderAnswer(TriageVerdict Verdict, string Model, TokenUsage Usage);

/// <summary>Why an attempt at a provider failed; decides whether it is retried and whether it counts against the provider's health.</summary>
public enum ProviderFailure
{
    /// <summary>429: retried after Retry-After.</summary>
    RateLimited,

    /// <summary>529 or an overloaded error: retried.</summary>
    Overloaded,

    /// <summary>Other 5xx: retried.</summary>
    ServerError,

    /// <summary>Connection refused or reset, DNS, a broken response stream: retried.</summary>
    Transport,

    /// <summary>The attempt took longer than the provider's timeout_ms: retried.</summary>
    Timeout,

    /// <summary>400, 404, 413, 422: the request itself is wrong; not retried, failed over.</summary>
    BadRequest,

    /// <summary>401, 403: the key is wrong; not retried, failed over.</summary>
    Unauthorized,

    /// <summary>The answer is not a valid triage even after one retry with the validation error.</summary>
    InvalidAnswer,

    /// <summary>The provider's circuit is open: it is known to be down, nothing was sent.</summary>
    CircuitOpen,
}

/// <summary>A provider attempt failed; <see cref="Failure"/> says how, <see cref="StatusCode"/> what the server answered.</summary>
public sealed class ProviderException(
    string provider,
    ProviderFailure failure,
    string message,
    int? statusCode = null,
    TimeSpan? retryAfter = null,
    Exception? inner = null)
    : Exception($"{provider}: {failure}: {message}", inner)
{
    public string Provider { get; } = provider;

    public ProviderFailure Failure { get; } = failure;

    public int? StatusCode { get; } = statusCode;

    /// <summary>What the server asked for in its Retry-After header, if anything.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>
    /// Tokens the provider charged for although the attempt failed (answers that did not validate); null when
    /// nothing is known to have been billed.
    /// </summary>
    public TokenUsage? BilledUsage { get; init; }

    /// <summary>The model that answered the billed calls, to price <see cref="BilledUsage"/> with.</summary>
    public string? BilledModel { get; init; }

    public bool IsTransient => Failure is ProviderFailure.RateLimited or ProviderFailure.Overloaded
        or ProviderFailure.ServerError or ProviderFailure.Transport or ProviderFailure.Timeout;

    /// <summary>Failures that say the provider, not this one request, is in trouble.</summary>
    public bool CountsAgainstHealth => IsTransient || Failure == ProviderFailure.Unauthorized;
}
