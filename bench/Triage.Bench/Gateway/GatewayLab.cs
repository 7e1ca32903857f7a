using Triage.Fakes;

namespace Triage.Bench.Gateway;

/// <summary>A part of the <c>gateway</c> bench: started and warmed up once, then measured once per run.</summary>
internal abstract class GatewayScenario(GatewayLab lab)
{
    protected GatewayLab Lab { get; } = lab;

    protected GatewayOptions Options => Lab.Options;

    public abstract string Name { get; }

    /// <summary>Starts what the scenario needs and triages a few failures that are not counted.</summary>
    public abstract Task WarmUpAsync(CancellationToken cancellationToken);

    /// <summary>One measured run; adds one value to each of its figures.</summary>
    public abstract Task RunAsync(ScenarioReport report, CancellationToken cancellationToken);
}

/// <summary>
/// What the scenarios share, started on first use and stopped at the end: the fake upstream, the failures, the
/// distributed gateway (misses, throughput, hits, memory and peer all post to the same one) and the embedded one.
/// </summary>
internal sealed class GatewayLab : IAsyncDisposable
{
    /// <summary>How long one triage at concurrency 1 may take before it counts as an error.</summary>
    public static readonly TimeSpan TriageTimeout = TimeSpan.FromSeconds(30);

    private readonly List<IAsyncDisposable> owned = [];
    private Task<DistributedGateway>? distributed;
    private Task<EmbeddedGateway>? embedded;
    private IReadOnlyList<FailureSample>? failures;

    private GatewayLab(GatewayOptions options, BenchReport report, FakeProviderServer upstream, string directory)
    {
        Options = options;
        Report = report;
        Upstream = upstream;
        Directory = directory;
    }

    public GatewayOptions Options { get; }

    public BenchReport Report { get; }

    /// <summary>The OpenAI-compatible provider every path calls, answering after <see cref="GatewayOptions.Latency"/>.</summary>
    public FakeProviderServer Upstream { get; }

    /// <summary>Configuration files and process logs; deleted at the end unless <see cref="KeepDirectory"/>.</summary>
    public string Directory { get; }

    /// <summary>Set when a scenario failed (its processes' logs say why) or when asked to.</summary>
    public bool KeepDirectory { get; set; }

    /// <summary>The p50 of the floor's bus pipeline in the latest run: what the misses are compared with.</summary>
    public double? FloorP50Ms { get; set; }

    public IReadOnlyList<FailureSample> Failures => failures ??= FailureSamples.Load(Paths.LogChunks(Options.Data));

    public static async Task<GatewayLab> StartAsync(GatewayOptions options, BenchReport report)
    {
        var upstream = await FakeProviderServer.StartAsync(WireFormat.OpenAi);
        upstream.Record = false;
        upstream.Latency = options.Latency;
        var directory = System.IO.Directory.CreateTempSubdirectory("triage-gateway-bench-").FullName;
        return new GatewayLab(options, report, upstream, directory);
    }

    /// <summary>Started by the first scenario that asks; asked again after a failed start (the broker may have been restarting).</summary>
    public Task<DistributedGateway> DistributedAsync(CancellationToken cancellationToken)
    {
        if (distributed is null || distributed.IsFaulted || distributed.IsCanceled)
        {
            distributed = Own(DistributedGateway.StartAsync(Options.Triage, Upstream, Directory, cancellationToken));
        }

        return distributed;
    }

    public Task<EmbeddedGateway> EmbeddedAsync(CancellationToken cancellationToken)
    {
        if (embedded is null || embedded.IsFaulted || embedded.IsCanceled)
        {
            embedded = Own(EmbeddedGateway.StartAsync(Options.Triage, Upstream, Directory, cancellationToken));
        }

        return embedded;
    }

    /// <summary>Stopped with the lab, last started first.</summary>
    public T Own<T>(T disposable)
        where T : IAsyncDisposable
    {
        owned.Add(disposable);
        return disposable;
    }

    private Task<T> Own<T>(Task<T> starting)
        where T : IAsyncDisposable
    {
        owned.Add(new Deferred<T>(starting));
        return starting;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = owned.Count - 1; i >= 0; i--)
        {
            await owned[i].DisposeAsync();
        }

        await Upstream.DisposeAsync();
        if (KeepDirectory)
        {
            Console.Error.WriteLine($"configuration and process logs kept in {Directory}");
        }
        else
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    /// <summary>Something still starting when the lab stops: disposed once it has started, if it ever does.</summary>
    private sealed class Deferred<T>(Task<T> starting) : IAsyncDisposable
        where T : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await (await starting).DisposeAsync();
            }
            catch (Exception) when (starting.IsFaulted || starting.IsCanceled)
            {
                // It never started; it cleaned up after itself.
            }
        }
    }
}
