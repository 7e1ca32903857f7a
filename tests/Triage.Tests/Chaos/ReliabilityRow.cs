using System.Text.Json;
using Triage.Contracts;
using Triage.Platform.Store;

namespace Triage.Tests.Chaos;

/// <summary>
/// The counted outcome of one fault scenario: what was accepted and how each accepted failure ended. Written to
/// <c>reliability/&lt;scenario&gt;.json</c> in the test output folder before the test asserts anything, so that
/// <c>tools/reliability-report.sh</c> reports a failing scenario's figures too.
/// </summary>
public sealed record ReliabilityRow
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public required string Scenario { get; init; }

    /// <summary>The test method that produced the row, to match it with its outcome in the test results.</summary>
    public required string Test { get; init; }

    /// <summary>Failures sent: HTTP posts, plus any message published straight to the broker.</summary>
    public int Published { get; init; }

    /// <summary>Answered 202: the gateway promised a triage or a dead letter.</summary>
    public int Accepted { get; init; }

    public int Completed { get; init; }

    public int DeadLettered { get; init; }

    /// <summary>Accepted − completed − dead-lettered: must be 0.</summary>
    public int Lost { get; init; }

    /// <summary>Failures whose recorded result changed after it was first recorded (a second result recorded): must be 0.</summary>
    public int DuplicateResults { get; init; }

    /// <summary>TriageCompleted events on triage.completed.json beyond the first per event id: allowed by at-least-once.</summary>
    public int DuplicateEvents { get; init; }

    /// <summary>Completed failures no subscriber of triage.completed.json heard of: must be 0.</summary>
    public int MissingEvents { get; init; }

    /// <summary>Completed failures whose dead letter still waits to be replayed: ended twice, must be 0.</summary>
    public int EndedTwice { get; init; }

    public double Seconds { get; init; }

    /// <summary>The report run that asked for the row (<c>TRIAGE_RELIABILITY_RUN</c>), so that it ignores rows of other runs.</summary>
    public string? Run { get; init; } = Environment.GetEnvironmentVariable("TRIAGE_RELIABILITY_RUN");

    public DateTimeOffset WrittenAt { get; init; } = DateTimeOffset.UtcNow;

    public string Notes { get; init; } = string.Empty;

    /// <summary>What else the scenario measured (answers by status, provider calls, timings).</summary>
    public SortedDictionary<string, object?> Details { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Counts the outcome of the accepted failures from the store and from the events a subscriber received.</summary>
    public static ReliabilityRow Count(
        string scenario,
        string test,
        int published,
        IReadOnlyCollection<string> accepted,
        IReadOnlyDictionary<string, StoredOutcome> store,
        IReadOnlyList<CompletedEvent> events,
        IReadOnlySet<string> waitingDeadLetters,
        TimeSpan elapsed)
    {
        var ids = accepted.ToHashSet(StringComparer.Ordinal);
        string? StatusOf(string id) => store.TryGetValue(id, out var outcome) ? outcome.Status : null;
        var completed = ids.Where(id => StatusOf(id) == TriageStatus.Completed).ToList();
        var deadLettered = ids.Count(id => StatusOf(id) == TriageStatus.DeadLettered);
        var heard = events.Where(e => ids.Contains(e.MessageId)).GroupBy(e => e.MessageId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList());

        // Every event of a failure carries the result the store kept first; a second recorded result would differ.
        var duplicateResults = heard.Count(pair =>
            pair.Value.Select(e => Signature(e.Result)).Distinct().Count() > 1
            || (store.TryGetValue(pair.Key, out var stored) && stored.Result is { } result && Signature(result) != Signature(pair.Value[0].Result)));
        return new ReliabilityRow
        {
            Scenario = scenario,
            Test = test,
            Published = published,
            Accepted = ids.Count,
            Completed = completed.Count,
            DeadLettered = deadLettered,
            Lost = ids.Count - completed.Count - deadLettered,
            DuplicateResults = duplicateResults,
            DuplicateEvents = heard.Values.Sum(e => e.Count - 1),
            MissingEvents = completed.Count(id => !heard.ContainsKey(id)),
            EndedTwice = completed.Count(waitingDeadLetters.Contains),
            Seconds = Math.Round(elapsed.TotalSeconds, 1),
        };
    }

    /// <summary>The ids of accepted failures that neither completed nor were dead-lettered, for the failure message.</summary>
    public static IEnumerable<string> Unsettled(IReadOnlyCollection<string> accepted, IReadOnlyDictionary<string, StoredOutcome> store) =>
        accepted.Where(id => !store.TryGetValue(id, out var outcome) || !StoredOutcomes.IsSettled(outcome))
            .Select(id => $"{id} ({(store.TryGetValue(id, out var o) ? o.Status : "not in the store")})");

    public ReliabilityRow With(string key, object? value)
    {
        Details[key] = value;
        return this;
    }

    /// <summary>Writes the row for the report and returns a one-line summary for the test output.</summary>
    public string Write()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "reliability");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, Scenario + ".json"), JsonSerializer.Serialize(this, Json));
        return $"{Scenario}: published {Published}, accepted {Accepted}, completed {Completed}, dead-lettered {DeadLettered}, lost {Lost}, "
            + $"duplicate results {DuplicateResults}, duplicate events {DuplicateEvents}, missing events {MissingEvents}, ended twice {EndedTwice}, "
            + $"{Seconds} s. {Notes} {string.Join(", ", Details.Select(d => $"{d.Key}={d.Value}"))}";
    }

    /// <summary>The promise every scenario checks: nothing lost, nothing recorded twice, every result heard, one ending each.</summary>
    public void AssertNothingLost(IEnumerable<string> unsettled)
    {
        Assert.True(Lost == 0, $"{Scenario}: {Lost} accepted failure(s) neither completed nor dead-lettered: {string.Join(", ", unsettled.Take(20))}");
        Assert.True(DuplicateResults == 0, $"{Scenario}: {DuplicateResults} failure(s) had a second result recorded");
        Assert.True(MissingEvents == 0, $"{Scenario}: {MissingEvents} completed failure(s) never reached triage.completed.json");
        Assert.True(EndedTwice == 0, $"{Scenario}: {EndedTwice} completed failure(s) still wait as dead letters");
    }

    private static (DateTimeOffset, string, int, string) Signature(TriageCompleted result) =>
        (result.CompletedAt, result.Provider, result.Attempts, result.Summary);
}
