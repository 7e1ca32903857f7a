using System.Collections.Concurrent;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Triage.Contracts;
using Triage.Host.Hosting;
using Triage.Platform.Configuration;
using Triage.Tests.Infrastructure;
using Triage.Tests.Providers;
using Triage.Workers;
using Triage.Workers.Pools;

namespace Triage.Tests.Unit;

/// <summary>
/// An attempt that fails after the provider billed it (two answers that did not validate) carries its cost from the
/// pool to the router, into the triage's attempt history or its dead letter.
/// </summary>
public sealed class BilledAttemptTests
{
    // Prices chosen so that the expected figures are exact: $3 in and $15 out per million tokens.
    private const decimal InputUsd = 3m;
    private const decimal OutputUsd = 15m;

    private const string InvalidAnswer = """{"summary":"It broke.","category":"banana","suspectedCause":"x","confidence":3}""";

    /// <summary>1200 + 1500 tokens in and 90 + 110 out, at the prices above.</summary>
    private const decimal BilledUsd = ((2700 * InputUsd) + (200 * OutputUsd)) / 1_000_000m;

    private static readonly TokenUsage Billed = new(1200 + 1500, 90 + 110);

    private static FakeReply TwoInvalidAnswers(int request) => request % 2 == 1
        ? FakeReply.Answer(InvalidAnswer, 1200, 90)
        : FakeReply.Answer("The build failed, I am fairly sure.", 1500, 110);

    [Fact]
    public async Task The_pool_publishes_a_failed_attempt_with_what_the_provider_billed_for_it()
    {
        await using var server = await FakeProviderServer.StartAsync(WireFormat.OpenAi);
        server.Reply = TwoInvalidAnswers;
        await using var pool = await PoolAsync(server);

        await pool.Harness.Bus.Publish(ProviderHarness.Request());

        Assert.True(await pool.Harness.Published.Any<TriageAttemptFailed>(), "the pool published no failed attempt");
        var failed = pool.Harness.Published.Select<TriageAttemptFailed>().Single().Context.Message;
        Assert.Equal(AttemptFailure.InvalidAnswer, failed.Reason);
        Assert.Equal(FakeProviderServer.Model, failed.Model);
        Assert.Equal(Billed, failed.Usage);
        Assert.Equal(0.0111m, failed.CostUsd);
        Assert.Equal(BilledUsd, failed.CostUsd);
    }

    [Fact]
    public async Task An_attempt_the_provider_did_not_bill_costs_nothing()
    {
        await using var server = await FakeProviderServer.StartAsync(WireFormat.OpenAi);
        server.Reply = _ => FakeReply.Error(400, "invalid_request_error", "No such thing as this request.");
        await using var pool = await PoolAsync(server);

        await pool.Harness.Bus.Publish(ProviderHarness.Request());

        Assert.True(await pool.Harness.Published.Any<TriageAttemptFailed>(), "the pool published no failed attempt");
        var failed = pool.Harness.Published.Select<TriageAttemptFailed>().Single().Context.Message;
        Assert.Equal(AttemptFailure.BadRequest, failed.Reason);
        Assert.Null(failed.Model);
        Assert.Null(failed.Usage);
        Assert.Equal(0m, failed.CostUsd);
    }

    [Fact]
    public async Task The_successful_attempt_in_the_history_carries_its_model_usage_and_cost()
    {
        await using var server = await FakeProviderServer.StartAsync(WireFormat.OpenAi);
        server.Reply = _ => FakeReply.Answer(FakeProviderServer.DefaultAnswer, 1000, 100);
        await using var pool = await PoolAsync(server);

        await pool.Harness.Bus.Publish(ProviderHarness.Request());

        Assert.True(await pool.Harness.Published.Any<TriageCompleted>(), "the pool published no triage");
        var triage = pool.Harness.Published.Select<TriageCompleted>().Single().Context.Message;
        var success = Assert.Single(triage.AttemptHistory);
        Assert.Equal(AttemptOutcome.Success, success.Outcome);
        Assert.Equal(FakeProviderServer.Model, success.Model);
        Assert.Equal(new TokenUsage(1000, 100), success.Usage);
        Assert.Equal(((1000 * InputUsd) + (100 * OutputUsd)) / 1_000_000m, success.CostUsd);
        Assert.Equal(triage.CostUsd, success.CostUsd);
        Assert.Equal(0m, AttemptOutcome.FailedCostUsd(triage.AttemptHistory));
    }

    [Fact]
    public async Task A_triage_that_failed_over_lists_the_billed_attempt_and_its_cost_in_its_history()
    {
        await using var server = await FakeProviderServer.StartAsync(WireFormat.OpenAi);
        server.Reply = TwoInvalidAnswers;
        await using var gateway = await EmbeddedGateway.StartAsync(server);
        var document = Samples.CompileError();

        using var response = await gateway.Http.PostFailureAsync(document);
        var triage = await gateway.Http.WaitForTriageAsync(document["eventId"]!.GetValue<string>());

        Assert.Equal("builtin", triage.Provider);
        Assert.Equal([AttemptFailure.InvalidAnswer, AttemptOutcome.Success], triage.AttemptHistory.Select(a => a.Outcome));
        var billed = triage.AttemptHistory[0];
        Assert.Equal("primary", billed.Provider);
        Assert.Equal(FakeProviderServer.Model, billed.Model);
        Assert.Equal(Billed, billed.Usage);
        Assert.Equal(BilledUsd, billed.CostUsd);
        Assert.Equal(0m, triage.CostUsd);
        Assert.Equal(BilledUsd, AttemptOutcome.FailedCostUsd(triage.AttemptHistory));
    }

