using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Triage.Platform.Configuration;
using Triage.Platform.DeadLetters;
using Triage.Platform.Store;

namespace Triage.Ingest.Apis;

/// <summary>
/// <c>/v1/dead-letters</c>: the failures no provider could triage, for whoever holds <c>auth.admin_key</c>. They are
/// listed, grouped by what failed alike, read one by one, replayed to the router by this process in the background,
/// and archived when they should never be replayed.
/// </summary>
public static partial class DeadLettersApi
{
    public const int DefaultLimit = 50;

    public const int MaxLimit = 1000;

    /// <summary>What <see cref="TryParseSince"/> accepts, for error messages.</summary>
    public const string SinceHint = "an ISO 8601 date or date-time (UTC when no offset) or a duration back from now such as 30m, 2h or 7d";

    /// <summary>Replays per second a request may ask for: the bounds of <c>dead_letters.replay_rate_per_second</c>.</summary>
    public const double MaxRate = 10_000;

    /// <summary>A selection is a few fields and perhaps a list of event ids; anything larger is a mistake.</summary>
    private const int MaxBodyBytes = 1024 * 1024;

    private static readonly string[] ArchiveFields = ["ids", "group", "route", "since", "all"];

    private static readonly string[] ReplayFields = [.. ArchiveFields, "dryRun", "ratePerSecond"];

    /// <summary>The background replays the API starts; call next to <c>AddDeadLetters</c>.</summary>
    public static IServiceCollection AddDeadLettersApi(this IServiceCollection services)
    {
        services.AddSingleton<ReplayRuns>();
        return services;
    }

    public static IEndpointRouteBuilder MapDeadLettersApi(this IEndpointRouteBuilder app)
    {
        var letters = app.MapGroup("/v1/dead-letters").LimitAuthFailures().AddEndpointFilter(AdminApi.RequireAdminAsync);
        letters.MapGet("/", ListAsync).WithName("ListDeadLetters");
        letters.MapGet("/groups", GroupsAsync).WithName("ListDeadLetterGroups");
        letters.MapPost("/replay", ReplayAsync).WithName("ReplayDeadLetters");
        letters.MapGet("/replays/{run}", GetReplayAsync).WithName("GetDeadLetterReplay");
        letters.MapPost("/archive", ArchiveAsync).WithName("ArchiveDeadLetters");
        letters.MapGet("/{id}", GetAsync).WithName("GetDeadLetter");
        return app;
    }

    public static async Task<Results<Ok<DeadLetterListDocument>, ValidationProblem>> ListAsync(
        string? route,
        string? group,
        string? since,
        string? status,
        string? limit,
        DeadLetterStore letters,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var filter = new DeadLetterFilter(
            Group: Blank(group),
            Route: Blank(route),
            Since: Since(since, "since", time.GetUtcNow(), errors),
            Status: Status(status, "status", errors));
        var count = DefaultLimit;
        if (!string.IsNullOrWhiteSpace(limit) && !TryParseLimit(limit, out count))
        {
            errors["limit"] = [$"'{limit}' is not a whole number from 1 to {MaxLimit}"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid dead-letter query");
        }

        var page = await letters.ListAsync(filter, count, cancellationToken);
        var total = page.Count < count ? page.Count : await letters.CountAsync(filter, cancellationToken);
        return TypedResults.Ok(new DeadLetterListDocument(page.Select(DeadLetterSummary.Of).ToList(), total));
    }

    public static async Task<Results<Ok<DeadLetterGroupsDocument>, ValidationProblem>> GroupsAsync(
        string? route,
        string? since,
        string? status,
        DeadLetterStore letters,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var filter = new DeadLetterFilter(
            Route: Blank(route),
            Since: Since(since, "since", time.GetUtcNow(), errors),
            Status: Status(status, "status", errors));
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid dead-letter query");
        }

        return TypedResults.Ok(new DeadLetterGroupsDocument(await letters.GroupsAsync(filter, cancellationToken)));
    }

