using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Triage.Platform.Configuration;
using Triage.Platform.Keys;

namespace Triage.Ingest.Apis;

/// <summary>
/// <c>/v1/admin/keys</c>: the teams' virtual keys, for whoever holds <c>auth.admin_key</c>. A secret appears in two
/// answers only, the one that creates a key and the one that rotates it; nothing here can show it again.
/// </summary>
public static partial class AdminApi
{
    /// <summary>What <see cref="TryParseInstant"/> accepts, for error messages.</summary>
    public const string InstantHint = "an ISO 8601 date or date-time (2026-07-01, 2026-07-01T12:00, 2026-07-01T12:00:00+02:00; UTC when no offset)";

    /// <summary>The longest reason a revocation keeps.</summary>
    public const int MaxReasonLength = 500;

    /// <summary>Said with every secret, since it is the only time the secret exists outside its holder's hands.</summary>
    public const string SecretNotice = "The secret is shown once and cannot be shown again: store it now. The gateway keeps only its hash.";

    /// <summary>An admin body is a handful of fields; anything larger is a mistake, not a key.</summary>
    private const int MaxBodyBytes = 64 * 1024;

    private static readonly string[] KeyFields = ["team", "routes", "rpm", "tpm", "budgetUsd", "budgetPeriod", "expiresAt"];

