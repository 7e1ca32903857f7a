using System.Diagnostics;
using System.Threading.Channels;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Triage.Fakes;

/// <summary>A message as a subscriber received it: when (a <see cref="Stopwatch"/> timestamp), its properties and body.</summary>
public sealed record ReceivedMessage(long ArrivedAt, IReadOnlyBasicProperties Properties, byte[] Body)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);
}

/// <summary>Reads a message in place, while the client still owns its body (no copy: what the bench does under load).</summary>
public delegate void MessageReader(long arrivedAt, IReadOnlyBasicProperties properties, ReadOnlySpan<byte> body);

/// <summary>
/// A subscriber of an exchange as any service would bind one: an exclusive queue of its own, bound to the exchange,
/// pushed to. Messages go to a <see cref="MessageReader"/> as they arrive, or wait for <see cref="NextAsync"/>.
/// </summary>
public sealed class ExchangeSubscriber : IAsyncDisposable
{
    private readonly IConnection connection;
    private readonly IChannel channel;
    private readonly Channel<ReceivedMessage> arrived = Channel.CreateUnbounded<ReceivedMessage>();

    private ExchangeSubscriber(IConnection connection, IChannel channel, string queue)
    {
        this.connection = connection;
        this.channel = channel;
        Queue = queue;
    }

    public string Queue { get; }

    /// <param name="reader">Sees each message as it arrives; without one, messages are kept for <see cref="NextAsync"/>.</param>
    public static async Task<ExchangeSubscriber> BindAsync(string amqp, string exchange, MessageReader? reader = null, CancellationToken cancellationToken = default)
    {
        var factory = new ConnectionFactory { Uri = new Uri(amqp), ClientProvidedName = "triage-subscriber" };
        var connection = await factory.CreateConnectionAsync(cancellationToken);
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);

        // Named here rather than by the broker, so that the client's recovery declares and binds it again after a restart.
        var queue = $"triage-subscriber-{Guid.NewGuid():N}";
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: true, autoDelete: true, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(queue, exchange, string.Empty, cancellationToken: cancellationToken);
        var subscriber = new ExchangeSubscriber(connection, channel, queue);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            var at = Stopwatch.GetTimestamp();
            if (reader is not null)
            {
                reader(at, delivery.BasicProperties, delivery.Body.Span);
            }
            else
            {
                subscriber.arrived.Writer.TryWrite(new ReceivedMessage(at, delivery.BasicProperties, delivery.Body.ToArray()));
            }

            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue, autoAck: true, consumer, cancellationToken);
        return subscriber;
    }

    /// <summary>The next message kept; a <see cref="TimeoutException"/> when none arrives within 30 s.</summary>
    public async Task<ReceivedMessage> NextAsync() =>
        await NextOrNullAsync(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException($"Nothing arrived on {Queue} within 30 s.");

    /// <summary>The next message kept, or null when none arrives within <paramref name="wait"/>.</summary>
    public async Task<ReceivedMessage?> NextOrNullAsync(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            return await arrived.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// Messages ready in these queues, as the broker counts them now (the management API's figures lag by seconds);
    /// -1 when the broker does not answer.
    /// </summary>
    public async Task<long> ReadyMessagesAsync(IEnumerable<string> queues, CancellationToken cancellationToken)
    {
        try
        {
            // A channel of its own: asking about a queue that is not there closes the channel that asked.
            await using var probe = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            long ready = 0;
            foreach (var queue in queues)
            {
                ready += await probe.MessageCountAsync(queue, cancellationToken);
            }

            return ready;
        }
        catch (Exception e) when (e is RabbitMQClientException or OperationInterruptedException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return -1;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await channel.DisposeAsync();
        await connection.DisposeAsync();
    }
}
