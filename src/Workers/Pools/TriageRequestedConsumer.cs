using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Triage.Contracts;
using Triage.Workers.Providers;

namespace Triage.Workers.Pools;

/// <summary>
/// A worker of a provider's pool: calls the provider named in the request and publishes the triage. Retrying is the
/// provider pipeline's job; a failed attempt leaves here as a fault (the message moves to the pool's error queue).
/// </summary>
public sealed partial class TriageRequestedConsumer(
    ProviderRegistry providers,
    TimeProvider time,
    ILogger<TriageRequestedConsumer> logger) : IConsumer<TriageRequested>
{
    public async Task Consume(ConsumeContext<TriageRequested> context)
    {
        var request = context.Message;
        var provider = providers.Get(request.Provider);
        var started = Stopwatch.GetTimestamp();
        ProviderAnswer answer;
        try
        {
            answer = await provider.TriageAsync(request, context.CancellationToken);
        }
        catch (ProviderException e)
        {
            LogAttemptFailed(logger, request.EventId, provider.Name, e.Failure, e.Message);
            throw;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var now = time.GetUtcNow();
        var verdict = answer.Verdict;

        await context.Publish(new TriageCompleted
        {
            EventId = request.EventId,
            Route = request.Route,
            Summary = verdict.Summary,
            Category = verdict.Category,
            SuspectedCause = verdict.SuspectedCause,
            SuggestedOwners = verdict.SuggestedOwners,
            Confidence = verdict.Confidence,
            FlakyLikelihood = verdict.FlakyLikelihood,
            NextSteps = verdict.NextSteps ?? [],
            RedactedSecrets = request.RedactedSecrets,
            Provider = provider.Name,
            Model = answer.Model,
            Attempts = request.Attempt,
            Usage = answer.Usage,
            CostUsd = PriceTable.CostUsd(providers.OptionsOf(provider.Name), answer.Model, answer.Usage),
            ProviderDurationMs = elapsed.TotalMilliseconds,
            DurationMs = (now - request.Failure.ReceivedAt).TotalMilliseconds,
            CompletedAt = now,
        });
        LogTriaged(logger, request.EventId, provider.Name, verdict.Category, elapsed.TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Triaged {EventId} with {Provider}: {Category} in {ElapsedMs:F1} ms")]
    private static partial void LogTriaged(ILogger logger, string eventId, string provider, string category, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Attempt at {EventId} with {Provider} failed ({Failure}): {Reason}")]
    private static partial void LogAttemptFailed(ILogger logger, string eventId, string provider, ProviderFailure failure, string reason);
}
