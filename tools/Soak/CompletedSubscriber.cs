using System.Text.Json;
using RabbitMQ.Client;
using Triage.Contracts;
using Triage.Platform.Bus;

namespace Triage.Soak;

/// <summary>
/// A subscriber of <c>triage.completed.json</c> as any team would write one: a durable queue of its own, read at the end.
/// It tells duplicate events (allowed: delivery is at least once) from a second result recorded (never allowed: every
/// event of a failure must carry the result the store kept first).
/// </summary>
internal sealed class CompletedSubscriber
{
    private const string Queue = "soak-completed-json";
    private readonly string brokerUri;
    private readonly List<(string MessageId, TriageCompleted Result)> received = [];

    private CompletedSubscriber(string brokerUri) => this.brokerUri = brokerUri;

    public static async Task<CompletedSubscriber> BindAsync(string brokerUri)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(brokerUri) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(Queue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        await channel.QueueBindAsync(Queue, BusTopology.CompletedJsonExchange, string.Empty);
        return new CompletedSubscriber(brokerUri);
    }

    public async Task<IReadOnlyList<(string MessageId, TriageCompleted Result)>> DrainAsync()
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(brokerUri) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(Queue, autoAck: true) is { } message)
        {
            var result = JsonSerializer.Deserialize<TriageCompleted>(message.Body.Span, JsonSerializerOptions.Web)!;
            received.Add((message.BasicProperties.MessageId ?? result.EventId, result));
        }

        return received;
    }
}
