namespace Triage.Router.Routing;

/// <summary>
/// Smooth weighted round-robin over the providers that are available and have free capacity: every pick adds each
/// candidate's weight to its running score, takes the highest and subtracts the total from it. The split follows
/// the weights exactly over any window, without bursts to one provider; a provider with weight 0 is never picked
/// here (it only receives failover).
/// </summary>
public sealed class WeightedCapacityPolicy
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, long> scores = new(StringComparer.Ordinal);

    public string Name => "WeightedCapacity";

    public ProviderState? Pick(IReadOnlyList<ProviderState> candidates, DateTimeOffset now)
    {
        lock (gate)
        {
            ProviderState? best = null;
            long total = 0;
            foreach (var candidate in candidates)
            {
                if (candidate.Weight <= 0 || !candidate.HasFreeCapacity || !candidate.IsAvailable(now))
                {
                    continue;
                }

                var score = scores.GetValueOrDefault(candidate.Name) + candidate.Weight;
                scores[candidate.Name] = score;
                total += candidate.Weight;
                if (best is null || score > scores[best.Name])
                {
                    best = candidate;
                }
            }

            if (best is not null)
            {
                scores[best.Name] -= total;
            }

            return best;
        }
    }
}
