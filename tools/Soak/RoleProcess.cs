using System.Globalization;
using Triage.Fakes;

namespace Triage.Soak;

/// <summary>One role of the gateway as an operator runs it: <c>triage run --roles ROLE</c>, its output in a log file.</summary>
internal sealed class RoleProcess : IAsyncDisposable
{
    private readonly LocalProcess process;

    private RoleProcess(string role, LocalProcess process, Uri address)
    {
        Role = role;
        this.process = process;
        Address = address;
    }

    public string Role { get; }

    public Uri Address { get; }

    public bool HasExited => process.HasExited;

    public static async Task<RoleProcess> StartAsync(string triage, string role, string configuration, string folder)
    {
        var address = new Uri($"http://127.0.0.1:{LocalProcess.FreePort()}");
        var process = LocalProcess.Start(
            $"triage --roles {role}",
            "dotnet",
            [triage, "run", "--roles", role, "--config", configuration, "--urls", address.ToString()],
            folder,
            logFile: Path.Combine(folder, role + ".log"));
        var started = new RoleProcess(role, process, address);
        try
        {
            await process.WaitUntilAnswersAsync(address, "/readyz", TimeSpan.FromSeconds(90));
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }

        return started;
    }

    /// <summary>Resident memory of the process, in MiB, from /proc.</summary>
    public double RssMiB()
    {
        var line = File.ReadLines($"/proc/{process.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kib = line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return Math.Round(kib / 1024.0, 1);
    }

    /// <summary>The sum of a counter over every label set on the role's <c>/metrics</c>; 0 when it has none yet.</summary>
    public async Task<double> CounterAsync(string name)
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    public ValueTask DisposeAsync() => process.DisposeAsync();
}
