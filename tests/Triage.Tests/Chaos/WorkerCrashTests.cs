using Triage.Host.Hosting;
using Triage.Platform;
using Triage.Tests.Integration;
using Xunit.Abstractions;

namespace Triage.Tests.Chaos;

/// <summary>
/// The worker process is killed with SIGKILL while it waits on provider calls, and started again. What it had taken
/// and not acknowledged goes back to the provider's queue and is triaged by the new process: the provider may be asked
/// twice about one failure, the store records one result.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class WorkerCrashTests(ITestOutputHelper output) : ChaosTest(output)
{
    private const string Scenario = "worker-killed";
    private static readonly TimeSpan ProviderLatency = TimeSpan.FromSeconds(1);
    private FakeProviderServer provider = null!;

    /// <summary>Ingest and the router in this process; the pool runs as a process of its own, to be killed.</summary>
    protected override HostSettings Settings => new(TriageRoles.Ingest | TriageRoles.Router, "http://127.0.0.1:0", []);

    protected override async Task<string> ScenarioConfigurationAsync()
    {
        provider = await OwnAsync(FakeProviderServer.StartAsync());
        provider.Latency = ProviderLatency;

        // Requests wait in the queue while no pool runs: their time there must outlast the restart.
        return $"""
            providers:
              remote: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: m, capacity: 16 {"}"}
            routing:
              build_triage: {"{"} providers: [remote], timeout_ms: 120000 {"}"}
            """;
    }

    [SkippableFact]
    public async Task A_worker_killed_mid_call_and_restarted_completes_each_accepted_failure_once()
    {
        var inFlight = 0;
        var (posted, accepted, row, store, down) = await KillUnderLoadAsync(Scenario, "workers", "worker", 200, perSecond: 20,
            atKill: killedAt => inFlight = provider.Requests.Count(r => r.ReceivedAt > killedAt - ProviderLatency));
        var downSeconds = down.TotalSeconds;
        var calls = ProviderCalls.ByFailure(provider.Requests);
        var askedTwice = calls.Count(c => c.Value > 1);
        row = row with
        {
            Notes = $"workers SIGKILLed with {inFlight} provider calls in flight, back in {downSeconds:0.0} s; "
                + $"{calls.Values.Sum()} provider calls for {calls.Count} failures, {askedTwice} asked twice",
        };
        row.With("answers", Answers(posted))
            .With("callsInFlightAtKill", inFlight)
            .With("providerCalls", calls.Values.Sum())
            .With("failuresAskedTwice", askedTwice)
            .With("secondsWithoutWorkers", Math.Round(downSeconds, 1));
        Report(row);

        Assert.Equal(posted.Count, accepted.Count);
        Assert.True(inFlight > 0, "the kill hit no provider call in flight; the scenario proved nothing");
        row.AssertNothingLost(ReliabilityRow.Unsettled(accepted, store));
        Assert.True(askedTwice > 0, "no call cut by the kill was made again: were the unacknowledged requests redelivered?");
    }
}
