using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Triage.Platform.Keys;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Abuse;

/// <summary>
/// Teams behind one gateway with keys required: a team's key reads its team's triages and usage only, nothing of the
/// admin API or the dead letters; another team's triage looks exactly like one that does not exist.
/// </summary>
public sealed class TeamIsolationTests : IAsyncLifetime
{
    private const string AdminKey = "isolation-admin-key-0123456789abcdef";

    private GatewayUnderTest gateway = null!;
    private HttpClient http = null!;
    private string alpha = null!;
    private string alphaToo = null!;
    private string beta = null!;

    public async Task InitializeAsync()
    {
        // Refusals are what these tests ask for, more than the default limit of them in a minute.
        gateway = await GatewayUnderTest.StartAsync($$"""
            auth: { required: true, admin_key: "{{AdminKey}}", failed_attempts_per_minute: 0 }
            """);
        http = new HttpClient { BaseAddress = gateway.Http.BaseAddress };
        var keys = gateway.Services.GetRequiredService<VirtualKeyStore>();
        alpha = (await keys.CreateAsync(new KeySpec("alpha"), default)).Secret;
        alphaToo = (await keys.CreateAsync(new KeySpec("alpha"), default)).Secret;
        beta = (await keys.CreateAsync(new KeySpec("beta"), default)).Secret;
    }

    public async Task DisposeAsync()
    {
        http.Dispose();
        await gateway.DisposeAsync();
    }

    [Fact]
    public async Task A_triage_is_read_by_its_teams_keys_and_the_admin_key_and_is_unknown_to_another_team()
    {
        var id = await TriagedAsync(alpha);

        using var own = await GetAsync($"/v1/triages/{id}", alpha);
        using var teammate = await GetAsync($"/v1/triages/{id}", alphaToo);
        using var admin = await GetAsync($"/v1/triages/{id}", AdminKey);
        using var other = await GetAsync($"/v1/triages/{id}", beta);
        using var unknown = await GetAsync("/v1/triages/never-received-0001", beta);

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        var triage = await own.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, teammate.StatusCode);
        Assert.Equal(triage, await teammate.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal(triage, await admin.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(Revealed(await unknown.JsonAsync(), "never-received-0001"), Revealed(await other.JsonAsync(), id));
    }

    [Fact]
    public async Task Reading_a_triage_needs_a_usable_key_when_keys_are_required()
    {
        var id = await TriagedAsync(alpha);

        using var none = await GetAsync($"/v1/triages/{id}", null);
        using var guessed = await GetAsync($"/v1/triages/{id}", "tk-guessed0000000000000000000000000000");
        using var unknownId = await GetAsync("/v1/triages/never-received-0002", null);

        foreach (var refused in new[] { none, guessed, unknownId })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Authorization", (await refused.JsonAsync())["field"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Another_teams_event_id_is_refused_as_taken_without_its_status_or_triage()
    {
        var document = Samples.CompileError();
        await TriagedAsync(alpha, document);

        using var response = await PostAsync(document, beta);
        using var again = await PostAsync(document, alphaToo);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.JsonAsync();
        Assert.Equal("eventId", problem["field"]!.GetValue<string>());
        Assert.Null(problem["summary"]);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task A_teams_key_reads_neither_another_teams_usage_nor_the_dead_letters()
    {
        using var usage = await GetAsync("/v1/usage?team=alpha", beta);
        using var ownUsage = await GetAsync("/v1/usage?team=beta", beta);
        using var letters = await GetAsync("/v1/dead-letters", beta);

        Assert.Equal(HttpStatusCode.Forbidden, usage.StatusCode);
        Assert.Equal("application/problem+json", usage.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, ownUsage.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, letters.StatusCode);
        Assert.Equal("application/problem+json", letters.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Every_admin_and_dead_letter_endpoint_answers_401_without_the_admin_key()
    {
        // Read from the gateway's own routes, so that an endpoint added later is held to the same rule.
        var endpoints = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } path && (path.StartsWith("/v1/admin/", StringComparison.Ordinal) || path.StartsWith("/v1/dead-letters", StringComparison.Ordinal)))
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(method => (Method: new HttpMethod(method), Path: Concrete(e.RoutePattern.RawText!))))
            .ToList();
        Assert.True(endpoints.Count >= 11, $"found only {string.Join(", ", endpoints)}");

        foreach (var (method, path) in endpoints)
        {
            foreach (var bearer in new[] { null, alpha, "not-the-admin-key-0123456789abcdef" })
            {
                using var request = new HttpRequestMessage(method, path);
                if (method == HttpMethod.Post)
                {
                    request.Content = new StringContent("""{"all": true, "team": "alpha"}""", Encoding.UTF8, "application/json");
                }

                request.Headers.Authorization = bearer is null ? null : new AuthenticationHeaderValue("Bearer", bearer);
                using var response = await http.SendAsync(request);

                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with {(bearer is null ? "no key" : bearer == alpha ? "a team's key" : "a wrong key")}: {(int)response.StatusCode}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }
    }

    /// <summary>Posts a failure with <paramref name="secret"/> and waits until its team can read its triage.</summary>
    private async Task<string> TriagedAsync(string secret, JsonObject? document = null)
    {
        document ??= Samples.CompileError();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/build-failures?wait=20s")
        {
            Content = new StringContent(document.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return document["eventId"]!.GetValue<string>();
    }

    /// <summary>POSTs a failure with <c>?wait=5s</c>: a teammate's duplicate answers with the triage.</summary>
    private async Task<HttpResponseMessage> PostAsync(JsonObject document, string bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/build-failures?wait=5s")
        {
            Content = new StringContent(document.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return await http.SendAsync(request);
    }

    private Task<HttpResponseMessage> GetAsync(string path, string? bearer)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = bearer is null ? null : new AuthenticationHeaderValue("Bearer", bearer);
        return http.SendAsync(request);
    }

    /// <summary>What a 404 tells, the id asked about aside (and the trace id, different for every request).</summary>
    private static string Revealed(JsonObject problem, string id)
    {
        problem.Remove("traceId");
        return problem.ToJsonString().Replace(id, "{id}", StringComparison.Ordinal);
    }

    private static string Concrete(string pattern) =>
        System.Text.RegularExpressions.Regex.Replace(pattern, @"\{[^}]+\}", "some-id");
}
