using System.Globalization;

namespace Triage.Bench.Gateway;

/// <summary>
/// What <c>gateway</c> runs and how much of it. <c>--quick</c> is the smoke-test size: one run of tiny counts and one
/// low rate for 5 s, the whole thing under a minute; the defaults are the full run (three runs, 250/500/1000/2000 per second
/// for 30 s each). Every size can also be set on its own.
/// </summary>
internal sealed record GatewayOptions
{
    public static readonly IReadOnlyList<string> AllScenarios =
        [FloorScenario.ScenarioName, MissDistributedScenario.ScenarioName, ThroughputScenario.ScenarioName, HitsScenario.ScenarioName,
         EmbeddedScenario.ScenarioName, MemoryScenario.ScenarioName, PeerScenario.ScenarioName];

    public bool Quick { get; init; }

    public string? Json { get; init; }

    public IReadOnlyList<string> Scenarios { get; init; } = AllScenarios;

    /// <summary>Added by the fake upstream before each answer.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Measured repetitions of every scenario, after one warm-up; the table shows their median and range.</summary>
    public int Runs { get; init; } = 3;

    /// <summary>Triages per run at concurrency 1 (floor, misses, hits, embedded).</summary>
    public int Count { get; init; } = 100;

    /// <summary>Triages sent before the first measured run of a scenario, not counted.</summary>
    public int WarmUp { get; init; } = 20;

    /// <summary>Offered loads of the open-loop steps, per second.</summary>
    public IReadOnlyList<int> Rates { get; init; } = [250, 500, 1000, 2000];

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long after the last send a result may still arrive before it counts as lost.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Calls per path at concurrency 1 in the peer comparison; at concurrency 32 each of the 32 callers makes a tenth of it.</summary>
    public int PeerCount { get; init; } = 200;

    /// <summary>Keep the configuration files and the processes' logs after the run (always kept when a scenario failed).</summary>
    public bool KeepLogs { get; init; }

    /// <summary>The LogChunks folder the failures' logs come from.</summary>
    public string? Data { get; init; }

    /// <summary>
    /// The <c>triage.dll</c> started as the gateway: the Release build of src/Host, the one an operator deploys, unless
    /// told otherwise (the smoke test runs the build the tests already made).
    /// </summary>
    public string Triage { get; init; } = Paths.ReleaseTriage;

    public static GatewayOptions Parse(string[] args)
    {
        var options = new GatewayOptions();
        if (args.Contains("--quick"))
        {
            options = options with
            {
                Quick = true,
                Runs = 1,
                Count = 10,
                WarmUp = 3,
                Rates = [20],
                Duration = TimeSpan.FromSeconds(5),
                Drain = TimeSpan.FromSeconds(10),
                PeerCount = 10,
            };
        }

        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Number() => int.Parse(Value(), CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--quick" => options,
                "--json" => options with { Json = Value() },
                "--scenarios" => options with { Scenarios = Scenario(Value()) },
                "--latency-ms" => options with { Latency = TimeSpan.FromMilliseconds(Number()) },
                "--runs" => options with { Runs = Math.Max(1, Number()) },
                "--count" => options with { Count = Math.Max(1, Number()) },
                "--warm-up" => options with { WarmUp = Math.Max(0, Number()) },
                "--rates" => options with { Rates = Value().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToList() },
                "--duration-s" => options with { Duration = TimeSpan.FromSeconds(Number()) },
                "--drain-s" => options with { Drain = TimeSpan.FromSeconds(Number()) },
                "--peer-count" => options with { PeerCount = Math.Max(1, Number()) },
                "--data" => options with { Data = Value() },
                "--triage" => options with { Triage = Path.GetFullPath(Value()) },
                "--keep-logs" => options with { KeepLogs = true },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        return options;
    }

    private static List<string> Scenario(string list)
    {
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var name in names.Where(n => !AllScenarios.Contains(n)))
        {
            throw new ArgumentException($"--scenarios: '{name}' is not a scenario; use {string.Join(", ", AllScenarios)}");
        }

        return names;
    }

    public bool Selected(string scenario) => Scenarios.Contains(scenario);

    public const string Usage = """
          gateway             the whole gateway against its floor, on 127.0.0.1: RabbitMQ and PostgreSQL running (a virtual
                              host and a database of its own, dropped after), the Release build of src/Host started as
                              processes, a fake OpenAI-compatible upstream; prints a table (median of runs, min-max) and JSON
                              [--quick] [--json FILE] [--scenarios floor,miss-distributed,throughput,hits,embedded,memory,peer]
                              [--latency-ms 0] [--runs 3] [--count 100] [--warm-up 20] [--rates 250,500,1000,2000]
                              [--duration-s 30] [--drain-s 30] [--peer-count 200] [--data ../shared/data/logchunks] [--keep-logs]
                              [--triage src/Host/bin/Release/net10.0/triage.dll]
        """;
}
