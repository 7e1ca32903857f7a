namespace Triage.Platform.Store;

/// <summary>
/// Tells the requests held open on a triage (<c>?wait=</c>) that this process just recorded its outcome, so that they
/// read it at once instead of on their next poll: the store of this process tells it, and in an Ingest without a
/// router so does the listener of <c>triage.completed.json</c>. A dead letter recorded by another process is found by
/// polling the store.
/// </summary>
public sealed class RecordedTriages
{
    private readonly Dictionary<string, Waiting> waiting = new(StringComparer.Ordinal);

    /// <summary>Starts listening for <paramref name="eventId"/>; call before reading the store, so that no outcome falls between the read and the wait.</summary>
    public Watch Listen(string eventId)
    {
        lock (waiting)
        {
            if (!waiting.TryGetValue(eventId, out var listeners))
            {
                listeners = new Waiting();
                waiting[eventId] = listeners;
            }

            listeners.Count++;
            return new Watch(this, eventId, listeners);
        }
    }

    /// <summary>The store recorded a result for <paramref name="eventId"/>, or gave up on it (dead-lettered).</summary>
    public void Recorded(string eventId)
    {
        Waiting? listeners;
        lock (waiting)
        {
            if (!waiting.Remove(eventId, out listeners))
            {
                return;
            }
        }

        listeners.Arrival.TrySetResult();
    }

    private void Leave(string eventId, Waiting listeners)
    {
        lock (waiting)
        {
            if (--listeners.Count == 0 && waiting.TryGetValue(eventId, out var current) && current == listeners)
            {
                waiting.Remove(eventId);
            }
        }
    }

    /// <summary>One request listening; disposing it stops listening.</summary>
    public sealed class Watch : IDisposable
    {
        private readonly RecordedTriages owner;
        private readonly string eventId;
        private readonly Waiting listeners;
        private bool left;

        internal Watch(RecordedTriages owner, string eventId, Waiting listeners)
        {
            this.owner = owner;
            this.eventId = eventId;
            this.listeners = listeners;
        }

        /// <summary>Completes when the outcome is recorded in this process; never fails.</summary>
        public Task Recorded => listeners.Arrival.Task;

        public void Dispose()
        {
            if (!left)
            {
                left = true;
                owner.Leave(eventId, listeners);
            }
        }
    }

    internal sealed class Waiting
    {
        public TaskCompletionSource Arrival { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Count { get; set; }
    }
}
