using System.Collections.Concurrent;
using System.Diagnostics;

namespace Triage.Bench.Gateway;

/// <summary>One triage as the bench saw it: end to end, and the part the provider (the fake upstream) took.</summary>
internal readonly record struct Sample(double EndToEndMs, double ProviderMs, bool CacheHit)
{
    public double OverheadMs => EndToEndMs - ProviderMs;

    public static Sample Of(long startedAt, Completion completion) =>
        new(Stopwatch.GetElapsedTime(startedAt, completion.ArrivedAt).TotalMilliseconds, completion.ProviderDurationMs, completion.CacheHit);
}

/// <summary>What went wrong in a load, counted by reason ("HTTP 503", "no result within 30 s", ...).</summary>
internal sealed class Errors
{
    private readonly ConcurrentDictionary<string, int> counts = new();

    public int Total => counts.Values.Sum();

    public void Add(string reason, int times = 1) => counts.AddOrUpdate(reason, times, (_, n) => n + times);

    public void Add(Errors other)
    {
        foreach (var (reason, times) in other.counts)
        {
            Add(reason, times);
        }
    }

    /// <summary>Counts a failed triage; <paramref name="timedOut"/> names what a cancellation means where it happened.</summary>
    public void Add(Exception e, string timedOut) => Add(e switch
    {
        RefusedException refused => refused.Message,
        OperationCanceledException or TimeoutException => timedOut,
        HttpRequestException { StatusCode: { } status } => $"HTTP {(int)status}",
        HttpRequestException http => $"HTTP request failed ({http.HttpRequestError})",
        _ => e.GetType().Name,
    });

    public override string ToString() => string.Join(", ", counts.OrderByDescending(c => c.Value).Select(c => $"{c.Key}: {c.Value}"));
}

internal sealed class ClosedLoopResult
{
    public List<Sample> Samples { get; } = [];

    public Errors Errors { get; } = new();

    public Summary? EndToEnd => Samples.Count == 0 ? null : Stats.Of(Samples.Select(s => s.EndToEndMs).ToList());

    public Summary? Overhead => Samples.Count == 0 ? null : Stats.Of(Samples.Select(s => s.OverheadMs).ToList());

    public int CacheHits => Samples.Count(s => s.CacheHit);
}

/// <summary>Concurrency 1: one triage, wait for its result, then the next. Latency without queueing.</summary>
internal static class ClosedLoop
{
    public static async Task<ClosedLoopResult> RunAsync(int count, TimeSpan timeout, Func<int, CancellationToken, Task<Sample>> triage, CancellationToken cancellationToken)
    {
        var result = new ClosedLoopResult();
        for (var i = 0; i < count; i++)
        {
            var number = i;
            await TimeOneAsync(result, timeout, token => triage(number, token), cancellationToken);
        }

        return result;
    }

    /// <summary>One triage into <paramref name="result"/>: its sample, or why it has none.</summary>
    public static async Task TimeOneAsync(ClosedLoopResult result, TimeSpan timeout, Func<CancellationToken, Task<Sample>> triage, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            result.Samples.Add(await triage(limit.Token));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            result.Errors.Add(e, $"no result within {timeout.TotalSeconds:0} s");
        }
    }
}

internal sealed record OpenLoopResult(int Offered, long Sent, bool Overloaded, double Seconds, double AchievedPerSecond, List<Sample> Samples, Errors Errors)
{
    public Summary? Latency => Samples.Count == 0 ? null : Stats.Of(Samples.Select(s => s.EndToEndMs).ToList());

    /// <summary>Carried the offered rate: every triage came back, at 95% of the rate or better, with p99 within the bound.</summary>
    public bool Sustained(double p99BoundMs) =>
        !Overloaded && Errors.Total == 0 && AchievedPerSecond >= 0.95 * Offered && Latency is { } latency && latency.P99 <= p99BoundMs;
}

/// <summary>
/// Open-loop offered load: sends go out on a fixed schedule whether or not earlier ones came back, the way build
/// failures arrive, and each latency is counted from when its send was due, not from when it went out, so that a
/// gateway falling behind shows as latency instead of quietly slowing the load down (coordinated omission).
/// </summary>
internal static class OpenLoop
{
    /// <summary>
    /// A gateway this far behind (this many seconds of the rate outstanding) will not catch up within the step: the rest
    /// of the step is not sent, so that its backlog stays small enough to drain before the next step.
    /// </summary>
    public static readonly TimeSpan GiveUpBehind = TimeSpan.FromSeconds(5);

    public static async Task<OpenLoopResult> RunAsync(
        int rate,
        TimeSpan duration,
        TimeSpan drain,
        Func<long, CancellationToken, Task<Completion>> send,
        CancellationToken cancellationToken)
    {
        var total = (long)(rate * duration.TotalSeconds);
        var behind = Math.Max(50, (int)(rate * GiveUpBehind.TotalSeconds));
        var errors = new Errors();
        var samples = new ConcurrentBag<Sample>();
        var outstanding = 0;
        var overloaded = false;
        var tasks = new List<Task>((int)total);

        // Every result still missing when the drain after the last send is over is lost.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lastArrival = 0L;
        var start = Stopwatch.GetTimestamp();
        long next = 0;
        while (next < total && !overloaded)
        {
            var due = Math.Min(total, (long)(Stopwatch.GetElapsedTime(start).TotalSeconds * rate) + 1);
            for (; next < due; next++)
            {
                if (Volatile.Read(ref outstanding) >= behind)
                {
                    overloaded = true;
                    break;
                }

                var dueAt = start + (long)(next * (double)Stopwatch.Frequency / rate);
                Interlocked.Increment(ref outstanding);
                var number = next;
                tasks.Add(Task.Run(async () =>
                {
                    try
                    {
                        var completion = await send(number, deadline.Token);
                        samples.Add(Sample.Of(dueAt, completion));
                        InterlockedMax(ref lastArrival, completion.ArrivedAt);
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                    {
                        errors.Add(e, $"no result {drain.TotalSeconds:0} s after the last send");
                    }
                    finally
                    {
                        Interlocked.Decrement(ref outstanding);
                    }
                }, CancellationToken.None));
            }

            await Task.Delay(1, cancellationToken);
        }

        deadline.CancelAfter(drain);
        if (overloaded)
        {
            errors.Add($"not sent: more than {GiveUpBehind.TotalSeconds:0} s of results outstanding", (int)(total - next));
        }

        await Task.WhenAll(tasks);
        cancellationToken.ThrowIfCancellationRequested();
        var seconds = lastArrival > start ? Stopwatch.GetElapsedTime(start, lastArrival).TotalSeconds : duration.TotalSeconds;
        return new OpenLoopResult(rate, next, overloaded, seconds, samples.Count / seconds, [.. samples], errors);
    }

    private static void InterlockedMax(ref long location, long value)
    {
        var current = Volatile.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
