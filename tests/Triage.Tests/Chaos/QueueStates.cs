using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Chaos;

/// <summary>
/// Where messages wait. <see cref="DescribeAsync"/>: every queue of a virtual host that holds messages or should be consumed, with its consumers, from the management
/// API: where lost failures wait, and whether anything still reads them.
/// </summary>
public static class QueueStates
{
    /// <summary>
    /// Messages ready in a queue, exactly and now (a passive declare over AMQP), where the management API's figures are
    /// a few seconds old; 0 when the queue does not exist.
    /// </summary>
    public static async Task<uint> ReadyAsync(RabbitMqVirtualHost broker, string queue)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(broker.Uri) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0;
        }
    }

    public static async Task<string> DescribeAsync(RabbitMqVirtualHost broker)
    {
        var management = new Uri(TestServices.RabbitMqManagement);
        using var http = new HttpClient { BaseAddress = new Uri(management.GetLeftPart(UriPartial.Authority)), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(management.UserInfo))));
        try
        {
            using var json = JsonDocument.Parse(await http.GetStringAsync($"/api/queues/{broker.Name}?columns=name,messages,consumers"));
            return string.Join(" ", json.RootElement.EnumerateArray()
                .Select(q => (Name: q.GetProperty("name").GetString()!, Messages: Count(q, "messages"), Consumers: Count(q, "consumers")))
                .Where(q => q.Messages > 0 || (q.Consumers == 0 && Consumed(q.Name)))
                .OrderBy(q => q.Name, StringComparer.Ordinal)
                .Select(q => $"{q.Name}={q.Messages}/{q.Consumers}c"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return "management API unavailable: " + e.Message;
        }
    }

    /// <summary>A queue of the gateway that some role reads: not an error queue, not the parking queue of unreadable raw messages.</summary>
    private static bool Consumed(string queue) =>
        queue.StartsWith("triage-", StringComparison.Ordinal) && !queue.EndsWith("_error", StringComparison.Ordinal) && queue != Platform.Bus.BusTopology.RawParkedQueue;

    private static long Count(JsonElement queue, string property) =>
        queue.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;
}
