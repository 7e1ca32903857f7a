using System.Text.Json;
using System.Text.Json.Nodes;

namespace Triage.Bench.Gateway;

/// <summary>A real failed build, as a build step would post it.</summary>
internal sealed record FailureSample(string Repository, string Job, string BuildNumber, string Log)
{
    /// <summary>The body of <c>POST /v1/build-failures</c>; <paramref name="useCache"/> false asks for a fresh triage.</summary>
    public byte[] Body(string eventId, bool useCache)
    {
        var body = new JsonObject
        {
            ["eventId"] = eventId,
            ["source"] = "travis",
            ["job"] = Job,
            ["buildNumber"] = BuildNumber,
            ["repository"] = Repository,
            ["branch"] = "master",
            ["log"] = Log,
        };
        if (!useCache)
        {
            body["cache"] = false;
        }

        return JsonSerializer.SerializeToUtf8Bytes(body);
    }
}

/// <summary>
/// Failures made of the LogChunks logs (../shared/data/logchunks): one log per repository and per labelled kind of
/// failure, so that no two of them are the same failure and the cache could not reuse one for another even if it
/// were asked. Each keeps the last 200 lines of its log, as the Jenkins, GitHub and GitLab examples post it.
/// </summary>
internal static class FailureSamples
{
    public const int TailLines = 200;

    public static IReadOnlyList<FailureSample> Load(string folder)
    {
        var labels = Path.Combine(folder, "labels.jsonl");
        if (!File.Exists(labels))
        {
            throw new FileNotFoundException($"the bench posts real logs from LogChunks and found none at {folder} (expected labels.jsonl and logs/); pass --data DIR");
        }

        return File.ReadLines(labels)
            .Where(line => !string.IsNullOrWhiteSpace(line))
            .Select(line => JsonNode.Parse(line)!)
            .Select(row => (Repo: row["repo"]!.GetValue<string>(), Log: row["log"]!.GetValue<string>(), Category: row["category"]!.GetValue<string>()))
            .GroupBy(row => (row.Repo, row.Category))
            .Select(kind => kind.MinBy(row => row.Log, StringComparer.Ordinal))
            .OrderBy(row => row.Log, StringComparer.Ordinal)
            .Select(row => Sample(folder, row.Repo, row.Log))
            .ToList();
    }

    private static FailureSample Sample(string folder, string repo, string log)
    {
        // "Java/owner@name" and "Java/owner@name/failed/123.log": the repository as a build would name it, the job id as its number.
        var repository = repo[(repo.IndexOf('/') + 1)..].Replace('@', '/');
        var tail = File.ReadLines(Path.Combine(folder, "logs", log)).TakeLast(TailLines);
        return new FailureSample(repository, repository + "/ci", Path.GetFileNameWithoutExtension(log), string.Join('\n', tail));
    }
}
