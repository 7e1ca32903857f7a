using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Triage.Fakes;

/// <summary>
/// A program started on this machine for the tests, the bench or the soak (the <c>triage</c> binary, a peer gateway),
/// as an operator would run it: its own process, only the configuration it is given. Its output is kept in memory,
/// or written straight to a log file by the process itself when it may print a lot under load: reading every line
/// through a pipe would spend the caller's CPU on the gateway's logs.
/// </summary>
public sealed class LocalProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder? captured;

    private LocalProcess(string name, Process process, string? logFile, Uri? address)
    {
        Name = name;
        this.process = process;
        LogFile = logFile;
        Address = address;
        if (logFile is null)
        {
            captured = new StringBuilder();
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }
    }

    public string Name { get; }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>Where the process serves HTTP, when the caller gave it an address.</summary>
    public Uri? Address { get; }

    /// <summary>The file the process writes its output to; null when the output is kept in memory.</summary>
    public string? LogFile { get; }

    /// <summary>Everything the process printed so far.</summary>
    public string Output
    {
        get
        {
            if (captured is not null)
            {
                lock (captured)
                {
                    return captured.ToString();
                }
            }

            try
            {
                using var stream = new FileStream(LogFile!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(stream);
                return reader.ReadToEnd();
            }
            catch (IOException e)
            {
                return $"(no log: {e.Message})";
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="program"/>. With <paramref name="logFile"/> the process writes its output there itself
    /// (through <c>sh -c exec</c>, so that its id is the program's own, not a shell's); without, it is read into memory.
    /// Variables named TRIAGE_* are not passed on: the process reads only the configuration it is given.
    /// </summary>
    public static LocalProcess Start(
        string name, string program, IEnumerable<string> arguments, string workingDirectory, string? logFile = null, Uri? address = null)
    {
        var start = new ProcessStartInfo(logFile is null ? program : "/bin/sh") { UseShellExecute = false, WorkingDirectory = workingDirectory };
        if (logFile is null)
        {
            start.RedirectStandardOutput = true;
            start.RedirectStandardError = true;
        }
        else
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("exec \"$0\" \"$@\" >\"$TRIAGE_PROCESS_LOG\" 2>&1 </dev/null");
            start.ArgumentList.Add(program);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var variable in start.Environment.Keys.Where(k => k.StartsWith("TRIAGE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(variable);
        }

        if (logFile is not null)
        {
            start.Environment["TRIAGE_PROCESS_LOG"] = logFile;
        }

        return new LocalProcess(name, Process.Start(start)!, logFile, address);
    }

    /// <summary>Runs a program to its end; its exit code and output. Killed, and a <see cref="TimeoutException"/> with its output, after <paramref name="timeout"/>.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        await using var run = Start(Path.GetFileName(program), program, arguments, workingDirectory);
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await run.process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:0} s:\n{run.Output}");
        }

        // The parameterless wait also waits for the output to be read to its end.
        run.process.WaitForExit();
        return (run.ExitCode, run.Output);
    }

    /// <summary>A port of 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Waits until GET <paramref name="path"/> on <paramref name="address"/> answers 200 (with a null path, anything at
    /// all); fails with the end of the output if the process exits first or it never does.
    /// </summary>
    public async Task WaitUntilAnswersAsync(Uri address, string? path, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {process.ExitCode}:\n{OutputTail()}");
            }

            try
            {
                using var response = await http.GetAsync(path ?? "/", cancellationToken);
                if (path is null || response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException($"{Name} did not answer {path ?? "/"} within {timeout.TotalSeconds:0} s:\n{OutputTail()}");
    }

    /// <summary>The last lines of the output, for an error message.</summary>
    public string OutputTail(int lines = 20) => string.Join('\n', Output.Split('\n').TakeLast(lines));

    public Task WaitForExitAsync(CancellationToken cancellationToken) => process.WaitForExitAsync(cancellationToken);

    /// <summary>Kills the whole process tree (SIGKILL: no shutdown hooks), as a crash would.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (captured!)
        {
            captured.AppendLine(line);
        }
    }
}
