using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using Triage.Host.Hosting;
using Triage.Platform;
using Triage.Platform.Bus;
using Triage.Platform.Store;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>
/// An Ingest without a router hears of results on <c>triage.completed.json</c>, so that <c>?wait=</c> answers when the
/// result is recorded elsewhere instead of on its next poll of the store.
/// </summary>
public sealed class CompletedResultsListenerTests : DistributedGatewayTest
{
    protected override HostSettings Settings => new(TriageRoles.Ingest, "http://127.0.0.1:0", []);

    protected override Task<string> ConfigurationAsync() => Task.FromResult("""
        providers:
          rules: { type: builtin }
        routing:
          build_triage: { providers: [rules] }
        """);

    [SkippableFact]
    public async Task A_result_published_for_an_event_id_wakes_its_waiters_and_no_others()
    {
        var recorded = Gateway.Services.GetRequiredService<RecordedTriages>();
        using var waiting = recorded.Listen("heard-1");
        using var other = recorded.Listen("not-published");

        // The listener binds its queue as it starts; a result published before that reaches no one, so publish again.
        var heard = false;
        for (var i = 0; i < 50 && !heard; i++)
        {
            await PublishAsync("heard-1");
            heard = await Task.WhenAny(waiting.Recorded, Task.Delay(200)) == waiting.Recorded;
        }

        Assert.True(heard, "the Ingest did not hear of the result within 10 s");
        Assert.False(other.Recorded.IsCompleted);
    }

    [SkippableFact]
    public async Task A_wait_on_an_ingest_without_a_router_answers_with_the_result_recorded_elsewhere()
    {
        await using var router = await GatewayUnderTest.StartAsync(GatewayConfiguration, settings: new HostSettings(TriageRoles.Router | TriageRoles.Workers, "http://127.0.0.1:0", []));
        var failure = Samples.CompileError();

        using var response = await Gateway.Http.PostAsync(
            "/v1/build-failures?wait=20s", new StringContent(failure.ToJsonString(), Encoding.UTF8, "application/json"));

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(failure["eventId"]!.GetValue<string>(), (await response.JsonAsync())["eventId"]!.GetValue<string>());
    }

    private async Task PublishAsync(string eventId)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(Broker.Uri) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var body = Encoding.UTF8.GetBytes(new JsonObject { ["eventId"] = eventId }.ToJsonString());
        await channel.BasicPublishAsync(
            BusTopology.CompletedJsonExchange, string.Empty, mandatory: false, new BasicProperties { MessageId = eventId, ContentType = "application/json" }, body);
    }
}
