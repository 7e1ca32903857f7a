using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Triage.Contracts;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Embedded;

/// <summary>The HTTP contract of Ingest, on the embedded gateway (in-memory bus, SQLite, built-in triager).</summary>
public sealed class IngestApiTests : IAsyncLifetime
{
    private GatewayUnderTest gateway = null!;

    public async Task InitializeAsync() => gateway = await GatewayUnderTest.StartAsync("ingest: { max_body_bytes: 65536 }");

    public async Task DisposeAsync() => await gateway.DisposeAsync();

    [Fact]
    public async Task A_build_failure_is_accepted_then_triaged_and_stored()
    {
        var document = Samples.CompileError();
        var id = document["eventId"]!.GetValue<string>();

        using var response = await gateway.Http.PostFailureAsync(document);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal($"/v1/triages/{id}", response.Headers.Location?.ToString());
        var body = await response.JsonAsync();
        Assert.Equal(id, body["id"]!.GetValue<string>());
        Assert.Equal("queued", body["status"]!.GetValue<string>());

        var triage = await gateway.Http.WaitForTriageAsync(id);
        Assert.Equal(TriageCategory.CompileError, triage.Category);
        Assert.Equal("builtin", triage.Provider);
        Assert.Contains("cannot find symbol", triage.SuspectedCause);
        Assert.Equal(1, triage.Attempts);
    }

    [Fact]
    public async Task The_same_event_id_twice_is_triaged_once()
    {
        var document = Samples.CompileError();
        var id = document["eventId"]!.GetValue<string>();

        using var first = await gateway.Http.PostFailureAsync(document);
        var triage = await gateway.Http.WaitForTriageAsync(id);
        using var second = await gateway.Http.PostFailureAsync(document);

        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var body = await second.JsonAsync();
        Assert.True(body["duplicate"]!.GetValue<bool>());
        Assert.Equal("completed", body["status"]!.GetValue<string>());
        await Task.Delay(300);
        var again = await gateway.Http.WaitForTriageAsync(id);
        Assert.Equal(triage.CompletedAt, again.CompletedAt);
    }

    [Fact]
    public async Task Without_an_event_id_the_same_build_gets_the_same_id()
    {
        var document = Samples.Load("02-pytest-assertion");
        document["job"] = "job-" + Guid.NewGuid().ToString("N");

        using var first = await gateway.Http.PostFailureAsync(document);
        using var second = await gateway.Http.PostFailureAsync(document);

        var a = (await first.JsonAsync())["id"]!.GetValue<string>();
        var b = (await second.JsonAsync())["id"]!.GetValue<string>();
        Assert.Equal(a, b);
        Assert.Equal(TriageCategory.TestFailure, (await gateway.Http.WaitForTriageAsync(a)).Category);
    }

    [Fact]
    public async Task A_missing_field_is_a_400_problem_naming_it_and_nothing_is_queued()
    {
        var document = Samples.CompileError();
        document.Remove("job");

        using var response = await gateway.Http.PostFailureAsync(document);

        await AssertProblem(response, HttpStatusCode.BadRequest, "job");
        Assert.Null(await gateway.Store.FindAsync(document["eventId"]!.GetValue<string>(), CancellationToken.None));
    }

    [Fact]
    public async Task A_wrong_type_is_a_400_problem_naming_the_field()
    {
        var document = Samples.CompileError();
        document["buildNumber"] = new JsonObject { ["n"] = 1 };

        using var response = await gateway.Http.PostFailureAsync(document);

        await AssertProblem(response, HttpStatusCode.BadRequest, "buildNumber");
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem()
    {
        using var response = await gateway.Http.PostAsync(
            "/v1/build-failures", new StringContent("{\"source\": \"jenkins\", ", Encoding.UTF8, "application/json"));

        await AssertProblem(response, HttpStatusCode.BadRequest, "$");
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_problem_and_nothing_is_queued()
    {
        var document = Samples.CompileError();
        document["log"] = new string('x', 70_000);

        using var response = await gateway.Http.PostFailureAsync(document);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(await gateway.Store.FindAsync(document["eventId"]!.GetValue<string>(), CancellationToken.None));
    }

    [Fact]
    public async Task An_unknown_route_is_a_422_problem_and_nothing_is_queued()
    {
        var document = Samples.CompileError();
        document["route"] = "nightly";

        using var response = await gateway.Http.PostFailureAsync(document);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.JsonAsync();
        Assert.Equal("route", problem["field"]!.GetValue<string>());
        Assert.Contains("build_triage", problem["detail"]!.GetValue<string>());
        Assert.Null(await gateway.Store.FindAsync(document["eventId"]!.GetValue<string>(), CancellationToken.None));
    }

    [Fact]
    public async Task An_unknown_triage_is_a_404()
    {
        using var response = await gateway.Http.GetAsync("/v1/triages/never-seen");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Health_is_answered()
    {
        using var live = await gateway.Http.GetAsync("/healthz");
        using var ready = await gateway.Http.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var report = await ready.JsonAsync();
        var checks = report["checks"]!.AsArray().Select(c => (Name: c!["name"]!.GetValue<string>(), Status: c["status"]!.GetValue<string>())).ToList();
        Assert.Equal("Healthy", report["status"]!.GetValue<string>());
        Assert.Contains(("store", "Healthy"), checks);
        Assert.Contains(("routes", "Healthy"), checks);
        Assert.Contains(("vector-cache", "Healthy"), checks);
        Assert.Contains(checks, c => c.Name.Contains("masstransit", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Metrics_of_a_triage_are_on_the_prometheus_endpoint()
    {
        var document = Samples.CompileError();
        using (await gateway.Http.PostFailureAsync(document))
        {
        }

        await gateway.Http.WaitForTriageAsync(document["eventId"]!.GetValue<string>());
        await Task.Delay(400);
        var names = (await gateway.Http.GetStringAsync("/metrics")).Split('\n')
            .Where(l => l.StartsWith("triage_", StringComparison.Ordinal))
            .Select(l => l.Split('{', ' ')[0])
            .ToHashSet();

        foreach (var name in new[]
        {
            "triage_received_total", "triage_completed_total", "triage_duration_seconds_bucket", "triage_overhead_seconds_bucket",
            "triage_provider_duration_seconds_bucket", "triage_tokens_total", "triage_cost_usd_total", "triage_attempts_total",
            "triage_provider_outstanding", "triage_provider_healthy",
        })
        {
            Assert.True(names.Contains(name), $"{name} is not among {string.Join(", ", names.Order())}");
        }
    }

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync();
        Assert.True(problem["errors"]?.AsObject().ContainsKey(field), $"the problem names {field}: {problem.ToJsonString()}");
    }
}
