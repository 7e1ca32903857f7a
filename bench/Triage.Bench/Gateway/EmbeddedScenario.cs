namespace Triage.Bench.Gateway;

/// <summary>
/// <c>embedded</c>: the misses at concurrency 1 and the open-loop steps again, against one <c>triage run</c> process with
/// the embedded defaults (all roles, in-memory bus, SQLite) and the same fake upstream. What the broker and PostgreSQL
/// cost shows in the difference with <c>miss-distributed</c> and <c>throughput</c>.
/// </summary>
internal sealed class EmbeddedScenario(GatewayLab lab) : GatewayScenario(lab)
{
    public const string ScenarioName = "embedded";

    private IGatewayUnderTest? gateway;

    public override string Name => ScenarioName;

    public override async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        gateway = await Lab.EmbeddedAsync(cancellationToken);
        await Misses.MeasureAsync(Lab, gateway, Name, Options.WarmUp, cancellationToken);
        await OfferedLoad.WarmUpAsync(Lab, gateway, Body, cancellationToken);
    }

    public override async Task RunAsync(ScenarioReport report, CancellationToken cancellationToken)
    {
        var result = await Misses.MeasureAsync(Lab, gateway!, Name, Options.Count, cancellationToken);
        Misses.Report(report, $"c=1, n={Options.Count}", result);
        await OfferedLoad.RunAsync(Lab, gateway!, report, Name, Body, cancellationToken);
        report.Note(gateway!.Description);
    }

    private byte[] Body(long number, string eventId) => Lab.Failures[(int)(number % Lab.Failures.Count)].Body(eventId, useCache: false);
}
