using Triage.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Triage.Tests.Chaos;

/// <summary>
/// Roles of one gateway run as <c>triage run --roles ROLE</c> processes, each on a port of its own: started, killed
/// with SIGKILL (the whole process tree, no shutdown hooks) and started again, as a crash and a supervisor would.
/// </summary>
public sealed class RoleProcesses : IAsyncDisposable
{
    private readonly Dictionary<string, (TriageProcess Process, Uri Address)> running = new(StringComparer.Ordinal);
    private readonly string directory = Directory.CreateTempSubdirectory("triage-chaos-").FullName;
    private readonly string configuration;
    private readonly ITestOutputHelper output;

    public RoleProcesses(string yaml, ITestOutputHelper output)
    {
        configuration = Path.Combine(directory, "triage.yaml");
        File.WriteAllText(configuration, yaml);
        this.output = output;
    }

    public Uri AddressOf(string role) => running[role].Address;

    /// <summary>Starts <c>triage run --roles <paramref name="role"/></c> and waits until it is ready (bus connected, store reached).</summary>
    public async Task StartAsync(string role)
    {
        var address = new Uri($"http://127.0.0.1:{TriageProcess.FreePort()}");
        var process = TriageProcess.Start("run", "--roles", role, "--config", configuration, "--urls", address.ToString());
        running[role] = (process, address);
        await process.WaitUntilHealthyAsync(address, TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var ready = await http.GetAsync("/readyz");
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"triage --roles {role} was not ready within 60 s: {await ready.Content.ReadAsStringAsync()}\n{process.Output}");
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: the process gets no chance to finish, acknowledge or publish anything.</summary>
    public async Task KillAsync(string role)
    {
        var (process, _) = running[role];
        running.Remove(role);
        var printed = process.Output;
        await process.DisposeAsync();
        output.WriteLine($"--- last lines of the killed {role} ---");
        foreach (var line in printed.Split('\n').TakeLast(5))
        {
            output.WriteLine(line.Length > 400 ? line[..400] : line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (process, _) in running.Values)
        {
            await process.DisposeAsync();
        }

        running.Clear();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
