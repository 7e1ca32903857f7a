using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Triage.Soak;

/// <summary>One role of the gateway as an operator runs it: <c>triage run --roles ROLE</c>, its output in a log file.</summary>
internal sealed class RoleProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;

    private RoleProcess(string role, Process process, Uri address, StreamWriter log)
    {
        Role = role;
        this.process = process;
        Address = address;
        this.log = log;
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Role { get; }

    public Uri Address { get; }

    public static async Task<RoleProcess> StartAsync(string triage, string role, string configuration, string folder)
    {
        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        foreach (var argument in new[] { triage, "run", "--roles", role, "--config", configuration, "--urls", address.ToString() })
        {
            start.ArgumentList.Add(argument);
        }

        // The process reads only the configuration it is given.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("TRIAGE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        var log = new StreamWriter(Path.Combine(folder, role + ".log")) { AutoFlush = true };
        var started = new RoleProcess(role, Process.Start(start)!, address, log);
        await started.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        return started;
    }

    /// <summary>Resident memory of the process, in MiB, from /proc.</summary>
    public double RssMiB()
    {
        var line = File.ReadLines($"/proc/{process.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kib = line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return Math.Round(kib / 1024.0, 1);
    }

    public bool HasExited => process.HasExited;

    /// <summary>The sum of a counter over every label set on the role's <c>/metrics</c>; 0 when it has none yet.</summary>
    public async Task<double> CounterAsync(string name)
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"triage --roles {Role} exited with {process.ExitCode}; see {Role}.log");
            }

            try
            {
                using var ready = await http.GetAsync("/readyz");
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"triage --roles {Role} was not ready within {timeout.TotalSeconds:0} s; see {Role}.log");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Write(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        lock (log)
        {
            log.Dispose();
        }
    }
}
