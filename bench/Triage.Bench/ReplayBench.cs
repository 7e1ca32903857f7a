using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Triage.Contracts;
using Triage.Platform.Configuration;
using Triage.Platform.Store;

namespace Triage.Bench;

/// <summary>
/// <c>replay</c>: seeds N dead letters in a PostgreSQL database of its own, runs <c>triage replay --all</c> as a
/// process against a RabbitMQ virtual host of its own (no router: the replays wait in the router's queue), and reports
/// the achieved rate against the requested one, the replay process's peak resident memory, and that every dead letter
/// reached the queue and the progress reached 100%.
/// </summary>
internal static class ReplayBench
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<int> RunAsync(string[] args)
    {
        var count = Argument(args, "--dead-letters", 50_000);
        var rate = Argument(args, "--rate", 1_000);
        var postgres = Environment.GetEnvironmentVariable("TRIAGE_TEST_POSTGRES") ?? "Host=127.0.0.1;Username=triage;Password=triage;Database=postgres";
        var management = new Uri(Environment.GetEnvironmentVariable("TRIAGE_TEST_RABBITMQ_MANAGEMENT") ?? "http://guest:guest@127.0.0.1:15672/");
        var name = $"triage_bench_{Guid.NewGuid():N}"[..28];
        var directory = Directory.CreateTempSubdirectory("triage-replay-bench-").FullName;
        using var rabbit = Management(management);
        await using (var admin = new NpgsqlConnection(postgres))
        {
            await admin.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE {name}", admin).ExecuteNonQueryAsync();
        }

        (await rabbit.PutAsync($"api/vhosts/{name}", null)).EnsureSuccessStatusCode();
        (await rabbit.PutAsJsonAsync($"api/permissions/{name}/{management.UserInfo.Split(':')[0]}", new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        try
        {
            var store = new NpgsqlConnectionStringBuilder(postgres) { Database = name }.ConnectionString;
            var database = TriageDatabase.From(new StoreOptions { Postgres = store }, directory);
            await database.MigrateAsync(default);
            var seeding = Stopwatch.StartNew();
            await SeedAsync(store, count);
            Console.WriteLine($"seeded {count:N0} dead letters in {seeding.Elapsed.TotalSeconds:0.0} s");

            var config = Path.Combine(directory, "triage.yaml");
            var amqp = $"amqp://{management.UserInfo}@{management.Host}:5672/{name}";
            await File.WriteAllTextAsync(config, $"""
                bus: {"{"} rabbitmq: "{amqp}" {"}"}
                store: {"{"} postgres: "{store}" {"}"}
                """);
            var (elapsed, peakKb, last, exit) = await ReplayAsync(config, rate);
            var queued = await RouterQueueDepthAsync(rabbit, name, count);
            var achieved = count / elapsed.TotalSeconds;
            Console.WriteLine($"""

                dead letters        {count:N0}
                requested rate      {rate:N0}/s
                achieved rate       {achieved:N0}/s  ({elapsed.TotalSeconds:0.0} s, process start included)
                peak RSS            {peakKb / 1024.0:0.0} MiB (VmHWM of the replay process)
                in the router queue {queued:N0}
                last progress line  {last}
                exit code           {exit}
                """);
            return exit == 0 && queued == count ? 0 : 1;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(postgres);
            await admin.OpenAsync();
            await new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin).ExecuteNonQueryAsync();
            await rabbit.DeleteAsync($"api/vhosts/{name}");
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Dead letters of an outage and their dead-lettered triages, written with COPY.</summary>
    private static async Task SeedAsync(string store, int count)
    {
        await using var connection = new NpgsqlConnection(store);
        await connection.OpenAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var log = string.Join('\n', Enumerable.Range(0, 20).Select(i => $"[ERROR] /src/main/java/com/acme/Refund{i}.java:[{i},5] cannot find symbol"));
        var attempts = JsonSerializer.Serialize(new[] { new AttemptOutcome("primary", AttemptFailure.Overloaded, "529 overloaded") }, Json);
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY dead_letters (event_id, route, group_key, reason, detail, last_provider, attempts, failure, first_failed_at, last_failed_at, times_dead_lettered, status, replay_count) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < count; i++)
            {
                var id = $"bench-{i:D6}";
                var failure = new BuildFailed { EventId = id, Source = "jenkins", Job = "payments/service", BuildNumber = i.ToString(), Route = "build_triage", Log = log, LogIsExcerpt = true };
                await writer.StartRowAsync();
                await writer.WriteAsync(id);
                await writer.WriteAsync("build_triage");
                await writer.WriteAsync("build_triage/primary/overloaded");
                await writer.WriteAsync(AttemptFailure.Overloaded);
                await writer.WriteAsync("529 overloaded");
                await writer.WriteAsync("primary");
                await writer.WriteAsync(attempts);
                await writer.WriteAsync(JsonSerializer.Serialize(failure, Json));
                await writer.WriteAsync(now, NpgsqlDbType.Bigint);
                await writer.WriteAsync(now, NpgsqlDbType.Bigint);
                await writer.WriteAsync(1);
                await writer.WriteAsync("dead");
                await writer.WriteAsync(0);
            }

            await writer.CompleteAsync();
        }

        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY triages (event_id, route, source, job, build_number, status, received_at, replays, input_tokens, output_tokens, cost_usd) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < count; i++)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync($"bench-{i:D6}");
                await writer.WriteAsync("build_triage");
                await writer.WriteAsync("jenkins");
                await writer.WriteAsync("payments/service");
                await writer.WriteAsync(i.ToString());
                await writer.WriteAsync("dead_lettered");
                await writer.WriteAsync(DateTimeOffset.UtcNow, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync(0);
                await writer.WriteAsync(0);
                await writer.WriteAsync(0);
                await writer.WriteAsync(0m);
            }

            await writer.CompleteAsync();
        }
    }

    /// <summary>Runs the replay as an operator would, sampling the process's peak resident set until it exits.</summary>
    private static async Task<(TimeSpan Elapsed, long PeakKb, string Last, int Exit)> ReplayAsync(string config, int rate)
    {
        var binary = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../src/Host/bin/Release/net10.0/triage.dll"));
        if (!File.Exists(binary))
        {
            throw new FileNotFoundException($"build the gateway first: dotnet build -c Release src/Host ({binary})");
        }

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { binary, "replay", "--all", "--rate", rate.ToString(), "--config", config })
        {
            start.ArgumentList.Add(argument);
        }

        var last = string.Empty;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => last = e.Data is { Length: > 0 } line ? line : last;
        process.ErrorDataReceived += (_, e) => last = e.Data is { Length: > 0 } line ? line : last;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        long peak = 0;
        while (!process.HasExited)
        {
            peak = Math.Max(peak, PeakKb(process.Id));
            await Task.Delay(200);
        }

        await process.WaitForExitAsync();
        return (clock.Elapsed, peak, last, process.ExitCode);
    }

    private static long PeakKb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static async Task<long> RouterQueueDepthAsync(HttpClient rabbit, string vhost, int expected)
    {
        long depth = 0;
        for (var i = 0; i < 30 && depth < expected; i++)
        {
            await Task.Delay(1000);
            using var queue = await rabbit.GetFromJsonAsync<JsonDocument>($"api/queues/{vhost}/{Triage.Platform.Bus.BusTopology.RouterQueue}");
            depth = queue!.RootElement.TryGetProperty("messages", out var messages) ? messages.GetInt64() : 0;
        }

        return depth;
    }

    private static HttpClient Management(Uri uri)
    {
        var http = new HttpClient { BaseAddress = new Uri($"{uri.Scheme}://{uri.Host}:{uri.Port}/") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Uri.UnescapeDataString(uri.UserInfo))));
        return http;
    }

    private static int Argument(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }
}
