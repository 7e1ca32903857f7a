using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using Triage.Platform.Configuration;

namespace Triage.Platform.Bus;

/// <summary>
/// Restarts a receive endpoint that has lost its consumer without noticing. After RabbitMQ restarts under load,
/// MassTransit 8.5 can report an endpoint ready while the broker lists no consumer on its queue, and nothing restarts
/// it: the queue fills while the process looks healthy. Every <c>bus.consumer_check_seconds</c> this reads the
/// consumer count of each queue the process consumes, with a passive declare on a connection of its own; a queue
/// found without a consumer <see cref="MissingConsumers.ChecksBeforeRestart"/> times in a row while the broker
/// answers has its endpoint stopped and started again, and readiness names it until a consumer is back.
/// </summary>
/// <remarks>
/// The count is the queue's, not this process's: where several processes consume one queue, a consumer lost by one of
/// them goes unseen as long as another consumes. Work is then slower, never stuck.
/// </remarks>
public sealed partial class ConsumerWatchdog(TriageOptions options, ILogger<ConsumerWatchdog> logger)
    : BackgroundService, IReceiveEndpointObserver
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private readonly ConcurrentDictionary<string, IReceiveEndpoint> endpoints = new(StringComparer.Ordinal);
    private readonly MissingConsumers missing = new();
    private int restarts;

    /// <summary>Queues this process consumes that had no consumer at the last check, with how many checks in a row.</summary>
    public IReadOnlyDictionary<string, int> Unconsumed => missing.Current;

    /// <summary>Receive endpoints this process restarted because their queue had lost its consumer.</summary>
    public int Restarts => Volatile.Read(ref restarts);

    public Task Ready(ReceiveEndpointReady ready)
    {
        if (ready.IsStarted && QueueOf(ready.InputAddress) is { } queue)
        {
            endpoints[queue] = ready.ReceiveEndpoint;
        }

        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;

    /// <summary>The queue of one of the gateway's own endpoints (triage-…); null for MassTransit's temporary ones.</summary>
    public static string? QueueOf(Uri inputAddress)
    {
        ArgumentNullException.ThrowIfNull(inputAddress);
        var queue = inputAddress.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        return queue is not null && queue.StartsWith("triage-", StringComparison.Ordinal) ? queue : null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Bus.UsesRabbitMq || options.Bus.ConsumerCheckSeconds <= 0)
        {
            return;
        }

        var factory = new ConnectionFactory { Uri = new Uri(options.Bus.RabbitMq!), ClientProvidedName = "triage-consumer-check" };
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Bus.ConsumerCheckSeconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (endpoints.IsEmpty)
            {
                continue;
            }

            if (await CountConsumersAsync(factory, stoppingToken) is not { } counts)
            {
                // The broker does not answer: MassTransit reconnects on its own, and readiness already says so.
                missing.BrokerUnreachable();
                continue;
            }

            // Each endpoint on its own: one whose stop hangs must not hold the others back.
            await Task.WhenAll(missing.Observe(counts).Select(queue => RestartAsync(queue, stoppingToken)));
        }
    }

    private async Task<Dictionary<string, uint>?> CountConsumersAsync(ConnectionFactory factory, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await factory.CreateConnectionAsync(cancellationToken);
            var queues = endpoints.Keys.ToList();
            var readings = await QueueReadings.ReadAsync(connection, queues, cancellationToken);

            // Missing counts as no consumer: a restarted endpoint declares its queue again.
            return queues.ToDictionary(
                queue => queue, queue => readings.TryGetValue(queue, out var reading) ? reading.Consumers : 0u, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogUnreadable(logger, e.Message);
            return null;
        }
    }

    private async Task RestartAsync(string queue, CancellationToken stoppingToken)
    {
        if (!endpoints.TryGetValue(queue, out var endpoint))
        {
            return;
        }

        LogRestarting(logger, queue, MissingConsumers.ChecksBeforeRestart, options.Bus.ConsumerCheckSeconds);
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            stop.CancelAfter(StopTimeout);
            await endpoint.Stop(stop.Token);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // A stop that throws or times out on a dead channel may still finish in the background: start anyway.
            LogStopFailed(logger, queue, e.Message);
        }

        try
        {
            endpoint.Start(stoppingToken);
            Interlocked.Increment(ref restarts);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // MassTransit refuses to start an endpoint whose stop has not finished: the next check tries again, and
            // readiness names the queue meanwhile, so an orchestrator can replace the process if it never succeeds.
            missing.RestartFailed(queue);
            LogRestartFailed(logger, e, queue);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read consumer counts from RabbitMQ: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Queue {Queue} has had no consumer for {Checks} checks {Seconds} s apart while RabbitMQ answers; restarting its receive endpoint")]
    private static partial void LogRestarting(ILogger logger, string queue, int checks, int seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The receive endpoint of {Queue} did not stop cleanly ({Reason}); starting it anyway")]
    private static partial void LogStopFailed(ILogger logger, string queue, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not restart the receive endpoint of {Queue}; the next check tries again, and readiness reports it")]
    private static partial void LogRestartFailed(ILogger logger, Exception exception, string queue);
}

/// <summary>Which consumed queues had no consumer at how many checks in a row, and when to restart their endpoint.</summary>
public sealed class MissingConsumers
{
    /// <summary>Checks in a row without a consumer before the endpoint is restarted: MassTransit gets the first two.</summary>
    public const int ChecksBeforeRestart = 3;

    /// <summary>Checks in a row without a consumer from which readiness reports the queue: one is a consumer between channels.</summary>
    public const int ChecksBeforeUnready = 2;

    private readonly ConcurrentDictionary<string, int> misses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> failedRestarts = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, int> Current => misses;

    /// <summary>Takes one check's consumer counts; returns the queues whose endpoint should be restarted now.</summary>
    public IReadOnlyList<string> Observe(IReadOnlyDictionary<string, uint> consumers)
    {
        ArgumentNullException.ThrowIfNull(consumers);
        var restart = new List<string>();
        foreach (var (queue, count) in consumers)
        {
            if (count > 0)
            {
                misses.TryRemove(queue, out _);
                failedRestarts.TryRemove(queue, out _);
                continue;
            }

            // Every third check in a row: a restarted endpoint gets as long as MassTransit had to get its consumer back.
            // A restart that failed is tried again at the next check: nothing is consuming meanwhile.
            var inARow = misses.AddOrUpdate(queue, 1, (_, before) => before + 1);
            if (inARow % ChecksBeforeRestart == 0 || failedRestarts.TryRemove(queue, out _))
            {
                restart.Add(queue);
            }
        }

        return restart;
    }

    /// <summary>The endpoint of <paramref name="queue"/> could not be started again: the next check without a consumer retries.</summary>
    public void RestartFailed(string queue) => failedRestarts[queue] = true;

    /// <summary>While the broker does not answer nothing is counted: MassTransit is reconnecting.</summary>
    public void BrokerUnreachable()
    {
        misses.Clear();
        failedRestarts.Clear();
    }
}
