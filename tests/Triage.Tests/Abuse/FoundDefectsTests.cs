using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Abuse;

/// <summary>
/// Inputs the property tests once found answered 500, each the smallest of its kind, kept as regression tests.
/// </summary>
public sealed class FoundDefectsTests(AbuseGateway fixture) : IClassFixture<AbuseGateway>
{
    [Theory]
    [InlineData("/v1/admin/keys")]
    [InlineData("/v1/dead-letters/replay")]
    [InlineData("/v1/dead-letters/archive")]
    public async Task A_field_name_of_invalid_utf8_is_a_400_problem(string path)
    {
        byte[] body = [.. "{\"te"u8, 0xFF, .. "am\": \"x\"}"u8];

        await AssertProblemAsync(HttpMethod.Post, path, body, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("/v1/admin/keys")]
    [InlineData("/v1/dead-letters/replay")]
    [InlineData("/v1/dead-letters/archive")]
    public async Task A_field_name_of_a_lone_surrogate_is_a_400_problem(string path) =>
        await AssertProblemAsync(HttpMethod.Post, path, """{"\ud800": 1}"""u8.ToArray(), HttpStatusCode.BadRequest);

    [Theory]
    [InlineData("/v1/admin/keys")]
    [InlineData("/v1/dead-letters/replay")]
    [InlineData("/v1/dead-letters/archive")]
    public async Task An_unknown_field_sent_twice_is_a_400_problem(string path) =>
        await AssertProblemAsync(HttpMethod.Post, path, """{"nope": 1, "nope": 2}"""u8.ToArray(), HttpStatusCode.BadRequest);

    [Theory]
    [InlineData("/v1/dead-letters?since=999999d", null)]
    [InlineData("/v1/dead-letters/groups?since=999999w", null)]
    [InlineData("/v1/dead-letters/archive", """{"since": "999999d"}""")]
    [InlineData("/v1/dead-letters/replay", """{"since": "999999d", "dryRun": true}""")]
    public async Task A_since_further_back_than_year_one_is_a_400_problem(string path, string? body) =>
        await AssertProblemAsync(body is null ? HttpMethod.Get : HttpMethod.Post, path, body is null ? null : Encoding.UTF8.GetBytes(body), HttpStatusCode.BadRequest);

    [SkippableFact]
    public async Task On_postgresql_a_failure_holding_a_NUL_character_is_a_4xx_problem()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var gateway = await GatewayUnderTest.StartAsync(
            $"""
            store: {"{"} postgres: "{database.ConnectionString}" {"}"}
            auth: {"{"} required: false {"}"}
            """,
            settings: new Triage.Host.Hosting.HostSettings(Triage.Platform.TriageRoles.Ingest, "http://127.0.0.1:0", []));
        var failure = Samples.CompileError();
        failure["job"] = "payments\u0000service";

        // JsonNode writes U+0000 as the escape \u0000: valid JSON, the NUL character only once read.
        var json = failure.ToJsonString();
        Assert.Contains("\\u0000", json);

        using var response = await gateway.Http.PostAsync("/v1/build-failures", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private async Task AssertProblemAsync(HttpMethod method, string path, byte[]? body, HttpStatusCode status)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AbuseGateway.AdminKey);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
        }

        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
