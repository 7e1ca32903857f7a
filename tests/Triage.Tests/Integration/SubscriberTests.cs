using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using Triage.Contracts;
using Triage.Platform.Bus;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>
/// Results reach subscribers outside the gateway: as plain JSON on <c>triage.completed.json</c> for any language, in
/// MassTransit's envelope on <c>triage.triage-completed</c>, and as outgoing webhooks with retries and signatures.
/// Every receiver here is on 127.0.0.1.
/// </summary>
public sealed class SubscriberTests : DistributedGatewayTest
{
    private const string Secret = "test-webhook-secret-0123456789abcdef";

    /// <summary>Slack, signed, build_triage only: answers 503 (Retry-After: 1), then 503, then accepts.</summary>
    private WebhookReceiver flaky = null!;

    /// <summary>JSON, every route: always 500 with Retry-After: 0, so that its retries are spent at once.</summary>
    private WebhookReceiver broken = null!;

    /// <summary>JSON, every route: accepts everything.</summary>
    private WebhookReceiver healthy = null!;

    protected override async Task<string> ConfigurationAsync()
    {
        flaky = await OwnAsync(WebhookReceiver.StartAsync(number => number switch
        {
            1 => (503, "1"),
            2 => (503, null),
            _ => (200, null),
        }));
        broken = await OwnAsync(WebhookReceiver.StartAsync(_ => (500, "0")));
        healthy = await OwnAsync(WebhookReceiver.StartAsync(_ => (200, null)));
        return $"""
            providers: {"{"} builtin: {"{"} type: builtin {"}"} {"}"}
            routing:
              build_triage: {"{"} providers: [builtin] {"}"}
              other: {"{"} providers: [builtin] {"}"}
            notifications:
              webhooks:
                - url: "{flaky.Url}"
                  format: slack
                  secret: "{Secret}"
                  routes: [build_triage]
                  link: "https://triage.example.com/v1/triages/{"{"}eventId{"}"}"
                - url: "{broken.Url}"
                  format: json
                - url: "{healthy.Url}"
                  format: json
                  include_cached: true
            """;
    }

    [SkippableFact]
    public async Task The_first_result_is_published_once_as_plain_JSON_on_triage_completed_json()
    {
        await using var subscriber = await ExchangeSubscriber.BindAsync(Broker.Uri, BusTopology.CompletedJsonExchange);
        var id = await PostAsync(Samples.CompileError());
        var triage = await Gateway.Http.WaitForTriageAsync(id);

        var message = await subscriber.NextAsync();

        Assert.Equal("application/json", message.Properties.ContentType);
        Assert.Equal(id, message.Properties.MessageId);
        Assert.Equal(nameof(TriageCompleted), message.Properties.Type);
        Assert.Equal(DeliveryModes.Persistent, message.Properties.DeliveryMode);
        Assert.Equal(id, JsonNode.Parse(message.Text)!["eventId"]!.GetValue<string>());
        var published = JsonSerializer.Deserialize<TriageCompleted>(message.Text, JsonSerializerOptions.Web)!;
        Assert.Equal(id, published.EventId);
        Assert.Equal(triage.Summary, published.Summary);

        // A late second result of the same failure is not recorded, so it is not published either; a second failure
        // posted afterwards marks the point by which the duplicate was consumed.
        await Gateway.Services.GetRequiredService<IBus>().Publish(triage with { Summary = "a late second answer" });
        var next = await PostAsync(Samples.CompileError());
        await Gateway.Http.WaitForTriageAsync(next);
        Assert.Equal(next, (await subscriber.NextAsync()).Properties.MessageId);
        Assert.Null(await subscriber.NextOrNullAsync(TimeSpan.FromSeconds(1)));
    }

