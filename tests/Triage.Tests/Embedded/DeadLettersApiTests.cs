using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triage.Contracts;
using Triage.Platform.DeadLetters;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Embedded;

/// <summary><c>/v1/dead-letters</c> on the embedded gateway, whose only provider is a fake that fails until told otherwise.</summary>
public sealed class DeadLettersApiTests : IAsyncLifetime
{
    private const string AdminKey = "dead-letters-admin-key-0123456789";
    private const string Group = "build_triage/fake/server_error";

    private FakeProviderServer provider = null!;
    private GatewayUnderTest gateway = null!;

    public async Task InitializeAsync()
    {
        provider = await FakeProviderServer.StartAsync();
        provider.Reply = _ => FakeReply.Error(500, "server_error", "boom");

        // The same sample is posted under several ids: without the semantic cache each is its own triage.
        gateway = await GatewayUnderTest.StartAsync($"""
            providers:
              fake: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: {FakeProviderServer.Model}, max_retries: 0 {"}"}
            routing:
              build_triage: {"{"} providers: [fake] {"}"}
            cache:
              semantic: {"{"} enabled: false {"}"}
            auth:
              admin_key: "{AdminKey}"
            """);
    }

    public async Task DisposeAsync()
    {
        await gateway.DisposeAsync();
        await provider.DisposeAsync();
    }

