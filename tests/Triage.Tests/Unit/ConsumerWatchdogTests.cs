using Triage.Platform.Bus;

namespace Triage.Tests.Unit;

/// <summary>When a queue without a consumer gets its receive endpoint restarted, and which queues are watched.</summary>
public sealed class ConsumerWatchdogTests
{
    private static Dictionary<string, uint> Counts(params (string Queue, uint Consumers)[] counts) =>
        counts.ToDictionary(c => c.Queue, c => c.Consumers);

    [Fact]
    public void A_queue_without_a_consumer_is_restarted_at_the_third_check_in_a_row_and_every_third_after()
    {
        var missing = new MissingConsumers();

        var restarts = Enumerable.Range(1, 7)
            .Select(_ => missing.Observe(Counts(("triage-router", 0), ("triage-recorder", 1))))
            .ToList();

        Assert.Equal([false, false, true, false, false, true, false], restarts.Select(r => r.Contains("triage-router")));
        Assert.All(restarts, r => Assert.DoesNotContain("triage-recorder", r));
        Assert.Equal(7, missing.Current["triage-router"]);
    }

    [Fact]
    public void A_consumer_coming_back_clears_the_count()
    {
        var missing = new MissingConsumers();
        missing.Observe(Counts(("triage-router", 0)));
        missing.Observe(Counts(("triage-router", 0)));

        missing.Observe(Counts(("triage-router", 2)));

        Assert.Empty(missing.Current);
        Assert.Empty(missing.Observe(Counts(("triage-router", 0))));
    }

    [Fact]
    public void A_restart_that_failed_is_tried_again_at_the_next_check_without_a_consumer()
    {
        var missing = new MissingConsumers();
        missing.Observe(Counts(("triage-router", 0)));
        missing.Observe(Counts(("triage-router", 0)));
        Assert.Contains("triage-router", missing.Observe(Counts(("triage-router", 0))));

        missing.RestartFailed("triage-router");

        Assert.Contains("triage-router", missing.Observe(Counts(("triage-router", 0))));
        Assert.Empty(missing.Observe(Counts(("triage-router", 0))));
    }

    [Fact]
    public void A_failed_restart_is_forgotten_once_a_consumer_is_back()
    {
        var missing = new MissingConsumers();
        missing.RestartFailed("triage-router");

        missing.Observe(Counts(("triage-router", 1)));

        Assert.Empty(missing.Observe(Counts(("triage-router", 0))));
    }

    [Fact]
    public void Nothing_is_counted_while_the_broker_does_not_answer()
    {
        var missing = new MissingConsumers();
        missing.Observe(Counts(("triage-router", 0)));
        missing.Observe(Counts(("triage-router", 0)));

        missing.BrokerUnreachable();

        Assert.Empty(missing.Current);
        Assert.Empty(missing.Observe(Counts(("triage-router", 0))));
    }

    [Theory]
    [InlineData("rabbitmq://127.0.0.1:5672/triage/triage-router", "triage-router")]
    [InlineData("rabbitmq://127.0.0.1/triage-provider-openai?bind=false", "triage-provider-openai")]
    [InlineData("rabbitmq://127.0.0.1/vhost/host_triage_bus_abcdefgh?temporary=true", null)]
    [InlineData("loopback://localhost/triage-router", "triage-router")]
    public void Only_the_gateways_own_queues_are_watched(string address, string? queue) =>
        Assert.Equal(queue, ConsumerWatchdog.QueueOf(new Uri(address)));
}
