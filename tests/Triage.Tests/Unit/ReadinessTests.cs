using Microsoft.Extensions.Diagnostics.HealthChecks;
using Triage.Host.Health;
using Triage.Platform.Configuration;
using Triage.Router.Routing;

namespace Triage.Tests.Unit;

public sealed class ReadinessTests
{
    [Fact]
    public async Task A_route_whose_every_provider_is_down_makes_the_router_unready_and_names_the_route()
    {
        var options = new TriageOptions();
        options.Providers["a"] = new ProviderOptions { Type = ProviderType.Builtin };
        options.Providers["b"] = new ProviderOptions { Type = ProviderType.Builtin };
        options.Routing["only_a"] = new RouteOptions { Providers = ["a"] };
        options.Routing["both"] = new RouteOptions { Providers = ["a", "b"] };
        var states = new ProviderStates(options);
        var check = new RoutesHealthCheck(options, states);
        var now = DateTimeOffset.UtcNow;

        var before = await check.CheckHealthAsync(new HealthCheckContext());
        states.Of("a").TryReserve(now);
        states.Of("a").CircuitOpened(now);
        var after = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, before.Status);
        Assert.Equal(HealthStatus.Unhealthy, after.Status);
        Assert.Contains("only_a", after.Description);
        Assert.DoesNotContain("both", after.Description);
    }
}
