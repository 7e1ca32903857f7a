using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Triage.Tests.Infrastructure;

/// <summary>
/// The real RabbitMQ and PostgreSQL the integration tests use. Under CI=true a missing service fails the test;
/// on a developer's machine without them the test says it skipped and why.
/// </summary>
public static class TestServices
{
    public static string RabbitMqUri => Environment.GetEnvironmentVariable("TRIAGE_TEST_RABBITMQ") ?? "amqp://guest:guest@127.0.0.1:5672/";

    public static string RabbitMqManagement => Environment.GetEnvironmentVariable("TRIAGE_TEST_RABBITMQ_MANAGEMENT") ?? "http://guest:guest@127.0.0.1:15672/";

    public static string Postgres => Environment.GetEnvironmentVariable("TRIAGE_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=5432;Username=triage;Password=triage;Database=postgres";

    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static void RequireRabbitMq()
    {
        var broker = new Uri(RabbitMqUri);
        var management = new Uri(RabbitMqManagement);
        Require("RabbitMQ", broker.Host, broker.IsDefaultPort ? 5672 : broker.Port, "TRIAGE_TEST_RABBITMQ");
        Require("RabbitMQ management", management.Host, management.Port, "TRIAGE_TEST_RABBITMQ_MANAGEMENT");
    }

    public static void RequirePostgres()
    {
        var builder = new NpgsqlConnectionStringBuilder(Postgres);
        Require("PostgreSQL", builder.Host!, builder.Port, "TRIAGE_TEST_POSTGRES");
    }

    private static void Require(string service, string host, int port, string variable)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(host, port);
        }
        catch (SocketException e)
        {
            var message = $"{service} is not reachable at {host}:{port} ({e.SocketErrorCode}); set {variable} or start it (.ci/run shows how).";
            if (InCi)
            {
                throw new InvalidOperationException("CI=true and " + message);
            }

            throw new SkipException("skipped: " + message);
        }
    }
}

/// <summary>A virtual host of its own for one test, so that tests never consume each other's messages.</summary>
public sealed class RabbitMqVirtualHost : IAsyncDisposable
{
    private readonly HttpClient management;

    private RabbitMqVirtualHost(HttpClient management, string name, string uri)
    {
        this.management = management;
        Name = name;
        Uri = uri;
    }

    public string Name { get; }

    /// <summary>amqp:// URI of the virtual host, with the credentials of the test broker.</summary>
    public string Uri { get; }

    public static async Task<RabbitMqVirtualHost> CreateAsync()
    {
        TestServices.RequireRabbitMq();
        var managementUri = new Uri(TestServices.RabbitMqManagement);
        var http = new HttpClient { BaseAddress = new Uri(managementUri.GetLeftPart(UriPartial.Authority)) };
        var credentials = System.Uri.UnescapeDataString(managementUri.UserInfo);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        var user = credentials.Split(':')[0];
        var name = $"triage-test-{Guid.NewGuid():N}";
        (await http.PutAsync($"/api/vhosts/{name}", null)).EnsureSuccessStatusCode();
        using var permissions = new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json");
        (await http.PutAsync($"/api/permissions/{name}/{user}", permissions)).EnsureSuccessStatusCode();
        var broker = new UriBuilder(TestServices.RabbitMqUri) { Path = "/" + name };
        return new RabbitMqVirtualHost(http, name, broker.Uri.ToString());
    }

    /// <summary>Messages waiting in a queue of this virtual host, as the management API counts them.</summary>
    public async Task<int> MessagesInAsync(string queue)
    {
        using var response = await management.GetAsync($"/api/queues/{Name}/{queue}");
        if (!response.IsSuccessStatusCode)
        {
            return -1;
        }

        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.TryGetProperty("messages", out var count) ? count.GetInt32() : 0;
    }

    /// <summary>"quorum" or "classic"; null when the queue does not exist.</summary>
    public async Task<string?> QueueTypeAsync(string queue)
    {
        using var response = await management.GetAsync($"/api/queues/{Name}/{queue}");
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("type").GetString();
    }

    public async ValueTask DisposeAsync()
    {
        await management.DeleteAsync($"/api/vhosts/{Name}");
        management.Dispose();
    }
}

/// <summary>A PostgreSQL database of its own for one test, dropped afterwards.</summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private PostgresDatabase(string name, string connectionString)
    {
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<PostgresDatabase> CreateAsync()
    {
        TestServices.RequirePostgres();
        var name = $"triage_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(TestServices.Postgres))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(TestServices.Postgres) { Database = name };
        return new PostgresDatabase(name, builder.ConnectionString);
    }

    public async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>Every row of every table of the database as PostgreSQL prints it, one per line, with the tables listed.</summary>
    public async Task<(IReadOnlyList<string> Tables, string Rows)> DumpAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var dump = new System.Text.StringBuilder();
        foreach (var table in tables)
        {
            await using var rows = new NpgsqlCommand($"SELECT t::text FROM \"{table}\" t", connection);
            await using var reader = await rows.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                dump.AppendLine(reader.GetString(0));
            }
        }

        return (tables, dump.ToString());
    }

    /// <summary>
    /// Drops the database, ending the sessions still on it. An autovacuum worker may be on it too, and a role without
    /// pg_signal_backend may not end that one (42501): the worker is done in moments, so the drop is tried again.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(TestServices.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await command.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250));
            }
        }
    }
}
