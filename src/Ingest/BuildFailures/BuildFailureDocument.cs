using System.Text.Json;
using System.Text.Json.Serialization;

namespace Triage.Ingest.BuildFailures;

/// <summary>The JSON a build system posts to <c>/v1/build-failures</c>, as received and before validation.</summary>
public sealed class BuildFailureDocument
{
    public string? EventId { get; set; }

    public string? Source { get; set; }

    public string? Job { get; set; }

    /// <summary>Jenkins, GitHub and GitLab number their builds; some producers send the number as a string.</summary>
    [JsonConverter(typeof(NumberOrStringConverter))]
    public string? BuildNumber { get; set; }

    public string? BuildUrl { get; set; }

    public string? Repository { get; set; }

    public string? Branch { get; set; }

    public string? Commit { get; set; }

    public string? Stage { get; set; }

    public string? Route { get; set; }

    public string? Log { get; set; }

    public List<FailedTestDocument?>? FailedTests { get; set; }

    /// <summary>false: triage afresh, neither reading nor filling the cache.</summary>
    public bool? Cache { get; set; }
}

public sealed class FailedTestDocument
{
    public string? Name { get; set; }

    public string? Message { get; set; }
}

internal sealed class NumberOrStringConverter : JsonConverter<string?>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number when reader.TryGetInt64(out var number) => number.ToString(System.Globalization.CultureInfo.InvariantCulture),
        JsonTokenType.Null => null,
        _ => throw new JsonException("must be a whole number or a string"),
    };

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
