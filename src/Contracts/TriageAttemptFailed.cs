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

    /// <summary>One of <see cref="AttemptFailure"/>.</summary>
    public required string Reason { get; init; }

    public required string Detail { get; init; }

    public DateTimeOffset FailedAt { get; init; }

    /// <summary>The model that answered, when the provider billed this attempt although it failed; else null.</summary>
    public string? Model { get; init; }

    /// <summary>The tokens the provider billed for this attempt (answers that did not validate); null when nothing was billed.</summary>
    public TokenUsage? Usage { get; init; }

    /// <summary>What the provider billed for this attempt, by the price table; 0 when nothing was billed.</summary>
    public decimal CostUsd { get; init; }
}

/// <summary>No provider of the route could triage the failure; it waits, durably, to be replayed.</summary>
public sealed record TriageDeadLettered
{
    public required string EventId { get; init; }

    public required string Route { get; init; }

    /// <summary>Why the last attempt failed, or why no attempt could be made (no_provider_left, deadline_passed, failover_disabled).</summary>
    public required string Reason { get; init; }

    /// <summary>The reason in words, when there is more to say (a parked failure's key or budget problem).</summary>
    public string? Detail { get; init; }

    public IReadOnlyList<AttemptOutcome> Attempts { get; init; } = [];

    /// <summary>The failure as the providers saw it (excerpt, redacted).</summary>
    public required BuildFailed Failure { get; init; }

    public DateTimeOffset DeadLetteredAt { get; init; }
}

/// <summary>How one attempt at one provider ended, and what the provider billed for it.</summary>
/// <param name="Provider">The provider (a key of <c>providers:</c> in triage.yaml) that was tried.</param>
/// <param name="Outcome"><see cref="Success"/>, or one of <see cref="AttemptFailure"/>.</param>
/// <param name="Detail">Why the attempt failed, as the pool or the router saw it; null on success.</param>
/// <param name="DurationMs">How long the attempt took, in milliseconds.</param>
public sealed record AttemptOutcome(string Provider, string Outcome, string? Detail = null, double DurationMs = 0)
{
    /// <summary>When the attempt ended; null in messages from before it was recorded.</summary>
    public DateTimeOffset? At { get; init; }

    /// <summary>The <see cref="Outcome"/> of the attempt that triaged the failure.</summary>
    public const string Success = "success";

    /// <summary>The model that answered; null when no billed answer came back (a timeout, an error, an open circuit).</summary>
    public string? Model { get; init; }

    /// <summary>The tokens the attempt's answers used, valid or not; null when no billed answer came back.</summary>
    public TokenUsage? Usage { get; init; }

    /// <summary>What the provider billed for this attempt, by the price table; 0 when nothing was billed.</summary>
    public decimal CostUsd { get; init; }

    /// <summary>
    /// What the failed ones among <paramref name="attempts"/> were billed: the cost of a triage beyond its
    /// <see cref="TriageCompleted.CostUsd"/>, or all a dead letter cost.
    /// </summary>
    public static decimal FailedCostUsd(IEnumerable<AttemptOutcome> attempts) =>
        attempts.Where(a => a.Outcome != Success).Sum(a => a.CostUsd);
}

/// <summary>Why an attempt failed: the names pools publish, the router acts on, and metrics and dead letters group by.</summary>
public static class AttemptFailure
{
    public const string RateLimited = "rate_limited";
    public const string Overloaded = "overloaded";
    public const string ServerError = "server_error";
    public const string Transport = "transport";
    public const string Timeout = "timeout";
    public const string BadRequest = "bad_request";
    public const string Unauthorized = "unauthorized";
    public const string InvalidAnswer = "invalid_answer";
    public const string CircuitOpen = "circuit_open";

    /// <summary>The request waited in the provider's queue past its deadline (the pool is slow, stuck or not running).</summary>
    public const string Expired = "expired";

    /// <summary>A bad request or an invalid answer says nothing about whether the provider is up.</summary>
    public static bool CountsAgainstHealth(string reason) => reason is not (BadRequest or InvalidAnswer);
}