    /// <summary>How <see cref="KeySpec.Validate"/> names a field, and how the API spells it.</summary>
    private static readonly Dictionary<string, string> SpecFields = new()
    {
        ["team"] = "team",
        ["rpm"] = "rpm",
        ["tpm"] = "tpm",
        ["budget_usd"] = "budgetUsd",
        ["budget_period"] = "budgetPeriod",
        ["expires"] = "expiresAt",
    };

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/v1/admin/keys").LimitAuthFailures().AddEndpointFilter(RequireAdminAsync);
        keys.MapPost("/", CreateAsync).WithName("CreateKey");
        keys.MapGet("/", ListAsync).WithName("ListKeys");
        keys.MapGet("/{id}", GetAsync).WithName("GetKey");
        keys.MapPost("/{id}/revoke", RevokeAsync).WithName("RevokeKey");
        keys.MapPost("/{id}/rotate", RotateAsync).WithName("RotateKey");
        return app;
    }

    public static async Task<Results<Created<IssuedKeyDocument>, ValidationProblem>> CreateAsync(
        HttpRequest request,
        VirtualKeyStore keys,
        BudgetLedger ledger,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (body, errors) = await SmallJsonBody.ReadAsync<KeyRequest>(request, KeyFields, MaxBodyBytes, cancellationToken);
        if (errors is not null)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid key");
        }

        if (body is null)
        {
            return TypedResults.ValidationProblem(Error("team", "is required: the body is a JSON object with at least a team"), title: "Invalid key");
        }

        var problems = new Dictionary<string, string[]>();
        DateTimeOffset? expiresAt = null;
        if (body.ExpiresAt is { } expires)
        {
            if (TryParseInstant(expires, out var instant))
            {
                expiresAt = instant;
            }
            else
            {
                problems["expiresAt"] = [$"'{expires}' is not {InstantHint}"];
            }
        }

        var routes = new List<string>();
        for (var i = 0; i < (body.Routes?.Count ?? 0); i++)
        {
            if (body.Routes![i] is not { } route || !TryRoute(route, out var name))
            {
                problems[$"routes[{i}]"] = ["must be the name of a route (no commas)"];
                continue;
            }

            routes.Add(name);
        }

        var spec = new KeySpec(body.Team ?? string.Empty, routes, body.Rpm, body.Tpm, body.BudgetUsd, body.BudgetPeriod, expiresAt);
        foreach (var group in spec.Validate(time.GetUtcNow()).GroupBy(p => SpecFields.GetValueOrDefault(p.Field, p.Field)))
        {
            problems.TryAdd(group.Key, group.Select(p => p.Message).ToArray());
        }

        if (problems.Count > 0)
        {
            return TypedResults.ValidationProblem(problems, title: "Invalid key");
        }

        var issued = await keys.CreateAsync(spec, cancellationToken);
        var key = await KeyDocument.DescribeAsync(issued.Key, ledger, time.GetUtcNow(), cancellationToken);
        return TypedResults.Created(Location(issued.Key.Id), new IssuedKeyDocument(issued.Secret, SecretNotice, key));
    }

    public static async Task<Ok<KeyListDocument>> ListAsync(
        string? team,
        VirtualKeyStore keys,
        BudgetLedger ledger,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var documents = new List<KeyDocument>();
        foreach (var key in await keys.ListAsync(string.IsNullOrWhiteSpace(team) ? null : team, cancellationToken))
        {
            documents.Add(await KeyDocument.DescribeAsync(key, ledger, now, cancellationToken));
        }

        return TypedResults.Ok(new KeyListDocument(documents));
    }

    public static async Task<Results<Ok<KeyDocument>, ProblemHttpResult>> GetAsync(
        string id,
        VirtualKeyStore keys,
        BudgetLedger ledger,
        TimeProvider time,
        CancellationToken cancellationToken) =>
        await keys.FindAsync(id, cancellationToken) is { } key
            ? TypedResults.Ok(await KeyDocument.DescribeAsync(key, ledger, time.GetUtcNow(), cancellationToken))
            : UnknownKey(id);

    public static async Task<Results<Ok<KeyDocument>, ValidationProblem, ProblemHttpResult>> RevokeAsync(
        string id,
        HttpRequest request,
        VirtualKeyStore keys,
        BudgetLedger ledger,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (body, errors) = await SmallJsonBody.ReadAsync<RevokeRequest>(request, ["reason"], MaxBodyBytes, cancellationToken);
        if (errors is not null)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid revocation");
        }

        var reason = string.IsNullOrWhiteSpace(body?.Reason) ? null : body.Reason.Trim();
        if (reason is { Length: > MaxReasonLength })
        {
            return TypedResults.ValidationProblem(Error("reason", $"must be at most {MaxReasonLength} characters"), title: "Invalid revocation");
        }

        return await keys.RevokeAsync(id, reason, cancellationToken) is { } key
            ? TypedResults.Ok(await KeyDocument.DescribeAsync(key, ledger, time.GetUtcNow(), cancellationToken))
            : UnknownKey(id);
    }

    public static async Task<Results<Ok<IssuedKeyDocument>, ValidationProblem, ProblemHttpResult>> RotateAsync(
        string id,
        HttpRequest request,
        VirtualKeyStore keys,
        BudgetLedger ledger,
        TriageOptions options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (body, errors) = await SmallJsonBody.ReadAsync<RotateRequest>(request, ["graceSeconds"], MaxBodyBytes, cancellationToken);
        if (errors is not null)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid rotation");
        }

        var grace = body?.GraceSeconds ?? options.Auth.RotationGraceSeconds;
        if (grace < 0)
        {
            return TypedResults.ValidationProblem(Error("graceSeconds", "must be 0 (the old secret stops at once) or more"), title: "Invalid rotation");
        }

        var previous = await keys.FindAsync(id, cancellationToken);
        if (previous is null)
        {
            return UnknownKey(id);
        }

        IssuedKey? issued;
        try
        {
            issued = await keys.RotateAsync(id, TimeSpan.FromSeconds(grace), cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Key cannot be rotated", detail: e.Message);
        }

        if (issued is null)
        {
            return UnknownKey(id);
        }

        var now = time.GetUtcNow();
        var key = await KeyDocument.DescribeAsync(issued.Key, ledger, now, cancellationToken);
        return TypedResults.Ok(new IssuedKeyDocument(issued.Secret, SecretNotice, key, previous.Prefix, now.AddSeconds(grace)));
    }

    /// <summary>
    /// True when <paramref name="authorization"/> is <c>Bearer</c> and <paramref name="adminKey"/>. Both are hashed
    /// first, so the comparison is of equal lengths and takes the same time wherever they differ.
    /// </summary>
    internal static bool IsAdminKey(string? authorization, string adminKey)
    {
        const string Bearer = "Bearer ";
        if (authorization is null || !authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[Bearer.Length..].Trim()));
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(adminKey));
        return CryptographicOperations.FixedTimeEquals(presented, expected);
    }

    /// <summary>An ISO 8601 date or date-time; UTC when it carries no offset. The one reading of instants given by people.</summary>
    public static bool TryParseInstant(string text, out DateTimeOffset instant)
    {
        instant = default;
        return IsoInstant().IsMatch(text.Trim())
            && DateTimeOffset.TryParse(
                text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant);
    }

    /// <summary>Route names are stored comma-separated: a name is trimmed, non-empty and comma-free.</summary>
    public static bool TryRoute(string text, out string route)
    {
        route = text.Trim();
        return route.Length is > 0 and <= 200 && !route.Contains(',', StringComparison.Ordinal);
    }

    /// <summary>403 while no admin key is configured, 401 without the right one; null lets the request through.</summary>
    internal static async ValueTask<object?> RequireAdminAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var adminKey = http.RequestServices.GetRequiredService<TriageOptions>().Auth.AdminKey;
        if (string.IsNullOrEmpty(adminKey))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Admin API disabled",
                detail: "admin API disabled: set auth.admin_key");
        }

        if (!IsAdminKey(http.Request.Headers.Authorization.ToString(), adminKey))
        {
            return Unauthorized(http, "Admin key required", "send auth.admin_key as 'Authorization: Bearer ...'");
        }

        return await next(context);
    }

    /// <summary>401 with the Bearer challenge, naming the header at fault.</summary>
    internal static ProblemHttpResult Unauthorized(HttpContext http, string title, string? detail)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: title,
            detail: detail,
            extensions: new Dictionary<string, object?> { ["field"] = "Authorization" });
    }

    private static ProblemHttpResult UnknownKey(string id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Unknown key",
        detail: $"no virtual key has the id '{id}'",
        extensions: new Dictionary<string, object?> { ["field"] = "id" });

    private static string Location(string id) => $"/v1/admin/keys/{Uri.EscapeDataString(id)}";

    private static Dictionary<string, string[]> Error(string field, string message) => new() { [field] = [message] };

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoInstant();

    private sealed record KeyRequest(
        string? Team,
        IReadOnlyList<string?>? Routes,
        int? Rpm,
        int? Tpm,
        decimal? BudgetUsd,
        string? BudgetPeriod,
        string? ExpiresAt);

    private sealed record RevokeRequest(string? Reason);

    private sealed record RotateRequest(int? GraceSeconds);
}

