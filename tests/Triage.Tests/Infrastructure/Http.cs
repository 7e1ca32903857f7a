using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Triage.Contracts;

namespace Triage.Tests.Infrastructure;

public static class Http
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Task<HttpResponseMessage> PostFailureAsync(this HttpClient http, JsonNode document) =>
        http.PostAsync("/v1/build-failures", new StringContent(document.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));

    /// <summary>Polls GET /v1/triages/{id} until it answers 200, for at most <paramref name="seconds"/>.</summary>
    public static async Task<TriageCompleted> WaitForTriageAsync(this HttpClient http, string id, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        HttpStatusCode last = 0;
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.GetAsync($"/v1/triages/{id}");
            last = response.StatusCode;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return (await response.Content.ReadFromJsonAsync<TriageCompleted>(Json))!;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"No triage for {id} within {seconds} s; GET last answered {(int)last}.");
    }

    public static async Task<JsonObject> JsonAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
}
