using System.Diagnostics;
using Npgsql;
using RabbitMQ.Client;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Chaos;

/// <summary>
/// Stops and starts the machine's shared RabbitMQ and PostgreSQL, as an operator or a crash would. Only tests of the
/// <c>RunsAlone</c> collection may call these: every other test uses the same services.
/// </summary>
public static class SharedServices
{
    public static Task StopRabbitMqAsync() => RunAsync("rabbitmqctl", "stop_app");

    /// <summary>Starts the RabbitMQ application again and waits until it takes AMQP connections.</summary>
    public static async Task StartRabbitMqAsync()
    {
        await RunAsync("rabbitmqctl", "start_app");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await using var connection = await new ConnectionFactory { Uri = new Uri(TestServices.RabbitMqUri) }.CreateConnectionAsync();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary><c>pg_ctlcluster VERSION NAME restart</c> of the first cluster, then waits until it takes connections.</summary>
    public static async Task RestartPostgresAsync()
    {
        var cluster = await ClusterAsync();
        await RunAsync("pg_ctlcluster", $"{cluster} restart");
        await WaitForPostgresAsync();
    }

    /// <summary>Starts the cluster if a failed restart left it stopped; harmless when it runs.</summary>
    public static async Task EnsurePostgresRunsAsync()
    {
        var cluster = await ClusterAsync();
        await RunAsync("pg_ctlcluster", $"{cluster} start", mayFail: true);
        await WaitForPostgresAsync();
    }

    private static async Task WaitForPostgresAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestServices.Postgres) { Pooling = false }.ConnectionString);
                await connection.OpenAsync();
                return;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>"15 main": the version and name of the first cluster <c>pg_lsclusters</c> lists.</summary>
    private static async Task<string> ClusterAsync()
    {
        var listed = await RunAsync("pg_lsclusters", "-h");
        var fields = listed.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return $"{fields[0]} {fields[1]}";
    }

    private static async Task<string> RunAsync(string tool, string arguments, bool mayFail = false)
    {
        var start = new ProcessStartInfo(tool, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception) when (Environment.GetEnvironmentVariable("CI") != "true")
        {
            throw new SkipException($"skipped: {tool} is not on this machine, so the shared service cannot be stopped");
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (!mayFail)
            {
                Assert.True(process.ExitCode == 0, $"{tool} {arguments} exited with {process.ExitCode}: {await error}");
            }

            return await output;
        }
    }
}
