using System.Net;
using System.Net.Http.Headers;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Triage.Contracts;
using Triage.Platform.Keys;
using Triage.Platform.Store;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Integration;

/// <summary>
/// Budgets settled by the real pipeline on RabbitMQ and PostgreSQL: the billed failed attempt of a failover is charged,
/// and a failure published straight to the broker is checked by its key id as Ingest would check it.
/// </summary>
public sealed class KeySettlementTests : DistributedGatewayTest
{
    private const decimal InputPrice = 3m;
    private const decimal OutputPrice = 15m;
    private FakeProviderServer primary = null!;
    private FakeProviderServer secondary = null!;

    protected override bool RequireKeys => true;

    private VirtualKeyStore Keys => Gateway.Services.GetRequiredService<VirtualKeyStore>();

    protected override async Task<string> ConfigurationAsync()
    {
        primary = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.OpenAi));
        secondary = await OwnAsync(FakeProviderServer.StartAsync(WireFormat.OpenAi));
        return $"""
            providers:
              primary: {"{"} type: openai-compatible, base_url: "{primary.BaseUrl}", model: m1, weight: 100, input_usd_per_mtok: {InputPrice}, output_usd_per_mtok: {OutputPrice} {"}"}
              secondary: {"{"} type: openai-compatible, base_url: "{secondary.BaseUrl}", model: m2, weight: 0, input_usd_per_mtok: {InputPrice}, output_usd_per_mtok: {OutputPrice} {"}"}
            routing:
              build_triage: {"{"} providers: [primary, secondary], failover: true, timeout_ms: 8000 {"}"}
            """;
    }

    [SkippableFact]
    public async Task After_a_failover_the_key_pays_for_the_attempt_the_provider_billed_and_the_one_that_answered()
    {
        // The primary answers twice with text that is no triage: two billed answers, then the attempt fails over.
        primary.Reply = _ => FakeReply.Answer("I think the build failed.", inputTokens: 1000, outputTokens: 100);
        secondary.Reply = _ => FakeReply.Answer(FakeProviderServer.DefaultAnswer, inputTokens: 800, outputTokens: 60);
        var issued = await Keys.CreateAsync(new KeySpec("payments", BudgetUsd: 1m, BudgetPeriod: BudgetPeriod.Month), default);
        var document = Samples.CompileError();

        using (var response = await PostAsync(issued.Secret, document))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        // With keys required, a triage is read with a key of its team.
        Gateway.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", issued.Secret);
        var triage = await Gateway.Http.WaitForTriageAsync(document["eventId"]!.GetValue<string>());
        Assert.Equal("secondary", triage.Provider);
        var billed = ((2 * 1000 * InputPrice) + (2 * 100 * OutputPrice)) / 1_000_000m;
        var answered = ((800 * InputPrice) + (60 * OutputPrice)) / 1_000_000m;
        Assert.Equal(billed, triage.AttemptHistory[0].CostUsd);

        var spent = await WaitForAsync(() => Database.CountAsync($"SELECT spent_micros FROM budget_usage WHERE key_id = '{issued.Key.Id}'"), Micros.FromUsd(billed + answered));
        Assert.Equal(Micros.FromUsd(billed + answered), spent);
        Assert.Equal(0, await Database.CountAsync($"SELECT reserved_micros FROM budget_usage WHERE key_id = '{issued.Key.Id}'"));
        var usage = await Gateway.Services.GetRequiredService<UsageReport>().ReadAsync("payments", DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), default);
        var failed = Assert.Single(usage.Lines, l => l.Provider == "primary");
        Assert.Equal((0L, 1L, 2000L, 200L, billed), (failed.Triages, failed.FailedAttempts, failed.InputTokens, failed.OutputTokens, failed.CostUsd));
        var success = Assert.Single(usage.Lines, l => l.Provider == "secondary");
        Assert.Equal((1L, 0L, answered), (success.Triages, success.FailedAttempts, success.CostUsd));
    }

    [SkippableFact]
    public async Task A_failure_published_straight_to_the_broker_is_checked_by_its_key_id()
    {
        var budgeted = await Keys.CreateAsync(new KeySpec("payments", BudgetUsd: 1m, BudgetPeriod: BudgetPeriod.Month), default);
        var revoked = await Keys.CreateAsync(new KeySpec("payments"), default);
        await Keys.RevokeAsync(revoked.Key.Id, "leaked", default);
        var bus = Gateway.Services.GetRequiredService<IBus>();
        var admitted = Samples.Failure("error: cannot find symbol PaymentGateway", "raw-admitted") with { KeyId = budgeted.Key.Id };
        var unknown = Samples.Failure("error: cannot find symbol PaymentGateway", "raw-unknown") with { KeyId = "key_0000000000000000" };
        var unusable = Samples.Failure("error: cannot find symbol PaymentGateway", "raw-revoked") with { KeyId = revoked.Key.Id };
        var anonymous = Samples.Failure("error: cannot find symbol PaymentGateway", "raw-anonymous");

        foreach (var failure in new[] { admitted, unknown, unusable, anonymous })
        {
            await bus.Publish(failure);
        }

        Gateway.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", budgeted.Secret);
        Assert.Equal("primary", (await Gateway.Http.WaitForTriageAsync("raw-admitted")).Provider);
        foreach (var parked in new[] { "raw-unknown", "raw-revoked", "raw-anonymous" })
        {
            Assert.Equal(TriageStatus.DeadLettered, await WaitForAsync(async () => (await Gateway.Store.FindAsync(parked, default))?.Status, TriageStatus.DeadLettered));
        }

        Assert.Single(primary.Requests);
        Assert.Equal(1, await Database.CountAsync($"SELECT count(*) FROM charges WHERE event_id = 'raw-admitted' AND key_id = '{budgeted.Key.Id}'"));
        Assert.Equal(0, await Database.CountAsync("SELECT count(*) FROM charges WHERE event_id <> 'raw-admitted'"));
    }

    private async Task<HttpResponseMessage> PostAsync(string secret, System.Text.Json.Nodes.JsonObject document)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/build-failures")
        {
            Content = new StringContent(document.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return await Gateway.Http.SendAsync(request);
    }

    /// <summary>Reads until the value is <paramref name="expected"/> or 15 s pass; returns the last value read.</summary>
    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, T expected)
    {
        var value = await read();
        for (var i = 0; i < 300 && !EqualityComparer<T>.Default.Equals(value, expected); i++)
        {
            await Task.Delay(50);
            value = await read();
        }

        return value;
    }
}
