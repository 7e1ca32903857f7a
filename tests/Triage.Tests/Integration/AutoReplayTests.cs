using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Triage.Platform.DeadLetters;
using Triage.Platform.Store;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>With <c>dead_letters.auto_replay</c> the router replays a group by itself once a provider of its route triages again.</summary>
public sealed class AutoReplayTests : DistributedGatewayTest
{
    private FakeProviderServer provider = null!;

    protected override async Task<string> ConfigurationAsync()
    {
        provider = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.OpenAi));
        return $"""
            providers:
              only: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: m, max_retries: 0, break_duration_ms: 500 {"}"}
            routing:
              build_triage: {"{"} providers: [only], timeout_ms: 10000 {"}"}
            dead_letters:
              auto_replay: true
              auto_replay_interval_seconds: 1
              replay_rate_per_second: 100
            """;
    }

    [SkippableFact]
    public async Task Dead_letters_wait_while_the_provider_is_down_and_come_back_by_themselves_once_it_triages_again()
    {
        provider.Reply = _ => FakeReply.Error(503, "server_error", "down");
        var bus = Gateway.Services.GetRequiredService<IBus>();
        var letters = Gateway.Services.GetRequiredService<DeadLetterStore>();
        var ids = Enumerable.Range(0, 10).Select(i => $"auto-{i}").ToList();
        foreach (var id in ids)
        {
            await bus.Publish(Samples.Failure($"[ERROR] cannot find symbol {id}", id));
        }

        await WaitAsync(async () => await letters.CountAsync(new DeadLetterFilter(Status: DeadLetterStatus.Dead), default) == 10);

        // Down: several intervals pass and nothing is replayed into the outage.
        await Task.Delay(2500);
        Assert.Equal(10, await letters.CountAsync(new DeadLetterFilter(Status: DeadLetterStatus.Dead), default));

        provider.Reply = _ => FakeReply.Answer(FakeProviderServer.DefaultAnswer);
        await Task.Delay(600);
        await bus.Publish(Samples.Failure("[ERROR] a fresh failure", "auto-fresh"));

        await WaitAsync(async () => (await Task.WhenAll(ids.Select(id => Gateway.Store.FindAsync(id, default)))).All(t => t?.Status == TriageStatus.Completed));
        Assert.Equal(10, await letters.CountAsync(new DeadLetterFilter(Status: DeadLetterStatus.Replayed), default));
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("the condition did not hold within 30 s");
    }
}
