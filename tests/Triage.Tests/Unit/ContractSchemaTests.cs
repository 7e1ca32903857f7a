using Triage.Contracts;

namespace Triage.Tests.Unit;

/// <summary>
/// The schemas under docs/contracts are what subscribers in other languages validate against: each must be exactly
/// what the records in src/Contracts produce today, so that a changed message cannot ship with a stale schema.
/// </summary>
public sealed class ContractSchemaTests
{
    public static TheoryData<string> Messages() => new(ContractSchemas.Messages.Select(m => m.Name));

    [Theory]
    [MemberData(nameof(Messages))]
    public void The_checked_in_schema_of_each_public_message_matches_its_record(string name)
    {
        var message = ContractSchemas.Messages.Single(m => m.Name == name);
        var path = Path.Combine(ShippedConfigurationTests.RepositoryRoot(), ContractSchemas.Folder, ContractSchemas.FileName(message));

        Assert.True(File.Exists(path), $"{path} is missing; run dotnet run --project tools/Schemas and commit what it writes.");
        var checkedIn = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.True(
            checkedIn == ContractSchemas.Generate(message),
            $"{path} differs from the {name} record; run dotnet run --project tools/Schemas and commit what it writes.");
    }

    [Fact]
    public void Every_message_schema_names_its_properties_in_camel_case_and_requires_the_required_ones()
    {
        var schema = System.Text.Json.Nodes.JsonNode.Parse(ContractSchemas.Generate(typeof(TriageCompleted)))!;

        Assert.Equal("object", schema["type"]!.GetValue<string>());
        Assert.NotNull(schema["properties"]!["eventId"]);
        Assert.Null(schema["properties"]!["EventId"]);
        Assert.Contains("eventId", schema["required"]!.AsArray().Select(r => r!.GetValue<string>()));
    }

    [Fact]
    public void Every_public_message_has_a_schema_file_and_no_file_is_left_over()
    {
        var folder = Path.Combine(ShippedConfigurationTests.RepositoryRoot(), ContractSchemas.Folder);
        var expected = ContractSchemas.Messages.Select(ContractSchemas.FileName).Order(StringComparer.Ordinal);
        var present = Directory.GetFiles(folder, "*.schema.json").Select(Path.GetFileName).Order(StringComparer.Ordinal);

        Assert.Equal(expected, present);
    }
}
