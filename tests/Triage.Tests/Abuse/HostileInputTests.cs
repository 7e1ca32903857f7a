using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.AspNetCore.WebUtilities;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Abuse;

/// <summary>
/// Property tests of every public JSON input and webhook of the embedded gateway, each with valid credentials so that
/// what is tested is the body or the query: whatever is sent, the answer is never a 5xx nor a dropped connection,
/// every 4xx is a problem document and leaves nothing behind in the store, and a 2xx comes only for an input that an
/// independent reading finds valid. CsCheck prints the seed of a failing run; CsCheck_Seed=... replays it.
/// </summary>
public sealed class HostileInputTests(AbuseGateway fixture) : IClassFixture<AbuseGateway>
{
    /// <summary>Enough to find a mishandled shape, few enough that the whole class runs in seconds.</summary>
    private const int Iterations = 40;

    private static readonly string[] JenkinsFields =
        ["name", "url", "build", "full_url", "number", "phase", "status", "log", "scm", "branch", "commit", "test_summary", "failed_tests"];

    private static readonly string[] GitHubFields =
        ["action", "workflow_run", "repository", "id", "name", "path", "run_number", "run_attempt", "conclusion", "head_branch", "head_sha", "html_url", "full_name"];

    private static readonly string[] GitLabFields =
        ["object_kind", "object_attributes", "project", "builds", "id", "status", "ref", "sha", "stages", "path_with_namespace", "web_url",
         "build_id", "build_name", "build_stage", "build_status", "build_allow_failure", "allow_failure"];

    private static readonly Gen<JsonObject> JenkinsNotification = Gen.Select(Gen.Long[1, 10_000_000], HostileInput.Word, HostileInput.AnyString, (number, job, log) => new JsonObject
    {
        ["name"] = job,
        ["url"] = $"job/abuse/job/{job}/",
        ["build"] = new JsonObject
        {
            ["full_url"] = $"https://jenkins.acme.example/job/abuse/job/{job}/{number}/",
            ["number"] = number,
            ["phase"] = "COMPLETED",
            ["status"] = "FAILURE",
            ["log"] = "[ERROR] " + log,
            ["scm"] = new JsonObject { ["url"] = "https://github.com/acme/abuse.git", ["branch"] = "origin/main", ["commit"] = "9f1c2e7d" },
            ["test_summary"] = new JsonObject { ["failed_tests"] = new JsonArray("T.fails") },
        },
    });

    private static readonly Gen<JsonObject> WorkflowRun = Gen.Select(Gen.Long[1, long.MaxValue], Gen.Long[1, 100_000], HostileInput.Word, (id, number, name) => new JsonObject
    {
        ["action"] = "completed",
        ["workflow_run"] = new JsonObject
        {
            ["id"] = id,
            ["name"] = name,
            ["run_number"] = number,
            ["run_attempt"] = 1,
            ["conclusion"] = "failure",
            ["head_branch"] = "main",
            ["head_sha"] = "9f1c2e7d",
            ["html_url"] = $"https://github.com/acme/abuse/actions/runs/{id}",
        },
        ["repository"] = new JsonObject { ["full_name"] = "acme/abuse" },
    });

    private static readonly Gen<JsonObject> GitLabHook = Gen.Select(Gen.Long[1, long.MaxValue], Gen.Bool, HostileInput.Word, (id, pipeline, name) => pipeline
        ? new JsonObject
        {
            ["object_kind"] = "pipeline",
            ["object_attributes"] = new JsonObject { ["id"] = id, ["ref"] = "main", ["sha"] = "bcbb5ec3", ["status"] = "failed", ["stages"] = new JsonArray("build", "test") },
            ["project"] = new JsonObject { ["path_with_namespace"] = "acme/abuse", ["web_url"] = "https://gitlab.acme.example/acme/abuse" },
            ["builds"] = new JsonArray(new JsonObject { ["id"] = 1, ["stage"] = "test", ["name"] = name, ["status"] = "failed", ["allow_failure"] = false }),
        }
        : new JsonObject
        {
            ["object_kind"] = "build",
            ["build_id"] = id,
            ["build_name"] = name,
            ["build_stage"] = "test",
            ["build_status"] = "failed",
            ["build_allow_failure"] = false,
            ["ref"] = "main",
            ["project"] = new JsonObject { ["path_with_namespace"] = "acme/abuse", ["web_url"] = "https://gitlab.acme.example/acme/abuse" },
        });

