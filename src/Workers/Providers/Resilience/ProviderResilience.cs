using System.Net.Sockets;
using System.Text.Json;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using Triage.Platform.Configuration;

namespace Triage.Workers.Providers.Resilience;

/// <summary>
/// The one resilience pipeline of a provider: retry (exponential backoff with jitter, or the server's Retry-After
/// up to a cap) around a circuit breaker around a per-attempt timeout. The SDKs' own retries are off, so this is the
/// only place a provider call is repeated. The breaker's state is what the router reads as the provider's health.
/// </summary>
public sealed class ProviderResilience
{
    private readonly ResiliencePipeline pipeline;
    public const int MaxRecentRetries = 100;

    private readonly CircuitBreakerStateProvider circuit = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<RetryRecord> recentRetries = new();

    public ProviderResilience(string provider, ProviderOptions options, TimeProvider time)
    {
        Provider = provider;
        var retryAfterCap = TimeSpan.FromMilliseconds(options.RetryAfterCapMs);
        pipeline = new ResiliencePipelineBuilder { Name = $"provider-{provider}", TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(options.MaxRetries, 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                MaxDelay = TimeSpan.FromSeconds(10),

                // A Retry-After longer than the cap is a provider asking us to go elsewhere: fail over instead of waiting.
                ShouldHandle = args => ValueTask.FromResult(
                    options.MaxRetries > 0
                    && args.Outcome.Exception is ProviderException { IsTransient: true } e
                    && !(e.RetryAfter > retryAfterCap)),
                DelayGenerator = args => ValueTask.FromResult(
                    args.Outcome.Exception is ProviderException { RetryAfter: { } after } ? after : (TimeSpan?)null),
                OnRetry = args =>
                {
                    recentRetries.Enqueue(new RetryRecord(args.AttemptNumber + 1, args.RetryDelay, (args.Outcome.Exception as ProviderException)?.Failure));
                    while (recentRetries.Count > MaxRecentRetries && recentRetries.TryDequeue(out _))
                    {
                    }

                    return ValueTask.CompletedTask;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 4,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = TimeSpan.FromMilliseconds(options.BreakDurationMs),
                StateProvider = circuit,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is ProviderException { CountsAgainstHealth: true }),
            })
            .AddTimeout(TimeSpan.FromMilliseconds(options.TimeoutMs))
            .Build();
    }

    public string Provider { get; }

    /// <summary>Closed, open, half-open or isolated: the provider's health as this pool sees it.</summary>
    public CircuitState Circuit => circuit.CircuitState;

    /// <summary>The most recent retries, oldest first, for diagnostics; at most <see cref="MaxRecentRetries"/>.</summary>
    public IReadOnlyCollection<RetryRecord> Retries => recentRetries;

    /// <summary>Runs one provider call under the pipeline; every failure comes out as a <see cref="ProviderException"/>.</summary>
    public async Task<T> ExecuteAsync<T>(Func<HttpExchange, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await pipeline.ExecuteAsync(
                async token =>
                {
                    var exchange = HttpExchangeRecorder.Begin();
                    try
                    {
                        return await call(exchange, token);
                    }
                    catch (Exception e) when (e is not ProviderException)
                    {
                        throw Classify(e, exchange, token, cancellationToken);
                    }
                },
                cancellationToken);
        }
        catch (BrokenCircuitException e)
        {
            throw new ProviderException(Provider, ProviderFailure.CircuitOpen, "the circuit is open after repeated failures; nothing was sent", inner: e);
        }
        catch (TimeoutRejectedException e)
        {
            throw new ProviderException(Provider, ProviderFailure.Timeout, $"no answer within {e.Timeout.TotalMilliseconds:0} ms", inner: e);
        }
    }

    private ProviderException Classify(Exception e, HttpExchange exchange, CancellationToken attempt, CancellationToken caller)
    {
        if (e is OperationCanceledException && attempt.IsCancellationRequested && !caller.IsCancellationRequested)
        {
            return new ProviderException(Provider, ProviderFailure.Timeout, "the attempt timed out", inner: e);
        }

        // The caller's own deadline (the route's timeout_ms for the attempt) ended a call in flight: no answer came,
        // which is a timeout whatever the connection was doing when it was cancelled.
        if (e is OperationCanceledException && caller.IsCancellationRequested)
        {
            return new ProviderException(Provider, ProviderFailure.Timeout, "no answer within the route's timeout", inner: e);
        }

        // A reset in the middle of the body comes after a 200 was recorded: the transport broke, not the answer.
        if (Chain(e).Any(x => x is HttpRequestException or IOException or SocketException) || exchange.StatusCode is null)
        {
            return new ProviderException(Provider, ProviderFailure.Transport, Chain(e).Last().Message, exchange.StatusCode, inner: e);
        }

        var status = exchange.StatusCode.Value;
        var message = ErrorMessage(exchange.ErrorBody) ?? e.Message;
        var failure = status switch
        {
            429 => ProviderFailure.RateLimited,
            529 => ProviderFailure.Overloaded,
            503 when message.Contains("overloaded", StringComparison.OrdinalIgnoreCase) => ProviderFailure.Overloaded,
            >= 500 => ProviderFailure.ServerError,
            401 or 403 => ProviderFailure.Unauthorized,
            408 => ProviderFailure.Timeout,
            >= 400 => ProviderFailure.BadRequest,
            _ => ProviderFailure.InvalidAnswer,
        };
        var detail = status >= 400 ? $"HTTP {status}: {message}" : $"the response could not be read: {message}";
        return new ProviderException(Provider, failure, detail, status, exchange.RetryAfter, e);
    }

    /// <summary>OpenAI says <c>{"error":{"message"}}</c>, Anthropic <c>{"type":"error","error":{"type","message"}}</c>.</summary>
    private static string? ErrorMessage(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.Object)
                {
                    var type = error.TryGetProperty("type", out var t) ? t.GetString() : null;
                    var text = error.TryGetProperty("message", out var m) ? m.GetString() : null;
                    return type is null ? text : $"{type}: {text}";
                }

                return error.ToString();
            }
        }
        catch (JsonException)
        {
        }

        return body.Length > 200 ? body[..200] : body;
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            yield return x;
        }
    }
}

public sealed record RetryRecord(int Attempt, TimeSpan Delay, ProviderFailure? After);
