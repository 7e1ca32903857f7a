namespace Triage.Contracts;

/// <summary>
/// One provider could not triage a failure: it errored after its retries, its circuit was open, its answer was
/// invalid, or the attempt's deadline passed before a worker took it. The router fails it over or dead-letters it.
/// </summary>
public sealed record TriageAttemptFailed
{
    public required string EventId { get; init; }

    /// <summary>The request as the provider's pool received it, with its attempt history.</summary>
    public required TriageRequested Request { get; init; }

    /// <summary>rate_limited, overloaded, server_error, transport, timeout, bad_request, unauthorized, invalid_answer, circuit_open or expired.</summary>
    public required string Reason { get; init; }

    public required string Detail { get; init; }

    public DateTimeOffset FailedAt { get; init; }
}

/// <summary>No provider of the route could triage the failure; it waits, durably, to be replayed.</summary>
public sealed record TriageDeadLettered
{
    public required string EventId { get; init; }

    public required string Route { get; init; }

    /// <summary>Why the last attempt failed, or why no attempt could be made (no_provider_left, deadline_passed, failover_disabled).</summary>
    public required string Reason { get; init; }

    public IReadOnlyList<AttemptOutcome> Attempts { get; init; } = [];

    /// <summary>The failure as the providers saw it (excerpt, redacted).</summary>
    public required BuildFailed Failure { get; init; }

    public DateTimeOffset DeadLetteredAt { get; init; }
}

/// <summary>How one attempt at one provider ended.</summary>
public sealed record AttemptOutcome(string Provider, string Outcome, string? Detail = null, double DurationMs = 0);
