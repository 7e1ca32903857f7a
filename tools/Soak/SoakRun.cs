using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Triage.Contracts;
using Triage.Fakes;

namespace Triage.Soak;

/// <summary>
/// One soak: the gateway's three roles as processes on a fresh vhost and database, a primary provider that flaps and a
/// steady secondary, load for the given minutes, then the dead letters replayed once the primary is back, and the count.
/// Two routes make both endings happen: <c>build_triage</c> fails over to the secondary, <c>nightly</c> has only the
/// primary and dead-letters while it is down.
/// </summary>
internal sealed partial class SoakRun : IAsyncDisposable
{
    /// <summary>The primary's break once judged down, in the router and in its pool.</summary>
    private static readonly TimeSpan Break = TimeSpan.FromSeconds(10);

    private static readonly string[] Roles = ["ingest", "router", "workers"];

    private readonly SoakOptions options;
    private readonly string folder = Directory.CreateTempSubdirectory("triage-soak-").FullName;
    private readonly List<RoleProcess> roles = [];
    private readonly Dictionary<string, double> rssAtStart = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> answers = new(StringComparer.Ordinal);
    private SoakEnvironment? environment;
    private FlappingProvider? primary;
    private FakeProviderServer? secondary;
    private CompletedSubscriber? subscriber;
    private JsonObject[] samples = [];

    private SoakRun(SoakOptions options) => this.options = options;

    private string Configuration => Path.Combine(folder, "triage.yaml");

    private RoleProcess Role(string name) => roles.Single(r => r.Role == name);

    public static async Task<SoakRun> PrepareAsync(SoakOptions options)
    {
        var run = new SoakRun(options);
        try
        {
            await run.StartAsync();
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        samples = Directory.GetFiles(Path.Combine(Path.GetDirectoryName(options.Triage)!, "Samples"), "*.json")
            .Order(StringComparer.Ordinal)
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!.AsObject())
            .ToArray();
        environment = await SoakEnvironment.CreateAsync();
        environment.Keep = options.Keep;
        primary = await FlappingProvider.StartAsync(TimeSpan.FromSeconds(options.FlapSeconds));
        secondary = await FakeProviderServer.StartAsync();
        secondary.Record = false;
        secondary.Latency = TimeSpan.FromMilliseconds(300);
        await File.WriteAllTextAsync(Configuration, $"""
            providers:
              primary: {"{"} type: openai-compatible, base_url: "{primary.BaseUrl}", model: m1, capacity: 8, max_retries: 1, timeout_ms: 10000, break_duration_ms: {Break.TotalMilliseconds}, input_usd_per_mtok: 3, output_usd_per_mtok: 15 {"}"}
              secondary: {"{"} type: openai-compatible, base_url: "{secondary.BaseUrl}", model: m2, weight: 0, capacity: 8, timeout_ms: 10000, input_usd_per_mtok: 1, output_usd_per_mtok: 5 {"}"}
            routing:
              build_triage: {"{"} providers: [primary, secondary], failover: true, timeout_ms: 20000 {"}"}
              nightly: {"{"} providers: [primary], failover: true, timeout_ms: 20000 {"}"}
            bus:
              rabbitmq: "{environment.BrokerUri}"
            store:
              postgres: "{environment.ConnectionString}"
            cache:
              semantic: {"{"} enabled: false {"}"}
            auth:
              required: false
            """);
        Say($"vhost {environment.VirtualHost}, database {environment.Database}, work folder {folder}");
        foreach (var role in Roles)
        {
            roles.Add(await RoleProcess.StartAsync(options.Triage, role, Configuration, folder));
            Say($"triage run --roles {role} ready on {roles[^1].Address}");
        }

        subscriber = await CompletedSubscriber.BindAsync(environment.BrokerUri);
        foreach (var role in roles)
        {
            rssAtStart[role.Role] = role.RssMiB();
        }
    }

    public async Task<SoakReport> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var http = new HttpClient { BaseAddress = Role("ingest").Address, Timeout = TimeSpan.FromSeconds(60) };
        var posted = await LoadAsync(http, TimeSpan.FromMinutes(options.Minutes), cancellationToken);
        Say($"load done: {posted} posted; waiting for the gateway to settle them");
        await SettleAsync(TimeSpan.FromMinutes(3));

