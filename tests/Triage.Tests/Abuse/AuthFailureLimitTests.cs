using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Triage.Ingest.Apis;
using Triage.Platform.Configuration;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Abuse;

/// <summary>
/// Repeated refused authentications from one address: counted per address in one-minute windows, and once over
/// <c>auth.failed_attempts_per_minute</c> every endpoint that authenticates answers 429 before looking at any key.
/// </summary>
public sealed class AuthFailureLimitTests
{
    private static readonly IPAddress First = IPAddress.Parse("203.0.113.7");
    private static readonly IPAddress Second = IPAddress.Parse("203.0.113.8");

    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public void An_address_is_blocked_after_its_twentieth_refusal_and_another_address_is_not()
    {
        var limiter = Limiter(20);

        for (var i = 0; i < 19; i++)
        {
            limiter.RecordFailure(First);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.False(limiter.IsBlocked(First, out _));
        limiter.RecordFailure(First);
        Assert.True(limiter.IsBlocked(First, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(41), retryAfter);
        Assert.False(limiter.IsBlocked(Second, out _));

        for (var i = 0; i < 20; i++)
        {
            limiter.RecordFailure(Second);
        }

        Assert.True(limiter.IsBlocked(Second, out var secondRetry));
        Assert.Equal(TimeSpan.FromMinutes(1), secondRetry);
    }

    [Fact]
    public void A_block_lasts_the_rest_of_the_window_and_the_next_window_counts_afresh()
    {
        var limiter = Limiter(3);
        for (var i = 0; i < 3; i++)
        {
            limiter.RecordFailure(First);
        }

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.True(limiter.IsBlocked(First, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(limiter.IsBlocked(First, out _));
        limiter.RecordFailure(First);
        limiter.RecordFailure(First);
        Assert.False(limiter.IsBlocked(First, out _));
        limiter.RecordFailure(First);
        Assert.True(limiter.IsBlocked(First, out _));
    }

    [Fact]
    public void The_addresses_of_one_ipv6_network_share_a_count_and_a_mapped_ipv4_address_is_the_ipv4_one()
    {
        var limiter = Limiter(2);

        limiter.RecordFailure(IPAddress.Parse("2001:db8:1:2::1"));
        limiter.RecordFailure(IPAddress.Parse("2001:db8:1:2:ffff::9"));
        limiter.RecordFailure(IPAddress.Parse("::ffff:203.0.113.7"));
        limiter.RecordFailure(First);

        Assert.True(limiter.IsBlocked(IPAddress.Parse("2001:db8:1:2::77"), out _));
        Assert.False(limiter.IsBlocked(IPAddress.Parse("2001:db8:1:3::1"), out _));
        Assert.True(limiter.IsBlocked(First, out _));
    }

    [Fact]
    public void Zero_turns_the_limit_off()
    {
        var limiter = Limiter(0);
        for (var i = 0; i < 1000; i++)
        {
            limiter.RecordFailure(First);
        }

        Assert.False(limiter.IsBlocked(First, out _));
        Assert.Equal(0, limiter.Remembered);
    }

    [Fact]
    public void Failures_from_more_addresses_than_it_remembers_do_not_grow_it_nor_free_a_blocked_address()
    {
        var limiter = Limiter(2);
        limiter.RecordFailure(First);
        limiter.RecordFailure(First);

        for (var i = 0; i < AuthFailureLimiter.MaxClients + 500; i++)
        {
            limiter.RecordFailure(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]));
        }

        Assert.InRange(limiter.Remembered, 1, AuthFailureLimiter.MaxClients);
        Assert.True(limiter.IsBlocked(First, out _));
    }

    [Fact]
    public void The_setting_is_known_and_a_negative_one_is_an_error_naming_it()
    {
        Assert.Equal(20, new AuthOptions().FailedAttemptsPerMinute);
        var options = new TriageOptions { Auth = { FailedAttemptsPerMinute = -1 } };

        var errors = TriageOptionsValidator.Validate(options);

        Assert.Contains(errors, e => e.Key == "auth.failed_attempts_per_minute");
    }

    private AuthFailureLimiter Limiter(int perMinute) =>
        new(new TriageOptions { Auth = { FailedAttemptsPerMinute = perMinute } }, time, NullLogger<AuthFailureLimiter>.Instance);
}

/// <summary>The limit on the running gateway: refusals by any endpoint that authenticates add up, and then every one answers 429.</summary>
public sealed class AuthFailureLimitHttpTests(AbuseGateway fixture) : IClassFixture<AbuseGateway>, IDisposable
{
    /// <summary>Without the fixture's default key: each request here says what it sends, or sends nothing.</summary>
    private readonly HttpClient http = new() { BaseAddress = fixture.Http.BaseAddress };

    public void Dispose() => http.Dispose();

    [Fact]
    public async Task After_twenty_refused_authentications_from_one_client_every_authenticating_endpoint_answers_429_with_retry_after()
    {
        const string Guessed = "Bearer tk-guessed0000000000000000000000000000";
        var refusals = new List<HttpResponseMessage>();
        for (var i = 0; i < 5; i++)
        {
            refusals.Add(await SendAsync(HttpMethod.Post, "/v1/build-failures", Guessed, body: Samples.CompileError().ToJsonString()));
        }

        // A request that succeeds on the way resets nothing.
        using (var allowed = await SendAsync(HttpMethod.Get, "/v1/usage", "Bearer " + fixture.TeamSecret))
        {
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        for (var i = 0; i < 5; i++)
        {
            refusals.Add(await SendAsync(HttpMethod.Post, "/v1/webhooks/jenkins?token=guessed-token-0000000000", null, body: "{}"));
        }

        for (var i = 0; i < 4; i++)
        {
            refusals.Add(await SendAsync(HttpMethod.Post, "/v1/webhooks/github", null, body: "{}", ("X-GitHub-Event", "workflow_run"), ("X-Hub-Signature-256", "sha256=" + new string('0', 64))));
        }

        for (var i = 0; i < 3; i++)
        {
            refusals.Add(await SendAsync(HttpMethod.Get, "/v1/admin/keys", "Bearer not-the-admin-key-000000000000"));
        }

        refusals.Add(await SendAsync(HttpMethod.Get, "/v1/dead-letters", "Bearer " + fixture.TeamSecret));
        refusals.Add(await SendAsync(HttpMethod.Get, "/v1/usage", Guessed));
        refusals.Add(await SendAsync(HttpMethod.Get, "/v1/triages/some-id", null));
        Assert.Equal(20, refusals.Count);
        Assert.All(refusals, r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));

        (HttpMethod Method, string Path, string? Authorization, string? Body)[] rightful =
        [
            (HttpMethod.Post, "/v1/build-failures", Guessed, Samples.CompileError().ToJsonString()),
            (HttpMethod.Post, "/v1/build-failures", "Bearer " + fixture.TeamSecret, Samples.CompileError().ToJsonString()),
            (HttpMethod.Get, "/v1/triages/some-id", "Bearer " + fixture.TeamSecret, null),
            (HttpMethod.Get, "/v1/usage", "Bearer " + AbuseGateway.AdminKey, null),
            (HttpMethod.Get, "/v1/admin/keys", "Bearer " + AbuseGateway.AdminKey, null),
            (HttpMethod.Get, "/v1/dead-letters", "Bearer " + AbuseGateway.AdminKey, null),
            (HttpMethod.Post, "/v1/webhooks/jenkins?token=" + AbuseGateway.JenkinsToken, null, "{}"),
        ];
        foreach (var (method, path, authorization, body) in rightful)
        {
            using var limited = await SendAsync(method, path, authorization, body);

            Assert.True(limited.StatusCode == HttpStatusCode.TooManyRequests, $"{method} {path}: {(int)limited.StatusCode}");
            Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
            var retryAfter = limited.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
            Assert.Contains("failed_attempts_per_minute", (await limited.JsonAsync())["detail"]!.GetValue<string>());
        }

        using var health = await http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        refusals.ForEach(r => r.Dispose());
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? authorization, string? body = null, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        request.Headers.Authorization = authorization is null ? null : AuthenticationHeaderValue.Parse(authorization);
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return http.SendAsync(request);
    }
}
