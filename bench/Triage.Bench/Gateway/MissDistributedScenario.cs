namespace Triage.Bench.Gateway;

/// <summary>
/// <c>miss-distributed</c>: one failure at a time through the distributed gateway, none of them cached. From the POST to
/// <c>/v1/build-failures</c> until its <c>TriageCompleted</c> reaches the bench's subscriber on <c>triage.completed.json</c>.
/// Overhead is that minus the provider's time as the worker measured it (<c>providerDurationMs</c>): what the gateway
/// itself adds. The ratio compares the p50 with the floor's pipeline of the same run.
/// </summary>
internal sealed class MissDistributedScenario(GatewayLab lab) : GatewayScenario(lab)
{
    public const string ScenarioName = "miss-distributed";

    private IGatewayUnderTest? gateway;

    public override string Name => ScenarioName;

    public override async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        gateway = await Lab.DistributedAsync(cancellationToken);
        await Misses.MeasureAsync(Lab, gateway, Name, Options.WarmUp, cancellationToken);
    }

    public override async Task RunAsync(ScenarioReport report, CancellationToken cancellationToken)
    {
        var result = await Misses.MeasureAsync(Lab, gateway!, Name, Options.Count, cancellationToken);
        var p50 = Misses.Report(report, $"c=1, n={Options.Count}", result);
        if (p50 is { } median && Lab.FloorP50Ms is { } floor)
        {
            report.Add($"c=1, n={Options.Count}", "ratio to the floor p50", "×", median / floor);
        }

        report.Note(gateway!.Description);
        report.Note($"{Lab.Failures.Count} distinct failures from LogChunks (one per repository and kind of failure, the last {FailureSamples.TailLines} lines of each), posted in turn");
    }
}

/// <summary>Fresh triages at concurrency 1 and how they are reported; the embedded scenario measures the same.</summary>
internal static class Misses
{
    public static Task<ClosedLoopResult> MeasureAsync(GatewayLab lab, IGatewayUnderTest gateway, string scenario, int count, CancellationToken cancellationToken) =>
        ClosedLoop.RunAsync(count, GatewayLab.TriageTimeout, async (i, token) =>
        {
            var id = gateway.Client.NextEventId(scenario);
            var body = lab.Failures[i % lab.Failures.Count].Body(id, useCache: false);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            return Sample.Of(started, await gateway.Client.TriageAsync(id, body, token));
        }, cancellationToken);

    /// <summary>Adds the figures of a closed loop under <paramref name="case"/>; returns its p50, the headline.</summary>
    public static double? Report(ScenarioReport report, string @case, ClosedLoopResult result)
    {
        double? p50 = null;
        if (result.EndToEnd is { } latency && result.Overhead is { } overhead)
        {
            // The first closed loop a scenario reports is what it is summed up by.
            var median = report.Add(@case, "p50", "ms", latency.Median);
            report.Headline ??= median;

            report.Add(@case, "p99", "ms", latency.P99);
            report.Add(@case, "overhead p50", "ms", overhead.Median);
            report.Add(@case, "overhead p99", "ms", overhead.P99);
            report.Add(@case, "upstream p50", "ms", Stats.Of(result.Samples.Select(s => s.ProviderMs).ToList()).Median);
            p50 = latency.Median;
        }

        report.Add(@case, "errors", "count", result.Errors.Total);
        if (result.Errors.Total > 0)
        {
            report.Note($"{@case}: {result.Errors}");
        }

        return p50;
    }
}
