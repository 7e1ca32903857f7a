using System.Net;
using Triage.Contracts;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>
/// Every provider type triages the same sample through its own queue on the real RabbitMQ and PostgreSQL,
/// and secrets in a log never reach any of them.
/// </summary>
public sealed class ProviderTypesPipelineTests : DistributedGatewayTest
{
    /// <summary>Fabricated, real-looking secrets of the kinds build logs leak.</summary>
    public const string LeakyLog = """
        + git clone https://ci-bot:Sup3rS3cretPassw0rd@git.example.com/acme/payments.git
        export AWS_ACCESS_KEY_ID=AKIAQX7WZ3K5N2JDUE4M
        export GITHUB_TOKEN=ghp_Zq8vJ2mN4xR7tL1pW9sK3dF6hB0cY5eA2uGi
        DB_PASSWORD=hunter2-but-longer
        -----BEGIN RSA PRIVATE KEY-----
        MIIEowIBAAKCAQEAy8Dbv8prpJ/0kKhlGeJYozo2t60EG8L0561g13R29LvMR5hy
        -----END RSA PRIVATE KEY-----
        [ERROR] /var/lib/jenkins/workspace/payments/service/src/main/java/com/acme/payments/RefundService.java:[87,25] cannot find symbol
        [INFO] BUILD FAILURE
        """;

    private static readonly string[] Secrets =
    [
        "Sup3rS3cretPassw0rd", "AKIAQX7WZ3K5N2JDUE4M", "ghp_Zq8vJ2mN4xR7tL1pW9sK3dF6hB0cY5eA2uGi", "hunter2-but-longer", "MIIEowIBAAKCAQEAy8Dbv8prpJ",
    ];

    private FakeProviderServer anthropic = null!;
    private FakeProviderServer openai = null!;
    private FakeProviderServer compatible = null!;

    protected override async Task<string> ConfigurationAsync()
    {
        anthropic = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.Anthropic));
        openai = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.OpenAi));
        compatible = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.OpenAi));
        compatible.Reply = _ => FakeReply.Answer("Sure! " + FakeProviderServer.DefaultAnswer);
        return $"""
            providers:
              claude: {"{"} type: anthropic, base_url: "{anthropic.BaseUrl}", api_key: sk-ant-test, model: claude-sonnet-4-5 {"}"}
              gpt: {"{"} type: openai, base_url: "{openai.BaseUrl}", api_key: sk-test, model: gpt-4.1-mini {"}"}
              vllm: {"{"} type: openai-compatible, base_url: "{compatible.BaseUrl}", model: llama-3.1-8b {"}"}
              rules: {"{"} type: builtin {"}"}
            routing:
              via_claude: {"{"} providers: [claude] {"}"}
              via_gpt: {"{"} providers: [gpt] {"}"}
              via_vllm: {"{"} providers: [vllm] {"}"}
              via_rules: {"{"} providers: [rules] {"}"}
            ownership:
              acme/payments-service:
                codeowners: "/src/main/java/com/acme/payments/ @acme/payments"
            """;
    }

    [SkippableTheory]
    [InlineData("via_claude", "claude")]
    [InlineData("via_gpt", "gpt")]
    [InlineData("via_vllm", "vllm")]
    [InlineData("via_rules", "rules")]
    public async Task Each_provider_type_triages_the_sample_through_its_queue_and_sees_no_secret(string route, string provider)
    {
        var document = Samples.CompileError();
        document["route"] = route;
        document["log"] = LeakyLog;
        document["failedTests"] = new System.Text.Json.Nodes.JsonArray(
            new System.Text.Json.Nodes.JsonObject { ["name"] = "RefundTest.settles", ["message"] = "connect to postgres://app:Sup3rS3cretPassw0rd@db/app failed" });
        var id = document["eventId"]!.GetValue<string>();

        using var response = await Gateway.Http.PostFailureAsync(document);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var triage = await Gateway.Http.WaitForTriageAsync(id);

        Assert.Equal(provider, triage.Provider);
        Assert.Equal(TriageCategory.CompileError, triage.Category);
        Assert.Equal(["@acme/payments"], triage.SuggestedOwners);
        Assert.True(triage.RedactedSecrets >= Secrets.Length, $"{triage.RedactedSecrets} secrets redacted");
        Assert.Equal(1, await Database.CountAsync($"SELECT count(*) FROM triages WHERE event_id = '{id}' AND provider = '{provider}'"));
        foreach (var request in new[] { anthropic, openai, compatible }.SelectMany(s => s.Requests))
        {
            foreach (var secret in Secrets)
            {
                Assert.DoesNotContain(secret, request.AllText);
            }
        }

        if (provider != "rules")
        {
            Assert.True(triage.Usage.InputTokens > 0);
        }

        if (provider == "claude")
        {
            Assert.Equal((812 * 3m + 64 * 15m) / 1_000_000m, triage.CostUsd);
        }
    }
}
