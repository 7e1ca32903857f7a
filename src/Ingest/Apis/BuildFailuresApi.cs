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
        var api = app.MapGroup("/v1").LimitAuthFailures();
        api.MapPost("/build-failures", AcceptAsync).WithName("AcceptBuildFailure");
        api.MapGet("/triages/{id}", GetTriageAsync).WithName("GetTriage");
        return app;
    }

    /// <summary>
    /// Accepts a failure (202). With <c>?wait=20s</c> the request stays open until the triage is stored or the time is
    /// up: 200 with the triage when it came in time, else the same 202.
    /// </summary>
    public static async Task<Results<Ok<TriageCompleted>, Accepted<TriageStatusDocument>, ValidationProblem, ProblemHttpResult>> AcceptAsync(
        HttpRequest request,
        string? wait,
        [AsParameters] IngestServices ingest,
        CancellationToken cancellationToken)
    {
        // Who is asking comes first: an unknown caller learns nothing about the body's validity.
        VirtualKey? key = null;
        var authorization = request.Headers.Authorization.ToString();
        if (ingest.Admission.Required || authorization.Length > 0)
        {
            var check = await ingest.Admission.AuthenticateAsync(authorization, cancellationToken);
            if (Unauthenticated(check, "Authorization") is { } refused)
            {
                request.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
                return refused;
            }

            key = check.Key;
        }

        if (!TriageWait.TryParse(wait, out var held, out var waitError))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["wait"] = [waitError] }, title: "Invalid build failure");
        }

        var limit = ingest.Options.Ingest.MaxBodyBytes;
        var body = await ReadBoundedAsync(request, limit, cancellationToken);
        if (body is null)
        {
            return TooLarge(limit);
        }

        var read = BuildFailureReader.Read(body, ingest.Options, ingest.Time.GetUtcNow());
        var admitted = await AdmitAndPublishAsync(read, key, request.HttpContext, ingest, cancellationToken);
        if (admitted.Result is not Accepted<TriageStatusDocument> { Value: { } accepted } queued || held == TimeSpan.Zero)
        {
            return admitted.Result switch
            {
                Accepted<TriageStatusDocument> answer => answer,
                ValidationProblem invalid => invalid,
                ProblemHttpResult problem => problem,
                var other => throw new InvalidOperationException($"unexpected result {other}"),
            };
        }

        var stored = await TriageWait.ForResultAsync(ingest.Store, ingest.Recorded, accepted.Id, held, ingest.Time, cancellationToken);
        return stored?.Result is { } triage
            ? TypedResults.Ok(triage)
            : TypedResults.Accepted(queued.Location, accepted with { Status = stored?.Status ?? accepted.Status });
    }

    /// <summary>
    /// A triage, or where it stands. With keys required it is its team's: a virtual key reads the triages charged to
    /// keys of its team, the admin key reads all, and another team's triage is answered exactly as an unknown one.
    /// </summary>
    public static async Task<Results<Ok<TriageCompleted>, Accepted<TriageStatusDocument>, ProblemHttpResult>> GetTriageAsync(
        string id,
        HttpRequest request,
        ITriageStore store,
        KeyAdmission admission,
        BudgetLedger ledger,
        TriageOptions options,
        CancellationToken cancellationToken)
    {
        string? team = null;
        if (admission.Required)
        {
            var authorization = request.Headers.Authorization.ToString();
            if (options.Auth.AdminKey is not { Length: > 0 } adminKey || !AdminApi.IsAdminKey(authorization, adminKey))
            {
                var check = await admission.AuthenticateAsync(authorization, cancellationToken);
                if (Unauthenticated(check, "Authorization") is { } refused)
                {
                    request.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
                    return refused;
                }

                team = check.Key!.Team;
            }
        }

        var triage = await store.FindAsync(id, cancellationToken);
        if (team is not null && triage is not null && await ledger.TeamOfAsync(id, cancellationToken) != team)
        {
            triage = null;
        }

        return triage switch
        {
            null => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown triage", detail: $"No build failure with id '{id}' was received."),
            { Result: { } result } => TypedResults.Ok(result),
            _ => TypedResults.Accepted($"/v1/triages/{Uri.EscapeDataString(id)}", new TriageStatusDocument(id, triage.Status)),
        };
    }

    /// <summary>
    /// The one way a read failure enters the gateway, whoever sent it (a build step, a webhook): its problems as 400 or
    /// 422, the key's admission (403, 429, 402), then queued in the store and published (202), or 503 when the broker
    /// does not confirm. A known event id is a duplicate and publishes nothing; with keys, another team's is a 409.
    /// </summary>
    internal static async Task<Results<Accepted<TriageStatusDocument>, ValidationProblem, ProblemHttpResult>> AdmitAndPublishAsync(
        ReadResult read,
        VirtualKey? key,
        HttpContext http,
        IngestServices ingest,
        CancellationToken cancellationToken)
    {
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
            var decision = await ingest.Admission.AdmitAsync(key, failure, limitRate: true, cancellationToken);
            if (Refused(http, key, decision) is { } refused)
            {
                return refused;
            }
        }

        var location = $"/v1/triages/{Uri.EscapeDataString(failure.EventId)}";
        if (!await ingest.Store.TryAddQueuedAsync(failure, cancellationToken))
        {
            if (key is not null && await ingest.Ledger.TeamOfAsync(failure.EventId, cancellationToken) != key.Team)
            {
                // Another team's failure (or one accepted without a key) holds the id: answering it as a duplicate
                // would drop this team's failure without a word and show it the other one's status.
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status409Conflict,
                    title: "Event id already taken",
                    detail: $"the event id '{failure.EventId}' belongs to a failure your team did not send; event ids are "
                        + "unique across the gateway, so make yours unique to your team (prefix them with your CI's host or job)",
                    extensions: new Dictionary<string, object?> { ["field"] = "eventId" });
            }

            var known = await ingest.Store.FindAsync(failure.EventId, cancellationToken);
            return TypedResults.Accepted(location, new TriageStatusDocument(failure.EventId, known?.Status ?? TriageStatus.Queued, Duplicate: true));
        }

        try
        {
            using var confirm = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            confirm.CancelAfter(PublishTimeout);
            await ingest.Bus.Publish(failure, confirm.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogPublishFailed(ingest.Loggers.CreateLogger(typeof(BuildFailuresApi)), failure.EventId, e);
            await ingest.Store.RemoveQueuedAsync(failure.EventId, CancellationToken.None);
            await ingest.Ledger.CancelAsync(failure.EventId, CancellationToken.None);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Broker unavailable",
                detail: "The message broker did not confirm the build failure; nothing was queued. Retry later.");
        }

        ingest.Metrics.Received(failure.Route);
        return TypedResults.Accepted(location, new TriageStatusDocument(failure.EventId, TriageStatus.Queued));
    }

    /// <summary>401 for a key that is unknown, revoked or expired; null when <paramref name="check"/> found a usable key.</summary>
    /// <param name="field">Where the key came from: the Authorization header, or a webhook's key_id.</param>
    internal static ProblemHttpResult? Unauthenticated(KeyCheck check, string field) =>
        check.Key is not null && check.Failure is null
            ? null
            : TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: check.Key is null ? "Virtual key required" : "Virtual key not usable",
                detail: check.Failure,
                extensions: new Dictionary<string, object?> { ["field"] = field, ["keyId"] = check.Key?.Id });

    internal static ProblemHttpResult TooLarge(long limit) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Build failure too large",
        detail: $"The body is larger than {limit} bytes (ingest.max_body_bytes). Send the tail of the log.");

    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the body is larger.</summary>
    internal static async Task<byte[]?> ReadBoundedAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish {EventId}; answered 503")]
    private static partial void LogPublishFailed(ILogger logger, string eventId, Exception exception);
}

/// <summary>What Ingest answers about a triage that has no result yet.</summary>
public sealed record TriageStatusDocument(string Id, string Status, bool Duplicate = false);

/// <summary>What every way into Ingest needs to admit and publish a failure, bound per request with [AsParameters].</summary>
public sealed class IngestServices(
    ITriageStore store,
    RecordedTriages recorded,
    IPublishEndpoint bus,
    TriageOptions options,
    TimeProvider time,
    TriageMetrics metrics,
    KeyAdmission admission,
    BudgetLedger ledger,
    ILoggerFactory loggers)
{
    public ITriageStore Store { get; } = store;

    /// <summary>Wakes a request held open by <c>?wait=</c> when this process records its triage.</summary>
    public RecordedTriages Recorded { get; } = recorded;

    public IPublishEndpoint Bus { get; } = bus;

    public TriageOptions Options { get; } = options;

    public TimeProvider Time { get; } = time;

    public TriageMetrics Metrics { get; } = metrics;

    public KeyAdmission Admission { get; } = admission;

    public BudgetLedger Ledger { get; } = ledger;

    public ILoggerFactory Loggers { get; } = loggers;
}
