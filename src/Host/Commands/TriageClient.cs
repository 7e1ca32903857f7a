using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Triage.Contracts;

namespace Triage.Host.Commands;

/// <summary>Posts build failures to an Ingest and waits for their triage, as a build step would.</summary>
public sealed class TriageClient(HttpClient http) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<(HttpStatusCode Status, string Body, string? Id)> PostAsync(byte[] document, CancellationToken cancellationToken)
    {
        var posted = await PostAsync(document, TimeSpan.Zero, cancellationToken);
        return (posted.Status, posted.Body, posted.Id);
    }

    /// <summary>
    /// Posts a failure and, with <paramref name="wait"/> (at most a minute), lets Ingest hold the request until the
    /// triage is stored: 200 with <see cref="PostedFailure.Triage"/> when it came in time, else 202 as without waiting.
    /// An Ingest that does not know <c>?wait=</c> ignores it and answers 202.
    /// </summary>
    public async Task<PostedFailure> PostAsync(byte[] document, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(document);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var path = wait > TimeSpan.Zero
            ? $"/v1/build-failures?wait={(long)Math.Ceiling(wait.TotalMilliseconds)}ms"
            : "/v1/build-failures";
        using var response = await http.PostAsync(path, content, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            var triage = JsonSerializer.Deserialize<TriageCompleted>(body, Json)!;
            return new PostedFailure(response.StatusCode, body, triage.EventId, triage);
        }

        string? id = null;
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            using var json = JsonDocument.Parse(body);
            id = json.RootElement.GetProperty("id").GetString();
        }

        return new PostedFailure(response.StatusCode, body, id, null);
    }

    /// <summary>Polls the triage until it has a result; null when <paramref name="timeout"/> passes first.</summary>
    public async Task<TriageCompleted?> WaitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var delay = TimeSpan.FromMilliseconds(5);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.GetAsync($"/v1/triages/{Uri.EscapeDataString(id)}", cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return await JsonSerializer.DeserializeAsync<TriageCompleted>(
                    await response.Content.ReadAsStreamAsync(cancellationToken), Json, cancellationToken);
            }

            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 250));
        }

        return null;
    }

    public static void Print(TextWriter output, TriageCompleted triage)
    {
        output.WriteLine($"  category:   {triage.Category} (confidence {triage.Confidence:0.00})");
        output.WriteLine($"  summary:    {triage.Summary}");
        output.WriteLine($"  cause:      {triage.SuspectedCause}");
        if (triage.SuggestedOwners.Count > 0)
        {
            output.WriteLine($"  owners:     {string.Join(", ", triage.SuggestedOwners)}");
        }

        output.WriteLine($"  provider:   {triage.Provider} / {triage.Model}, {triage.Usage.InputTokens}+{triage.Usage.OutputTokens} tokens, ${triage.CostUsd:0.######}");
        output.WriteLine($"  time:       {triage.DurationMs:0.0} ms from receipt ({triage.ProviderDurationMs:0.0} ms in the provider)");
    }

    public void Dispose() => http.Dispose();
}

/// <summary>Ingest's answer to a posted failure: its id when accepted, and its triage when Ingest waited for it.</summary>
public sealed record PostedFailure(HttpStatusCode Status, string Body, string? Id, TriageCompleted? Triage);
