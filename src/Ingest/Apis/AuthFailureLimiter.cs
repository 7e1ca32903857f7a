using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Triage.Platform.Configuration;

namespace Triage.Ingest.Apis;

/// <summary>
/// Refused authentications (401) counted per client address in fixed one-minute windows. Once an address has had
/// <c>auth.failed_attempts_per_minute</c> of them, its requests to the endpoints that authenticate are answered 429
/// until its window ends, before any key is looked up or any body read: guessing secrets or webhook tokens costs a
/// minute per few guesses, and a guesser cannot make the store look up keys for it. A request that succeeds resets
/// nothing, so a client holding one good key cannot use it to keep guessing others.
/// </summary>
public sealed partial class AuthFailureLimiter(TriageOptions options, TimeProvider time, ILogger<AuthFailureLimiter> logger)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Addresses remembered at once: failures from many addresses must not grow the process without bound.</summary>
    public const int MaxClients = 10_000;

    private readonly Lock gate = new();
    private readonly Dictionary<IPAddress, Failures> clients = [];

    private int Limit => options.Auth.FailedAttemptsPerMinute;

    /// <summary>How many addresses are remembered now.</summary>
    internal int Remembered
    {
        get
        {
            lock (gate)
            {
                return clients.Count;
            }
        }
    }

    /// <summary>True while <paramref name="client"/> is over the limit, with how long its window still lasts.</summary>
    public bool IsBlocked(IPAddress? client, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (Limit <= 0)
        {
            return false;
        }

        var now = time.GetUtcNow();
        lock (gate)
        {
            if (!clients.TryGetValue(ClientOf(client), out var failures) || failures.Ends <= now || failures.Count < Limit)
            {
                return false;
            }

            retryAfter = failures.Ends - now;
            return true;
        }
    }

    /// <summary>Counts one refused authentication of <paramref name="client"/> in its current window.</summary>
    public void RecordFailure(IPAddress? client)
    {
        if (Limit <= 0)
        {
            return;
        }

        var key = ClientOf(client);
        var now = time.GetUtcNow();
        Failures counted;
        lock (gate)
        {
            counted = clients.TryGetValue(key, out var failures) && failures.Ends > now
                ? failures with { Count = failures.Count + 1 }
                : new Failures(now + Window, 1);
            if (counted.Count == 1 && !clients.ContainsKey(key) && clients.Count >= MaxClients && !MakeRoom(now))
            {
                // Every remembered address is over its limit: keeping those blocked matters more than counting a new one.
                return;
            }

            clients[key] = counted;
        }

        if (counted.Count == Limit)
        {
            LogBlocked(logger, key, Limit, counted.Ends);
        }
    }

    /// <summary>
    /// The address a client is known by: an IPv4 address, or the /64 network of an IPv6 one, since a single host
    /// usually holds a whole /64 and could otherwise change address at every guess.
    /// </summary>
    internal static IPAddress ClientOf(IPAddress? address)
    {
        if (address is null)
        {
            return IPAddress.None;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }

    /// <summary>
    /// The endpoint filter every endpoint that authenticates runs first (see <see cref="AuthFailureLimits.LimitAuthFailures"/>):
    /// 429 while the caller's address is over the limit, else the endpoint, whose 401 is counted.
    /// </summary>
    internal static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var limiter = http.RequestServices.GetRequiredService<AuthFailureLimiter>();
        var client = http.Connection.RemoteIpAddress;
        if (limiter.IsBlocked(client, out var retryAfter))
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many failed authentications",
                detail: $"requests from this address were refused authentication {limiter.Limit} times within a minute (auth.failed_attempts_per_minute); retry in {seconds} s",
                extensions: new Dictionary<string, object?> { ["retryAfterSeconds"] = seconds });
        }

        var result = await next(context);
        if (StatusOf(result) == StatusCodes.Status401Unauthorized)
        {
            limiter.RecordFailure(client);
        }

        return result;
    }

    /// <summary>The status an endpoint's result will answer with; a typed union (<c>Results&lt;...&gt;</c>) is looked into.</summary>
    private static int? StatusOf(object? result) => result switch
    {
        INestedHttpResult nested => StatusOf(nested.Result),
        IStatusCodeHttpResult coded => coded.StatusCode,
        _ => null,
    };

    /// <summary>Forgets ended windows, then addresses still under the limit; false when every address is over it.</summary>
    private bool MakeRoom(DateTimeOffset now)
    {
        foreach (var address in clients.Where(c => c.Value.Ends <= now).Select(c => c.Key).ToList())
        {
            clients.Remove(address);
        }

        if (clients.Count < MaxClients)
        {
            return true;
        }

        foreach (var address in clients.Where(c => c.Value.Count < Limit).Select(c => c.Key).ToList())
        {
            clients.Remove(address);
        }

        return clients.Count < MaxClients;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Client} was refused authentication {Failures} times within a minute; its requests are answered 429 until {Until}")]
    private static partial void LogBlocked(ILogger logger, IPAddress client, int failures, DateTimeOffset until);

    /// <summary>One address's refused authentications in the window that ends at <see cref="Ends"/>.</summary>
    private readonly record struct Failures(DateTimeOffset Ends, int Count);
}

public static class AuthFailureLimits
{
    /// <summary>Puts the endpoints of <paramref name="builder"/> under <see cref="AuthFailureLimiter"/>; add it before any filter that authenticates.</summary>
    public static TBuilder LimitAuthFailures<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(AuthFailureLimiter.FilterAsync);
}
