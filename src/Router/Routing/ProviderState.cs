namespace Triage.Router.Routing;

/// <summary>
/// The live state of one provider as this router sees it: triages sent and not yet answered, and health learned
/// passively from attempt outcomes. Policies read it; outcomes write it. Health works like YARP's passive checks:
/// a few consecutive failures (or an open circuit reported by the pool) take the provider out for a cooldown, after
/// which a single triage probes it; a success brings it back, a failure starts a new cooldown.
/// </summary>
public sealed class ProviderState(string name, int weight, int capacity, TimeSpan cooldown)
{
    public const int FailuresToMarkDown = 3;

    private readonly Lock gate = new();
    private int outstanding;
    private int consecutiveFailures;
    private DateTimeOffset? downUntil;
    private bool probing;

    public string Name { get; } = name;

    public int Weight { get; } = weight;

    public int Capacity { get; } = capacity;

    public int Outstanding => Volatile.Read(ref outstanding);

    public bool HasFreeCapacity => Outstanding < Capacity;

    public bool IsHealthy
    {
        get
        {
            lock (gate)
            {
                return downUntil is null;
            }
        }
    }

    /// <summary>Healthy, or down with its cooldown over and no probe out yet.</summary>
    public bool IsAvailable(DateTimeOffset now)
    {
        lock (gate)
        {
            return downUntil is null || (now >= downUntil && !probing);
        }
    }

    /// <summary>Counts a triage as sent; when the provider is down past its cooldown, this triage is its probe.</summary>
    public bool TryReserve(DateTimeOffset now)
    {
        lock (gate)
        {
            if (downUntil is not null)
            {
                if (now < downUntil || probing)
                {
                    return false;
                }

                probing = true;
            }

            outstanding++;
            return true;
        }
    }

    /// <summary>A reserved triage was never sent (the send failed): give its place back, say nothing of health.</summary>
    public void Unreserve()
    {
        lock (gate)
        {
            Release();
            probing = false;
        }
    }

    /// <summary>When the provider last triaged a failure; null before its first success in this process.</summary>
    public DateTimeOffset? LastSucceededAt { get; private set; }

    public void Succeeded(DateTimeOffset now)
    {
        lock (gate)
        {
            LastSucceededAt = now;
            Release();
            consecutiveFailures = 0;
            downUntil = null;
            probing = false;
        }
    }

    /// <param name="againstHealth">False for failures that say nothing of the provider (a bad request, an invalid answer).</param>
    public void Failed(DateTimeOffset now, bool againstHealth)
    {
        lock (gate)
        {
            Release();
            if (!againstHealth)
            {
                probing = false;
                return;
            }

            consecutiveFailures++;
            if (probing || consecutiveFailures >= FailuresToMarkDown)
            {
                downUntil = now + cooldown;
                probing = false;
            }
        }
    }

    /// <summary>The pool's circuit breaker opened: believe it at once.</summary>
    public void CircuitOpened(DateTimeOffset now)
    {
        lock (gate)
        {
            Release();
            downUntil = now + cooldown;
            probing = false;
        }
    }

    // Outcomes can arrive for triages another router instance sent; never count below zero.
    private void Release() => outstanding = Math.Max(0, outstanding - 1);
}
