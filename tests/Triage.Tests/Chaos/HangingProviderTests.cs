using Triage.Contracts;
using Triage.Host.Hosting;
using Triage.Platform;
using Triage.Tests.Infrastructure;
using Triage.Tests.Integration;
using Xunit.Abstractions;

namespace Triage.Tests.Chaos;

/// <summary>
/// The network to a provider hangs: connections open, requests go out, no byte ever comes back. Each attempt must end
/// at its timeout (the provider's <c>timeout_ms</c>, or the route's when that comes first), give its worker back to the
/// pool, and fail over to the next provider. The hanging provider's pool runs two at a time in a process of its own,
/// while the router believes it takes ten: all ten requests queue at the hanging pool, and a pool that did not let go
/// of a hung call would stop after two. Once the provider's break is over, one more failure probes it: the pool must
/// still take it.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class HangingProviderTests(ITestOutputHelper output) : ChaosTest(output)
{
    private const int PoolCapacity = 2;
    private const int Failures = 10;
    private const int ProviderTimeoutMs = 1000;
    private const int RouteTimeoutMs = 1500;
    private const int BreakMs = 500;

    private HangingServer hangs = null!;

    /// <summary>Every role here, but only the healthy provider's pool: the hanging providers' pools run in a gateway of their own.</summary>
    protected override HostSettings Settings => new(TriageRoles.All, "http://127.0.0.1:0", ["good"]);

    protected override async Task<string> ScenarioConfigurationAsync()
    {
        hangs = await OwnAsync(HangingServer.StartAsync());
        var good = await OwnAsync(FakeProviderServer.StartAsync());
        var configuration = Configuration(good.BaseUrl, routerCapacity: Failures);

        // The same triage.yaml (queue arguments must match) with the pool's real capacity.
        var pools = FullConfiguration(Configuration(good.BaseUrl, routerCapacity: PoolCapacity));
        await OwnAsync(GatewayUnderTest.StartAsync(pools, settings: new HostSettings(TriageRoles.Workers, "http://127.0.0.1:0", ["hang_call", "hang_route"])));
        return configuration;
    }

    /// <summary>
    /// hang_call's own call times out after 1 s within a route allowing 30 s; hang_route's call would wait ten minutes,
    /// but its route allows an attempt 1.5 s.
    /// </summary>
    private string Configuration(string goodUrl, int routerCapacity) => $"""
        providers:
          hang_call: {"{"} type: openai-compatible, base_url: "{hangs.BaseUrl}", model: m, capacity: {routerCapacity}, timeout_ms: {ProviderTimeoutMs}, max_retries: 0, break_duration_ms: {BreakMs} {"}"}
          hang_route: {"{"} type: openai-compatible, base_url: "{hangs.BaseUrl}", model: m, capacity: {routerCapacity}, timeout_ms: 600000, max_retries: 0, break_duration_ms: {BreakMs} {"}"}
          good: {"{"} type: openai-compatible, base_url: "{goodUrl}", model: m, weight: 0, capacity: 10 {"}"}
        routing:
          call_timeout: {"{"} providers: [hang_call, good], failover: true, timeout_ms: 30000 {"}"}
          route_timeout: {"{"} providers: [hang_route, good], failover: true, timeout_ms: {RouteTimeoutMs} {"}"}
        """;

    [SkippableFact]
    public async Task Calls_to_a_hanging_provider_end_at_its_timeout_free_their_worker_and_fail_over()
    {
        await FailOverAsync("provider-hangs-call-timeout", "call_timeout", "hang_call", ProviderTimeoutMs);
    }

    [SkippableFact]
    public async Task Calls_to_a_hanging_provider_end_at_the_route_timeout_when_it_comes_first_and_fail_over()
    {
        await FailOverAsync("provider-hangs-route-timeout", "route_timeout", "hang_route", RouteTimeoutMs);
    }

    private async Task FailOverAsync(string scenario, string route, string hanging, int timeoutMs, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        var timeout = TimeSpan.FromMilliseconds(timeoutMs);
        var events = await CompletedEvents.BindAsync(Broker.Uri);
        var documents = SteadyLoad.Failures(scenario, Failures);
        foreach (var document in documents)
        {
            document["route"] = route;
        }

        RestartClock();
        var started = DateTimeOffset.UtcNow;
        var posted = (await SteadyLoad.PostAsync(Gateway.Http, documents, perSecond: 100)).ToList();
        var burst = posted.Where(p => p.Accepted).Select(p => p.EventId).ToList();
        var settled = await StoredOutcomes.WaitForSettledAsync(Database, burst, TimeSpan.FromSeconds(60));
        var results = burst.Select(id => settled.TryGetValue(id, out var o) ? o.Result : null).OfType<TriageCompleted>().ToList();
        var allFailedOverIn = (results.Count > 0 ? results.Max(r => r.CompletedAt) : DateTimeOffset.UtcNow) - started;
        var burstCalls = hangs.Calls.Count;

        // The provider's break is over: the next failure probes it, and its pool must take the call.
        await Task.Delay(TimeSpan.FromMilliseconds(BreakMs * 2));
        var probe = SteadyLoad.Failures(scenario, 1, from: Failures)[0];
        probe["route"] = route;
        posted.AddRange(await SteadyLoad.PostAsync(Gateway.Http, [probe], perSecond: 1));
        var accepted = posted.Where(p => p.Accepted).Select(p => p.EventId).ToList();
        var (row, store) = await CountAsync(scenario, posted.Count, accepted, events, TimeSpan.FromSeconds(60), test);

        results = accepted.Select(id => store.TryGetValue(id, out var o) ? o.Result : null).OfType<TriageCompleted>().ToList();
        var connections = hangs.Calls;
        var longestHold = connections.Count > 0 ? connections.Max(c => c.Held) : TimeSpan.Zero;
        var firstAttempts = results.Select(r => r.AttemptHistory.FirstOrDefault()).OfType<AttemptOutcome>().ToList();
        var reasons = string.Join(" ", firstAttempts.Where(a => a.Provider == hanging).GroupBy(a => a.Outcome).OrderBy(g => g.Key).Select(g => $"{g.Key}:{g.Count()}"));
        var bound = timeout * (Failures / PoolCapacity);
        row = row with
        {
            Notes = $"{hanging} (pool of {PoolCapacity}) timed out at {timeoutMs} ms: {connections.Count} calls, longest held {longestHold.TotalMilliseconds:0} ms; "
                + $"first attempts {reasons}; {Failures} failed over to good within {allFailedOverIn.TotalSeconds:0.0} s (bound {bound.TotalSeconds:0.0} s); "
                + $"the probe after the break was {(connections.Count > burstCalls ? "taken" : "not taken")} by the pool",
        };
        row.With("timeoutMs", timeoutMs)
            .With("callsToHangingProvider", connections.Count)
            .With("idlePooledConnections", hangs.Connections.Count - connections.Count)
            .With("callsOfTheProbe", connections.Count - burstCalls)
            .With("longestHeldMs", Math.Round(longestHold.TotalMilliseconds))
            .With("callsStillHeld", connections.Count(c => c.ClosedAt is null))
            .With("firstAttemptOutcomes", reasons)
            .With("failedOverWithinSeconds", Math.Round(allFailedOverIn.TotalSeconds, 1));
        Report(row);

        Assert.Equal(Failures + 1, accepted.Count);
        row.AssertNothingLost(ReliabilityRow.Unsettled(accepted, store));
        Assert.All(results, r =>
        {
            Assert.Equal("good", r.Provider);
            Assert.Equal(hanging, r.AttemptHistory[0].Provider);
        });
        Assert.True(allFailedOverIn < bound + TimeSpan.FromSeconds(3), $"the last failover came {allFailedOverIn.TotalSeconds:0.0} s after the failures were posted (bound {bound.TotalSeconds:0.0} s)");
        Assert.True(longestHold < timeout + TimeSpan.FromSeconds(1), $"a worker held a hung call for {longestHold.TotalMilliseconds:0} ms, beyond the {timeoutMs} ms timeout");
        Assert.True(connections.Count > burstCalls, "after its hung calls timed out the pool did not take the probe: its workers are still held");

        // Operators read these reasons in metrics, failovers and dead-letter groups: a hung call is a timeout.
        Assert.All(
            firstAttempts.Where(a => a.Provider == hanging),
            a => Assert.True(
                a.Outcome is AttemptFailure.Timeout or AttemptFailure.Expired or AttemptFailure.CircuitOpen,
                $"an attempt that hung until its {timeoutMs} ms timeout was recorded as '{a.Outcome}' ({a.Detail}), not as a timeout"));
    }
}
