using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Triage.Contracts;
using Triage.Ingest.BuildFailures;
using Triage.Platform.Configuration;
using Triage.Platform.Keys;
using Triage.Platform.Store;
using Triage.Platform.Telemetry;

namespace Triage.Ingest.Apis;

public static partial class BuildFailuresApi
{
    /// <summary>How long a publish may wait for the broker's confirm before the caller is told to retry.</summary>
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);

    public static IEndpointRouteBuilder MapBuildFailuresApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1");
        api.MapPost("/build-failures", AcceptAsync).WithName("AcceptBuildFailure");
        api.MapGet("/triages/{id}", GetTriageAsync).WithName("GetTriage");
        return app;
    }

    public static async Task<Results<Accepted<TriageStatusDocument>, ValidationProblem, ProblemHttpResult>> AcceptAsync(
        HttpRequest request,
        ITriageStore store,
        IPublishEndpoint bus,
        TriageOptions options,
        TimeProvider time,
        TriageMetrics metrics,
        KeyAdmission admission,
        BudgetLedger ledger,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        // Who is asking comes first: an unknown caller learns nothing about the body's validity.
        VirtualKey? key = null;
        var authorization = request.Headers.Authorization.ToString();
        if (admission.Required || authorization.Length > 0)
        {
            var check = await admission.AuthenticateAsync(authorization, cancellationToken);
            if (check.Key is null || check.Failure is not null)
            {
                request.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status401Unauthorized,
                    title: check.Key is null ? "Virtual key required" : "Virtual key not usable",
                    detail: check.Failure,
                    extensions: new Dictionary<string, object?> { ["field"] = "Authorization", ["keyId"] = check.Key?.Id });
            }

            key = check.Key;
        }

        var limit = options.Ingest.MaxBodyBytes;
        var body = await ReadBoundedAsync(request, limit, cancellationToken);
        if (body is null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Build failure too large",
                detail: $"The body is larger than {limit} bytes (ingest.max_body_bytes). Send the tail of the log.");
        }

        var read = BuildFailureReader.Read(body, options, time.GetUtcNow());
        if (read.Errors is not null)
        {
            return TypedResults.ValidationProblem(read.Errors, title: "Invalid build failure");
        }

        if (read.RouteError is not null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "Unknown route",
                detail: read.RouteError,
                extensions: new Dictionary<string, object?> { ["field"] = "route" });
        }

        var failure = read.Failure!;
        if (key is not null)
        {
            failure = failure with { KeyId = key.Id };
            var decision = await admission.AdmitAsync(key, failure, limitRate: true, cancellationToken);
            if (Refused(request.HttpContext, key, decision) is { } refused)
            {
                return refused;
            }
        }

        var location = $"/v1/triages/{Uri.EscapeDataString(failure.EventId)}";
        if (!await store.TryAddQueuedAsync(failure, cancellationToken))
        {
            var known = await store.FindAsync(failure.EventId, cancellationToken);
            return TypedResults.Accepted(location, new TriageStatusDocument(failure.EventId, known?.Status ?? TriageStatus.Queued, Duplicate: true));
        }

        try
        {
            using var confirm = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            confirm.CancelAfter(PublishTimeout);
            await bus.Publish(failure, confirm.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogPublishFailed(loggers.CreateLogger(typeof(BuildFailuresApi)), failure.EventId, e);
            await store.RemoveQueuedAsync(failure.EventId, CancellationToken.None);
            await ledger.CancelAsync(failure.EventId, CancellationToken.None);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Broker unavailable",
                detail: "The message broker did not confirm the build failure; nothing was queued. Retry later.");
        }

        metrics.Received(failure.Route);
        return TypedResults.Accepted(location, new TriageStatusDocument(failure.EventId, TriageStatus.Queued));
    }

    public static async Task<Results<Ok<TriageCompleted>, Accepted<TriageStatusDocument>, ProblemHttpResult>> GetTriageAsync(
        string id,
        ITriageStore store,
        CancellationToken cancellationToken)
    {
        var triage = await store.FindAsync(id, cancellationToken);
        return triage switch
        {
            null => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown triage", detail: $"No build failure with id '{id}' was received."),
            { Result: { } result } => TypedResults.Ok(result),
            _ => TypedResults.Accepted($"/v1/triages/{Uri.EscapeDataString(id)}", new TriageStatusDocument(id, triage.Status)),
        };
    }

    /// <summary>The answer to a failure its key may not send now: 403, 429 with Retry-After, or 402; null when admitted.</summary>
    private static ProblemHttpResult? Refused(HttpContext http, VirtualKey key, AdmissionDecision decision)
    {
        switch (decision.Outcome)
        {
            case AdmissionOutcome.RouteNotAllowed:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status403Forbidden,
                    title: "Route not allowed for this key",
                    detail: decision.Detail,
                    extensions: new Dictionary<string, object?> { ["field"] = "route", ["keyId"] = key.Id, ["allowedRoutes"] = key.Routes });
            case AdmissionOutcome.RateLimited:
                var seconds = (int)Math.Ceiling(decision.RetryAfter.TotalSeconds);
                http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Rate limit exceeded",
                    detail: decision.Detail,
                    extensions: new Dictionary<string, object?> { ["keyId"] = key.Id, ["limit"] = decision.Limit, ["retryAfterSeconds"] = seconds });
            case AdmissionOutcome.OverBudget:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status402PaymentRequired,
                    title: "Budget exhausted",
                    detail: decision.Detail,
                    extensions: new Dictionary<string, object?>
                    {
                        ["keyId"] = key.Id,
                        ["budgetUsd"] = key.BudgetUsd,
                        ["budgetPeriod"] = key.BudgetPeriod,
                        ["remainingUsd"] = decision.RemainingUsd,
                        ["resetsAt"] = decision.ResetsAt,
                    });
            default:
                return null;
        }
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the body is larger.</summary>
    private static async Task<byte[]?> ReadBoundedAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish {EventId}; answered 503")]
    private static partial void LogPublishFailed(ILogger logger, string eventId, Exception exception);
}

/// <summary>What Ingest answers about a triage that has no result yet.</summary>
public sealed record TriageStatusDocument(string Id, string Status, bool Duplicate = false);
