using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Triage.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Triage.Tests.EndToEnd;

/// <summary>
/// The gateway bench keeps working: its quick mode, run as a user runs it (the bench and the gateway as processes),
/// measures a p50 for the floor, the distributed gateway and the embedded one. It runs the builds this test run already
/// made (the bench is built with the tests, the gateway is the triage.dll beside them), so it builds nothing and its
/// figures say only that the harness works. It runs alone: it starts the gateway's processes and loads the machine.
/// </summary>
[Collection(nameof(Triage.Tests.Integration.RunsAlone))]
public sealed class BenchSmokeTests(ITestOutputHelper output)
{
    /// <summary>The quick mode takes about 40 s on the 2-core machine; past this it is killed and the test fails.</summary>
    private static readonly TimeSpan BenchTimeout = TimeSpan.FromSeconds(90);

    private static readonly string[] Scenarios = ["floor", "miss-distributed", "embedded"];

    [SkippableFact]
    public async Task The_quick_gateway_bench_reports_a_p50_for_the_floor_the_distributed_misses_and_the_embedded_gateway()
    {
        TestServices.RequireRabbitMq();
        TestServices.RequirePostgres();
        var root = Unit.ShippedConfigurationTests.RepositoryRoot();
        var logs = Path.GetFullPath(Path.Combine(root, "..", "shared", "data", "logchunks"));
        Skip.IfNot(Directory.Exists(logs), $"skipped: the bench posts the real CI logs of {logs}, which are not there");
        var bench = BenchBinary(root);
        Assert.True(File.Exists(bench), $"the bench was not built with the tests: {bench}");
        var json = Path.Combine(Path.GetTempPath(), $"triage-bench-smoke-{Guid.NewGuid():N}.json");
        try
        {
            var clock = Stopwatch.StartNew();
            var (exitCode, printed) = await LocalProcess.RunAsync(
                "dotnet",
                [bench, "gateway", "--quick", "--scenarios", string.Join(',', Scenarios), "--json", json,
                 "--triage", Path.Combine(AppContext.BaseDirectory, "triage.dll")],
                root,
                BenchTimeout);
            output.WriteLine($"{printed}\n(bench: {clock.Elapsed.TotalSeconds:0.0} s)");

            Assert.Equal(0, exitCode);
            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            var measured = report.RootElement.GetProperty("scenarios");
            foreach (var scenario in Scenarios)
            {
                var p50 = measured.GetProperty(scenario).GetProperty("p50Ms");
                Assert.True(p50.ValueKind == JsonValueKind.Number && p50.GetDouble() > 0, $"{scenario} has no p50: {measured.GetProperty(scenario)}");
            }
        }
        finally
        {
            File.Delete(json);
        }
    }

    /// <summary>The bench built in this test run's configuration (Triage.Tests.csproj references it for the build order only).</summary>
    private static string BenchBinary(string root)
    {
        var configuration = typeof(BenchSmokeTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
        return Path.Combine(root, "bench", "Triage.Bench", "bin", configuration, framework, "Triage.Bench.dll");
    }
}