    [Fact]
    public async Task A_dead_letter_lists_the_billed_attempt_and_its_cost()
    {
        await using var server = await FakeProviderServer.StartAsync(WireFormat.OpenAi);
        server.Reply = TwoInvalidAnswers;
        await using var gateway = await EmbeddedGateway.StartAsync(server);
        var document = Samples.CompileError();
        document["route"] = EmbeddedGateway.PrimaryOnly;
        var id = document["eventId"]!.GetValue<string>();

        using var response = await gateway.Http.PostFailureAsync(document);
        await ProviderHarness.WaitFor(() => gateway.DeadLetters.Any(d => d.EventId == id), seconds: 30);

        var dead = gateway.DeadLetters.Single(d => d.EventId == id);
        Assert.Equal(AttemptFailure.InvalidAnswer, dead.Reason);
        var billed = Assert.Single(dead.Attempts);
        Assert.Equal(("primary", AttemptFailure.InvalidAnswer), (billed.Provider, billed.Outcome));
        Assert.Equal(FakeProviderServer.Model, billed.Model);
        Assert.Equal(Billed, billed.Usage);
        Assert.Equal(BilledUsd, billed.CostUsd);
        Assert.Equal(BilledUsd, AttemptOutcome.FailedCostUsd(dead.Attempts));
    }

    [Fact]
    public void Only_failed_attempts_count_as_billed_beyond_the_triage()
    {
        AttemptOutcome[] attempts =
        [
            new("a", AttemptFailure.InvalidAnswer) { CostUsd = 0.25m },
            new("b", AttemptFailure.Timeout),
            new("c", AttemptFailure.InvalidAnswer) { CostUsd = 0.5m },
            new("d", AttemptOutcome.Success) { CostUsd = 2m },
        ];

        Assert.Equal(0.75m, AttemptOutcome.FailedCostUsd(attempts));
    }

    /// <summary>One provider's pool, registered as the worker role registers it, on MassTransit's in-memory test harness.</summary>
    private static async Task<Pool> PoolAsync(FakeProviderServer server)
    {
        var options = new TriageOptions();
        options.Providers["p"] = new ProviderOptions
        {
            Type = server.ProviderType,
            BaseUrl = server.BaseUrl,
            ApiKey = ProviderHarness.Key,
            Model = FakeProviderServer.Model,
            InputUsdPerMillionTokens = InputUsd,
            OutputUsdPerMillionTokens = OutputUsd,
        };
        var services = new ServiceCollection().AddLogging().AddSingleton(options);
        WorkersRole.Add(services, options);
        services.AddMassTransitTestHarness(bus => bus.AddConsumer<TriageRequestedConsumer>());
        var provider = services.BuildServiceProvider(validateScopes: true);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        return new Pool(provider, harness);
    }

    private sealed record Pool(ServiceProvider Services, ITestHarness Harness) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Services.DisposeAsync();
    }

    /// <summary>
    /// Every role in this process on the in-memory bus and SQLite: a primary aimed at the fake, the built-in triager
    /// to fail over to, and a listener for the dead letters the router publishes.
    /// </summary>
    private sealed class EmbeddedGateway : IAsyncDisposable
    {
        public const string PrimaryOnly = "primary_only";

        private readonly WebApplication app;
        private readonly string directory;

        private EmbeddedGateway(WebApplication app, string directory)
        {
            this.app = app;
            this.directory = directory;
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            Http = new HttpClient { BaseAddress = new Uri(address) };
        }

        public HttpClient Http { get; }

        public ConcurrentQueue<TriageDeadLettered> DeadLetters { get; } = new();

        public static async Task<EmbeddedGateway> StartAsync(FakeProviderServer primary)
        {
            var directory = Path.Combine(Path.GetTempPath(), "triage-tests", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            var path = Path.Combine(directory, "triage.yaml");
            await File.WriteAllTextAsync(path, $$"""
                providers:
                  primary: { type: {{primary.ProviderType}}, base_url: "{{primary.BaseUrl}}", model: {{FakeProviderServer.Model}}, input_usd_per_mtok: {{InputUsd}}, output_usd_per_mtok: {{OutputUsd}} }
                  builtin: { type: builtin, weight: 0 }
                routing:
                  build_triage: { providers: [primary, builtin], failover: true }
                  {{PrimaryOnly}}: { providers: [primary], failover: true }
                cache:
                  semantic: { enabled: false }
                """);
            var app = TriageApplication.Build(TriageConfiguration.Load(path), HostSettings.All("http://127.0.0.1:0"));
            await TriageApplication.StartAsync(app, CancellationToken.None);
            var gateway = new EmbeddedGateway(app, directory);
            var listener = app.Services.GetRequiredService<IBus>().ConnectReceiveEndpoint(
                "test-dead-letters-" + Guid.NewGuid().ToString("N"),
                endpoint => endpoint.Handler<TriageDeadLettered>(context =>
                {
                    gateway.DeadLetters.Enqueue(context.Message);
                    return Task.CompletedTask;
                }));
            await listener.Ready;
            return gateway;
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
