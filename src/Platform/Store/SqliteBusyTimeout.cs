using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Triage.Platform.Store;

/// <summary>
/// Sets SQLite's busy timeout on every connection the store opens. Without it a writer that finds the file locked by
/// another writer gets SQLITE_BUSY at once, and Microsoft.Data.Sqlite retries after a blocking 150 ms sleep; SQLite's own
/// busy handler retries within a few milliseconds of the lock being released.
/// </summary>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    public static readonly SqliteBusyTimeout Instance = new();

    /// <summary>As long as a command may take (the connection's default timeout): a lock held longer is an error anyway.</summary>
    private const string Pragma = "PRAGMA busy_timeout = 30000;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
