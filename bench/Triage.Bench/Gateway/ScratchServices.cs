using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Npgsql;

namespace Triage.Bench.Gateway;

/// <summary>
/// The RabbitMQ and PostgreSQL the bench runs against, found as the integration tests find them
/// (<c>TRIAGE_TEST_RABBITMQ</c>, <c>TRIAGE_TEST_RABBITMQ_MANAGEMENT</c>, <c>TRIAGE_TEST_POSTGRES</c>).
/// </summary>
internal static class ScratchServices
{
    public static Uri RabbitMq => new(Environment.GetEnvironmentVariable("TRIAGE_TEST_RABBITMQ") ?? "amqp://guest:guest@127.0.0.1:5672/");

    public static Uri Management => new(Environment.GetEnvironmentVariable("TRIAGE_TEST_RABBITMQ_MANAGEMENT") ?? "http://guest:guest@127.0.0.1:15672/");

    public static string Postgres => Environment.GetEnvironmentVariable("TRIAGE_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Username=triage;Password=triage;Database=postgres";

    /// <summary>How long creating a virtual host or a database is retried: a broker or database restarting for a few seconds must not end a bench that has not measured anything yet.</summary>
    public static readonly TimeSpan SetUpPatience = TimeSpan.FromMinutes(1);

    /// <summary>How long dropping them is retried: long enough for a restart, short enough that a bench's end does not wait on a broker that is gone.</summary>
    public static readonly TimeSpan CleanUpPatience = TimeSpan.FromSeconds(20);

    /// <summary>Runs <paramref name="action"/> until it succeeds or <paramref name="patience"/> has passed.</summary>
    public static async Task<T> PatientlyAsync<T>(string what, TimeSpan patience, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            try
            {
                return await action();
            }
            catch (Exception e) when (e is HttpRequestException or NpgsqlException or IOException or TimeoutException && DateTime.UtcNow < deadline)
            {
                Console.Error.WriteLine($"  {what}: {e.Message}; retrying");
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
        }
    }
}

/// <summary>A RabbitMQ virtual host of the bench's own, deleted when disposed.</summary>
internal sealed class ScratchVirtualHost : IAsyncDisposable
{
    private readonly HttpClient management;

    private ScratchVirtualHost(HttpClient management, string name)
    {
        this.management = management;
        Name = name;
        Amqp = new UriBuilder(ScratchServices.RabbitMq) { Path = "/" + name }.Uri.ToString();
    }

    public string Name { get; }

    /// <summary>amqp:// URI of the virtual host, with the credentials of the broker.</summary>
    public string Amqp { get; }

    public static async Task<ScratchVirtualHost> CreateAsync(string purpose, CancellationToken cancellationToken)
    {
        var uri = ScratchServices.Management;
        var credentials = Uri.UnescapeDataString(uri.UserInfo);
        var http = new HttpClient { BaseAddress = new Uri(uri.GetLeftPart(UriPartial.Authority)), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        var name = $"triage-bench-{purpose}-{Guid.NewGuid():N}"[..40];
        await ScratchServices.PatientlyAsync($"creating the virtual host {name}", ScratchServices.SetUpPatience, async () =>
        {
            (await http.PutAsync($"/api/vhosts/{name}", null, cancellationToken)).EnsureSuccessStatusCode();
            var permissions = new { configure = ".*", write = ".*", read = ".*" };
            (await http.PutAsJsonAsync($"/api/permissions/{name}/{credentials.Split(':')[0]}", permissions, cancellationToken)).EnsureSuccessStatusCode();
            return true;
        }, cancellationToken);
        return new ScratchVirtualHost(http, name);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ScratchServices.PatientlyAsync($"deleting the virtual host {Name}", ScratchServices.CleanUpPatience, async () =>
            {
                using var response = await management.DeleteAsync($"/api/vhosts/{Name}");
                return response.EnsureSuccessStatusCode();
            }, CancellationToken.None);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"could not delete the RabbitMQ virtual host {Name} ({e.Message}): rabbitmqctl delete_vhost {Name}");
        }

        management.Dispose();
    }
}

/// <summary>A PostgreSQL database of the bench's own, dropped when disposed.</summary>
internal sealed class ScratchDatabase : IAsyncDisposable
{
    private ScratchDatabase(string name)
    {
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(ScratchServices.Postgres) { Database = name }.ConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<ScratchDatabase> CreateAsync(CancellationToken cancellationToken)
    {
        var name = $"triage_bench_{Guid.NewGuid():N}"[..28];
        await ScratchServices.PatientlyAsync($"creating the database {name}", ScratchServices.SetUpPatience, async () =>
        {
            await using var admin = new NpgsqlConnection(ScratchServices.Postgres);
            await admin.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);
        return new ScratchDatabase(name);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await ScratchServices.PatientlyAsync($"dropping the database {Name}", ScratchServices.CleanUpPatience, async () =>
            {
                await using var admin = new NpgsqlConnection(ScratchServices.Postgres);
                await admin.OpenAsync();
                await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", admin);
                return await command.ExecuteNonQueryAsync();
            }, CancellationToken.None);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"could not drop the database {Name} ({e.Message}): DROP DATABASE {Name} WITH (FORCE)");
        }
    }
}
