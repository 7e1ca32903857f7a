using Microsoft.Extensions.DependencyInjection;

namespace Triage.Platform.Keys;

public static class KeyRegistration
{
    /// <summary>Virtual keys, rate limits, budgets and usage, over the store every role already has.</summary>
    public static IServiceCollection AddVirtualKeys(this IServiceCollection services)
    {
        services.AddSingleton<VirtualKeyStore>();
        services.AddSingleton<RateLimiter>();
        services.AddSingleton<BudgetLedger>();
        services.AddSingleton<UsageReport>();
        services.AddSingleton<KeyMetrics>();
        services.AddSingleton<KeyAdmission>();
        return services;
    }
}
