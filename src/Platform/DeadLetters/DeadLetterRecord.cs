namespace Triage.Platform.DeadLetters;

/// <summary>
/// A failure no provider could triage, kept until it is replayed or archived. Instants are Unix milliseconds (see
/// <see cref="Store.CacheEntryRecord.CreatedAt"/>).
/// </summary>
public sealed class DeadLetterRecord
{
    public required string EventId { get; set; }

    public required string Route { get; set; }

    /// <summary>Route, last provider tried and last error kind (<c>build_triage/anthropic/overloaded</c>): what failed alike.</summary>
    public required string GroupKey { get; set; }

    /// <summary>The last error kind (an <c>AttemptFailure</c>, or why no attempt was made).</summary>
    public required string Reason { get; set; }

    public string? Detail { get; set; }

    /// <summary>The last provider tried; null when none was.</summary>
    public string? LastProvider { get; set; }

    /// <summary>Every attempt of the last dead-lettering as JSON: provider, error kind, message, billed cost.</summary>
    public required string Attempts { get; set; }

    /// <summary>The <c>BuildFailed</c> as JSON, its log the redacted failure excerpt: what a replay publishes.</summary>
    public required string Failure { get; set; }

    public DateTimeOffset FirstFailedAt { get; set; }

    public DateTimeOffset LastFailedAt { get; set; }

    /// <summary>How often the failure was dead-lettered: 1, plus one per replay that failed again.</summary>
    public int TimesDeadLettered { get; set; }

    /// <summary>One of <see cref="DeadLetterStatus"/>.</summary>
    public required string Status { get; set; }

    /// <summary>Replays started; the n-th replay publishes the failure with <c>Replay = n</c>.</summary>
    public int ReplayCount { get; set; }

    /// <summary>The replay run that holds or last held this dead letter.</summary>
    public string? ReplayRun { get; set; }

    /// <summary>When the current replay claimed it; a claim older than the lease is taken over by the next run.</summary>
    public DateTimeOffset? ClaimedAt { get; set; }

    public DateTimeOffset? ReplayedAt { get; set; }

    public DateTimeOffset? ArchivedAt { get; set; }
}

public static class DeadLetterStatus
{
    /// <summary>Waiting for a replay.</summary>
    public const string Dead = "dead";

    /// <summary>Claimed by a replay that has not yet published it.</summary>
    public const string Replaying = "replaying";

    /// <summary>Published to the router again; back to <see cref="Dead"/> if it fails again.</summary>
    public const string Replayed = "replayed";

    /// <summary>Kept for the record, never replayed.</summary>
    public const string Archived = "archived";

    public static IReadOnlyList<string> All { get; } = [Dead, Replaying, Replayed, Archived];
}
