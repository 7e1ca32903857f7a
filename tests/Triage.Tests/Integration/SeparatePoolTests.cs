using System.Net;
using Triage.Host.Hosting;
using Triage.Platform;
using Triage.Platform.Bus;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>A provider's pool can run in a process of its own: `triage run --roles workers --providers NAME`.</summary>
public sealed class SeparatePoolTests
{
    [SkippableFact]
    public async Task A_pool_started_on_its_own_takes_the_triages_waiting_in_its_queue()
    {
        await using var broker = await RabbitMqVirtualHost.CreateAsync();
        await using var database = await PostgresDatabase.CreateAsync();
        await using var provider = await FakeProviderServer.StartAsync();
        var yaml = $"""
            providers:
              remote: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: m {"}"}
              rules: {"{"} type: builtin {"}"}
            routing:
              via_remote: {"{"} providers: [remote] {"}"}
              via_rules: {"{"} providers: [rules] {"}"}
            bus:
              rabbitmq: "{broker.Uri}"
            store:
              postgres: "{database.ConnectionString}"
            auth:
              required: false
            """;
        await using var front = await GatewayUnderTest.StartAsync(
            yaml, settings: new HostSettings(TriageRoles.All, "http://127.0.0.1:0", ["rules"]));

        var waiting = Samples.CompileError();
        waiting["route"] = "via_remote";
        var served = Samples.CompileError();
        served["route"] = "via_rules";
        using (await front.Http.PostFailureAsync(waiting))
        using (await front.Http.PostFailureAsync(served))
        {
        }

        Assert.Equal("rules", (await front.Http.WaitForTriageAsync(served["eventId"]!.GetValue<string>())).Provider);
        var queued = 0;
        for (var i = 0; i < 60 && queued == 0; i++)
        {
            await Task.Delay(250);
            queued = await broker.MessagesInAsync(BusTopology.ProviderQueue("remote"));
        }

        Assert.Equal(1, queued);
        Assert.Empty(provider.Requests);

        await using var pool = await GatewayUnderTest.StartAsync(
            yaml, settings: new HostSettings(TriageRoles.Workers, "http://127.0.0.1:0", ["remote"]));
        var triage = await front.Http.WaitForTriageAsync(waiting["eventId"]!.GetValue<string>());

        Assert.Equal("remote", triage.Provider);
        Assert.Single(provider.Requests);
    }
}
