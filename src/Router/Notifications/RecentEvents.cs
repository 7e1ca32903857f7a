namespace Triage.Router.Notifications;

/// <summary>
/// The event ids this process announced lately, so that a second delivery of the same triage (delivery is at least
/// once; a late answer may follow a failover) is not posted twice. Bounded in count and age: a duplicate arriving
/// later than <see cref="Window"/>, or at another router process, is posted again, so receivers still de-duplicate
/// on the event id.
/// </summary>
public sealed class RecentEvents(TimeProvider time)
{
    public const int Capacity = 10_000;

    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    private readonly Lock gate = new();
    private readonly HashSet<string> seen = new(StringComparer.Ordinal);
    private readonly Queue<(string EventId, DateTimeOffset At)> oldestFirst = new();

    /// <summary>True the first time an event id is seen within the window; false for a repeat.</summary>
    public bool TryAdd(string eventId)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            while (oldestFirst.TryPeek(out var oldest) && (oldestFirst.Count >= Capacity || now - oldest.At > Window))
            {
                oldestFirst.Dequeue();
                seen.Remove(oldest.EventId);
            }

            if (!seen.Add(eventId))
            {
                return false;
            }

            oldestFirst.Enqueue((eventId, now));
            return true;
        }
    }
}
