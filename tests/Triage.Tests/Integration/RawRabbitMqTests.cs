using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using Triage.Ingest.BuildFailures;
using Triage.Ingest.Raw;
using Triage.Platform.Bus;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>
/// Build failures published straight to RabbitMQ exactly as Jenkins' RabbitMQ Publisher plugin publishes them: raw
/// bytes on <c>triage.build-failed.raw</c>, no envelope, no message id, no confirms, in both conversion modes.
/// </summary>
public sealed class RawRabbitMqTests : DistributedGatewayTest
{
    protected override Task<string> ConfigurationAsync() => Task.FromResult("providers: { builtin: { type: builtin } }");

    [SkippableFact]
    public async Task A_failure_published_with_conversion_on_arrives_as_a_JSON_string_and_is_triaged()
    {
        var document = Document("raw-conversion-on");

        // conversion: true serialises the step's message, itself JSON text, as a JSON string.
        await PublishAsync(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(document)), "application/json");

        var triage = await Gateway.Http.WaitForTriageAsync(BuildFailureReader.DeriveEventId("jenkins", "raw-conversion-on", "42"));
        Assert.Equal("builtin", triage.Provider);
    }

    [SkippableFact]
    public async Task A_failure_published_with_conversion_off_as_octet_stream_is_triaged()
    {
        await PublishAsync(Encoding.UTF8.GetBytes(Document("raw-conversion-off")), "application/octet-stream");

        await Gateway.Http.WaitForTriageAsync(BuildFailureReader.DeriveEventId("jenkins", "raw-conversion-off", "42"));
    }

    [SkippableFact]
    public async Task The_key_id_a_raw_failure_names_is_checked_like_a_key_at_Ingest()
    {
        await PublishAsync(Encoding.UTF8.GetBytes(Document("raw-unknown-key", keyId: "key_0123456789abcdef")), "application/json");

        var id = BuildFailureReader.DeriveEventId("jenkins", "raw-unknown-key", "42");
        long parked = 0;
        for (var i = 0; i < 100 && parked == 0; i++)
        {
            await Task.Delay(100);
            parked = await Database.CountAsync($"SELECT count(*) FROM dead_letters WHERE event_id = '{id}' AND reason = 'key_unknown'");
        }

        Assert.Equal(1, parked);
    }

    [SkippableFact]
    public async Task What_cannot_be_read_is_parked_with_its_reason_and_nothing_is_dropped()
    {
        var garbage = new byte[] { 0xde, 0xad, 0xbe, 0xef, (byte)'{', 0x00 };
        var incomplete = Encoding.UTF8.GetBytes("""{"source":"jenkins","buildNumber":"7","log":"boom"}""");
        var unknownRoute = Encoding.UTF8.GetBytes(Document("raw-unknown-route", route: "nowhere"));

        await PublishAsync(garbage, "application/octet-stream");
        await PublishAsync(incomplete, null);
        await PublishAsync(unknownRoute, "application/json");

        var parked = await ParkedAsync(3);
        Assert.Equal(garbage, parked[0].Body);
        Assert.Contains("not JSON", parked[0].Reason);
        Assert.Contains("job: is required", parked[1].Reason);
        Assert.Contains("route: Route 'nowhere' is not configured", parked[2].Reason);
        Assert.Equal(0, await Broker.MessagesInAsync(BusTopology.RawQueue));
    }

    private static string Document(string job, string? keyId = null, string route = "build_triage") => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["source"] = "jenkins",
        ["job"] = job,
        ["buildNumber"] = 42,
        ["route"] = route,
        ["keyId"] = keyId,
        ["log"] = "[ERROR] /src/main/java/com/acme/Refund.java:[87,25] cannot find symbol\n[INFO] BUILD FAILURE",
    });

    /// <summary>What the plugin does: a plain publish, no confirms, no message id, optionally a content type.</summary>
    private async Task PublishAsync(byte[] body, string? contentType)
    {
        var factory = new ConnectionFactory { Uri = new Uri(Broker.Uri) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var properties = new BasicProperties { ContentType = contentType, DeliveryMode = DeliveryModes.Persistent };
        await channel.BasicPublishAsync(BusTopology.RawExchange, string.Empty, mandatory: false, properties, body);
    }

    private async Task<List<(byte[] Body, string Reason)>> ParkedAsync(int count)
    {
        var factory = new ConnectionFactory { Uri = new Uri(Broker.Uri) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var parked = new List<(byte[], string)>();
        for (var i = 0; i < 100 && parked.Count < count; i++)
        {
            var message = await channel.BasicGetAsync(BusTopology.RawParkedQueue, autoAck: true);
            if (message is null)
            {
                await Task.Delay(100);
                continue;
            }

            parked.Add((message.Body.ToArray(), Encoding.UTF8.GetString((byte[])message.BasicProperties.Headers![RawBuildFailureListener.ReasonHeader]!)));
        }

        Assert.Equal(count, parked.Count);
        return parked;
    }
}
