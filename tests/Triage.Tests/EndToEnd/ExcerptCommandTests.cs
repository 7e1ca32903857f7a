using System.Text.Json.Nodes;
using Triage.Fakes;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.EndToEnd;

/// <summary><c>triage excerpt</c> run as an operator runs it, on a log with a failure and a secret.</summary>
public sealed class ExcerptCommandTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string directory = Directory.CreateTempSubdirectory("triage-excerpt-").FullName;

    [Fact]
    public async Task Shows_the_redacted_excerpt_its_focus_and_the_identity_the_cache_compares()
    {
        var log = await Log();

        var (exitCode, printed) = await TriageProcess.RunAsync(Timeout, "excerpt", log, "--json");

        Assert.True(exitCode == 0, printed);
        var view = JsonNode.Parse(printed)!;
        Assert.Contains("npm ERR! 404 Not Found - GET https://registry.example/left-padd", view["excerpt"]!.GetValue<string>());
        Assert.DoesNotContain("npm_abcdefghijklmnopqrstuvwxyz0123456789", printed);
        Assert.Equal(1, view["redacted_secrets"]!.GetValue<int>());
        Assert.Equal(1204, view["log_lines"]!.GetValue<int>());
        Assert.Contains("E404", view["identity"]!["codes"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Contains("<n>", view["fingerprint"]!.GetValue<string>());
    }

    [Fact]
    public async Task Reads_the_log_from_standard_input_and_prints_a_readable_report()
    {
        var log = await Log();
        var binary = Path.Combine(AppContext.BaseDirectory, "triage.dll");

        var (exitCode, printed) = await LocalProcess.RunAsync("bash", ["-c", $"dotnet '{binary}' excerpt - < '{log}'"], directory, Timeout);

        Assert.True(exitCode == 0, printed);
        Assert.Contains("excerpt: ", printed);
        Assert.Contains("of 1204 lines", printed);
        Assert.Contains("--- focus (what the cache compares) ---", printed);
        Assert.Contains("    E404", printed);
        Assert.DoesNotContain("npm_abcdefghijklmnopqrstuvwxyz0123456789", printed);
    }

    [Fact]
    public async Task A_missing_log_is_a_clear_error()
    {
        var missing = Path.Combine(directory, "nope.log");

        var (exitCode, printed) = await TriageProcess.RunAsync(Timeout, "excerpt", missing);

        Assert.Equal(2, exitCode);
        Assert.Contains(missing, printed);
    }

    [Fact]
    public async Task An_invalid_configuration_is_a_clear_error()
    {
        var config = Path.Combine(directory, "triage.yaml");
        await File.WriteAllTextAsync(config, "providers:\n  main: { type: openai-compatible, model: m }\n");

        var (exitCode, printed) = await TriageProcess.RunAsync(Timeout, "excerpt", await Log(), "--config", config);

        Assert.Equal(2, exitCode);
        Assert.Contains("triage.yaml:2: providers.main.base_url", printed);
    }

    private async Task<string> Log()
    {
        var lines = Enumerable.Range(1, 1200).Select(i => $"added package {i} of 1200")
            .Append("export NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789")
            .Append("npm ERR! code E404")
            .Append("npm ERR! 404 Not Found - GET https://registry.example/left-padd - Not found")
            .Append("The command \"npm ci\" exited with 1.");
        var path = Path.Combine(directory, "build.log");
        await File.WriteAllLinesAsync(path, lines);
        return path;
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