    public static async Task<Results<Ok<DeadLetter>, ProblemHttpResult>> GetAsync(string id, DeadLetterStore letters, CancellationToken cancellationToken) =>
        await letters.FindAsync(id, cancellationToken) is { } letter
            ? TypedResults.Ok(letter)
            : TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Unknown dead letter",
                detail: $"no dead letter has the event id '{id}'",
                extensions: new Dictionary<string, object?> { ["field"] = "id" });

    /// <summary>
    /// Starts a replay in this process and answers at once with its run and how many it will replay; a dry run only
    /// answers how many would be, by group.
    /// </summary>
    public static async Task<Results<Accepted<ReplayStartedDocument>, Ok<ReplayPlanDocument>, ValidationProblem>> ReplayAsync(
        HttpRequest request,
        DeadLetterStore letters,
        ReplayRuns runs,
        TriageOptions options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (body, unreadable) = await SmallJsonBody.ReadAsync<ReplayBody>(request, ReplayFields, MaxBodyBytes, cancellationToken);
        if (unreadable is not null)
        {
            return TypedResults.ValidationProblem(unreadable, title: "Invalid replay");
        }

        var errors = new Dictionary<string, string[]>();
        var filter = Selection(body, time.GetUtcNow(), errors);
        var rate = body?.RatePerSecond ?? options.DeadLetters.ReplayRatePerSecond;
        if (rate is <= 0 or > MaxRate)
        {
            errors["ratePerSecond"] = [$"must be more than 0 and at most {MaxRate}"];
        }

        if (errors.Count > 0 || filter is null)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid replay");
        }

        if (body?.DryRun == true)
        {
            return TypedResults.Ok(await PlanAsync(letters, filter, cancellationToken));
        }

        var run = await runs.StartAsync(new ReplayRequest(filter, rate), cancellationToken);
        var started = run.Snapshot();
        return TypedResults.Accepted(ReplayLocation(run.Id), new ReplayStartedDocument(run.Id, started.Progress.Total));
    }

    /// <summary>Where a replay stands: its progress, and once it finished, what became of what it published.</summary>
    public static async Task<Results<Ok<ReplayRunDocument>, ProblemHttpResult>> GetReplayAsync(
        string run,
        ReplayRuns runs,
        CancellationToken cancellationToken) =>
        await runs.DescribeAsync(run, cancellationToken) is { } document
            ? TypedResults.Ok(document)
            : TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Unknown replay",
                detail: $"this gateway started no replay '{run}' since it started",
                extensions: new Dictionary<string, object?> { ["field"] = "run" });

    public static async Task<Results<Ok<ArchivedDocument>, ValidationProblem>> ArchiveAsync(
        HttpRequest request,
        DeadLetterStore letters,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (body, unreadable) = await SmallJsonBody.ReadAsync<ArchiveBody>(request, ArchiveFields, MaxBodyBytes, cancellationToken);
        if (unreadable is not null)
        {
            return TypedResults.ValidationProblem(unreadable, title: "Invalid archive");
        }

        var errors = new Dictionary<string, string[]>();
        var filter = Selection(body is null ? null : new ReplayBody(body.Ids, body.Group, body.Route, body.Since, body.All, null, null), time.GetUtcNow(), errors);
        if (errors.Count > 0 || filter is null)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid archive");
        }

        return TypedResults.Ok(new ArchivedDocument(await letters.ArchiveAsync(filter, cancellationToken)));
    }

    /// <summary>
    /// An ISO 8601 instant as <see cref="AdminApi.TryParseInstant"/> reads it, or a whole number of seconds, minutes,
    /// hours, days or weeks back from <paramref name="now"/> (<c>30m</c>, <c>2h</c>, <c>7d</c>).
    /// </summary>
    public static bool TryParseSince(string text, DateTimeOffset now, out DateTimeOffset since)
    {
        var match = Duration().Match(text.Trim());
        if (!match.Success)
        {
            return AdminApi.TryParseInstant(text, out since);
        }

        var amount = int.Parse(match.Groups["amount"].Value, CultureInfo.InvariantCulture);
        var back = match.Groups["unit"].Value switch
        {
            "s" => TimeSpan.FromSeconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            "h" => TimeSpan.FromHours(amount),
            "d" => TimeSpan.FromDays(amount),
            _ => TimeSpan.FromDays(7.0 * amount),
        };

        // Further back than year 1 is no instant at all.
        since = default;
        if (back > now - DateTimeOffset.MinValue)
        {
            return false;
        }

        since = now - back;
        return true;
    }

    public static bool TryParseLimit(string text, out int limit) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxLimit;

    /// <summary>
    /// What a replay of <paramref name="filter"/> would take, by group: the waiting dead letters and those a stopped
    /// replay left claimed, as <see cref="DeadLetterReplayer"/> counts them.
    /// </summary>
    public static async Task<ReplayPlanDocument> PlanAsync(DeadLetterStore letters, DeadLetterFilter filter, CancellationToken cancellationToken)
    {
        var groups = (await letters.GroupsAsync(filter with { Status = DeadLetterStatus.Dead }, cancellationToken))
            .Concat(await letters.GroupsAsync(filter with { Status = DeadLetterStatus.Replaying }, cancellationToken))
            .GroupBy(g => (g.Group, g.Route, g.Reason))
            .Select(same => new DeadLetterGroup(
                same.Key.Group, same.Key.Route, same.Key.Reason, same.Sum(g => g.Count), same.Min(g => g.FirstSeen), same.Max(g => g.LastSeen)))
            .OrderByDescending(g => g.Count)
            .ThenBy(g => g.Group, StringComparer.Ordinal)
            .ToList();
        return new ReplayPlanDocument(groups.Sum(g => g.Count), groups);
    }

    public static string ReplayLocation(string run) => $"/v1/dead-letters/replays/{Uri.EscapeDataString(run)}";

    /// <summary>The filter a replay or an archive names; null, with the problem, when it names none and does not say all.</summary>
    private static DeadLetterFilter? Selection(ReplayBody? body, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
        var ids = new List<string>();
        for (var i = 0; i < (body?.Ids?.Count ?? 0); i++)
        {
            if (string.IsNullOrWhiteSpace(body!.Ids![i]))
            {
                errors[$"ids[{i}]"] = ["must be an event id"];
                continue;
            }

            ids.Add(body.Ids[i]!.Trim());
        }

        var filter = new DeadLetterFilter(
            Ids: ids.Count > 0 ? ids : null,
            Group: Blank(body?.Group),
            Route: Blank(body?.Route),
            Since: Since(body?.Since, "since", now, errors));
        if (errors.Count > 0)
        {
            return null;
        }

        if (filter.IsEmpty && body?.All != true)
        {
            errors["all"] = ["name what to take (ids, group, route or since), or send \"all\": true for every dead letter"];
            return null;
        }

        return filter;
    }

    private static DateTimeOffset? Since(string? text, string field, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (TryParseSince(text, now, out var since))
        {
            return since;
        }

        errors[field] = [$"'{text}' is not {SinceHint}"];
        return null;
    }

    private static string? Status(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var status = text.Trim();
        if (DeadLetterStatus.All.Contains(status))
        {
            return status;
        }

        errors[field] = [$"'{text}' is not a status; use {string.Join(", ", DeadLetterStatus.All)}"];
        return null;
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    [GeneratedRegex(@"^(?<amount>\d{1,6})(?<unit>[smhdw])$", RegexOptions.CultureInvariant)]
    private static partial Regex Duration();

    private sealed record ReplayBody(
        IReadOnlyList<string?>? Ids, string? Group, string? Route, string? Since, bool? All, bool? DryRun, double? RatePerSecond);

    private sealed record ArchiveBody(IReadOnlyList<string?>? Ids, string? Group, string? Route, string? Since, bool? All);
}

