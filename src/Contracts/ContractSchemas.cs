using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Triage.Contracts;

/// <summary>
/// The JSON Schemas of the public messages, as checked in under <c>docs/contracts/</c>: written by
/// <c>dotnet run --project tools/Schemas</c> and compared with these records by a test, so the two cannot drift.
/// </summary>
public static class ContractSchemas
{
    public const string Folder = "docs/contracts";

    /// <summary>Every message a producer or subscriber outside the gateway may see, by record.</summary>
    public static IReadOnlyList<Type> Messages { get; } =
    [
        typeof(BuildFailed),
        typeof(TriageRequested),
        typeof(TriageCompleted),
        typeof(TriageAttemptFailed),
        typeof(TriageDeadLettered),
    ];

    /// <summary>
    /// The web defaults every message is written with (camelCase), plus two settings that only make the schema say
    /// what is written: numbers as numbers (the web defaults also read them from strings) and the records' nullable
    /// annotations (a <c>string?</c> may be null, a <c>string</c> may not).
    /// </summary>
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.Strict,
        RespectNullableAnnotations = true,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    /// <summary>A message, and an element of its lists, is never null where reflection cannot tell (generic arguments).</summary>
    private static readonly JsonSchemaExporterOptions Exporter = new() { TreatNullObliviousAsNonNullable = true };

    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string FileName(Type message) => $"{message.Name}.schema.json";

    /// <summary>The schema of <paramref name="message"/> as the text of its file (indented, <c>\n</c> line ends).</summary>
    public static string Generate(Type message)
    {
        var exported = JsonSchemaExporter.GetJsonSchemaAsNode(Json, message, Exporter).AsObject();
        var schema = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["title"] = message.Name,
        };
        foreach (var (name, value) in exported.ToList())
        {
            exported.Remove(name);
            schema[name] = value;
        }

        return schema.ToJsonString(Indented) + "\n";
    }
}
