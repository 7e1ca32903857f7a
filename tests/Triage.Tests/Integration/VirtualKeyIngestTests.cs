using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triage.Host.Hosting;
using Triage.Platform;
using Triage.Platform.Keys;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>
/// Ingest with virtual keys on the real PostgreSQL, where keys are required by default: every refusal with its status
/// code and problem document, and the budget under 200 simultaneous requests.
/// </summary>
public sealed class VirtualKeyIngestTests : IAsyncLifetime
{
    private PostgresDatabase database = null!;
    private GatewayUnderTest gateway = null!;

    private VirtualKeyStore Keys => gateway.Services.GetRequiredService<VirtualKeyStore>();

    public async Task InitializeAsync()
    {
        database = await PostgresDatabase.CreateAsync();

        // Ingest alone: what it admits waits in the bus, so nothing settles and frees budget during a test.
        gateway = await GatewayUnderTest.StartAsync(
            $"""
            providers:
              priced: {"{"} type: openai-compatible, base_url: "http://127.0.0.1:9/v1", model: m, input_usd_per_mtok: 1, output_usd_per_mtok: 1 {"}"}
            routing:
              build_triage: {"{"} providers: [priced] {"}"}
              release: {"{"} providers: [priced] {"}"}
            store:
              postgres: "{database.ConnectionString}"
            auth:
              key_cache_seconds: 1
            """,
            settings: new HostSettings(TriageRoles.Ingest, "http://127.0.0.1:0", []));
    }

    public async Task DisposeAsync()
    {
        await gateway.DisposeAsync();
        await database.DisposeAsync();
    }

    [SkippableFact]
    public async Task A_write_without_a_key_or_with_an_unknown_one_is_401()
    {
        using var missing = await PostAsync(null, Samples.CompileError());
        using var unknown = await PostAsync(KeySecret.New(), Samples.CompileError());
        using var malformed = await PostAsync("hunter2", Samples.CompileError());

        foreach (var response in new[] { missing, unknown, malformed })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Authorization", (await response.JsonAsync())["field"]?.GetValue<string>());
        }
    }

    [SkippableFact]
    public async Task A_revoked_key_stops_working_within_the_key_cache_and_says_why()
    {
        var issued = await Keys.CreateAsync(new KeySpec("payments"), default);
        using (var before = await PostAsync(issued.Secret, Samples.CompileError()))
        {
            Assert.Equal(HttpStatusCode.Accepted, before.StatusCode);
        }

        await Keys.RevokeAsync(issued.Key.Id, "leaked in a build log", default);
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        using var after = await PostAsync(issued.Secret, Samples.CompileError());

        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        var problem = await after.JsonAsync();
        Assert.Contains("revoked", problem["detail"]!.GetValue<string>());
        Assert.Contains("leaked in a build log", problem["detail"]!.GetValue<string>());
        Assert.Equal(issued.Key.Id, problem["keyId"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task An_expired_key_is_401_with_the_reason()
    {
        var issued = await Keys.CreateAsync(new KeySpec("payments", ExpiresAt: DateTimeOffset.UtcNow.AddMilliseconds(500)), default);
        await Task.Delay(TimeSpan.FromSeconds(0.8));

        using var response = await PostAsync(issued.Secret, Samples.CompileError());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("expired", (await response.JsonAsync())["detail"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task A_route_the_key_does_not_name_is_403()
    {
        var issued = await Keys.CreateAsync(new KeySpec("payments", Routes: ["build_triage"]), default);
        var document = Samples.CompileError();
        document["route"] = "release";

        using var response = await PostAsync(issued.Secret, document);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.JsonAsync();
        Assert.Equal("route", problem["field"]!.GetValue<string>());
        Assert.Contains("release", problem["detail"]!.GetValue<string>());
    }

    [SkippableFact]
    public async Task Over_the_requests_per_minute_is_429_with_Retry_After()
    {
        var issued = await Keys.CreateAsync(new KeySpec("payments", RequestsPerMinute: 2), default);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 3; i++)
        {
            last?.Dispose();
            last = await PostAsync(issued.Secret, Samples.CompileError());
            statuses.Add(last.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests], statuses);
        var retryAfter = last!.Headers.RetryAfter?.Delta;
        Assert.InRange(retryAfter!.Value.TotalSeconds, 1, 30);
        var problem = await last.JsonAsync();
        Assert.Equal("rpm", problem["limit"]!.GetValue<string>());
        Assert.Equal((int)retryAfter.Value.TotalSeconds, problem["retryAfterSeconds"]!.GetValue<int>());
        last.Dispose();
    }

    [SkippableFact]
    public async Task Of_200_simultaneous_requests_against_a_budget_for_50_exactly_50_are_admitted_and_the_rest_get_402()
    {
        var document = Samples.CompileError();
        var (estimate, _) = gateway.Services.GetRequiredService<KeyAdmission>().Estimate("build_triage", document["log"]!.GetValue<string>().Length);
        Assert.True(estimate > 0);
        var issued = await Keys.CreateAsync(new KeySpec("payments", BudgetUsd: estimate * 50, BudgetPeriod: BudgetPeriod.Month), default);

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => PostAsync(issued.Secret, Samples.CompileError())));

        Assert.Equal(50, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(150, responses.Count(r => r.StatusCode == HttpStatusCode.PaymentRequired));
        var problem = await responses.First(r => r.StatusCode == HttpStatusCode.PaymentRequired).JsonAsync();
        Assert.Equal(0m, problem["remainingUsd"]!.GetValue<decimal>());
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1), problem["resetsAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(estimate * 50, problem["budgetUsd"]!.GetValue<decimal>());
        Assert.Equal(50, await database.CountAsync("SELECT count(*) FROM charges WHERE state = 'reserved'"));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [SkippableFact]
    public async Task A_key_reaches_the_rest_of_the_gateway_as_its_id_never_as_its_secret()
    {
        var issued = await Keys.CreateAsync(new KeySpec("payments"), default);
        var document = Samples.CompileError();

        using var response = await PostAsync(issued.Secret, document);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, await database.CountAsync(
            $"SELECT count(*) FROM charges WHERE event_id = '{document["eventId"]}' AND key_id = '{issued.Key.Id}' AND team = 'payments'"));
    }

    private async Task<HttpResponseMessage> PostAsync(string? secret, JsonObject document)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/build-failures")
        {
            Content = new StringContent(document.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        if (secret is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }

        return await gateway.Http.SendAsync(request);
    }
}
