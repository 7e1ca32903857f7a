namespace Triage.Bench.Gateway;

/// <summary>
/// <c>memory</c>: what each process of the gateway uses while the throughput steps run (and the embedded process while
/// its own steps run): peak RSS (VmHWM, start-up included), steady RSS (median VmRSS over the second half of the step)
/// and CPU seconds (utime + stime from /proc/PID/stat) per 1,000 triages completed in the step. It measures nothing of
/// its own: selecting it makes the throughput steps run and record it.
/// </summary>
internal static class MemoryScenario
{
    public const string ScenarioName = "memory";

    public static void Record(ScenarioReport report, IReadOnlyList<Usage> processes, int triages, string step)
    {
        foreach (var process in processes)
        {
            var @case = $"{process.Process}, {step}";
            report.Add(@case, "peak RSS", "MiB", process.PeakMiB);
            report.Add(@case, "steady RSS", "MiB", process.SteadyMiB);
            if (triages > 0)
            {
                report.Add(@case, "CPU per 1,000 triages", "s", process.CpuSeconds * 1000 / triages);
            }
        }

        var gateway = processes.Where(p => !p.Process.StartsWith("bench", StringComparison.Ordinal)).ToList();
        if (gateway.Count > 1 && triages > 0)
        {
            report.Add($"all roles, {step}", "CPU per 1,000 triages", "s", gateway.Sum(p => p.CpuSeconds) * 1000 / triages);
        }

        report.Note("peak = VmHWM since the process started; steady = median VmRSS over the second half of the step; CPU = utime + stime over the step; "
            + "\"bench itself\" is the bench's own process (the load, the fake upstream, the subscriber), on the same two cores");
    }
}
