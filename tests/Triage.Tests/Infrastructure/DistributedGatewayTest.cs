namespace Triage.Tests.Infrastructure;

/// <summary>
/// A gateway with every role in this process on a virtual host of the real RabbitMQ and a database of the real
/// PostgreSQL, both its own. A test class supplies the rest of triage.yaml and the fakes it needs.
/// </summary>
public abstract class DistributedGatewayTest : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> owned = [];

    protected RabbitMqVirtualHost Broker { get; private set; } = null!;

    protected PostgresDatabase Database { get; private set; } = null!;

    protected GatewayUnderTest Gateway { get; private set; } = null!;

    /// <summary>The whole triage.yaml the gateway was started with, to start it again.</summary>
    private string fullConfiguration = string.Empty;

    /// <summary>The whole triage.yaml of the gateway, bus and store included: another process of the same gateway starts from it.</summary>
    protected string GatewayConfiguration => fullConfiguration;

    /// <summary>What the gateway hosts: every role and pool unless a test says otherwise.</summary>
    protected virtual Triage.Host.Hosting.HostSettings Settings => Triage.Host.Hosting.HostSettings.All("http://127.0.0.1:0");

    /// <summary>
    /// Routing and failover tests send the same sample many times and count provider calls: the semantic cache,
    /// which would answer all but the first, is off unless a test class is about it.
    /// </summary>
    protected virtual bool SemanticCache => false;

    /// <summary>Ingest demands virtual keys, as it does by default with PostgreSQL; off unless a test class is about keys.</summary>
    protected virtual bool RequireKeys => false;

    /// <summary>triage.yaml without its bus, store and cache sections, which this class adds.</summary>
    protected abstract Task<string> ConfigurationAsync();

    /// <summary>Starts something the test disposes of after the gateway (a fake provider, say).</summary>
    protected async Task<T> OwnAsync<T>(Task<T> starting)
        where T : IAsyncDisposable
    {
        var resource = await starting;
        owned.Add(resource);
        return resource;
    }

    public async Task InitializeAsync()
    {
        Broker = await RabbitMqVirtualHost.CreateAsync();
        Database = await PostgresDatabase.CreateAsync();
        var yaml = await ConfigurationAsync();
        fullConfiguration = $"""
            {yaml}
            bus:
              rabbitmq: "{Broker.Uri}"
            store:
              postgres: "{Database.ConnectionString}"
            cache:
              semantic: {"{"} enabled: {(SemanticCache ? "true" : "false")} {"}"}
            auth:
              required: {(RequireKeys ? "true" : "false")}
            """;
        Gateway = await GatewayUnderTest.StartAsync(fullConfiguration, settings: Settings);
    }

    /// <summary>Stops the gateway, as a crash or a deployment would, and starts it again on the same broker and database.</summary>
    protected async Task RestartGatewayAsync()
    {
        await Gateway.DisposeAsync();
        Gateway = await GatewayUnderTest.StartAsync(fullConfiguration, settings: Settings);
    }

    public async Task DisposeAsync()
    {
        IAsyncDisposable?[] resources = [Gateway, .. Enumerable.Reverse(owned), Database, Broker];
        foreach (var resource in resources)
        {
            if (resource is not null)
            {
                await resource.DisposeAsync();
            }
        }
    }
}
