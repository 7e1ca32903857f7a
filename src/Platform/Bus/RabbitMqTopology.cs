using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using Triage.Platform.Configuration;

namespace Triage.Platform.Bus;

/// <summary>
/// Declares the gateway's own queues on RabbitMQ before any role starts, whichever roles this process hosts.
/// Without it a message sent before its consumer first ran would find no queue and be dropped by the broker;
/// and the router could not send to a provider's quorum queue by its <c>queue:</c> address, because such a
/// send declares the queue as a classic one, which RabbitMQ refuses once the quorum queue exists.
/// The declarations are the ones MassTransit makes for a receive endpoint, so both agree.
/// </summary>
public sealed partial class RabbitMqTopology(TriageOptions options, ILogger<RabbitMqTopology> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(options.Bus.RabbitMq!), ClientProvidedName = "triage-topology" };
        var attempt = 0;
        while (true)
        {
            try
            {
                await DeclareAsync(factory, cancellationToken);
                return;
            }
            catch (Exception e) when (e is RabbitMQ.Client.Exceptions.BrokerUnreachableException && ++attempt < 30)
            {
                LogWaiting(logger, attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task DeclareAsync(ConnectionFactory factory, CancellationToken cancellationToken)
    {
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        foreach (var queue in BusTopology.Queues(options))
        {
            await channel.ExchangeDeclareAsync(queue.Name, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueDeclareAsync(queue.Name, durable: true, exclusive: false, autoDelete: false, arguments: queue.Arguments, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(queue.Name, queue.Name, string.Empty, cancellationToken: cancellationToken);
            if (queue.MessageExchange is { } exchange)
            {
                await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
                await channel.ExchangeBindAsync(queue.Name, exchange, string.Empty, cancellationToken: cancellationToken);
            }
        }

        foreach (var exchange in BusTopology.Exchanges)
        {
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "RabbitMQ is not reachable yet (attempt {Attempt}): {Reason}")]
    private static partial void LogWaiting(ILogger logger, int attempt, string reason);
}
