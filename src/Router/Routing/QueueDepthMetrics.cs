using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using Triage.Platform.Bus;
using Triage.Platform.Configuration;
using Triage.Platform.Telemetry;

namespace Triage.Router.Routing;

/// <summary>
/// Messages waiting in each provider queue and in the dead-letter queue, read from RabbitMQ every few seconds: a
/// growing provider queue is the first sign that its pool cannot keep up.
/// </summary>
public sealed partial class QueueDepthMetrics(TriageOptions options, ILogger<QueueDepthMetrics> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, uint> depths = new();
    private Meter? meter;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        meter = new Meter(TriageTelemetry.Name);
        meter.CreateObservableGauge(
            "triage.queue.depth",
            () => depths.Select(d => new Measurement<long>(d.Value, new KeyValuePair<string, object?>("queue", d.Key))),
            "{message}",
            "Messages waiting in the gateway's queues on RabbitMQ.");
        var queues = options.Providers.Keys.Select(BusTopology.ProviderQueue).Append(BusTopology.DeadLetterQueue).ToList();
        var factory = new ConnectionFactory { Uri = new Uri(options.Bus.RabbitMq!), ClientProvidedName = "triage-queue-depth" };
        // The queues are declared as the roles start; the first reading waits for that.
        await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await using var connection = await factory.CreateConnectionAsync(stoppingToken);
                var readings = await QueueReadings.ReadAsync(connection, queues, stoppingToken);
                foreach (var queue in queues)
                {
                    if (readings.TryGetValue(queue, out var reading))
                    {
                        depths[queue] = reading.Messages;
                    }
                    else
                    {
                        depths.TryRemove(queue, out _);
                    }
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogUnreadable(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override void Dispose()
    {
        meter?.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read queue depths from RabbitMQ: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string reason);
}
