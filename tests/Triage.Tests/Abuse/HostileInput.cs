using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CsCheck;

namespace Triage.Tests.Abuse;

/// <summary>One request body a property test sends, with what it is for the failure message (not the megabytes).</summary>
public sealed record HostileBody(string Kind, byte[] Bytes)
{
    public override string ToString()
    {
        var head = Encoding.UTF8.GetString(Bytes, 0, Math.Min(Bytes.Length, 300));
        return $"{Kind}, {Bytes.Length} bytes: {head}{(Bytes.Length > 300 ? "…" : string.Empty)}";
    }
}

/// <summary>
/// What a broken client or an attacker posts: random bytes, random JSON whose keys are often the real field names
/// with values of the wrong type, and mutations of a valid document (a field removed or of the wrong type, a string of
/// megabytes, nesting a thousand deep, invalid UTF-8, NUL bytes, unicode escapes, duplicate keys).
/// </summary>
public static class HostileInput
{
    public static readonly string[] BuildFailureFields =
        ["eventId", "source", "job", "buildNumber", "buildUrl", "repository", "branch", "commit", "stage", "route", "log", "failedTests", "cache"];

    public static readonly string[] KeyFields = ["team", "routes", "rpm", "tpm", "budgetUsd", "budgetPeriod", "expiresAt"];

    public static readonly string[] ArchiveFields = ["ids", "group", "route", "since", "all"];

    public static readonly string[] ReplayFields = [.. ArchiveFields, "dryRun", "ratePerSecond"];

    /// <summary>Characters of every kind that trips a reader: controls, quotes, backslashes, separators, BOM, CJK.</summary>
    private static readonly Gen<char> AnyChar = Gen.Frequency(
        (8, Gen.Char['a', 'z']),
        (3, Gen.Char[' ', '~']),
        (1, Gen.Char['\0', '\u001f']),
        (1, Gen.Char['\u00a0', '\u07ff']),
        (1, Gen.Char['\u4e00', '\u4fff']),
        (1, Gen.Char["\"\\/\u2028\u2029\ufeff\ufffd\u007f"]));

    public static readonly Gen<string> AnyString = AnyChar.Array[0, 40].Select(chars => new string(chars));

    /// <summary>A string that is fine as a value: letters, digits and a few separators, never blank.</summary>
    public static readonly Gen<string> Word = Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-_./"].Array[1, 24].Select(chars => new string(chars));

