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
        using var content = new ByteArrayContent(document);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("/v1/build-failures", content, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        string? id = null;
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            using var json = JsonDocument.Parse(body);
            id = json.RootElement.GetProperty("id").GetString();
        }

        return (response.StatusCode, body, id);
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
