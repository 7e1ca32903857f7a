using Triage.Fakes;

namespace Triage.Bench.Gateway;

/// <summary>
/// <c>throughput</c>: open-loop offered load on the distributed gateway, fresh triages only, one step per rate: the rate
/// achieved, latency from when each send was due, errors (refused, or no result by the end of the drain), and the highest
/// rate the gateway carried with p99 within 50 ms.
/// </summary>
internal sealed class ThroughputScenario(GatewayLab lab) : GatewayScenario(lab)
{
    public const string ScenarioName = "throughput";

    private IGatewayUnderTest? gateway;

    public override string Name => ScenarioName;

    public override async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        gateway = await Lab.DistributedAsync(cancellationToken);
        await OfferedLoad.WarmUpAsync(Lab, gateway, Body, cancellationToken);
    }

    public override Task RunAsync(ScenarioReport report, CancellationToken cancellationToken) =>
        OfferedLoad.RunAsync(Lab, gateway!, report, Name, Body, cancellationToken);

    private byte[] Body(long number, string eventId) => Lab.Failures[(int)(number % Lab.Failures.Count)].Body(eventId, useCache: false);
}

/// <summary>The open-loop steps the throughput, hits and embedded scenarios share.</summary>
internal static class OfferedLoad
{
    /// <summary>What "sustained" allows at p99: a build step waiting on its triage should not notice the gateway.</summary>
    public const double P99BoundMs = 50;

    /// <summary>A short load at the lowest rate first: connections, thread pool and the JIT of the hot path warmed up.</summary>
    public static async Task WarmUpAsync(GatewayLab lab, IGatewayUnderTest gateway, Func<long, string, byte[]> body, CancellationToken cancellationToken)
    {
        var seconds = lab.Options.Quick ? 1 : 3;
        await OpenLoop.RunAsync(lab.Options.Rates.Min(), TimeSpan.FromSeconds(seconds), lab.Options.Drain, Send(gateway, "warm-up", body), cancellationToken);
    }

    /// <summary>
    /// One step per rate of <see cref="GatewayOptions.Rates"/>, each after the gateway settled, with the processes'
    /// memory and CPU recorded under the step and <paramref name="scenario"/> when the memory scenario is selected.
    /// </summary>
    public static Task RunAsync(
        GatewayLab lab,
        IGatewayUnderTest gateway,
        ScenarioReport report,
        string scenario,
        Func<long, string, byte[]> body,
        CancellationToken cancellationToken) =>
        RunAsync(
            lab.Options,
            report,
            caller: string.Empty,
            gateway.Processes,
            gateway.SettleAsync,
            Send(gateway, scenario, body),
            (used, completed, rate) =>
            {
                if (lab.Options.Selected(MemoryScenario.ScenarioName))
                {
                    MemoryScenario.Record(lab.Report.For(MemoryScenario.ScenarioName), used, completed, $"{rate}/s {scenario}");
                }
            },
            cancellationToken);

    /// <summary>
    /// The steps for any server the bench can send to (this gateway, or the peer's): <paramref name="caller"/> starts
    /// each case's name ("Portkey, "), <paramref name="processes"/> are watched under every step and handed with the
    /// requests completed in it to <paramref name="recordUsage"/>.
    /// </summary>
    public static async Task RunAsync(
        GatewayOptions options,
        ScenarioReport report,
        string caller,
        IReadOnlyList<LocalProcess> processes,
        Func<CancellationToken, Task> settle,
        Func<long, CancellationToken, Task<Completion>> send,
        Action<IReadOnlyList<Usage>, int, int> recordUsage,
        CancellationToken cancellationToken)
    {
        var sustained = 0;
        int? overloadedAt = null;
        foreach (var rate in options.Rates)
        {
            if (overloadedAt is { } lower)
            {
                // It could not keep up with less: offering more measures nothing but a longer backlog.
                report.Note($"{caller}{rate}/s not offered: {lower}/s already left more than {OpenLoop.GiveUpBehind.TotalSeconds:0} s of results outstanding");
                continue;
            }

            await settle(cancellationToken);
            OpenLoopResult result;
            IReadOnlyList<Usage> used;
            await using (var usage = ProcessUsage.Watch(processes))
            {
                result = await OpenLoop.RunAsync(rate, options.Duration, options.Drain, send, cancellationToken);
                used = await usage.StopAsync();
            }

            var @case = $"{caller}{rate}/s offered for {options.Duration.TotalSeconds:0} s";
            report.Add(@case, "achieved", "/s", result.AchievedPerSecond);
            if (result.Latency is { } latency)
            {
                report.Add(@case, "p50", "ms", latency.Median);
                report.Add(@case, "p99", "ms", latency.P99);
            }

            if (result.Samples.Any(s => s.CacheHit))
            {
                report.Add(@case, "cache hits", "%", 100.0 * result.Samples.Count(s => s.CacheHit) / result.Samples.Count);
            }

            report.Add(@case, "errors", "count", result.Errors.Total);
            if (result.Errors.Total > 0)
            {
                report.Note($"{@case}: {result.Errors}");
            }

            sustained = result.Sustained(P99BoundMs) ? Math.Max(sustained, rate) : sustained;
            overloadedAt = result.Overloaded ? rate : null;
            recordUsage(used, result.Samples.Count, rate);
        }

        report.Add($"{caller}highest rate sustained (p99 ≤ {P99BoundMs:0} ms)", "rate", "/s", sustained);
        report.Note("open loop: sends go out on schedule whatever came back; latency counts from when each send was due; "
            + $"sustained = no error, achieved ≥ 95% of offered and p99 ≤ {P99BoundMs:0} ms (0: no rate tried was); a result missing "
            + $"{options.Drain.TotalSeconds:0} s after the last send counts as an error; a step stops sending once {OpenLoop.GiveUpBehind.TotalSeconds:0} s "
            + "of results are outstanding (the rest counts as errors) and higher rates are then not offered");
    }

    private static Func<long, CancellationToken, Task<Completion>> Send(IGatewayUnderTest gateway, string scenario, Func<long, string, byte[]> body) =>
        (number, cancellationToken) =>
        {
            var id = gateway.Client.NextEventId(scenario);
            return gateway.Client.TriageAsync(id, body(number, id), cancellationToken);
        };
}