        primary!.HoldUp();
        Say($"the primary is held up; waiting out its {Break.TotalSeconds:0} s break, then one failure shows the router it answers again");
        await Task.Delay(Break + TimeSpan.FromSeconds(2), CancellationToken.None);
        await ShowPrimaryIsBackAsync(http);
        var replay = await ReplayAsync();
        await SettleAsync(TimeSpan.FromMinutes(2));
        return await CountAsync(replay, clock.Elapsed);
    }

    /// <summary>Posts at the configured rate until the time is up: seven in ten on build_triage, three on nightly.</summary>
    private async Task<int> LoadAsync(HttpClient http, TimeSpan duration, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var posts = new List<Task>();
        var progress = TimeSpan.FromSeconds(30);
        var i = 0;
        while (clock.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            var wait = TimeSpan.FromSeconds(i / options.Rate) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            posts.Add(PostAsync(http, $"soak-{i:D6}", i % 10 < 7 ? "build_triage" : "nightly", i));
            i++;
            if (clock.Elapsed >= progress)
            {
                progress += TimeSpan.FromSeconds(30);
                await ProgressAsync(clock.Elapsed);
            }
        }

        await Task.WhenAll(posts);
        return i;
    }

    private async Task<int> PostAsync(HttpClient http, string id, string route, int number)
    {
        var document = samples[number % samples.Length].DeepClone().AsObject();
        document["eventId"] = id;
        document["route"] = route;
        document["buildNumber"] = number;
        try
        {
            using var response = await http.PostAsync("/v1/build-failures", new StringContent(document.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
            answers[id] = (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            answers[id] = 0;
        }

        return answers[id];
    }

    private async Task ProgressAsync(TimeSpan elapsed)
    {
        var completed = await environment!.ScalarAsync("SELECT count(*) FROM triages WHERE status = 'completed'");
        var dead = await environment.ScalarAsync("SELECT count(*) FROM triages WHERE status = 'dead_lettered'");
        var rss = string.Join(", ", roles.Select(r => $"{r.Role} {r.RssMiB():0} MiB"));
        Say($"{elapsed:mm\\:ss} posted {answers.Count}, accepted {answers.Values.Count(s => s == 202)}, completed {completed}, "
            + $"dead-lettered {dead}; primary {(primary!.IsDown ? "down" : "up")}; RSS {rss}");
        foreach (var role in roles.Where(r => r.HasExited))
        {
            Say($"triage --roles {role.Role} has exited; see {Path.Combine(folder, role.Role + ".log")}");
        }
    }

    /// <summary>Waits until every accepted failure is completed or dead-lettered, or the time is up.</summary>
    private async Task SettleAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var accepted = answers.Count(a => a.Value == 202);
        while (DateTime.UtcNow < deadline)
        {
            var settled = await environment!.ScalarAsync("SELECT count(*) FROM triages WHERE status IN ('completed', 'dead_lettered') AND event_id LIKE 'soak-%'");
            if (settled >= accepted)
            {
                return;
            }

            await Task.Delay(1000);
        }

        Say($"not everything settled within {timeout.TotalSeconds:0} s");
    }

    /// <summary>
    /// The router takes a provider back only once a triage succeeded on it (decision 0008): a replay while the primary
    /// is still in its break would only dead-letter the failures again. One failure on nightly is that triage.
    /// </summary>
    private async Task ShowPrimaryIsBackAsync(HttpClient http)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var id = $"soak-back-{attempt}";
            if (await PostAsync(http, id, "nightly", attempt) == 202)
            {
                for (var i = 0; i < 30; i++)
                {
                    await Task.Delay(1000);
                    var status = (await environment!.RowsAsync($"SELECT status, provider FROM triages WHERE event_id = '{id}'")).FirstOrDefault().First;
                    if (status == "completed")
                    {
                        return;
                    }

                    if (status == "dead_lettered")
                    {
                        break;
                    }
                }
            }

            await Task.Delay(Break);
        }

        Say("the primary did not triage a failure after the outage; the replay may dead-letter again");
    }

    private async Task<ReplayOutcome> ReplayAsync()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        foreach (var argument in new[] { options.Triage, "replay", "--all", "--config", Configuration, "--rate", "20", "--wait", "120" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("TRIAGE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        Say("triage replay --all --rate 20 --wait 120");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var printed = (await output) + (await error);
        var lines = printed.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("replayed ", StringComparison.Ordinal) || l.StartsWith("completed ", StringComparison.Ordinal)).ToList();
        foreach (var line in lines)
        {
            Say("  " + line);
        }

        int Figure(string name) => lines.Select(l => Regex.Match(l, $@"\b{name} (\d+)")).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).FirstOrDefault();
        return new ReplayOutcome(process.ExitCode, Figure("replayed"), Figure("completed"), Figure("failed again"), Figure("still pending"));
    }

    private async Task<SoakReport> CountAsync(ReplayOutcome replay, TimeSpan elapsed)
    {
        var store = (await environment!.RowsAsync("SELECT event_id, status FROM triages")).ToDictionary(r => r.First, r => r.Second, StringComparer.Ordinal);
        var accepted = answers.Where(a => a.Value == 202).Select(a => a.Key).ToList();
        var completed = accepted.Count(id => store.GetValueOrDefault(id) == "completed");
        var deadLettered = accepted.Count(id => store.GetValueOrDefault(id) == "dead_lettered");

        // Each event of a failure must carry the result the store kept first; the recorder counts each recording once.
        var results = (await environment.RowsAsync("SELECT event_id, result FROM triages WHERE status = 'completed'"))
            .ToDictionary(r => r.First, r => JsonSerializer.Deserialize<TriageCompleted>(r.Second, JsonSerializerOptions.Web)!, StringComparer.Ordinal);
        var events = await subscriber!.DrainAsync();
        var byId = events.GroupBy(e => e.MessageId, StringComparer.Ordinal).ToList();
        var heard = byId.Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        var secondResults = byId.Count(g => g.Select(e => Signature(e.Result)).Distinct().Count() > 1
            || (results.TryGetValue(g.Key, out var kept) && Signature(kept) != Signature(g.First().Result)));
        var recorded = await Role("router").CounterAsync("triage_completed_total");
        var recordedTwice = Math.Max(0, (long)recorded - results.Count);

        return new SoakReport
        {
            Minutes = options.Minutes,
            Rate = options.Rate,
            Elapsed = elapsed,
            Posted = answers.Count,
            Answers = string.Join(" ", answers.Values.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{g.Key}:{g.Count()}")),
            Accepted = accepted.Count,
            Completed = completed,
            DeadLettered = deadLettered,
            ByProvider = string.Join(", ", (await environment.RowsAsync("SELECT provider, count(*) FROM triages WHERE status = 'completed' GROUP BY provider ORDER BY provider")).Select(r => $"{r.First} {r.Second}")),
            ViaFailover = await environment.ScalarAsync("SELECT count(*) FROM triages WHERE status = 'completed' AND json_array_length((result::json)->'attemptHistory') > 1"),
            Failovers = await Role("router").CounterAsync("triage_failovers_total"),
            DeadLetters = await environment.ScalarAsync("SELECT count(*) FROM dead_letters"),
            DeadLetterings = await environment.ScalarAsync("SELECT COALESCE(SUM(times_dead_lettered), 0) FROM dead_letters"),
            DeadLettersByStatus = string.Join(", ", (await environment.RowsAsync("SELECT status, count(*) FROM dead_letters GROUP BY status ORDER BY status")).Select(r => $"{r.First} {r.Second}")),
            Replay = replay,
            DuplicatesRecorded = secondResults + (int)recordedTwice,
            DuplicateEvents = events.Count - byId.Count,
            MissingEvents = results.Keys.Count(id => !heard.Contains(id)),
            PrimaryCalls = primary!.Calls,
            PrimaryRefused = primary.Refused,
            PrimaryOutages = primary.Outages,
            Rss = roles.Select(r => (r.Role, rssAtStart.GetValueOrDefault(r.Role), r.RssMiB())).ToList(),
            Exited = roles.Where(r => r.HasExited).Select(r => r.Role).ToList(),
        };
    }

    private static (DateTimeOffset, string, int) Signature(TriageCompleted result) => (result.CompletedAt, result.Provider, result.Attempts);

    private static void Say(string line) => Console.WriteLine($"{DateTime.Now:HH:mm:ss} {line}");

    public async ValueTask DisposeAsync()
    {
        foreach (var role in roles)
        {
            await role.DisposeAsync();
        }

        if (primary is not null)
        {
            await primary.DisposeAsync();
        }

        if (secondary is not null)
        {
            await secondary.DisposeAsync();
        }

        if (environment is not null)
        {
            await environment.DisposeAsync();
        }

        if (!options.Keep)
        {
            Directory.Delete(folder, recursive: true);
        }
        else
        {
            Say($"kept: vhost {environment?.VirtualHost}, database {environment?.Database}, logs in {folder}");
        }
    }
}

