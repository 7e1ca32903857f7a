using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Triage.Contracts;
using Triage.Ingest.BuildFailures;
using Triage.Platform.Bus;
using Triage.Platform.Configuration;
using Triage.Platform.Telemetry;

namespace Triage.Ingest.Raw;

/// <summary>
/// Build failures published straight to RabbitMQ as plain JSON, the way Jenkins' RabbitMQ Publisher plugin sends them:
/// no envelope, no message id, no publisher confirms; with <c>conversion: true</c> the JSON arrives as a JSON string,
/// with <c>conversion: false</c> as raw bytes, often <c>application/octet-stream</c>. This listener owns the exchange
/// <c>triage.build-failed.raw</c> alone (MassTransit's serializer never sees these bytes), reads each message with the
/// same reader as <c>POST /v1/build-failures</c>, publishes it as <see cref="BuildFailed"/> and acknowledges it only
/// then. What cannot be read is parked on <c>triage-raw-parked</c> with the reason in its headers, never dropped.
/// </summary>
public sealed partial class RawBuildFailureListener(
    TriageOptions options,
    IBus bus,
    TriageMetrics metrics,
    TimeProvider time,
    ILogger<RawBuildFailureListener> logger) : BackgroundService
{
    public const string ReasonHeader = "x-triage-reason";
    public const string KeyIdHeader = "x-triage-key-id";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(options.Bus.RabbitMq!), AutomaticRecoveryEnabled = true, ClientProvidedName = "triage raw ingest" };
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await factory.CreateConnectionAsync(stoppingToken);
                await using var channel = await connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
                    stoppingToken);
                await channel.BasicQosAsync(0, 16, global: false, stoppingToken);
                var consumer = new AsyncEventingBasicConsumer(channel);
                consumer.ReceivedAsync += (_, delivery) => HandleAsync(channel, delivery, stoppingToken);
                await channel.BasicConsumeAsync(BusTopology.RawQueue, autoAck: false, consumer, stoppingToken);
                await Task.Delay(Timeout.Infinite, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogReconnecting(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    private async Task HandleAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken cancellationToken)
    {
        var read = Read(delivery.Body.Span, delivery.BasicProperties);
        try
        {
            if (read.Failure is { } failure)
            {
                await bus.Publish(failure, cancellationToken);
                metrics.Received(failure.Route);
            }
            else
            {
                await channel.BasicPublishAsync(
                    exchange: string.Empty,
                    routingKey: BusTopology.RawParkedQueue,
                    mandatory: true,
                    basicProperties: Parked(delivery.BasicProperties, read.Reason!),
                    body: delivery.Body,
                    cancellationToken);
                LogParked(logger, read.Reason!);
            }

            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Neither published nor parked: it goes back to the queue, to be read again.
            LogRequeued(logger, e);
            await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, CancellationToken.None);
        }
    }

    /// <summary>The failure a raw message holds, or why it holds none.</summary>
    internal (BuildFailed? Failure, string? Reason) Read(ReadOnlySpan<byte> body, IReadOnlyBasicProperties properties)
    {
        var json = Unwrap(body);
        if (json is null)
        {
            return (null, "the body is not JSON (nor a JSON string holding JSON)");
        }

        var read = BuildFailureReader.Read(json, options, time.GetUtcNow());
        if (read.Errors is { } errors)
        {
            return (null, string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        }

        if (read.RouteError is { } route)
        {
            return (null, $"route: {route}");
        }

        var keyId = KeyIdOf(json) ?? (properties.Headers?.TryGetValue(KeyIdHeader, out var header) == true && header is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null);
        return (read.Failure! with { KeyId = keyId }, null);
    }

    /// <summary>The JSON document itself: as sent, or inside the JSON string the plugin's conversion made of it.</summary>
    private static byte[]? Unwrap(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read())
            {
                return null;
            }

            if (reader.TokenType == JsonTokenType.String)
            {
                var inner = reader.GetString()!;
                return Unwrap(Encoding.UTF8.GetBytes(inner)) is { } unwrapped ? unwrapped : null;
            }

            return reader.TokenType == JsonTokenType.StartObject ? body.ToArray() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? KeyIdOf(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.TryGetProperty("keyId", out var key) && key.ValueKind == JsonValueKind.String ? key.GetString() : null;
    }

    private BasicProperties Parked(IReadOnlyBasicProperties received, string reason)
    {
        var headers = received.Headers is { } original ? new Dictionary<string, object?>(original) : [];
        headers[ReasonHeader] = reason.Length > 2000 ? reason[..2000] : reason;
        headers["x-triage-parked-at"] = time.GetUtcNow().ToString("O");
        return new BasicProperties
        {
            Persistent = true,
            ContentType = received.ContentType,
            MessageId = received.MessageId,
            Headers = headers,
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Parked a raw build failure: {Reason}")]
    private static partial void LogParked(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A raw build failure could be neither published nor parked; it was requeued")]
    private static partial void LogRequeued(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The raw build-failure listener lost RabbitMQ ({Reason}); reconnecting")]
    private static partial void LogReconnecting(ILogger logger, string reason);
}
