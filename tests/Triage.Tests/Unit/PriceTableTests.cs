using Triage.Contracts;
using Triage.Platform.Configuration;
using Triage.Platform.Pricing;

namespace Triage.Tests.Unit;

/// <summary>What a call costs, after the fact from the model that served it, or before it from the configured model.</summary>
public sealed class PriceTableTests
{
    [Fact]
    public void The_cost_comes_from_the_list_price_of_the_named_model_unless_configured()
    {
        var listed = PriceTable.CostUsd(new() { Type = "anthropic" }, "claude-sonnet-4-5-20250929", new TokenUsage(1_000_000, 100_000));
        var configured = PriceTable.CostUsd(new() { Type = "openai", InputUsdPerMillionTokens = 1m, OutputUsdPerMillionTokens = 2m }, "gpt-4.1-mini", new TokenUsage(500_000, 500_000));
        var unknown = PriceTable.CostUsd(new() { Type = "openai-compatible" }, "llama-3.1-8b", new TokenUsage(1000, 1000));

        Assert.Equal(3m + 1.5m, listed);
        Assert.Equal(0.5m + 1m, configured);
        Assert.Equal(0m, unknown);
    }

    [Fact]
    public void The_estimate_before_a_call_uses_the_prices_configured_for_the_provider()
    {
        var options = new ProviderOptions { Type = "openai-compatible", Model = "llama-3.1-8b", InputUsdPerMillionTokens = 0.2m, OutputUsdPerMillionTokens = 0.6m };

        var estimate = PriceTable.MaxCostUsd(options, inputTokens: 4_000, outputTokens: 1_024);

        Assert.Equal(((4_000 * 0.2m) + (1_024 * 0.6m)) / 1_000_000m, estimate);
    }

    [Fact]
    public void The_estimate_before_a_call_uses_the_list_price_of_the_configured_model()
    {
        // claude-sonnet-4-5 is listed as claude-sonnet-4: $3 in, $15 out per million tokens.
        var options = new ProviderOptions { Type = "anthropic", Model = "claude-sonnet-4-5" };

        var estimate = PriceTable.MaxCostUsd(options, inputTokens: 2_000, outputTokens: 1_000);

        Assert.Equal(0.006m + 0.015m, estimate);
    }

    [Fact]
    public void A_configured_price_overrides_only_the_side_it_names()
    {
        var options = new ProviderOptions { Type = "openai", Model = "gpt-4.1-mini", OutputUsdPerMillionTokens = 2m };

        var estimate = PriceTable.MaxCostUsd(options, inputTokens: 1_000_000, outputTokens: 1_000_000);

        Assert.Equal(0.4m + 2m, estimate);
    }

    [Fact]
    public void Without_a_model_or_a_price_the_estimate_is_zero()
    {
        Assert.Equal(0m, PriceTable.MaxCostUsd(new() { Type = "openai-compatible" }, 10_000, 10_000));
    }

    [Fact]
    public void The_estimate_is_what_the_configured_model_would_be_charged_for_the_same_tokens()
    {
        var options = new ProviderOptions { Type = "openai", Model = "gpt-4o-mini" };

        Assert.Equal(
            PriceTable.CostUsd(options, "gpt-4o-mini", new TokenUsage(12_345, 678)),
            PriceTable.MaxCostUsd(options, 12_345, 678));
        Assert.NotEqual(0m, PriceTable.MaxCostUsd(options, 12_345, 678));
    }
}
