using MassTransit;
using Triage.Contracts;
using Triage.Platform.Configuration;

namespace Triage.Platform.Bus;

/// <summary>
/// The names on the broker that producers and subscribers outside this process depend on. They are stable
/// and documented: changing one breaks every Jenkins job that publishes to it.
/// </summary>
public static class BusTopology
{
    public const string BuildFailedExchange = "triage.build-failed";
    public const string TriageRequestedExchange = "triage.triage-requested";
    public const string TriageCompletedExchange = "triage.triage-completed";
    public const string AttemptFailedExchange = "triage.attempt-failed";
    public const string DeadLetteredExchange = "triage.triage-dead-lettered";
    public const string RouterQueue = "triage-router";
    public const string FailoverQueue = "triage-failover";

    /// <summary>Where a provider queue dead-letters the requests that expired in it (its pool is slow, stuck or not running).</summary>
    public const string ExpiredExchange = "triage.attempt-expired";
    public const string ExpiredQueue = "triage-expired";

    /// <summary>Where dead letters wait, durably, until they are replayed.</summary>
    public const string DeadLetterQueue = "triage-dead-letters";

    /// <summary>Where build systems publish raw JSON build failures (no MassTransit envelope): a documented exchange.</summary>
    public const string RawExchange = "triage.build-failed.raw";

    public const string RawQueue = "triage-raw-build-failures";

    /// <summary>Raw messages that could not be read, with the reason in the <c>x-triage-reason</c> header.</summary>
    public const string RawParkedQueue = "triage-raw-parked";
    public const string RecorderQueue = "triage-recorder";

    /// <summary>
    /// Where the router publishes the first recorded result of each failure as plain camelCase JSON, without
    /// MassTransit's envelope, for subscribers in any language: a documented exchange (docs/contracts/README.md).
    /// </summary>
    public const string CompletedJsonExchange = "triage.completed.json";

    /// <summary>The router's webhook notifier takes every TriageCompleted from here; declared only when webhooks are configured.</summary>
    public const string NotificationsQueue = "triage-notifications";

    /// <summary>Exchanges the gateway declares without a queue of its own: subscribers bind theirs.</summary>
    public static IReadOnlyList<string> Exchanges { get; } = [CompletedJsonExchange];

    public static string ProviderQueue(string provider) => $"triage-provider-{provider}";

    /// <summary>
    /// Where the router sends a provider's requests. On RabbitMQ it is the exchange in front of the pool's quorum
    /// queue (see <see cref="RabbitMqTopology"/>), since a <c>queue:</c> send would declare the queue as classic.
    /// </summary>
    public static Uri ProviderQueueAddress(string provider, bool rabbitMq) =>
        new($"{(rabbitMq ? "exchange" : "queue")}:{ProviderQueue(provider)}");

    internal static void NameExchanges(IBusFactoryConfigurator bus)
    {
        bus.Message<BuildFailed>(m => m.SetEntityName(BuildFailedExchange));
        bus.Message<TriageRequested>(m => m.SetEntityName(TriageRequestedExchange));
        bus.Message<TriageCompleted>(m => m.SetEntityName(TriageCompletedExchange));
        bus.Message<TriageAttemptFailed>(m => m.SetEntityName(AttemptFailedExchange));
        bus.Message<TriageDeadLettered>(m => m.SetEntityName(DeadLetteredExchange));
    }

    /// <summary>
    /// The arguments of a provider's queue on RabbitMQ: a quorum queue whose requests expire after the longest
    /// timeout of the routes that use the provider and are then dead-lettered to the router for failover. A queue's
    /// arguments cannot change once it exists, and every declaration must repeat them exactly (same types too).
    /// </summary>
    public static Dictionary<string, object?> ProviderQueueArguments(TriageOptions options, string provider) => new()
    {
        ["x-queue-type"] = "quorum",
        ["x-message-ttl"] = ProviderQueueTtlMs(options, provider),
        ["x-dead-letter-exchange"] = ExpiredExchange,
    };

    /// <summary>
    /// Every queue the gateway owns on RabbitMQ, with the exchange whose messages it takes (besides its own exchange of
    /// the same name) and its arguments: the one list that is declared at start and checked by <c>triage doctor</c>.
    /// </summary>
    public static IReadOnlyList<GatewayQueue> Queues(TriageOptions options)
    {
        static Dictionary<string, object?> Quorum() => new() { ["x-queue-type"] = "quorum" };
        List<GatewayQueue> queues =
        [
            new(RouterQueue, BuildFailedExchange, Quorum()),
            new(RecorderQueue, TriageCompletedExchange, Quorum()),
            new(FailoverQueue, AttemptFailedExchange, Quorum()),

            // The router's dead-letter recorder keeps each in the store, where it is grouped and replayed.
            new(DeadLetterQueue, DeadLetteredExchange, Quorum()),
            new(ExpiredQueue, ExpiredExchange, Quorum()),
            new(RawQueue, RawExchange, Quorum()),
            new(RawParkedQueue, null, Quorum()),
        ];
        queues.AddRange(options.Providers.Keys.Select(p => new GatewayQueue(ProviderQueue(p), null, ProviderQueueArguments(options, p))));

        // Without a webhook nobody would consume it, and every triage would pile up in it.
        if (options.Notifications.Webhooks.Count > 0)
        {
            queues.Add(new(NotificationsQueue, TriageCompletedExchange, Quorum()));
        }

        return queues;
    }

    public static int ProviderQueueTtlMs(TriageOptions options, string provider) =>
        options.Routing.Values.Where(r => r.Providers.Contains(provider, StringComparer.OrdinalIgnoreCase))
            .Select(r => r.TimeoutMs)
            .DefaultIfEmpty(options.Providers.TryGetValue(provider, out var p) ? p.TimeoutMs : 30_000)
            .Max();

    /// <summary>On RabbitMQ the gateway's own queues are quorum queues: replicated, and they survive a node restart.</summary>
    public static void UseDurableQueue(this IReceiveEndpointConfigurator endpoint)
    {
        if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }
    }
}

/// <summary>A queue of the gateway on RabbitMQ; see <see cref="BusTopology.Queues"/>.</summary>
public sealed record GatewayQueue(string Name, string? MessageExchange, Dictionary<string, object?> Arguments);
