using Triage.Contracts;
using Triage.Platform.Configuration;

namespace Triage.Platform.Pricing;

/// <summary>
/// The one place the cost of a call is computed: tokens times the price per million, from triage.yaml when the
/// provider sets one, else from the list prices of the named models below (USD per million tokens).
/// </summary>
public static class PriceTable
{
    private static readonly (string Model, decimal Input, decimal Output)[] Defaults =
    [
        ("claude-opus-4", 15m, 75m),
        ("claude-sonnet-4", 3m, 15m),
        ("claude-haiku-4", 1m, 5m),
        ("claude-3-5-haiku", 0.8m, 4m),
        ("gpt-4.1-nano", 0.1m, 0.4m),
        ("gpt-4.1-mini", 0.4m, 1.6m),
        ("gpt-4.1", 2m, 8m),
        ("gpt-4o-mini", 0.15m, 0.6m),
        ("gpt-4o", 2.5m, 10m),
        ("o4-mini", 1.1m, 4.4m),
    ];

    /// <summary>
    /// Prices for the model that answered, else for the configured model (a proxy may rename what it serves);
    /// the longest listed prefix wins (claude-sonnet-4-5-20250929 is priced as claude-sonnet-4).
    /// </summary>
    public static (decimal Input, decimal Output) For(ProviderOptions options, string servedModel)
    {
        var listed = Listed(servedModel) ?? (options.Model is { } configured ? Listed(configured) : null) ?? (0m, 0m);
        return (options.InputUsdPerMillionTokens ?? listed.Input, options.OutputUsdPerMillionTokens ?? listed.Output);
    }

    /// <summary>What <paramref name="usage"/> cost, at the prices of the model that served it.</summary>
    public static decimal CostUsd(ProviderOptions options, string model, TokenUsage usage) =>
        Cost(For(options, model), usage.InputTokens, usage.OutputTokens);

    /// <summary>
    /// What that many tokens would cost at the prices of the provider's configured model: an estimate made before any
    /// model has answered, so no served model can refine it.
    /// </summary>
    public static decimal MaxCostUsd(ProviderOptions options, int inputTokens, int outputTokens) =>
        Cost(For(options, options.Model ?? ProviderType.DefaultModel(options.Type) ?? string.Empty), inputTokens, outputTokens);

    private static (decimal Input, decimal Output)? Listed(string model) =>
        Defaults.Where(d => model.StartsWith(d.Model, StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(d => d.Model.Length)
            .Select(d => ((decimal, decimal)?)(d.Input, d.Output))
            .FirstOrDefault();

    private static decimal Cost((decimal Input, decimal Output) prices, int inputTokens, int outputTokens) =>
        ((inputTokens * prices.Input) + (outputTokens * prices.Output)) / 1_000_000m;
}
