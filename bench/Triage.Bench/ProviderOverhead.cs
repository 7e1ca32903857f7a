using System.ClientModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Triage.Contracts;
using Triage.Fakes;
using Triage.Platform.Configuration;
using Triage.Platform.Redaction;
using Triage.Workers.Ownership;
using Triage.Workers.Prompt;
using Triage.Workers.Providers;

namespace Triage.Bench;

/// <summary>
/// What a provider pool adds to one call, in three paths against the same fake server, interleaved call by call:
/// the pool's provider client (prompt, redaction, resilience pipeline, SDK, validation); the SDK alone behind
/// IChatClient with the same messages; and a bare HttpClient posting the same bytes and parsing the answer.
/// </summary>
internal static class ProviderOverhead
{
    public static async Task<int> RunAsync(Options options)
    {
        var results = new Dictionary<string, object>();
        Console.WriteLine($"provider-overhead: {options.Calls} calls per path, upstream latency {options.Latency.TotalMilliseconds} ms, paths interleaved");
        Console.WriteLine($"{"wire format",-11} {"path",-36} {"median ms",10} {"p99 ms",10} {"min",8} {"max",8}");
        foreach (var format in new[] { WireFormat.OpenAi, WireFormat.Anthropic })
        {
            await using var server = await FakeProviderServer.StartAsync(format);
            server.Record = false;
            server.Latency = options.Latency;
            var provider = Provider(server);
            var request = Request();
            var prompt = new TriagePrompt(new SecretRedactor(), new OwnershipDirectory(new TriageOptions())).User(request, 4000).Text;
            List<ChatMessage> messages = [new(ChatRole.System, TriagePrompt.System), new(ChatRole.User, prompt)];
            var chatOptions = new ChatOptions
            {
                Temperature = 0,
                MaxOutputTokens = 1024,
                ResponseFormat = ChatResponseFormat.ForJsonSchema(TriageAnswer.Schema, "triage", "A triage of one failed build."),
            };
            var sdk = Sdk(server);
            using var bare = new HttpClient { BaseAddress = new Uri(server.BaseUrl.TrimEnd('/') + "/") };
            var body = BareBody(format, prompt);

            var paths = new (string Name, Func<Task> Call, List<double> Samples)[]
            {
                ("pool provider client", () => provider.TriageAsync(request, default), []),
                ("SDK alone (IChatClient, same prompt)", () => sdk.GetResponseAsync(messages, chatOptions), []),
                ("bare HttpClient (same bytes)", () => BareAsync(bare, format, body), []),
            };
            for (var i = 0; i < 200; i++)
            {
                foreach (var path in paths)
                {
                    await path.Call();
                }
            }

            for (var i = 0; i < options.Calls; i++)
            {
                foreach (var path in paths)
                {
                    var started = Stopwatch.GetTimestamp();
                    await path.Call();
                    path.Samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }

            var summaries = paths.Select(p => (p.Name, Summary: Stats.Of(p.Samples))).ToList();
            foreach (var (name, s) in summaries)
            {
                Console.WriteLine($"{format,-11} {name,-36} {s.Median,10:0.000} {s.P99,10:0.000} {s.Min,8:0.000} {s.Max,8:0.000}");
            }

            var (pool, alone, floor) = (summaries[0].Summary, summaries[1].Summary, summaries[2].Summary);
            Console.WriteLine($"{format,-11} {"added by the pool (pool - bare)",-36} {pool.Median - floor.Median,10:0.000} {pool.P99 - floor.P99,10:0.000}");
            Console.WriteLine($"{format,-11} {"  of which the gateway's own code",-36} {pool.Median - alone.Median,10:0.000} {pool.P99 - alone.P99,10:0.000}");
            results[format.ToString()] = new
            {
                pool,
                sdkAlone = alone,
                bare = floor,
                addedMedianMs = pool.Median - floor.Median,
                addedP99Ms = pool.P99 - floor.P99,
                gatewayCodeMedianMs = pool.Median - alone.Median,
            };
        }

        if (options.Json is { } file)
        {
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
        }

        return 0;
    }

    private static ChatTriageProvider Provider(FakeProviderServer server)
    {
        var options = new TriageOptions();
        options.Providers["bench"] = new ProviderOptions
        {
            Type = server.ProviderType,
            BaseUrl = server.BaseUrl,
            ApiKey = "sk-bench",
            Model = server.Format == WireFormat.Anthropic ? "claude-sonnet-4-5" : FakeProviderServer.Model,
        };
        var ownership = new OwnershipDirectory(options);
        var registry = new ProviderRegistry(options, new TriagePrompt(new SecretRedactor(), ownership), ownership, TimeProvider.System);
        return (ChatTriageProvider)registry.Get("bench");
    }

    private static IChatClient Sdk(FakeProviderServer server) => server.Format == WireFormat.Anthropic
        ? new Anthropic.AnthropicClient(new Anthropic.Core.ClientOptions
        {
            ApiKey = null,
            ExtraHeaders = new Dictionary<string, string> { ["x-api-key"] = "sk-bench" },
            BaseUrl = server.BaseUrl,
            MaxRetries = 0,
        }).AsIChatClient("claude-sonnet-4-5", 1024)
        : new OpenAI.Chat.ChatClient(FakeProviderServer.Model, new ApiKeyCredential("sk-bench"), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(server.BaseUrl) })
            .AsIChatClient();

    private static TriageRequested Request()
    {
        var log = string.Join('\n', Enumerable.Range(1, 150).Select(i => $"[INFO] step {i}: compiling \"module-{i}\" of payments-service\t(ok)"))
            + "\n[ERROR] /w/src/main/java/com/acme/payments/RefundService.java:[87,25] cannot find symbol\n[INFO] BUILD FAILURE";
        return new TriageRequested
        {
            EventId = "bench",
            Route = "build_triage",
            Provider = "bench",
            Failure = new BuildFailed { EventId = "bench", Source = "jenkins", Job = "payments/service", BuildNumber = "1", Route = "build_triage", Log = log },
        };
    }

    private static byte[] BareBody(WireFormat format, string prompt)
    {
        JsonObject body = format == WireFormat.Anthropic
            ? new() { ["model"] = "claude-sonnet-4-5", ["max_tokens"] = 1024, ["system"] = TriagePrompt.System, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }) }
            : new() { ["model"] = FakeProviderServer.Model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "system", ["content"] = TriagePrompt.System }, new JsonObject { ["role"] = "user", ["content"] = prompt }) };
        return Encoding.UTF8.GetBytes(body.ToJsonString());
    }

    private static async Task BareAsync(HttpClient http, WireFormat format, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var response = await http.PostAsync(format == WireFormat.Anthropic ? "v1/messages" : "chat/completions", content);
        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
    }
}
