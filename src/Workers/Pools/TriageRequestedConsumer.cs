using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Triage.Contracts;
using Triage.Platform.Pricing;
using Triage.Workers.Providers;

namespace Triage.Workers.Pools;

/// <summary>
/// A worker of a provider's pool: calls the provider named in the request within the attempt's deadline and
/// publishes the triage, or publishes why the attempt failed so that the router can fail it over. Retrying is the
/// provider pipeline's job; only a defect of the gateway itself leaves here as a fault.
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
        var remaining = request.AttemptDeadline is { } deadline ? deadline - time.GetUtcNow() : Timeout.InfiniteTimeSpan;
        if (remaining != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero)
        {
            // It waited in the queue past its deadline (a slow or stopped pool): another provider may still make it.
            await FailAsync(context, AttemptFailure.Expired, $"the attempt's deadline passed {-remaining.TotalMilliseconds:0} ms before a worker took it");
            return;
        }

        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        if (remaining != Timeout.InfiniteTimeSpan)
        {
            attempt.CancelAfter(remaining);
        }

        var started = Stopwatch.GetTimestamp();
        ProviderAnswer answer;
        try
        {
            answer = await provider.TriageAsync(request, attempt.Token);
        }
        catch (ProviderException e)
        {
            await FailAsync(context, Reason(e.Failure), e.Message, e.BilledUsage, e.BilledModel);
            return;
        }
        catch (OperationCanceledException) when (attempt.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            await FailAsync(context, AttemptFailure.Timeout, $"no answer within the route's timeout ({Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms)");
            return;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var now = time.GetUtcNow();
        var verdict = answer.Verdict;
        var cost = CostUsd(provider.Name, answer.Model, answer.Usage);
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
            AttemptHistory =
            [
                .. request.History,
                new AttemptOutcome(provider.Name, AttemptOutcome.Success, null, elapsed.TotalMilliseconds)
                {
                    At = now,
                    Model = answer.Model,
                    Usage = answer.Usage,
                    CostUsd = cost,
                },
            ],
            Usage = answer.Usage,
            CostUsd = cost,
            ProviderDurationMs = elapsed.TotalMilliseconds,
            DurationMs = (now - request.Failure.ReceivedAt).TotalMilliseconds,
            CompletedAt = now,
        });
        LogTriaged(logger, request.EventId, provider.Name, verdict.Category, elapsed.TotalMilliseconds);
    }

    /// <summary>Publishes why the attempt failed and, when the provider billed it anyway, what it cost.</summary>
    private async Task FailAsync(
        ConsumeContext<TriageRequested> context, string reason, string detail, TokenUsage? billed = null, string? model = null)
    {
        var request = context.Message;
        LogAttemptFailed(logger, request.EventId, request.Provider, reason, detail);
        await context.Publish(new TriageAttemptFailed
        {
            EventId = request.EventId,
            Request = request,
            Reason = reason,
            Detail = detail,
            FailedAt = time.GetUtcNow(),
            Model = billed is null ? null : model,
            Usage = billed,
            CostUsd = billed is null ? 0m : CostUsd(request.Provider, model ?? string.Empty, billed),
        });
    }

    private decimal CostUsd(string provider, string model, TokenUsage usage) =>
        PriceTable.CostUsd(providers.OptionsOf(provider), model, usage);

    private static string Reason(ProviderFailure failure) => failure switch
    {
        ProviderFailure.RateLimited => AttemptFailure.RateLimited,
        ProviderFailure.Overloaded => AttemptFailure.Overloaded,
        ProviderFailure.ServerError => AttemptFailure.ServerError,
        ProviderFailure.Transport => AttemptFailure.Transport,
        ProviderFailure.Timeout => AttemptFailure.Timeout,
        ProviderFailure.BadRequest => AttemptFailure.BadRequest,
        ProviderFailure.Unauthorized => AttemptFailure.Unauthorized,
        ProviderFailure.InvalidAnswer => AttemptFailure.InvalidAnswer,
        ProviderFailure.CircuitOpen => AttemptFailure.CircuitOpen,
        _ => throw new ArgumentOutOfRangeException(nameof(failure), failure, null),
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Triaged {EventId} with {Provider}: {Category} in {ElapsedMs:F1} ms")]
    private static partial void LogTriaged(ILogger logger, string eventId, string provider, string category, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Attempt at {EventId} with {Provider} failed ({Reason}): {Detail}")]
    private static partial void LogAttemptFailed(ILogger logger, string eventId, string provider, string reason, string detail);
}
