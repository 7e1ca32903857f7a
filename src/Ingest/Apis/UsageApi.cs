using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Triage.Platform.Configuration;
using Triage.Platform.Keys;

namespace Triage.Ingest.Apis;

/// <summary>
/// <c>GET /v1/usage</c>: what triages cost and saved, per team, key, provider and model. The admin key reads any
/// team or all of them; a team's virtual key reads its own team only.
/// </summary>
public static class UsageApi
{
    public static IEndpointRouteBuilder MapUsageApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/usage", ReadAsync).WithName("ReadUsage").LimitAuthFailures();
        return app;
    }

    public static async Task<Results<Ok<UsageDocument>, ValidationProblem, ProblemHttpResult>> ReadAsync(
        HttpRequest request,
        string? team,
        string? from,
        string? to,
        TriageOptions options,
        KeyAdmission admission,
        UsageReport report,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        // Who is asking comes first: an unknown caller learns nothing, not even whether its dates were valid.
        team = string.IsNullOrWhiteSpace(team) ? null : team.Trim();
        var authorization = request.Headers.Authorization.ToString();
        if (options.Auth.AdminKey is not { Length: > 0 } adminKey || !AdminApi.IsAdminKey(authorization, adminKey))
        {
            if (authorization.Length == 0)
            {
                return AdminApi.Unauthorized(request.HttpContext, "Key required", "send the team's virtual key (or auth.admin_key) as 'Authorization: Bearer ...'");
            }

            var check = await admission.AuthenticateAsync(authorization, cancellationToken);
            if (check.Key is not { } key || check.Failure is not null)
            {
                return AdminApi.Unauthorized(request.HttpContext, check.Key is null ? "Key required" : "Virtual key not usable", check.Failure);
            }

            if (team is not null && !string.Equals(team, key.Team, StringComparison.Ordinal))
            {
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status403Forbidden,
                    title: "Another team's usage",
                    detail: $"the key {key.Id} belongs to team {key.Team} and may read only its usage, not that of '{team}'",
                    extensions: new Dictionary<string, object?> { ["field"] = "team", ["keyId"] = key.Id });
            }

            team = key.Team;
        }

        var now = time.GetUtcNow();
        var errors = new Dictionary<string, string[]>();
        var start = Instant(from, "from", BudgetPeriod.Start(BudgetPeriod.Month, now));
        var end = Instant(to, "to", now);
        if (errors.Count == 0 && start >= end)
        {
            errors["from"] = [$"must be before to ({end:u})"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid usage period");
        }

        return TypedResults.Ok(UsageDocument.Of(await report.ReadAsync(team, start, end, cancellationToken)));

        DateTimeOffset Instant(string? text, string field, DateTimeOffset otherwise)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                return otherwise;
            }

            if (AdminApi.TryParseInstant(text, out var instant))
            {
                return instant;
            }

            errors[field] = [$"'{text}' is not {AdminApi.InstantHint}"];
            return otherwise;
        }
    }
}

/// <summary>A usage report as <c>GET /v1/usage</c> and <c>triage usage --json</c> show it: its lines and their totals.</summary>
public sealed record UsageDocument(DateTimeOffset From, DateTimeOffset To, string? Team, IReadOnlyList<UsageLine> Lines, UsageTotals Totals)
{
    public static UsageDocument Of(UsageSummary summary) => new(
        summary.From,
        summary.To,
        summary.Team,
        summary.Lines,
        new UsageTotals(
            summary.Lines.Sum(l => l.Triages),
            summary.Lines.Sum(l => l.FailedAttempts),
            summary.Lines.Sum(l => l.CacheHits),
            summary.Lines.Sum(l => l.InputTokens),
            summary.Lines.Sum(l => l.OutputTokens),
            summary.Lines.Sum(l => l.CostUsd),
            summary.Lines.Sum(l => l.SavedUsd)));
}

public sealed record UsageTotals(
    long Triages,
    long FailedAttempts,
    long CacheHits,
    long InputTokens,
    long OutputTokens,
    decimal CostUsd,
    decimal SavedUsd);
