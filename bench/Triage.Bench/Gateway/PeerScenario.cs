using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Triage.Fakes;

namespace Triage.Bench.Gateway;

/// <summary>
/// <c>peer</c>: what a gateway adds to a call of the same upstream, for the Portkey gateway (npm @portkey-ai/gateway,
/// installed in bench/peer and started with node, sent to the fake upstream with its custom-host header) and for this
/// gateway's <c>POST /v1/build-failures?wait=30s</c>, which answers with the triage once it is stored, distributed (Ingest
/// polls the store for a result another process records) and embedded (the recorder wakes the request). The direct call
/// runs in the same run: at concurrency 1 the three paths take turns call by call; at 32 they take turns path by path.
/// The two gateways do different work (Portkey forwards one chat call; this one queues, routes, prompts, validates and
/// stores a triage), so the figure is what a caller waits for beyond the upstream, not a like-for-like cost.
/// Then Portkey alone takes the throughput scenario's open-loop steps, with its node process's memory and CPU: its
/// ceiling and footprint, to set beside this gateway's from the throughput and memory scenarios.
/// </summary>
internal sealed class PeerScenario(GatewayLab lab) : GatewayScenario(lab)
{
    public const string ScenarioName = "peer";

    private const int Concurrency = 32;
    private const string Direct = "direct to the upstream";
    private const string Portkey = "Portkey";
    private const string ThisGateway = "this gateway, ?wait=30s";
    private const string ThisGatewayEmbedded = "this gateway embedded, ?wait=30s";

    private static readonly string Script = Path.Combine(Paths.Root, "bench/peer/node_modules/@portkey-ai/gateway/build/start-server.js");

    private readonly List<(string Name, Func<int, CancellationToken, Task<double>> Call)> paths = [];
    private HttpClient? upstream;
    private HttpClient? portkey;
    private LocalProcess? portkeyProcess;

    public override string Name => ScenarioName;

    public override async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        IGatewayUnderTest distributed = await Lab.DistributedAsync(cancellationToken);
        IGatewayUnderTest embedded = await Lab.EmbeddedAsync(cancellationToken);
        upstream = Lab.Own(new DisposingClient(new HttpClient { BaseAddress = new Uri(Lab.Upstream.BaseUrl.TrimEnd('/') + "/") })).Http;
        paths.Add((Direct, (i, token) => FloorPipeline.CallAsync(upstream, Log(i), token)));
        if (await StartPortkeyAsync(cancellationToken) is { } why)
        {
            Lab.Report.For(Name).Note($"Portkey did not run, so it has no figures: {why}");
        }
        else
        {
            paths.Add((Portkey, (i, token) => FloorPipeline.CallAsync(portkey!, Log(i), token)));
        }

        paths.Add((ThisGateway, (i, token) => WaitForTriageAsync(distributed, i, token)));
        paths.Add((ThisGatewayEmbedded, (i, token) => WaitForTriageAsync(embedded, i, token)));
        await MeasureAsync(1, Options.WarmUp, cancellationToken);

