using Triage.Platform.Configuration;
using Triage.Router.Routing;

namespace Triage.Tests.Unit;

public sealed class RoutingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Over_ten_thousand_triages_weights_70_30_split_within_two_points()
    {
        var table = Table(("a", 70, 1000), ("b", 30, 1000));
        var counts = new Dictionary<string, int> { ["a"] = 0, ["b"] = 0 };

        for (var i = 0; i < 10_000; i++)
        {
            var provider = table.Routes.Choose("r", [], Now)!;
            counts[provider.Name]++;
            provider.Succeeded(DateTimeOffset.UtcNow);
        }

        output.WriteLine($"10,000 triages at weights 70/30: a {counts["a"]}, b {counts["b"]}");
        Assert.InRange(counts["a"] / 100.0, 68, 72);
        Assert.InRange(counts["b"] / 100.0, 28, 32);
    }

    [Fact]
    public void A_provider_with_weight_zero_only_receives_failover()
    {
        var table = Table(("a", 1, 1000), ("spare", 0, 1000));

        var first = Enumerable.Range(0, 100).Select(_ => Take(table, [])).ToList();
        var failover = table.Routes.Choose("r", ["a"], Now);

        Assert.All(first, p => Assert.Equal("a", p));
        Assert.Equal("spare", failover?.Name);
    }

    [Fact]
    public void A_full_provider_spills_to_the_next_instead_of_queueing()
    {
        var table = Table(("a", 100, 2), ("b", 1, 5));

        var picks = Enumerable.Range(0, 4).Select(_ => table.Routes.Choose("r", [], Now)!.Name).ToList();

        Assert.Equal(2, picks.Count(p => p == "a"));
        Assert.Equal(2, picks.Count(p => p == "b"));
        Assert.Equal(2, table.States.Of("a").Outstanding);
    }

    [Fact]
    public void When_every_provider_is_full_the_least_loaded_still_gets_the_triage()
    {
        var table = Table(("a", 1, 1), ("b", 1, 2));
        for (var i = 0; i < 3; i++)
        {
            table.Routes.Choose("r", [], Now);
        }

        var overflow = table.Routes.Choose("r", [], Now);

        Assert.NotNull(overflow);
        Assert.Equal(4, table.States.All.Sum(s => s.Outstanding));
    }

    [Fact]
    public void Failover_takes_the_next_untried_provider_in_route_order_and_none_when_all_were_tried()
    {
        var table = Table(("a", 50, 10), ("b", 50, 10), ("c", 0, 10));

        Assert.Equal("b", table.Routes.Choose("r", ["a"], Now)?.Name);
        Assert.Equal("c", table.Routes.Choose("r", ["a", "b"], Now)?.Name);
        Assert.Null(table.Routes.Choose("r", ["a", "b", "c"], Now));
    }

    [Fact]
    public void A_route_without_failover_gets_no_second_attempt()
    {
        var table = Table(failover: false, ("a", 1, 10), ("b", 1, 10));

        Assert.Null(table.Routes.Choose("r", ["a"], Now));
    }

    [Fact]
    public void Consecutive_failures_take_a_provider_out_until_a_single_probe_after_the_cooldown_brings_it_back()
    {
        var table = Table(("a", 50, 100), ("b", 50, 100));
        var a = table.States.Of("a");
        for (var i = 0; i < ProviderState.FailuresToMarkDown; i++)
        {
            Assert.True(a.TryReserve(Now));
            a.Failed(Now, againstHealth: true);
        }

        Assert.False(a.IsHealthy);
        var whileDown = Enumerable.Range(0, 50).Select(_ => Take(table, [])).ToList();
        var afterCooldown = Now.AddSeconds(31);
        var probe = table.Routes.Choose("r", [], afterCooldown);
        var duringProbe = Enumerable.Range(0, 10).Select(_ => Take(table, [], afterCooldown)).ToList();
        probe!.Succeeded(DateTimeOffset.UtcNow);
        var recovered = Enumerable.Range(0, 10).Select(_ => Take(table, [], afterCooldown)).ToList();

        Assert.All(whileDown, p => Assert.Equal("b", p));
        Assert.Equal("a", probe.Name);
        Assert.All(duringProbe, p => Assert.Equal("b", p));
        Assert.Contains("a", recovered);
        Assert.True(a.IsHealthy);
    }

    [Fact]
    public void A_failed_probe_starts_a_new_cooldown_and_bad_requests_do_not_count_against_health()
    {
        var table = Table(("a", 1, 100));
        var a = table.States.Of("a");
        a.TryReserve(Now);
        a.CircuitOpened(Now);
        var probeAt = Now.AddSeconds(30);
        Assert.True(a.TryReserve(probeAt));
        a.Failed(probeAt, againstHealth: true);

        Assert.False(a.IsAvailable(probeAt.AddSeconds(29)));
        Assert.True(a.IsAvailable(probeAt.AddSeconds(30)));

        var b = Table(("b", 1, 100)).States.Of("b");
        for (var i = 0; i < 10; i++)
        {
            b.TryReserve(Now);
            b.Failed(Now, againstHealth: false);
        }

        Assert.True(b.IsHealthy);
    }

    [Fact]
    public void A_reservation_that_was_never_sent_gives_its_place_back()
    {
        var table = Table(("a", 1, 1));
        var a = table.Routes.Choose("r", [], Now)!;

        a.Unreserve();

        Assert.Equal(0, a.Outstanding);
        Assert.True(a.IsHealthy);
        Assert.Same(a, table.Routes.Choose("r", [], Now));
    }

    private static string Take((RouteTable Routes, ProviderStates States) table, string[] tried, DateTimeOffset? at = null)
    {
        var provider = table.Routes.Choose("r", tried, at ?? Now)!;
        provider.Succeeded(DateTimeOffset.UtcNow);
        return provider.Name;
    }

    private static (RouteTable Routes, ProviderStates States) Table(params (string Name, int Weight, int Capacity)[] providers) =>
        Table(true, providers);

    private static (RouteTable Routes, ProviderStates States) Table(bool failover, params (string Name, int Weight, int Capacity)[] providers)
    {
        var options = new TriageOptions();
        foreach (var (name, weight, capacity) in providers)
        {
            options.Providers[name] = new ProviderOptions { Type = ProviderType.Builtin, Weight = weight, Capacity = capacity, BreakDurationMs = 30_000 };
        }

        options.Routing["r"] = new RouteOptions { Providers = providers.Select(p => p.Name).ToList(), Failover = failover };
        var states = new ProviderStates(options);
        return (new RouteTable(options, states), states);
    }
}
