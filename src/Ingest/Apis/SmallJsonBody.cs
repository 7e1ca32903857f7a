using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Triage.Ingest.Apis;

/// <summary>The small JSON bodies of the admin and dead-letter APIs, read one way.</summary>
internal static class SmallJsonBody
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Reads a small JSON object of <paramref name="fields"/>; null for an empty body. An unknown field is an error
    /// rather than ignored: <c>budget_usd</c> for <c>budgetUsd</c> would otherwise make a key without a budget.
    /// </summary>
    public static async Task<(T? Body, Dictionary<string, string[]>? Errors)> ReadAsync<T>(
        HttpRequest request, IReadOnlyCollection<string> fields, int maxBodyBytes, CancellationToken cancellationToken)
        where T : class
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBodyBytes)
            {
                return (null, Error("$", $"the body must be at most {maxBodyBytes} bytes"));
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, Error("$", "the body must be a JSON object"));
            }

            var unknown = document.RootElement.EnumerateObject()
                .Select(p => p.Name)
                .Where(name => !fields.Contains(name, StringComparer.OrdinalIgnoreCase))
                .Distinct(StringComparer.Ordinal)
                .ToDictionary(name => name, _ => new[] { $"is not a field here; known are {string.Join(", ", fields)}" });
            if (unknown.Count > 0)
            {
                return (null, unknown);
            }

            return (document.RootElement.Deserialize<T>(Json), null);
        }
        catch (JsonException e)
        {
            var field = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "$";
            return (null, Error(field, e.Message.Split(" Path:", 2)[0]));
        }
        catch (InvalidOperationException)
        {
            // A field name that is not valid UTF-16 once decoded (invalid UTF-8, a lone surrogate).
            return (null, Error("$", "a field name is not valid text (invalid UTF-8 or a lone surrogate)"));
        }
    }

    private static Dictionary<string, string[]> Error(string field, string message) => new() { [field] = [message] };
}
