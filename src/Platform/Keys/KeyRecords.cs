namespace Triage.Platform.Keys;

/// <summary>
/// A team's virtual key as the store keeps it: its limits, never its secret. Instants are kept as Unix
/// milliseconds so that both databases compare them (see <see cref="Store.CacheEntryRecord.CreatedAt"/>).
/// </summary>
public sealed class VirtualKeyRecord
{
    /// <summary>The key's public name (<c>key_...</c>): what logs, events and the usage tables carry.</summary>
    public required string Id { get; set; }

    public required string Team { get; set; }

    /// <summary>Comma-separated routes the key may post to; null for every route.</summary>
    public string? Routes { get; set; }

    public int? RequestsPerMinute { get; set; }

    public int? TokensPerMinute { get; set; }

    /// <summary>Budget per period in micro-USD (integers: both databases add them exactly and atomically).</summary>
    public long? BudgetMicros { get; set; }

    /// <summary>One of <see cref="BudgetPeriod"/>; set with <see cref="BudgetMicros"/>.</summary>
    public string? BudgetPeriodName { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public string? RevokedReason { get; set; }

    /// <summary>GCRA theoretical arrival time of the next request, Unix microseconds (shared by every Ingest).</summary>
    public long RequestTat { get; set; }

    /// <summary>GCRA theoretical arrival time of the next token, Unix microseconds.</summary>
    public long TokenTat { get; set; }
}

/// <summary>
/// A secret of a key, stored as its SHA-256 with a short visible prefix to find it by. A key has one secret, or two
/// while a rotation's grace period lasts.
/// </summary>
public sealed class KeySecretRecord
{
    /// <summary>SHA-256 of the whole secret.</summary>
    public required byte[] Hash { get; set; }

    /// <summary>The first characters of the secret (<c>tk-AbCdEfGh</c>): how a person and the lookup tell keys apart.</summary>
    public required string Prefix { get; set; }

    public required string KeyId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When a rotated-out secret stops working; null while it is the key's current secret.</summary>
    public DateTimeOffset? NotAfter { get; set; }
}

/// <summary>A key's spend in one budget period, in micro-USD: reserved by triages in flight, spent by settled ones.</summary>
public sealed class BudgetUsageRecord
{
    public required string KeyId { get; set; }

    public DateTimeOffset PeriodStart { get; set; }

    public long ReservedMicros { get; set; }

    public long SpentMicros { get; set; }

    public long SavedMicros { get; set; }
}

/// <summary>What one triage holds of its key's budget: reserved at admission, then settled or released, once.</summary>
public sealed class ChargeRecord
{
    public required string EventId { get; set; }

    /// <summary>Null when the gateway runs without keys: the charge still feeds the usage table.</summary>
    public string? KeyId { get; set; }

    public required string Team { get; set; }

    public DateTimeOffset PeriodStart { get; set; }

    public long ReservedMicros { get; set; }

    /// <summary>Tokens charged to the key's tokens-per-minute limit at admission, corrected at settlement.</summary>
    public int ReservedTokens { get; set; }

    public long ChargedMicros { get; set; }

    /// <summary>One of <see cref="ChargeState"/>.</summary>
    public required string State { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? SettledAt { get; set; }
}

public static class ChargeState
{
    public const string Reserved = "reserved";
    public const string Settled = "settled";
    public const string Released = "released";
}

/// <summary>Usage per hour, key, provider and model: what <c>GET /v1/usage</c> and <c>triage usage</c> add up.</summary>
public sealed class UsageRecord
{
    public DateTimeOffset Hour { get; set; }

    /// <summary>Empty when the gateway runs without keys.</summary>
    public required string KeyId { get; set; }

    public required string Team { get; set; }

    public required string Provider { get; set; }

    public required string Model { get; set; }

    public long Triages { get; set; }

    /// <summary>Attempts that failed but were billed (the provider answered, the answer was unusable).</summary>
    public long FailedAttempts { get; set; }

    public long CacheHits { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CostMicros { get; set; }

    public long SavedMicros { get; set; }
}
