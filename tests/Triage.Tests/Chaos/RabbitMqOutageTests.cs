using Triage.Tests.Infrastructure;
using Triage.Tests.Integration;
using Xunit.Abstractions;

namespace Triage.Tests.Chaos;

/// <summary>
/// RabbitMQ stops for twenty seconds in the middle of a steady load and starts again. While it is down Ingest cannot
/// get a publisher confirm, so it must refuse (503), never accept; once it is back every role reconnects on its own and
/// each failure accepted before, during or after the outage ends as one triage or one dead letter.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class RabbitMqOutageTests(ITestOutputHelper output) : ChaosTest(output)
{
    private const string Scenario = "rabbitmq-stopped";
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(20);

    protected override async Task<string> ScenarioConfigurationAsync()
    {
        var provider = await OwnAsync(FakeProviderServer.StartAsync());
        provider.Latency = TimeSpan.FromMilliseconds(100);
        return $"""
            providers:
              remote: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: m, capacity: 16 {"}"}
              rules: {"{"} type: builtin, weight: 0 {"}"}
            routing:
              build_triage: {"{"} providers: [remote, rules], failover: true, timeout_ms: 120000 {"}"}
            """;
    }

    [SkippableFact]
    public async Task Every_failure_accepted_around_a_RabbitMQ_outage_ends_once_and_none_is_accepted_while_it_is_down()
    {
        var events = await CompletedEvents.BindAsync(Broker.Uri);
        RestartClock();
        var load = SteadyLoad.PostAsync(Gateway.Http, SteadyLoad.Failures("broker", 600), perSecond: 20);

        await Task.Delay(TimeSpan.FromSeconds(5));
        DateTimeOffset stopped, restarting, restarted;
        try
        {
            await SharedServices.StopRabbitMqAsync();
            stopped = DateTimeOffset.UtcNow;
            await Task.Delay(Outage);
        }
        finally
        {
            restarting = DateTimeOffset.UtcNow;
            await SharedServices.StartRabbitMqAsync();
            restarted = DateTimeOffset.UtcNow;
        }

        var during = await load;
        var ready = await EventuallyAsync(
            async () => (await Gateway.Http.GetAsync("/readyz")).IsSuccessStatusCode, TimeSpan.FromSeconds(60));
        var readyAfter = DateTimeOffset.UtcNow - restarted;

        // Work that arrives once the broker is back, on connections the gateway re-established by itself.
        var after = await SteadyLoad.PostAsync(Gateway.Http, SteadyLoad.Failures("broker", 100, from: 600), perSecond: 20);
        var posted = during.Concat(after).ToList();
        var accepted = posted.Where(p => p.Accepted).Select(p => p.EventId).ToList();

        var (row, store) = await CountAsync(Scenario, posted.Count, accepted, events, TimeSpan.FromSeconds(60));

        using var readiness = await Gateway.Http.GetAsync("/readyz");
        var readyAtTheEnd = $"{(int)readiness.StatusCode} {Compact(await readiness.Content.ReadAsStringAsync())}";

        // Sent after the broker had stopped and answered before it was started again: no confirm was possible.
        var whileDown = posted.Where(p => p.SentAt >= stopped && p.AnsweredAt <= restarting).ToList();
        var acceptedWhileDown = whileDown.Count(p => p.Accepted);
        var refusedUnaccepted = posted.Where(p => !p.Accepted).Count(p => store.TryGetValue(p.EventId, out var o) && StoredOutcomes.IsSettled(o));
        row = row with
        {
            Notes = $"broker stopped {Outage.TotalSeconds:0} s ({(restarting - stopped).TotalSeconds:0.0} s down); answers {Answers(posted)}; "
                + $"{acceptedWhileDown} accepted while down; ready {readyAfter.TotalSeconds:0.0} s after start_app",
        };
        row.With("answers", Answers(posted))
            .With("answersWhileDown", Answers(whileDown))
            .With("acceptedWhileDown", acceptedWhileDown)
            .With("acceptedBeforeStop", posted.Count(p => p.Accepted && p.AnsweredAt < stopped))
            .With("acceptedAfterRestart", posted.Count(p => p.Accepted && p.SentAt > restarting))
            .With("refusedButTriaged", refusedUnaccepted)
            .With("readySecondsAfterStart", Math.Round(readyAfter.TotalSeconds, 1))
            .With("readyzAtTheEnd", readyAtTheEnd);
        Report(row);

        Assert.True(ready, "/readyz did not answer 200 within 60 s of RabbitMQ starting again");
        Assert.NotEmpty(whileDown);
        Assert.Equal(0, acceptedWhileDown);
        Assert.All(whileDown, p => Assert.Equal(503, p.Status));
        Assert.Contains(after, p => p.Accepted);
        row.AssertNothingLost(ReliabilityRow.Unsettled(accepted, store));
    }

    /// <summary>The readiness document on one line: each check's name and status, and the bus check's description.</summary>
    private static string Compact(string readiness)
    {
        try
        {
            var checks = System.Text.Json.Nodes.JsonNode.Parse(readiness)!["checks"]!.AsArray();
            return string.Join("; ", checks.Select(c => $"{c!["name"]}={c["status"]}"
                + (c["name"]!.GetValue<string>() == "masstransit-bus" ? $" ({c["description"]})" : string.Empty)));
        }
        catch (System.Text.Json.JsonException)
        {
            return readiness.Length > 300 ? readiness[..300] : readiness;
        }
    }
}
