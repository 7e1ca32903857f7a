using System.Text.Json;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using Triage.Contracts;
using Triage.Platform.Bus;
using Triage.Platform.Configuration;

namespace Triage.Router.Notifications;

/// <summary>
/// Publishes on <see cref="BusTopology.CompletedJsonExchange"/> with RabbitMQ.Client on a channel of its own with
/// publisher confirms: persistent, <c>content_type</c> application/json, <c>message_id</c> the event id (subscribers
/// de-duplicate on it) and <c>type</c> TriageCompleted. A publish that the broker does not confirm throws.
/// </summary>
internal sealed partial class RabbitMqPlainJsonPublisher(
    TriageOptions options,
    NotificationMetrics metrics,
    ILogger<RabbitMqPlainJsonPublisher> logger) : IPlainJsonPublisher, IAsyncDisposable
{
    public const string ContentType = "application/json";

    /// <summary>How long a publish waits for the broker's confirm before it counts as failed.</summary>
    private static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(10);

    // Results are few (one per build failure): one channel, one publish at a time, keeps the confirms simple.
    private readonly SemaphoreSlim gate = new(1, 1);
    private IConnection? connection;
    private IChannel? channel;

    public async Task PublishAsync(TriageCompleted result, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(result, JsonSerializerOptions.Web);
        var properties = new BasicProperties
        {
            ContentType = ContentType,
            DeliveryMode = DeliveryModes.Persistent,
            MessageId = result.EventId,
            Type = nameof(TriageCompleted),
            Timestamp = new AmqpTimestamp(result.CompletedAt.ToUnixTimeSeconds()),
        };

        await gate.WaitAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConfirmTimeout);
        try
        {
            var open = await OpenAsync(timeout.Token);

            // Not mandatory: an exchange nobody has bound a queue to yet is the normal case, not a failure.
            await open.BasicPublishAsync(BusTopology.CompletedJsonExchange, string.Empty, mandatory: false, properties, body, timeout.Token);
            metrics.JsonPublished();
        }
        catch (Exception e)
        {
            // A channel that failed a publish may be closed, or still wait for a confirm: start afresh next time.
            await CloseAsync();
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            metrics.JsonPublishFailed();
            LogNotPublished(logger, e, result.EventId, BusTopology.CompletedJsonExchange);
            if (e is OperationCanceledException)
            {
                throw new TimeoutException($"RabbitMQ did not confirm {result.EventId} on {BusTopology.CompletedJsonExchange} within {ConfirmTimeout.TotalSeconds:0} s", e);
            }

            throw;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<IChannel> OpenAsync(CancellationToken cancellationToken)
    {
        if (channel is { IsOpen: true })
        {
            return channel;
        }

        await CloseAsync();
        var factory = new ConnectionFactory
        {
            Uri = new Uri(options.Bus.RabbitMq!),
            ClientProvidedName = "triage-completed-json",
            AutomaticRecoveryEnabled = true,
        };
        connection = await factory.CreateConnectionAsync(cancellationToken);
        channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        return channel;
    }

    private async Task CloseAsync()
    {
        var (oldChannel, oldConnection) = (channel, connection);
        (channel, connection) = (null, null);
        try
        {
            if (oldChannel is not null)
            {
                await oldChannel.DisposeAsync();
            }

            if (oldConnection is not null)
            {
                await oldConnection.DisposeAsync();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Closing what is already broken may fail too; the next publish opens a new connection either way.
            LogCloseFailed(logger, e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await gate.WaitAsync();
        try
        {
            await CloseAsync();
        }
        finally
        {
            gate.Release();
            gate.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The result of {EventId} is recorded but could not be published on {Exchange}")]
    private static partial void LogNotPublished(ILogger logger, Exception exception, string eventId, string exchange);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing the broken connection of the JSON publisher failed: {Reason}")]
    private static partial void LogCloseFailed(ILogger logger, string reason);
}
