using System.Text;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using Triage.Contracts;
using Triage.Platform.Bus;
using Triage.Tests.Infrastructure;
using Triage.Tests.Integration;
using Xunit.Abstractions;

namespace Triage.Tests.Chaos;

/// <summary>
/// A message its consumer throws on every time, published straight to the broker by a producer that skipped Ingest's
/// validation: an event id longer than the store's column (200). MassTransit's retry gives it a bounded number of
/// tries, then moves it to the endpoint's <c>_error</c> queue with the exception in its headers; the failures behind
/// it are triaged meanwhile.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class PoisonMessageTests(ITestOutputHelper output) : ChaosTest(output)
{
    /// <summary><c>UseMessageRetry</c> of the router's endpoints (RouterRole): four retries after the first try.</summary>
    private const int RouterRetries = 4;

    /// <summary>The retries take 7.6 s (100, 500, 2000 and 5000 ms apart).</summary>
    private static readonly TimeSpan FaultWithin = TimeSpan.FromSeconds(20);

    private static readonly string PoisonId = "poison-" + new string('x', 250);

    protected override Task<string> ScenarioConfigurationAsync() => Task.FromResult("""
        providers:
          rules: { type: builtin }
        routing:
          build_triage: { providers: [rules], timeout_ms: 60000 }
        """);

    [SkippableFact]
    public async Task A_BuildFailed_the_router_throws_on_every_time_ends_in_its_error_queue_and_does_not_hold_up_the_rest()
    {
        await PoisonAsync(
            "poison-build-failed",
            BusTopology.RouterQueue,
            bus => bus.Publish(Samples.Failure("[ERROR] cannot find symbol", PoisonId)));
    }

    [SkippableFact]
    public async Task A_TriageCompleted_the_recorder_throws_on_every_time_ends_in_its_error_queue_and_does_not_hold_up_the_rest()
    {
        await PoisonAsync(
            "poison-triage-completed",
            BusTopology.RecorderQueue,
            bus => bus.Publish(new TriageCompleted
            {
                EventId = PoisonId,
                Route = "build_triage",
                Summary = "A result for a failure the store never saw, from a producer outside the gateway.",
                Category = TriageCategory.CompileError,
                SuspectedCause = "cannot find symbol",
                Provider = "rules",
                Model = "rules",
                CompletedAt = DateTimeOffset.UtcNow,
            }));
    }

    private async Task PoisonAsync(string scenario, string queue, Func<IBus, Task> publishPoison, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        var events = await CompletedEvents.BindAsync(Broker.Uri);
        RestartClock();
        await publishPoison(Gateway.Services.GetRequiredService<IBus>());
        var posted = await SteadyLoad.PostAsync(Gateway.Http, SteadyLoad.Failures(scenario, 100), perSecond: 25);
        var accepted = posted.Where(p => p.Accepted).Select(p => p.EventId).ToList();

        var (row, store) = await CountAsync(scenario, posted.Count + 1, accepted, events, TimeSpan.FromSeconds(60), test);
        var goodSettledAfter = Elapsed;
        var errorQueue = queue + "_error";
        var faulted = await EventuallyAsync(async () => await QueueStates.ReadyAsync(Broker, errorQueue) > 0, FaultWithin);
        var fault = faulted ? await PeekAsync(errorQueue) : null;

        // Once faulted, nothing of it may remain on the endpoint. The management API counts held messages too, but its
        // figures lag by seconds (more on a busy machine): a consumer that kept the poison would hold it the whole time.
        await EventuallyAsync(async () => await Broker.MessagesInAsync(queue) == 0, TimeSpan.FromSeconds(20));
        var stillOnEndpoint = await Broker.MessagesInAsync(queue);
        var rollbacks = await RollbacksPerSecondAsync();
        row = row with
        {
            Published = posted.Count + 1,
            Notes = faulted
                ? $"poison in {errorQueue} after {fault!.Tries} tries: {fault.ExceptionType}: {Shorten(fault.Message)}; {accepted.Count} failures behind it settled in {goodSettledAfter.TotalSeconds:0.0} s"
                : $"poison never reached {errorQueue}: {stillOnEndpoint} message(s) still held on {queue}, {rollbacks:0} rolled-back transactions/s in the store while idle; "
                    + $"{accepted.Count} failures behind it settled in {goodSettledAfter.TotalSeconds:0.0} s",
        };
        row.With("poisonFaulted", faulted)
            .With("poisonTries", fault?.Tries)
            .With("faultExceptionType", fault?.ExceptionType)
            .With("faultMessage", fault?.Message is { } m ? Shorten(m) : null)
            .With("heldOnEndpointAfterwards", stillOnEndpoint)
            .With("storeRollbacksPerSecondIdle", Math.Round(rollbacks, 1))
            .With("goodSettledSeconds", Math.Round(goodSettledAfter.TotalSeconds, 1));
        Report(row);

        Assert.Equal(posted.Count, accepted.Count);
        row.AssertNothingLost(ReliabilityRow.Unsettled(accepted, store));
        Assert.True(faulted, $"the poison message never reached {errorQueue} within {FaultWithin.TotalSeconds:0} s; {stillOnEndpoint} message(s) still on {queue}, "
            + $"{rollbacks:0} rolled-back transactions/s in the store with nothing else to do: its consumer retries it without end");
        Assert.Equal(RouterRetries + 1, fault!.Tries);
        Assert.False(string.IsNullOrWhiteSpace(fault.Message), "the error queue's copy has no MT-Fault-Message");
        Assert.True(stillOnEndpoint <= 0, $"{stillOnEndpoint} message(s) still on {queue} after the poison faulted");
    }

    /// <summary>The first message of an error queue, left in place: how often it was tried and why it failed.</summary>
    private async Task<Fault> PeekAsync(string queue)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(Broker.Uri) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var message = await channel.BasicGetAsync(queue, autoAck: false) ?? throw new InvalidOperationException($"{queue} is empty");
        var headers = message.BasicProperties.Headers ?? new Dictionary<string, object?>();
        string? Text(string name) => headers.TryGetValue(name, out var value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            null => null,
            var other => Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture),
        } : null;
        var retries = int.TryParse(Text(MessageHeaders.FaultRetryCount), out var count) ? count : 0;
        var redeliveries = int.TryParse(Text("x-delivery-count"), out var delivered) ? delivered : 0;
        await channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: true);
        return new Fault(Text(MessageHeaders.FaultExceptionType), Text(MessageHeaders.FaultMessage), retries + 1 + redeliveries);
    }

    /// <summary>Rolled-back transactions per second in this test's database, over two seconds: a consumer that fails in a loop shows here.</summary>
    private async Task<double> RollbacksPerSecondAsync()
    {
        var sql = $"SELECT xact_rollback FROM pg_stat_database WHERE datname = '{Database.Name}'";
        var before = await StoredOutcomes.ScalarAsync(Database, sql);
        await Task.Delay(TimeSpan.FromSeconds(2));
        return (await StoredOutcomes.ScalarAsync(Database, sql) - before) / 2.0;
    }

    private static string Shorten(string? text) => text is null ? string.Empty : text.Length > 160 ? text[..160] + "…" : text;

    private sealed record Fault(string? ExceptionType, string? Message, int Tries);
}
