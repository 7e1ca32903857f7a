using Microsoft.EntityFrameworkCore;
using Triage.Platform.Store;

namespace Triage.Platform.Keys;

/// <summary>
/// Requests and tokens per minute per key, shared by every Ingest process through the store: the generic cell rate
/// algorithm (GCRA) keeps one theoretical arrival time per limit on the key's row, and one conditional UPDATE admits
/// a request and moves both, or neither. A key may spend a minute's worth at once, then at the steady rate.
/// </summary>
public sealed class RateLimiter(TriageDatabase database, TimeProvider time)
{
    private const long WindowMicros = 60_000_000;

    /// <summary>Admits a request of <paramref name="tokens"/> estimated tokens, or says which limit it hit and when to retry.</summary>
    public async Task<RateDecision> TryAcquireAsync(VirtualKey key, int tokens, CancellationToken cancellationToken)
    {
        if (key.RequestsPerMinute is null && key.TokensPerMinute is null)
        {
            return RateDecision.Allowed;
        }

        var now = NowMicros();
        var requestStep = Step(key.RequestsPerMinute, 1);
        var tokenStep = Step(key.TokensPerMinute, key.TokensPerMinute is { } tpm ? Math.Min(tokens, tpm) : 0);
        await using var db = database.CreateContext();
        var admitted = await db.Database.ExecuteSqlAsync(
            $"""
            UPDATE virtual_keys
            SET request_tat = (CASE WHEN request_tat > {now} THEN request_tat ELSE {now} END) + {requestStep},
                token_tat = (CASE WHEN token_tat > {now} THEN token_tat ELSE {now} END) + {tokenStep}
            WHERE id = {key.Id}
              AND (CASE WHEN request_tat > {now} THEN request_tat ELSE {now} END) + {requestStep} - {now} <= {WindowMicros}
              AND (CASE WHEN token_tat > {now} THEN token_tat ELSE {now} END) + {tokenStep} - {now} <= {WindowMicros}
            """,
            cancellationToken);
        if (admitted == 1)
        {
            return RateDecision.Allowed;
        }

        var row = await db.VirtualKeys.AsNoTracking()
            .Where(k => k.Id == key.Id)
            .Select(k => new { k.RequestTat, k.TokenTat })
            .SingleAsync(cancellationToken);
        var requestWait = Math.Max(row.RequestTat, now) + requestStep - now - WindowMicros;
        var tokenWait = Math.Max(row.TokenTat, now) + tokenStep - now - WindowMicros;
        var (limit, wait) = requestWait >= tokenWait ? ("rpm", requestWait) : ("tpm", tokenWait);
        return new RateDecision(false, limit, TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(wait / 1_000_000.0))));
    }

    /// <summary>Moves the key's token limit by what a triage really used against what was estimated at admission.</summary>
    public async Task CorrectTokensAsync(string keyId, int? tokensPerMinute, int difference, CancellationToken cancellationToken)
    {
        if (tokensPerMinute is not { } tpm || difference == 0)
        {
            return;
        }

        var step = difference * (WindowMicros / tpm);
        await using var db = database.CreateContext();
        await db.Database.ExecuteSqlAsync($"UPDATE virtual_keys SET token_tat = token_tat + {step} WHERE id = {keyId}", cancellationToken);
    }

    private long NowMicros() => time.GetUtcNow().ToUnixTimeMilliseconds() * 1000;

    /// <summary>The emission interval of <paramref name="count"/> units under a per-minute limit; 0 without a limit.</summary>
    private static long Step(int? perMinute, int count) => perMinute is { } limit ? count * (WindowMicros / limit) : 0;
}

/// <summary>Whether a request was admitted; when not, which limit (rpm or tpm) and how long to wait.</summary>
public sealed record RateDecision(bool Admitted, string? Limit = null, TimeSpan RetryAfter = default)
{
    public static RateDecision Allowed { get; } = new(true);
}
