using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging.Console;
using Spectre.Console;
using Triage.Ingest.Apis;
using Triage.Platform.Bus;
using Triage.Platform.Configuration;
using Triage.Platform.DeadLetters;
using Triage.Platform.Store;

namespace Triage.Host.Commands;

/// <summary>
/// <c>triage replay</c>: sends dead letters to the router again. With RabbitMQ it publishes itself, from a bus with no
/// consumers; with the in-memory bus only the gateway's own process can, so it asks that gateway over HTTP. Exit
/// codes: 0 done, 1 some were not published (or, with <c>--wait</c>, failed again or are still pending) or the store,
/// broker or gateway could not be reached, 2 bad input, 130 stopped by Ctrl+C.
/// </summary>
internal static class ReplayCommand
{
    private const int Interrupted = 130;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public static Command Create()
    {
        var config = TriageCommandLine.ConfigOption();
        var selection = DeadLettersCommand.Selection.Create("replay");
        var dryRun = new Option<bool>("--dry-run") { Description = "Print how many would be replayed, by group; change nothing." };
        var rate = new Option<string?>("--rate")
        {
            Description = $"Replays per second (default: dead_letters.replay_rate_per_second, {DeadLetterReplayer.DefaultRate}).",
            HelpName = "N",
        };
        var wait = new Option<string?>("--wait")
        {
            Description = "Then wait up to this many seconds for the replayed failures to be triaged or dead-lettered again, and say which (default 0: do not wait).",
            HelpName = "SECONDS",
        };
        var url = new Option<string?>("--url")
        {
            Description = "Ask this running gateway to replay (needed with the in-memory bus: only the gateway's own process can publish to its router).",
            HelpName = "URL",
        };
        var adminKey = new Option<string?>("--admin-key")
        {
            Description = "The gateway's auth.admin_key, with --url (default: $TRIAGE_ADMIN_KEY, else auth.admin_key of the configuration).",
            HelpName = "KEY",
        };
        var command = new Command(
            "replay",
            "Send dead letters to the router again, at a bounded rate. Safe to stop and run again: the same command finishes the work, and nothing is triaged twice.")
        {
            config,
        };
        selection.AddTo(command);
        foreach (var option in new Option[] { dryRun, rate, wait, url, adminKey })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var errors = new List<string>();
            var filter = selection.Read(parse, errors);
            var perSecond = Rate(parse.GetValue(rate), errors);
            var seconds = Seconds(parse.GetValue(wait), errors);
            var gateway = Gateway(parse.GetValue(url), errors);
            if (await KeysCommand.BadInputAsync(errors) || filter is null)
            {
                return 2;
            }

            if (await TriageCommandLine.LoadConfigurationAsync(parse.GetValue(config)) is not { } options)
            {
                return 2;
            }

            var request = new ReplayRequest(filter, perSecond ?? options.DeadLetters.ReplayRatePerSecond, parse.GetValue(dryRun));
            if (gateway is not null)
            {
                var key = FirstOf(parse.GetValue(adminKey), Environment.GetEnvironmentVariable("TRIAGE_ADMIN_KEY"), options.Auth.AdminKey);
                return await OverHttpAsync(gateway, key, request, all: parse.GetValue(selection.All), explicitRate: perSecond, TimeSpan.FromSeconds(seconds), cancellationToken);
            }

            if (!request.DryRun && !options.Bus.UsesRabbitMq)
            {
                await Console.Error.WriteLineAsync(
                    "--url: this configuration's bus is in memory, so only the gateway process that runs it can publish to its router. "
                    + "Either ask that gateway: add --url http://HOST:PORT (and --admin-key or $TRIAGE_ADMIN_KEY), "
                    + "or configure bus.rabbitmq, and this command publishes to the broker itself.");
                return 2;
            }

            return await KeysCommand.WithStoreAsync(
                parse.GetValue(config),
                (_, database) => request.DryRun
                    ? PlanAsync(database, filter, cancellationToken)
                    : PublishAsync(options, database, request, TimeSpan.FromSeconds(seconds), cancellationToken),
                cancellationToken);
        });
        return command;
    }

    /// <summary>Counts what a replay would take, by group, from the store: the same whatever the bus.</summary>
    private static async Task<int> PlanAsync(TriageDatabase database, DeadLetterFilter filter, CancellationToken cancellationToken)
    {
        PrintPlan(await DeadLettersApi.PlanAsync(new DeadLetterStore(database, TimeProvider.System), filter, cancellationToken));
        return 0;
    }

    /// <summary>Publishes on RabbitMQ from a bus of this process that consumes nothing, with the gateway's topology.</summary>
    private static async Task<int> PublishAsync(
        TriageOptions options, TriageDatabase database, ReplayRequest request, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var host = Publisher(options, database);
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine("Stopped before anything was replayed.");
            return Interrupted;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"{TriageBus.Describe(options)} could not be reached: {e.Message}");
            return 1;
        }

        try
        {
            var replayer = host.Services.GetRequiredService<DeadLetterReplayer>();
            var view = new ReplayView();
            ReplayProgress done;
            try
            {
                done = await view.ShowAsync(report => replayer.RunAsync(request, new Reporter(report), cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Console.WriteLine(Summary(view.Last) + " (stopped)");
                Console.WriteLine("Run the same command again to resume.");
                return Interrupted;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Console.WriteLine(Summary(view.Last) + " (stopped)");
                await Console.Error.WriteLineAsync($"The replay stopped: {e.Message}. Run the same command again to resume.");
                return 1;
            }

            Console.WriteLine(Summary(done));
            if (wait <= TimeSpan.Zero || done.Replayed == 0)
            {
                return done.Failed > 0 ? 1 : 0;
            }

            var letters = host.Services.GetRequiredService<DeadLetterStore>();
            var followUp = new ReplayFollowUp(done, host.Services.GetRequiredService<ITriageStore>(), database);
            return await WaitAsync(
                done,
                wait,
                async ct => await followUp.CheckAsync(await letters.RunStatusAsync(done.Run, ct), ct),
                cancellationToken);
        }
        finally
        {
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await host.StopAsync(stopping.Token);
        }
    }

    /// <summary>Asks a running gateway to replay, then follows its run until it finished (and, with a wait, what became of it).</summary>
    private static async Task<int> OverHttpAsync(
        Uri gateway, string? adminKey, ReplayRequest request, bool all, double? explicitRate, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };
        if (adminKey is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        }

        var filter = request.Filter;
        var body = new ReplayBody(filter.Ids, filter.Group, filter.Route, filter.Since?.ToString("O", CultureInfo.InvariantCulture), all ? true : null, request.DryRun ? true : null, explicitRate);
        var view = new ReplayView();
        string? run = null;
        try
        {
            using var response = await http.PostAsJsonAsync("/v1/dead-letters/replay", body, Json, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return await RefusedAsync(gateway, response, cancellationToken);
            }

            if (request.DryRun)
            {
                PrintPlan((await response.Content.ReadFromJsonAsync<ReplayPlanDocument>(Json, cancellationToken))!);
                return 0;
            }

            run = (await response.Content.ReadFromJsonAsync<ReplayStartedDocument>(Json, cancellationToken))!.Run;
            ReplayRunDocument? last = null;
            var done = await view.ShowAsync(async report =>
            {
                while (true)
                {
                    last = await ReadRunAsync(http, run, cancellationToken);
                    if (last is null)
                    {
                        throw new InvalidOperationException($"the gateway no longer knows replay {run} (did it restart?); run the same command again to finish it");
                    }

                    report(last.Progress);
                    if (last.Finished)
                    {
                        return last.Progress;
                    }

                    await Task.Delay(PollInterval, cancellationToken);
                }
            });
            if (last!.Error is { } error)
            {
                Console.WriteLine(Summary(done) + " (stopped)");
                await Console.Error.WriteLineAsync($"replay {run} stopped in the gateway: {error}");
                return 1;
            }

            Console.WriteLine(Summary(done));
            if (wait <= TimeSpan.Zero || done.Replayed == 0)
            {
                return done.Failed > 0 ? 1 : 0;
            }

            return await WaitAsync(
                done,
                wait,
                async ct => (await ReadRunAsync(http, run, ct))?.Outcome ?? throw new InvalidOperationException($"the gateway no longer knows replay {run}"),
                cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine(Summary(view.Last) + " (stopped following)");
            Console.WriteLine(run is null
                ? "The gateway was asked nothing."
                : $"The gateway goes on with replay {run}: GET {new Uri(gateway, DeadLettersApi.ReplayLocation(run))} follows it.");
            return Interrupted;
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or JsonException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"--url: {gateway}: {e.Message}");
            return 1;
        }
    }

    /// <summary>Polls what became of a finished replay until nothing is pending or <paramref name="wait"/> passed.</summary>
    private static async Task<int> WaitAsync(
        ReplayProgress done, TimeSpan wait, Func<CancellationToken, Task<ReplayOutcome>> check, CancellationToken cancellationToken)
    {
        Console.WriteLine($"Waiting up to {wait.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s for the {done.Replayed} replayed failure(s) to be triaged...");
        var deadline = Stopwatch.StartNew();
        ReplayOutcome? outcome = null;
        try
        {
            while (true)
            {
                outcome = await check(cancellationToken);
                var left = wait - deadline.Elapsed;
                if (outcome.Pending == 0 || left <= TimeSpan.Zero)
                {
                    break;
                }

                await Task.Delay(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine(outcome is null ? "Stopped waiting." : Outcome(outcome) + " (stopped waiting)");
            return Interrupted;
        }

        Console.WriteLine(Outcome(outcome));
        return done.Failed > 0 || outcome.FailedAgain > 0 || outcome.Pending > 0 ? 1 : 0;
    }

    private static async Task<ReplayRunDocument?> ReadRunAsync(HttpClient http, string run, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(DeadLettersApi.ReplayLocation(run), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<ReplayRunDocument>(Json, cancellationToken);
    }

    /// <summary>The gateway said no: its problem document in one line. Bad input is 2, anything else 1.</summary>
    private static async Task<int> RefusedAsync(Uri gateway, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var reason = text;
        try
        {
            using var problem = JsonDocument.Parse(text);
            var root = problem.RootElement;
            var parts = new List<string>();
            if (root.TryGetProperty("title", out var title))
            {
                parts.Add(title.GetString() ?? string.Empty);
            }

            if (root.TryGetProperty("detail", out var detail))
            {
                parts.Add(detail.GetString() ?? string.Empty);
            }

            if (root.TryGetProperty("errors", out var fields))
            {
                parts.AddRange(fields.EnumerateObject().Select(f => $"{f.Name}: {string.Join("; ", f.Value.EnumerateArray().Select(m => m.GetString()))}"));
            }

            reason = string.Join(": ", parts.Where(p => p.Length > 0));
        }
        catch (JsonException)
        {
        }

        var status = (int)response.StatusCode;
        var hint = status is 401 or 403 ? " (pass the gateway's auth.admin_key with --admin-key or $TRIAGE_ADMIN_KEY)" : string.Empty;
        await Console.Error.WriteLineAsync($"--url: {gateway} answered {status}: {reason}{hint}");
        return response.StatusCode == HttpStatusCode.BadRequest ? 2 : 1;
    }

    private static IHost Publisher(TriageOptions options, TriageDatabase database)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ApplicationName = "triage",
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });

        // Warnings only, on stderr: standard output is the progress and the summary.
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning).AddSimpleConsole(console => console.SingleLine = true);
        builder.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);

        // Ctrl+C belongs to the command, which stops the replay first; the host must not stop the bus under it.
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton<ITriageStore, EfTriageStore>();
        builder.Services.AddDeadLetters();
        builder.Services.AddTriageBus(options, []);
        return builder.Build();
    }

    private static void PrintPlan(ReplayPlanDocument plan)
    {
        if (plan.Total == 0)
        {
            Console.WriteLine("Nothing to replay: no dead letter waits that matches; nothing was changed (--dry-run).");
            return;
        }

        Console.WriteLine($"Would replay {plan.Total} dead letter(s):");
        Console.WriteLine();
        DeadLettersCommand.PrintGroups(plan.Groups);
        Console.WriteLine();
        Console.WriteLine("Nothing was replayed (--dry-run).");
    }

    private static string Summary(ReplayProgress? progress) => progress is null
        ? "replayed 0, already done 0, held by another replay 0, not published 0"
        : $"replayed {progress.Replayed}, already done {progress.AlreadyDone}, held by another replay {progress.Skipped}, not published {progress.Failed}";

    private static string Outcome(ReplayOutcome outcome) =>
        $"completed {outcome.Completed}, failed again {outcome.FailedAgain}, still pending {outcome.Pending}";

    private static double? Rate(string? text, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (double.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var rate) && rate is > 0 and <= DeadLettersApi.MaxRate)
        {
            return rate;
        }

        errors.Add($"--rate: '{text}' is not a number of replays per second above 0 and at most {DeadLettersApi.MaxRate}");
        return null;
    }

    private static int Seconds(string? text, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return 0;
        }

        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds;
        }

        errors.Add($"--wait: '{text}' is not a whole number of seconds (0 or more)");
        return 0;
    }

    private static Uri? Gateway(string? text, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            return uri;
        }

        errors.Add($"--url: '{text}' is not an absolute http(s) URL");
        return null;
    }

    private static string? FirstOf(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();

    private sealed record ReplayBody(IReadOnlyList<string>? Ids, string? Group, string? Route, string? Since, bool? All, bool? DryRun, double? RatePerSecond);

    /// <summary>Hands each report on at once, on the replayer's task (<see cref="Progress{T}"/> would post it to the thread pool, out of order).</summary>
    private sealed class Reporter(Action<ReplayProgress> report) : IProgress<ReplayProgress>
    {
        public void Report(ReplayProgress value) => report(value);
    }

    /// <summary>A host whose start and stop the command decides: no console lifetime catching Ctrl+C.</summary>
    private sealed class CommandLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>
    /// A replay's progress: a bar on a terminal, which reaches 100% when the replay finished; when the output is
    /// redirected, a plain line at most once a second.
    /// </summary>
    private sealed class ReplayView
    {
        private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(1);

        public ReplayProgress? Last { get; private set; }

        public async Task<ReplayProgress> ShowAsync(Func<Action<ReplayProgress>, Task<ReplayProgress>> replay)
        {
            if (Console.IsOutputRedirected)
            {
                var since = (Stopwatch?)null;
                var done = await replay(progress =>
                {
                    Last = progress;
                    if (since is null || since.Elapsed >= PlainInterval)
                    {
                        Console.WriteLine(Line(progress));
                        since = Stopwatch.StartNew();
                    }
                });
                Last = done;
                return done;
            }

            ReplayProgress? result = null;
            await AnsiConsole.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("counting dead letters...", maxValue: 1);
                    task.IsIndeterminate = true;
                    result = await replay(progress =>
                    {
                        Last = progress;
                        Show(task, progress);
                    });
                    Last = result;

                    // Done is done: dead letters another replay finished meanwhile are counted by neither.
                    Show(task, result);
                    task.Value = task.MaxValue;
                    task.StopTask();
                    context.Refresh();
                });
            return result!;
        }

        private static void Show(ProgressTask task, ReplayProgress progress)
        {
            task.IsIndeterminate = false;
            task.MaxValue = Math.Max(1, progress.Total);
            task.Value = Math.Min(progress.Done, task.MaxValue);
            task.Description = Markup.Escape(Line(progress));
        }

        private static string Line(ReplayProgress progress) =>
            $"{progress.Done}/{progress.Total}: replayed {progress.Replayed}, already done {progress.AlreadyDone}, "
            + $"held by another replay {progress.Skipped}, not published {progress.Failed}";
    }
}
