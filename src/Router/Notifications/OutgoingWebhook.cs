using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using Triage.Contracts;
using Triage.Platform.Configuration;

namespace Triage.Router.Notifications;

/// <summary>
/// One webhook of <c>notifications.webhooks</c>: which triages it wants, and its resilience pipeline, built once:
/// retries with exponential backoff and jitter (or the receiver's Retry-After) around a timeout per try.
/// Its URL is never logged: a Slack webhook's path is its secret.
/// </summary>
public sealed partial class OutgoingWebhook
{
    public const int MaxRetries = 3;

    /// <summary>The longest Retry-After waited for; a receiver asking for more is given up on, as providers are.</summary>
    public static readonly TimeSpan RetryAfterCap = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan TryTimeout = TimeSpan.FromSeconds(10);

    private readonly OutgoingWebhookOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly ResiliencePipeline<HttpResponseMessage> pipeline;

    public OutgoingWebhook(int index, OutgoingWebhookOptions options, TimeProvider time, ILogger logger)
    {
        this.options = options;
        this.time = time;
        this.logger = logger;
        Url = new Uri(options.Url);
        Name = $"{index} ({Url.Host})";
        pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = $"webhook-{index}", TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromSeconds(1),
                MaxDelay = RetryAfterCap,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .HandleResult(response => IsTransient(response.StatusCode) && !(RetryAfter(response) > RetryAfterCap)),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfter(response) : null),
                OnRetry = args =>
                {
                    var failure = args.Outcome.Result is { } response
                        ? $"HTTP {(int)response.StatusCode}"
                        : args.Outcome.Exception?.Message ?? "no answer";
                    LogRetrying(logger, Name, failure, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds);
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(TryTimeout)
            .Build();
    }

    /// <summary>The index in <c>notifications.webhooks</c> and the host: enough to find it, and no secret.</summary>
    public string Name { get; }

    private Uri Url { get; }

    public bool Wants(TriageCompleted result) =>
        (options.Routes.Count == 0 || options.Routes.Contains(result.Route, StringComparer.OrdinalIgnoreCase))
        && (options.IncludeCached || result.Cache is null);

    /// <summary>POSTs the triage until it is accepted (2xx) or the retries are spent; false, logged, when it was not.</summary>
    public async Task<bool> DeliverAsync(HttpClient http, TriageCompleted result, CancellationToken cancellationToken)
    {
        var body = WebhookPayload.Create(options, result);
        try
        {
            using var response = await pipeline.ExecuteAsync(
                async token =>
                {
                    using var request = Request(body, result.EventId);
                    return await http.SendAsync(request, token);
                },
                cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                LogDelivered(logger, result.EventId, Name);
                return true;
            }

            if (IsTransient(response.StatusCode))
            {
                LogFailed(logger, result.EventId, Name, $"HTTP {(int)response.StatusCode}");
            }
            else
            {
                LogRefused(logger, result.EventId, Name, (int)response.StatusCode);
            }

            return false;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, result.EventId, Name, e.Message);
            return false;
        }
    }

    /// <summary>A request per try: the body is the same, the signed timestamp is the time of the try.</summary>
    private HttpRequestMessage Request(byte[] body, string eventId)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Url) { Content = new ByteArrayContent(body) };
        request.Options.Set(Triage.Platform.Telemetry.TriageTelemetry.Untraced, true);
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.EventIdHeader, eventId);
        if (options.Secret is { Length: > 0 } secret)
        {
            var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            request.Headers.Add(WebhookSignature.TimestampHeader, timestamp);
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, timestamp, body));
        }

        return request;
    }

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - time.GetUtcNow() is { Ticks: > 0 } wait ? wait : TimeSpan.Zero,
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {Webhook} accepted the triage of {EventId}")]
    private static partial void LogDelivered(ILogger logger, string eventId, string webhook);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {Webhook} failed ({Failure}); retry {Attempt} in {DelayMs:F0} ms")]
    private static partial void LogRetrying(ILogger logger, string webhook, string failure, int attempt, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Webhook} refused the triage of {EventId} with HTTP {Status}; not sent again")]
    private static partial void LogRefused(ILogger logger, string eventId, string webhook, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Webhook} did not take the triage of {EventId} after its retries: {Reason}")]
    private static partial void LogFailed(ILogger logger, string eventId, string webhook, string reason);
}

/// <summary>Every configured outgoing webhook, built once at start.</summary>
public sealed class OutgoingWebhooks(TriageOptions options, TimeProvider time, ILogger<OutgoingWebhook> logger)
{
    public IReadOnlyList<OutgoingWebhook> All { get; } =
        options.Notifications.Webhooks.Select((webhook, index) => new OutgoingWebhook(index, webhook, time, logger)).ToList();
}
