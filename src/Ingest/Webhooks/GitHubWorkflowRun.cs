using System.Globalization;
using Triage.Ingest.BuildFailures;

namespace Triage.Ingest.Webhooks;

/// <summary>
/// GitHub's <c>workflow_run</c> event: a run of a workflow was requested, is in progress or completed. A completed run
/// that concluded <c>failure</c> is a failure. The event carries no log, so the failure is triaged from its facts; a
/// job of the workflow itself can post the failed jobs' log instead (examples/github/triage.yml).
/// </summary>
public static class GitHubWorkflowRun
{
    public const string EventHeader = "X-GitHub-Event";

    public const string SignatureHeader = "X-Hub-Signature-256";

    public static WebhookReading Read(string? eventName, ReadOnlySpan<byte> body, string route)
    {
        switch (eventName)
        {
            case "ping":
                return WebhookReading.Ignore("ping: the webhook reaches triage and its secret matches; failed workflow runs will be triaged");
            case null or "":
                return WebhookReading.Ignore($"no {EventHeader} header: only workflow_run events are triaged");
            case not "workflow_run":
                return WebhookReading.Ignore($"event '{eventName}' is not triaged; subscribe the webhook to 'Workflow runs' only");
        }

        var payload = WebhookJson.Read<GitHubWorkflowRunEvent>(body, out var invalid);
        if (payload is null)
        {
            return invalid!;
        }

        if (payload.WorkflowRun is not { } run)
        {
            return WebhookReading.Invalid("workflow_run", "is required in a workflow_run event");
        }

        if (payload.Action != "completed")
        {
            return WebhookReading.Ignore($"action '{payload.Action}': only completed workflow runs are triaged");
        }

        if (run.Conclusion != "failure")
        {
            return WebhookReading.Ignore($"conclusion '{run.Conclusion}': only failed workflow runs are triaged");
        }

        if (run.Id is not { } id)
        {
            return WebhookReading.Invalid("workflow_run.id", "is required");
        }

        if (run.RunNumber is not { } number)
        {
            return WebhookReading.Invalid("workflow_run.run_number", "is required");
        }

        var repository = WebhookJson.Blank(payload.Repository?.FullName) ?? WebhookJson.Blank(run.Repository?.FullName);
        if (repository is null)
        {
            return WebhookReading.Invalid("repository.full_name", "is required");
        }

        var attempt = run.RunAttempt ?? 1;
        var workflow = WebhookJson.Blank(run.Name) ?? WebhookJson.Blank(run.Path) ?? "workflow";
        var buildNumber = number.ToString(CultureInfo.InvariantCulture);
        var url = WebhookJson.Url(run.HtmlUrl);
        return WebhookReading.Triage(new BuildFailureDocument
        {
            // A redelivery is the same failure; a re-run of the failed jobs is a new attempt and a new failure.
            EventId = $"github-{id.ToString(CultureInfo.InvariantCulture)}-{attempt.ToString(CultureInfo.InvariantCulture)}",
            Source = "github-actions",
            Job = workflow,
            BuildNumber = buildNumber,
            BuildUrl = url,
            Repository = repository,
            Branch = WebhookJson.Blank(run.HeadBranch),
            Commit = WebhookJson.Blank(run.HeadSha),
            Route = route,
            Log = $"""
                GitHub Actions workflow "{workflow}"{(run.Path is { Length: > 0 } path ? $" ({path})" : string.Empty)} of {repository} failed: run #{buildNumber}, attempt {attempt}.
                Triggered by {run.Event ?? "an event"} on branch {run.HeadBranch ?? "(none)"} at commit {run.HeadSha ?? "(unknown)"}{(run.DisplayTitle is { Length: > 0 } title ? $": \"{title}\"" : string.Empty)}.
                The webhook carries no log; the failed jobs are listed at {url ?? "the run's page"}.
                """,

            // The facts are alike for every failed run of a workflow: a cached triage would be another failure's.
            Cache = false,
        });
    }
}

internal sealed class GitHubWorkflowRunEvent
{
    /// <summary>requested, in_progress or completed.</summary>
    public string? Action { get; set; }

    public GitHubWorkflowRunPayload? WorkflowRun { get; set; }

    public GitHubRepository? Repository { get; set; }
}

internal sealed class GitHubWorkflowRunPayload
{
    public long? Id { get; set; }

    /// <summary>The workflow's name.</summary>
    public string? Name { get; set; }

    /// <summary>The workflow file, .github/workflows/ci.yml.</summary>
    public string? Path { get; set; }

    public string? DisplayTitle { get; set; }

    public long? RunNumber { get; set; }

    public long? RunAttempt { get; set; }

    /// <summary>What triggered the run: push, pull_request, schedule...</summary>
    public string? Event { get; set; }

    public string? HeadBranch { get; set; }

    public string? HeadSha { get; set; }

    /// <summary>success, failure, cancelled, skipped, timed_out, action_required, neutral, stale or null while running.</summary>
    public string? Conclusion { get; set; }

    public string? HtmlUrl { get; set; }

    public GitHubRepository? Repository { get; set; }
}

internal sealed class GitHubRepository
{
    public string? FullName { get; set; }
}
