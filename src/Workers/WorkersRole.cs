using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Triage.Platform.Redaction;
using Triage.Workers.Ownership;
using Triage.Workers.Prompt;
using Triage.Platform.Bus;
using Triage.Platform.Configuration;
using Triage.Workers.Pools;
using Triage.Workers.Providers;

namespace Triage.Workers;

/// <summary>
/// One pool per provider, each on its own queue <c>triage-provider-{name}</c>. A pool's concurrency is the
/// provider's capacity in this process; more capacity comes from more processes on the same queue.
/// </summary>
public sealed class WorkersRole(TriageOptions options, IReadOnlyCollection<string> onlyProviders) : IBusRole
{
    public static WorkersRole Add(IServiceCollection services, TriageOptions options, IReadOnlyCollection<string>? onlyProviders = null)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new SecretRedactor(options.Redaction.Patterns));
        services.AddSingleton<OwnershipDirectory>();
        services.AddSingleton<TriagePrompt>();
        services.AddSingleton<ProviderRegistry>();
        services.AddSingleton<Providers.Resilience.CircuitMetrics>();
        services.AddHostedService<PoolWarmUp>();
        return new WorkersRole(options, onlyProviders ?? []);
    }

    /// <summary>Builds the providers at start: a configuration they reject fails the start, and their metrics exist from the first scrape.</summary>
    private sealed class PoolWarmUp(IServiceProvider services) : Microsoft.Extensions.Hosting.IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            services.GetRequiredService<Providers.Resilience.CircuitMetrics>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public void AddConsumers(IBusRegistrationConfigurator bus) => bus.AddConsumer<TriageRequestedConsumer>();

    public void ConfigureEndpoints(IBusRegistrationContext context, IBusFactoryConfigurator bus)
    {
        foreach (var (name, provider) in options.Providers)
        {
            if (onlyProviders.Count > 0 && !onlyProviders.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            bus.ReceiveEndpoint(BusTopology.ProviderQueue(name), endpoint =>
            {
                if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
                {
                    foreach (var (key, value) in BusTopology.ProviderQueueArguments(options, name))
                    {
                        rabbit.SetQueueArgument(key, value);
                    }
                }

                // The pool takes only what the router sends it; a published TriageRequested must not reach every pool.
                endpoint.ConfigureConsumeTopology = false;
                endpoint.ConcurrentMessageLimit = provider.Capacity;
                endpoint.PrefetchCount = provider.Capacity * 2;
                endpoint.ConfigureConsumer<TriageRequestedConsumer>(context);
            });
        }
    }
}
