using System.Net;
using System.Text.Json;
using Triage.Contracts;
using Triage.Platform.Bus;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>The whole flow in one process on the real RabbitMQ and PostgreSQL, with an OpenAI-compatible fake provider.</summary>
public sealed class DistributedPipelineTests : DistributedGatewayTest
{
    private FakeProviderServer provider = null!;

    protected override async Task<string> ConfigurationAsync()
    {
        provider = await OwnAsync(FakeProviderServer.StartAsync());
        return $"""
            providers:
              fake: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: {FakeProviderServer.Model}, api_key: sk-test-key, input_usd_per_mtok: 0.4, output_usd_per_mtok: 1.6 {"}"}
              rules: {"{"} type: builtin {"}"}
            routing:
              build_triage: {"{"} providers: [fake] {"}"}
              offline: {"{"} providers: [rules] {"}"}
            ownership:
              acme/payments-service:
                paths: {"{"} "src/main/java/com/acme/payments/": "@acme/payments" {"}"}
            """;
    }

    [SkippableFact]
    public async Task A_failure_goes_through_RabbitMQ_to_the_provider_and_is_stored_in_PostgreSQL()
    {
        var document = Samples.CompileError();
        var id = document["eventId"]!.GetValue<string>();

        using var response = await Gateway.Http.PostFailureAsync(document);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var triage = await Gateway.Http.WaitForTriageAsync(id);

        Assert.Equal("fake", triage.Provider);
        Assert.Equal(FakeProviderServer.Model, triage.Model);
        Assert.Equal(TriageCategory.CompileError, triage.Category);
        Assert.Equal(["@acme/payments"], triage.SuggestedOwners);
        Assert.Equal(new TokenUsage(812, 64), triage.Usage);
        Assert.Equal(((812 * 0.4m) + (64 * 1.6m)) / 1_000_000m, triage.CostUsd);
        Assert.Equal(1, await Database.CountAsync($"SELECT count(*) FROM triages WHERE event_id = '{id}' AND status = 'completed' AND provider = 'fake'"));
        Assert.Equal("Bearer sk-test-key", Assert.Single(provider.Requests).Header("authorization"));
        Assert.Contains("cannot find symbol", Assert.Single(provider.Requests).UserMessage);
    }

    [SkippableFact]
    public async Task The_same_event_id_twice_calls_the_provider_once()
    {
        var document = Samples.CompileError();
        var id = document["eventId"]!.GetValue<string>();

        using var first = await Gateway.Http.PostFailureAsync(document);
        using var second = await Gateway.Http.PostFailureAsync(document);
        await Gateway.Http.WaitForTriageAsync(id);
        using var third = await Gateway.Http.PostFailureAsync(document);
        await Task.Delay(500);

        Assert.Single(provider.Requests);
        Assert.Equal(1, await Database.CountAsync($"SELECT count(*) FROM triages WHERE event_id = '{id}'"));
    }

    [SkippableFact]
    public async Task Each_route_reaches_its_own_provider_queue_which_is_a_quorum_queue()
    {
        var document = Samples.Load("04-gradle-out-of-memory");
        document["eventId"] = "oom-" + Guid.NewGuid().ToString("N");
        document["route"] = "offline";

        using var response = await Gateway.Http.PostFailureAsync(document);
        var triage = await Gateway.Http.WaitForTriageAsync(document["eventId"]!.GetValue<string>());

        Assert.Equal("rules", triage.Provider);
        Assert.Equal(TriageCategory.OutOfMemory, triage.Category);
        Assert.Empty(provider.Requests);
        foreach (var queue in new[] { BusTopology.ProviderQueue("fake"), BusTopology.ProviderQueue("rules"), BusTopology.RouterQueue, BusTopology.RecorderQueue })
        {
            Assert.Equal("quorum", await Broker.QueueTypeAsync(queue));
        }
    }

    [SkippableFact]
    public async Task A_failure_no_provider_of_its_route_can_triage_becomes_one_dead_letter_not_an_invented_result()
    {
        provider.Reply = _ => FakeReply.Error(401, "invalid_request_error", "Incorrect API key provided: sk-test-key.");
        var document = Samples.CompileError();
        var id = document["eventId"]!.GetValue<string>();

        using var response = await Gateway.Http.PostFailureAsync(document);
        await WaitUntil(() => provider.Requests.Count >= 1, TimeSpan.FromSeconds(20));

        long parked = 0;
        for (var i = 0; i < 60 && parked == 0; i++)
        {
            await Task.Delay(250);
            parked = await Database.CountAsync($"SELECT count(*) FROM dead_letters WHERE event_id = '{id}' AND reason = 'unauthorized'");
        }

        using var status = await Gateway.Http.GetAsync($"/v1/triages/{id}");
        Assert.Equal(HttpStatusCode.Accepted, status.StatusCode);
        Assert.Equal("dead_lettered", (await status.JsonAsync())["status"]!.GetValue<string>());
        Assert.Equal(1, parked);

        // A bad key is not retried: the pipeline fails the attempt at once.
        Assert.Single(provider.Requests);
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(condition(), "the condition did not hold in time");
    }
}