    [SkippableFact]
    public async Task A_subscriber_of_triage_triage_completed_without_MassTransit_receives_the_envelope()
    {
        await using var subscriber = await ExchangeSubscriber.BindAsync(Broker.Uri, BusTopology.TriageCompletedExchange);
        var id = await PostAsync(Samples.CompileError());

        var message = await subscriber.NextAsync();

        Assert.Equal("application/vnd.masstransit+json", message.Properties.ContentType);
        var envelope = JsonNode.Parse(message.Text)!;
        Assert.Contains("urn:message:Triage.Contracts:TriageCompleted", envelope["messageType"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(id, envelope["message"]!["eventId"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task A_webhook_that_fails_twice_receives_one_signed_Slack_message_once_it_accepts()
    {
        var id = await PostAsync(Samples.CompileError());
        var triage = await Gateway.Http.WaitForTriageAsync(id);

        await Eventually(() => flaky.Requests.Any(r => r.Status == 200), "the flaky webhook accepted a delivery");
        await Eventually(() => healthy.Requests.Count > 0 && broken.Requests.Count == 1 + 3, "the other webhooks were tried");

        var requests = flaky.Requests;
        Assert.Equal([503, 503, 200], requests.Select(r => r.Status));
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromMilliseconds(900), "Retry-After: 1 was not waited for");
        var accepted = Assert.Single(requests, r => r.Status == 200);
        Assert.Equal(id, accepted.Header("x-triage-event-id"));
        var timestamp = accepted.Header("x-triage-timestamp")!;
        Assert.InRange(long.Parse(timestamp), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes($"{timestamp}.{accepted.Body}")));
        Assert.Equal(expected, accepted.Header("x-triage-signature"));

        var text = JsonNode.Parse(accepted.Body)!["text"]!.GetValue<string>();
        var unescaped = text.Replace("&lt;", "<").Replace("&gt;", ">").Replace("&amp;", "&");
        Assert.Contains(triage.Summary, unescaped);
        Assert.Contains(triage.Category, text);
        Assert.Contains($"https://triage.example.com/v1/triages/{id}", text);
    }

    [SkippableFact]
    public async Task A_webhook_receives_only_the_routes_it_names()
    {
        var document = Samples.CompileError();
        document["route"] = "other";
        var id = await PostAsync(document);
        await Gateway.Http.WaitForTriageAsync(id);

        // The healthy webhook takes every route: once it has the triage, the notifier has decided for all three.
        await Eventually(() => healthy.Requests.Any(r => r.EventId == id), "the webhook of every route received the triage");

        Assert.DoesNotContain(flaky.Requests, r => r.EventId == id);
        Assert.Equal("other", JsonNode.Parse(healthy.Requests.Single(r => r.EventId == id).Body)!["route"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task A_webhook_that_always_fails_does_not_stop_the_others_nor_fault_the_message()
    {
        using var outcomes = new WebhookOutcomes();
        var id = await PostAsync(Samples.CompileError());
        await Gateway.Http.WaitForTriageAsync(id);

        await Eventually(() => outcomes.Count >= 3, "every webhook was delivered to or given up on");

        var delivered = Assert.Single(healthy.Requests);
        Assert.Equal(id, JsonSerializer.Deserialize<TriageCompleted>(delivered.Body, JsonSerializerOptions.Web)!.EventId);
        Assert.Equal(1 + 3, broken.Requests.Count);
        Assert.All(broken.Requests, r => Assert.Equal(id, r.EventId));
        Assert.Equal(["delivered", "delivered", "failed"], outcomes.All.Order());
        Assert.True(await Broker.MessagesInAsync(BusTopology.NotificationsQueue + "_error") <= 0, "the message was faulted");
    }

    [SkippableFact]
    public async Task A_second_delivery_of_the_same_triage_is_not_posted_again()
    {
        using var outcomes = new WebhookOutcomes();
        var id = await PostAsync(Samples.CompileError());
        var triage = await Gateway.Http.WaitForTriageAsync(id);
        await Eventually(() => healthy.Requests.Count == 1, "the first delivery was posted");

        await Gateway.Services.GetRequiredService<IBus>().Publish(triage);
        await Eventually(() => outcomes.All.Contains("duplicate"), "the second delivery was consumed");

        Assert.Single(healthy.Requests);
    }

    private async Task<string> PostAsync(JsonObject document)
    {
        using var response = await Gateway.Http.PostFailureAsync(document);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return document["eventId"]!.GetValue<string>();
    }

    private static async Task Eventually(Func<bool> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Not within {seconds} s: {what}.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>The webhook outcomes the gateway counts on <c>triage.notifications</c>; only this class configures webhooks.</summary>
    private sealed class WebhookOutcomes : IDisposable
    {
        private readonly MeterListener listener = new();
        private readonly ConcurrentQueue<string> outcomes = new();

        public WebhookOutcomes()
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Triage" && instrument.Name == "triage.notifications")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                string? channel = null, outcome = null;
                foreach (var tag in tags)
                {
                    channel = tag.Key == "channel" ? tag.Value as string : channel;
                    outcome = tag.Key == "outcome" ? tag.Value as string : outcome;
                }

                if (channel == "webhook" && outcome is not null)
                {
                    outcomes.Enqueue(outcome);
                }
            });
            listener.Start();
        }

        public int Count => outcomes.Count;

        public IReadOnlyList<string> All => outcomes.ToList();

        public void Dispose() => listener.Dispose();
    }

    private sealed record ReceivedWebhook(string Body, IReadOnlyDictionary<string, string> Headers, int Status, DateTimeOffset At)
    {
        public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;

        public string? EventId => Header("x-triage-event-id");
    }

    /// <summary>A webhook receiver on 127.0.0.1 that answers the n-th request (from 1) as told, and remembers each.</summary>
    private sealed class WebhookReceiver : IAsyncDisposable
    {
        private readonly WebApplication app;
        private readonly ConcurrentQueue<ReceivedWebhook> received = new();
        private readonly Func<int, (int Status, string? RetryAfter)> reply;
        private int count;

        private WebhookReceiver(WebApplication app, Func<int, (int, string?)> reply)
        {
            this.app = app;
            this.reply = reply;
            app.MapPost("/hook", HandleAsync);
        }

        public string Url { get; private set; } = string.Empty;

        public IReadOnlyList<ReceivedWebhook> Requests => received.ToList();

        public static async Task<WebhookReceiver> StartAsync(Func<int, (int Status, string? RetryAfter)> reply)
        {
            WebhookReceiver? receiver = null;
            var (_, root) = await LoopbackApp.StartAsync(app => receiver = new WebhookReceiver(app, reply));
            receiver!.Url = root + "/hook";
            return receiver;
        }

        private async Task HandleAsync(HttpContext http)
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var (status, retryAfter) = reply(Interlocked.Increment(ref count));
            received.Enqueue(new ReceivedWebhook(
                body,
                http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
                status,
                DateTimeOffset.UtcNow));
            http.Response.StatusCode = status;
            if (retryAfter is not null)
            {
                http.Response.Headers.RetryAfter = retryAfter;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