        // Each of the callers opens its own connections: opened here, not in the first measured calls.
        await MeasureAsync(Concurrency, 1, cancellationToken);
    }

    public override async Task RunAsync(ScenarioReport report, CancellationToken cancellationToken)
    {
        foreach (var (concurrency, calls) in new[] { (1, Options.PeerCount), (Concurrency, Math.Max(1, Options.PeerCount / 10)) })
        {
            var results = await MeasureAsync(concurrency, calls, cancellationToken);
            var direct = results[Direct].EndToEnd;
            foreach (var (name, _) in paths)
            {
                var @case = $"{name}, c={concurrency}";
                var result = results[name];
                if (result.EndToEnd is { } latency)
                {
                    var median = report.Add(@case, "p50", "ms", latency.Median);
                    if (name == ThisGateway && concurrency == 1)
                    {
                        report.Headline = median;
                    }

                    report.Add(@case, "p99", "ms", latency.P99);
                    if (name != Direct && direct is not null)
                    {
                        report.Add(@case, "added p50", "ms", latency.Median - direct.Median);
                        report.Add(@case, "added p99", "ms", latency.P99 - direct.P99);
                    }
                }

                report.Add(@case, "errors", "count", result.Errors.Total);
                if (result.Errors.Total > 0)
                {
                    report.Note($"{@case}: {result.Errors}");
                }
            }
        }

        if (portkeyProcess is not null)
        {
            // Portkey keeps no queue to drain between steps: a pause lets the calls the last step gave up on finish.
            await OfferedLoad.RunAsync(
                Options,
                report,
                caller: $"{Portkey}, ",
                [portkeyProcess],
                settle: token => Task.Delay(TimeSpan.FromSeconds(1), token),
                send: ForwardAsync,
                recordUsage: (used, completed, rate) => MemoryScenario.Record(report, used, completed, $"{rate}/s", per: "requests"),
                cancellationToken);
        }

        report.Note($"n={Options.PeerCount} per path at c=1 (paths in turn, call by call); {Concurrency} callers × {Math.Max(1, Options.PeerCount / 10)} calls per path at c={Concurrency} (paths in turn); "
            + "added = path minus the direct call of the same run; ?wait answers once the stored triage is read back: the distributed Ingest polls the store "
            + "(from 10 ms, doubling to 200 ms) since another process records the result, the embedded gateway's recorder wakes the request");
    }

    /// <summary>Every path at <paramref name="concurrency"/>, <paramref name="calls"/> calls per caller.</summary>
    private async Task<Dictionary<string, ClosedLoopResult>> MeasureAsync(int concurrency, int calls, CancellationToken cancellationToken)
    {
        var results = paths.ToDictionary(p => p.Name, _ => new ClosedLoopResult());
        if (concurrency == 1)
        {
            for (var i = 0; i < calls; i++)
            {
                foreach (var (name, call) in paths)
                {
                    var number = i;
                    await ClosedLoop.TimeOneAsync(results[name], GatewayLab.TriageTimeout, async token => Timed(await call(number, token)), cancellationToken);
                }
            }

            return results;
        }

        foreach (var (name, call) in paths)
        {
            var callers = Enumerable.Range(0, concurrency).Select(caller => Task.Run(async () =>
            {
                var own = new ClosedLoopResult();
                for (var i = 0; i < calls; i++)
                {
                    var number = (caller * calls) + i;
                    await ClosedLoop.TimeOneAsync(own, GatewayLab.TriageTimeout, async token => Timed(await call(number, token)), cancellationToken);
                }

                return own;
            }, cancellationToken));
            foreach (var own in await Task.WhenAll(callers))
            {
                results[name].Samples.AddRange(own.Samples);
                results[name].Errors.Add(own.Errors);
            }
        }

        return results;
    }

    private static Sample Timed(double milliseconds) => new(milliseconds, milliseconds, false);

    private string Log(long number) => Lab.Failures[(int)(number % Lab.Failures.Count)].Log;

    /// <summary>One chat call through Portkey, as the open-loop steps count it: done when its answer is read (the upstream's share is not known).</summary>
    private async Task<Completion> ForwardAsync(long number, CancellationToken cancellationToken)
    {
        await FloorPipeline.CallAsync(portkey!, Log(number), cancellationToken);
        return new Completion(Stopwatch.GetTimestamp(), ProviderDurationMs: 0, CacheHit: false);
    }

    /// <summary>The build step's way: one request that answers 200 with the triage (a fresh one: no cache).</summary>
    private async Task<double> WaitForTriageAsync(IGatewayUnderTest gateway, int number, CancellationToken cancellationToken)
    {
        var id = gateway.Client.NextEventId(Name);
        using var content = new ByteArrayContent(Lab.Failures[number % Lab.Failures.Count].Body(id, useCache: false));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var started = Stopwatch.GetTimestamp();
        using var response = await gateway.Client.Http.PostAsync("/v1/build-failures?wait=30s", content, cancellationToken);
        await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return response.StatusCode == HttpStatusCode.OK ? elapsed : throw new RefusedException($"HTTP {(int)response.StatusCode}");
    }

    /// <summary>Starts Portkey on a free port of 127.0.0.1 and checks that it reaches the upstream; null when it does, else why not.</summary>
    private async Task<string?> StartPortkeyAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Script))
        {
            return $"it is not installed ({Script} is missing): cd bench/peer && npm ci";
        }

        var port = LocalProcess.FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        LocalProcess process;
        try
        {
            process = Lab.Own(RoleProcesses.Start("portkey", Lab.Directory, address, "node", [Script, $"--port={port}", "--headless"]));
            await process.WaitUntilReadyAsync(path: null, TimeSpan.FromSeconds(60), cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            return $"it did not start: {e.Message}";
        }

        // Portkey's OpenAI route, sent on to the fake upstream by its custom-host header (127.0.0.1 is a host it trusts).
        // Connections capped as the gateway's client caps them: an open-loop step behind by seconds would open thousands.
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 2048 };
        portkey = Lab.Own(new DisposingClient(new HttpClient(handler) { BaseAddress = new Uri(address, "/v1/") })).Http;
        portkey.DefaultRequestHeaders.Add("x-portkey-provider", "openai");
        portkey.DefaultRequestHeaders.Add("x-portkey-custom-host", Lab.Upstream.BaseUrl);
        portkey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk-bench");
        try
        {
            await FloorPipeline.CallAsync(portkey, Log(0), cancellationToken);
            GatewayBench.Progress($"Portkey ready: {address}");
            portkeyProcess = process;
            return null;
        }
        catch (HttpRequestException e)
        {
            return $"it started but did not forward to the upstream ({e.Message}); its log: {process.LogFile}";
        }
    }

    /// <summary>An HttpClient the lab disposes with everything else.</summary>
    private sealed class DisposingClient(HttpClient http) : IAsyncDisposable
    {
        public HttpClient Http { get; } = http;

        public ValueTask DisposeAsync()
        {
            Http.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
