using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Triage.Host.Hosting;
using Triage.Platform.Store;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Cache;

/// <summary>The cache in the running gateway: reruns of a failure reuse its triage, other failures never do.</summary>
public sealed class SemanticCacheTests : IAsyncLifetime
{
    private FakeProviderServer provider = null!;

    public async Task InitializeAsync() => provider = await FakeProviderServer.StartAsync();

    public async Task DisposeAsync() => await provider.DisposeAsync();

    private Task<GatewayUnderTest> GatewayAsync(string extra = "") => GatewayUnderTest.StartAsync($"""
        providers:
          fake: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: {FakeProviderServer.Model}, capacity: 8 {"}"}
        routing:
          build_triage: {"{"} providers: [fake] {"}"}
        {extra}
        """);

    [Fact]
    public async Task A_rerun_of_the_same_failure_reuses_the_triage_without_calling_a_provider()
    {
        await using var gateway = await GatewayAsync();

        var first = await TriageAsync(gateway, Failure("run-1", JUnitLog("shouldParseDates", build: 101, at: "2026-11-20T10:15:03Z")));
        var rerun = await TriageAsync(gateway, Failure("run-2", JUnitLog("shouldParseDates", build: 117, at: "2026-11-23T18:02:44Z")));

        Assert.Null(first.Cache);
        Assert.NotNull(rerun.Cache);
        Assert.True(rerun.Cache.Hit);
        Assert.Equal("run-1", rerun.Cache.SourceTriageId);
        Assert.InRange(rerun.Cache.Similarity, 0.92, 1.0);
        Assert.Equal(0m, rerun.CostUsd);
        Assert.Equal(first.Summary, rerun.Summary);
        Assert.Single(provider.Requests);
    }

    [Fact]
    public async Task The_excerpt_a_result_is_remembered_by_is_stored_before_any_provider_is_called()
    {
        // A slow store write stands for a loaded database: the result of a fast provider must still find the excerpt.
        var settings = HostSettings.All("http://127.0.0.1:0") with
        {
            Services = services => services.AddSingleton<ITriageStore>(provider =>
                new SlowToMarkRouted(ActivatorUtilities.CreateInstance<EfTriageStore>(provider), TimeSpan.FromMilliseconds(300))),
        };
        await using var gateway = await GatewayUnderTest.StartAsync($"""
            providers:
              fake: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: {FakeProviderServer.Model} {"}"}
            routing:
              build_triage: {"{"} providers: [fake] {"}"}
            """, settings: settings);
        CacheSource? seenByProvider = null;
        provider.Reply = _ =>
        {
            seenByProvider = gateway.Store.FindCacheSourceAsync("fast-1", default).GetAwaiter().GetResult();
            return FakeReply.Answer(FakeProviderServer.DefaultAnswer);
        };

        await TriageAsync(gateway, Failure("fast-1", JUnitLog("shouldParseDates", build: 1)));
        var rerun = await TriageAsync(gateway, Failure("fast-2", JUnitLog("shouldParseDates", build: 2)));

        Assert.NotNull(seenByProvider);
        Assert.Contains("shouldParseDates", seenByProvider.Excerpt, StringComparison.Ordinal);
        Assert.Equal("fast-1", rerun.Cache?.SourceTriageId);
    }

    [Fact]
    public async Task Another_failing_test_through_the_same_assertion_is_triaged_afresh()
    {
        await using var gateway = await GatewayAsync();

        await TriageAsync(gateway, Failure("test-a", JUnitLog("shouldParseDates", build: 101)));
        var other = await TriageAsync(gateway, Failure("test-b", JUnitLog("shouldParseTimes", build: 102)));

        Assert.Null(other.Cache);
        Assert.Equal(2, provider.Requests.Count);
    }

    [Fact]
    public async Task Another_repository_never_reuses_a_triage()
    {
        await using var gateway = await GatewayAsync();

        await TriageAsync(gateway, Failure("repo-a", JUnitLog("shouldParseDates", build: 1), repository: "acme/one"));
        var other = await TriageAsync(gateway, Failure("repo-b", JUnitLog("shouldParseDates", build: 2), repository: "acme/two"));

        Assert.Null(other.Cache);
        Assert.Equal(2, provider.Requests.Count);
    }

    [Fact]
    public async Task A_failure_that_asks_for_a_fresh_triage_gets_one()
    {
        await using var gateway = await GatewayAsync();

        await TriageAsync(gateway, Failure("opt-1", JUnitLog("shouldParseDates", build: 1)));
        var fresh = Failure("opt-2", JUnitLog("shouldParseDates", build: 2));
        fresh["cache"] = false;
        var triage = await TriageAsync(gateway, fresh);

        Assert.Null(triage.Cache);
        Assert.Equal(2, provider.Requests.Count);
    }

    [Fact]
    public async Task A_route_with_the_cache_turned_off_calls_its_provider_every_time()
    {
        await using var gateway = await GatewayUnderTest.StartAsync($"""
            providers:
              fake: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: {FakeProviderServer.Model} {"}"}
            routing:
              build_triage: {"{"} providers: [fake], cache: {"{"} enabled: false {"}"} {"}"}
            """);

        await TriageAsync(gateway, Failure("off-1", JUnitLog("shouldParseDates", build: 1)));
        var second = await TriageAsync(gateway, Failure("off-2", JUnitLog("shouldParseDates", build: 2)));

        Assert.Null(second.Cache);
        Assert.Equal(2, provider.Requests.Count);
    }

