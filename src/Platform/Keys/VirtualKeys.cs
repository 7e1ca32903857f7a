using Microsoft.EntityFrameworkCore;
using Triage.Platform.Store;

namespace Triage.Platform.Keys;

/// <summary>A virtual key as callers see it: its limits and state, never its secret.</summary>
public sealed record VirtualKey(
    string Id,
    string Team,
    string Prefix,
    IReadOnlyList<string> Routes,
    int? RequestsPerMinute,
    int? TokensPerMinute,
    decimal? BudgetUsd,
    string? BudgetPeriod,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt,
    string? RevokedReason)
{
    /// <summary>True when the key may post to <paramref name="route"/>: it names the route, or names none.</summary>
    public bool Allows(string route) => Routes.Count == 0 || Routes.Contains(route, StringComparer.OrdinalIgnoreCase);

    /// <summary>Why the key cannot be used at <paramref name="now"/>; null while it can.</summary>
    public string? Unusable(DateTimeOffset now) =>
        RevokedAt is { } revoked ? $"the key {Id} was revoked at {revoked:u}{(RevokedReason is { } why ? $": {why}" : string.Empty)}"
        : ExpiresAt <= now ? $"the key {Id} expired at {ExpiresAt:u}"
        : null;
}

/// <summary>What a new key may do: the arguments of <c>triage keys create</c> and <c>POST /v1/admin/keys</c>.</summary>
public sealed record KeySpec(
    string Team,
    IReadOnlyList<string>? Routes = null,
    int? RequestsPerMinute = null,
    int? TokensPerMinute = null,
    decimal? BudgetUsd = null,
    string? BudgetPeriod = null,
    DateTimeOffset? ExpiresAt = null)
{
    /// <summary>Problems as (field, message), named as the command line and the admin API spell them.</summary>
    public IReadOnlyList<(string Field, string Message)> Validate(DateTimeOffset now)
    {
        var errors = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(Team) || Team.Length > 100 || Team.Any(char.IsWhiteSpace))
        {
            errors.Add(("team", "a team name of 1 to 100 characters without spaces is required"));
        }

        if (Routes?.FirstOrDefault(r => string.IsNullOrWhiteSpace(r) || r.Contains(',') || r.Length > 100) is { } route)
        {
            errors.Add(("routes", $"'{route}' is not a route name"));
        }

        if (RequestsPerMinute is < 1)
        {
            errors.Add(("rpm", "must be at least 1 (leave it out for no limit)"));
        }

        if (TokensPerMinute is < 1)
        {
            errors.Add(("tpm", "must be at least 1 (leave it out for no limit)"));
        }

        if (BudgetUsd is { } budget && budget <= 0)
        {
            errors.Add(("budget_usd", "must be more than 0 (leave it out for no budget)"));
        }

        if (BudgetUsd is not null && BudgetPeriod is null)
        {
            errors.Add(("budget_period", $"a budget needs its period: {string.Join(", ", Keys.BudgetPeriod.All)}"));
        }

        if (BudgetPeriod is { } period && !Keys.BudgetPeriod.All.Contains(period))
        {
            errors.Add(("budget_period", $"'{period}' is not a period; use {string.Join(", ", Keys.BudgetPeriod.All)}"));
        }

        if (BudgetPeriod is not null && BudgetUsd is null)
        {
            errors.Add(("budget_usd", "a budget period needs the budget in USD"));
        }

        if (ExpiresAt <= now)
        {
            errors.Add(("expires", "must be in the future"));
        }

        return errors;
    }
}

/// <summary>A new key or a rotated one: the only time its secret exists outside the caller's hands.</summary>
public sealed record IssuedKey(VirtualKey Key, string Secret);

/// <summary>What presenting a secret came to: the key, or why not (401 reasons).</summary>
public sealed record KeyCheck(VirtualKey? Key, string? Failure)
{
    public static KeyCheck Unknown { get; } = new(null, "the key is not known; check it was copied whole, or ask for a new one");
}

/// <summary>Creates, lists, revokes, rotates and recognises virtual keys in the store. No path logs or stores a secret.</summary>
public sealed class VirtualKeyStore(TriageDatabase database, TimeProvider time)
{
    public async Task<IssuedKey> CreateAsync(KeySpec spec, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var errors = spec.Validate(now);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")));
        }

