using System.Text.Json;
using System.Text.Json.Serialization;

namespace Triage.Host.Evaluation;

/// <summary>
/// A labelled folder in the LogChunks layout: <c>logs/</c>, <c>labels.jsonl</c> (repo, log, category, chunk) and
/// <c>pairs.jsonl</c> (a, b, expect, tier).
/// </summary>
internal sealed record LogChunksData(string Folder, IReadOnlyList<LabelledLog> Logs, IReadOnlyList<LabelledPair> Pairs)
{
    public static LogChunksData Load(string folder)
    {
        var labels = Path.Combine(folder, "labels.jsonl");
        var pairs = Path.Combine(folder, "pairs.jsonl");
        foreach (var required in new[] { labels, pairs, Path.Combine(folder, "logs") })
        {
            if (!File.Exists(required) && !Directory.Exists(required))
            {
                throw new EvaluationDataException($"{folder} is not a labelled log folder: {Path.GetFileName(required)} is missing (expected logs/, labels.jsonl and pairs.jsonl).");
            }
        }

        return new LogChunksData(folder, ReadLines<LabelledLog>(labels), ReadLines<LabelledPair>(pairs));
    }

    public string LogPath(LabelledLog log) => Path.Combine(Folder, "logs", log.Log);

    private static List<T> ReadLines<T>(string file)
    {
        var rows = new List<T>();
        var number = 0;
        foreach (var line in File.ReadLines(file))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                rows.Add(JsonSerializer.Deserialize<T>(line, Json) ?? throw new JsonException("null"));
            }
            catch (JsonException e)
            {
                throw new EvaluationDataException($"{file}:{number}: not a valid row ({e.Message})");
            }
        }

        return rows;
    }

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };
}

internal sealed record LabelledLog(
    [property: JsonPropertyName("repo")] string Repo,
    [property: JsonPropertyName("log")] string Log,
    [property: JsonPropertyName("category")] string Category,
    [property: JsonPropertyName("chunk")] string Chunk);

internal sealed record LabelledPair(
    [property: JsonPropertyName("a")] string A,
    [property: JsonPropertyName("b")] string B,
    [property: JsonPropertyName("expect")] string Expect,
    [property: JsonPropertyName("tier")] string Tier);

internal sealed class EvaluationDataException(string message) : Exception(message);
