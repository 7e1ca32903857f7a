using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Triage.Ingest.Apis;
using Triage.Platform;
using Triage.Platform.Bus;
using Triage.Platform.Configuration;
using Triage.Platform.DeadLetters;
using Triage.Platform.Keys;
using Triage.Platform.Store;
using Npgsql;
using Triage.Host.Health;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Triage.Platform.Telemetry;
using Triage.Router;
using Triage.Workers;

namespace Triage.Host.Hosting;

/// <summary>What one process hosts: which roles, on which address, and for which providers.</summary>
public sealed record HostSettings(TriageRoles Roles, string Urls, IReadOnlyCollection<string> Providers)
{
    public const string DefaultUrls = "http://127.0.0.1:8080";

    public static HostSettings All(string urls = DefaultUrls) => new(TriageRoles.All, urls, []);

    /// <summary>Changes to the registrations after the gateway's own, for a host embedding it (or a test) to replace a part.</summary>
    public Action<IServiceCollection>? Services { get; init; }
}

/// <summary>The composition root: the same code above the ports whether the bus is in memory or RabbitMQ.</summary>
public static class TriageApplication
{
    public static WebApplication Build(TriageOptions options, HostSettings settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = "triage",
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.WebHost.UseUrls(settings.Urls);
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Limits.MaxRequestBodySize = Math.Max(options.Ingest.MaxBodyBytes + (1024 * 1024), 30_000_000));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning)
            .AddFilter("MassTransit", LogLevel.Warning)
            .AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (Console.IsOutputRedirected)
        {
            // Collected by a log shipper: one JSON object a line, with the trace id of the failure it is about.
            builder.Logging.ClearProviders().AddJsonConsole(json =>
            {
                json.IncludeScopes = true;
                json.TimestampFormat = "O";
                json.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.Logging.ClearProviders().AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
            });
        }

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(TriageDatabase.From(options.Store, options.BaseDirectory));
        services.AddSingleton<RecordedTriages>();
        services.AddSingleton<ITriageStore, EfTriageStore>();
        services.AddSingleton<TriageMetrics>();
        services.AddVirtualKeys();
        services.AddDeadLetters();
        services.AddDeadLettersApi();
        services.AddSingleton<AuthFailureLimiter>();
        services.AddProblemDetails();
        var health = services.AddHealthChecks().AddCheck<StoreHealthCheck>("store", tags: ["ready"]);

        var roles = new List<IBusRole>();
        if (settings.Roles.HasFlag(TriageRoles.Router))
        {
            roles.Add(RouterRole.Add(services, options));
            health.AddCheck<RoutesHealthCheck>("routes", tags: ["ready"]);
            health.AddCheck<VectorCacheHealthCheck>("vector-cache", tags: ["ready"]);
        }

        if (settings.Roles.HasFlag(TriageRoles.Workers))
        {
            roles.Add(WorkersRole.Add(services, options, settings.Providers));
        }

        if (settings.Roles.HasFlag(TriageRoles.Ingest))
        {
            services.AddHostedService<BudgetGauge>();
        }

        services.AddTriageBus(options, roles);
        if (options.Bus.UsesRabbitMq && roles.Count > 0)
        {
            health.AddCheck<ConsumersHealthCheck>("consumers", tags: ["ready"]);
        }

        if (settings.Roles.HasFlag(TriageRoles.Ingest) && options.Bus.UsesRabbitMq)
        {
            // After the bus: hosted services start in order, and the bus declares the raw queue it consumes.
            services.AddHostedService<Triage.Ingest.Raw.RawBuildFailureListener>();
            if (!settings.Roles.HasFlag(TriageRoles.Router))
            {
                // The results are recorded in another process: ?wait= hears of them from the broker.
                services.AddHostedService<Triage.Ingest.BuildFailures.CompletedResultsListener>();
            }
        }
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("triage"))
            .WithMetrics(metrics => metrics
                .AddMeter(TriageTelemetry.Name)
                .AddPrometheusExporter());

        // Traces are recorded only when they have somewhere to go: without an OTLP endpoint nothing is sent, and
        // no span is built on the hot path for nobody.
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(TriageTelemetry.Name, TriageTelemetry.MassTransitSource)
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = http => !IsProbe(http.Request.Path))
                .AddHttpClientInstrumentation(http => http.FilterHttpRequestMessage =
                    request => !request.Options.TryGetValue(TriageTelemetry.Untraced, out var untraced) || !untraced)
                .AddNpgsql()
                .AddOtlpExporter());
        }

        settings.Services?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseStatusCodePages();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            ResponseWriter = HealthReportJson.WriteAsync,

            // A bus that is reconnecting reports itself degraded; it cannot confirm a publish, so it is not ready.
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        if (settings.Roles.HasFlag(TriageRoles.Ingest))
        {
            app.MapBuildFailuresApi();
            app.MapWebhooksApi();
            app.MapAdminApi();
            app.MapDeadLettersApi();
            app.MapUsageApi();
        }

        return app;
    }

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics");

    /// <summary>Migrates the store, then starts the bus and the web server. Returns once all are up.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        var database = app.Services.GetRequiredService<TriageDatabase>();
        await database.MigrateAsync(cancellationToken);
        await app.StartAsync(cancellationToken);
        var options = app.Services.GetRequiredService<TriageOptions>();
        var settings = app.Services.GetRequiredService<HostSettings>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Triage");
        logger.LogInformation(
            "Triage {Roles} listening on {Urls}; {Bus}; store {Store}; providers {Providers}",
            settings.Roles,
            string.Join(", ", app.Urls),
            TriageBus.Describe(options),
            database.Description,
            string.Join(", ", options.Providers.Select(p => $"{p.Key} ({p.Value.Type})")));
        if (settings.Roles.HasFlag(TriageRoles.Ingest) && !options.Auth.IsRequired(options.Store))
        {
            logger.LogWarning(
                "Ingest runs open (auth.required is off): build failures are accepted without a virtual key. "
                + "Set auth.required: true and create keys with 'triage keys create' before exposing it.");
        }
    }
}
