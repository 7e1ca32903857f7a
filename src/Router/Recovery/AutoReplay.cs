using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Triage.Platform.Configuration;
using Triage.Platform.DeadLetters;
using Triage.Router.Routing;

namespace Triage.Router.Recovery;

/// <summary>
/// With <c>dead_letters.auto_replay</c>: replays a group of dead letters once a provider of its route has triaged a
/// failure since the group's last one, at <c>replay_rate_per_second</c>. Groups of failures refused for their key,
/// route or budget wait for an operator: a provider coming back does not change their answer.
/// </summary>
public sealed partial class AutoReplay(
    DeadLetterStore letters,
    DeadLetterReplayer replayer,
    ProviderStates providers,
    TriageOptions options,
    TimeProvider time,
    ILogger<AutoReplay> logger) : BackgroundService
{
    private static readonly HashSet<string> Refusals = ["key_missing", "key_unknown", "key_unusable", "route_not_allowed", "over_budget", "unknown_route"];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.DeadLetters.AutoReplayIntervalSeconds), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await ReplayRecoveredAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e);
            }
        }
    }

    /// <summary>Replays every waiting group whose route has a provider that succeeded after the group's last failure.</summary>
    public async Task<int> ReplayRecoveredAsync(CancellationToken cancellationToken)
    {
        var replayed = 0;
        foreach (var group in await letters.GroupsAsync(new DeadLetterFilter(), cancellationToken))
        {
            if (Refusals.Contains(group.Reason) || !options.Routing.TryGetValue(group.Route, out var route))
            {
                continue;
            }

            var recovered = route.Providers
                .Select(name => providers.TryGet(name, out var state) ? state : null)
                .FirstOrDefault(state => state?.LastSucceededAt > group.LastSeen);
            if (recovered is null)
            {
                continue;
            }

            LogReplaying(logger, group.Group, group.Count, recovered.Name);
            var result = await replayer.RunAsync(
                new ReplayRequest(new DeadLetterFilter(Group: group.Group), options.DeadLetters.ReplayRatePerSecond), null, cancellationToken);
            replayed += result.Replayed;
        }

        return replayed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replaying {Count} dead letters of {Group}: {Provider} triages again")]
    private static partial void LogReplaying(ILogger logger, string group, int count, string provider);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Automatic replay of dead letters failed; trying again at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
