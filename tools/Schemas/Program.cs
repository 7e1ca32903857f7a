// Writes docs/contracts/<Message>.schema.json for every public message, from the records in src/Contracts:
//
//   dotnet run --project tools/Schemas              # into docs/contracts of the repository around the current folder
//   dotnet run --project tools/Schemas -- OUT_DIR   # anywhere else
//
// ContractSchemaTests fails when a checked-in file differs from what this writes.
using Triage.Contracts;

var folder = args.Length > 0 ? Path.GetFullPath(args[0]) : Path.Combine(RepositoryRoot(), ContractSchemas.Folder);
Directory.CreateDirectory(folder);
foreach (var message in ContractSchemas.Messages)
{
    var path = Path.Combine(folder, ContractSchemas.FileName(message));
    var schema = ContractSchemas.Generate(message);
    var unchanged = File.Exists(path) && File.ReadAllText(path).ReplaceLineEndings("\n") == schema;
    if (!unchanged)
    {
        File.WriteAllText(path, schema);
    }

    Console.WriteLine($"{(unchanged ? "unchanged" : "written  ")} {Path.GetRelativePath(Environment.CurrentDirectory, path)}");
}

static string RepositoryRoot()
{
    foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Triage.sln")))
            {
                return directory.FullName;
            }
        }
    }

    throw new InvalidOperationException("Triage.sln not found above the current folder; name the output folder: dotnet run --project tools/Schemas -- OUT_DIR");
}
