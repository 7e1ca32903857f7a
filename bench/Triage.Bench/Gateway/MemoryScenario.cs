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

    /// <summary>Adds each process's figures under <paramref name="step"/>, CPU per 1,000 of what was completed (<paramref name="per"/>).</summary>
    public static void Record(ScenarioReport report, IReadOnlyList<Usage> processes, int completed, string step, string per = "triages")
    {
        foreach (var process in processes)
        {
            var @case = $"{process.Process}, {step}";
            report.Add(@case, "peak RSS", "MiB", process.PeakMiB);
            report.Add(@case, "steady RSS", "MiB", process.SteadyMiB);
            if (completed > 0)
            {
                report.Add(@case, $"CPU per 1,000 {per}", "s", process.CpuSeconds * 1000 / completed);
            }
        }

        var gateway = processes.Where(p => !p.Process.StartsWith("bench", StringComparison.Ordinal)).ToList();
        if (gateway.Count > 1 && completed > 0)
        {
            report.Add($"all roles, {step}", $"CPU per 1,000 {per}", "s", gateway.Sum(p => p.CpuSeconds) * 1000 / completed);
        }

        report.Note("peak = VmHWM since the process started; steady = median VmRSS over the second half of the step; CPU = utime + stime over the step; "
            + "\"bench itself\" is the bench's own process (the load, the fake upstream, the subscriber), on the same two cores");
    }
}
