using System.Text.Json.Nodes;
using Triage.Contracts;

namespace Triage.Tests.Infrastructure;

/// <summary>Build failure documents for tests: the bundled samples, and variations of them.</summary>
public static class Samples
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Samples");

    public static JsonObject Load(string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, name + ".json")))!.AsObject();

    /// <summary>The Maven compile error sample under an event id of its own, so tests never collide.</summary>
    public static JsonObject CompileError(string? eventId = null)
    {
        var document = Load("01-maven-compile-error");
        document["eventId"] = eventId ?? "test-" + Guid.NewGuid().ToString("N");
        return document;
    }

    /// <summary>A minimal failure with the given log, for tests of what reads logs.</summary>
    public static BuildFailed Failure(string log, string? eventId = null) => new()
    {
        EventId = eventId ?? "e1",
        Source = "jenkins",
        Job = "job",
        BuildNumber = "1",
        Route = "build_triage",
        Log = log,
        ReceivedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>A result of <paramref name="provider"/> for the failure <paramref name="eventId"/>, for tests of what stores results.</summary>
    public static TriageCompleted Result(string eventId, string provider) => new()
    {
        EventId = eventId,
        Route = "build_triage",
        Summary = "s",
        Category = TriageCategory.TestFailure,
        SuspectedCause = "c",
        Provider = provider,
        Model = "m",
        Usage = new TokenUsage(100, 20),
        CostUsd = 0.0012m,
        CompletedAt = DateTimeOffset.UtcNow,
    };
}
