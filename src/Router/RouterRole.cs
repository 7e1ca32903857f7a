using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Triage.Platform.Configuration;
using Triage.Platform.Redaction;
using Triage.Platform.Bus;
using Triage.Router.Recording;
using Triage.Router.Routing;

namespace Triage.Router;

/// <summary>The router's queue takes BuildFailed; the recorder's queue takes every TriageCompleted.</summary>
public sealed class RouterRole : IBusRole
{
    public static RouterRole Add(IServiceCollection services, TriageOptions options)
    {
        services.AddSingleton<ProviderStates>();
        services.AddSingleton<RouteTable>();
        services.AddSingleton<RoutingMetrics>();
        services.AddSingleton<TriageDispatcher>();
        services.AddSingleton<FailedAttempts>();
        if (options.Bus.UsesRabbitMq)
        {
            services.AddHostedService<QueueDepthMetrics>();
        }
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new SecretRedactor(options.Redaction.Patterns));
        return new RouterRole();
    }

    public void AddConsumers(IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<BuildFailedConsumer>();
        bus.AddConsumer<AttemptFailedConsumer>();
        bus.AddConsumer<ExpiredAttemptConsumer>();
        bus.AddConsumer<TriageCompletedRecorder>();
    }

    public void ConfigureEndpoints(IBusRegistrationContext context, IBusFactoryConfigurator bus)
    {
        bus.ReceiveEndpoint(BusTopology.RouterQueue, endpoint =>
        {
            endpoint.UseDurableQueue();
            endpoint.UseMessageRetry(retry =>
            {
                retry.Ignore<UnknownRouteException>();
                retry.Intervals(100, 500, 2000);
            });
            endpoint.ConfigureConsumer<BuildFailedConsumer>(context);
        });
        bus.ReceiveEndpoint(BusTopology.FailoverQueue, endpoint =>
        {
            endpoint.UseDurableQueue();
            endpoint.UseMessageRetry(retry =>
            {
                retry.Ignore<UnknownRouteException>();
                retry.Intervals(100, 500, 2000);
            });
            endpoint.ConfigureConsumer<AttemptFailedConsumer>(context);
        });
        if (bus is IRabbitMqBusFactoryConfigurator)
        {
            bus.ReceiveEndpoint(BusTopology.ExpiredQueue, endpoint =>
            {
                endpoint.UseDurableQueue();

                // Bound only to the exchange the provider queues dead-letter into, never to TriageRequested itself.
                endpoint.ConfigureConsumeTopology = false;
                if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
                {
                    rabbit.Bind(BusTopology.ExpiredExchange);
                }

                endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 2000));
                endpoint.ConfigureConsumer<ExpiredAttemptConsumer>(context);
            });
        }

        bus.ReceiveEndpoint(BusTopology.RecorderQueue, endpoint =>
        {
            endpoint.UseDurableQueue();
            endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 2000, 5000));
            endpoint.ConfigureConsumer<TriageCompletedRecorder>(context);
        });
    }
}
