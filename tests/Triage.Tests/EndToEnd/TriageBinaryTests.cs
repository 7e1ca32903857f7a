using System.Diagnostics;
using System.Net;
using Triage.Contracts;
using Triage.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Triage.Tests.EndToEnd;

/// <summary>The <c>triage</c> binary as a separate process: HTTP → RabbitMQ → Router → Worker → PostgreSQL.</summary>
public sealed class TriageBinaryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string directory = Directory.CreateTempSubdirectory("triage-e2e-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }

    [SkippableFact]
    public async Task A_failure_posted_to_the_binary_is_triaged_through_RabbitMQ_and_PostgreSQL_and_its_reruns_come_from_the_cache()
    {
        await using var broker = await RabbitMqVirtualHost.CreateAsync();
        await using var database = await PostgresDatabase.CreateAsync();
        await using var provider = await FakeProviderServer.StartAsync();
        var config = Path.Combine(directory, "triage.yaml");
        await File.WriteAllTextAsync(config, $"""
            providers:
              vllm: {"{"} type: openai-compatible, base_url: "{provider.BaseUrl}", model: {FakeProviderServer.Model}, capacity: 2 {"}"}
            routing:
              build_triage: {"{"} providers: [vllm] {"}"}
            bus:
              rabbitmq: "{broker.Uri}"
            store:
              postgres: "{database.ConnectionString}"
            auth:
              required: false
            """);
        var address = new Uri($"http://127.0.0.1:{TriageProcess.FreePort()}");
        await using var triage = TriageProcess.Start("run", "--config", config, "--urls", address.ToString());
        await triage.WaitUntilHealthyAsync(address, TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = address };

        var timings = new List<double>();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var document = Samples.CompileError();
            var id = document["eventId"]!.GetValue<string>();
            var started = Stopwatch.GetTimestamp();
            using var response = await http.PostFailureAsync(document);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var result = await http.WaitForTriageAsync(id);
            timings.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);

            // The same failure again (another build of it): the cache answers, no provider is called.
            Assert.Equal("vllm", result.Provider);
            Assert.Equal(TriageCategory.CompileError, result.Category);
            Assert.Equal(i == 0 ? new TokenUsage(812, 64) : new TokenUsage(0, 0), result.Usage);
            Assert.Equal(i == 0 ? null : ids[0], result.Cache?.SourceTriageId);
            Assert.Single(provider.Requests);
            ids.Add(id);
            Assert.Equal(1, await database.CountAsync($"SELECT count(*) FROM triages WHERE event_id = '{id}' AND status = 'completed'"));
        }

        Assert.Single(provider.Requests);
        Assert.Null(provider.Requests.First().Header("authorization"));
        output.WriteLine($"POST → stored result over RabbitMQ and PostgreSQL (first from the provider, then from the cache), in ms: {string.Join(", ", timings.Select(t => t.ToString("0.0")))}");
    }

    [Fact]
    public async Task An_invalid_configuration_stops_the_binary_with_the_key_named()
    {
        var config = Path.Combine(directory, "triage.yaml");
        await File.WriteAllTextAsync(config, "providers:\n  main: { type: openai-compatible, model: m }\n");

        var (exitCode, printed) = await TriageProcess.RunAsync(TimeSpan.FromSeconds(60), "run", "--config", config);

        Assert.Equal(2, exitCode);
        Assert.Contains("triage.yaml:2: providers.main.base_url", printed);
    }

    [Fact]
    public async Task The_demo_triages_every_bundled_sample_with_nothing_installed()
    {
        var port = TriageProcess.FreePort();

        var (exitCode, printed) = await TriageProcess.RunAsync(TimeSpan.FromSeconds(120), "demo", "--exit", "--urls", $"http://127.0.0.1:{port}");

        output.WriteLine(printed);
        Assert.Equal(0, exitCode);
        Assert.Contains("in-memory bus", printed);
        Assert.Contains("SQLite", printed);
        foreach (var category in new[] { TriageCategory.CompileError, TriageCategory.TestFailure, TriageCategory.Dependency, TriageCategory.OutOfMemory })
        {
            Assert.Contains($"category:   {category}", printed);
        }
    }

    [Fact]
    public async Task Help_lists_the_commands()
    {
        var (exitCode, printed) = await TriageProcess.RunAsync(TimeSpan.FromSeconds(60), "--help");

        Assert.Equal(0, exitCode);
        Assert.Contains("run", printed);
        Assert.Contains("demo", printed);
        Assert.Contains("publish", printed);
    }
}
