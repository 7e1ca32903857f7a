namespace Triage.Bench.Gateway;

/// <summary>Where the repository, its Release builds and the shared data are, seen from the bench's own build.</summary>
internal static class Paths
{
    /// <summary>The folder holding Triage.sln, found upwards from the bench's binary.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The Release build of src/Host, the one an operator deploys.</summary>
    public static string ReleaseTriage => Path.Combine(Root, "src/Host/bin/Release/net10.0/triage.dll");

    public static string LogChunks(string? data) =>
        Path.GetFullPath(data ?? Path.Combine(Root, "..", "shared", "data", "logchunks"));

    /// <summary>
    /// The commit the bench was run at, short, read from .git as it is on disk (HEAD, then the branch's ref or
    /// packed-refs): "unknown" outside a checkout.
    /// </summary>
    public static string Commit()
    {
        try
        {
            var git = Path.Combine(Root, ".git");
            var head = File.ReadAllText(Path.Combine(git, "HEAD")).Trim();
            if (!head.StartsWith("ref: ", StringComparison.Ordinal))
            {
                return head[..Math.Min(7, head.Length)];
            }

            var reference = head["ref: ".Length..];
            var loose = Path.Combine(git, reference);
            var hash = File.Exists(loose)
                ? File.ReadAllText(loose).Trim()
                : File.ReadLines(Path.Combine(git, "packed-refs")).Select(l => l.Split(' ')).FirstOrDefault(p => p.Length == 2 && p[1] == reference)?[0];
            return hash is { Length: >= 7 } ? hash[..7] : "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>
    /// Names the newest source file when it is newer than the build of the gateway: the bench would measure yesterday's
    /// code. The build is as new as its newest assembly of ours (a change in Router rebuilds
    /// Triage.Router.dll, not triage.dll).
    /// </summary>
    public static string? StaleBuildWarning(string binary)
    {
        var built = Directory.EnumerateFiles(Path.GetDirectoryName(binary)!, "Triage.*.dll").Append(binary).Max(File.GetLastWriteTimeUtc);
        var newest = Directory.EnumerateFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Select(f => (File: f, Time: File.GetLastWriteTimeUtc(f)))
            .MaxBy(f => f.Time);
        return newest.Time > built
            ? $"{Path.GetRelativePath(Root, newest.File)} is newer than the gateway's build {Path.GetRelativePath(Root, binary)}: build it again"
            : null;
    }

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Triage.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Triage.sln above {AppContext.BaseDirectory}");
    }
}
