using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MassTransit;
using Triage.Fakes;
using Triage.Workers.Prompt;

namespace Triage.Bench.Gateway;

/// <summary>
/// <c>floor</c>: the least a gateway of this shape can cost. A bare MassTransit pipeline with the gateway's hops on the
/// same RabbitMQ and the same queue type (quorum, publisher confirms): a failure is published, a router stand-in sends
/// it to a provider queue, a worker stand-in calls the fake upstream with a bare HttpClient and publishes the result, and
/// a subscriber receives it. No HTTP ingest, store, excerpt, cache, SDK or validation. Next to it, interleaved call by
/// call, the direct HTTP call to the upstream alone.
/// </summary>
internal sealed class FloorScenario(GatewayLab lab) : GatewayScenario(lab)
{
    public const string ScenarioName = "floor";

    private const string PipelineCase = "bus pipeline, c=1";
    private const string DirectCase = "direct HTTP to the upstream, c=1";

    private FloorPipeline? pipeline;

    public override string Name => ScenarioName;

    public override async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        var broker = Lab.Own(await ScratchVirtualHost.CreateAsync("floor", cancellationToken));
        pipeline = Lab.Own(await FloorPipeline.StartAsync(broker.Amqp, Lab.Upstream, cancellationToken));
        await MeasureAsync(Options.WarmUp, cancellationToken);
    }

    public override async Task RunAsync(ScenarioReport report, CancellationToken cancellationToken)
    {
        var (bus, direct) = await MeasureAsync(Options.Count, cancellationToken);
        if (bus.EndToEnd is { } pipelineLatency)
        {
            report.Headline = report.Add(PipelineCase, "p50", "ms", pipelineLatency.Median);
            report.Add(PipelineCase, "p99", "ms", pipelineLatency.P99);
            Lab.FloorP50Ms = pipelineLatency.Median;
        }

        report.Add(PipelineCase, "errors", "count", bus.Errors.Total);
        if (direct.EndToEnd is { } directLatency)
        {
            report.Add(DirectCase, "p50", "ms", directLatency.Median);
            report.Add(DirectCase, "p99", "ms", directLatency.P99);
        }

        report.Add(DirectCase, "errors", "count", direct.Errors.Total);
        foreach (var (@case, errors) in new[] { (PipelineCase, bus.Errors), (DirectCase, direct.Errors) }.Where(e => e.Item2.Total > 0))
        {
            report.Note($"{@case}: {errors}");
        }

        report.Note($"n={Options.Count} per path, the two paths interleaved call by call; the pipeline runs in the bench process on a RabbitMQ virtual host of its own");
    }

    /// <summary>The two paths, call by call in turn, so that the machine's noise falls on both alike.</summary>
    private async Task<(ClosedLoopResult Bus, ClosedLoopResult Direct)> MeasureAsync(int count, CancellationToken cancellationToken)
    {
        var bus = new ClosedLoopResult();
        var direct = new ClosedLoopResult();
        for (var i = 0; i < count; i++)
        {
            var log = Lab.Failures[i % Lab.Failures.Count].Log;
            await ClosedLoop.TimeOneAsync(bus, GatewayLab.TriageTimeout, token => pipeline!.TriageAsync(log, token), cancellationToken);
            await ClosedLoop.TimeOneAsync(direct, GatewayLab.TriageTimeout, async token =>
            {
                var milliseconds = await pipeline!.CallUpstreamAsync(log, token);
                return new Sample(milliseconds, milliseconds, false);
            }, cancellationToken);
        }

        return (bus, direct);
    }
}

/// <summary>A failure, as the floor's producer publishes it.</summary>
public sealed record FloorFailed(string EventId, string Log);

/// <summary>What the router stand-in sends to the provider queue.</summary>
public sealed record FloorRequested(string EventId, string Log);

/// <summary>What the worker stand-in publishes once the upstream answered.</summary>
public sealed record FloorCompleted(string EventId, double ProviderDurationMs);

/// <summary>The floor's bus: three quorum queues and three consumers that do nothing but pass the failure on.</summary>
internal sealed class FloorPipeline : IAsyncDisposable
{
    private const string ProviderQueue = "floor-provider";

