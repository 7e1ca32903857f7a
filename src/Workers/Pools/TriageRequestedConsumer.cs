using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Triage.Contracts;
using Triage.Workers.Providers;

namespace Triage.Workers.Pools;

/// <summary>A worker of a provider's pool: calls the provider named in the request and publishes the triage.</summary>
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
        var answer = await provider.TriageAsync(request, context.CancellationToken);
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
            Provider = provider.Name,
            Model = answer.Model,
            Attempts = request.Attempt,
            Usage = answer.Usage,
            CostUsd = providers.CostOf(provider.Name, answer.Usage),
            ProviderDurationMs = elapsed.TotalMilliseconds,
            DurationMs = (now - request.Failure.ReceivedAt).TotalMilliseconds,
            CompletedAt = now,
        });
        LogTriaged(logger, request.EventId, provider.Name, verdict.Category, elapsed.TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Triaged {EventId} with {Provider}: {Category} in {ElapsedMs:F1} ms")]
    private static partial void LogTriaged(ILogger logger, string eventId, string provider, string category, double elapsedMs);
}
