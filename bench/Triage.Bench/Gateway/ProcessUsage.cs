using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Triage.Fakes;

namespace Triage.Bench.Gateway;

/// <summary>What one process used over a window: its peak resident set so far, its typical one in the window, and CPU.</summary>
internal sealed record Usage(string Process, double PeakMiB, double SteadyMiB, double CpuSeconds);

/// <summary>
/// Samples processes' memory and CPU from /proc while a load runs. Peak is VmHWM (the kernel's high-water mark since the
/// process started, start-up included); steady is the median VmRSS of the second half of the window, once the load has
/// settled; CPU is utime + stime over the window.
/// </summary>
internal sealed class ProcessUsage : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private static readonly long TicksPerSecond = ClockTicks();

    private readonly IReadOnlyList<(string Name, int Id)> processes;
    private readonly Dictionary<int, double> cpuAtStart;
    private readonly List<(long At, int Pid, long RssKb)> samples = [];
    private readonly CancellationTokenSource stop = new();
    private readonly Task sampling;
    private readonly long started = Stopwatch.GetTimestamp();

    private ProcessUsage(IReadOnlyList<(string Name, int Id)> processes)
    {
        this.processes = processes;
        cpuAtStart = processes.ToDictionary(p => p.Id, p => CpuSeconds(p.Id));
        sampling = SampleAsync(stop.Token);
    }

    /// <summary>
    /// The gateway's processes, and the bench's own (load, fake upstream, subscriber), which shares the two cores with
    /// them: what it takes is what the gateway could not have.
    /// </summary>
    public static ProcessUsage Watch(IReadOnlyList<LocalProcess> processes) =>
        new([.. processes.Select(p => (p.Name, p.Id)), ("bench itself", Environment.ProcessId)]);

    public async Task<IReadOnlyList<Usage>> StopAsync()
    {
        await stop.CancelAsync();
        await sampling;
        var middle = started + ((Stopwatch.GetTimestamp() - started) / 2);
        return processes.Select(p =>
        {
            var late = samples.Where(s => s.Pid == p.Id && s.At >= middle).Select(s => (double)s.RssKb).ToList();
            var steady = late.Count > 0 ? Stats.Of(late).Median : ReadStatusKb(p.Id, "VmRSS:");
            return new Usage(p.Name, ReadStatusKb(p.Id, "VmHWM:") / 1024.0, steady / 1024.0, CpuSeconds(p.Id) - cpuAtStart[p.Id]);
        }).ToList();
    }

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var process in processes)
                {
                    samples.Add((Stopwatch.GetTimestamp(), process.Id, ReadStatusKb(process.Id, "VmRSS:")));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>A line of /proc/PID/status in kB; 0 once the process is gone.</summary>
    public static long ReadStatusKb(int pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>utime + stime of /proc/PID/stat, in seconds.</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            // The command name in parentheses may hold spaces: the fields are counted from the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return ticks / (double)TicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static long ClockTicks()
    {
        const int ScClkTck = 2;
        try
        {
            var ticks = SysConf(ScClkTck);
            return ticks > 0 ? ticks : 100;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 100;
        }
    }

    [DllImport("libc", EntryPoint = "sysconf")]
    private static extern long SysConf(int name);

    public async ValueTask DisposeAsync()
    {
        if (!stop.IsCancellationRequested)
        {
            await stop.CancelAsync();
            await sampling;
        }

        stop.Dispose();
    }
}
