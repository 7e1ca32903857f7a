namespace Triage.Bench.Gateway;

/// <summary>
/// <c>gateway</c>: the whole gateway against its floor and a peer, on 127.0.0.1. Every scenario is warmed up once, then
/// the runs go round all scenarios in turn (run 1 of each, then run 2 of each...), so that a noisy minute of the machine
/// falls on one run of every scenario rather than on every run of one; the table shows the median run and the range.
/// </summary>
internal static class GatewayBench
{
    private static readonly System.Diagnostics.Stopwatch Clock = System.Diagnostics.Stopwatch.StartNew();

    public static async Task<int> RunAsync(string[] args)
    {
        GatewayOptions options;
        try
        {
            options = GatewayOptions.Parse(args);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"{e.Message}\n\nusage: dotnet run -c Release --project bench/Triage.Bench -- gateway [options]\n{GatewayOptions.Usage}");
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        var report = new BenchReport(options);
        report.Notes.Add($"load average at the start: {LoadAverage()}");
        if (!File.Exists(options.Triage))
        {
            Console.Error.WriteLine($"build the gateway first: dotnet build -c Release src/Host ({options.Triage})");
            return 2;
        }

        if (options.Triage != Paths.ReleaseTriage)
        {
            report.Notes.Add($"gateway binary {options.Triage}, not the Release build: the figures show that the bench works, not what the gateway costs");
        }

        if (Paths.StaleBuildWarning(options.Triage) is { } stale)
        {
            report.Notes.Add(stale);
            Console.Error.WriteLine($"warning: {stale}");
        }

        var failed = false;
        await using (var lab = await GatewayLab.StartAsync(options, report))
        {
            try
            {
                var scenarios = await WarmUpAsync(lab, report, cancel.Token);
                for (var run = 1; run <= options.Runs; run++)
                {
                    foreach (var scenario in scenarios)
                    {
                        Progress($"{scenario.Name}: run {run} of {options.Runs}");
                        try
                        {
                            await scenario.RunAsync(report.For(scenario.Name), cancel.Token);
                        }
                        catch (Exception e) when (!cancel.IsCancellationRequested)
                        {
                            report.For(scenario.Name).Errors.Add($"run {run}: {e.Message}");
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                report.Notes.Add("interrupted: the figures are those of the runs that finished");
            }

            report.Notes.Add($"load average at the end: {LoadAverage()}");
            failed = report.Failed(options.Scenarios);
            lab.KeepDirectory = failed || options.KeepLogs;
            report.Print(Console.Out);
            if (options.Json is { } file)
            {
                await report.WriteJsonAsync(file);
                Console.WriteLine($"JSON: {Path.GetFullPath(file)}");
            }
        }

        return failed ? 1 : 0;
    }

    /// <summary>The selected scenarios, in the table's order, each warmed up; one that cannot start is reported and left out.</summary>
    private static async Task<List<GatewayScenario>> WarmUpAsync(GatewayLab lab, BenchReport report, CancellationToken cancellationToken)
    {
        var selected = lab.Options.Scenarios.ToHashSet();

        // memory measures the processes while the throughput steps run.
        if (selected.Contains(MemoryScenario.ScenarioName))
        {
            selected.Add(ThroughputScenario.ScenarioName);
        }

        var all = new GatewayScenario[]
        {
            new FloorScenario(lab), new MissDistributedScenario(lab), new ThroughputScenario(lab), new HitsScenario(lab),
            new EmbeddedScenario(lab), new PeerScenario(lab),
        };

        // The gateways start side by side, before the first warm-up: process start-up is most of a quick run.
        var chosen = all.Where(s => selected.Contains(s.Name)).ToList();
        if (chosen.Any(s => s is not FloorScenario and not EmbeddedScenario))
        {
            _ = lab.DistributedAsync(cancellationToken);
        }

        if (chosen.Any(s => s is EmbeddedScenario or PeerScenario))
        {
            _ = lab.EmbeddedAsync(cancellationToken);
        }

        var ready = new List<GatewayScenario>();
        foreach (var scenario in chosen)
        {
            Progress($"{scenario.Name}: warming up");
            try
            {
                await scenario.WarmUpAsync(cancellationToken);
                ready.Add(scenario);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                report.For(scenario.Name).Errors.Add($"warm-up: {e.Message}");
            }
        }

        return ready;
    }

    /// <summary>A line on stderr with the time since the bench started: where a slow run spent it.</summary>
    public static void Progress(string what) => Console.Error.WriteLine($"[{Clock.Elapsed.TotalSeconds,5:0.0} s] {what}");

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
