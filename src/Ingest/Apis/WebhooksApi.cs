using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Triage.Ingest.BuildFailures;
using Triage.Ingest.Webhooks;
using Triage.Platform.Configuration;
using Triage.Platform.Keys;
using WebhookAnswer = Microsoft.AspNetCore.Http.HttpResults.Results<
    Microsoft.AspNetCore.Http.HttpResults.Accepted<Triage.Ingest.Apis.TriageStatusDocument>,
    Microsoft.AspNetCore.Http.HttpResults.Accepted<Triage.Ingest.Webhooks.WebhookIgnored>,
    Microsoft.AspNetCore.Http.HttpResults.ValidationProblem,
    Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult>;

namespace Triage.Ingest.Apis;

/// <summary>
/// <c>/v1/webhooks/{jenkins,github,gitlab}</c>: build systems post their own events. Each is proved by the webhook's
/// token or signature, read into the failure a build step would have posted, and admitted and published exactly as
/// <c>POST /v1/build-failures</c> is, charged to the key the webhook names. An event that is not a failure is
/// answered 202 with why it was ignored, so that the build system does not retry it.
/// </summary>
public static partial class WebhooksApi
{
    /// <summary>Where Jenkins' Notification plugin, which cannot set headers, puts the token: in the URL.</summary>
    public const string TokenQuery = "token";

    public const string TokenHeader = "X-Triage-Token";

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var hooks = app.MapGroup("/v1/webhooks").LimitAuthFailures();
        hooks.MapPost("/jenkins", JenkinsAsync).WithName("JenkinsWebhook");
        hooks.MapPost("/github", GitHubAsync).WithName("GitHubWebhook");
        hooks.MapPost("/gitlab", GitLabAsync).WithName("GitLabWebhook");
        return app;
    }

    public static async Task<WebhookAnswer> JenkinsAsync(HttpRequest request, [AsParameters] IngestServices ingest, CancellationToken cancellationToken)
    {
        const string Name = "jenkins";
        if (ingest.Options.Webhooks.Jenkins is not { } hook)
        {
            return NotConfigured(Name);
        }

        var token = request.Query[TokenQuery] is { Count: > 0 } query ? query.ToString() : request.Headers[TokenHeader].ToString();
        if (!WebhookCredentials.TokenMatches(token, hook.Token!))
        {
            return Unproven(ingest, Name, $"{TokenHeader} or ?{TokenQuery}=", "The webhook token is missing or wrong");
        }

        var body = await BuildFailuresApi.ReadBoundedAsync(request, ingest.Options.Ingest.MaxBodyBytes, cancellationToken);
        return body is null
            ? BuildFailuresApi.TooLarge(ingest.Options.Ingest.MaxBodyBytes)
            : await TriageAsync(Name, hook, JenkinsNotification.Read(body, hook.Route), request.HttpContext, ingest, cancellationToken);
    }

    public static async Task<WebhookAnswer> GitHubAsync(HttpRequest request, [AsParameters] IngestServices ingest, CancellationToken cancellationToken)
    {
        const string Name = "github";
        if (ingest.Options.Webhooks.Github is not { } hook)
        {
            return NotConfigured(Name);
        }

        // The signature covers the raw body: it is read, bounded, before anything else can be judged.
        var body = await BuildFailuresApi.ReadBoundedAsync(request, ingest.Options.Ingest.MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return BuildFailuresApi.TooLarge(ingest.Options.Ingest.MaxBodyBytes);
        }

        var signature = request.Headers[GitHubWorkflowRun.SignatureHeader].ToString();
        if (!WebhookCredentials.SignatureMatches(signature, body, hook.Secret!))
        {
            return Unproven(
                ingest,
                Name,
                GitHubWorkflowRun.SignatureHeader,
                signature.Length == 0 ? "The payload is not signed" : "The signature does not match the payload and the webhook's secret");
        }

        // GitHub's default content type sends the JSON as the form field "payload"; the signature covers the form.
        var json = request.HasFormContentType
            ? Encoding.UTF8.GetBytes(QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body)).GetValueOrDefault("payload").ToString())
            : body;
        var eventName = request.Headers[GitHubWorkflowRun.EventHeader].ToString();
        return await TriageAsync(Name, hook, GitHubWorkflowRun.Read(eventName, json, hook.Route), request.HttpContext, ingest, cancellationToken);
    }

    public static async Task<WebhookAnswer> GitLabAsync(HttpRequest request, [AsParameters] IngestServices ingest, CancellationToken cancellationToken)
    {
        const string Name = "gitlab";
        if (ingest.Options.Webhooks.Gitlab is not { } hook)
        {
            return NotConfigured(Name);
        }

        if (!WebhookCredentials.TokenMatches(request.Headers[GitLabHook.TokenHeader].ToString(), hook.Token!))
        {
            return Unproven(ingest, Name, GitLabHook.TokenHeader, "The secret token is missing or wrong");
        }

        var body = await BuildFailuresApi.ReadBoundedAsync(request, ingest.Options.Ingest.MaxBodyBytes, cancellationToken);
        return body is null
            ? BuildFailuresApi.TooLarge(ingest.Options.Ingest.MaxBodyBytes)
            : await TriageAsync(Name, hook, GitLabHook.Read(body, hook.Route), request.HttpContext, ingest, cancellationToken);
    }

    /// <summary>From a read event to the answer: ignored, invalid, refused under the webhook's key, or admitted and published.</summary>
    private static async Task<WebhookAnswer> TriageAsync(
        string name,
        WebhookEndpointOptions hook,
        WebhookReading reading,
        HttpContext http,
        IngestServices ingest,
        CancellationToken cancellationToken)
    {
        if (reading.Ignored is { } reason)
        {
            return TypedResults.Accepted((string?)null, new WebhookIgnored(reason));
        }

        if (reading.Errors is { } errors)
        {
            return TypedResults.ValidationProblem(errors, title: $"Invalid {name} webhook payload");
        }

        VirtualKey? key = null;
        if (hook.KeyId is { Length: > 0 } keyId)
        {
            var check = await ingest.Admission.FindAsync(keyId, cancellationToken);
            if (BuildFailuresApi.Unauthenticated(check, $"webhooks.{name}.key_id") is { } refused)
            {
                return refused;
            }

            key = check.Key;
        }

        var read = BuildFailureReader.Validate(reading.Failure!, ingest.Options, ingest.Time.GetUtcNow());
        var admitted = await BuildFailuresApi.AdmitAndPublishAsync(read, key, http, ingest, cancellationToken);
        return admitted.Result switch
        {
            Accepted<TriageStatusDocument> accepted => accepted,
            ValidationProblem invalid => invalid,
            ProblemHttpResult problem => problem,
            var other => throw new InvalidOperationException($"unexpected result {other}"),
        };
    }

    private static ProblemHttpResult NotConfigured(string name) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Webhook not configured",
        detail: $"webhooks.{name} is not configured in triage.yaml on this gateway.",
        extensions: new Dictionary<string, object?> { ["field"] = $"webhooks.{name}" });

    private static ProblemHttpResult Unproven(IngestServices ingest, string name, string field, string why)
    {
        LogUnproven(ingest.Loggers.CreateLogger(typeof(WebhooksApi)), name, why);
        return TypedResults.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Webhook not authenticated",
            detail: $"{why}; see webhooks.{name} in the gateway's triage.yaml.",
            extensions: new Dictionary<string, object?> { ["field"] = field });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a {Webhook} webhook delivery: {Reason}")]
    private static partial void LogUnproven(ILogger logger, string webhook, string reason);
}
