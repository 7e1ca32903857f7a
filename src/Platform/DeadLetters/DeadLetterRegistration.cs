using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Triage.Platform.DeadLetters;

public static class DeadLetterRegistration
{
    /// <summary>The dead-letter store, and a replayer that publishes on the process's bus.</summary>
    public static IServiceCollection AddDeadLetters(this IServiceCollection services)
    {
        services.AddSingleton<DeadLetterStore>();
        services.AddSingleton(sp => new DeadLetterReplayer(
            sp.GetRequiredService<DeadLetterStore>(),
            sp.GetRequiredService<IBus>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<DeadLetterReplayer>>()));
        return services;
    }
}
