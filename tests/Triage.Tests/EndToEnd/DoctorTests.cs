using RabbitMQ.Client;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.EndToEnd;

/// <summary><c>triage doctor</c> run as an operator runs it.</summary>
public sealed class DoctorTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("triage-doctor-").FullName;

    [Fact]
    public async Task Doctor_passes_on_the_embedded_defaults()
    {
        var config = await Config("store: { sqlite: doctor.db }");

        var (exitCode, printed) = await TriageProcess.RunAsync(TimeSpan.FromSeconds(60), "doctor", "--config", config);

        Assert.True(exitCode == 0, printed);
        Assert.Contains("ok   bus: in-memory", printed);
        Assert.Contains("ok   provider builtin", printed);
        Assert.Contains("ok   vector cache: embedded index", printed);
        Assert.Contains("All checks passed.", printed);
    }

    [SkippableFact]
    public async Task Doctor_names_each_broken_dependency_with_a_hint()
    {
        TestServices.RequireRabbitMq();
        var broker = new UriBuilder(TestServices.RabbitMqUri) { UserName = "nobody", Password = "wrong" };
        var config = await Config($"""
            bus: {"{"} rabbitmq: "{broker.Uri}" {"}"}
            store: {"{"} postgres: "Host=127.0.0.1;Port={TriageProcess.FreePort()};Username=x;Password=y;Database=z;Timeout=3" {"}"}
            providers:
              remote: {"{"} type: openai-compatible, base_url: "http://127.0.0.1:{TriageProcess.FreePort()}/v1", model: m {"}"}
            cache:
              qdrant: {"{"} url: "http://127.0.0.1:{TriageProcess.FreePort()}" {"}"}
            """);

        var (exitCode, printed) = await TriageProcess.RunAsync(TimeSpan.FromSeconds(60), "doctor", "--config", config);

        Assert.Equal(1, exitCode);
        Assert.Contains("FAIL bus", printed);
        Assert.Contains("wrong user or password in bus.rabbitmq", printed);
        Assert.Contains("FAIL store", printed);
        Assert.Contains("FAIL provider remote", printed);
        Assert.Contains("check providers.remote.base_url", printed);
        Assert.Contains("FAIL vector cache", printed);
        Assert.Contains("gRPC port (6334)", printed);
        Assert.Contains("4 check(s) failed.", printed);
    }

    [SkippableFact]
    public async Task Doctor_finds_a_queue_whose_arguments_differ_from_the_gateway()
    {
        await using var vhost = await RabbitMqVirtualHost.CreateAsync();
        var factory = new ConnectionFactory { Uri = new Uri(vhost.Uri) };
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync("triage-provider-builtin", durable: true, exclusive: false, autoDelete: false);
        }

        var config = await Config($"bus: {"{"} rabbitmq: \"{vhost.Uri}\" {"}"}\nstore: {"{"} sqlite: doctor.db {"}"}");

        var (exitCode, printed) = await TriageProcess.RunAsync(TimeSpan.FromSeconds(60), "doctor", "--config", config);

        Assert.Equal(1, exitCode);
        Assert.Contains("queue arguments differ: triage-provider-builtin", printed);
        Assert.Contains("drain the queue, delete it", printed);
    }

    private async Task<string> Config(string yaml)
    {
        var path = Path.Combine(directory, "triage.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }
}