    private static readonly Gen<string> Number = Gen.Frequency(
        (4, Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture))),
        (2, Gen.Double.Where(double.IsFinite).Select(d => d.ToString("R", CultureInfo.InvariantCulture))),
        (1, Gen.OneOf("0", "-0", "1e400", "-1e400", "123456789012345678901234567890", "0.0000000000000000000001", "9223372036854775808", "-9223372036854775809", "1E+2")));

    private static readonly Gen<string> Scalar = Gen.Frequency(
        (1, Gen.Const("null")),
        (1, Gen.OneOf("true", "false")),
        (3, Number),
        (4, AnyString.Select(Quote)));

    /// <summary>A JSON object key: the real names (any endpoint's) half the time, in another case now and then.</summary>
    private static Gen<string> Key(string[] fields) => Gen.Frequency(
        (4, Gen.OneOf(fields)),
        (1, Gen.OneOf(fields).Select(f => f.ToUpperInvariant())),
        (2, AnyString));

    /// <summary>Any JSON value as text, nested a few levels, its object keys often the fields of the endpoint under test.</summary>
    public static Gen<string> JsonText(string[] fields) => Gen.Recursive<string>((depth, value) => depth >= 4
        ? Scalar
        : Gen.Frequency(
            (3, Scalar),
            (1, value.Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
            (3, Gen.Select(Key(fields), value).Array[0, 7].Select(members => "{" + string.Join(",", members.Select(m => Quote(m.Item1) + ":" + m.Item2)) + "}"))));

    public static Gen<HostileBody> RandomBytes { get; } = Gen.Byte.Array[0, 2048].Select(bytes => new HostileBody("random bytes", bytes));

    public static Gen<HostileBody> RandomJson(string[] fields) =>
        JsonText(fields).Select(text => new HostileBody("random JSON", Encoding.UTF8.GetBytes(text)));

    /// <summary>A valid build failure under a fresh event id, with optional fields now and then.</summary>
    public static Gen<JsonObject> ValidFailure { get; } = Gen.Select(
        Gen.Long[1, long.MaxValue], Word, Word, AnyString, Gen.Bool, Gen.Int[0, 3],
        (id, source, job, log, numeric, optional) =>
        {
            var document = new JsonObject
            {
                ["eventId"] = $"abuse-{id:x}",
                ["source"] = source,
                ["job"] = job,
                ["buildNumber"] = numeric ? JsonValue.Create(id % 100_000) : (JsonNode)(id % 100_000).ToString(CultureInfo.InvariantCulture),
                ["log"] = "[ERROR] " + log,
            };
            if (optional >= 1)
            {
                document["repository"] = "acme/" + job;
                document["branch"] = "main";
                document["route"] = "build_triage";
            }

            if (optional >= 2)
            {
                document["buildUrl"] = "https://ci.acme.example/job/" + Uri.EscapeDataString(job) + "/1/";
                document["failedTests"] = new JsonArray(new JsonObject { ["name"] = "T." + job, ["message"] = log });
                document["cache"] = false;
            }

            return document;
        });

    /// <summary>
    /// Mutations of <paramref name="valid"/> (a document of the endpoint under test), none of which a client should be
    /// able to turn into a 5xx, a dropped connection or a stored failure it did not send validly.
    /// </summary>
    public static Gen<HostileBody> Mutations(Gen<JsonObject> valid, string[] fields) => Gen.Frequency(
        (2, valid.Select(d => Body("valid", d))),
        (3, Gen.Select(valid, Gen.OneOf(fields)).Select(p => Without(p.Item1, p.Item2))),
        (4, Gen.Select(valid, Gen.OneOf(fields), JsonText(fields)).Select(p => Spliced($"{p.Item2} as {Short(p.Item3)}", p.Item1, p.Item2, p.Item3))),
        (1, Gen.Select(valid, Gen.OneOf(fields), Gen.Int[1, 3_000_000]).Select(p => Spliced($"{p.Item2} of {p.Item3} characters", p.Item1, p.Item2, Quote(new string('x', p.Item3))))),
        (1, Gen.Select(valid, Gen.OneOf(fields), Gen.Bool).Select(p => Spliced($"{p.Item2} nested 1000 deep", p.Item1, p.Item2, Deep(1000, p.Item3)))),
        (1, valid.Select(d => new HostileBody("nested 1000 deep around it", Encoding.UTF8.GetBytes(new string('[', 1000) + d.ToJsonString() + new string(']', 1000))))),
        (3, Gen.Select(valid, Gen.Int[1, 4], Gen.Int[0, int.MaxValue]).Select(p => new HostileBody("invalid UTF-8", InvalidUtf8(Body("", p.Item1).Bytes, p.Item2, p.Item3)))),
        (2, Gen.Select(valid, Gen.Int[0, int.MaxValue]).Select(p => new HostileBody("a raw NUL byte", Insert(Body("", p.Item1).Bytes, p.Item2, [0])))),
        (3, Gen.Select(valid, Gen.OneOf(fields), Gen.OneOf(Escapes)).Select(p => Spliced($"{p.Item2} with {p.Item3}", p.Item1, p.Item2, "\"" + p.Item3 + "\""))),
        (3, Gen.Select(valid, Key(fields), JsonText(fields)).Select(p => new HostileBody($"{p.Item2} twice", Duplicate(p.Item1, p.Item2, p.Item3)))),
        (1, Gen.Select(valid, Gen.Int[0, int.MaxValue]).Select(p => Truncated(p.Item1, p.Item2))));

    /// <summary>Unicode escapes that are valid JSON but not valid text, or text that a store or a log may mishandle.</summary>
    private static readonly string[] Escapes =
        [@"\u0000", @"a\u0000b", @"\ud800", @"\udfff", @"\ud800x", @"\udc00\ud800", @"\ud83d\ude00", @"\uffff", @"\ufeff", @"\u202e", @"\u001b[31m"];

    public static string Quote(string text) => JsonSerializer.Serialize(text);

    private static string Short(string json) => json.Length <= 20 ? json : json[..20] + "…";

    private static HostileBody Body(string kind, JsonObject document) => new(kind, Encoding.UTF8.GetBytes(document.ToJsonString()));

    private static HostileBody Without(JsonObject document, string field)
    {
        document.Remove(field);
        return Body($"without {field}", document);
    }

    /// <summary>The document with <paramref name="field"/> set to the JSON text <paramref name="value"/>, written as is.</summary>
    private static HostileBody Spliced(string kind, JsonObject document, string field, string value)
    {
        document.Remove(field);
        var text = document.ToJsonString();
        var member = Quote(field) + ":" + value;
        return new HostileBody(kind, Encoding.UTF8.GetBytes(text.Length > 2 ? text[..^1] + "," + member + "}" : "{" + member + "}"));
    }

    /// <summary>The document with a second <paramref name="key"/> after the first, as a sloppy producer writes it.</summary>
    private static byte[] Duplicate(JsonObject document, string key, string value)
    {
        var text = document.ToJsonString();
        return Encoding.UTF8.GetBytes(text[..^1] + (text.Length > 2 ? "," : string.Empty) + Quote(key) + ":" + value + "}");
    }

    private static string Deep(int levels, bool arrays) => arrays
        ? new string('[', levels) + new string(']', levels)
        : string.Concat(Enumerable.Repeat("{\"a\":", levels)) + "1" + new string('}', levels);

    private static readonly byte[][] BadSequences =
    [
        [0x80], [0xBF], [0xC0, 0xAF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFE], [0xFF],
    ];

    private static byte[] InvalidUtf8(byte[] bytes, int count, int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            // Inside a string value mostly, where a lenient reader may keep going, sometimes anywhere.
            var at = random.Next(bytes.Length + 1);
            bytes = Insert(bytes, at, BadSequences[random.Next(BadSequences.Length)]);
        }

        return bytes;
    }

    private static byte[] Insert(byte[] bytes, int at, byte[] inserted)
    {
        at %= bytes.Length + 1;
        return [.. bytes.AsSpan(0, at), .. inserted, .. bytes.AsSpan(at)];
    }

    private static HostileBody Truncated(JsonObject document, int at)
    {
        var bytes = Body(string.Empty, document).Bytes;
        return new HostileBody("truncated", bytes[..(at % bytes.Length)]);
    }
}