    private readonly IBusControl bus;
    private readonly HttpClient upstream;
    private readonly Completions completions;
    private long sequence;

    private FloorPipeline(IBusControl bus, HttpClient upstream, Completions completions)
    {
        this.bus = bus;
        this.upstream = upstream;
        this.completions = completions;
    }

    public static async Task<FloorPipeline> StartAsync(string amqp, FakeProviderServer server, CancellationToken cancellationToken)
    {
        var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl.TrimEnd('/') + "/") };
        var completions = new Completions();
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(new Uri(amqp));
            rabbit.ReceiveEndpoint("floor-router", endpoint =>
            {
                endpoint.SetQuorumQueue();
                endpoint.Consumer(() => new RouterStandIn());
            });
            rabbit.ReceiveEndpoint(ProviderQueue, endpoint =>
            {
                // As a provider pool's queue: it takes only what is sent to it, through the exchange in front of it.
                endpoint.SetQuorumQueue();
                endpoint.ConfigureConsumeTopology = false;
                endpoint.Consumer(() => new WorkerStandIn(http));
            });
            rabbit.ReceiveEndpoint("floor-subscriber", endpoint =>
            {
                endpoint.SetQuorumQueue();
                endpoint.Consumer(() => new SubscriberStandIn(completions));
            });
        });
        await bus.StartAsync(cancellationToken);
        return new FloorPipeline(bus, http, completions);
    }

    public async Task<Sample> TriageAsync(string log, CancellationToken cancellationToken)
    {
        var id = $"floor-{Interlocked.Increment(ref sequence)}";
        var result = completions.Expect(id);
        try
        {
            var started = Stopwatch.GetTimestamp();
            await bus.Publish(new FloorFailed(id, log), cancellationToken);
            return Sample.Of(started, await result.WaitAsync(cancellationToken));
        }
        finally
        {
            completions.Forget(id);
        }
    }

    /// <summary>The direct call: the same request the worker stand-in makes, in milliseconds.</summary>
    public Task<double> CallUpstreamAsync(string log, CancellationToken cancellationToken) => CallAsync(upstream, log, cancellationToken);

    /// <summary>Posts a chat completion of the triage prompt and the log and reads the JSON answer.</summary>
    public static async Task<double> CallAsync(HttpClient http, string log, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var content = new ByteArrayContent(ChatBody(log));
        content.Headers.ContentType = new("application/json");
        using var response = await http.PostAsync("chat/completions", content, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var answer = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    /// <summary>An OpenAI chat request with the gateway's system prompt and the log as the user's message.</summary>
    public static byte[] ChatBody(string log) => JsonSerializer.SerializeToUtf8Bytes(new JsonObject
    {
        ["model"] = FakeProviderServer.Model,
        ["temperature"] = 0,
        ["messages"] = new JsonArray(
            new JsonObject { ["role"] = "system", ["content"] = TriagePrompt.System },
            new JsonObject { ["role"] = "user", ["content"] = log }),
    });

    public async ValueTask DisposeAsync()
    {
        // Bounded: a broker that is down at the end must not hold the bench.
        await bus.StopAsync(TimeSpan.FromSeconds(10));
        upstream.Dispose();
    }

    private sealed class RouterStandIn : IConsumer<FloorFailed>
    {
        public Task Consume(ConsumeContext<FloorFailed> context) =>
            context.Send(new Uri($"exchange:{ProviderQueue}"), new FloorRequested(context.Message.EventId, context.Message.Log));
    }

    private sealed class WorkerStandIn(HttpClient upstream) : IConsumer<FloorRequested>
    {
        public async Task Consume(ConsumeContext<FloorRequested> context)
        {
            var provider = await CallAsync(upstream, context.Message.Log, context.CancellationToken);
            await context.Publish(new FloorCompleted(context.Message.EventId, provider));
        }
    }

    private sealed class SubscriberStandIn(Completions completions) : IConsumer<FloorCompleted>
    {
        public Task Consume(ConsumeContext<FloorCompleted> context)
        {
            completions.Arrived(context.Message.EventId, new Completion(Stopwatch.GetTimestamp(), context.Message.ProviderDurationMs, false));
            return Task.CompletedTask;
        }
    }
}
