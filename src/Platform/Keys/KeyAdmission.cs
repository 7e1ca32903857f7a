using System.Collections.Concurrent;
using Triage.Contracts;
using Triage.Platform.Configuration;
using Triage.Platform.Pricing;

namespace Triage.Platform.Keys;

/// <summary>
/// The one gate of virtual keys, for Ingest (a secret in the Authorization header) and the router (a key id on a
/// failure published straight to the broker): who is asking, may they use this route, are they within their rate
/// limits, and does their budget hold the triage's estimated cost.
/// </summary>
public sealed class KeyAdmission(
    VirtualKeyStore keys,
    RateLimiter limiter,
    BudgetLedger ledger,
    KeyMetrics metrics,
    TriageOptions options,
    TimeProvider time)
{
    /// <summary>Tokens of the prompt around the excerpt: instructions, schema, build facts.</summary>
    public const int PromptOverheadTokens = 800;

    private const int MaxCachedChecks = 10_000;

    private readonly ConcurrentDictionary<string, (KeyCheck Check, DateTimeOffset Until)> checks = new(StringComparer.Ordinal);

    public bool Required { get; } = options.Auth.IsRequired(options.Store);

    /// <summary>Recognises the secret of an <c>Authorization: Bearer tk-...</c> header.</summary>
    public Task<KeyCheck> AuthenticateAsync(string? authorization, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(authorization))
        {
            return Task.FromResult(new KeyCheck(null, "send the team's virtual key as 'Authorization: Bearer tk-...'"));
        }

        const string Bearer = "Bearer ";
        if (!authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(new KeyCheck(null, "the Authorization header must be 'Bearer tk-...'"));
        }

        var secret = authorization[Bearer.Length..].Trim();

        // Cached by the secret's hash, never by the secret.
        return CachedAsync("s:" + Convert.ToHexString(KeySecret.Hash(secret)), () => keys.CheckAsync(secret, cancellationToken));
    }

    /// <summary>Recognises a key by its id, as a failure published straight to the broker names it.</summary>
    public Task<KeyCheck> FindAsync(string keyId, CancellationToken cancellationToken) =>
        CachedAsync("i:" + keyId, async () => await keys.FindAsync(keyId, cancellationToken) is { } key
            ? new KeyCheck(key, key.Unusable(time.GetUtcNow()))
            : new KeyCheck(null, $"no virtual key has the id '{keyId}'"));

    /// <summary>
    /// Admits one failure under <paramref name="key"/>: route, then rate limits (when <paramref name="limitRate"/>),
    /// then the budget. Admitting the same event id again reserves nothing more.
    /// </summary>
    public async Task<AdmissionDecision> AdmitAsync(VirtualKey key, BuildFailed failure, bool limitRate, CancellationToken cancellationToken)
    {
        if (!key.Allows(failure.Route))
        {
            return new AdmissionDecision(
                AdmissionOutcome.RouteNotAllowed,
                $"the key {key.Id} of team {key.Team} may post to {string.Join(", ", key.Routes)}, not to '{failure.Route}'");
        }

        var (estimateUsd, estimateTokens) = Estimate(failure.Route, failure.Log.Length);
        if (limitRate)
        {
            var rate = await limiter.TryAcquireAsync(key, estimateTokens, cancellationToken);
            if (!rate.Admitted)
            {
                metrics.RateLimited(key.Team, rate.Limit!);
                return new AdmissionDecision(
                    AdmissionOutcome.RateLimited,
                    $"the key {key.Id} is over its {(rate.Limit == "rpm" ? $"{key.RequestsPerMinute} requests" : $"{key.TokensPerMinute} tokens")} per minute; retry in {rate.RetryAfter.TotalSeconds:0} s",
                    RetryAfter: rate.RetryAfter,
                    Limit: rate.Limit);
            }
        }

        var budget = await ledger.ReserveAsync(failure.EventId, key, estimateUsd, estimateTokens, cancellationToken);
        if (!budget.Admitted)
        {
            metrics.BudgetRejected(key.Team);
            return new AdmissionDecision(
                AdmissionOutcome.OverBudget,
                $"the key {key.Id} has {budget.RemainingUsd:0.######} USD left of its {key.BudgetUsd:0.######} USD per {key.BudgetPeriod}, less than this triage may cost ({estimateUsd:0.######} USD); the budget resets at {budget.ResetsAt:u}",
                RemainingUsd: budget.RemainingUsd,
                ResetsAt: budget.ResetsAt);
        }

        return AdmissionDecision.Admitted;
    }

    /// <summary>
    /// Admits a failure that reached the router: one Ingest admitted passes at once; one published straight to the
    /// broker is checked here as Ingest would check it, rate limits aside (a producer with broker credentials is inside
    /// the perimeter). Null when admitted; else why it must be parked.
    /// </summary>
    public async Task<Refusal?> AdmitPublishedAsync(BuildFailed failure, CancellationToken cancellationToken)
    {
        if (failure.KeyId is not { } keyId)
        {
            return Required ? new Refusal("key_missing", "auth.required is on and the failure names no keyId") : null;
        }

        if (await ledger.IsAdmittedAsync(failure.EventId, cancellationToken))
        {
            return null;
        }

        var check = await FindAsync(keyId, cancellationToken);
        if (check.Key is not { } key)
        {
            return new Refusal("key_unknown", check.Failure!);
        }

        if (check.Failure is { } unusable)
        {
            return new Refusal("key_unusable", unusable);
        }

        var decision = await AdmitAsync(key, failure, limitRate: false, cancellationToken);
        return decision.Outcome switch
        {
            AdmissionOutcome.RouteNotAllowed => new Refusal("route_not_allowed", decision.Detail!),
            AdmissionOutcome.OverBudget => new Refusal("over_budget", decision.Detail!),
            _ => null,
        };
    }

    /// <summary>
    /// What a triage may cost at most on its route: the prompt plus an excerpt of the log (bounded by each provider's
    /// excerpt budget, about four characters a token) plus a full answer, priced at the route's most expensive model.
    /// </summary>
    public (decimal Usd, int Tokens) Estimate(string route, int logCharacters)
    {
        var most = (Usd: 0m, Tokens: 0);
        if (!options.Routing.TryGetValue(route, out var configured))
        {
            return most;
        }

        foreach (var name in configured.Providers)
        {
            if (!options.Providers.TryGetValue(name, out var provider))
            {
                continue;
            }

            var input = PromptOverheadTokens + Math.Min((logCharacters + 3) / 4, provider.MaxExcerptTokens);
            var cost = PriceTable.MaxCostUsd(provider, input, provider.MaxOutputTokens);
            var tokens = input + provider.MaxOutputTokens;
            if (cost > most.Usd || (cost == most.Usd && tokens > most.Tokens))
            {
                most = (cost, tokens);
            }
        }

        return most;
    }

    private async Task<KeyCheck> CachedAsync(string cacheKey, Func<Task<KeyCheck>> read)
    {
        var now = time.GetUtcNow();
        if (checks.TryGetValue(cacheKey, out var cached) && cached.Until > now)
        {
            return cached.Check;
        }

        var check = await read();
        if (options.Auth.KeyCacheSeconds > 0)
        {
            if (checks.Count >= MaxCachedChecks)
            {
                // Guessed secrets must not grow the process: start over rather than keep every miss.
                checks.Clear();
            }

            checks[cacheKey] = (check, now.AddSeconds(options.Auth.KeyCacheSeconds));
        }

        return check;
    }
}

/// <summary>Why a failure published straight to the broker was parked instead of triaged (its dead-letter reason).</summary>
public sealed record Refusal(string Reason, string Detail);

public enum AdmissionOutcome
{
    Admitted,
    RouteNotAllowed,
    RateLimited,
    OverBudget,
}

/// <summary>Whether a failure was admitted under its key; when not, why, in words and in the figures a client acts on.</summary>
public sealed record AdmissionDecision(
    AdmissionOutcome Outcome,
    string? Detail = null,
    TimeSpan RetryAfter = default,
    string? Limit = null,
    decimal RemainingUsd = 0,
    DateTimeOffset ResetsAt = default)
{
    public static AdmissionDecision Admitted { get; } = new(AdmissionOutcome.Admitted);
}
