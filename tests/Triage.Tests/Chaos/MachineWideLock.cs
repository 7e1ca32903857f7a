namespace Triage.Tests.Chaos;

/// <summary>
/// Serialises the fault scenarios across test processes: the <c>RunsAlone</c> collection keeps them apart within one
/// <c>dotnet test</c>, but two runs on one machine (two engineers, or CI and a developer) share one RabbitMQ and one
/// PostgreSQL, and a broker stopped by one run would be counted as a loss by the other. The lock is an exclusive open of
/// a file in the temp folder, which the operating system releases when the process dies.
/// </summary>
public sealed class MachineWideLock : IDisposable
{
    private static readonly string LockFile = Path.Combine(Path.GetTempPath(), "triage-chaos.lock");
    private readonly FileStream held;

    private MachineWideLock(FileStream held) => this.held = held;

    public static async Task<MachineWideLock> AcquireAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new MachineWideLock(new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }

    public void Dispose() => held.Dispose();
}
