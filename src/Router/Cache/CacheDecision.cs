namespace Triage.Router.Cache;

public enum CacheVerdict
{
    /// <summary>The neighbour's triage stands for this failure.</summary>
    Reuse,

    /// <summary>No neighbour, or none similar enough.</summary>
    BelowThreshold,

    /// <summary>Similar enough, but the failing tests, exceptions, error codes or files differ.</summary>
    DifferentFailure,
}

/// <summary>
/// The one place that decides whether an earlier triage may be reused: similarity finds the candidates, the
/// failure's identity decides. The threshold is the user's knob; the identity check is what keeps it safe.
/// </summary>
public static class CacheDecision
{
    public static CacheVerdict Judge(double similarity, double threshold, FailureIdentity failure, FailureIdentity candidate)
    {
        if (similarity < threshold)
        {
            return CacheVerdict.BelowThreshold;
        }

        return failure.Matches(candidate) ? CacheVerdict.Reuse : CacheVerdict.DifferentFailure;
    }
}