/// <summary>A dead letter in a list: what failed, how, and where it stands; <c>GET /v1/dead-letters/{id}</c> has the rest.</summary>
public sealed record DeadLetterSummary(
    string EventId,
    string Route,
    string Group,
    string Reason,
    string? Detail,
    string Status,
    string? LastProvider,
    int TimesDeadLettered,
    int ReplayCount,
    DateTimeOffset FirstFailedAt,
    DateTimeOffset LastFailedAt,
    DateTimeOffset? ReplayedAt)
{
    public static DeadLetterSummary Of(DeadLetter letter) => new(
        letter.EventId,
        letter.Route,
        letter.Group,
        letter.Reason,
        letter.Detail,
        letter.Status,
        letter.Attempts.Count > 0 ? letter.Attempts[^1].Provider : null,
        letter.TimesDeadLettered,
        letter.ReplayCount,
        letter.FirstFailedAt,
        letter.LastFailedAt,
        letter.ReplayedAt);
}

/// <summary>A page of dead letters, most recent failure first, and how many match the query in all.</summary>
public sealed record DeadLetterListDocument(IReadOnlyList<DeadLetterSummary> DeadLetters, int Total);

public sealed record DeadLetterGroupsDocument(IReadOnlyList<DeadLetterGroup> Groups);

