using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Embedded;

/// <summary>The admin API (<c>/v1/admin/keys</c>) and <c>GET /v1/usage</c>, on the embedded gateway.</summary>
public sealed class AdminApiTests : IAsyncLifetime
{
    private const string AdminKey = "admin-key-for-tests-0123456789";

    private GatewayUnderTest gateway = null!;

    public async Task InitializeAsync() => gateway = await GatewayUnderTest.StartAsync($"auth: {{ admin_key: \"{AdminKey}\" }}");

    public async Task DisposeAsync() => await gateway.DisposeAsync();

    [Fact]
    public async Task A_key_is_created_read_listed_rotated_and_revoked_and_its_secret_appears_only_when_issued()
    {
        var answers = new List<string>();

        using var created = await SendAsync(HttpMethod.Post, "/v1/admin/keys", """
            {"team": "payments", "routes": ["build_triage"], "rpm": 60, "budgetUsd": 25, "budgetPeriod": "month", "expiresAt": "2099-01-01"}
            """);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var issued = await created.JsonAsync();
        var secret = issued["secret"]!.GetValue<string>();
        var key = issued["key"]!;
        var id = key["id"]!.GetValue<string>();
        Assert.Equal($"/v1/admin/keys/{id}", created.Headers.Location?.ToString());
        Assert.StartsWith("tk-", secret);
        Assert.Contains("cannot be shown again", issued["notice"]!.GetValue<string>());
        Assert.Equal(secret[..11], key["prefix"]!.GetValue<string>());
        Assert.Equal("payments", key["team"]!.GetValue<string>());
        Assert.Equal(["build_triage"], key["routes"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal(60, key["rpm"]!.GetValue<int>());
        Assert.Equal(25m, key["remainingUsd"]!.GetValue<decimal>());
        Assert.Equal(new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero), key["expiresAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal("active", key["state"]!.GetValue<string>());

        using var read = await SendAsync(HttpMethod.Get, $"/v1/admin/keys/{id}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        answers.Add(await read.Content.ReadAsStringAsync());
        using var listed = await SendAsync(HttpMethod.Get, "/v1/admin/keys?team=payments");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var listedBody = await listed.Content.ReadAsStringAsync();
        answers.Add(listedBody);
        Assert.Equal([id], JsonNode.Parse(listedBody)!["keys"]!.AsArray().Select(k => k!["id"]!.GetValue<string>()));

        using var rotated = await SendAsync(HttpMethod.Post, $"/v1/admin/keys/{id}/rotate", """{"graceSeconds": 60}""");
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var rotation = await rotated.JsonAsync();
        var next = rotation["secret"]!.GetValue<string>();
        Assert.NotEqual(secret, next);
        Assert.Equal(id, rotation["key"]!["id"]!.GetValue<string>());
        Assert.Equal(next[..11], rotation["key"]!["prefix"]!.GetValue<string>());
        Assert.Equal(secret[..11], rotation["previousPrefix"]!.GetValue<string>());
        var until = rotation["previousSecretValidUntil"]!.GetValue<DateTimeOffset>();
        Assert.InRange(until - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(61));

        // Within the grace period both secrets are the key.
        foreach (var either in new[] { secret, next })
        {
            using var usage = await SendAsync(HttpMethod.Get, "/v1/usage", bearer: either);
            Assert.Equal(HttpStatusCode.OK, usage.StatusCode);
            answers.Add(await usage.Content.ReadAsStringAsync());
        }

        using var revoked = await SendAsync(HttpMethod.Post, $"/v1/admin/keys/{id}/revoke", """{"reason": "leaked in a build log"}""");
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        var revokedBody = await revoked.Content.ReadAsStringAsync();
        answers.Add(revokedBody);
        Assert.Equal("revoked", JsonNode.Parse(revokedBody)!["state"]!.GetValue<string>());
        Assert.Equal("leaked in a build log", JsonNode.Parse(revokedBody)!["revokedReason"]!.GetValue<string>());

        using var again = await SendAsync(HttpMethod.Post, $"/v1/admin/keys/{id}/rotate");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        answers.Add(await again.Content.ReadAsStringAsync());

        using var afterwards = await SendAsync(HttpMethod.Get, "/v1/admin/keys");
        var all = await afterwards.Content.ReadAsStringAsync();
        answers.Add(all);
        Assert.Equal("revoked", JsonNode.Parse(all)!["keys"]!.AsArray().Single(k => k!["id"]!.GetValue<string>() == id)!["state"]!.GetValue<string>());

        foreach (var answer in answers)
        {
            Assert.DoesNotContain(secret, answer);
            Assert.DoesNotContain(next, answer);
            Assert.DoesNotContain("\"secret\"", answer);
        }
    }

    [Fact]
    public async Task Without_the_admin_key_the_admin_api_answers_401_with_a_bearer_challenge()
    {
        using var created = await SendAsync(HttpMethod.Post, "/v1/admin/keys", """{"team": "payments"}""");
        var virtualKey = (await created.JsonAsync())["secret"]!.GetValue<string>();

        foreach (var authorization in new[] { null, "Bearer wrong", $"Bearer {AdminKey}x", $"Bearer {AdminKey[..^1]}", $"Basic {AdminKey}", $"Bearer {virtualKey}" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/keys");
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            using var response = await gateway.Http.SendAsync(request);

            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{authorization}: {(int)response.StatusCode}");
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain("tk-", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Without_an_admin_key_configured_the_admin_api_is_disabled_with_403()
    {
        await using var open = await GatewayUnderTest.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/keys") { Content = Json("""{"team": "payments"}""") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);

        using var response = await open.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("admin API disabled: set auth.admin_key", (await response.JsonAsync())["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bad_input_is_a_400_problem_naming_the_field_and_creates_nothing()
    {
        var cases = new (string Path, string Body, string Field)[]
        {
            ("/v1/admin/keys", string.Empty, "team"),
            ("/v1/admin/keys", "{}", "team"),
            ("/v1/admin/keys", """{"team": "pay ments"}""", "team"),
            ("/v1/admin/keys", """{"team": "t", "rpm": 0}""", "rpm"),
            ("/v1/admin/keys", """{"team": "t", "tpm": "many"}""", "tpm"),
            ("/v1/admin/keys", """{"team": "t", "budgetUsd": 5, "budgetPeriod": "year"}""", "budgetPeriod"),
            ("/v1/admin/keys", """{"team": "t", "budgetUsd": 5}""", "budgetPeriod"),
            ("/v1/admin/keys", """{"team": "t", "expiresAt": "next week"}""", "expiresAt"),
            ("/v1/admin/keys", """{"team": "t", "expiresAt": "2001-01-01"}""", "expiresAt"),
            ("/v1/admin/keys", """{"team": "t", "budget_usd": 5}""", "budget_usd"),
            ("/v1/admin/keys", """{"team": "t", "routes": ["a,b"]}""", "routes[0]"),
            ("/v1/admin/keys", """{"team": """, "$"),
            ("/v1/admin/keys", "[1]", "$"),
        };
        foreach (var (path, body, field) in cases)
        {
            using var response = await SendAsync(HttpMethod.Post, path, body);
            await AssertProblem(response, HttpStatusCode.BadRequest, field, body);
        }

        using var listed = await SendAsync(HttpMethod.Get, "/v1/admin/keys");
        Assert.Empty((await listed.JsonAsync())["keys"]!.AsArray());

        using var created = await SendAsync(HttpMethod.Post, "/v1/admin/keys", """{"team": "payments"}""");
        var id = (await created.JsonAsync())["key"]!["id"]!.GetValue<string>();
        using var rotate = await SendAsync(HttpMethod.Post, $"/v1/admin/keys/{id}/rotate", """{"graceSeconds": -1}""");
        await AssertProblem(rotate, HttpStatusCode.BadRequest, "graceSeconds", "graceSeconds -1");
        using var revoke = await SendAsync(HttpMethod.Post, $"/v1/admin/keys/{id}/revoke", """{"reason": 5}""");
        await AssertProblem(revoke, HttpStatusCode.BadRequest, "reason", "reason 5");
        using var read = await SendAsync(HttpMethod.Get, $"/v1/admin/keys/{id}");
        Assert.Equal("active", (await read.JsonAsync())["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unknown_key_id_is_a_404_problem()
    {
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, "/v1/admin/keys/key_0000000000000000"),
            (HttpMethod.Post, "/v1/admin/keys/key_0000000000000000/revoke"),
            (HttpMethod.Post, "/v1/admin/keys/key_0000000000000000/rotate"),
        })
        {
            using var response = await SendAsync(method, path);

            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("key_0000000000000000", (await response.JsonAsync())["detail"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_virtual_key_reads_its_own_teams_usage_only_and_the_admin_key_reads_any()
    {
        var alpha = await CreateKeyAsync("alpha");
        var beta = await CreateKeyAsync("beta");
        var failure = Samples.CompileError();
        using (var post = new HttpRequestMessage(HttpMethod.Post, "/v1/build-failures") { Content = Json(failure.ToJsonString()) })
        {
            post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", alpha);
            using var accepted = await gateway.Http.SendAsync(post);
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        await gateway.Http.WaitForTriageAsync(failure["eventId"]!.GetValue<string>());
        var own = await WaitForTriagesAsync(alpha, expected: 1);
        Assert.Equal("alpha", own["team"]!.GetValue<string>());
        Assert.All(own["lines"]!.AsArray(), line => Assert.Equal("alpha", line!["team"]!.GetValue<string>()));
        Assert.Contains(own["lines"]!.AsArray(), line => line!["provider"]!.GetValue<string>() == "builtin");

        using var other = await SendAsync(HttpMethod.Get, "/v1/usage?team=alpha", bearer: beta);
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        Assert.Equal("team", (await other.JsonAsync())["field"]!.GetValue<string>());

        using var betaOwn = await SendAsync(HttpMethod.Get, "/v1/usage?team=beta", bearer: beta);
        Assert.Equal(0, (await betaOwn.JsonAsync())["totals"]!["triages"]!.GetValue<long>());

        using var adminAlpha = await SendAsync(HttpMethod.Get, "/v1/usage?team=alpha");
        Assert.Equal(1, (await adminAlpha.JsonAsync())["totals"]!["triages"]!.GetValue<long>());
        using var adminAll = await SendAsync(HttpMethod.Get, "/v1/usage");
        var everyTeam = await adminAll.JsonAsync();
        Assert.Null(everyTeam["team"]);
        Assert.Contains(everyTeam["lines"]!.AsArray(), line => line!["team"]!.GetValue<string>() == "alpha");

        using var nobody = await SendAsync(HttpMethod.Get, "/v1/usage", bearer: null);
        Assert.Equal(HttpStatusCode.Unauthorized, nobody.StatusCode);
        Assert.Equal("Bearer", nobody.Headers.WwwAuthenticate.Single().Scheme);
        using var stranger = await SendAsync(HttpMethod.Get, "/v1/usage", bearer: "tk-" + new string('x', 32));
        Assert.Equal(HttpStatusCode.Unauthorized, stranger.StatusCode);

        using var badFrom = await SendAsync(HttpMethod.Get, "/v1/usage?from=yesterday", bearer: alpha);
        await AssertProblem(badFrom, HttpStatusCode.BadRequest, "from", "from=yesterday");
        using var badTo = await SendAsync(HttpMethod.Get, "/v1/usage?to=2026-02-30");
        await AssertProblem(badTo, HttpStatusCode.BadRequest, "to", "to=2026-02-30");
        using var backwards = await SendAsync(HttpMethod.Get, "/v1/usage?from=2026-05-02&to=2026-05-01");
        await AssertProblem(backwards, HttpStatusCode.BadRequest, "from", "from after to");
    }

    private async Task<string> CreateKeyAsync(string team)
    {
        using var response = await SendAsync(HttpMethod.Post, "/v1/admin/keys", $$"""{"team": "{{team}}"}""");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.JsonAsync())["secret"]!.GetValue<string>();
    }

    /// <summary>The recorder settles a triage just after it stores it: polls the key's usage until it shows.</summary>
    private async Task<JsonObject> WaitForTriagesAsync(string bearer, long expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            using var response = await SendAsync(HttpMethod.Get, "/v1/usage", bearer: bearer);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var usage = await response.JsonAsync();
            if (usage["totals"]!["triages"]!.GetValue<long>() == expected || DateTime.UtcNow > deadline)
            {
                Assert.Equal(expected, usage["totals"]!["triages"]!.GetValue<long>());
                return usage;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Sends as the admin unless <paramref name="bearer"/> says otherwise (null: no Authorization at all).</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body = null, string? bearer = AdminKey)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = Json(body);
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return await gateway.Http.SendAsync(request);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string field, string because)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{because}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonNode.Parse(body)!["errors"]?.AsObject();
        Assert.True(errors?.ContainsKey(field) == true, $"{because}: the problem names {field}: {body}");
    }
}
