using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Triage.Bench.Gateway;

/// <summary>One figure of a scenario, with its value in every run.</summary>
internal sealed class Figure(string @case, string metric, string unit)
{
    public string Case { get; } = @case;

    public string Metric { get; } = metric;

    public string Unit { get; } = unit;

    public List<double> Runs { get; } = [];

    public double Median => Stats.Of([.. Runs]).Median;

    public double Min => Runs.Min();

    public double Max => Runs.Max();
}

/// <summary>Everything one scenario measured, noted or failed at.</summary>
internal sealed class ScenarioReport(string name)
{
    public string Name { get; } = name;

    public List<Figure> Figures { get; } = [];

    public List<string> Notes { get; } = [];

    public List<string> Errors { get; } = [];

    /// <summary>The figure the scenario is summed up by: end-to-end p50 at concurrency 1.</summary>
    public Figure? Headline { get; set; }

    public Figure Add(string @case, string metric, string unit, double value)
    {
        var figure = Figures.FirstOrDefault(f => f.Case == @case && f.Metric == metric);
        if (figure is null)
        {
            figure = new Figure(@case, metric, unit);
            Figures.Add(figure);
        }

        figure.Runs.Add(value);
        return figure;
    }

    public void Note(string note)
    {
        if (!Notes.Contains(note))
        {
            Notes.Add(note);
        }
    }
}

/// <summary>The bench's result: a table for people (median of the runs, with min–max) and JSON for tools.</summary>
internal sealed class BenchReport(GatewayOptions options)
{
    private readonly Dictionary<string, ScenarioReport> scenarios = [];

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    public string Commit { get; } = Paths.Commit();

    public List<string> Notes { get; } = [];

    public ScenarioReport For(string scenario)
    {
        if (!scenarios.TryGetValue(scenario, out var report))
        {
            scenarios[scenario] = report = new ScenarioReport(scenario);
        }

        return report;
    }

    /// <summary>A selected scenario measured nothing at all (errors alone, or not even a section).</summary>
    public bool Failed(IEnumerable<string> selected) =>
        selected.Any(name => !scenarios.TryGetValue(name, out var s) || s.Figures.Count == 0);

    public void Print(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"gateway bench, {Started:yyyy-MM-dd HH:mm}Z, commit {Commit}, {Environment.ProcessorCount} cores, upstream latency "
            + $"{options.Latency.TotalMilliseconds:0} ms, {options.Runs} run{(options.Runs == 1 ? string.Empty : "s")} after a warm-up"
            + (options.Runs > 1 ? " (median of runs, min–max)" : string.Empty));
        output.WriteLine($"{"scenario",-17} {"case",-44} {"metric",-22} {"median",10} {"min–max",21}");
        foreach (var scenario in Ordered())
        {
            foreach (var figure in scenario.Figures)
            {
                var range = figure.Runs.Count > 1 ? $"{Format(figure.Min, figure.Unit)}–{Format(figure.Max, figure.Unit)}" : string.Empty;
                var metric = figure.Unit.Length > 0 ? $"{figure.Metric} {figure.Unit}" : figure.Metric;
                output.WriteLine($"{scenario.Name,-17} {figure.Case,-44} {metric,-22} {Format(figure.Median, figure.Unit),10} {range,21}");
            }

            foreach (var error in scenario.Errors)
            {
                output.WriteLine($"{scenario.Name,-17} FAILED: {error}");
            }
        }

        foreach (var note in Ordered().SelectMany(s => s.Notes.Select(n => $"{s.Name}: {n}")).Concat(Notes))
        {
            output.WriteLine($"  * {note}");
        }
    }

    public async Task WriteJsonAsync(string file)
    {
        var document = new
        {
            date = Started,
            commit = Commit,
            machine = new { cores = Environment.ProcessorCount, os = Environment.OSVersion.VersionString, runtime = Environment.Version.ToString() },
            options = new
            {
                quick = options.Quick,
                runs = options.Runs,
                count = options.Count,
                warmUp = options.WarmUp,
                rates = options.Rates,
                durationSeconds = options.Duration.TotalSeconds,
                latencyMs = options.Latency.TotalMilliseconds,
                scenarios = options.Scenarios,
            },
            notes = Notes,
            scenarios = Ordered().ToDictionary(s => s.Name, s => new
            {
                p50Ms = s.Headline is { Runs.Count: > 0 } headline ? headline.Median : (double?)null,
                figures = s.Figures.Select(f => new { @case = f.Case, metric = f.Metric, unit = f.Unit, median = f.Median, min = f.Min, max = f.Max, runs = f.Runs }),
                notes = s.Notes,
                errors = s.Errors,
            }),
        };
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(document, Json));
    }

    private IEnumerable<ScenarioReport> Ordered() =>
        GatewayOptions.AllScenarios.Where(scenarios.ContainsKey).Select(n => scenarios[n]);

    private static string Format(double value, string unit) => unit switch
    {
        "ms" => value.ToString(value < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture),
        "/s" or "count" => value.ToString("0", CultureInfo.InvariantCulture),
        "MiB" => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.00", CultureInfo.InvariantCulture),
    };

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