    [Fact]
    public async Task Identical_failures_that_arrive_together_pay_for_one_provider_call()
    {
        provider.Latency = TimeSpan.FromMilliseconds(700);
        await using var gateway = await GatewayAsync();

        var posts = Enumerable.Range(1, 6)
            .Select(i => gateway.Http.PostFailureAsync(Failure($"burst-{i}", JUnitLog("shouldParseDates", build: 200 + i))))
            .ToList();
        foreach (var response in await Task.WhenAll(posts))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        }

        var triages = await Task.WhenAll(Enumerable.Range(1, 6).Select(i => gateway.Http.WaitForTriageAsync($"burst-{i}")));

        Assert.Single(provider.Requests);
        var fresh = Assert.Single(triages, t => t.Cache is null);
        Assert.All(triages.Where(t => t.Cache is not null), t => Assert.Equal(fresh.EventId, t.Cache!.SourceTriageId));
    }

    [Fact]
    public async Task A_cache_hit_survives_a_restart_of_the_embedded_gateway()
    {
        var database = Path.Combine(Path.GetTempPath(), $"triage-cache-{Guid.NewGuid():N}.db");
        var yaml = $"""
            providers:
              fake: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: {FakeProviderServer.Model} {"}"}
            routing:
              build_triage: {"{"} providers: [fake] {"}"}
            store:
              sqlite: "{database}"
            """;
        await using (var gateway = await GatewayUnderTest.StartAsync(yaml))
        {
            await TriageAsync(gateway, Failure("before", JUnitLog("shouldParseDates", build: 1)));
        }

        await using (var gateway = await GatewayUnderTest.StartAsync(yaml))
        {
            var after = await TriageAsync(gateway, Failure("after", JUnitLog("shouldParseDates", build: 2)));
            Assert.Equal("before", after.Cache?.SourceTriageId);
        }

        Assert.Single(provider.Requests);
    }

    private static async Task<Contracts.TriageCompleted> TriageAsync(GatewayUnderTest gateway, JsonObject failure)
    {
        using var response = await gateway.Http.PostFailureAsync(failure);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return await gateway.Http.WaitForTriageAsync(failure["eventId"]!.GetValue<string>());
    }

    private static JsonObject Failure(string id, string log, string repository = "acme/payments") => new()
    {
        ["eventId"] = id,
        ["source"] = "jenkins",
        ["job"] = "payments/main",
        ["buildNumber"] = id,
        ["repository"] = repository,
        ["log"] = log,
    };

    /// <summary>A Maven/JUnit run whose one failing test is <paramref name="test"/>; what varies between runs varies here.</summary>
    internal static string JUnitLog(string test, int build, string at = "2026-11-20T10:15:03Z") => $"""
        Started by timer, build #{build} at {at}
        [INFO] Building payments 1.4.{build}
        [INFO] Running com.acme.payments.DateParserTest
        [INFO] Tests run: 12, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: {build % 7}.{build % 10}31 s
        [ERROR] Tests run: 12, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 2.{build}1 s <<< FAILURE! - in com.acme.payments.DateParserTest
        [ERROR] {test}(com.acme.payments.DateParserTest)  Time elapsed: 0.0{build} s  <<< FAILURE!
        org.opentest4j.AssertionFailedError: expected: <2026-01-01> but was: <2025-12-31>
        	at org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)
        	at com.acme.payments.DateParserTest.{test}(DateParserTest.java:4{build % 10})
        [INFO] Results:
        [ERROR] Failures:
        [ERROR]   DateParserTest.{test}:4{build % 10} expected: <2026-01-01> but was: <2025-12-31>
        [ERROR] Tests run: 212, Failures: 1, Errors: 0, Skipped: 3
        [INFO] BUILD FAILURE
        [INFO] Total time:  0{build % 9}:1{build % 10} min
        [INFO] Finished at: {at}
        [ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test (default-test) on project payments: There are test failures.
        [ERROR] Please refer to /var/lib/jenkins/workspace/payments-{build}/target/surefire-reports for the individual test results.
        Finished: FAILURE
        """;

    /// <summary>A store whose <c>MarkRoutedAsync</c> takes its time.</summary>
    private sealed class SlowToMarkRouted(ITriageStore inner, TimeSpan delay) : ITriageStore
    {
        public async Task MarkRoutedAsync(string eventId, string? cacheExcerpt, CancellationToken cancellationToken)
        {
            await Task.Delay(delay, cancellationToken);
            await inner.MarkRoutedAsync(eventId, cacheExcerpt, cancellationToken);
        }

        public Task<bool> TryAddQueuedAsync(Contracts.BuildFailed failure, CancellationToken cancellationToken) => inner.TryAddQueuedAsync(failure, cancellationToken);

        public Task RemoveQueuedAsync(string eventId, CancellationToken cancellationToken) => inner.RemoveQueuedAsync(eventId, cancellationToken);

        public Task<CacheSource?> FindCacheSourceAsync(string eventId, CancellationToken cancellationToken) => inner.FindCacheSourceAsync(eventId, cancellationToken);

        public Task<StoredTriage?> FindAsync(string eventId, CancellationToken cancellationToken) => inner.FindAsync(eventId, cancellationToken);

        public Task MarkDeadLetteredAsync(string eventId, CancellationToken cancellationToken) => inner.MarkDeadLetteredAsync(eventId, cancellationToken);

        public Task<bool> TakeReplayAsync(string eventId, int replay, CancellationToken cancellationToken) => inner.TakeReplayAsync(eventId, replay, cancellationToken);

        public Task<bool> RecordCompletedAsync(Contracts.TriageCompleted result, CancellationToken cancellationToken) => inner.RecordCompletedAsync(result, cancellationToken);
    }
}
