using System.Net.Http.Headers;
using System.Text;
using Npgsql;

namespace Triage.Soak;

/// <summary>
/// A fresh virtual host on the local RabbitMQ and a fresh database on the local PostgreSQL, found the way the tests
/// find them, and removed afterwards unless the operator wants to look.
/// </summary>
internal sealed class SoakEnvironment : IAsyncDisposable
{
    private readonly HttpClient management;
    private readonly string postgresAdmin;

    private SoakEnvironment(HttpClient management, string postgresAdmin, string vhost, string brokerUri, string database, string databaseConnection)
    {
        this.management = management;
        this.postgresAdmin = postgresAdmin;
        VirtualHost = vhost;
        BrokerUri = brokerUri;
        Database = database;
        ConnectionString = databaseConnection;
    }

    public string VirtualHost { get; }

    public string BrokerUri { get; }

    public string Database { get; }

    public string ConnectionString { get; }

    public bool Keep { get; set; }

    public static async Task<SoakEnvironment> CreateAsync()
    {
        var rabbit = Environment.GetEnvironmentVariable("TRIAGE_TEST_RABBITMQ") ?? "amqp://guest:guest@127.0.0.1:5672/";
        var managementUri = new Uri(Environment.GetEnvironmentVariable("TRIAGE_TEST_RABBITMQ_MANAGEMENT") ?? "http://guest:guest@127.0.0.1:15672/");
        var postgres = Environment.GetEnvironmentVariable("TRIAGE_TEST_POSTGRES") ?? "Host=127.0.0.1;Port=5432;Username=triage;Password=triage;Database=postgres";
        var suffix = DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);

        var http = new HttpClient { BaseAddress = new Uri(managementUri.GetLeftPart(UriPartial.Authority)) };
        var credentials = Uri.UnescapeDataString(managementUri.UserInfo);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        var vhost = $"triage-soak-{suffix}";
        (await http.PutAsync($"/api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        using var permissions = new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json");
        (await http.PutAsync($"/api/permissions/{vhost}/{credentials.Split(':')[0]}", permissions)).EnsureSuccessStatusCode();
        var broker = new UriBuilder(rabbit) { Path = "/" + vhost }.Uri.ToString();

        var database = $"triage_soak_{suffix}";
        await using (var connection = new NpgsqlConnection(postgres))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
            await create.ExecuteNonQueryAsync();
        }

        var connectionString = new NpgsqlConnectionStringBuilder(postgres) { Database = database }.ConnectionString;
        return new SoakEnvironment(http, postgres, vhost, broker, database, connectionString);
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Every row of a two-column query, as text.</summary>
    public async Task<List<(string First, string Second)>> RowsAsync(string sql)
    {
        var rows = new List<(string, string)>();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!,
                reader.IsDBNull(1) ? string.Empty : Convert.ToString(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)!));
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        if (!Keep)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(postgresAdmin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
            await management.DeleteAsync($"/api/vhosts/{VirtualHost}");
        }

        management.Dispose();
    }
}
