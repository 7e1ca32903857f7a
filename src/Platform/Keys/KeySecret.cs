using System.Security.Cryptography;
using System.Text;

namespace Triage.Platform.Keys;

/// <summary>
/// The secret of a virtual key: <c>tk-</c> and 192 random bits in base64url. The store keeps only its SHA-256 (enough
/// for random secrets of that length: nothing to brute-force) and its first characters to find it by.
/// </summary>
public static class KeySecret
{
    public const string Scheme = "tk-";

    /// <summary>Characters of the secret that are stored visibly, scheme included.</summary>
    public const int PrefixLength = 11;

    private const int RandomBytes = 24;

    public static string New() => Scheme + Base64Url(RandomNumberGenerator.GetBytes(RandomBytes));

    /// <summary>A new key id: <c>key_</c> and 64 random bits, public (it is in logs, events and usage).</summary>
    public static string NewId() => "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>The visible part of a well-formed secret; null when the text cannot be one of ours.</summary>
    public static string? PrefixOf(string secret) =>
        secret.StartsWith(Scheme, StringComparison.Ordinal) && secret.Length == Scheme.Length + 32 ? secret[..PrefixLength] : null;

    /// <summary>Compares two hashes in time that does not depend on where they differ.</summary>
    public static bool Matches(byte[] stored, byte[] presented) => CryptographicOperations.FixedTimeEquals(stored, presented);

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Calendar periods of a budget, in UTC: a day, an ISO week from Monday, a month.</summary>
public static class BudgetPeriod
{
    public const string Day = "day";
    public const string Week = "week";
    public const string Month = "month";

    public static IReadOnlyList<string> All { get; } = [Day, Week, Month];

    public static DateTimeOffset Start(string period, DateTimeOffset now)
    {
        var day = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        return period switch
        {
            Day => day,
            Week => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)),
            Month => new DateTimeOffset(day.Year, day.Month, 1, 0, 0, 0, TimeSpan.Zero),
            _ => throw new ArgumentOutOfRangeException(nameof(period), period, "a budget period is day, week or month"),
        };
    }

    /// <summary>When the period that holds <paramref name="now"/> ends and the budget is whole again.</summary>
    public static DateTimeOffset Reset(string period, DateTimeOffset now)
    {
        var start = Start(period, now);
        return period switch
        {
            Day => start.AddDays(1),
            Week => start.AddDays(7),
            _ => start.AddMonths(1),
        };
    }
}

/// <summary>Money in the ledger: integer micro-USD, so that sums in SQL are exact on both databases.</summary>
public static class Micros
{
    public static long FromUsd(decimal usd) => (long)Math.Round(usd * 1_000_000m, MidpointRounding.AwayFromZero);

    public static decimal ToUsd(long micros) => micros / 1_000_000m;
}
