using System.Threading.RateLimiting;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Triage.Platform.DeadLetters;

/// <summary>What to replay, how fast, and whether only to count.</summary>
public sealed record ReplayRequest(DeadLetterFilter Filter, double RatePerSecond = DeadLetterReplayer.DefaultRate, bool DryRun = false);

/// <summary>Where a replay stands: of <see cref="Total"/>, how many were published, found done, held by another replay or not published.</summary>
public sealed record ReplayProgress(string Run, int Total, int Replayed, int AlreadyDone, int Skipped, int Failed)
{
    public int Done => Replayed + AlreadyDone + Skipped + Failed;
}

/// <summary>
/// Publishes dead letters to the router again at a bounded rate. Each is claimed in the store before it is published
/// and marked replayed after, so a replay that is stopped and started again finishes the work without doing any of
/// it twice: a claim left behind is taken over once its lease passes, and the router takes each replay number once.
/// A dead letter whose failure completed meanwhile is marked replayed without being published.
/// </summary>
public sealed partial class DeadLetterReplayer(
    DeadLetterStore letters,
    IPublishEndpoint bus,
    TimeProvider time,
    ILogger<DeadLetterReplayer> logger)
{
    public const double DefaultRate = 20;

    /// <summary>How long a claim holds; a replay that stopped is taken over after it (claim to publish takes milliseconds).</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);

    private const int PageSize = 1000;

    public async Task<ReplayProgress> RunAsync(ReplayRequest request, IProgress<ReplayProgress>? progress, CancellationToken cancellationToken)
    {
        var run = "replay_" + Guid.NewGuid().ToString("N")[..16];
        var filter = request.Filter with { Status = null };
        var total = await letters.CountAsync(filter with { Status = DeadLetterStatus.Dead }, cancellationToken)
            + await letters.CountAsync(filter with { Status = DeadLetterStatus.Replaying }, cancellationToken);
        var state = new ReplayProgress(run, total, 0, 0, 0, 0);
        progress?.Report(state);
        if (request.DryRun || total == 0)
        {
            return state;
        }

        LogStarted(logger, run, total, request.RatePerSecond);
        var (limiter, batch) = Limiter(request.RatePerSecond);
        using (limiter)
        {
            while (true)
            {
                string? after = null;
                IReadOnlyList<string> page;
                while ((page = await letters.CandidatesAsync(filter, after, PageSize, Lease, cancellationToken)).Count > 0)
                {
                    after = page[^1];
                    foreach (var chunk in page.Chunk(batch))
                    {
                        using var permit = await limiter.AcquireAsync(chunk.Length, cancellationToken);
                        if (!permit.IsAcquired)
                        {
                            throw new InvalidOperationException($"the replay's rate limiter refused {chunk.Length} permits");
                        }

                        state = await ReplayBatchAsync(chunk, run, state, cancellationToken);
                        progress?.Report(state);
                    }
                }

                // Dead letters a stopped replay left claimed are taken over once their lease passes.
                if (await letters.OldestForeignClaimAsync(filter, run, cancellationToken) is not { } oldest)
                {
                    break;
                }

                var wait = oldest + Lease - time.GetUtcNow();
                await Task.Delay(wait > TimeSpan.Zero ? wait + TimeSpan.FromMilliseconds(100) : TimeSpan.FromMilliseconds(100), time, cancellationToken);
            }
        }

        LogFinished(logger, run, state.Replayed, state.AlreadyDone, state.Skipped, state.Failed);
        return state;
    }

    /// <summary>
    /// One batch: claimed together, checked for completion together, published concurrently, marked together. A crash
    /// anywhere leaves the unmarked ones claimed, for the next run to take over after the lease.
    /// </summary>
    private async Task<ReplayProgress> ReplayBatchAsync(string[] eventIds, string run, ReplayProgress state, CancellationToken cancellationToken)
    {
        var claims = await letters.ClaimAsync(eventIds, run, Lease, cancellationToken);
        var completed = await letters.CompletedAmongAsync(claims.Select(c => c.Failure.EventId).ToList(), cancellationToken);
        var toPublish = claims.Where(c => !completed.Contains(c.Failure.EventId)).ToList();
        var published = await Task.WhenAll(toPublish.Select(async claim =>
        {
            try
            {
                await bus.Publish(claim.Failure, cancellationToken);
                return (claim.Failure.EventId, Ok: true);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogNotPublished(logger, e, claim.Failure.EventId);
                return (claim.Failure.EventId, Ok: false);
            }
        }));
        var failed = published.Where(p => !p.Ok).Select(p => p.EventId).ToList();
        foreach (var eventId in failed)
        {
            await letters.UnclaimAsync(eventId, run, CancellationToken.None);
        }

        await letters.MarkReplayedAsync([.. completed, .. published.Where(p => p.Ok).Select(p => p.EventId)], run, cancellationToken);
        return state with
        {
            Replayed = state.Replayed + published.Count(p => p.Ok),
            AlreadyDone = state.AlreadyDone + completed.Count,
            Skipped = state.Skipped + (eventIds.Length - claims.Count),
            Failed = state.Failed + failed.Count,
        };
    }

    /// <summary>
    /// A token bucket refilled every 100 ms (or once per token below 10/s), never holding more than one refill, and
    /// the batch size that spends one refill at a time (at most 100).
    /// </summary>
    private static (TokenBucketRateLimiter Limiter, int Batch) Limiter(double perSecond)
    {
        var slow = perSecond < 10;
        var tokens = slow ? 1 : (int)Math.Max(1, Math.Round(perSecond / 10));
        return (new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = slow ? TimeSpan.FromSeconds(1 / Math.Max(perSecond, 0.01)) : TimeSpan.FromMilliseconds(100),
            QueueLimit = tokens,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        }), Math.Min(tokens, 100));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replay {Run} started: {Total} dead letters at {Rate}/s")]
    private static partial void LogStarted(ILogger logger, string run, int total, double rate);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replay {Run} finished: {Replayed} replayed, {AlreadyDone} already done, {Skipped} held by another replay, {Failed} not published")]
    private static partial void LogFinished(ILogger logger, string run, int replayed, int alreadyDone, int skipped, int failed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the replay of {EventId}; it waits again")]
    private static partial void LogNotPublished(ILogger logger, Exception exception, string eventId);
}
