using System.Text.Json;
using RabbitMQ.Client;
using Triage.Contracts;
using Triage.Platform.Bus;

namespace Triage.Tests.Chaos;

/// <summary>One plain-JSON result as a subscriber received it: <c>message_id</c> and the body.</summary>
public sealed record CompletedEvent(string MessageId, TriageCompleted Result);

/// <summary>
/// A subscriber of <c>triage.completed.json</c> that survives a broker restart: a durable quorum queue of its own,
/// bound before the load starts and read only at the end, so that nothing published during an outage of this
/// subscriber's connection is missed. It counts what any subscriber would see, duplicates included.
/// </summary>
public sealed class CompletedEvents
{
    private const string Queue = "chaos-completed-json";

    private readonly string brokerUri;
    private readonly List<CompletedEvent> received = [];

    private CompletedEvents(string brokerUri) => this.brokerUri = brokerUri;

    public IReadOnlyList<CompletedEvent> Received => received;

    public static async Task<CompletedEvents> BindAsync(string brokerUri)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(brokerUri) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(
            Queue, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        await channel.QueueBindAsync(Queue, BusTopology.CompletedJsonExchange, string.Empty);
        return new CompletedEvents(brokerUri);
    }

    /// <summary>Reads until every id in <paramref name="expected"/> has arrived, or <paramref name="timeout"/> passes.</summary>
    public async Task<IReadOnlyList<CompletedEvent>> WaitForAsync(IReadOnlyCollection<string> expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await DrainAsync();
            var seen = received.Select(e => e.MessageId).ToHashSet(StringComparer.Ordinal);
            if (expected.All(seen.Contains) || DateTime.UtcNow > deadline)
            {
                // A late duplicate (a redelivered result republished) may still be on its way: one more quiet read.
                await Task.Delay(500);
                await DrainAsync();
                return received;
            }

            await Task.Delay(250);
        }
    }

    private async Task DrainAsync()
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(brokerUri) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(Queue, autoAck: true) is { } message)
        {
            var result = JsonSerializer.Deserialize<TriageCompleted>(message.Body.Span, JsonSerializerOptions.Web)!;
            received.Add(new CompletedEvent(message.BasicProperties.MessageId ?? result.EventId, result));
        }
    }
}
