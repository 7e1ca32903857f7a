using System.Globalization;
using System.Text;
using Triage.Ingest.BuildFailures;

namespace Triage.Ingest.Webhooks;

/// <summary>
/// GitLab's Pipeline Hook (<c>object_kind: pipeline</c>) and Job Hook (<c>object_kind: build</c>). GitLab sends one
/// at every change of status; a failed pipeline, or a failed job that was not allowed to fail, is a failure. Neither
/// carries a log: a <c>when: on_failure</c> job can post it instead (examples/gitlab/.gitlab-ci.yml).
/// </summary>
public static class GitLabHook
{
    public const string TokenHeader = "X-Gitlab-Token";

    public static WebhookReading Read(ReadOnlySpan<byte> body, string route)
    {
        var kind = WebhookJson.Read<GitLabObjectKind>(body, out var invalid);
        if (kind is null)
        {
            return invalid!;
        }

        return kind.ObjectKind switch
        {
            "pipeline" => Pipeline(body, route),
            "build" => Job(body, route),
            var other => WebhookReading.Ignore($"object_kind '{other ?? "(none)"}' is not triaged; enable only Pipeline events or Job events"),
        };
    }

    private static WebhookReading Pipeline(ReadOnlySpan<byte> body, string route)
    {
        var hook = WebhookJson.Read<GitLabPipelineHook>(body, out var invalid);
        if (hook is null)
        {
            return invalid!;
        }

        if (hook.ObjectAttributes is not { } pipeline)
        {
            return WebhookReading.Invalid("object_attributes", "is required in a Pipeline Hook");
        }

        if (pipeline.Status != "failed")
        {
            return WebhookReading.Ignore($"pipeline status '{pipeline.Status}': only failed pipelines are triaged");
        }

        if (pipeline.Id is not { } id)
        {
            return WebhookReading.Invalid("object_attributes.id", "is required");
        }

        if (WebhookJson.Blank(hook.Project?.PathWithNamespace) is not { } project)
        {
            return WebhookReading.Invalid("project.path_with_namespace", "is required");
        }

        var number = id.ToString(CultureInfo.InvariantCulture);
        var web = WebhookJson.Url(hook.Project?.WebUrl)?.TrimEnd('/');

        // Builds are listed newest first; the stage that failed first is the earliest in the pipeline's order.
        var stages = pipeline.Stages ?? [];
        var failed = (hook.Builds ?? [])
            .OfType<GitLabBuild>()
            .Where(b => b.Status == "failed" && b.AllowFailure != true)
            .OrderBy(b => stages.IndexOf(b.Stage) is var at and >= 0 ? at : int.MaxValue)
            .ThenBy(b => b.Id)
            .ToList();
        var log = new StringBuilder();
        log.AppendLine(CultureInfo.InvariantCulture, $"GitLab pipeline {number} of {project} failed on {(pipeline.Tag == true ? "tag" : "ref")} {pipeline.Ref ?? "(none)"} at commit {pipeline.Sha ?? "(unknown)"} (source: {pipeline.Source ?? "unknown"}).");
        if (failed.Count > 0)
        {
            log.AppendLine("Failed jobs:");
            foreach (var job in failed)
            {
                log.AppendLine(CultureInfo.InvariantCulture, $"- {job.Stage} / {job.Name}: {job.FailureReason ?? "failed"}{(web is null || job.Id is null ? string.Empty : $", {web}/-/jobs/{job.Id}")}");
            }
        }

        log.Append("The webhook carries no log.");
        return WebhookReading.Triage(new BuildFailureDocument
        {
            EventId = $"gitlab-{number}",
            Source = "gitlab",
            Job = WebhookJson.Blank(pipeline.Name) ?? "pipeline",
            BuildNumber = number,
            BuildUrl = WebhookJson.Url(pipeline.Url) ?? (web is null ? null : $"{web}/-/pipelines/{number}"),
            Repository = project,
            Branch = WebhookJson.Blank(pipeline.Ref),
            Commit = WebhookJson.Blank(pipeline.Sha),
            Stage = failed.FirstOrDefault()?.Stage,
            Route = route,
            Log = log.ToString(),

            // Facts alone are alike for every failed pipeline of a project: a cached triage would be another failure's.
            Cache = false,
        });
    }

