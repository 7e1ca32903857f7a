// dotnet run --project tools/Migrations -- NAME
// Adds a migration named by the first argument to the PostgreSQL and the SQLite store, the way
// `dotnet ef migrations add` would: the model snapshot of each database is kept beside its migrations.
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Design.Internal;
using Microsoft.EntityFrameworkCore.Migrations.Design;
using Microsoft.Extensions.DependencyInjection;
using Triage.Platform.Store;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: dotnet run --project tools/Migrations -- MigrationName");
    return 2;
}

var platform = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../src/Platform"));
var contexts = new (string Folder, TriageDbContext Context)[]
{
    ("Postgres", new PostgresTriageDbContext(new DbContextOptionsBuilder<PostgresTriageDbContext>().UseNpgsql("Host=unused").Options)),
    ("Sqlite", new SqliteTriageDbContext(new DbContextOptionsBuilder<SqliteTriageDbContext>().UseSqlite("Data Source=unused").Options)),
};

foreach (var (folder, context) in contexts)
{
    var reporter = new OperationReporter(new OperationReportHandler(
        m => Console.Error.WriteLine(m), m => Console.Error.WriteLine(m), m => Console.WriteLine(m), m => { }));
    var assembly = typeof(TriageDbContext).Assembly;
    var services = new DesignTimeServicesBuilder(assembly, assembly, reporter, []).Build(context);
    var scaffolder = services.GetRequiredService<IMigrationsScaffolder>();
    var migration = scaffolder.ScaffoldMigration(args[0], "Triage.Platform", $"Store.Migrations.{folder}", "C#");
    var files = scaffolder.Save(platform, migration, Path.Combine(platform, "Store", "Migrations", folder));
    Console.WriteLine($"{folder}: {files.MigrationFile}");
}

return 0;
