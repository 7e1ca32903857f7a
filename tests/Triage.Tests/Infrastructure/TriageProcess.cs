namespace Triage.Tests.Infrastructure;

/// <summary>The <c>triage</c> binary of this build run as a separate process, as an operator runs it.</summary>
public sealed class TriageProcess : IAsyncDisposable
{
    private readonly LocalProcess process;

    private TriageProcess(LocalProcess process) => this.process = process;

    /// <summary>Everything the process printed so far.</summary>
    public string Output => process.Output;

    public static TriageProcess Start(params string[] arguments) =>
        new(LocalProcess.Start("triage", "dotnet", [Binary, .. arguments], Path.GetTempPath()));

    /// <summary>Runs the binary to its end and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(TimeSpan timeout, params string[] arguments) =>
        LocalProcess.RunAsync("dotnet", [Binary, .. arguments], Path.GetTempPath(), timeout);

    public static int FreePort() => LocalProcess.FreePort();

    /// <summary>Waits until GET /healthz answers 200; fails with the process's output if it exits or never does.</summary>
    public Task WaitUntilHealthyAsync(Uri address, TimeSpan timeout) => process.WaitUntilAnswersAsync(address, "/healthz", timeout);

    public ValueTask DisposeAsync() => process.DisposeAsync();

    /// <summary>The build of src/Host the tests reference, copied next to them.</summary>
    private static string Binary => Path.Combine(AppContext.BaseDirectory, "triage.dll");
}
