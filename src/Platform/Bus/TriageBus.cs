using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Triage.Platform.Configuration;

namespace Triage.Platform.Bus;

/// <summary>What a role puts on the bus: its consumers, and the receive endpoints they listen on.</summary>
public interface IBusRole
{
    void AddConsumers(IBusRegistrationConfigurator bus);

    void ConfigureEndpoints(IBusRegistrationContext context, IBusFactoryConfigurator bus);
}

public static class TriageBus
{
    /// <summary>RabbitMQ when <c>bus.rabbitmq</c> is set, else the in-memory transport; the roles above do not know which.</summary>
    public static IServiceCollection AddTriageBus(this IServiceCollection services, TriageOptions options, IReadOnlyList<IBusRole> roles)
    {
        services.Configure<MassTransitHostOptions>(host =>
        {
            // Ingest must not answer 202 before the bus can confirm a publish.
            host.WaitUntilStarted = true;
            host.StartTimeout = TimeSpan.FromSeconds(60);
            host.StopTimeout = TimeSpan.FromSeconds(30);
        });

        if (options.Bus.UsesRabbitMq)
        {
            // Registered before the bus so that the queues exist before any role sends or consumes.
            services.AddHostedService<RabbitMqTopology>();
            services.AddSingleton<ConsumerWatchdog>();
            services.AddReceiveEndpointObserver(provider => provider.GetRequiredService<ConsumerWatchdog>());
            services.AddHostedService(provider => provider.GetRequiredService<ConsumerWatchdog>());
        }

        services.AddMassTransit(bus =>
        {
            foreach (var role in roles)
            {
                role.AddConsumers(bus);
            }

            if (string.IsNullOrWhiteSpace(options.Bus.RabbitMq))
            {
                bus.UsingInMemory((context, memory) => Configure(context, memory));
            }
            else
            {
                bus.UsingRabbitMq((context, rabbit) =>
                {
                    rabbit.Host(new Uri(options.Bus.RabbitMq));
                    Configure(context, rabbit);
                });
            }
        });
        return services;

        void Configure(IBusRegistrationContext context, IBusFactoryConfigurator bus)
        {
            BusTopology.NameExchanges(bus);
            foreach (var role in roles)
            {
                role.ConfigureEndpoints(context, bus);
            }
        }
    }

    /// <summary>The broker's address for logs, without credentials.</summary>
    public static string Describe(TriageOptions options) =>
        string.IsNullOrWhiteSpace(options.Bus.RabbitMq)
            ? "in-memory bus"
            : $"RabbitMQ {new Uri(options.Bus.RabbitMq).GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)}";
}