public sealed record ReplayStartedDocument(string Run, int Total);

/// <summary>What a replay would take, without taking anything.</summary>
public sealed record ReplayPlanDocument(int Total, IReadOnlyList<DeadLetterGroup> Groups)
{
    public bool DryRun => true;
}

public sealed record ArchivedDocument(int Archived);

/// <summary>What became of the failures a replay published: triaged since, dead-lettered again, or not yet either.</summary>
public sealed record ReplayOutcome(int Completed, int FailedAgain, int Pending);

/// <summary>
/// A replay as <c>GET /v1/dead-letters/replays/{run}</c> shows it: its progress, whether it finished (and why not
/// well), the store's count of its dead letters by status, and once finished, what became of what it published.
/// </summary>
public sealed record ReplayRunDocument(
    string Run,
    int Total,
    int Replayed,
    int AlreadyDone,
    int Skipped,
    int Failed,
    bool Finished,
    string? Error,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyDictionary<string, int> Statuses,
    ReplayOutcome? Outcome)
{
    [JsonIgnore]
    public ReplayProgress Progress => new(Run, Total, Replayed, AlreadyDone, Skipped, Failed);
}

/// <summary>
/// What became of the failures one finished replay published. Dead-again ones are the store's count for the run;
/// completion is asked of the triage store only for failures not yet seen completed, a bounded batch per check, so
/// polling a large run costs the same each time.
/// </summary>
public sealed class ReplayFollowUp(ReplayProgress finished, ITriageStore triages, TriageDatabase database)
{
    private const int ChecksPerPoll = 500;

    private readonly SemaphoreSlim gate = new(1, 1);
    private Queue<string>? unresolved;
    private int completed;

    public async Task<ReplayOutcome> CheckAsync(IReadOnlyDictionary<string, int> statuses, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            unresolved ??= new Queue<string>(await ReplayedAsync(cancellationToken));
            for (var checks = Math.Min(ChecksPerPoll, unresolved.Count); checks > 0; checks--)
            {
                var eventId = unresolved.Dequeue();
                if (await triages.FindAsync(eventId, cancellationToken) is { Status: TriageStatus.Completed })
                {
                    completed++;
                }
                else
                {
                    unresolved.Enqueue(eventId);
                }
            }

            // The run marks replayed, without publishing, the ones found done already; a publication that failed
            // gives its dead letter back, still in the run's name.
            var triaged = Math.Max(0, completed - finished.AlreadyDone);
            var failedAgain = Math.Max(0, statuses.GetValueOrDefault(DeadLetterStatus.Dead) - finished.Failed);
            return new ReplayOutcome(triaged, failedAgain, Math.Max(0, finished.Replayed - triaged - failedAgain));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The event ids the run marked replayed and that have not died again since.</summary>
    private async Task<List<string>> ReplayedAsync(CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await db.DeadLetters.AsNoTracking()
            .Where(d => d.ReplayRun == finished.Run && d.Status == DeadLetterStatus.Replayed)
            .Select(d => d.EventId)
            .ToListAsync(cancellationToken);
    }
}

/// <summary>One replay this gateway runs in the background: its latest progress, and how it ended.</summary>
public sealed class ReplayRun(ReplayProgress first, DateTimeOffset startedAt)
{
    private readonly Lock gate = new();
    private ReplayProgress progress = first;
    private bool finished;
    private string? error;
    private DateTimeOffset? finishedAt;

    public string Id { get; } = first.Run;

    public DateTimeOffset StartedAt { get; } = startedAt;

    /// <summary>Set when the run finished well: what became of what it published.</summary>
    public ReplayFollowUp? FollowUp { get; private set; }

    public (ReplayProgress Progress, bool Finished, string? Error, DateTimeOffset? FinishedAt) Snapshot()
    {
        lock (gate)
        {
            return (progress, finished, error, finishedAt);
        }
    }

