using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Triage.Platform.Bus;
using Triage.Platform.Configuration;
using Triage.Platform.Store;
using Triage.Router.Routing;

namespace Triage.Host.Health;

/// <summary>The store answers a query.</summary>
internal sealed class StoreHealthCheck(TriageDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var db = database.CreateContext();
            return await db.Database.CanConnectAsync(cancellationToken)
                ? HealthCheckResult.Healthy(database.Description)
                : HealthCheckResult.Unhealthy($"{database.Description} does not answer");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{database.Description}: {e.Message}");
        }
    }
}

/// <summary>Every route still has a provider the router takes to be healthy.</summary>
internal sealed class RoutesHealthCheck(TriageOptions options, ProviderStates states) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var stranded = options.Routing
            .Where(route => !route.Value.Providers.Any(p => states.Of(p).IsHealthy))
            .Select(route => route.Key)
            .ToList();
        return Task.FromResult(stranded.Count == 0
            ? HealthCheckResult.Healthy($"{options.Routing.Count} route(s) have a healthy provider")
            : HealthCheckResult.Unhealthy($"no healthy provider for route(s) {string.Join(", ", stranded)}"));
    }
}

/// <summary>The vector cache answers: Qdrant's health endpoint, or the embedded index has loaded its collection.</summary>
internal sealed class VectorCacheHealthCheck(Triage.Router.Cache.IVectorIndex index) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await index.CheckAsync(cancellationToken);
            return HealthCheckResult.Healthy(index.Description);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{index.Description}: {e.Message}");
        }
    }
}

/// <summary>Every queue this process consumes has a consumer on RabbitMQ (see <see cref="ConsumerWatchdog"/>).</summary>
internal sealed class ConsumersHealthCheck(ConsumerWatchdog watchdog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var unconsumed = watchdog.Unconsumed
            .Where(queue => queue.Value >= MissingConsumers.ChecksBeforeUnready)
            .Select(queue => $"{queue.Key} ({queue.Value} checks)")
            .Order(StringComparer.Ordinal)
            .ToList();
        var restarts = watchdog.Restarts == 0 ? string.Empty : $"; {watchdog.Restarts} endpoint restart(s) so far";
        return Task.FromResult(unconsumed.Count == 0
            ? HealthCheckResult.Healthy($"every consumed queue has a consumer{restarts}")
            : HealthCheckResult.Unhealthy($"no consumer on RabbitMQ for {string.Join(", ", unconsumed)}{restarts}"));
    }
}

/// <summary>The readiness answer names each check, so that an operator sees which dependency is down.</summary>
internal static class HealthReportJson
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(JsonSerializer.Serialize(
            new
            {
                status = report.Status.ToString(),
                checks = report.Entries.Select(e => new
                {
                    name = e.Key,
                    status = e.Value.Status.ToString(),
                    description = e.Value.Description ?? e.Value.Exception?.Message,
                    durationMs = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
                }),
            },
            Json));
    }
}