    private static readonly Gen<JsonObject> KeyRequest = Gen.Select(HostileInput.Word, Gen.Int[1, 10_000], Gen.Bool, (team, rpm, budget) =>
    {
        var key = new JsonObject { ["team"] = team, ["routes"] = new JsonArray("build_triage"), ["rpm"] = rpm, ["expiresAt"] = "2099-01-01" };
        if (budget)
        {
            key["budgetUsd"] = 5;
            key["budgetPeriod"] = "month";
        }

        return key;
    });

    private static readonly Gen<JsonObject> Selection = Gen.Select(HostileInput.Word, Gen.Int[0, 4], Gen.Bool, (word, kind, dryRun) =>
    {
        var selection = kind switch
        {
            0 => new JsonObject { ["ids"] = new JsonArray("bf-" + word, "abuse-" + word) },
            1 => new JsonObject { ["group"] = "build_triage/" + word },
            2 => new JsonObject { ["route"] = word },
            3 => new JsonObject { ["since"] = "2h" },
            _ => new JsonObject { ["all"] = true },
        };
        selection["dryRun"] = dryRun;
        selection["ratePerSecond"] = 50;
        return selection;
    });

    /// <summary>Each input under test: how a body is sent to it with valid credentials, and which bodies it may accept.</summary>
    private static readonly Dictionary<string, Endpoint> Endpoints = new()
    {
        ["build-failures"] = new(
            body => Post("/v1/build-failures", body, "application/json"),
            Valid.BuildFailure,
            HostileInput.ValidFailure,
            HostileInput.BuildFailureFields),
        ["jenkins"] = new(
            body => Post("/v1/webhooks/jenkins", body, "application/json", ("X-Triage-Token", AbuseGateway.JenkinsToken)),
            body => Valid.Object(body) is not null,
            JenkinsNotification,
            JenkinsFields),
        ["github"] = new(
            body => Post("/v1/webhooks/github", body, "application/json", ("X-GitHub-Event", "workflow_run"), ("X-Hub-Signature-256", AbuseGateway.Sign(body))),
            body => Valid.Object(body) is not null,
            WorkflowRun,
            GitHubFields),
        ["github-form"] = new(
            body =>
            {
                var form = Encoding.UTF8.GetBytes("payload=" + Uri.EscapeDataString(Encoding.UTF8.GetString(body)));
                return Post("/v1/webhooks/github", form, "application/x-www-form-urlencoded", ("X-GitHub-Event", "workflow_run"), ("X-Hub-Signature-256", AbuseGateway.Sign(form)));
            },
            body => Valid.Object(Encoding.UTF8.GetBytes(QueryHelpers.ParseQuery("payload=" + Uri.EscapeDataString(Encoding.UTF8.GetString(body)))["payload"].ToString())) is not null,
            WorkflowRun,
            GitHubFields),
        ["gitlab"] = new(
            body => Post("/v1/webhooks/gitlab", body, "application/json", ("X-Gitlab-Token", AbuseGateway.GitLabToken)),
            body => Valid.Object(body) is not null,
            GitLabHook,
            GitLabFields),
        ["admin-keys"] = new(
            body => Admin(Post("/v1/admin/keys", body, "application/json")),
            Valid.Key,
            KeyRequest,
            HostileInput.KeyFields),
        ["replay"] = new(
            body => Admin(Post("/v1/dead-letters/replay", body, "application/json")),
            body => Valid.Selection(body, HostileInput.ReplayFields),
            Selection,
            HostileInput.ReplayFields),
        ["archive"] = new(
            body => Admin(Post("/v1/dead-letters/archive", body, "application/json")),
            body => Valid.Selection(body, HostileInput.ArchiveFields),
            Selection.Select(s =>
            {
                s.Remove("dryRun");
                s.Remove("ratePerSecond");
                return s;
            }),
            HostileInput.ArchiveFields),
    };

