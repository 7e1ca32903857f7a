using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Triage.Ingest.BuildFailures;

namespace Triage.Ingest.Webhooks;

/// <summary>
/// The Jenkins Notification plugin's JSON: a job (<c>name</c>, <c>url</c>) and its build (<c>number</c>, <c>phase</c>,
/// <c>status</c>, <c>full_url</c>, <c>scm</c>, the last lines of the <c>log</c> when the endpoint asks for them, and
/// <c>test_summary</c> when the build published test results). The plugin notifies every phase of every build; only
/// a finished build that failed is a failure.
/// </summary>
public static class JenkinsNotification
{
    private static readonly HashSet<string> FinishedPhases = new(StringComparer.OrdinalIgnoreCase) { "COMPLETED", "FINALIZED" };

    private static readonly HashSet<string> FailedStatuses = new(StringComparer.OrdinalIgnoreCase) { "FAILURE", "UNSTABLE" };

    public static WebhookReading Read(ReadOnlySpan<byte> body, string route)
    {
        var job = WebhookJson.Read<JenkinsJob>(body, out var invalid);
        if (job is null)
        {
            return invalid!;
        }

        if (job.Build is not { } build)
        {
            return WebhookReading.Invalid("build", "is required: the Notification plugin's build object");
        }

        // STARTED carries the previous build's status: the phase decides before the status is even looked at.
        if (build.Phase is not { } phase || !FinishedPhases.Contains(phase))
        {
            return WebhookReading.Ignore($"phase {build.Phase ?? "(none)"}: only COMPLETED and FINALIZED builds are triaged");
        }

        if (build.Status is not { } status || !FailedStatuses.Contains(status))
        {
            return WebhookReading.Ignore($"status {build.Status ?? "(none)"}: only FAILURE and UNSTABLE builds are triaged");
        }

        var name = FullName(job.Url) ?? WebhookJson.Blank(job.Name);
        if (name is null)
        {
            return WebhookReading.Invalid("name", "is required: the job's name");
        }

        if (build.Number is not { } number)
        {
            return WebhookReading.Invalid("build.number", "is required: the build's number");
        }

        var buildNumber = number.ToString(CultureInfo.InvariantCulture);
        var repository = RepositoryOf(build.Scm?.Url);
        var branch = WebhookJson.Blank(build.Scm?.Branch);
        if (branch?.StartsWith("origin/", StringComparison.Ordinal) == true)
        {
            // GIT_BRANCH of a freestyle job names the remote's branch.
            branch = branch["origin/".Length..];
        }

        var log = build.Log;
        var hasLog = !string.IsNullOrWhiteSpace(log);
        return WebhookReading.Triage(new BuildFailureDocument
        {
            // COMPLETED and FINALIZED of one build, and a redelivery, are the same failure.
            EventId = EventId(name, buildNumber),
            Source = "jenkins",
            Job = name,
            BuildNumber = buildNumber,
            BuildUrl = WebhookJson.Url(build.FullUrl),
            Repository = repository,
            Branch = branch,
            Commit = WebhookJson.Blank(build.Scm?.Commit),
            Route = route,
            Log = hasLog ? log : $"""
                Jenkins build {name} #{buildNumber} finished {status.ToUpperInvariant()}{(repository is null ? string.Empty : $" (repository {repository}{(branch is null ? string.Empty : $", branch {branch}")})")}.
                The notification carried no log lines.
                """,
            FailedTests = build.TestSummary?.FailedTests?
                .Where(test => !string.IsNullOrWhiteSpace(test))
                .Select(test => new FailedTestDocument { Name = test })
                .ToList<FailedTestDocument?>(),

            // Without a log there is nothing that tells this failure from the job's last one: no cache.
            Cache = hasLog,
        });
    }

    /// <summary>"job/payments/job/service/" → "payments/service": the name with its folders, as Jenkins shows it.</summary>
    private static string? FullName(string? url)
    {
        var segments = url?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (segments.Length < 2 || segments.Length % 2 != 0)
        {
            return null;
        }

        var names = new List<string>();
        for (var i = 0; i < segments.Length; i += 2)
        {
            if (segments[i] != "job")
            {
                return null;
            }

            names.Add(Uri.UnescapeDataString(segments[i + 1]));
        }

        return string.Join('/', names);
    }

    /// <summary>
    /// "https://github.com/acme/payments.git" or "git@github.com:acme/payments.git" → "acme/payments": the repository
    /// as the ownership section names it.
    /// </summary>
    private static string? RepositoryOf(string? url)
    {
        if (WebhookJson.Blank(url) is not { } text)
        {
            return null;
        }

        var path = Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme != Uri.UriSchemeFile ? uri.AbsolutePath
            : text.IndexOf(':') is var colon and > 0 && text.IndexOf('@') < colon ? text[(colon + 1)..]
            : text;
        path = Uri.UnescapeDataString(path).Trim('/');
        if (path.EndsWith(".git", StringComparison.OrdinalIgnoreCase))
        {
            path = path[..^".git".Length];
        }

        return path.Length > 0 ? path : null;
    }

    /// <summary>
    /// jenkins-payments:service-1842. Jenkins forbids ':' in item names, so folders become ':' without clashing; any
    /// other character an event id cannot hold makes the id end in a hash of the name instead.
    /// </summary>
    private static string EventId(string name, string number)
    {
        const int MaxName = 80;
        var slug = new StringBuilder(name.Length);
        var lossy = name.Length > MaxName;
        foreach (var c in name.Length > MaxName ? name[..MaxName] : name)
        {
            var kept = c == '/' ? ':' : char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_';
            lossy |= kept == '_' && c != '_';
            slug.Append(kept);
        }

        if (lossy)
        {
            slug.Append('.').Append(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..12]);
        }

        return $"jenkins-{slug}-{(number.Length > 20 ? number[..20] : number)}";
    }
}

internal sealed class JenkinsJob
{
    public string? Name { get; set; }

    /// <summary>Relative to Jenkins: "job/payments/job/service/".</summary>
    public string? Url { get; set; }

    public JenkinsBuild? Build { get; set; }
}

internal sealed class JenkinsBuild
{
    /// <summary>Absent when Jenkins has no root URL configured.</summary>
    public string? FullUrl { get; set; }

    public long? Number { get; set; }

    /// <summary>QUEUED, STARTED, COMPLETED or FINALIZED.</summary>
    public string? Phase { get; set; }

    /// <summary>SUCCESS, UNSTABLE, FAILURE, NOT_BUILT or ABORTED.</summary>
    public string? Status { get; set; }

    /// <summary>The last "Log lines" lines of the console, as the endpoint is configured; empty by default.</summary>
    public string? Log { get; set; }

    public JenkinsScm? Scm { get; set; }

    public JenkinsTestSummary? TestSummary { get; set; }
}

internal sealed class JenkinsScm
{
    public string? Url { get; set; }

    public string? Branch { get; set; }

    public string? Commit { get; set; }
}

internal sealed class JenkinsTestSummary
{
    public List<string?>? FailedTests { get; set; }
}
