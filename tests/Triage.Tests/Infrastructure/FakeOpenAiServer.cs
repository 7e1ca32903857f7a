using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Triage.Tests.Infrastructure;

/// <summary>
/// An OpenAI-compatible server on 127.0.0.1 that speaks the Chat Completions wire format, usage and error
/// bodies included, and remembers every request it was sent.
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    public const string Model = "fake-triage-model";

    private readonly WebApplication app;

    private FakeOpenAiServer(WebApplication app) => this.app = app;

    /// <summary>The request bodies received, in order.</summary>
    public ConcurrentQueue<JsonDocument> Requests { get; } = new();

    /// <summary>The authorization headers received, in order.</summary>
    public ConcurrentQueue<string?> Authorizations { get; } = new();

    /// <summary>What the next answers say; a test may replace it.</summary>
    public Func<JsonDocument, IResult> Respond { get; set; } = _ => Completion(DefaultAnswer);

    public string BaseUrl { get; private set; } = string.Empty;

    public const string DefaultAnswer =
        """{"summary":"The refund service calls a ledger method that no longer exists.","category":"compile_error","suspectedCause":"RefundService.java:[87,25] cannot find symbol settle(Refund)","suggestedOwners":["@acme/payments"],"confidence":0.83}""";

    public static async Task<FakeOpenAiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeOpenAiServer(app);
        app.MapPost("/v1/chat/completions", async (HttpRequest request) =>
        {
            var body = await JsonDocument.ParseAsync(request.Body);
            server.Requests.Enqueue(body);
            server.Authorizations.Enqueue(request.Headers.Authorization.FirstOrDefault());
            return server.Respond(body);
        });
        await app.StartAsync();
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/v1";
        return server;
    }

    /// <summary>A chat completion as OpenAI sends it, with usage.</summary>
    public static IResult Completion(string content, int promptTokens = 812, int completionTokens = 64) => Results.Json(new
    {
        id = "chatcmpl-" + Guid.NewGuid().ToString("N"),
        @object = "chat.completion",
        created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        model = Model,
        choices = new[]
        {
            new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" },
        },
        usage = new { prompt_tokens = promptTokens, completion_tokens = completionTokens, total_tokens = promptTokens + completionTokens },
    });

    /// <summary>An error as OpenAI sends it.</summary>
    public static IResult Error(int status, string type, string message) =>
        Results.Json(new { error = new { message, type, param = (string?)null, code = (string?)null } }, statusCode: status);

    /// <summary>The user message of a request: what the provider was shown of the build.</summary>
    public static string UserMessage(JsonDocument request) =>
        request.RootElement.GetProperty("messages").EnumerateArray()
            .Single(m => m.GetProperty("role").GetString() == "user").GetProperty("content").GetString()!;

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
