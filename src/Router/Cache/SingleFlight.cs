using System.Collections.Concurrent;
using Triage.Contracts;

namespace Triage.Router.Cache;

/// <summary>
/// Identical misses (same scope, same fingerprint and identity) that arrive while the first is with a provider wait
/// for its answer instead of paying for their own. A follower waits inside its consumer, unacknowledged, so a crash
/// loses nothing: the broker redelivers it. It waits at most the route's timeout; if the leader fails or the wait
/// runs out, the follower is triaged on its own. The flights are this router process's: several routers each
/// coalesce what reaches them.
/// </summary>
public sealed class SingleFlight
{
    /// <summary>Followers waiting at once, across keys: each holds a consumer slot of the router's queue.</summary>
    public const int MaxFollowers = 32;

    private readonly ConcurrentDictionary<string, Flight> byKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Flight> byLeader = new(StringComparer.Ordinal);
    private int followers;

    /// <summary>Either makes this failure the leader of its key (null) or returns the flight to wait for.</summary>
    /// <remarks>
    /// A flight older than <paramref name="maxAge"/> is taken over: its answer went to another router's recorder,
    /// or never came, and nobody should wait for it any more.
    /// </remarks>
    public Flight? LeadOrFollow(string key, string eventId, TimeSpan maxAge)
    {
        var flight = new Flight(key, eventId, Environment.TickCount64);
        var existing = byKey.GetOrAdd(key, flight);
        if (!ReferenceEquals(existing, flight)
            && Environment.TickCount64 - existing.StartedAt > maxAge.TotalMilliseconds
            && byKey.TryUpdate(key, flight, existing))
        {
            byLeader.TryRemove(existing.LeaderEventId, out _);
            existing.Land(null);
            existing = flight;
        }

        if (ReferenceEquals(existing, flight))
        {
            byLeader[eventId] = flight;
            return null;
        }

        // The same failure delivered twice is not its own follower.
        return existing.LeaderEventId == eventId ? null : existing;
    }

    /// <summary>Waits for the leader's triage; null when it failed, ran out of time, or too many already wait.</summary>
    public async Task<TriageCompleted?> WaitAsync(Flight flight, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref followers) > MaxFollowers)
        {
            Interlocked.Decrement(ref followers);
            return null;
        }

        try
        {
            return await flight.Result.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            return null;
        }
        finally
        {
            Interlocked.Decrement(ref followers);
        }
    }

    public void Completed(TriageCompleted result) => Land(result.EventId, result);

    public void Failed(string eventId) => Land(eventId, null);

    private void Land(string leaderEventId, TriageCompleted? result)
    {
        if (byLeader.TryRemove(leaderEventId, out var flight))
        {
            byKey.TryRemove(new KeyValuePair<string, Flight>(flight.Key, flight));
            flight.Land(result);
        }
    }

    public sealed class Flight(string key, string leaderEventId, long startedAt)
    {
        public long StartedAt { get; } = startedAt;

        private readonly TaskCompletionSource<TriageCompleted?> result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Key { get; } = key;

        public string LeaderEventId { get; } = leaderEventId;

        public Task<TriageCompleted?> Result => result.Task;

        internal void Land(TriageCompleted? value) => result.TrySetResult(value);
    }
}