    public static TheoryData<string> EndpointNames => [.. Endpoints.Keys];

    [Theory]
    [MemberData(nameof(EndpointNames))]
    public Task Random_bytes_are_answered_without_a_5xx_and_a_4xx_problem_leaves_nothing_behind(string endpoint) =>
        PropertyAsync(HostileInput.RandomBytes, Endpoints[endpoint]);

    [Theory]
    [MemberData(nameof(EndpointNames))]
    public Task Random_json_with_the_real_field_names_of_wrong_types_is_answered_without_a_5xx_and_a_2xx_only_when_valid(string endpoint) =>
        PropertyAsync(HostileInput.RandomJson(Endpoints[endpoint].Fields), Endpoints[endpoint]);

    [Theory]
    [MemberData(nameof(EndpointNames))]
    public Task Mutations_of_a_valid_document_are_answered_without_a_5xx_and_a_2xx_only_when_still_valid(string endpoint) =>
        PropertyAsync(HostileInput.Mutations(Endpoints[endpoint].Document, Endpoints[endpoint].Fields), Endpoints[endpoint]);

    [Fact]
    public async Task A_valid_failure_and_a_valid_webhook_event_are_accepted_so_the_properties_can_tell_acceptance_apart()
    {
        foreach (var (name, endpoint) in Endpoints)
        {
            var document = endpoint.Document.Single();
            var body = Encoding.UTF8.GetBytes(document.ToJsonString());
            Assert.True(endpoint.MayAccept(body), $"{name}: the reading of what is valid refuses a valid document");
            using var response = await fixture.Http.SendAsync(endpoint.Request(body));
            Assert.True(response.IsSuccessStatusCode, $"{name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task Usage_query_strings_of_any_shape_are_answered_without_a_5xx()
    {
        var value = Gen.Frequency(
            (3, HostileInput.AnyString),
            (2, Gen.OneOf(Instants)),
            (1, Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture))));
        var queries = Gen.Select(Gen.OneOf("team", "from", "to", "TEAM", "x"), value).Array[0, 5];
        await Gen.Select(queries, Gen.Bool).SampleAsync(
            async sample =>
            {
                var (pairs, asAdmin) = sample;
                var query = string.Join("&", pairs.Select(p => $"{Uri.EscapeDataString(p.Item1)}={Uri.EscapeDataString(p.Item2)}"));
                var request = new HttpRequestMessage(HttpMethod.Get, "/v1/usage?" + query);
                if (asAdmin)
                {
                    Admin(request);
                }

                await AssertAnsweredAsync(request, () => Valid.Instant(Joined(pairs, "from")) && Valid.Instant(Joined(pairs, "to")));
            },
            iter: Iterations * 2,
            threads: 1,
            print: sample => $"{string.Join("&", sample.Item1.Select(p => $"{p.Item1}={p.Item2}"))} as {(sample.Item2 ? "admin" : "team")}");
    }

    [Fact]
    public async Task Dead_letter_query_strings_of_any_shape_are_answered_without_a_5xx()
    {
        var value = Gen.Frequency(
            (3, HostileInput.AnyString),
            (2, Gen.OneOf(Instants)),
            (2, Gen.OneOf("30m", "2h", "7d", "52w", "0s", "1000", "0", "-1", "1001", "99999999999", "dead", "replayed", "archived", "DEAD")),
            (1, Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture))));
        var queries = Gen.Select(Gen.OneOf("route", "group", "since", "status", "limit", "x"), value).Array[0, 5];
        await Gen.Select(queries, Gen.Bool).SampleAsync(
            async sample =>
            {
                var (pairs, groups) = sample;
                var query = string.Join("&", pairs.Select(p => $"{Uri.EscapeDataString(p.Item1)}={Uri.EscapeDataString(p.Item2)}"));
                var request = Admin(new HttpRequestMessage(HttpMethod.Get, (groups ? "/v1/dead-letters/groups?" : "/v1/dead-letters?") + query));
                await AssertAnsweredAsync(request, () => true);
            },
            iter: Iterations * 2,
            threads: 1,
            print: sample => string.Join("&", sample.Item1.Select(p => $"{p.Item1}={p.Item2}")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task A_failure_sent_without_the_json_content_type_is_read_as_json_and_garbage_so_sent_is_a_400_problem(string? contentType)
    {
        var document = HostileInput.ValidFailure.Single();
        var id = document["eventId"]!.GetValue<string>();

        using var valid = await fixture.Http.SendAsync(Post("/v1/build-failures", Encoding.UTF8.GetBytes(document.ToJsonString()), contentType));
        var before = await fixture.FootprintAsync();
        using var garbage = await fixture.Http.SendAsync(Post("/v1/build-failures", Encoding.UTF8.GetBytes("source=jenkins&job=x&log=y"), contentType));

        // curl -d sends the form content type unless told otherwise: the body is what counts, not what it claims to be.
        Assert.Equal(HttpStatusCode.Accepted, valid.StatusCode);
        Assert.NotNull(await fixture.Gateway.Store.FindAsync(id, CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Equal("application/problem+json", garbage.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await fixture.FootprintAsync());
    }

    private static readonly string[] Instants =
    [
        "2026-01-01", "2026-13-45", "2026-02-30", "2026-01-01T25:00", "0001-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
        "9999-12-31", "2026-07-01T12:00:00.1234567Z", "2026-07-01 12:00", "20260101", "-2026-01-01", "2026-01-01T00:00:00+99:99",
    ];

    private static string? Joined((string, string)[] pairs, string name)
    {
        var values = pairs.Where(p => string.Equals(p.Item1, name, StringComparison.OrdinalIgnoreCase)).Select(p => p.Item2).ToList();
        return values.Count == 0 ? null : string.Join(",", values);
    }

    private Task PropertyAsync(Gen<HostileBody> bodies, Endpoint endpoint) =>
        bodies.SampleAsync(
            body => AssertAnsweredAsync(endpoint.Request(body.Bytes), () => endpoint.MayAccept(body.Bytes)),
            iter: Iterations,
            threads: 1,
            print: body => body.ToString());

    /// <summary>
    /// Sends one request and checks the properties every answer has: no 5xx and no dropped connection; a 4xx is a
    /// problem document and changed nothing in the store; a 2xx is for an input <paramref name="mayAccept"/> allows.
    /// </summary>
    private async Task AssertAnsweredAsync(HttpRequestMessage request, Func<bool> mayAccept)
    {
        var before = await fixture.FootprintAsync();
        HttpResponseMessage response;
        try
        {
            response = await fixture.Http.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            throw new Xunit.Sdk.XunitException($"{request.Method} {request.RequestUri}: the connection was dropped ({e.Message})");
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var answer = await response.Content.ReadAsStringAsync();
            var said = $"{request.Method} {request.RequestUri} answered {status}: {(answer.Length > 500 ? answer[..500] : answer)}";
            Assert.True(status is >= 200 and < 300 or >= 400 and < 500, said);
            if (status >= 400)
            {
                Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", said);
                Assert.Equal(status, JsonNode.Parse(answer)!["status"]!.GetValue<int>());
                Assert.True(before == await fixture.FootprintAsync(), $"{said}; the store changed from {before} to {await fixture.FootprintAsync()}");
            }
            else
            {
                Assert.True(mayAccept(), $"{said}; the input is not valid");
            }
        }
    }

    private static HttpRequestMessage Post(string path, byte[] body, string? contentType, params (string Name, string Value)[] headers)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static HttpRequestMessage Admin(HttpRequestMessage request)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AbuseGateway.AdminKey);
        return request;
    }

    private sealed record Endpoint(
        Func<byte[], HttpRequestMessage> Request, Func<byte[], bool> MayAccept, Gen<JsonObject> Document, string[] Fields);
}