/// <summary>
/// Independent readings of what each endpoint may accept: necessary conditions, written apart from the gateway's
/// readers, that every input the gateway answers 2xx must meet.
/// </summary>
public static partial class Valid
{
    private static readonly UTF8Encoding Lenient = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>The JSON object the bytes are, read as leniently as the gateway reads text; null when they are none.</summary>
    public static JsonElement? Object(byte[] bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(Lenient.GetString(bytes));
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A failure <c>POST /v1/build-failures</c> may take on a gateway whose only route is build_triage.</summary>
    public static bool BuildFailure(byte[] bytes)
    {
        if (Object(bytes) is not { } root)
        {
            return false;
        }

        var fields = Last(root);
        return Text(fields, "source", 100, required: true)
            && Text(fields, "job", 500, required: true)
            && Text(fields, "repository", 500) && Text(fields, "branch", 500) && Text(fields, "commit", 100) && Text(fields, "stage", 200)
            && fields.GetValueOrDefault("buildNumber") is { } number
            && (number.ValueKind == JsonValueKind.Number ? number.TryGetInt64(out _) : number.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(number.GetString()) && number.GetString()!.Length <= 100)
            && fields.GetValueOrDefault("log") is { ValueKind: JsonValueKind.String }
            && (Absent(fields, "eventId") || (fields["eventId"].ValueKind == JsonValueKind.String && EventId().IsMatch(fields["eventId"].GetString()!)))
            && (Absent(fields, "route") || (fields["route"].ValueKind == JsonValueKind.String && (string.IsNullOrWhiteSpace(fields["route"].GetString()) || fields["route"].GetString() == "build_triage")))
            && (Absent(fields, "buildUrl") || (fields["buildUrl"].ValueKind == JsonValueKind.String && Uri.TryCreate(fields["buildUrl"].GetString(), UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
            && (Absent(fields, "cache") || fields["cache"].ValueKind is JsonValueKind.True or JsonValueKind.False)
            && (Absent(fields, "failedTests") || (fields["failedTests"].ValueKind == JsonValueKind.Array && fields["failedTests"].EnumerateArray().All(
                test => test.ValueKind == JsonValueKind.Object && Last(test).GetValueOrDefault("name") is { ValueKind: JsonValueKind.String } name && name.GetString()!.Length is > 0 and <= 1000)));
    }

    /// <summary>A key <c>POST /v1/admin/keys</c> may create: only its fields, and a team name without spaces.</summary>
    public static bool Key(byte[] bytes) =>
        Object(bytes) is { } root
        && root.EnumerateObject().All(p => HostileInput.KeyFields.Contains(p.Name, StringComparer.OrdinalIgnoreCase))
        && Last(root).GetValueOrDefault("team") is { ValueKind: JsonValueKind.String } team
        && team.GetString() is { Length: > 0 and <= 100 } name && !name.Any(char.IsWhiteSpace);

    /// <summary>A selection <c>POST /v1/dead-letters/replay</c> or <c>/archive</c> may act on: only its fields, and something named.</summary>
    public static bool Selection(byte[] bytes, string[] known)
    {
        if (Object(bytes) is not { } root || !root.EnumerateObject().All(p => known.Contains(p.Name, StringComparer.OrdinalIgnoreCase)))
        {
            return false;
        }

        var fields = Last(root);
        return fields.GetValueOrDefault("all").ValueKind == JsonValueKind.True
            || fields.GetValueOrDefault("ids") is { ValueKind: JsonValueKind.Array } ids && ids.GetArrayLength() > 0
            || new[] { "group", "route", "since" }.Any(f => fields.GetValueOrDefault(f) is { ValueKind: JsonValueKind.String } s && !string.IsNullOrWhiteSpace(s.GetString()));
    }

    /// <summary>An instant of <c>from=</c> or <c>to=</c>: absent, blank, or at least shaped like an ISO 8601 date.</summary>
    public static bool Instant(string? text) => string.IsNullOrWhiteSpace(text) || IsoDate().IsMatch(text.Trim());

    /// <summary>The members of an object by name, ignoring case, the last of duplicates winning (as the gateway reads them).</summary>
    private static Dictionary<string, JsonElement> Last(JsonElement element)
    {
        var fields = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in element.EnumerateObject())
        {
            fields[property.Name] = property.Value;
        }

        return fields;
    }

    private static bool Absent(Dictionary<string, JsonElement> fields, string name) =>
        !fields.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null;

    private static bool Text(Dictionary<string, JsonElement> fields, string name, int max, bool required = false)
    {
        if (Absent(fields, name))
        {
            return !required;
        }

        return fields[name].ValueKind == JsonValueKind.String
            && fields[name].GetString() is { } text
            && text.Length <= max
            && (!required || !string.IsNullOrWhiteSpace(text));
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
    private static partial Regex EventId();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}")]
    private static partial Regex IsoDate();
}
