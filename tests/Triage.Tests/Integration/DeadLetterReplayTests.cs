using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Triage.Contracts;
using Triage.Platform.DeadLetters;
using Triage.Platform.Store;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>
/// An outage of every provider on the real RabbitMQ and PostgreSQL: failures wait as dead letters, grouped by cause,
/// and come back when replayed, with nothing lost and nothing triaged twice.
/// </summary>
public sealed class DeadLetterReplayTests(Xunit.Abstractions.ITestOutputHelper output) : DistributedGatewayTest
{
    private const string Route = "build_triage";
    private FakeProviderServer primary = null!;
    private FakeProviderServer secondary = null!;

    protected override async Task<string> ConfigurationAsync()
    {
        primary = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.OpenAi));
        secondary = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.OpenAi));
        return $"""
            providers:
              primary: {"{"} type: openai-compatible, base_url: "{primary.BaseUrl}", model: m, weight: 1, capacity: 16, max_retries: 0, break_duration_ms: 1000 {"}"}
              secondary: {"{"} type: openai-compatible, base_url: "{secondary.BaseUrl}", model: m, weight: 0, capacity: 16, max_retries: 0, break_duration_ms: 1000 {"}"}
            routing:
              {Route}: {"{"} providers: [primary, secondary], failover: true, timeout_ms: 10000 {"}"}
            """;
    }

    private DeadLetterStore Letters => Gateway.Services.GetRequiredService<DeadLetterStore>();

    private DeadLetterReplayer Replayer => Gateway.Services.GetRequiredService<DeadLetterReplayer>();

    [SkippableFact]
    public async Task Five_hundred_failures_of_an_outage_wait_grouped_by_cause_and_a_replay_triages_each_exactly_once()
    {
        var ids = await OutageAsync(500);
        var groups = await Letters.GroupsAsync(new DeadLetterFilter(), default);
        output.WriteLine(string.Join("\n", groups.Select(g => $"{g.Group}: {g.Count}")));
        Assert.Equal(500, groups.Sum(g => g.Count));
        Assert.All(groups, g => Assert.StartsWith(Route + "/", g.Group));
        Assert.Contains(groups, g => g.Reason == AttemptFailure.ServerError);

        await RecoverAsync();
        var before = Requests();
        var replay = await Replayer.RunAsync(new ReplayRequest(new DeadLetterFilter(), RatePerSecond: 500), null, default);

        Assert.Equal((500, 500, 0, 0, 0), (replay.Total, replay.Replayed, replay.AlreadyDone, replay.Skipped, replay.Failed));
        await WaitForCompletedAsync(ids);
        await Task.Delay(500);
        Assert.Equal(500, Requests() - before);
        Assert.Equal(500, await Letters.CountAsync(new DeadLetterFilter(Status: DeadLetterStatus.Replayed), default));
        Assert.Equal(500, await Database.CountAsync($"SELECT count(*) FROM triages WHERE status = 'completed' AND replays = 1 AND event_id LIKE 'outage-%'"));
    }

    [SkippableFact]
    public async Task Replaying_twice_or_a_failure_that_completed_meanwhile_or_the_same_replay_published_twice_triages_nothing_twice()
    {
        var ids = await OutageAsync(20);
        await RecoverAsync();

        // One of them completes meanwhile: a provider's late answer reaches the recorder.
        var bus = Gateway.Services.GetRequiredService<IBus>();
        await bus.Publish(new TriageCompleted
        {
            EventId = ids[0], Route = Route, Summary = "late", Category = TriageCategory.Network, SuspectedCause = "late",
            Provider = "primary", Model = "m", CompletedAt = DateTimeOffset.UtcNow,
        });
        await WaitForCompletedAsync([ids[0]]);
        var before = Requests();

        var first = await Replayer.RunAsync(new ReplayRequest(new DeadLetterFilter()), null, default);
        var second = await Replayer.RunAsync(new ReplayRequest(new DeadLetterFilter()), null, default);
        await WaitForCompletedAsync(ids);

        // A replay published again (its replayer stopped between publishing and marking it): the router takes it once.
        var again = await Letters.FindAsync(ids[1], default);
        await bus.Publish(again!.Failure with { Replay = again.ReplayCount, LogIsExcerpt = true });
        await Task.Delay(1000);

        Assert.Equal((20, 19, 1), (first.Total, first.Replayed, first.AlreadyDone));
        Assert.Equal(0, second.Total);
        Assert.Equal(19, Requests() - before);
        Assert.Equal("late", (await Gateway.Store.FindAsync(ids[0], default))!.Result!.Summary);
    }

    [SkippableFact]
    public async Task A_router_restarted_while_replays_are_in_flight_loses_none()
    {
        var ids = await OutageAsync(100);
        primary.Reply = secondary.Reply = _ => FakeReply.Slow(TimeSpan.FromSeconds(1), FakeReply.Answer(FakeProviderServer.DefaultAnswer));

        // The restart also forgets that the providers were down: the replay needs no canary.
        await RestartGatewayAsync();
        var replay = await Replayer.RunAsync(new ReplayRequest(new DeadLetterFilter(), RatePerSecond: 1000), null, default);
        Assert.Equal(100, replay.Replayed);
        var completedBefore = await Database.CountAsync("SELECT count(*) FROM triages WHERE status = 'completed'");
        await RestartGatewayAsync();

        await WaitForCompletedAsync(ids);
        output.WriteLine($"completed before the restart: {completedBefore} of 100");
        Assert.True(completedBefore < 100, "the restart came after every replay was triaged: nothing was in flight");
        Assert.Equal(100, await Database.CountAsync("SELECT count(*) FROM triages WHERE status = 'completed' AND replays = 1"));
    }

    [SkippableFact]
    public async Task A_replay_process_killed_halfway_and_started_again_finishes_with_nothing_lost_and_nothing_doubled()
    {
        var ids = await OutageAsync(60);
        await RecoverAsync();
        var before = Requests();
        var config = Path.Combine(Path.GetTempPath(), $"triage-replay-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(config, $"""
            bus: {"{"} rabbitmq: "{Broker.Uri}" {"}"}
            store: {"{"} postgres: "{Database.ConnectionString}" {"}"}
            """);
        try
        {
            long replayed;
            await using (var first = TriageProcess.Start("replay", "--all", "--rate", "20", "--config", config))
            {
                replayed = await WaitForReplayedAsync(at: 15);

                // SIGKILL, in the middle of the run: no chance to release anything.
            }

            var stopped = await Letters.CountAsync(new DeadLetterFilter(Status: DeadLetterStatus.Replayed), default);
            var (exit, printed) = await TriageProcess.RunAsync(TimeSpan.FromMinutes(2), "replay", "--all", "--rate", "50", "--config", config);
            output.WriteLine($"killed after {stopped} of 60 were replayed; the second run printed:\n{printed}");

            Assert.True(exit == 0, printed);
            Assert.InRange(stopped, replayed, 59);
            await WaitForCompletedAsync(ids);
            await Task.Delay(500);
            Assert.Equal(60, Requests() - before);
            Assert.Equal(60, await Letters.CountAsync(new DeadLetterFilter(Status: DeadLetterStatus.Replayed), default));
            Assert.Equal(60, await Database.CountAsync("SELECT count(*) FROM triages WHERE status = 'completed' AND event_id LIKE 'outage-%'"));
        }
        finally
        {
            File.Delete(config);
        }
    }

    [SkippableFact]
    public async Task A_failure_for_a_route_that_is_not_configured_waits_as_a_dead_letter_with_that_reason()
    {
        var bus = Gateway.Services.GetRequiredService<IBus>();

        await bus.Publish(Samples.Failure("[ERROR] boom", "nowhere-1") with { Route = "nowhere" });

        DeadLetter? dead = null;
        for (var i = 0; i < 100 && dead is null; i++)
        {
            await Task.Delay(100);
            dead = await Letters.FindAsync("nowhere-1", default);
        }

        Assert.Equal(("unknown_route", "nowhere/unknown_route"), (dead?.Reason, dead?.Group));
        Assert.Equal(TriageStatus.DeadLettered, (await Gateway.Store.FindAsync("nowhere-1", default))?.Status);
    }

    /// <summary>Every provider answers 500; <paramref name="count"/> failures published straight to the broker end as dead letters.</summary>
    private async Task<List<string>> OutageAsync(int count)
    {
        primary.Reply = secondary.Reply = _ => FakeReply.Error(500, "server_error", "upstream is down");
        var bus = Gateway.Services.GetRequiredService<IBus>();
        var ids = Enumerable.Range(0, count).Select(i => $"outage-{i:D5}").ToList();
        await Task.WhenAll(ids.Select(id => bus.Publish(Samples.Failure($"[ERROR] cannot find symbol Refund{id}\nBUILD FAILURE", id))));
        for (var i = 0; i < 600 && await Letters.CountAsync(new DeadLetterFilter(), default) < count; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(count, await Letters.CountAsync(new DeadLetterFilter(Status: DeadLetterStatus.Dead), default));
        Assert.Equal(count, await Database.CountAsync("SELECT count(*) FROM triages WHERE status = 'dead_lettered'"));
        return ids;
    }

    /// <summary>The providers answer again; once their break has passed, one fresh failure finds them healthy.</summary>
    private async Task RecoverAsync()
    {
        primary.Reply = secondary.Reply = _ => FakeReply.Answer(FakeProviderServer.DefaultAnswer);
        await Task.Delay(1200);
        var canary = "canary-" + Guid.NewGuid().ToString("N");
        await Gateway.Services.GetRequiredService<IBus>().Publish(Samples.Failure("[ERROR] canary\nBUILD FAILURE", canary));
        await WaitForCompletedAsync([canary]);
    }

    private async Task<long> WaitForReplayedAsync(int at)
    {
        long replayed = 0;
        for (var i = 0; i < 600 && replayed < at; i++)
        {
            await Task.Delay(50);
            replayed = await Letters.CountAsync(new DeadLetterFilter(Status: DeadLetterStatus.Replayed), default);
        }

        Assert.True(replayed >= at, $"the replay process replayed only {replayed}");
        return replayed;
    }

    private int Requests() => primary.Requests.Count + secondary.Requests.Count;

    private async Task WaitForCompletedAsync(IReadOnlyCollection<string> ids)
    {
        var pending = ids.ToHashSet();
        for (var i = 0; i < 1200 && pending.Count > 0; i++)
        {
            foreach (var id in pending.ToList())
            {
                if ((await Gateway.Store.FindAsync(id, default))?.Status == TriageStatus.Completed)
                {
                    pending.Remove(id);
                }
            }

            if (pending.Count > 0)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(pending.Count == 0, $"{pending.Count} never completed, e.g. {pending.FirstOrDefault()}");
    }
}
