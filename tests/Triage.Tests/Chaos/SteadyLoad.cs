using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Chaos;

/// <summary>What Ingest answered to one posted failure, and when: the client's side of the count.</summary>
public sealed record PostedFailure(string EventId, DateTimeOffset SentAt, DateTimeOffset AnsweredAt, int Status, bool Duplicate, string? Error)
{
    /// <summary>A 202 is Ingest's promise, a duplicate answer included: the failure is known and will be triaged.</summary>
    public bool Accepted => Status == 202;
}

/// <summary>
/// Posts build failures at a steady rate, the way a fleet of build agents does: each request leaves on schedule
/// whether or not the previous one was answered, so an outage shows as many requests waiting at once.
/// </summary>
public static class SteadyLoad
{
    /// <summary>Failures of a scenario, numbered; the event id is also the build number, which the provider sees.</summary>
    public static IReadOnlyList<JsonObject> Failures(string scenario, int count, int from = 0) =>
        Enumerable.Range(from, count).Select(i =>
        {
            var id = $"{scenario}-{i:D4}";
            var document = Samples.CompileError(id);
            document["job"] = $"chaos/{scenario}";
            document["buildNumber"] = id;
            return document;
        }).ToList();

    /// <summary>Posts every document at <paramref name="perSecond"/> and returns each answer once all are in.</summary>
    public static async Task<IReadOnlyList<PostedFailure>> PostAsync(
        HttpClient http, IReadOnlyList<JsonObject> documents, double perSecond, string? bearer = null, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var posts = new List<Task<PostedFailure>>(documents.Count);
        for (var i = 0; i < documents.Count; i++)
        {
            var wait = TimeSpan.FromSeconds(i / perSecond) - Stopwatch.GetElapsedTime(started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            posts.Add(PostOneAsync(http, documents[i], bearer));
        }

        return await Task.WhenAll(posts);
    }

    private static async Task<PostedFailure> PostOneAsync(HttpClient http, JsonObject document, string? bearer)
    {
        var id = document["eventId"]!.GetValue<string>();
        var sent = DateTimeOffset.UtcNow;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/build-failures")
            {
                Content = new StringContent(document.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
            };
            if (bearer is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            }

            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var duplicate = (int)response.StatusCode == 202 && JsonNode.Parse(body)?["duplicate"]?.GetValue<bool>() == true;
            return new PostedFailure(id, sent, DateTimeOffset.UtcNow, (int)response.StatusCode, duplicate, null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // No answer at all (the connection broke, or the client gave up): not accepted, as far as the caller knows.
            return new PostedFailure(id, sent, DateTimeOffset.UtcNow, 0, false, e.GetType().Name + ": " + e.Message);
        }
    }
}
