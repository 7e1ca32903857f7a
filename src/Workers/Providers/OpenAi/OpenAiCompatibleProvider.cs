using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Triage.Contracts;
using Triage.Platform.Configuration;
using Triage.Workers.Prompt;

namespace Triage.Workers.Providers.OpenAi;

/// <summary>
/// Chat Completions at any base URL: OpenAI itself, vLLM, Ollama, llama.cpp server, LM Studio.
/// Asks for a JSON object and still reads servers that ignore <c>response_format</c>.
/// </summary>
public sealed class OpenAiCompatibleProvider(string name, ProviderOptions options, HttpClient http) : ITriageProvider
{
    public const string OpenAiBaseUrl = "https://api.openai.com/v1";
    public const string DefaultOpenAiModel = "gpt-4.1-mini";

    private readonly Uri endpoint = new(((options.BaseUrl ?? OpenAiBaseUrl).TrimEnd('/')) + "/chat/completions");
    private readonly string model = options.Model ?? DefaultOpenAiModel;

    public string Name { get; } = name;

    public async Task<ProviderAnswer> TriageAsync(TriageRequested request, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["temperature"] = 0,
            ["response_format"] = new JsonObject { ["type"] = "json_object" },
            ["messages"] = new JsonArray
            {
                new JsonObject { ["role"] = "system", ["content"] = TriagePrompt.System },
                new JsonObject { ["role"] = "user", ["content"] = TriagePrompt.User(request) },
            },
        };
        using var message = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = JsonContent.Create(body) };
        if (!string.IsNullOrEmpty(options.ApiKey))
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ProviderException(Name, $"the request failed: {e.Message}", inner: e);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new ProviderException(Name, $"HTTP {(int)response.StatusCode}: {ErrorMessage(text)}", (int)response.StatusCode);
            }

            return Read(text);
        }
    }

    private ProviderAnswer Read(string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            var root = json.RootElement;
            var content = root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()
                ?? throw new ProviderException(Name, "the answer has no content");
            var usage = root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object
                ? new TokenUsage(Int(u, "prompt_tokens"), Int(u, "completion_tokens"))
                : new TokenUsage(0, 0);
            var served = root.TryGetProperty("model", out var m) && m.GetString() is { Length: > 0 } s ? s : model;
            return new ProviderAnswer(VerdictParser.Parse(Name, content), served, usage);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new ProviderException(Name, $"the response is not a chat completion: {e.Message}", inner: e);
        }
    }

    private static int Int(JsonElement usage, string name) =>
        usage.TryGetProperty(name, out var value) && value.TryGetInt32(out var n) ? n : 0;

    /// <summary>OpenAI-style error bodies say <c>{"error": {"message": ...}}</c>; anything else is cut short.</summary>
    private static string ErrorMessage(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.TryGetProperty("error", out var error))
            {
                return error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m)
                    ? m.GetString() ?? string.Empty
                    : error.ToString();
            }
        }
        catch (JsonException)
        {
        }

        return body.Length > 200 ? body[..200] : body;
    }
}
