using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Triage.Fakes;

namespace Triage.Bench.Gateway;

/// <summary>A result as the bench's subscriber received it: when (a Stopwatch timestamp), and what the provider took.</summary>
internal readonly record struct Completion(long ArrivedAt, double ProviderDurationMs, bool CacheHit);

/// <summary>The triages the bench waits for, by event id; a result nobody waits for (late, or a duplicate) is dropped.</summary>
internal sealed class Completions
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Completion>> expected = new(StringComparer.Ordinal);

    public Task<Completion> Expect(string eventId)
    {
        var arrival = new TaskCompletionSource<Completion>(TaskCreationOptions.RunContinuationsAsynchronously);
        expected[eventId] = arrival;
        return arrival.Task;
    }

    public void Forget(string eventId) => expected.TryRemove(eventId, out _);

    public void Arrived(string eventId, Completion completion)
    {
        if (expected.TryRemove(eventId, out var arrival))
        {
            arrival.TrySetResult(completion);
        }
    }

    /// <summary>Reads a TriageCompleted as JSON (camelCase, as both the exchange and the webhooks send it).</summary>
    public void Arrived(long at, string? eventId, ReadOnlySpan<byte> json)
    {
        if (eventId is null || !expected.ContainsKey(eventId))
        {
            return;
        }

        double provider = 0;
        var hit = false;
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
            {
                continue;
            }

            if (reader.ValueTextEquals("providerDurationMs"u8) && reader.Read() && reader.TokenType == JsonTokenType.Number)
            {
                provider = reader.GetDouble();
            }
            else if (reader.ValueTextEquals("cache"u8) && reader.Read())
            {
                hit = reader.TokenType == JsonTokenType.StartObject;
                reader.Skip();
            }
        }

        Arrived(eventId, new Completion(at, provider, hit));
    }
}

/// <summary>
/// An outgoing webhook of the embedded gateway, served by the bench: with no broker there is no exchange to bind, and the
/// webhook is how a result is pushed out of the embedded gateway (<c>notifications.webhooks</c>, format json).
/// </summary>
internal sealed class WebhookSubscriber : IAsyncDisposable
{
    private readonly WebApplication app;

    private WebhookSubscriber(WebApplication app, string url)
    {
        this.app = app;
        Url = url;
    }

    public string Url { get; }

    public static async Task<WebhookSubscriber> StartAsync(Completions completions, CancellationToken cancellationToken)
    {
        var (app, root) = await LoopbackApp.StartAsync(
            web => web.MapPost("/triages", async (HttpContext context) =>
            {
                var at = Stopwatch.GetTimestamp();
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body, context.RequestAborted);
                completions.Arrived(at, context.Request.Headers["X-Triage-Event-Id"].ToString(), body.GetBuffer().AsSpan(0, (int)body.Length));
                return Results.Ok();
            }),
            cancellationToken);
        return new WebhookSubscriber(app, root + "/triages");
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