    internal void Report(ReplayProgress latest)
    {
        lock (gate)
        {
            progress = latest;
        }
    }

    internal void Finish(ReplayProgress? last, string? why, ReplayFollowUp? followUp, DateTimeOffset at)
    {
        lock (gate)
        {
            progress = last ?? progress;
            error = why;
            finishedAt = at;
            FollowUp = followUp;
            finished = true;
        }
    }
}

/// <summary>
/// The replays started over HTTP, each on a background task of this process with the application's stopping token,
/// their latest progress kept in memory. A replay stopped with the gateway is finished by the next replay of the same
/// dead letters (the replayer resumes by design), so nothing here needs to outlive the process.
/// </summary>
public sealed partial class ReplayRuns(
    DeadLetterReplayer replayer,
    DeadLetterStore letters,
    ITriageStore triages,
    TriageDatabase database,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<ReplayRuns> logger)
{
    /// <summary>Runs remembered; beyond it the oldest finished ones are forgotten.</summary>
    private const int Kept = 100;

    private readonly ConcurrentDictionary<string, ReplayRun> runs = new(StringComparer.Ordinal);

    /// <summary>Starts a replay and returns once the replayer has named its run and counted what it will take.</summary>
    public async Task<ReplayRun> StartAsync(ReplayRequest request, CancellationToken cancellationToken)
    {
        var tracker = new Tracker(first =>
        {
            var run = new ReplayRun(first, time.GetUtcNow());
            Keep(run);
            return run;
        });

        // The replay outlives the request that started it: it must not run in that request's trace and log scope.
        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Run(() => RunAsync(request, tracker), CancellationToken.None);
        }

        return await tracker.Started.Task.WaitAsync(cancellationToken);
    }

    public async Task<ReplayRunDocument?> DescribeAsync(string id, CancellationToken cancellationToken)
    {
        if (!runs.TryGetValue(id, out var run))
        {
            return null;
        }

        var (progress, finished, error, finishedAt) = run.Snapshot();
        var statuses = await letters.RunStatusAsync(id, cancellationToken);
        var outcome = run.FollowUp is { } followUp ? await followUp.CheckAsync(statuses, cancellationToken) : null;
        return new ReplayRunDocument(
            run.Id,
            progress.Total,
            progress.Replayed,
            progress.AlreadyDone,
            progress.Skipped,
            progress.Failed,
            finished,
            error,
            run.StartedAt,
            finishedAt,
            statuses,
            outcome);
    }

    private async Task RunAsync(ReplayRequest request, Tracker tracker)
    {
        var stopping = lifetime.ApplicationStopping;
        try
        {
            var last = await replayer.RunAsync(request, tracker, stopping);
            tracker.Run?.Finish(last, null, new ReplayFollowUp(last, triages, database), time.GetUtcNow());
        }
        catch (Exception e)
        {
            var stopped = e is OperationCanceledException && stopping.IsCancellationRequested;
            if (!stopped)
            {
                LogFailed(logger, e, tracker.Run?.Id ?? "(not started)");
            }

            if (!tracker.Started.TrySetException(e))
            {
                tracker.Run?.Finish(null, stopped ? "stopped with the gateway; replay the same dead letters again to finish" : e.Message, null, time.GetUtcNow());
            }
        }
    }

    private void Keep(ReplayRun run)
    {
        runs[run.Id] = run;
        if (runs.Count <= Kept)
        {
            return;
        }

        foreach (var old in runs.Values.Where(r => r.Snapshot().Finished).OrderBy(r => r.StartedAt).Take(runs.Count - Kept).ToList())
        {
            runs.TryRemove(old.Id, out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Replay {Run} of dead letters failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string run);

    /// <summary>
    /// Receives the replayer's progress on its own task, synchronously: the first report names the run and its total,
    /// which is when the request that started it is answered.
    /// </summary>
    private sealed class Tracker(Func<ReplayProgress, ReplayRun> start) : IProgress<ReplayProgress>
    {
        public TaskCompletionSource<ReplayRun> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ReplayRun? Run { get; private set; }

        public void Report(ReplayProgress value)
        {
            if (Run is { } run)
            {
                run.Report(value);
                return;
            }

            Run = start(value);
            Started.TrySetResult(Run);
        }
    }
}
