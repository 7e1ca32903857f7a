using System.Diagnostics;

namespace Triage.Bench.Gateway;

/// <summary>
/// <c>hits</c>: the distributed gateway with a warm cache. One failure is triaged once (a miss, which fills the cache);
/// then the same failure is posted again and again with new event ids, as reruns of a broken build are, and every one
/// is answered by the router from the cache without a provider call: at concurrency 1, then open loop.
/// </summary>
internal sealed class HitsScenario(GatewayLab lab) : GatewayScenario(lab)
{
    public const string ScenarioName = "hits";

    private IGatewayUnderTest? gateway;

    public override string Name => ScenarioName;

    /// <summary>Any of the failures will do: the misses neither read nor fill the cache.</summary>
    private FailureSample Failure => Lab.Failures[0];

    public override async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        gateway = await Lab.DistributedAsync(cancellationToken);
        var first = await ClosedLoop.RunAsync(1, GatewayLab.TriageTimeout, (_, token) => TriageAsync(token), cancellationToken);
        if (first.Samples.Count == 0)
        {
            throw new InvalidOperationException($"the failure that should fill the cache was not triaged: {first.Errors}");
        }

        await ClosedLoop.RunAsync(Options.WarmUp, GatewayLab.TriageTimeout, (_, token) => TriageAsync(token), cancellationToken);
        await OfferedLoad.WarmUpAsync(Lab, gateway, (_, id) => Failure.Body(id, useCache: true), cancellationToken);
    }

    public override async Task RunAsync(ScenarioReport report, CancellationToken cancellationToken)
    {
        var @case = $"c=1, n={Options.Count}";
        var result = await ClosedLoop.RunAsync(Options.Count, GatewayLab.TriageTimeout, (_, token) => TriageAsync(token), cancellationToken);
        Misses.Report(report, @case, result);
        if (result.Samples.Count > 0)
        {
            report.Add(@case, "cache hits", "%", 100.0 * result.CacheHits / result.Samples.Count);
        }

        await OfferedLoad.RunAsync(Lab, gateway!, report, Name, (_, id) => Failure.Body(id, useCache: true), cancellationToken);
        report.Note($"one failure ({Failure.Repository}, build {Failure.BuildNumber}) posted again and again with new event ids after one miss filled the cache; "
            + "the cache's share of the answers is shown, and the overhead is the whole time, since no provider is called");
    }

    private async Task<Sample> TriageAsync(CancellationToken cancellationToken)
    {
        var id = gateway!.Client.NextEventId(Name);
        var body = Failure.Body(id, useCache: true);
        var started = Stopwatch.GetTimestamp();
        return Sample.Of(started, await gateway.Client.TriageAsync(id, body, cancellationToken));
    }
}
