using System.Text.RegularExpressions;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.EndToEnd;

/// <summary><c>triage keys</c> and <c>triage usage</c> run as an operator runs them, on a fresh SQLite store.</summary>
public sealed partial class KeysCommandTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly string directory = Directory.CreateTempSubdirectory("triage-keys-").FullName;
    private readonly string config;

    public KeysCommandTests()
    {
        config = Path.Combine(directory, "triage.yaml");
        File.WriteAllText(config, "store: { sqlite: keys.db }");
    }

    [Fact]
    public async Task A_key_is_created_listed_rotated_and_revoked_and_list_never_shows_a_secret()
    {
        var (created, createdOutput) = await TriageAsync("keys", "create", "--team", "payments", "--rpm", "60", "--budget-usd", "25", "--budget-period", "month", "--routes", "build_triage,nightly");
        Assert.True(created == 0, createdOutput);
        Assert.Contains("cannot be shown again", createdOutput);
        Assert.Contains("warning: --routes: 'nightly' is not a route of this configuration", createdOutput);
        var secret = Secret().Match(createdOutput).Value;
        var id = Id().Match(createdOutput).Value;
        Assert.NotEmpty(secret);
        Assert.NotEmpty(id);

        var (listed, listOutput) = await TriageAsync("keys", "list");
        Assert.True(listed == 0, listOutput);
        var row = Row(listOutput, id);
        Assert.Contains(secret[..11], row);
        Assert.Contains("25.00/month", row);
        Assert.EndsWith("active", row);
        Assert.DoesNotContain(secret, listOutput);

        var (rotated, rotateOutput) = await TriageAsync("keys", "rotate", id, "--grace", "60");
        Assert.True(rotated == 0, rotateOutput);
        var next = Secret().Match(rotateOutput).Value;
        Assert.NotEmpty(next);
        Assert.NotEqual(secret, next);
        Assert.Contains($"The old secret ({secret[..11]}...) keeps working until", rotateOutput);

        var (revoked, revokeOutput) = await TriageAsync("keys", "revoke", id, "--reason", "leaked");
        Assert.True(revoked == 0, revokeOutput);

        var (_, finalList) = await TriageAsync("keys", "list", "--team", "payments");
        var final = Row(finalList, id);
        Assert.Contains(next[..11], final);
        Assert.EndsWith("revoked", final);
        Assert.DoesNotContain(secret, finalList);
        Assert.DoesNotContain(next, finalList);

        var (usage, usageOutput) = await TriageAsync("usage", "--team", "payments");
        Assert.True(usage == 0, usageOutput);
        Assert.Matches(@"(?m)^total\s+0\s+0\s+0\s+0\s+0\s+0\.00\s+0\.00$", usageOutput);
    }

    [Fact]
    public async Task A_bad_budget_period_exits_2_naming_the_option_and_creates_nothing()
    {
        var (exitCode, output) = await TriageAsync("keys", "create", "--team", "payments", "--budget-usd", "25", "--budget-period", "year");

        Assert.Equal(2, exitCode);
        Assert.Contains("--budget-period: 'year' is not a period; use day, week, month", output);
        Assert.DoesNotMatch(Secret(), output);
    }

    [Fact]
    public async Task An_unknown_key_id_exits_1()
    {
        var (revoked, revokeOutput) = await TriageAsync("keys", "revoke", "key_0000000000000000");
        var (rotated, rotateOutput) = await TriageAsync("keys", "rotate", "key_0000000000000000");

        Assert.True(revoked == 1, revokeOutput);
        Assert.Contains("no key has the id 'key_0000000000000000'", revokeOutput);
        Assert.True(rotated == 1, rotateOutput);
        Assert.Contains("no key has the id 'key_0000000000000000'", rotateOutput);
    }

    [Fact]
    public async Task Keys_help_lists_the_subcommands()
    {
        var (exitCode, output) = await TriageProcess.RunAsync(Timeout, "keys", "--help");

        Assert.Equal(0, exitCode);
        foreach (var subcommand in new[] { "create", "list", "revoke <ID>", "rotate <ID>" })
        {
            Assert.Matches($@"(?m)^\s+{Regex.Escape(subcommand)}\s", output);
        }
    }

    private Task<(int ExitCode, string Output)> TriageAsync(params string[] arguments) =>
        TriageProcess.RunAsync(Timeout, [.. arguments, "--config", config]);

    /// <summary>The line of the table that lists <paramref name="id"/>.</summary>
    private static string Row(string table, string id) =>
        table.Split('\n').Select(l => l.TrimEnd()).SingleOrDefault(l => l.StartsWith(id, StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"{id} is not listed:\n{table}");

    [GeneratedRegex("tk-[A-Za-z0-9_-]{32}")]
    private static partial Regex Secret();

    [GeneratedRegex("key_[0-9a-f]{16}")]
    private static partial Regex Id();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }
}
