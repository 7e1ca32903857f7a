using System.Text.Json;
using Npgsql;
using Triage.Contracts;
using Triage.Platform.DeadLetters;
using Triage.Platform.Store;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Chaos;

/// <summary>One failure as the store ends up knowing it.</summary>
public sealed record StoredOutcome(string EventId, string Status, TriageCompleted? Result);

/// <summary>Reads the gateway's store straight from PostgreSQL: what was recorded, not what an API says.</summary>
public static class StoredOutcomes
{
    public static async Task<IReadOnlyDictionary<string, StoredOutcome>> ReadAsync(PostgresDatabase database)
    {
        var outcomes = new Dictionary<string, StoredOutcome>(StringComparer.Ordinal);
        await using var connection = Connect(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT event_id, status, result FROM triages", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var result = reader.IsDBNull(2) ? null : JsonSerializer.Deserialize<TriageCompleted>(reader.GetString(2), JsonSerializerOptions.Web);
            outcomes[reader.GetString(0)] = new StoredOutcome(reader.GetString(0), reader.GetString(1), result);
        }

        return outcomes;
    }

    /// <summary>
    /// Waits until every accepted failure is completed or dead-lettered, or <paramref name="timeout"/> passes; returns
    /// the store as it was last read, settled or not: the count decides, not this wait.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, StoredOutcome>> WaitForSettledAsync(
        PostgresDatabase database, IReadOnlyCollection<string> accepted, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            IReadOnlyDictionary<string, StoredOutcome> outcomes;
            try
            {
                outcomes = await ReadAsync(database);
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                // PostgreSQL is still coming back from a restart.
                await Task.Delay(500);
                continue;
            }

            if (accepted.All(id => outcomes.TryGetValue(id, out var o) && IsSettled(o)) || DateTime.UtcNow > deadline)
            {
                return outcomes;
            }

            await Task.Delay(500);
        }
    }

    /// <summary>The event ids of dead letters still waiting (status dead): with a recorded result too, a failure ended twice.</summary>
    public static async Task<IReadOnlySet<string>> WaitingDeadLettersAsync(PostgresDatabase database)
    {
        var waiting = new HashSet<string>(StringComparer.Ordinal);
        await using var connection = Connect(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT event_id FROM dead_letters WHERE status = '{DeadLetterStatus.Dead}'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            waiting.Add(reader.GetString(0));
        }

        return waiting;
    }

    /// <summary>
    /// A connection of its own, never pooled: a pooled one may be a casualty of the restart a test just made, and the
    /// gateway's pools are the gateway's to recover.
    /// </summary>
    private static NpgsqlConnection Connect(PostgresDatabase database) =>
        new(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString);

    public static bool IsSettled(StoredOutcome outcome) => outcome.Status is TriageStatus.Completed or TriageStatus.DeadLettered;

    /// <summary>One number from the store, for the ledger's checks.</summary>
    public static async Task<long> ScalarAsync(PostgresDatabase database, string sql)
    {
        await using var connection = Connect(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? 0 : Convert.ToInt64(value);
    }
}
