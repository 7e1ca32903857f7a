using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Triage.Platform.Configuration;

namespace Triage.Platform.Store;

/// <summary>Which database the store lives in, and its contexts: PostgreSQL when configured, else a SQLite file.</summary>
public sealed class TriageDatabase
{
    private readonly Func<TriageDbContext> create;

    private TriageDatabase(string description, Func<TriageDbContext> create)
    {
        Description = description;
        this.create = create;
    }

    /// <summary>For logs and errors: "PostgreSQL host/db" or "SQLite /path/triage.db"; never a password.</summary>
    public string Description { get; }

    public TriageDbContext CreateContext() => create();

    /// <summary>The SQLite file of the embedded store; null for PostgreSQL.</summary>
    public string? File { get; private init; }

    /// <param name="retryOnFailure">Ride out a restart of PostgreSQL (roles); a diagnosis wants the first error instead.</param>
    public static TriageDatabase From(StoreOptions store, string baseDirectory, bool retryOnFailure = true)
    {
        if (!string.IsNullOrWhiteSpace(store.Postgres))
        {
            var options = new DbContextOptionsBuilder<PostgresTriageDbContext>()
                .UseNpgsql(store.Postgres, npgsql =>
                {
                    if (retryOnFailure)
                    {
                        npgsql.EnableRetryOnFailure();
                    }
                })
                .Options;
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(store.Postgres);
            return new TriageDatabase($"PostgreSQL {builder.Host}/{builder.Database}", () => new PostgresTriageDbContext(options));
        }

        var file = Path.GetFullPath(store.Sqlite, baseDirectory);
        // A private cache, not a shared one: in shared-cache mode SQLite locks whole tables, so a reader blocks the recorder
        // and Microsoft.Data.Sqlite answers SQLITE_LOCKED by sleeping its thread 150 ms; with WAL and a private cache readers
        // never block the writer, and writers queue in SQLite's own busy handler (SqliteBusyTimeout).
        var connection = new SqliteConnectionStringBuilder { DataSource = file, DefaultTimeout = 30 }.ToString();
        var sqlite = new DbContextOptionsBuilder<SqliteTriageDbContext>().UseSqlite(connection).AddInterceptors(SqliteBusyTimeout.Instance).Options;
        return new TriageDatabase($"SQLite {file}", () => new SqliteTriageDbContext(sqlite)) { File = file };
    }

    /// <summary>Brings the schema up to date with the migrations of this database.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var db = CreateContext();
        await db.Database.MigrateAsync(cancellationToken);
        if (db is SqliteTriageDbContext)
        {
            // WAL lets the recorder write while Ingest reads results.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }
}
