using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Triage.Platform.Configuration;
using Triage.Platform.Redaction;
using Triage.Platform.Bus;
using Triage.Router.Cache;
using Triage.Router.Notifications;
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
        services.AddTriageCache(options);
        services.AddNotifications(options);
        if (options.DeadLetters.AutoReplay)
        {
            services.AddHostedService<Recovery.AutoReplay>();
        }

        if (options.Bus.UsesRabbitMq)
        {
            services.AddHostedService<QueueDepthMetrics>();
        }
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new SecretRedactor(options.Redaction.Patterns));
        return new RouterRole { Webhooks = options.Notifications.Webhooks.Count > 0 };
    }

    /// <summary>Outgoing webhooks are configured: the notifier takes every TriageCompleted on its own queue.</summary>
    private bool Webhooks { get; init; }

    public void AddConsumers(IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<BuildFailedConsumer>();
        bus.AddConsumer<AttemptFailedConsumer>();
        bus.AddConsumer<ExpiredAttemptConsumer>();
        bus.AddConsumer<TriageCompletedRecorder>();
        bus.AddConsumer<DeadLetterRecorder>();
        if (Webhooks)
        {
            bus.AddConsumer<WebhookNotifier>();
        }
    }

    public void ConfigureEndpoints(IBusRegistrationContext context, IBusFactoryConfigurator bus)
    {
        Endpoint<BuildFailedConsumer>(BusTopology.RouterQueue);
        Endpoint<AttemptFailedConsumer>(BusTopology.FailoverQueue);
        if (bus is IRabbitMqBusFactoryConfigurator)
        {
            // Bound only to the exchange the provider queues dead-letter into, never to TriageRequested itself.
            Endpoint<ExpiredAttemptConsumer>(BusTopology.ExpiredQueue, BusTopology.ExpiredExchange);
        }

        Endpoint<TriageCompletedRecorder>(BusTopology.RecorderQueue);
        Endpoint<DeadLetterRecorder>(BusTopology.DeadLetterQueue);
        if (Webhooks)
        {
            Endpoint<WebhookNotifier>(BusTopology.NotificationsQueue);
        }

        // A store or broker hiccup is retried in place; a message naming an unknown route never will succeed.
        void Endpoint<TConsumer>(string queue, string? onlyFrom = null)
            where TConsumer : class, IConsumer
        {
            bus.ReceiveEndpoint(queue, endpoint =>
            {
                endpoint.UseDurableQueue();
                if (onlyFrom is not null && endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
                {
                    endpoint.ConfigureConsumeTopology = false;
                    rabbit.Bind(onlyFrom);
                }

                endpoint.UseMessageRetry(retry =>
                {
                    retry.Ignore<UnknownRouteException>();
                    retry.Intervals(100, 500, 2000, 5000);
                });
                endpoint.ConfigureConsumer<TConsumer>(context);
            });
        }
    }
}