internal sealed record ReplayOutcome(int ExitCode, int Replayed, int Completed, int FailedAgain, int StillPending);

/// <summary>What the soak counted; it holds when nothing accepted was lost and no result was recorded twice.</summary>
internal sealed record SoakReport
{
    public double Minutes { get; init; }

    public double Rate { get; init; }

    public TimeSpan Elapsed { get; init; }

    public int Posted { get; init; }

    public string Answers { get; init; } = string.Empty;

    public int Accepted { get; init; }

    public int Completed { get; init; }

    public int DeadLettered { get; init; }

    public int Lost => Accepted - Completed - DeadLettered;

    public string ByProvider { get; init; } = string.Empty;

    public long ViaFailover { get; init; }

    public double Failovers { get; init; }

    public long DeadLetters { get; init; }

    public long DeadLetterings { get; init; }

    public string DeadLettersByStatus { get; init; } = string.Empty;

    public required ReplayOutcome Replay { get; init; }

    public int DuplicatesRecorded { get; init; }

    public int DuplicateEvents { get; init; }

    public int MissingEvents { get; init; }

    public long PrimaryCalls { get; init; }

    public long PrimaryRefused { get; init; }

    public int PrimaryOutages { get; init; }

    public IReadOnlyList<(string Role, double Start, double End)> Rss { get; init; } = [];

