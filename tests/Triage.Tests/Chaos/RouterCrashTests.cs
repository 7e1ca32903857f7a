using Triage.Host.Hosting;
using Triage.Platform;
using Triage.Platform.Bus;
using Triage.Tests.Integration;
using Xunit.Abstractions;

namespace Triage.Tests.Chaos;

/// <summary>
/// The router process (routing, failover and the results recorder) is killed with SIGKILL under load and started
/// again. Ingest keeps accepting meanwhile and the pools keep answering; the router's queues hold the work until it is
/// back. A failure routed but not yet marked so may be routed twice, a result may be published twice: duplicates of
/// events within at-least-once, never a second recorded result, never a loss.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class RouterCrashTests(ITestOutputHelper output) : ChaosTest(output)
{
    private const string Scenario = "router-killed";
    private FakeProviderServer provider = null!;

    /// <summary>Ingest and the pools in this process; the router runs as a process of its own, to be killed.</summary>
    protected override HostSettings Settings => new(TriageRoles.Ingest | TriageRoles.Workers, "http://127.0.0.1:0", []);

    protected override async Task<string> ScenarioConfigurationAsync()
    {
        provider = await OwnAsync(FakeProviderServer.StartAsync());
        provider.Latency = TimeSpan.FromMilliseconds(200);
        return $"""
            providers:
              remote: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: m, capacity: 16 {"}"}
            routing:
              build_triage: {"{"} providers: [remote], timeout_ms: 120000 {"}"}
            """;
    }

    [SkippableFact]
    public async Task A_router_killed_under_load_and_restarted_loses_nothing_and_records_each_result_once()
    {
        int waitingForRouter = 0, waitingForRecorder = 0;
        var (posted, accepted, row, store, down) = await KillUnderLoadAsync(Scenario, "router", "router", 250, perSecond: 25, whileDown: async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            waitingForRouter = (int)await QueueStates.ReadyAsync(Broker, BusTopology.RouterQueue);
            waitingForRecorder = (int)await QueueStates.ReadyAsync(Broker, BusTopology.RecorderQueue);
        });
        var downSeconds = down.TotalSeconds;
        var calls = ProviderCalls.ByFailure(provider.Requests);
        var askedTwice = calls.Count(c => c.Value > 1);
        row = row with
        {
            Notes = $"router SIGKILLed and back in {downSeconds:0.0} s; {waitingForRouter} failures and {waitingForRecorder} results waited for it; "
                + $"{askedTwice} failures routed twice",
        };
        row.With("answers", Answers(posted))
            .With("waitingInRouterQueue", waitingForRouter)
            .With("waitingInRecorderQueue", waitingForRecorder)
            .With("providerCalls", calls.Values.Sum())
            .With("failuresAskedTwice", askedTwice)
            .With("secondsWithoutRouter", Math.Round(downSeconds, 1));
        Report(row);

        Assert.Equal(posted.Count, accepted.Count);
        Assert.True(waitingForRouter + waitingForRecorder > 0, "nothing waited for the killed router; the scenario proved nothing");
        row.AssertNothingLost(ReliabilityRow.Unsettled(accepted, store));
    }
}
