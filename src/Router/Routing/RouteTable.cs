using Triage.Platform.Configuration;

namespace Triage.Router.Routing;

/// <summary>Which provider a route's triage goes to first. Weighted, capacity-aware choice comes with health tracking.</summary>
public sealed class RouteTable(TriageOptions options)
{
    public string FirstProvider(string route) =>
        options.Routing.TryGetValue(route, out var entry)
            ? entry.Providers[0]
            : throw new UnknownRouteException(route, options.Routing.Keys);
}

/// <summary>A message names a route triage.yaml does not have; retrying cannot help.</summary>
public sealed class UnknownRouteException(string route, IEnumerable<string> known)
    : Exception($"Route '{route}' is not configured; the routes are {string.Join(", ", known)}.");
