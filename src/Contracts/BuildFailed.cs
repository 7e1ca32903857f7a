namespace Triage.Contracts;

/// <summary>A build failed and somebody wants it triaged. Published by Ingest, or raw by a build system.</summary>
public sealed record BuildFailed
{
    /// <summary>Idempotency key: every message about this failure carries it.</summary>
    public required string EventId { get; init; }

    /// <summary>The build system: jenkins, github-actions, gitlab, or any name a producer chooses.</summary>
    public required string Source { get; init; }

    public required string Job { get; init; }

    public required string BuildNumber { get; init; }

    public string? BuildUrl { get; init; }

    public string? Repository { get; init; }

    public string? Branch { get; init; }

    public string? Commit { get; init; }

    public string? Stage { get; init; }

    /// <summary>The routing entry of triage.yaml that decides which providers may triage it.</summary>
    public required string Route { get; init; }

    /// <summary>
    /// The build log as text. On <see cref="BuildFailed"/> it is the log as received (bounded by Ingest);
    /// inside <see cref="TriageRequested"/> it is the redacted failure excerpt the router prepared.
    /// </summary>
    public required string Log { get; init; }

    public IReadOnlyList<FailedTest> FailedTests { get; init; } = [];

    public DateTimeOffset ReceivedAt { get; init; }

    /// <summary>False asks for a fresh triage: the cache is neither read nor written for this failure.</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>
    /// The id (<c>key_...</c>) of the team's virtual key the failure is charged to; never the key's secret. Ingest sets
    /// it from the key that authenticated the request; a producer publishing straight to the broker sets it itself,
    /// and the router checks it as Ingest would.
    /// </summary>
    public string? KeyId { get; init; }

    /// <summary>
    /// 0 for a failure as it first arrived; n for the n-th replay of its dead letter. The router takes a replay only
    /// while the failure is dead-lettered and this replay is newer than the last one it took, so a replay published
    /// twice is triaged once.
    /// </summary>
    public int Replay { get; init; }

    /// <summary>
    /// The log is already the redacted failure excerpt (a replayed dead letter keeps no raw log): the router does not
    /// cut it again, so the replay is triaged and cached by the same excerpt as the first attempt.
    /// </summary>
    public bool LogIsExcerpt { get; init; }
}

/// <summary>A test the build system reported as failing.</summary>
public sealed record FailedTest(string Name, string? Message = null);
