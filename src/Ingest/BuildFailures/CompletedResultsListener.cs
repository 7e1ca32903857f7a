using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Triage.Platform.Bus;
using Triage.Platform.Configuration;
using Triage.Platform.Store;

namespace Triage.Ingest.BuildFailures;

/// <summary>
/// Wakes the requests held by <c>?wait=</c> in an Ingest process without a router: the result is recorded in another
/// process, so the store cannot tell this one. Every recorded result is published on <c>triage.completed.json</c> with
/// the event id as its message id; this listener reads them from a queue of its own (exclusive, deleted with its
/// connection, no acknowledgements) and tells <see cref="RecordedTriages"/>, whose waiters then read the store. Only
/// the message id is read. A dead letter is not published there: its waiters find it by polling, as before.
/// </summary>
public sealed partial class CompletedResultsListener(TriageOptions options, RecordedTriages recorded, ILogger<CompletedResultsListener> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(options.Bus.RabbitMq!), ClientProvidedName = "triage ingest results" };
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await factory.CreateConnectionAsync(stoppingToken);
                await using var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
                var queue = await channel.QueueDeclareAsync(
                    string.Empty, durable: false, exclusive: true, autoDelete: true, cancellationToken: stoppingToken);
                await channel.QueueBindAsync(queue.QueueName, BusTopology.CompletedJsonExchange, string.Empty, cancellationToken: stoppingToken);
                var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                channel.ChannelShutdownAsync += (_, _) =>
                {
                    closed.TrySetResult();
                    return Task.CompletedTask;
                };
                var consumer = new AsyncEventingBasicConsumer(channel);
                consumer.ReceivedAsync += (_, delivery) =>
                {
                    if (delivery.BasicProperties.MessageId is { Length: > 0 } eventId)
                    {
                        recorded.Recorded(eventId);
                    }

                    return Task.CompletedTask;
                };
                await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer, stoppingToken);

                // Until the broker closes the channel (a restart): then a new queue on a new connection.
                await closed.Task.WaitAsync(stoppingToken);
                LogReconnecting(logger, "the channel was closed");
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogReconnecting(logger, e.Message);
            }

            await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Not listening to triage.completed.json ({Reason}); requests held by ?wait= find their results by polling until it reconnects")]
    private static partial void LogReconnecting(ILogger logger, string reason);
}
