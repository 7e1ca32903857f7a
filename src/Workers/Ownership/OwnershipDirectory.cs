using Triage.Contracts;
using Triage.Platform.Configuration;

namespace Triage.Workers.Ownership;

/// <summary>
/// Whom to suggest for a failure: the owners, by the repository's CODEOWNERS and path mapping from triage.yaml,
/// of the files the failure excerpt and the failing tests mention.
/// </summary>
public sealed class OwnershipDirectory
{
    private readonly Dictionary<string, CodeOwners> repositories = new(StringComparer.OrdinalIgnoreCase);

    public OwnershipDirectory(TriageOptions options)
    {
        foreach (var (repository, ownership) in options.Ownership)
        {
            var rules = CodeOwners.Parse(ownership.Codeowners ?? string.Empty);
            if (ownership.CodeownersFile is { Length: > 0 } file)
            {
                rules = CodeOwners.Parse(File.ReadAllText(Path.GetFullPath(file, options.BaseDirectory))).Then(rules);
            }

            repositories[repository] = rules.Then(CodeOwners.FromPaths(ownership.Paths));
        }
    }

    /// <summary>Each mentioned path with its owners, the paths in order of first mention; empty without rules for the repository.</summary>
    public IReadOnlyList<(string Path, IReadOnlyList<string> Owners)> OwnersOf(BuildFailed failure)
    {
        if (failure.Repository is null || !repositories.TryGetValue(failure.Repository, out var rules))
        {
            return [];
        }

        var text = failure.Log + "\n" + string.Join('\n', failure.FailedTests.Select(t => $"{t.Name} {t.Message}"));
        return LogPaths.Extract(text)
            .Select(path => (path, rules.OwnersOf(path)))
            .Where(p => p.Item2.Count > 0)
            .Take(10)
            .ToList();
    }
}
