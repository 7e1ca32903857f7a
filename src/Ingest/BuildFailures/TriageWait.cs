using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;
using Triage.Platform.Store;

namespace Triage.Ingest.BuildFailures;

/// <summary>
/// <c>?wait=</c> on a posted failure: a build step that wants its triage holds one request open instead of polling
/// <c>/v1/triages/{id}</c> itself.
/// </summary>
public static partial class TriageWait
{
    /// <summary>Longer than a build step should block on a triage, and longer than proxies keep an idle request.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromSeconds(60);

    /// <summary>The built-in triager and cache hits answer in milliseconds; a model takes seconds. Poll fast, then calm down.</summary>
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(10);

    private static readonly TimeSpan SlowestPoll = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// "20s", "500ms" or "20" (seconds), up to <see cref="Longest"/>; absent or empty means no wait. False, with why,
    /// for anything else.
    /// </summary>
    public static bool TryParse(string? text, out TimeSpan wait, [NotNullWhen(false)] out string? error)
    {
        wait = TimeSpan.Zero;
        error = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        var match = Duration().Match(text);
        if (!match.Success || !double.TryParse(match.Groups["amount"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            error = $"'{text}' is not a duration; write 20s, 500ms or 20 (seconds), at most {Longest.TotalSeconds:0}s";
            return false;
        }

        var seconds = match.Groups["unit"].Value.Equals("ms", StringComparison.OrdinalIgnoreCase) ? amount / 1000 : amount;
        if (seconds > Longest.TotalSeconds)
        {
            error = $"'{text}' is longer than the {Longest.TotalSeconds:0}s a request may wait; poll /v1/triages/{{id}} for longer";
            return false;
        }

        wait = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>
    /// Reads the stored triage until it has a result, is dead-lettered (no result will come without a replay) or
    /// <paramref name="wait"/> is over; the last state read, or null when the store does not know the id. Woken as soon
    /// as <paramref name="recorded"/> hears of the outcome; one it does not hear of is found by polling, fast and then calmer.
    /// Ends, by cancellation, as soon as the caller hangs up.
    /// </summary>
    public static async Task<StoredTriage?> ForResultAsync(
        ITriageStore store, RecordedTriages recorded, string eventId, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + wait;
        var delay = FirstPoll;
        var watch = recorded.Listen(eventId);
        try
        {
            while (true)
            {
                var stored = await store.FindAsync(eventId, cancellationToken);
                if (stored is null or { Result: not null } or { Status: TriageStatus.DeadLettered })
                {
                    return stored;
                }

                var left = deadline - time.GetUtcNow();
                if (left <= TimeSpan.Zero)
                {
                    return stored;
                }

                if (watch.Recorded.IsCompleted)
                {
                    // Dead-lettered and queued again by a replay before the read: listen for its next outcome.
                    watch.Dispose();
                    watch = recorded.Listen(eventId);
                }

                await Task.WhenAny(watch.Recorded, Task.Delay(delay < left ? delay : left, time, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
                delay = delay * 2 < SlowestPoll ? delay * 2 : SlowestPoll;
            }
        }
        finally
        {
            watch.Dispose();
        }
    }

    [GeneratedRegex(@"^(?<amount>[0-9]+(\.[0-9]+)?)(?<unit>ms|s)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Duration();
}
