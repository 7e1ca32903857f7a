using MassTransit;
using Microsoft.Extensions.Logging;
using Triage.Contracts;
using Triage.Platform.Configuration;
using Triage.Platform.Keys;
using Triage.Platform.Store;
using Triage.Router.Cache;
using Triage.Router.Notifications;
using Triage.Platform.Telemetry;
using Triage.Router.Routing;

namespace Triage.Router.Recording;

/// <summary>The results recorder: stores each failure's first triage; later deliveries of a result change nothing.</summary>
public sealed partial class TriageCompletedRecorder(
    ITriageStore store,
    ProviderStates states,
    RoutingMetrics metrics,
    TriageMetrics triages,
    TriageCache cache,
    SingleFlight flights,
    BudgetLedger ledger,
    KeyAdmission admission,
    RateLimiter limiter,
    TriageOptions options,
    IPlainJsonPublisher plainJson,
    ILogger<TriageCompletedRecorder> logger) : IConsumer<TriageCompleted>
{
    public async Task Consume(ConsumeContext<TriageCompleted> context)
    {
        var result = context.Message;
        if (result.Cache is null && states.TryGet(result.Provider, out var state))
        {
            state.Succeeded(result.CompletedAt);
            metrics.Attempt(result.Provider, "success");
        }

        // Remembered before it is recorded: whoever sees the result can count on the cache knowing it too.
        // A second delivery upserts the same entry again, which changes nothing.
        if (result.Cache is null && (!IsBuiltin(result.Provider) || options.Cache.Semantic.CacheBuiltin))
        {
            await RememberAsync(result, context.CancellationToken);
        }

        var recorded = await store.RecordCompletedAsync(result, context.CancellationToken);
        if (recorded)
        {
            triages.Completed(result);
            LogRecorded(logger, result.EventId, result.Provider, result.DurationMs);
            flights.Completed(result);
        }
        else
        {
            LogAlreadyRecorded(logger, result.EventId);
        }

        // Settled on every delivery: the ledger settles an event once, so a crash after recording loses no charge.
        await SettleAsync(result, context.CancellationToken);

        // The first result goes to triage.completed.json last, so that a publish the broker does not confirm leaves it
        // recorded and settled. It throws then: the consume is retried (every step above is idempotent) and subscribers
        // never miss a result. A retry, a redelivery or a message moved back from triage-recorder_error cannot tell
        // whether an earlier consume published, so it publishes the stored first result again; subscribers
        // de-duplicate on message_id, the event id.
        var retried = context.GetRetryAttempt() > 0 || context.ReceiveContext.Redelivered
            || context.ReceiveContext.TransportHeaders.TryGetHeader(MessageHeaders.FaultMessage, out _);
        var first = recorded ? result
            : retried ? (await store.FindAsync(result.EventId, context.CancellationToken))?.Result
            : null;
        if (first is not null)
        {
            await plainJson.PublishAsync(first, context.CancellationToken);
        }
    }

    private async Task SettleAsync(TriageCompleted result, CancellationToken cancellationToken)
    {
        if (await ledger.SettleAsync(result, cancellationToken) is not { } settlement)
        {
            return;
        }

        triages.Charged(settlement);
        if (settlement is { KeyId: { } keyId, TokenDifference: not 0 }
            && await admission.FindAsync(keyId, cancellationToken) is { Key.TokensPerMinute: { } tpm })
        {
            await limiter.CorrectTokensAsync(keyId, tpm, settlement.TokenDifference, cancellationToken);
        }
    }

    private bool IsBuiltin(string provider) =>
        options.Providers.TryGetValue(provider, out var configured) ? configured.Type == ProviderType.Builtin : provider == ProviderType.Builtin;

    /// <summary>
    /// Remembers a fresh triage for the failures that will rhyme with it. The cache is an optimisation: when it
    /// cannot take the entry the result stays recorded and the message is acknowledged.
    /// </summary>
    private async Task RememberAsync(TriageCompleted result, CancellationToken cancellationToken)
    {
        try
        {
            if (await store.FindCacheSourceAsync(result.EventId, cancellationToken) is { } source)
            {
                await cache.RememberAsync(result, cache.ScopeOf(source.Route, source.Repository), source.Excerpt, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogNotRemembered(logger, e, result.EventId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cache could not remember the triage of {EventId}")]
    private static partial void LogNotRemembered(ILogger logger, Exception exception, string eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recorded {EventId} from {Provider}, {DurationMs:F1} ms after it was received")]
    private static partial void LogRecorded(ILogger logger, string eventId, string provider, double durationMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Result for {EventId} was already recorded; kept the first")]
    private static partial void LogAlreadyRecorded(ILogger logger, string eventId);
}