    private static WebhookReading Job(ReadOnlySpan<byte> body, string route)
    {
        var hook = WebhookJson.Read<GitLabJobHook>(body, out var invalid);
        if (hook is null)
        {
            return invalid!;
        }

        if (hook.BuildStatus != "failed")
        {
            return WebhookReading.Ignore($"job status '{hook.BuildStatus}': only failed jobs are triaged");
        }

        if (hook.BuildAllowFailure == true)
        {
            return WebhookReading.Ignore("the job is allowed to fail (allow_failure): its pipeline goes on");
        }

        if (hook.BuildId is not { } id)
        {
            return WebhookReading.Invalid("build_id", "is required");
        }

        if (WebhookJson.Blank(hook.BuildName) is not { } name)
        {
            return WebhookReading.Invalid("build_name", "is required");
        }

        // Older GitLab sends no project object; its repository's homepage has the same path.
        var web = WebhookJson.Url(hook.Project?.WebUrl ?? hook.Repository?.Homepage)?.TrimEnd('/');
        var project = WebhookJson.Blank(hook.Project?.PathWithNamespace)
            ?? (web is null ? null : new Uri(web).AbsolutePath.Trim('/'))
            ?? WebhookJson.Blank(hook.ProjectName);
        if (project is null)
        {
            return WebhookReading.Invalid("project.path_with_namespace", "is required");
        }

        var number = id.ToString(CultureInfo.InvariantCulture);
        var url = web is null ? null : $"{web}/-/jobs/{number}";
        return WebhookReading.Triage(new BuildFailureDocument
        {
            EventId = $"gitlab-job-{number}",
            Source = "gitlab",
            Job = name,
            BuildNumber = number,
            BuildUrl = url,
            Repository = project,
            Branch = WebhookJson.Blank(hook.Ref),
            Commit = WebhookJson.Blank(hook.Sha),
            Stage = WebhookJson.Blank(hook.BuildStage),
            Route = route,
            Log = $"""
                GitLab job {name} (stage {hook.BuildStage ?? "(none)"}) of {project} failed: {hook.BuildFailureReason ?? "failed"}.
                Pipeline {hook.PipelineId?.ToString(CultureInfo.InvariantCulture) ?? "(unknown)"} on {(hook.Tag == true ? "tag" : "ref")} {hook.Ref ?? "(none)"} at commit {hook.Sha ?? "(unknown)"}.
                The webhook carries no log; the job's log is at {url ?? "the job's page"}.
                """,
            Cache = false,
        });
    }
}

internal sealed class GitLabObjectKind
{
    public string? ObjectKind { get; set; }
}

internal sealed class GitLabPipelineHook
{
    public GitLabPipeline? ObjectAttributes { get; set; }

    public GitLabProject? Project { get; set; }

    public List<GitLabBuild?>? Builds { get; set; }
}

internal sealed class GitLabPipeline
{
    public long? Id { get; set; }

    /// <summary>The pipeline's name (workflow:name), when it has one.</summary>
    public string? Name { get; set; }

    public string? Ref { get; set; }

    public bool? Tag { get; set; }

    public string? Sha { get; set; }

    /// <summary>push, merge_request_event, schedule, web...</summary>
    public string? Source { get; set; }

    /// <summary>created, pending, running, success, failed, canceled, skipped, manual...</summary>
    public string? Status { get; set; }

    public List<string?>? Stages { get; set; }

    public string? Url { get; set; }
}

internal sealed class GitLabBuild
{
    public long? Id { get; set; }

    public string? Stage { get; set; }

    public string? Name { get; set; }

    public string? Status { get; set; }

    public bool? AllowFailure { get; set; }

    public string? FailureReason { get; set; }
}

internal sealed class GitLabProject
{
    public string? PathWithNamespace { get; set; }

    public string? WebUrl { get; set; }
}

internal sealed class GitLabRepository
{
    public string? Homepage { get; set; }
}

internal sealed class GitLabJobHook
{
    public string? Ref { get; set; }

    public bool? Tag { get; set; }

    public string? Sha { get; set; }

    public long? BuildId { get; set; }

    public string? BuildName { get; set; }

    public string? BuildStage { get; set; }

    public string? BuildStatus { get; set; }

    public bool? BuildAllowFailure { get; set; }

    public string? BuildFailureReason { get; set; }

    public long? PipelineId { get; set; }

    /// <summary>"Group / Project" in older GitLab: a last resort for the repository.</summary>
    public string? ProjectName { get; set; }

    public GitLabProject? Project { get; set; }

    public GitLabRepository? Repository { get; set; }
}
