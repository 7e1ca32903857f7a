using Triage.Platform.Configuration;

namespace Triage.Router.Routing;

/// <summary>
/// The one owner of which provider a triage goes to next. A first attempt is spread by weight over the route's
/// providers that are healthy and have free capacity; when all of those are full it spills to the route's other
/// providers in their order; a failover takes the next provider in route order that was not tried and is available.
/// </summary>
public sealed class RouteTable
{
    private readonly Dictionary<string, (RouteOptions Options, IReadOnlyList<ProviderState> Providers, WeightedCapacityPolicy Policy)> routes =
        new(StringComparer.OrdinalIgnoreCase);

    public RouteTable(TriageOptions options, ProviderStates states)
    {
        foreach (var (name, route) in options.Routing)
        {
            routes[name] = (route, route.Providers.Select(states.Of).ToList(), new WeightedCapacityPolicy());
        }
    }

    public RouteOptions Options(string route) => Route(route).Options;

    public bool Knows(string route) => routes.ContainsKey(route);

    public IEnumerable<string> Names => routes.Keys;

    /// <summary>The provider for the next attempt, already counted as sent; null when none is left to try.</summary>
    public ProviderState? Choose(string route, IReadOnlyCollection<string> tried, DateTimeOffset now)
    {
        var (options, providers, policy) = Route(route);
        if (tried.Count > 0 && !options.Failover)
        {
            return null;
        }

        var untried = providers.Where(p => !tried.Contains(p.Name, StringComparer.OrdinalIgnoreCase)).ToList();
        var weighted = tried.Count == 0 ? policy.Pick(untried, now) : null;
        IEnumerable<ProviderState> choices = weighted is null ? [] : [weighted];

        // Spill-over and failover: route order, first those with room, then those that are merely available.
        foreach (var provider in choices
            .Concat(untried.Where(p => p.HasFreeCapacity && p.IsAvailable(now)))
            .Concat(untried.Where(p => p.IsAvailable(now)).OrderBy(p => (double)p.Outstanding / p.Capacity)))
        {
            if (provider.TryReserve(now))
            {
                return provider;
            }
        }

        return null;
    }

    private (RouteOptions Options, IReadOnlyList<ProviderState> Providers, WeightedCapacityPolicy Policy) Route(string route) =>
        routes.TryGetValue(route, out var entry) ? entry : throw new UnknownRouteException(route, routes.Keys);
}

/// <summary>A message names a route triage.yaml does not have; retrying cannot help.</summary>
public sealed class UnknownRouteException(string route, IEnumerable<string> known)
    : Exception($"Route '{route}' is not configured; the routes are {string.Join(", ", known)}.");
