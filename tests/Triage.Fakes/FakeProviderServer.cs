using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Triage.Fakes;

public enum WireFormat
{
    /// <summary>OpenAI Chat Completions: POST {base}/chat/completions, base ending in /v1.</summary>
    OpenAi,

    /// <summary>Anthropic Messages: POST {base}/v1/messages.</summary>
    Anthropic,
}

/// <summary>A request as the fake provider received it.</summary>
public sealed record RecordedRequest(JsonDocument Body, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>When the request arrived.</summary>
    public DateTimeOffset ReceivedAt { get; init; } = DateTimeOffset.UtcNow;

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;

    /// <summary>Everything the request showed the model, system prompt included.</summary>
    public string AllText => Body.RootElement.ToString();

    /// <summary>The text of the last user message: what the provider was shown of the build.</summary>
    public string UserMessage
    {
        get
        {
            var user = Body.RootElement.GetProperty("messages").EnumerateArray().First(m => m.GetProperty("role").GetString() == "user");
            var content = user.GetProperty("content");
            return content.ValueKind == JsonValueKind.String
                ? content.GetString()!
                : string.Concat(content.EnumerateArray().Where(c => c.TryGetProperty("text", out _)).Select(c => c.GetProperty("text").GetString()));
        }
    }
}

/// <summary>What the fake answers to one request.</summary>
public abstract record FakeReply
{
    public static FakeReply Answer(string content, int inputTokens = 812, int outputTokens = 64) => new AnswerReply(content, inputTokens, outputTokens);

    public static FakeReply Error(int status, string type, string message, TimeSpan? retryAfter = null) => new ErrorReply(status, type, message, retryAfter);

    /// <summary>Waits, then answers as <paramref name="then"/> does.</summary>
    public static FakeReply Slow(TimeSpan delay, FakeReply then) => new SlowReply(delay, then);

    /// <summary>Sends the headers of a 200 and part of the body, then drops the connection.</summary>
    public static FakeReply ResetMidResponse() => new ResetReply();

    /// <summary>A 200 whose body is not JSON at all.</summary>
    public static FakeReply BrokenBody() => new BrokenBodyReply();
}

internal sealed record AnswerReply(string Content, int InputTokens, int OutputTokens) : FakeReply;

internal sealed record ErrorReply(int Status, string Type, string Message, TimeSpan? RetryAfter) : FakeReply;

internal sealed record SlowReply(TimeSpan Delay, FakeReply Then) : FakeReply;

internal sealed record ResetReply : FakeReply;

internal sealed record BrokenBodyReply : FakeReply;

/// <summary>
/// A provider on 127.0.0.1 that speaks OpenAI's or Anthropic's real wire format, answers and errors included,
/// and remembers every request it was sent.
/// </summary>
public sealed class FakeProviderServer : IAsyncDisposable
{
    public const string Model = "fake-triage-model";

    public const string DefaultAnswer =
        """{"summary":"The refund service calls a ledger method that no longer exists.","category":"compile_error","suspectedCause":"RefundService.java:[87,25] cannot find symbol settle(Refund)","suggestedOwners":["@acme/payments"],"confidence":0.83,"flakyLikelihood":0.02,"nextSteps":["Restore LedgerClient.settle or call its replacement."]}""";

    private readonly WebApplication app;
    private int count;

    private FakeProviderServer(WebApplication app, WireFormat format)
    {
        this.app = app;
        Format = format;
    }

    public WireFormat Format { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>Whether requests are kept in <see cref="Requests"/>; a benchmark turns it off.</summary>
    public bool Record { get; set; } = true;

    /// <summary>The reply to the request with this number (1 for the first); a test may replace it.</summary>
    public Func<int, FakeReply> Reply { get; set; } = _ => FakeReply.Answer(DefaultAnswer);

    /// <summary>Added before every reply, for benchmarks with a realistic upstream; zero by default.</summary>
    public TimeSpan Latency { get; set; } = TimeSpan.Zero;

    /// <summary>The base_url to configure: OpenAI's ends in /v1, Anthropic's is the root.</summary>
    public string BaseUrl { get; private set; } = string.Empty;

    public string ProviderType => Format == WireFormat.Anthropic ? "anthropic" : "openai-compatible";

    public static async Task<FakeProviderServer> StartAsync(WireFormat format = WireFormat.OpenAi)
    {
        FakeProviderServer? server = null;
        var (_, root) = await LoopbackApp.StartAsync(app =>
        {
            server = new FakeProviderServer(app, format);
            app.MapPost(format == WireFormat.Anthropic ? "/v1/messages" : "/v1/chat/completions", server.HandleAsync);
        });
        server!.BaseUrl = format == WireFormat.Anthropic ? root : root + "/v1";
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var body = await JsonDocument.ParseAsync(context.Request.Body);
        if (Record)
        {
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            Requests.Enqueue(new RecordedRequest(body, headers));
        }
        else
        {
            body.Dispose();
        }

        var reply = Reply(Interlocked.Increment(ref count));
        if (Latency > TimeSpan.Zero)
        {
            reply = FakeReply.Slow(Latency, reply);
        }

        while (reply is SlowReply slow)
        {
            try
            {
                await Task.Delay(slow.Delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            reply = slow.Then;
        }

        switch (reply)
        {
            case AnswerReply answer:
                await Json(context, 200, Format == WireFormat.Anthropic ? AnthropicMessage(answer) : OpenAiCompletion(answer));
                break;
            case ErrorReply error:
                if (error.RetryAfter is { } after)
                {
                    context.Response.Headers["retry-after"] = ((int)Math.Ceiling(after.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                await Json(context, error.Status, Format == WireFormat.Anthropic
                    ? new { type = "error", error = new { type = error.Type, message = error.Message } }
                    : new { error = new { message = error.Message, type = error.Type, param = (string?)null, code = (string?)null } });
                break;
            case ResetReply:
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/json";
                context.Response.Headers.ContentLength = 4096;
                await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes("{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"{\\\"summ"));
                await context.Response.Body.FlushAsync();
                context.Abort();
                break;
            case BrokenBodyReply:
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("<html>502 Bad Gateway from a proxy</html>");
                break;
        }
    }

    private static object OpenAiCompletion(AnswerReply answer) => new
    {
        id = "chatcmpl-" + Guid.NewGuid().ToString("N"),
        @object = "chat.completion",
        created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        model = Model,
        choices = new[] { new { index = 0, message = new { role = "assistant", content = answer.Content }, finish_reason = "stop" } },
        usage = new { prompt_tokens = answer.InputTokens, completion_tokens = answer.OutputTokens, total_tokens = answer.InputTokens + answer.OutputTokens },
    };

    private static object AnthropicMessage(AnswerReply answer) => new
    {
        id = "msg_" + Guid.NewGuid().ToString("N"),
        type = "message",
        role = "assistant",
        model = Model,
        content = new[] { new { type = "text", text = answer.Content } },
        stop_reason = "end_turn",
        stop_sequence = (string?)null,
        usage = new { input_tokens = answer.InputTokens, output_tokens = answer.OutputTokens },
    };

    private static Task Json(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(body);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
