using System.Net.Http.Headers;

namespace Triage.Workers.Providers.Resilience;

/// <summary>What the server answered during one attempt: the SDKs hide the Retry-After header behind their exceptions.</summary>
public sealed class HttpExchange
{
    private const int MaxErrorBody = 2_000;

    public int? StatusCode { get; internal set; }

    public TimeSpan? RetryAfter { get; internal set; }

    public string? ErrorBody { get; internal set; }

    internal async Task RecordAsync(HttpResponseMessage response, TimeProvider time, CancellationToken cancellationToken)
    {
        StatusCode = (int)response.StatusCode;
        RetryAfter = ReadRetryAfter(response, time);
        if (!response.IsSuccessStatusCode)
        {
            // Buffered so that the SDK can still read the body after us.
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            ErrorBody = body.Length > MaxErrorBody ? body[..MaxErrorBody] : body;
        }
    }

    private static TimeSpan? ReadRetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        // OpenAI also sends retry-after-ms, finer than the standard header's seconds.
        if (response.Headers.TryGetValues("retry-after-ms", out var values)
            && double.TryParse(values.FirstOrDefault(), System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms >= 0)
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        return response.Headers.RetryAfter switch
        {
            RetryConditionHeaderValue { Delta: { } delta } => delta,
            RetryConditionHeaderValue { Date: { } date } => date - time.GetUtcNow() is { Ticks: > 0 } wait ? wait : TimeSpan.Zero,
            _ => null,
        };
    }
}

/// <summary>
/// Sits under a provider SDK's HTTP client and writes the status and Retry-After of each response into the
/// attempt that is running, so that one resilience pipeline can classify every provider's errors alike.
/// It also removes the Authorization header for servers configured without a key (the OpenAI SDK always sends one).
/// </summary>
public sealed class HttpExchangeRecorder(TimeProvider time, bool sendsCredentials) : DelegatingHandler
{
    private static readonly AsyncLocal<HttpExchange?> Current = new();

    /// <summary>Starts recording for the calls made from here down the async flow.</summary>
    public static HttpExchange Begin()
    {
        var exchange = new HttpExchange();
        Current.Value = exchange;
        return exchange;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!sendsCredentials)
        {
            request.Headers.Authorization = null;
        }

        var response = await base.SendAsync(request, cancellationToken);
        if (Current.Value is { } exchange)
        {
            await exchange.RecordAsync(response, time, cancellationToken);
        }

        return response;
    }
}
