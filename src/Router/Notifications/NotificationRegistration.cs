using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Triage.Platform.Configuration;

namespace Triage.Router.Notifications;

public static class NotificationRegistration
{
    /// <summary>
    /// The plain JSON publisher of the results recorder (a no-op on the in-memory bus) and, when
    /// <c>notifications.webhooks</c> is set, what the <see cref="WebhookNotifier"/> needs.
    /// </summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services, TriageOptions options)
    {
        services.TryAddSingleton<NotificationMetrics>();
        if (options.Bus.UsesRabbitMq)
        {
            services.TryAddSingleton<IPlainJsonPublisher, RabbitMqPlainJsonPublisher>();
        }
        else
        {
            services.TryAddSingleton<IPlainJsonPublisher, NoPlainJsonPublisher>();
        }

        if (options.Notifications.Webhooks.Count > 0)
        {
            services.TryAddSingleton(TimeProvider.System);
            services.TryAddSingleton<OutgoingWebhooks>();
            services.TryAddSingleton<RecentEvents>();

            // The pipeline of each webhook times each try out; a redirect is a refusal, not a place to send a signed body.
            // The factory's own logs name the URL, which for Slack is the secret: they are off.
            services.AddHttpClient(WebhookNotifier.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
                .RemoveAllLoggers();
        }

        return services;
    }
}
