using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Triage.Contracts;
using Triage.Platform.Configuration;

namespace Triage.Ingest.BuildFailures;

/// <summary>
/// Turns posted bytes into a <see cref="BuildFailed"/> or says precisely what is wrong, field by field.
/// The one owner of what a valid build failure is.
/// </summary>
public static partial class BuildFailureReader
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        AllowTrailingCommas = false,
        MaxDepth = 16,
    };

    /// <summary>Invalid UTF-8 in a log becomes U+FFFD instead of failing the whole failure.</summary>
    private static readonly UTF8Encoding Lenient = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    public static ReadResult Read(ReadOnlySpan<byte> body, TriageOptions options, DateTimeOffset receivedAt)
    {
        BuildFailureDocument? document;
        try
        {
            document = JsonSerializer.Deserialize<BuildFailureDocument>(Lenient.GetString(body), Json);
        }
        catch (JsonException e)
        {
            var field = FieldOf(e.Path);
            var detail = e.Message.Split(" Path:", 2)[0];
            return ReadResult.Invalid(new Dictionary<string, string[]> { [field] = [detail] });
        }

        if (document is null)
        {
            return ReadResult.Invalid(new Dictionary<string, string[]> { ["$"] = ["the body must be a JSON object"] });
        }

        return Validate(document, options, receivedAt);
    }

    /// <summary>
    /// Checks a document, posted or translated from a build system's own event, and makes it a
    /// <see cref="BuildFailed"/>: every way in obeys the same rules.
    /// </summary>
    public static ReadResult Validate(BuildFailureDocument document, TriageOptions options, DateTimeOffset receivedAt)
    {
        var errors = new Dictionary<string, string[]>();
        Require(document.Source, "source", 100);
        Require(document.Job, "job", 500);
        Require(document.BuildNumber, "buildNumber", 100);
        Limit(document.Repository, "repository", 500);
        Limit(document.Branch, "branch", 500);
        Limit(document.Commit, "commit", 100);
        Limit(document.Stage, "stage", 200);
        Limit(document.Route, "route", 100);
        Limit(document.BuildUrl, "buildUrl", 2000);
        if (document.Log is null)
        {
            errors["log"] = ["is required: the text of the build log (send its tail if it is large)"];
        }

        if (document.EventId is not null && !EventIdPattern().IsMatch(document.EventId))
        {
            errors["eventId"] = ["must be 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"];
        }

        if (document.BuildUrl is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            errors["buildUrl"] = ["must be an absolute http(s) URL"];
        }

        var tests = new List<FailedTest>();
        for (var i = 0; i < (document.FailedTests?.Count ?? 0); i++)
        {
            var test = document.FailedTests![i];
            if (test?.Name is not { Length: > 0 and <= 1000 } name)
            {
                errors[$"failedTests[{i}].name"] = ["is required, at most 1000 characters"];
                continue;
            }

            tests.Add(new FailedTest(Text(name)!, Text(test.Message is { Length: > 4000 } long_ ? long_[..4000] : test.Message)));
        }

        if (errors.Count > 0)
        {
            return ReadResult.Invalid(errors);
        }

        var route = string.IsNullOrWhiteSpace(document.Route) ? TriageOptions.DefaultRoute : document.Route;
        if (!options.Routing.ContainsKey(route))
        {
            return ReadResult.UnknownRoute(route, options.Routing.Keys);
        }

        return ReadResult.Valid(new BuildFailed
        {
            EventId = document.EventId ?? DeriveEventId(document.Source!, document.Job!, document.BuildNumber!),
            Source = document.Source!,
            Job = document.Job!,
            BuildNumber = document.BuildNumber!,
            BuildUrl = document.BuildUrl,
            Repository = document.Repository,
            Branch = document.Branch,
            Commit = document.Commit,
            Stage = document.Stage,
            Route = route,
            Log = Text(document.Log)!,
            FailedTests = tests,
            ReceivedAt = receivedAt,
            UseCache = document.Cache ?? true,
        });

        void Require(string? value, string field, int max)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors[field] = ["is required"];
            }
            else
            {
                Limit(value, field, max);
            }
        }

        void Limit(string? value, string field, int max)
        {
            if (value is { Length: var length } && length > max)
            {
                errors[field] = [$"must be at most {max} characters"];
            }
            else if (value?.Contains('\0', StringComparison.Ordinal) == true)
            {
                // PostgreSQL text cannot hold it; a name or an id with one is not a name or an id.
                errors[field] = ["must not contain the NUL character (U+0000)"];
            }
        }
    }

    /// <summary>Log text keeps its NUL characters as U+FFFD: logs carry binary noise, and no store column holds U+0000.</summary>
    private static string? Text(string? text) => text?.Replace('\0', '\uFFFD');

    /// <summary>The same build of the same job from the same source is the same failure, whoever posts it.</summary>
    public static string DeriveEventId(string source, string job, string buildNumber)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{source}\n{job}\n{buildNumber}"));
        return "bf-" + Convert.ToHexStringLower(hash)[..32];
    }

    /// <summary>"$.failedTests[0].name" → "failedTests[0].name"; "$" for the document itself.</summary>
    internal static string FieldOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "$" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
    private static partial Regex EventIdPattern();
}

public sealed record ReadResult(BuildFailed? Failure, IDictionary<string, string[]>? Errors, string? Route, string? RouteError)
{
    public static ReadResult Valid(BuildFailed failure) => new(failure, null, null, null);

    public static ReadResult Invalid(IDictionary<string, string[]> errors) => new(null, errors, null, null);

    public static ReadResult UnknownRoute(string route, IEnumerable<string> known) =>
        new(null, null, route, $"Route '{route}' is not configured; the routes are {string.Join(", ", known)}.");
}
