namespace Triage.Contracts;

/// <summary>A failure was triaged. Published on the stable exchange <c>triage.triage-completed</c> for any subscriber.</summary>
/// <remarks>Delivery is at least once: subscribers de-duplicate on <see cref="EventId"/>.</remarks>
public sealed record TriageCompleted
{
    public required string EventId { get; init; }

    public required string Route { get; init; }

    /// <summary>At most three sentences.</summary>
    public required string Summary { get; init; }

    /// <summary>One of <see cref="TriageCategory"/>.</summary>
    public required string Category { get; init; }

    public required string SuspectedCause { get; init; }

    public IReadOnlyList<string> SuggestedOwners { get; init; } = [];

    /// <summary>0..1.</summary>
    public double Confidence { get; init; }

    /// <summary>0..1: how likely the failure is a flaky test or infrastructure hiccup rather than a real defect.</summary>
    public double FlakyLikelihood { get; init; }

    /// <summary>At most three concrete next steps.</summary>
    public IReadOnlyList<string> NextSteps { get; init; } = [];

    /// <summary>How many secrets were redacted from what the provider was shown.</summary>
    public int RedactedSecrets { get; init; }

    public required string Provider { get; init; }

    public required string Model { get; init; }

    /// <summary>How many providers were tried, this one included.</summary>
    public int Attempts { get; init; } = 1;

    /// <summary>Every attempt, oldest first: the failed ones that led here, then this one.</summary>
    public IReadOnlyList<AttemptOutcome> AttemptHistory { get; init; } = [];

    public TokenUsage Usage { get; init; } = new(0, 0);

    public decimal CostUsd { get; init; }

    /// <summary>Time spent in the provider call, in milliseconds.</summary>
    public double ProviderDurationMs { get; init; }

    /// <summary>Time from <see cref="BuildFailed.ReceivedAt"/> to this answer, in milliseconds.</summary>
    public double DurationMs { get; init; }

    public DateTimeOffset CompletedAt { get; init; }

    /// <summary>Set when this triage is an earlier one reused from the cache; null for a fresh triage.</summary>
    public CacheHit? Cache { get; init; }
}

/// <summary>
/// An earlier triage stood for this failure: how similar the two were (cosine of their fingerprints' embeddings) and
/// which triage was reused. <paramref name="SavedCostUsd"/> is what the reused triage cost when it was made.
/// </summary>
public sealed record CacheHit(bool Hit, double Similarity, string SourceTriageId, decimal SavedCostUsd);

public sealed record TokenUsage(int InputTokens, int OutputTokens);

/// <summary>The categories a triage may give a failure.</summary>
public static class TriageCategory
{
    public const string CompileError = "compile_error";
    public const string TestFailure = "test_failure";
    public const string FlakyTest = "flaky_test";
    public const string Dependency = "dependency";
    public const string Network = "network";
    public const string OutOfMemory = "out_of_memory";
    public const string Timeout = "timeout";
    public const string Infrastructure = "infrastructure";
    public const string Configuration = "configuration";
    public const string Unknown = "unknown";

    public static IReadOnlyList<string> All { get; } =
    [
        CompileError, TestFailure, FlakyTest, Dependency, Network,
        OutOfMemory, Timeout, Infrastructure, Configuration, Unknown,
    ];
}
