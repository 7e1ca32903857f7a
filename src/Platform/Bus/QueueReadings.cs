using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Triage.Platform.Bus;

/// <summary>What RabbitMQ says of a queue: messages ready and consumers, as a passive declare answers them.</summary>
public sealed record QueueReading(uint Messages, uint Consumers);

public static class QueueReadings
{
    /// <summary>
    /// Reads each queue with a passive declare on <paramref name="connection"/>; a queue that does not exist is left out.
    /// One channel each: a missing queue closes its channel, and the others are still read.
    /// </summary>
    public static async Task<Dictionary<string, QueueReading>> ReadAsync(
        IConnection connection, IEnumerable<string> queues, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(queues);
        var readings = new Dictionary<string, QueueReading>(StringComparer.Ordinal);
        foreach (var queue in queues)
        {
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            try
            {
                var declared = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
                readings[queue] = new QueueReading(declared.MessageCount, declared.ConsumerCount);
            }
            catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
            {
            }
        }

        return readings;
    }
}