    [Fact]
    public async Task Failures_no_provider_could_triage_are_listed_grouped_shown_and_replayed_once_when_the_provider_answers_again()
    {
        // Two, not more: three failures in a row would take the only provider out for its cooldown.
        string[] ids = [$"dl-{Guid.NewGuid():N}", $"dl-{Guid.NewGuid():N}"];
        foreach (var id in ids)
        {
            using var posted = await gateway.Http.PostFailureAsync(Samples.CompileError(id));
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        var list = await EventuallyAsync("/v1/dead-letters", body => body["total"]!.GetValue<int>() == ids.Length);
        var listed = list["deadLetters"]!.AsArray().Select(d => d!.AsObject()).ToList();
        Assert.Equal(ids.Order(), listed.Select(d => d["eventId"]!.GetValue<string>()).Order());
        Assert.All(listed, d =>
        {
            Assert.Equal(Group, d["group"]!.GetValue<string>());
            Assert.Equal("server_error", d["reason"]!.GetValue<string>());
            Assert.Equal("dead", d["status"]!.GetValue<string>());
            Assert.Equal("fake", d["lastProvider"]!.GetValue<string>());
            Assert.Equal(1, d["timesDeadLettered"]!.GetValue<int>());
        });

        var groups = (await JsonAsync(HttpMethod.Get, "/v1/dead-letters/groups"))["groups"]!.AsArray();
        var group = Assert.Single(groups)!;
        Assert.Equal(Group, group["group"]!.GetValue<string>());
        Assert.Equal(ids.Length, group["count"]!.GetValue<int>());

        var shown = await JsonAsync(HttpMethod.Get, $"/v1/dead-letters/{ids[0]}");
        var attempt = Assert.Single(shown["attempts"]!.AsArray())!;
        Assert.Equal("fake", attempt["provider"]!.GetValue<string>());
        Assert.Equal("server_error", attempt["outcome"]!.GetValue<string>());
        Assert.Equal(ids[0], shown["failure"]!["eventId"]!.GetValue<string>());
        Assert.Contains("cannot find symbol", shown["failure"]!["log"]!.GetValue<string>());

        var failedRequests = provider.Requests.Count;
        Assert.Equal(ids.Length, failedRequests);
        provider.Reply = _ => FakeReply.Answer(FakeProviderServer.DefaultAnswer);

        using var replay = await SendAsync(HttpMethod.Post, "/v1/dead-letters/replay", """{"all": true}""");
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        var started = await replay.JsonAsync();
        var run = started["run"]!.GetValue<string>();
        Assert.Equal(ids.Length, started["total"]!.GetValue<int>());
        Assert.Equal($"/v1/dead-letters/replays/{run}", replay.Headers.Location?.ToString());

        var finished = await EventuallyAsync($"/v1/dead-letters/replays/{run}", body => body["finished"]!.GetValue<bool>());
        Assert.Equal(ids.Length, finished["replayed"]!.GetValue<int>());
        Assert.Null(finished["error"]);
        foreach (var id in ids)
        {
            var triage = await gateway.Http.WaitForTriageAsync(id);
            Assert.Equal("fake", triage.Provider);
        }

        var followed = await EventuallyAsync($"/v1/dead-letters/replays/{run}", body => body["outcome"]!["pending"]!.GetValue<int>() == 0);
        Assert.Equal(ids.Length, followed["outcome"]!["completed"]!.GetValue<int>());
        Assert.Equal(0, followed["outcome"]!["failedAgain"]!.GetValue<int>());
        Assert.Equal(ids.Length, followed["statuses"]!["replayed"]!.GetValue<int>());
        foreach (var id in ids)
        {
            var letter = await JsonAsync(HttpMethod.Get, $"/v1/dead-letters/{id}");
            Assert.Equal("replayed", letter["status"]!.GetValue<string>());
            Assert.Equal(1, letter["replayCount"]!.GetValue<int>());
        }

        using var again = await SendAsync(HttpMethod.Post, "/v1/dead-letters/replay", """{"all": true}""");
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        var second = await again.JsonAsync();
        Assert.Equal(0, second["total"]!.GetValue<int>());
        var nothing = await EventuallyAsync($"/v1/dead-letters/replays/{second["run"]!.GetValue<string>()}", body => body["finished"]!.GetValue<bool>());
        Assert.Equal(0, nothing["replayed"]!.GetValue<int>());
        Assert.Equal(ids.Length, provider.Requests.Count - failedRequests);
    }

    [Fact]
    public async Task Archived_dead_letters_stay_listed_and_are_never_replayed()
    {
        var letters = gateway.Services.GetRequiredService<DeadLetterStore>();
        await letters.RecordAsync(Dead("nightly-1", "timeout"), CancellationToken.None);
        await letters.RecordAsync(Dead("nightly-2", "overloaded"), CancellationToken.None);

        using var refused = await SendAsync(HttpMethod.Post, "/v1/dead-letters/archive", "{}");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.NotNull((await refused.JsonAsync())["errors"]!["all"]);

        using var archived = await SendAsync(HttpMethod.Post, "/v1/dead-letters/archive", """{"group": "nightly/fake/timeout"}""");
        Assert.Equal(HttpStatusCode.OK, archived.StatusCode);
        Assert.Equal(1, (await archived.JsonAsync())["archived"]!.GetValue<int>());

        var kept = (await JsonAsync(HttpMethod.Get, "/v1/dead-letters?status=archived"))["deadLetters"]!.AsArray();
        Assert.Equal("nightly-1", Assert.Single(kept)!["eventId"]!.GetValue<string>());

        using var plan = await SendAsync(HttpMethod.Post, "/v1/dead-letters/replay", """{"route": "nightly", "dryRun": true}""");
        Assert.Equal(HttpStatusCode.OK, plan.StatusCode);
        var planned = await plan.JsonAsync();
        Assert.Equal(1, planned["total"]!.GetValue<int>());
        Assert.Equal("nightly/fake/overloaded", Assert.Single(planned["groups"]!.AsArray())!["group"]!.GetValue<string>());
        Assert.Equal("dead", (await JsonAsync(HttpMethod.Get, "/v1/dead-letters/nightly-2"))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_the_admin_key_every_dead_letter_endpoint_answers_401()
    {
        (HttpMethod Method, string Path)[] endpoints =
        [
            (HttpMethod.Get, "/v1/dead-letters"),
            (HttpMethod.Get, "/v1/dead-letters/groups"),
            (HttpMethod.Get, "/v1/dead-letters/some-id"),
            (HttpMethod.Get, "/v1/dead-letters/replays/replay_0000000000000000"),
            (HttpMethod.Post, "/v1/dead-letters/replay"),
            (HttpMethod.Post, "/v1/dead-letters/archive"),
        ];
        foreach (var (method, path) in endpoints)
        {
            foreach (var bearer in new[] { null, "wrong" })
            {
                using var response = await SendAsync(method, path, method == HttpMethod.Post ? """{"all": true}""" : null, bearer ?? string.Empty);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with {bearer ?? "no key"}: {(int)response.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task Bad_input_is_a_400_naming_the_field_and_unknown_ids_are_404()
    {
        (HttpMethod Method, string Path, string? Body, string Field)[] bad =
        [
            (HttpMethod.Post, "/v1/dead-letters/replay", "{}", "all"),
            (HttpMethod.Post, "/v1/dead-letters/replay", null, "all"),
            (HttpMethod.Post, "/v1/dead-letters/replay", """{"all": false}""", "all"),
            (HttpMethod.Post, "/v1/dead-letters/replay", """{"group": "g", "ratePerSecond": 0}""", "ratePerSecond"),
            (HttpMethod.Post, "/v1/dead-letters/replay", """{"grop": "g"}""", "grop"),
            (HttpMethod.Post, "/v1/dead-letters/replay", """{"since": "yesterday"}""", "since"),
            (HttpMethod.Post, "/v1/dead-letters/replay", """{"ids": "one"}""", "ids"),
            (HttpMethod.Get, "/v1/dead-letters?since=yesterday", null, "since"),
            (HttpMethod.Get, "/v1/dead-letters?status=gone", null, "status"),
            (HttpMethod.Get, "/v1/dead-letters?limit=0", null, "limit"),
            (HttpMethod.Get, "/v1/dead-letters?limit=1001", null, "limit"),
            (HttpMethod.Get, "/v1/dead-letters/groups?since=2026-13-45", null, "since"),
        ];
        foreach (var (method, path, body, field) in bad)
        {
            using var response = await SendAsync(method, path, body);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {path} {body}: {(int)response.StatusCode}");
            var errors = (await response.JsonAsync())["errors"]!.AsObject();
            Assert.True(errors.ContainsKey(field), $"{method} {path} {body}: {errors.ToJsonString()}");
        }

        foreach (var path in new[] { "/v1/dead-letters/no-such-event", "/v1/dead-letters/replays/replay_0000000000000000" })
        {
            using var response = await SendAsync(HttpMethod.Get, path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        using var recent = await SendAsync(HttpMethod.Get, "/v1/dead-letters?since=2h&status=dead&limit=5&route=build_triage");
        Assert.Equal(HttpStatusCode.OK, recent.StatusCode);
    }

    private static TriageDeadLettered Dead(string eventId, string reason) => new()
    {
        EventId = eventId,
        Route = "nightly",
        Reason = reason,
        Attempts = [new AttemptOutcome("fake", reason, "no luck") { At = DateTimeOffset.UtcNow }],
        Failure = Samples.Failure("error: it broke", eventId) with { Route = "nightly" },
        DeadLetteredAt = DateTimeOffset.UtcNow,
    };

    /// <summary>GETs <paramref name="path"/> until <paramref name="done"/> holds, for at most 30 s.</summary>
    private async Task<JsonObject> EventuallyAsync(string path, Func<JsonObject, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonObject body;
        do
        {
            body = await JsonAsync(HttpMethod.Get, path);
            if (done(body))
            {
                return body;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"GET {path} never got there; last answer: {body.ToJsonString()}");
    }

    private async Task<JsonObject> JsonAsync(HttpMethod method, string path)
    {
        using var response = await SendAsync(method, path);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.JsonAsync();
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body = null, string bearer = AdminKey)
    {
        var request = new HttpRequestMessage(method, path);
        if (bearer.Length > 0)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return gateway.Http.SendAsync(request);
    }
}
