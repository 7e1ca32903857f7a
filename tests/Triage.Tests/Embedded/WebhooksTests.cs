using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Triage.Contracts;
using Triage.Ingest.BuildFailures;
using Triage.Platform.Configuration;
using Triage.Platform.Keys;
using Triage.Platform.Store;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Embedded;

/// <summary>
/// Jenkins, GitHub and GitLab posting their own events to the embedded gateway, with the payloads those systems send,
/// and <c>?wait=</c> on a posted failure. A fake provider on 127.0.0.1 shows what each triage was told of the build.
/// </summary>
public sealed class WebhooksTests : IAsyncLifetime
{
    private const string JenkinsToken = "jenkins-token-5f0c9e7a41d2";
    private const string GitHubSecret = "github-secret-8b3e1c6d90fa";
    private const string GitLabToken = "gitlab-token-27d4a1f3c8e6";

    private FakeProviderServer provider = null!;
    private GatewayUnderTest? gateway;
    private string? storeDirectory;

    public async Task InitializeAsync() => provider = await FakeProviderServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (gateway is not null)
        {
            await gateway.DisposeAsync();
        }

        await provider.DisposeAsync();
        if (storeDirectory is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(storeDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_failed_jenkins_build_from_the_notification_plugin_is_triaged_with_its_job_repository_and_build()
    {
        var http = await StartAsync();

        using var response = await http.PostAsync($"/v1/webhooks/jenkins?token={JenkinsToken}", Json(JenkinsNotification("COMPLETED", "FAILURE")));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.JsonAsync();
        var id = accepted["id"]!.GetValue<string>();
        Assert.Equal("jenkins-payments:refund-service-1842", id);
        Assert.Equal("queued", accepted["status"]!.GetValue<string>());
        Assert.Equal("/v1/triages/jenkins-payments%3Arefund-service-1842", response.Headers.Location?.ToString());
        var triage = await http.WaitForTriageAsync(id);
        Assert.Equal(FakeProviderServer.Model, triage.Model);
        var shown = Assert.Single(provider.Requests).UserMessage;
        Assert.Contains("- source: jenkins", shown);
        Assert.Contains("- job: payments/refund-service", shown);
        Assert.Contains("- build: 1842", shown);
        Assert.Contains("- repository: acme/payments-service", shown);
        Assert.Contains("- branch: main", shown);
        Assert.Contains("com.acme.payments.RefundServiceTest.settlesPartialRefund", shown);
        Assert.Contains("expected: <2> but was: <3>", shown);
    }

    [Fact]
    public async Task Jenkins_notifying_COMPLETED_then_FINALIZED_triages_the_build_once()
    {
        var http = await StartAsync();

        using var completed = await http.PostAsync($"/v1/webhooks/jenkins?token={JenkinsToken}", Json(JenkinsNotification("COMPLETED", "UNSTABLE")));
        var id = (await completed.JsonAsync())["id"]!.GetValue<string>();
        await http.WaitForTriageAsync(id);
        using var finalized = await http.PostAsync($"/v1/webhooks/jenkins?token={JenkinsToken}", Json(JenkinsNotification("FINALIZED", "UNSTABLE")));

        Assert.Equal(HttpStatusCode.Accepted, finalized.StatusCode);
        var duplicate = await finalized.JsonAsync();
        Assert.Equal(id, duplicate["id"]!.GetValue<string>());
        Assert.True(duplicate["duplicate"]!.GetValue<bool>());
        Assert.Equal("completed", duplicate["status"]!.GetValue<string>());
        await Task.Delay(200);
        Assert.Single(provider.Requests);
    }

    [Theory]
    [InlineData("STARTED", "FAILURE", "phase STARTED")]
    [InlineData("QUEUED", null, "phase QUEUED")]
    [InlineData("COMPLETED", "SUCCESS", "status SUCCESS")]
    [InlineData("FINALIZED", "ABORTED", "status ABORTED")]
    public async Task A_jenkins_build_that_has_not_failed_is_ignored_with_the_reason(string phase, string? status, string reason)
    {
        var http = await StartAsync();

        using var response = await http.PostAsync($"/v1/webhooks/jenkins?token={JenkinsToken}", Json(JenkinsNotification(phase, status)));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Contains(reason, body["ignored"]!.GetValue<string>());
        Assert.False(body.ContainsKey("id"));
        Assert.Null(await gateway!.Store.FindAsync("jenkins-payments:refund-service-1842", CancellationToken.None));
    }

    [Fact]
    public async Task A_jenkins_delivery_needs_the_token_in_the_query_or_the_header()
    {
        var http = await StartAsync();

        using var missing = await http.PostAsync("/v1/webhooks/jenkins", Json(JenkinsNotification("COMPLETED", "FAILURE")));
        using var wrong = await http.PostAsync("/v1/webhooks/jenkins?token=jenkins-token-guessed-0000", Json(JenkinsNotification("COMPLETED", "FAILURE")));
        using var header = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/jenkins") { Content = Json(JenkinsNotification("COMPLETED", "FAILURE")) };
        header.Headers.Add("X-Triage-Token", JenkinsToken);
        using var right = await http.SendAsync(header);

        await AssertProblemAsync(missing, HttpStatusCode.Unauthorized);
        await AssertProblemAsync(wrong, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.Accepted, right.StatusCode);
    }

    [Fact]
    public async Task A_failed_github_workflow_run_is_triaged_from_its_facts()
    {
        var http = await StartAsync();

        using var response = await PostGitHubAsync(http, "workflow_run", WorkflowRun("completed", "failure"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.JsonAsync())["id"]!.GetValue<string>();
        Assert.Equal("github-9876543210-1", id);
        await http.WaitForTriageAsync(id);
        var shown = Assert.Single(provider.Requests).UserMessage;
        Assert.Contains("- source: github-actions", shown);
        Assert.Contains("- job: CI", shown);
        Assert.Contains("- build: 42", shown);
        Assert.Contains("- repository: acme/payments-service", shown);
        Assert.Contains("- branch: main", shown);
        Assert.Contains("https://github.com/acme/payments-service/actions/runs/9876543210", shown);
    }

    [Fact]
    public async Task A_redelivered_github_event_is_a_duplicate()
    {
        var http = await StartAsync();
        var payload = WorkflowRun("completed", "failure");

        using var first = await PostGitHubAsync(http, "workflow_run", payload);
        using var redelivered = await PostGitHubAsync(http, "workflow_run", payload);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, redelivered.StatusCode);
        var duplicate = await redelivered.JsonAsync();
        Assert.Equal("github-9876543210-1", duplicate["id"]!.GetValue<string>());
        Assert.True(duplicate["duplicate"]!.GetValue<bool>());
        await http.WaitForTriageAsync("github-9876543210-1");
        await Task.Delay(200);
        Assert.Single(provider.Requests);
    }

    [Fact]
    public async Task A_github_delivery_with_the_form_content_type_is_read_from_its_payload_field()
    {
        var http = await StartAsync();
        var form = "payload=" + Uri.EscapeDataString(WorkflowRun("completed", "failure"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/github")
        {
            Content = new StringContent(form, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Add("X-GitHub-Event", "workflow_run");
        request.Headers.Add("X-Hub-Signature-256", Sign(GitHubSecret, form));

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("github-9876543210-1", (await response.JsonAsync())["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("ping", null, null, "ping")]
    [InlineData("push", null, null, "event 'push'")]
    [InlineData("workflow_run", "in_progress", null, "action 'in_progress'")]
    [InlineData("workflow_run", "completed", "success", "conclusion 'success'")]
    [InlineData("workflow_run", "completed", "cancelled", "conclusion 'cancelled'")]
    public async Task A_github_event_that_is_not_a_failed_run_is_ignored_with_the_reason(string eventName, string? action, string? conclusion, string reason)
    {
        var http = await StartAsync();
        var payload = eventName == "workflow_run" ? WorkflowRun(action!, conclusion) : eventName == "ping" ? GitHubPing : """{"ref": "refs/heads/main", "after": "9f1c2e7d"}""";

        using var response = await PostGitHubAsync(http, eventName, payload);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Contains(reason, (await response.JsonAsync())["ignored"]!.GetValue<string>());
        Assert.Null(await gateway!.Store.FindAsync("github-9876543210-1", CancellationToken.None));
    }

    [Fact]
    public async Task A_github_event_whose_signature_is_missing_wrong_or_not_of_this_body_is_401_and_nothing_is_queued()
    {
        var http = await StartAsync();
        var payload = WorkflowRun("completed", "failure");

        using var unsigned = await PostGitHubAsync(http, "workflow_run", payload, signature: null);
        using var otherSecret = await PostGitHubAsync(http, "workflow_run", payload, signature: Sign("another-secret-0123456789", payload));
        using var tampered = await PostGitHubAsync(http, "workflow_run", payload.Replace("\"run_number\": 42", "\"run_number\": 43"), signature: Sign(GitHubSecret, payload));
        using var garbage = await PostGitHubAsync(http, "workflow_run", payload, signature: "sha256=not-hex");

        foreach (var response in new[] { unsigned, otherSecret, tampered, garbage })
        {
            var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
            Assert.Equal("X-Hub-Signature-256", problem["field"]!.GetValue<string>());
        }

        Assert.Null(await gateway!.Store.FindAsync("github-9876543210-1", CancellationToken.None));
    }

    [Fact]
    public async Task A_failed_gitlab_pipeline_and_a_failed_gitlab_job_are_triaged_and_redeliveries_are_duplicates()
    {
        var http = await StartAsync();

        using var pipeline = await PostGitLabAsync(http, "Pipeline Hook", PipelineHook("failed"));
        using var job = await PostGitLabAsync(http, "Job Hook", JobHook("failed", allowFailure: false));
        using var again = await PostGitLabAsync(http, "Pipeline Hook", PipelineHook("failed"));

        Assert.Equal(HttpStatusCode.Accepted, pipeline.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, job.StatusCode);
        Assert.Equal("gitlab-2366", (await pipeline.JsonAsync())["id"]!.GetValue<string>());
        Assert.Equal("gitlab-job-1977", (await job.JsonAsync())["id"]!.GetValue<string>());
        Assert.True((await again.JsonAsync())["duplicate"]!.GetValue<bool>());
        await http.WaitForTriageAsync("gitlab-2366");
        await http.WaitForTriageAsync("gitlab-job-1977");
        Assert.Equal(2, provider.Requests.Count);
        var shown = provider.Requests.Select(r => r.UserMessage).ToList();
        var ofPipeline = Assert.Single(shown, s => s.Contains("- build: 2366"));
        Assert.Contains("- repository: gitlab-org/gitlab-test", ofPipeline);
        Assert.Contains("- branch: main", ofPipeline);
        Assert.Contains("- stage: test", ofPipeline);
        Assert.Contains("rspec: script_failure", ofPipeline);
        var ofJob = Assert.Single(shown, s => s.Contains("- build: 1977"));
        Assert.Contains("- job: rspec", ofJob);
        Assert.Contains("- repository: gitlab-org/gitlab-test", ofJob);
        Assert.Contains("- stage: test", ofJob);
    }

    [Fact]
    public async Task GitLab_events_that_are_not_failures_are_ignored_and_a_wrong_token_is_401()
    {
        var http = await StartAsync();

        using var running = await PostGitLabAsync(http, "Pipeline Hook", PipelineHook("running"));
        using var succeeded = await PostGitLabAsync(http, "Job Hook", JobHook("success", allowFailure: false));
        using var allowed = await PostGitLabAsync(http, "Job Hook", JobHook("failed", allowFailure: true));
        using var push = await PostGitLabAsync(http, "Push Hook", """{"object_kind": "push", "ref": "refs/heads/main"}""");
        using var wrong = await PostGitLabAsync(http, "Pipeline Hook", PipelineHook("failed"), token: "gitlab-token-guessed-0000");
        using var missing = await PostGitLabAsync(http, "Pipeline Hook", PipelineHook("failed"), token: null);

        Assert.Contains("pipeline status 'running'", await IgnoredAsync(running));
        Assert.Contains("job status 'success'", await IgnoredAsync(succeeded));
        Assert.Contains("allow_failure", await IgnoredAsync(allowed));
        Assert.Contains("object_kind 'push'", await IgnoredAsync(push));
        Assert.Equal("X-Gitlab-Token", (await AssertProblemAsync(wrong, HttpStatusCode.Unauthorized))["field"]!.GetValue<string>());
        await AssertProblemAsync(missing, HttpStatusCode.Unauthorized);
        Assert.Null(await gateway!.Store.FindAsync("gitlab-2366", CancellationToken.None));
        Assert.Null(await gateway.Store.FindAsync("gitlab-job-1977", CancellationToken.None));
    }

    [Fact]
    public async Task A_malformed_payload_is_a_400_problem_naming_the_field()
    {
        var http = await StartAsync();

        using var response = await http.PostAsync(
            $"/v1/webhooks/jenkins?token={JenkinsToken}",
            Json(JenkinsNotification("COMPLETED", "FAILURE").Replace("\"number\": 1842", "\"number\": {\"n\": 1842}")));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]!.AsObject().ContainsKey("build.number"), problem.ToJsonString());
    }

    [Fact]
    public async Task An_unconfigured_webhook_is_a_404_problem_naming_it()
    {
        gateway = await GatewayUnderTest.StartAsync();

        foreach (var name in new[] { "jenkins", "github", "gitlab" })
        {
            using var response = await gateway.Http.PostAsync($"/v1/webhooks/{name}", Json("{}"));

            var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound);
            Assert.Contains($"webhooks.{name} is not configured", problem["detail"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Waiting_answers_200_with_the_triage_when_it_completes_in_time()
    {
        var http = await StartAsync();
        provider.Latency = TimeSpan.FromMilliseconds(300);
        var document = Samples.CompileError();
        var id = document["eventId"]!.GetValue<string>();

        using var waited = await http.PostAsync("/v1/build-failures?wait=20s", Json(document.ToJsonString()));
        using var again = await http.PostAsync("/v1/build-failures?wait=20", Json(document.ToJsonString()));

        Assert.Equal(HttpStatusCode.OK, waited.StatusCode);
        var triage = (await waited.Content.ReadFromJsonAsync<TriageCompleted>(Http.Json))!;
        Assert.Equal(id, triage.EventId);
        Assert.Equal(FakeProviderServer.Model, triage.Model);
        Assert.Equal(TriageCategory.CompileError, triage.Category);

        // A known failure that is already triaged answers at once with the same triage.
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(triage.CompletedAt, (await again.Content.ReadFromJsonAsync<TriageCompleted>(Http.Json))!.CompletedAt);
        Assert.Single(provider.Requests);
    }

    [Fact]
    public async Task Waiting_less_than_a_slow_provider_takes_answers_the_usual_202()
    {
        var http = await StartAsync();
        provider.Latency = TimeSpan.FromSeconds(2);
        var document = Samples.CompileError();
        var id = document["eventId"]!.GetValue<string>();

        var started = Stopwatch.GetTimestamp();
        using var response = await http.PostAsync("/v1/build-failures?wait=1ms", Json(document.ToJsonString()));
        var took = Stopwatch.GetElapsedTime(started);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(id, body["id"]!.GetValue<string>());
        Assert.NotEqual("completed", body["status"]!.GetValue<string>());
        Assert.Equal($"/v1/triages/{id}", response.Headers.Location?.ToString());
        Assert.True(took < provider.Latency, $"answered after {took.TotalMilliseconds:0} ms");
        await http.WaitForTriageAsync(id);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("61s")]
    [InlineData("-1")]
    [InlineData("2m")]
    [InlineData("99999999999999999999")]
    public async Task A_wait_that_is_not_a_duration_of_at_most_a_minute_is_a_400_naming_wait_and_nothing_is_queued(string wait)
    {
        var http = await StartAsync();
        var document = Samples.CompileError();

        using var response = await http.PostAsync($"/v1/build-failures?wait={wait}", Json(document.ToJsonString()));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]!.AsObject().ContainsKey("wait"), problem.ToJsonString());
        Assert.Null(await gateway!.Store.FindAsync(document["eventId"]!.GetValue<string>(), CancellationToken.None));
    }

    [Fact]
    public async Task Waiting_stops_as_soon_as_the_caller_hangs_up()
    {
        await StartAsync();
        var queued = Samples.Failure("never published", eventId: "never-triaged") with { ReceivedAt = DateTimeOffset.UtcNow };
        await gateway!.Store.TryAddQueuedAsync(queued, CancellationToken.None);
        using var hangUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        var started = Stopwatch.GetTimestamp();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => TriageWait.ForResultAsync(gateway.Store, new RecordedTriages(), "never-triaged", TimeSpan.FromSeconds(60), TimeProvider.System, hangUp.Token));

        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task With_keys_required_a_webhook_is_charged_to_the_key_it_names_and_stops_when_the_key_is_revoked()
    {
        storeDirectory = Path.Combine(Path.GetTempPath(), "triage-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(storeDirectory);
        var file = Path.Combine(storeDirectory, "keys.db");
        var database = TriageDatabase.From(new StoreOptions { Sqlite = file }, storeDirectory);
        await database.MigrateAsync(CancellationToken.None);
        var issued = await new VirtualKeyStore(database, TimeProvider.System).CreateAsync(new KeySpec("team"), CancellationToken.None);

        var http = await StartAsync(
            $$"""
            store: { sqlite: "{{file}}" }
            auth: { required: true, key_cache_seconds: 0 }
            """,
            keyId: issued.Key.Id);
        using var charged = await PostGitHubAsync(http, "workflow_run", WorkflowRun("completed", "failure"));
        using var withoutKey = await http.PostAsync("/v1/build-failures", Json(Samples.CompileError().ToJsonString()));

        Assert.Equal(HttpStatusCode.Accepted, charged.StatusCode);

        // With keys required, a triage is read with a key of the team it is charged to.
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", issued.Secret);
        await http.WaitForTriageAsync("github-9876543210-1");
        await using (var db = gateway!.Services.GetRequiredService<TriageDatabase>().CreateContext())
        {
            var charge = await db.Charges.AsNoTracking().SingleAsync(c => c.EventId == "github-9876543210-1");
            Assert.Equal(issued.Key.Id, charge.KeyId);
            Assert.Equal("team", charge.Team);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);

        await gateway.Services.GetRequiredService<VirtualKeyStore>().RevokeAsync(issued.Key.Id, "leaked", CancellationToken.None);
        using var revoked = await PostGitHubAsync(http, "workflow_run", WorkflowRun("completed", "failure", runId: 9876543211));

        var problem = await AssertProblemAsync(revoked, HttpStatusCode.Unauthorized);
        Assert.Equal("webhooks.github.key_id", problem["field"]!.GetValue<string>());
        Assert.Contains("revoked", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public void With_keys_required_a_webhook_without_a_key_id_is_a_configuration_error_naming_it()
    {
        var error = Assert.Throws<ConfigurationException>(() => Load("""
            auth: { required: true }
            webhooks:
              github: { secret: "github-secret-8b3e1c6d90fa" }
            """));

        Assert.Contains(error.Errors, e => e.Contains("webhooks.github.key_id"));
    }

    [Fact]
    public void A_webhook_needs_a_long_secret_a_configured_route_and_known_settings()
    {
        var error = Assert.Throws<ConfigurationException>(() => Load("""
            webhooks:
              jenkins: { token: short, route: nightly }
              gitlab: { token: "gitlab-token-27d4a1f3c8e6", secret: "not-a-gitlab-setting" }
              bitbucket: { token: "bitbucket-token-0123456789" }
            """));

        Assert.Contains(error.Errors, e => e.Contains("webhooks.jenkins.token"));
        Assert.Contains(error.Errors, e => e.Contains("webhooks.jenkins.route") && e.Contains("nightly"));
        Assert.Contains(error.Errors, e => e.Contains("webhooks.gitlab.secret"));
        Assert.Contains(error.Errors, e => e.Contains("webhooks.bitbucket"));
    }

    [Fact]
    public void Webhooks_left_out_of_the_file_are_not_configured()
    {
        var options = Load("""
            webhooks:
              gitlab: { token: "gitlab-token-27d4a1f3c8e6", key_id: key_0123456789abcdef }
            """);

        Assert.Null(options.Webhooks.Jenkins);
        Assert.Null(options.Webhooks.Github);
        Assert.Equal("key_0123456789abcdef", options.Webhooks.Gitlab?.KeyId);
        Assert.Equal("build_triage", options.Webhooks.Gitlab?.Route);
    }

    /// <summary>The gateway with all three webhooks, charged to <paramref name="keyId"/> when one is given.</summary>
    private async Task<HttpClient> StartAsync(string extra = "", string? keyId = null)
    {
        var charged = keyId is null ? string.Empty : $", key_id: {keyId}";
        gateway = await GatewayUnderTest.StartAsync($$"""
            providers:
              fake: { type: openai-compatible, base_url: "{{provider.BaseUrl}}", model: {{FakeProviderServer.Model}} }
            routing:
              build_triage: { providers: [fake] }
            webhooks:
              jenkins: { token: "{{JenkinsToken}}"{{charged}} }
              github: { secret: "{{GitHubSecret}}"{{charged}} }
              gitlab: { token: "{{GitLabToken}}"{{charged}} }
            {{extra}}
            """);
        return gateway.Http;
    }

    private static TriageOptions Load(string yaml)
    {
        var directory = Path.Combine(Path.GetTempPath(), "triage-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var path = Path.Combine(directory, "triage.yaml");
            File.WriteAllText(path, yaml);
            return TriageConfiguration.Load(path, environment: new Dictionary<string, string?>());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Task<HttpResponseMessage> PostGitHubAsync(HttpClient http, string eventName, string payload, string? signature = "")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/github") { Content = Json(payload) };
        request.Headers.Add("X-GitHub-Event", eventName);
        request.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
        request.Headers.Add("User-Agent", "GitHub-Hookshot/4f6a9b2");
        if (signature is not null)
        {
            request.Headers.Add("X-Hub-Signature-256", signature.Length == 0 ? Sign(GitHubSecret, payload) : signature);
        }

        return http.SendAsync(request);
    }

    private static Task<HttpResponseMessage> PostGitLabAsync(HttpClient http, string eventName, string payload, string? token = GitLabToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/gitlab") { Content = Json(payload) };
        request.Headers.Add("X-Gitlab-Event", eventName);
        request.Headers.Add("User-Agent", "GitLab/17.5.1");
        if (token is not null)
        {
            request.Headers.Add("X-Gitlab-Token", token);
        }

        return http.SendAsync(request);
    }

    /// <summary>As GitHub signs a delivery: HMAC-SHA256 of the exact bytes sent, keyed with the webhook's secret.</summary>
    private static string Sign(string secret, string payload) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(payload)));

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<string> IgnoredAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.JsonAsync())["ignored"]!.GetValue<string>();
    }

    private static async Task<System.Text.Json.Nodes.JsonObject> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.JsonAsync();
    }

    /// <summary>What the Notification plugin (JSON format, "Log lines: 200") posts for a pipeline job in a folder.</summary>
    private static string JenkinsNotification(string phase, string? status) => $$"""
        {
          "name": "refund-service",
          "display_name": "refund-service",
          "url": "job/payments/job/refund-service/",
          "build": {
            "full_url": "https://jenkins.acme.example/job/payments/job/refund-service/1842/",
            "number": 1842,
            "queue_id": 77310,
            "timestamp": 1732612503000,
            "duration": 214533,
            "phase": "{{phase}}",
            {{(status is null ? string.Empty : $"\"status\": \"{status}\",")}}
            "url": "job/payments/job/refund-service/1842/",
            "scm": {
              "url": "https://github.com/acme/payments-service.git",
              "branch": "origin/main",
              "commit": "9f1c2e7d4b5a60718293a4b5c6d7e8f901234567",
              "changes": ["src/main/java/com/acme/payments/RefundService.java"],
              "culprits": ["jdoe"]
            },
            "parameters": { "DEPLOY": "false" },
            "log": "[INFO] Running com.acme.payments.RefundServiceTest\n[ERROR] Tests run: 12, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 1.42 s <<< FAILURE! - in com.acme.payments.RefundServiceTest\n[ERROR] com.acme.payments.RefundServiceTest.settlesPartialRefund  Time elapsed: 0.031 s  <<< FAILURE!\norg.opentest4j.AssertionFailedError: expected: <2> but was: <3>\n\tat com.acme.payments.RefundServiceTest.settlesPartialRefund(RefundServiceTest.java:88)\n[INFO] BUILD FAILURE\n[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test (default-test) on project payments-service: There are test failures.\nFinished: FAILURE\n",
            "notes": "",
            "artifacts": {},
            "test_summary": {
              "total": 312,
              "failed": 1,
              "passed": 309,
              "skipped": 2,
              "failed_tests": ["com.acme.payments.RefundServiceTest.settlesPartialRefund"]
            }
          }
        }
        """;

    /// <summary>A <c>workflow_run</c> delivery as GitHub sends it (trimmed of the owner and repository URLs it repeats).</summary>
    private static string WorkflowRun(string action, string? conclusion, long runId = 9876543210) => $$"""
        {
          "action": "{{action}}",
          "workflow_run": {
            "id": {{runId}},
            "name": "CI",
            "node_id": "WFR_kwLOAbCdEf8AAAACTx8Yqg",
            "head_branch": "main",
            "head_sha": "9f1c2e7d4b5a60718293a4b5c6d7e8f901234567",
            "path": ".github/workflows/ci.yml",
            "display_title": "Settle partial refunds in one ledger call",
            "run_number": 42,
            "event": "push",
            "status": "{{(action == "completed" ? "completed" : action)}}",
            "conclusion": {{(conclusion is null ? "null" : $"\"{conclusion}\"")}},
            "workflow_id": 61234567,
            "check_suite_id": 24681357911,
            "url": "https://api.github.com/repos/acme/payments-service/actions/runs/{{runId}}",
            "html_url": "https://github.com/acme/payments-service/actions/runs/{{runId}}",
            "pull_requests": [],
            "created_at": "2026-11-26T09:12:03Z",
            "updated_at": "2026-11-26T09:16:41Z",
            "actor": { "login": "jdoe", "id": 1234567, "type": "User" },
            "run_attempt": 1,
            "run_started_at": "2026-11-26T09:12:03Z",
            "jobs_url": "https://api.github.com/repos/acme/payments-service/actions/runs/{{runId}}/jobs",
            "logs_url": "https://api.github.com/repos/acme/payments-service/actions/runs/{{runId}}/logs",
            "head_commit": {
              "id": "9f1c2e7d4b5a60718293a4b5c6d7e8f901234567",
              "message": "Settle partial refunds in one ledger call",
              "timestamp": "2026-11-26T09:11:58Z",
              "author": { "name": "Jane Doe", "email": "jdoe@acme.example" }
            },
            "repository": { "id": 707070707, "name": "payments-service", "full_name": "acme/payments-service", "private": true },
            "head_repository": { "id": 707070707, "name": "payments-service", "full_name": "acme/payments-service", "private": true }
          },
          "workflow": { "id": 61234567, "name": "CI", "path": ".github/workflows/ci.yml", "state": "active" },
          "repository": {
            "id": 707070707,
            "node_id": "R_kgDOKiQhJw",
            "name": "payments-service",
            "full_name": "acme/payments-service",
            "private": true,
            "owner": { "login": "acme", "id": 7654321, "type": "Organization" },
            "html_url": "https://github.com/acme/payments-service",
            "default_branch": "main"
          },
          "organization": { "login": "acme", "id": 7654321 },
          "sender": { "login": "jdoe", "id": 1234567, "type": "User" }
        }
        """;

    private const string GitHubPing = """
        {
          "zen": "Design for failure.",
          "hook_id": 509876123,
          "hook": {
            "type": "Repository",
            "id": 509876123,
            "name": "web",
            "active": true,
            "events": ["workflow_run"],
            "config": { "content_type": "json", "insecure_ssl": "0", "url": "https://triage.acme.example/v1/webhooks/github" }
          },
          "repository": { "id": 707070707, "name": "payments-service", "full_name": "acme/payments-service", "private": true },
          "sender": { "login": "jdoe", "id": 1234567, "type": "User" }
        }
        """;

    /// <summary>GitLab's Pipeline Hook; its builds come newest first.</summary>
    private static string PipelineHook(string status) => $$"""
        {
          "object_kind": "pipeline",
          "object_attributes": {
            "id": 2366,
            "iid": 118,
            "name": null,
            "ref": "main",
            "tag": false,
            "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "before_sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "source": "push",
            "status": "{{status}}",
            "detailed_status": "{{status}}",
            "stages": ["build", "test", "deploy"],
            "created_at": "2026-11-26 09:12:03 UTC",
            "finished_at": "2026-11-26 09:16:41 UTC",
            "duration": 278,
            "queued_duration": 4,
            "variables": [],
            "url": "https://gitlab.acme.example/gitlab-org/gitlab-test/-/pipelines/2366"
          },
          "merge_request": null,
          "user": { "id": 1, "name": "Jane Doe", "username": "jdoe", "email": "[REDACTED]" },
          "project": {
            "id": 380,
            "name": "Gitlab Test",
            "description": "Example project",
            "web_url": "https://gitlab.acme.example/gitlab-org/gitlab-test",
            "avatar_url": null,
            "git_ssh_url": "git@gitlab.acme.example:gitlab-org/gitlab-test.git",
            "git_http_url": "https://gitlab.acme.example/gitlab-org/gitlab-test.git",
            "namespace": "Gitlab Org",
            "visibility_level": 0,
            "path_with_namespace": "gitlab-org/gitlab-test",
            "default_branch": "main",
            "ci_config_path": null
          },
          "commit": {
            "id": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "message": "Settle partial refunds in one ledger call\n",
            "title": "Settle partial refunds in one ledger call",
            "timestamp": "2026-11-26T09:11:58+00:00",
            "url": "https://gitlab.acme.example/gitlab-org/gitlab-test/-/commit/bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "author": { "name": "Jane Doe", "email": "jdoe@acme.example" }
          },
          "builds": [
            { "id": 1979, "stage": "deploy", "name": "production", "status": "skipped", "created_at": "2026-11-26 09:12:03 UTC", "when": "manual", "manual": true, "allow_failure": false, "failure_reason": null },
            { "id": 1978, "stage": "test", "name": "lint", "status": "failed", "allow_failure": true, "failure_reason": "script_failure" },
            { "id": 1977, "stage": "test", "name": "rspec", "status": "failed", "allow_failure": false, "failure_reason": "script_failure" },
            { "id": 1976, "stage": "build", "name": "compile", "status": "success", "allow_failure": false, "failure_reason": null }
          ]
        }
        """;

    /// <summary>GitLab's Job Hook (object_kind build) of the pipeline's rspec job.</summary>
    private static string JobHook(string status, bool allowFailure) => $$"""
        {
          "object_kind": "build",
          "ref": "main",
          "tag": false,
          "before_sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
          "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
          "retries_count": 0,
          "build_id": 1977,
          "build_name": "rspec",
          "build_stage": "test",
          "build_status": "{{status}}",
          "build_created_at": "2026-11-26 09:12:03 UTC",
          "build_started_at": "2026-11-26 09:13:10 UTC",
          "build_finished_at": "2026-11-26 09:16:40 UTC",
          "build_duration": 210.4,
          "build_queued_duration": 3.1,
          "build_allow_failure": {{(allowFailure ? "true" : "false")}},
          "build_failure_reason": "script_failure",
          "pipeline_id": 2366,
          "runner": { "id": 12, "description": "shared-runner-1", "runner_type": "instance_type", "active": true, "is_shared": true, "tags": ["docker"] },
          "project_id": 380,
          "project_name": "Gitlab Org / Gitlab Test",
          "user": { "id": 1, "name": "Jane Doe", "username": "jdoe", "email": "[REDACTED]" },
          "commit": {
            "id": 2366,
            "name": null,
            "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "message": "Settle partial refunds in one ledger call\n",
            "author_name": "Jane Doe",
            "author_email": "jdoe@acme.example",
            "status": "running",
            "duration": null,
            "started_at": "2026-11-26 09:12:03 UTC",
            "finished_at": null
          },
          "repository": {
            "name": "Gitlab Test",
            "url": "git@gitlab.acme.example:gitlab-org/gitlab-test.git",
            "description": "Example project",
            "homepage": "https://gitlab.acme.example/gitlab-org/gitlab-test",
            "git_http_url": "https://gitlab.acme.example/gitlab-org/gitlab-test.git",
            "git_ssh_url": "git@gitlab.acme.example:gitlab-org/gitlab-test.git",
            "visibility_level": 0
          },
          "project": {
            "id": 380,
            "name": "Gitlab Test",
            "web_url": "https://gitlab.acme.example/gitlab-org/gitlab-test",
            "path_with_namespace": "gitlab-org/gitlab-test",
            "default_branch": "main"
          },
          "environment": null
        }
        """;
}
