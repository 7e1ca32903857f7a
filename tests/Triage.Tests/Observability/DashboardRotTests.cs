using System.Text.Json;
using System.Text.RegularExpressions;
using Triage.Tests.Infrastructure;
using Triage.Tests.Unit;

namespace Triage.Tests.Observability;

/// <summary>
/// Every metric the Grafana dashboard and the Prometheus alerts use is exported by a running gateway after a
/// workload that triages, fails over and dead-letters, so neither can silently rot. It reads /metrics, so it runs
/// alone.
/// </summary>
[Collection(nameof(Integration.RunsAlone))]
public sealed partial class DashboardRotTests : DistributedGatewayTest
{
    protected override async Task<string> ConfigurationAsync()
    {
        var primary = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.Anthropic));
        var secondary = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.OpenAi));
        var broken = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.OpenAi));
        primary.Reply = _ => FakeReply.Error(401, "authentication_error", "invalid x-api-key");
        broken.Reply = _ => FakeReply.Error(500, "server_error", "boom");
        return $"""
            providers:
              primary: {"{"} type: anthropic, base_url: "{primary.BaseUrl}", api_key: sk-ant-test {"}"}
              secondary: {"{"} type: openai-compatible, base_url: "{secondary.BaseUrl}", model: m, weight: 0 {"}"}
              broken: {"{"} type: openai-compatible, base_url: "{broken.BaseUrl}", model: m, max_retries: 0 {"}"}
            routing:
              build_triage: {"{"} providers: [primary, secondary] {"}"}
              doomed: {"{"} providers: [broken] {"}"}
            """;
    }

    [SkippableFact]
    public async Task Every_metric_the_dashboard_and_alerts_reference_is_exported_after_a_scripted_workload()
    {
        var gateway = Gateway;
        var triaged = Samples.CompileError();
        var doomed = Samples.CompileError();
        doomed["route"] = "doomed";
        using (await gateway.Http.PostFailureAsync(triaged))
        using (await gateway.Http.PostFailureAsync(doomed))
        {
        }

        await gateway.Http.WaitForTriageAsync(triaged["eventId"]!.GetValue<string>());
        var exported = new HashSet<string>();
        for (var i = 0; i < 100 && !(exported.Contains("triage_dead_letters_total") && exported.Contains("triage_queue_depth")); i++)
        {
            await Task.Delay(100);
            exported = (await gateway.Http.GetStringAsync("/metrics")).Split('\n')
                .Where(l => l.StartsWith("triage_", StringComparison.Ordinal))
                .Select(l => l.Split('{', ' ')[0])
                .ToHashSet();
        }

        var referenced = Referenced().ToHashSet();

        Assert.True(referenced.Count >= 10, $"only {referenced.Count} metrics referenced: the parsing missed the expressions");
        Assert.All(referenced, name => Assert.True(exported.Contains(name), $"{name} is referenced but not exported; exported: {string.Join(", ", exported.Order())}"));
    }

    private static IEnumerable<string> Referenced()
    {
        var root = ShippedConfigurationTests.RepositoryRoot();
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "deploy/grafana/triage-dashboard.json")));
        var expressions = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!)
            .ToList()
            .Concat(File.ReadAllLines(Path.Combine(root, "deploy/prometheus/alerts.yml"))
                .Select(l => l.Trim())
                .Where(l => l.StartsWith("expr:", StringComparison.Ordinal)));
        return expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToList();
    }

    [GeneratedRegex(@"\btriage_[A-Za-z0-9_]+")]
    private static partial Regex MetricName();
}
