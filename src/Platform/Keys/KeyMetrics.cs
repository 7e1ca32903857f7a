using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Triage.Platform.Telemetry;

namespace Triage.Platform.Keys;

/// <summary>Requests refused for rate or budget, and what each team has left of its budget, by team.</summary>
public sealed class KeyMetrics : IDisposable
{
    private readonly Meter meter = new(TriageTelemetry.Name);
    private readonly Counter<long> rateLimited;
    private readonly Counter<long> budgetRejected;
    private volatile IReadOnlyDictionary<string, (double Remaining, double Limit)> budgets = new Dictionary<string, (double, double)>();

    public KeyMetrics()
    {
        rateLimited = meter.CreateCounter<long>("triage.rate_limited", "{request}", "Requests refused with 429 because a key was over its requests or tokens per minute.");
        budgetRejected = meter.CreateCounter<long>("triage.budget_rejected", "{request}", "Triages refused because their key's budget could not hold their estimated cost.");
        meter.CreateObservableGauge(
            "triage.budget.remaining",
            () => budgets.Select(b => new Measurement<double>(b.Value.Remaining, new KeyValuePair<string, object?>("team", b.Key))),
            "usd",
            "What a team's keys with budgets have left in their current period.");
        meter.CreateObservableGauge(
            "triage.budget.limit",
            () => budgets.Select(b => new Measurement<double>(b.Value.Limit, new KeyValuePair<string, object?>("team", b.Key))),
            "usd",
            "The budgets of a team's keys per period, added up.");
    }

    public void RateLimited(string team, string limit) => rateLimited.Add(1, new TagList { { "team", team }, { "limit", limit } });

    public void BudgetRejected(string team) => budgetRejected.Add(1, new TagList { { "team", team } });

    /// <summary>Replaces what the budget gauges report: USD left and USD per period, by team.</summary>
    public void Budgets(IReadOnlyDictionary<string, (double Remaining, double Limit)> byTeam) => budgets = byTeam;

    public void Dispose() => meter.Dispose();
}
