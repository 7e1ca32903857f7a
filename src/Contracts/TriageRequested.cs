namespace Triage.Contracts;

/// <summary>The router asks one provider's worker pool to triage a failure. Sent to the queue <c>triage-provider-{Provider}</c>.</summary>
public sealed record TriageRequested
{
    public required string EventId { get; init; }

    public required string Route { get; init; }

    /// <summary>The provider (a key of <c>providers:</c> in triage.yaml) whose pool must answer.</summary>
    public required string Provider { get; init; }

    /// <summary>1 for the first provider tried, incremented on every failover.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>The failure, its <see cref="BuildFailed.Log"/> replaced by the redacted failure excerpt.</summary>
    public required BuildFailed Failure { get; init; }

    /// <summary>Secrets the router redacted from the excerpt, failing tests and build facts.</summary>
    public int RedactedSecrets { get; init; }

    public DateTimeOffset RequestedAt { get; init; }

    /// <summary>When this attempt must have an answer, queueing included (the route's timeout_ms).</summary>
    public DateTimeOffset? AttemptDeadline { get; init; }

    /// <summary>When the whole triage must have an answer across attempts (the route's deadline_ms), if set.</summary>
    public DateTimeOffset? TriageDeadline { get; init; }

    /// <summary>How the earlier attempts at this failure ended, oldest first.</summary>
    public IReadOnlyList<AttemptOutcome> History { get; init; } = [];
}
