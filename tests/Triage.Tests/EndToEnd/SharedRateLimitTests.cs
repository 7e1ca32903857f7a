using System.Net;
using System.Net.Http.Headers;
using Triage.Platform.Configuration;
using Triage.Platform.Keys;
using Triage.Platform.Store;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.EndToEnd;

/// <summary>Two Ingest processes of the <c>triage</c> binary share one key's rate limit through PostgreSQL.</summary>
public sealed class SharedRateLimitTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("triage-rate-").FullName;

    [SkippableFact]
    public async Task A_key_s_requests_per_minute_hold_across_two_Ingest_processes()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var store = new StoreOptions { Postgres = database.ConnectionString };
        var keys = TriageDatabase.From(store, directory);
        await keys.MigrateAsync(default);
        var issued = await new VirtualKeyStore(keys, TimeProvider.System).CreateAsync(new KeySpec("payments", RequestsPerMinute: 6), default);
        var config = Path.Combine(directory, "triage.yaml");
        await File.WriteAllTextAsync(config, $"""
            store:
              postgres: "{database.ConnectionString}"
            """);

        var addresses = new[] { new Uri($"http://127.0.0.1:{TriageProcess.FreePort()}"), new Uri($"http://127.0.0.1:{TriageProcess.FreePort()}") };
        await using var first = TriageProcess.Start("run", "--roles", "ingest", "--config", config, "--urls", addresses[0].ToString());
        await using var second = TriageProcess.Start("run", "--roles", "ingest", "--config", config, "--urls", addresses[1].ToString());
        await Task.WhenAll(first.WaitUntilHealthyAsync(addresses[0], TimeSpan.FromSeconds(60)), second.WaitUntilHealthyAsync(addresses[1], TimeSpan.FromSeconds(60)));
        using var toFirst = new HttpClient { BaseAddress = addresses[0] };
        using var toSecond = new HttpClient { BaseAddress = addresses[1] };

        var statuses = new List<(int Process, HttpStatusCode Status)>();
        for (var i = 0; i < 10; i++)
        {
            var http = i % 2 == 0 ? toFirst : toSecond;
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/build-failures")
            {
                Content = new StringContent(Samples.CompileError().ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", issued.Secret);
            using var response = await http.SendAsync(request);
            statuses.Add((i % 2, response.StatusCode));
        }

        output.WriteLine(string.Join(", ", statuses.Select(s => $"{(s.Process == 0 ? "first" : "second")}:{(int)s.Status}")));
        Assert.Equal(6, statuses.Count(s => s.Status == HttpStatusCode.Accepted));
        Assert.Equal(4, statuses.Count(s => s.Status == HttpStatusCode.TooManyRequests));
        Assert.Contains(statuses, s => s is { Process: 0, Status: HttpStatusCode.TooManyRequests });
        Assert.Contains(statuses, s => s is { Process: 1, Status: HttpStatusCode.TooManyRequests });
        Assert.DoesNotContain(issued.Secret, first.Output + second.Output);
    }

    public void Dispose()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }
}