    public IReadOnlyList<string> Exited { get; init; } = [];

    public bool Holds => Lost == 0 && DuplicatesRecorded == 0 && Exited.Count == 0;

    public string Render() => string.Join('\n',
    [
        $"soak: {Minutes:0.##} min at {Rate:0.##}/s, {Elapsed.TotalMinutes:0.0} min in all",
        $"posted             {Posted} (answers {Answers})",
        $"accepted           {Accepted}",
        $"triages            {Completed} ({ByProvider}; {ViaFailover} after a failover)",
        $"failovers          {Failovers:0} (triage_failovers_total)",
        $"dead letters       {DeadLetters} failures dead-lettered {DeadLetterings} times; now {DeadLettersByStatus}",
        $"replays            {Replay.Replayed} replayed: {Replay.Completed} completed, {Replay.FailedAgain} failed again, {Replay.StillPending} still pending (exit {Replay.ExitCode})",
        $"still dead         {DeadLettered}",
        $"lost               {Lost}",
        $"duplicates recorded {DuplicatesRecorded}",
        $"duplicate events   {DuplicateEvents} (at-least-once; subscribers de-duplicate on message_id); missing events {MissingEvents}",
        $"primary provider   {PrimaryCalls} calls, {PrimaryRefused} refused while down, {PrimaryOutages} outage(s)",
        .. Rss.Select(r => $"RSS {r.Role,-8}       {r.Start:0.0} MiB at start, {r.End:0.0} MiB at the end"),
        Exited.Count > 0 ? $"exited early       {string.Join(", ", Exited)}" : "every role ran to the end",
        Holds ? "HOLDS: nothing lost, nothing recorded twice" : "DOES NOT HOLD",
    ]);
}