        var secret = KeySecret.New();
        var record = new VirtualKeyRecord
        {
            Id = KeySecret.NewId(),
            Team = spec.Team,
            Routes = spec.Routes is { Count: > 0 } routes ? string.Join(',', routes) : null,
            RequestsPerMinute = spec.RequestsPerMinute,
            TokensPerMinute = spec.TokensPerMinute,
            BudgetMicros = spec.BudgetUsd is { } usd ? Micros.FromUsd(usd) : null,
            BudgetPeriodName = spec.BudgetPeriod,
            ExpiresAt = spec.ExpiresAt,
            CreatedAt = now,
        };
        await using var db = database.CreateContext();
        db.VirtualKeys.Add(record);
        db.KeySecrets.Add(new KeySecretRecord { Hash = KeySecret.Hash(secret), Prefix = secret[..KeySecret.PrefixLength], KeyId = record.Id, CreatedAt = now });
        await db.SaveChangesAsync(cancellationToken);
        return new IssuedKey(ToKey(record, secret[..KeySecret.PrefixLength]), secret);
    }

    /// <summary>Every key, newest first, or one team's; revoked ones included (they say so).</summary>
    public async Task<IReadOnlyList<VirtualKey>> ListAsync(string? team, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        var keys = await db.VirtualKeys.AsNoTracking()
            .Where(k => team == null || k.Team == team)
            .ToListAsync(cancellationToken);
        var ids = keys.Select(k => k.Id).ToList();
        var prefixes = await CurrentPrefixesAsync(db, ids, cancellationToken);
        return keys.OrderByDescending(k => k.CreatedAt).Select(k => ToKey(k, prefixes.GetValueOrDefault(k.Id, "-"))).ToList();
    }

    public async Task<VirtualKey?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        var record = await db.VirtualKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Id == id, cancellationToken);
        if (record is null)
        {
            return null;
        }

        var prefixes = await CurrentPrefixesAsync(db, [id], cancellationToken);
        return ToKey(record, prefixes.GetValueOrDefault(id, "-"));
    }

    /// <summary>Revokes the key and every secret of it at once; null when there is no such key. Revoking twice keeps the first time.</summary>
    public async Task<VirtualKey?> RevokeAsync(string id, string? reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = database.CreateContext();
        await db.VirtualKeys.Where(k => k.Id == id && k.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(k => k.RevokedAt, now).SetProperty(k => k.RevokedReason, reason), cancellationToken);
        return await FindAsync(id, cancellationToken);
    }

    /// <summary>
    /// A new secret for the key, same id and limits; the old secret keeps working for <paramref name="grace"/> so that
    /// builds can be moved over. Null when the key does not exist; an error when it is revoked.
    /// </summary>
    public async Task<IssuedKey?> RotateAsync(string id, TimeSpan grace, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = database.CreateContext();
        var record = await db.VirtualKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Id == id, cancellationToken);
        if (record is null)
        {
            return null;
        }

        if (ToKey(record, string.Empty).Unusable(now) is { } why)
        {
            throw new InvalidOperationException($"{why}; create a new key instead");
        }

        var secret = KeySecret.New();
        var until = now + grace;
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

            // Locks the key's row first: two rotations at once take turns instead of both retiring the same secret.
            await db.Database.ExecuteSqlAsync($"UPDATE virtual_keys SET request_tat = request_tat WHERE id = {id}", cancellationToken);
            await db.KeySecrets.Where(s => s.KeyId == id && (s.NotAfter == null || s.NotAfter > until))
                .ExecuteUpdateAsync(set => set.SetProperty(s => s.NotAfter, until), cancellationToken);
            db.KeySecrets.Add(new KeySecretRecord { Hash = KeySecret.Hash(secret), Prefix = secret[..KeySecret.PrefixLength], KeyId = id, CreatedAt = now });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        });
        return new IssuedKey(ToKey(record, secret[..KeySecret.PrefixLength]), secret);
    }

    /// <summary>Finds the key a secret belongs to, by its prefix, comparing hashes in constant time.</summary>
    public async Task<KeyCheck> CheckAsync(string secret, CancellationToken cancellationToken)
    {
        if (KeySecret.PrefixOf(secret) is not { } prefix)
        {
            return KeyCheck.Unknown;
        }

        var presented = KeySecret.Hash(secret);
        await using var db = database.CreateContext();
        var candidates = await db.KeySecrets.AsNoTracking().Where(s => s.Prefix == prefix).ToListAsync(cancellationToken);
        KeySecretRecord? match = null;
        foreach (var candidate in candidates)
        {
            if (KeySecret.Matches(candidate.Hash, presented))
            {
                match = candidate;
            }
        }

        if (match is null)
        {
            return KeyCheck.Unknown;
        }

        var record = await db.VirtualKeys.AsNoTracking().SingleAsync(k => k.Id == match.KeyId, cancellationToken);
        var key = ToKey(record, prefix);
        var now = time.GetUtcNow();
        if (key.Unusable(now) is { } why)
        {
            return new KeyCheck(key, why);
        }

        return match.NotAfter <= now
            ? new KeyCheck(key, $"this secret of {key.Id} was rotated out at {match.NotAfter:u}; use the key's new secret")
            : new KeyCheck(key, null);
    }

    private static async Task<Dictionary<string, string>> CurrentPrefixesAsync(TriageDbContext db, List<string> ids, CancellationToken cancellationToken)
    {
        var secrets = await db.KeySecrets.AsNoTracking().Where(s => ids.Contains(s.KeyId)).ToListAsync(cancellationToken);
        return secrets.GroupBy(s => s.KeyId)
            .ToDictionary(g => g.Key, g => g.OrderBy(s => s.NotAfter.HasValue).ThenByDescending(s => s.CreatedAt).First().Prefix);
    }

    internal static VirtualKey ToKey(VirtualKeyRecord record, string prefix) => new(
        record.Id,
        record.Team,
        prefix,
        record.Routes?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [],
        record.RequestsPerMinute,
        record.TokensPerMinute,
        record.BudgetMicros is { } micros ? Micros.ToUsd(micros) : null,
        record.BudgetPeriodName,
        record.ExpiresAt,
        record.CreatedAt,
        record.RevokedAt,
        record.RevokedReason);
}
