namespace Triage.Platform.Store;

/// <summary>One build failure as the store knows it: queued when accepted, completed once a triage is recorded.</summary>
public sealed class TriageRecord
{
    public required string EventId { get; set; }

    public required string Route { get; set; }

    public required string Source { get; set; }

    public required string Job { get; set; }

    public required string BuildNumber { get; set; }

    public string? Repository { get; set; }

    public required string Status { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>The newest replay of its dead letter the router took (0: none); an older or equal one is a duplicate.</summary>
    public int Replays { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public string? Category { get; set; }

    public string? Provider { get; set; }

    public string? Model { get; set; }

    public int InputTokens { get; set; }

    public int OutputTokens { get; set; }

    public decimal CostUsd { get; set; }

    /// <summary>The <see cref="Contracts.TriageCompleted"/> as recorded, in JSON.</summary>
    public string? Result { get; set; }

    /// <summary>The redacted failure excerpt, kept while the cache may still remember this failure's result; null otherwise.</summary>
    public string? CacheExcerpt { get; set; }
}

public static class TriageStatus
{
    public const string Queued = "queued";
    public const string Routed = "routed";
    public const string Completed = "completed";
    public const string DeadLettered = "dead_lettered";
}
