using Triage.Fakes;

namespace Triage.Bench.Gateway;

/// <summary>
/// The processes the bench starts (a <c>triage</c> role, the peer gateway), each writing its output to a log file in the
/// bench's directory: reading every log line through a pipe would spend the bench's CPU on the gateway's logs, and the
/// process still sees redirected output and logs as it does behind a log shipper.
/// </summary>
internal static class RoleProcesses
{
    /// <summary>Starts <c>dotnet TRIAGE ARGS --urls</c> on a free port of 127.0.0.1, the binary the one the bench measures.</summary>
    public static LocalProcess StartTriage(string triage, string name, string directory, params string[] arguments)
    {
        var address = new Uri($"http://127.0.0.1:{LocalProcess.FreePort()}");
        return Start(name, directory, address, "dotnet", [triage, .. arguments, "--urls", address.ToString()]);
    }

    public static LocalProcess Start(string name, string directory, Uri address, string program, IReadOnlyList<string> arguments) =>
        LocalProcess.Start(name, program, arguments, directory, logFile: Path.Combine(directory, $"{name}.log"), address: address);

    /// <summary>Where a process the bench started serves HTTP: every one of them is given an address.</summary>
    public static Uri Url(this LocalProcess process) =>
        process.Address ?? throw new InvalidOperationException($"{process.Name} was started without an address");

    /// <summary>Waits until the process answers 200 on <paramref name="path"/> (anything at all when null).</summary>
    public static Task WaitUntilReadyAsync(this LocalProcess process, string? path, TimeSpan timeout, CancellationToken cancellationToken) =>
        process.WaitUntilAnswersAsync(process.Url(), path, timeout, cancellationToken);
}
