using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Triage.Host.Hosting;
using Triage.Platform.DeadLetters;
using Triage.Tests.Chaos;
using Triage.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Triage.Tests.Abuse;

/// <summary>
/// A build log full of planted secrets goes through the whole distributed pipeline on the real RabbitMQ and PostgreSQL:
/// triaged by a provider, found again in the cache, dead-lettered on a route whose provider is down. Then every place
/// the gateway writes to is searched for each secret: the provider requests, every row of every table (triages, cache
/// entries, dead letters, usage), the triage API's answers, the dead letter, the results published on <c>triage.completed.json</c>, the
/// Prometheus metrics and every log line, at Debug.
/// </summary>
public sealed class PlantedSecretsTests(ITestOutputHelper output) : DistributedGatewayTest
{
    private readonly CapturedLogs logs = new();
    private FakeProviderServer provider = null!;
    private FakeProviderServer down = null!;

    protected override bool SemanticCache => true;

    protected override HostSettings Settings => HostSettings.All("http://127.0.0.1:0") with
    {
        Services = services =>
        {
            services.AddSingleton<ILoggerProvider>(logs);
            services.Configure<LoggerFilterOptions>(filters => filters.MinLevel = LogLevel.Debug);
        },
    };

    protected override async Task<string> ConfigurationAsync()
    {
        provider = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.OpenAi));
        down = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.Anthropic));
        down.Reply = _ => FakeReply.Error(500, "api_error", "Internal server error");
        return $"""
            providers:
              up: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: m, capacity: 4 {"}"}
              down: {"{"} type: anthropic, base_url: "{down.BaseUrl}", model: claude-test, api_key: sk-ant-test, max_retries: 0 {"}"}
            routing:
              build_triage: {"{"} providers: [up] {"}"}
              doomed: {"{"} providers: [down], timeout_ms: 10000 {"}"}
            """;
    }

    [SkippableFact]
    public async Task No_planted_secret_reaches_a_provider_the_store_the_cache_an_api_an_event_a_metric_or_a_log()
    {
        var events = await CompletedEvents.BindAsync(Broker.Uri);

        await PostAsync("secrets-1", "build_triage", build: 101);
        await Gateway.Http.WaitForTriageAsync("secrets-1");
        await PostAsync("secrets-2", "build_triage", build: 102);
        var rerun = await Gateway.Http.WaitForTriageAsync("secrets-2");
        await PostAsync("secrets-3", "doomed", build: 103);
        var dead = await WaitForDeadLetterAsync("secrets-3");
        await events.WaitForAsync(["secrets-1", "secrets-2"], TimeSpan.FromSeconds(30));

        // The pipeline did run: a provider triaged the redacted failure, the cache answered the rerun, one is dead.
        Assert.Single(provider.Requests);
        Assert.NotEmpty(down.Requests);
        Assert.True(rerun.Cache?.Hit, "the rerun was not answered from the cache, so the cache was not searched");
        var seenByProvider = provider.Requests.Single().AllText;
        Assert.Contains("shouldChargeTheCard", seenByProvider, StringComparison.Ordinal);
        Assert.Contains("[REDACTED:", seenByProvider, StringComparison.Ordinal);
        var (tables, rows) = await Database.DumpAsync();
        Assert.Contains("cache_entries", tables);
        Assert.Contains("dead_letters", tables);

        var sinks = new Dictionary<string, string>
        {
            ["requests to the provider that answered"] = string.Join('\n', provider.Requests.Select(Describe)),
            ["requests to the provider that was down"] = string.Join('\n', down.Requests.Select(Describe)),
            ["every row of every table"] = rows,
            ["GET /v1/triages/{id}"] = await GetAsync("/v1/triages/secrets-1") + await GetAsync("/v1/triages/secrets-2"),
            ["the dead letter"] = dead,
            ["triage.completed.json"] = JsonSerializer.Serialize(events.Received),
            ["GET /metrics"] = await GetAsync("/metrics"),
            ["log lines"] = logs.Text,
        };

        var leaks = (from sink in sinks
                     from secret in Planted.All
                     where sink.Value.Contains(secret.Value, StringComparison.Ordinal)
                     select $"{secret.Key} in {sink.Key}").ToList();
        output.WriteLine($"{Planted.All.Count} secrets planted; searched {string.Join(", ", sinks.Select(s => $"{s.Key} ({s.Value.Length:N0} chars)"))}");
        Assert.True(logs.Lines > 0, "no log line was captured");
        Assert.Empty(leaks);
    }

    private async Task PostAsync(string eventId, string route, int build)
    {
        using var response = await Gateway.Http.PostFailureAsync(new JsonObject
        {
            ["eventId"] = eventId,
            ["route"] = route,
            ["source"] = "jenkins",
            ["job"] = "payments/service",
            ["buildNumber"] = build,
            ["repository"] = "acme/payments",
            ["branch"] = "main",
            ["commit"] = "4f1c2a9",
            ["buildUrl"] = $"https://ci.example.com/job/payments/{build}/",
            ["log"] = Planted.Log(build),
        });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>The dead letter as the store gives it to <c>GET /v1/dead-letters/{id}</c> and <c>triage dead-letters</c>.</summary>
    private async Task<string> WaitForDeadLetterAsync(string eventId)
    {
        var letters = Gateway.Services.GetRequiredService<DeadLetterStore>();
        for (var i = 0; i < 300; i++)
        {
            if (await letters.FindAsync(eventId, default) is { } dead)
            {
                return JsonSerializer.Serialize(dead);
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{eventId} was not dead-lettered within 30 s");
    }

    private async Task<string> GetAsync(string path)
    {
        using var response = await Gateway.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static string Describe(RecordedRequest request) =>
        string.Join('\n', request.Headers.Select(h => $"{h.Key}: {h.Value}")) + "\n" + request.AllText;

    /// <summary>Secrets of every kind the redactor knows, each random and unique, planted around the failure's lines.</summary>
    private static class Planted
    {
        private static readonly Random Random = new(20261125);

        public static readonly IReadOnlyDictionary<string, string> All = new Dictionary<string, string>
        {
            ["aws-access-key"] = "AKIA" + Chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
            ["aws-secret-key"] = Chars(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
            ["github-token"] = "ghp_" + Chars(36),
            ["gitlab-token"] = "glpat-" + Chars(20),
            ["slack-token"] = "xoxb-123456789012-1234567890123-" + Chars(24),
            ["jwt"] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjaS1ib3QiLCJleHAiOjE3MDAwMDAwMDB9." + Chars(43),
            ["url-password"] = "Pa55w0rd-" + Chars(12),
            ["db-password"] = "Db-" + Chars(16),
            ["bearer-token"] = Chars(40),
            ["npm-token"] = "npm_" + Chars(36),
            ["openai-key"] = "sk-proj-" + Chars(80),
            ["anthropic-key"] = "sk-ant-api03-" + Chars(93) + "AA",
            ["stripe-key"] = "sk_live_" + Chars(24),
            ["client-secret"] = Chars(32),
            ["private-key"] = Chars(64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
        };

        /// <summary>A Maven build whose failing test and its context carry every secret above.</summary>
        public static string Log(int build)
        {
            var s = All;
            return $"""
                Started by timer; build #{build} at 2026-11-25T10:{build % 60:D2}:00Z
                [INFO] Scanning for projects...
                + export AWS_ACCESS_KEY_ID={s["aws-access-key"]}
                + aws_secret_access_key = {s["aws-secret-key"]}
                remote: Using token {s["github-token"]} for github.com
                Using personal access token {s["gitlab-token"]} to push tags
                //registry.npmjs.org/:_authToken={s["npm-token"]}
                [INFO] Running com.acme.payments.ChargeTest
                Posting with {s["slack-token"]} to #builds
                Received OIDC id token {s["jwt"]} from https://token.actions.githubusercontent.com
                [ERROR] Tests run: 4, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 1.93 s <<< FAILURE! - in com.acme.payments.ChargeTest
                [ERROR] shouldChargeTheCard(com.acme.payments.ChargeTest)  Time elapsed: 0.41 s  <<< FAILURE!
                java.lang.AssertionError: expected:<200> but was:<401> from https://deploy:{s["url-password"]}@git.example.com/acme/payments.git
                	at org.junit.Assert.fail(Assert.java:89)
                	at com.acme.payments.ChargeTest.shouldChargeTheCard(ChargeTest.java:57)
                curl -H "Authorization: Bearer {s["bearer-token"]}" https://api.example.com/v1/charges
                DB_PASSWORD={s["db-password"]}
                Using OpenAI key {s["openai-key"]} for embeddings
                Calling the model with {s["anthropic-key"]}
                STRIPE_LIVE={s["stripe-key"]} loaded
                client_secret={s["client-secret"]}
                -----BEGIN RSA PRIVATE KEY-----
                {s["private-key"]}
                -----END RSA PRIVATE KEY-----
                [ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test (default-test) on project payments: There are test failures.
                [INFO] BUILD FAILURE
                """;
        }

        private static string Chars(int count, string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        {
            lock (Random)
            {
                return new string(Enumerable.Range(0, count).Select(_ => alphabet[Random.Next(alphabet.Length)]).ToArray());
            }
        }
    }

    /// <summary>Every log entry of the gateway, formatted, with its structured values and exception.</summary>
    private sealed class CapturedLogs : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> entries = new();

        public int Lines => entries.Count;

        public string Text => string.Join('\n', entries);

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var line = new StringBuilder($"{logLevel} {category}: {formatter(state, exception)}");
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    foreach (var (key, value) in values)
                    {
                        line.Append($" {key}={value}");
                    }
                }

                if (exception is not null)
                {
                    line.Append('\n').Append(exception);
                }

                entries.Enqueue(line.ToString());
            }
        }
    }
}