/// <summary>A virtual key as the admin API and <c>triage keys --json</c> show it: limits, budget left and state; no secret.</summary>
public sealed record KeyDocument(
    string Id,
    string Team,
    string Prefix,
    IReadOnlyList<string> Routes,
    int? Rpm,
    int? Tpm,
    decimal? BudgetUsd,
    string? BudgetPeriod,
    decimal? RemainingUsd,
    DateTimeOffset? BudgetResetsAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt,
    string? RevokedReason,
    string State)
{
    public const string Active = "active";
    public const string Revoked = "revoked";
    public const string Expired = "expired";

    public static string StateOf(VirtualKey key, DateTimeOffset now) =>
        key.RevokedAt is not null ? Revoked : key.ExpiresAt <= now ? Expired : Active;

    public static async Task<KeyDocument> DescribeAsync(VirtualKey key, BudgetLedger ledger, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var remaining = await ledger.RemainingAsync(key, cancellationToken);
        return new KeyDocument(
            key.Id,
            key.Team,
            key.Prefix,
            key.Routes,
            key.RequestsPerMinute,
            key.TokensPerMinute,
            key.BudgetUsd,
            key.BudgetPeriod,
            remaining?.RemainingUsd,
            remaining?.ResetsAt,
            key.ExpiresAt,
            key.CreatedAt,
            key.RevokedAt,
            key.RevokedReason,
            StateOf(key, now));
    }
}

/// <summary>
/// A key that was just created or rotated, with its secret: the only answer that carries one. After a rotation,
/// the previous secret (by its prefix) keeps working until <see cref="PreviousSecretValidUntil"/>.
/// </summary>
public sealed record IssuedKeyDocument(
    string Secret,
    string Notice,
    KeyDocument Key,
    string? PreviousPrefix = null,
    DateTimeOffset? PreviousSecretValidUntil = null);

public sealed record KeyListDocument(IReadOnlyList<KeyDocument> Keys);
