using Triage.Fakes;
using Triage.Platform.Bus;

namespace Triage.Bench.Gateway;

/// <summary>A running gateway the scenarios post to: its processes, and a client whose results come back to the bench.</summary>
internal interface IGatewayUnderTest : IAsyncDisposable
{
    /// <summary>How it runs, for the table's notes.</summary>
    string Description { get; }

    IReadOnlyList<LocalProcess> Processes { get; }

    GatewayClient Client { get; }

    /// <summary>Waits until nothing is left in flight from an earlier load, so that one step does not measure another's backlog.</summary>
    Task SettleAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The distributed gateway: Ingest, Router and Workers as three <c>triage run --roles</c> processes on RabbitMQ and
/// PostgreSQL (a virtual host and a database of its own), the provider the fake upstream. Results are read as any
/// subscriber reads them, from <c>triage.completed.json</c>.
/// </summary>
internal sealed class DistributedGateway : IGatewayUnderTest
{
    /// <summary>Triages one worker process runs at once: enough that the pool is not what a load at concurrency 32 waits for.</summary>
    public const int Capacity = 64;

    private readonly ScratchVirtualHost broker;
    private readonly ScratchDatabase database;
    private readonly List<LocalProcess> processes;
    private readonly ExchangeSubscriber subscriber;

    private DistributedGateway(ScratchVirtualHost broker, ScratchDatabase database, List<LocalProcess> processes, ExchangeSubscriber subscriber, GatewayClient client)
    {
        this.broker = broker;
        this.database = database;
        this.processes = processes;
        this.subscriber = subscriber;
        Client = client;
    }

    public string Description =>
        $"distributed: ingest, router and workers as separate `triage run --roles` processes, RabbitMQ virtual host {broker.Name}, "
        + $"PostgreSQL database {database.Name}, auth off, semantic cache on (misses are posted with \"cache\": false), provider capacity {Capacity}";

    public IReadOnlyList<LocalProcess> Processes => processes;

    public GatewayClient Client { get; }

    public static async Task<DistributedGateway> StartAsync(string triage, FakeProviderServer upstream, string directory, CancellationToken cancellationToken)
    {
        var broker = await ScratchVirtualHost.CreateAsync("gateway", cancellationToken);
        var database = await ScratchDatabase.CreateAsync(cancellationToken);
        var processes = new List<LocalProcess>();
        try
        {
            var config = Path.Combine(directory, "distributed.yaml");
            await File.WriteAllTextAsync(config, $"""
                providers:
                  fake: {"{"} type: openai-compatible, base_url: "{upstream.BaseUrl}", model: {FakeProviderServer.Model}, capacity: {Capacity} {"}"}
                routing:
                  build_triage: {"{"} providers: [fake] {"}"}
                cache:
                  semantic: {"{"} enabled: true {"}"}
                bus:
                  rabbitmq: "{broker.Amqp}"
                store:
                  postgres: "{database.ConnectionString}"
                auth:
                  required: false
                """, cancellationToken);

            // The router first: it migrates the database, which the others would otherwise race to do.
            var router = RoleProcesses.StartTriage(triage, "router", directory, "run", "--config", config, "--roles", "router");
            processes.Add(router);
            await router.WaitUntilReadyAsync("/readyz", TimeSpan.FromSeconds(120), cancellationToken);
            var workers = RoleProcesses.StartTriage(triage, "workers", directory, "run", "--config", config, "--roles", "workers");
            var ingest = RoleProcesses.StartTriage(triage, "ingest", directory, "run", "--config", config, "--roles", "ingest");
            processes.Insert(0, ingest);
            processes.Add(workers);
            await Task.WhenAll(
                workers.WaitUntilReadyAsync("/readyz", TimeSpan.FromSeconds(120), cancellationToken),
                ingest.WaitUntilReadyAsync("/readyz", TimeSpan.FromSeconds(120), cancellationToken));

            var completions = new Completions();
            var subscriber = await ExchangeSubscriber.BindAsync(
                broker.Amqp, BusTopology.CompletedJsonExchange, (at, properties, body) => completions.Arrived(at, properties.MessageId, body), cancellationToken);
            GatewayBench.Progress($"distributed gateway ready: ingest {ingest.Address}, logs in {directory}");
            return new DistributedGateway(broker, database, processes, subscriber, new GatewayClient(ingest.Url(), completions));
        }
        catch
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }

            await database.DisposeAsync();
            await broker.DisposeAsync();
            throw;
        }
    }

    public async Task SettleAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string[] queues = [BusTopology.RouterQueue, BusTopology.ProviderQueue("fake"), BusTopology.RecorderQueue];
        while (DateTime.UtcNow < deadline && await subscriber.ReadyMessagesAsync(queues, cancellationToken) != 0)
        {
            await Task.Delay(250, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await subscriber.DisposeAsync();
        foreach (var process in processes)
        {
            await process.DisposeAsync();
        }

        await Task.WhenAll(database.DisposeAsync().AsTask(), broker.DisposeAsync().AsTask());
    }
}

/// <summary>
/// The embedded gateway: one <c>triage run</c> process with its defaults (in-memory bus, SQLite beside its config), the
/// provider the fake upstream. Results are pushed to the bench by an outgoing JSON webhook, the one way out of it.
/// </summary>
internal sealed class EmbeddedGateway : IGatewayUnderTest
{
    private readonly LocalProcess process;
    private readonly WebhookSubscriber subscriber;

    private EmbeddedGateway(LocalProcess process, WebhookSubscriber subscriber, GatewayClient client)
    {
        this.process = process;
        this.subscriber = subscriber;
        Client = client;
    }

    public string Description =>
        "embedded: one `triage run` process with its defaults (all roles, in-memory bus, SQLite), semantic cache on (misses posted with "
        + $"\"cache\": false), provider capacity {DistributedGateway.Capacity}; results read from an outgoing JSON webhook served by the bench";

    public IReadOnlyList<LocalProcess> Processes => [process];

    public GatewayClient Client { get; }

    public static async Task<EmbeddedGateway> StartAsync(string triage, FakeProviderServer upstream, string directory, CancellationToken cancellationToken)
    {
        var completions = new Completions();
        var subscriber = await WebhookSubscriber.StartAsync(completions, cancellationToken);
        var folder = Directory.CreateDirectory(Path.Combine(directory, "embedded")).FullName;
        var config = Path.Combine(folder, "triage.yaml");
        await File.WriteAllTextAsync(config, $"""
            providers:
              fake: {"{"} type: openai-compatible, base_url: "{upstream.BaseUrl}", model: {FakeProviderServer.Model}, capacity: {DistributedGateway.Capacity} {"}"}
            routing:
              build_triage: {"{"} providers: [fake] {"}"}
            notifications:
              webhooks:
                - {"{"} url: "{subscriber.Url}", format: json, include_cached: true {"}"}
            """, cancellationToken);
        var process = RoleProcesses.StartTriage(triage, "embedded", folder, "run", "--config", config);
        try
        {
            await process.WaitUntilReadyAsync("/readyz", TimeSpan.FromSeconds(120), cancellationToken);
        }
        catch
        {
            await process.DisposeAsync();
            await subscriber.DisposeAsync();
            throw;
        }

        GatewayBench.Progress($"embedded gateway ready: {process.Address}");
        return new EmbeddedGateway(process, subscriber, new GatewayClient(process.Url(), completions));
    }

    /// <summary>No queue to look into: the in-memory bus drains with the process, so a short pause is all there is.</summary>
    public Task SettleAsync(CancellationToken cancellationToken) => Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await process.DisposeAsync();
        await subscriber.DisposeAsync();
    }
}
