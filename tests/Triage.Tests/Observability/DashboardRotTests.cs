using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Triage.Platform.Keys;
using System.Text.RegularExpressions;
using Triage.Tests.Infrastructure;
using Triage.Tests.Unit;

namespace Triage.Tests.Observability;

/// <summary>
/// Every metric the Grafana dashboard and the Prometheus alerts use is exported by a running gateway after a
/// workload that triages, fails over, dead-letters, reuses a cached triage and refuses requests for rate and budget,
/// so neither can silently rot. It reads /metrics, so it runs
/// alone.
/// </summary>
[Collection(nameof(Integration.RunsAlone))]
public sealed partial class DashboardRotTests(Xunit.Abstractions.ITestOutputHelper output) : DistributedGatewayTest
{
    protected override bool RequireKeys => true;

    protected override bool SemanticCache => true;

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
              secondary: {"{"} type: openai-compatible, base_url: "{secondary.BaseUrl}", model: m, weight: 0, input_usd_per_mtok: 1, output_usd_per_mtok: 1 {"}"}
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
        var keys = gateway.Services.GetRequiredService<VirtualKeyStore>();
        var team = await keys.CreateAsync(new KeySpec("payments", RequestsPerMinute: 3, BudgetUsd: 10, BudgetPeriod: BudgetPeriod.Month), default);
        var broke = await keys.CreateAsync(new KeySpec("interns", BudgetUsd: 0.000001m, BudgetPeriod: BudgetPeriod.Day), default);
        var triaged = Samples.CompileError();
        var doomed = Samples.CompileError();
        doomed["route"] = "doomed";
        using (var first = await PostAsync(team.Secret, triaged))
        using (var second = await PostAsync(team.Secret, doomed))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        }

        // With keys required, a triage is read with a key of its team.
        gateway.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", team.Secret);
        await gateway.Http.WaitForTriageAsync(triaged["eventId"]!.GetValue<string>());
        var rerun = Samples.CompileError();
        using (var cached = await PostAsync(team.Secret, rerun))
        using (var limited = await PostAsync(team.Secret, Samples.CompileError()))
        using (var unpaid = await PostAsync(broke.Secret, Samples.CompileError()))
        {
            Assert.Equal(HttpStatusCode.Accepted, cached.StatusCode);
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.Equal(HttpStatusCode.PaymentRequired, unpaid.StatusCode);
        }

        Assert.NotNull((await gateway.Http.WaitForTriageAsync(rerun["eventId"]!.GetValue<string>())).Cache);
        var exported = new HashSet<string>();
        string[] late = ["triage_dead_letters_total", "triage_queue_depth", "triage_budget_remaining_usd", "triage_saved_cost_usd_total"];
        for (var i = 0; i < 150 && !late.All(exported.Contains); i++)
        {
            await Task.Delay(100);
            exported = (await gateway.Http.GetStringAsync("/metrics")).Split('\n')
                .Where(l => l.StartsWith("triage_", StringComparison.Ordinal))
                .Select(l => l.Split('{', ' ')[0])
                .ToHashSet();
        }

        output.WriteLine($"exported: {string.Join(", ", exported.Order(StringComparer.Ordinal))}");
        var referenced = Referenced().ToHashSet();

        Assert.True(referenced.Count >= 10, $"only {referenced.Count} metrics referenced: the parsing missed the expressions");
        Assert.All(referenced, name => Assert.True(exported.Contains(name), $"{name} is referenced but not exported; exported: {string.Join(", ", exported.Order())}"));
    }

    private Task<HttpResponseMessage> PostAsync(string secret, System.Text.Json.Nodes.JsonObject document)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/build-failures")
        {
            Content = new StringContent(document.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return Gateway.Http.SendAsync(request);
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
