using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>Weights and capacity through the whole gateway on the real RabbitMQ.</summary>
public sealed class WeightedRoutingTests : DistributedGatewayTest
{
    private FakeProviderServer a = null!;
    private FakeProviderServer b = null!;
    private FakeProviderServer slow = null!;
    private FakeProviderServer spare = null!;

    protected override async Task<string> ConfigurationAsync()
    {
        a = await OwnAsync(FakeProviderServer.StartAsync());
        b = await OwnAsync(FakeProviderServer.StartAsync());
        slow = await OwnAsync(FakeProviderServer.StartAsync());
        slow.Latency = TimeSpan.FromMilliseconds(1500);
        spare = await OwnAsync(FakeProviderServer.StartAsync());
        return $"""
            providers:
              a: {"{"} type: openai-compatible, base_url: "{a.BaseUrl}", model: m, weight: 70, capacity: 16 {"}"}
              b: {"{"} type: openai-compatible, base_url: "{b.BaseUrl}", model: m, weight: 30, capacity: 16 {"}"}
              slow: {"{"} type: openai-compatible, base_url: "{slow.BaseUrl}", model: m, weight: 1, capacity: 2 {"}"}
              spare: {"{"} type: openai-compatible, base_url: "{spare.BaseUrl}", model: m, weight: 0, capacity: 16 {"}"}
            routing:
              split: {"{"} providers: [a, b] {"}"}
              spill: {"{"} providers: [slow, spare] {"}"}
            """;
    }

    [SkippableFact]
    public async Task Triages_split_by_weight_70_30()
    {
        var providers = await ProvidersOf(await PostAsync("split", 100));

        Assert.InRange(providers.Count(p => p == "a"), 68, 72);
        Assert.InRange(providers.Count(p => p == "b"), 28, 32);
    }

    [SkippableFact]
    public async Task A_full_provider_spills_over_to_the_next_instead_of_queueing()
    {
        var providers = await ProvidersOf(await PostAsync("spill", 6));

        Assert.Equal(2, providers.Count(p => p == "slow"));
        Assert.Equal(4, providers.Count(p => p == "spare"));
    }

    private async Task<List<string>> ProvidersOf(IEnumerable<string> ids)
    {
        var providers = new List<string>();
        foreach (var id in ids)
        {
            providers.Add((await Gateway.Http.WaitForTriageAsync(id)).Provider);
        }

        return providers;
    }

    private async Task<List<string>> PostAsync(string route, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var document = Samples.CompileError();
            document["route"] = route;
            ids.Add(document["eventId"]!.GetValue<string>());
            using var response = await Gateway.Http.PostFailureAsync(document);
        }

        return ids;
    }
}
