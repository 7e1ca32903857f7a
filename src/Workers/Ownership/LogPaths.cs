using System.Text;
using System.Text.RegularExpressions;
using Triage.Platform.Text;

namespace Triage.Workers.Ownership;

/// <summary>
/// The source files a build log points at, as paths relative to the repository, so that CODEOWNERS can say
/// whose they are. Logs are untrusted and can be large: lines are cut, and every pattern is a plain run of
/// characters that cannot backtrack; the judging is done in code.
/// </summary>
public static partial class LogPaths
{
    private const int MaxLineLength = 2000;

    /// <summary>Segments that hold installed dependencies or runner internals: nobody in the repository owns them.</summary>
    private static readonly HashSet<string> ForeignSegments = new(StringComparer.OrdinalIgnoreCase)
    {
        "node_modules", ".m2", "site-packages", "dist-packages", ".gradle", ".nuget", ".cargo",
    };

    /// <summary>Where sources usually start below a Jenkins job directory, whose depth varies with folders and branches.</summary>
    private static readonly HashSet<string> SourceRoots = new(StringComparer.Ordinal)
    {
        "src", "lib", "app", "test", "tests", "pkg", "cmd", "internal", "main", "spec", "packages", "modules",
    };

    /// <summary>Repository-relative file paths mentioned in a build log excerpt, in order of first appearance, distinct, at most <paramref name="max"/>.</summary>
    public static IReadOnlyList<string> Extract(string log, int max = 20)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfNegative(max);

        var paths = new List<string>();
        if (max == 0)
        {
            return paths;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in log.AsSpan().EnumerateLines())
        {
            var cut = raw.Length > MaxLineLength ? raw[..MaxLineLength] : raw;
            // Most lines of a log name no path; they are passed over without allocating.
            if (cut.IndexOfAny('/', '\\') < 0)
            {
                continue;
            }

            var line = Prepare(cut);
            foreach (var match in Candidate().EnumerateMatches(line))
            {
                if (line.AsSpan(match.Index, match.Length).IndexOfAny('/', '\\') < 0)
                {
                    continue;
                }

                // "host:path" is a git remote or a node: builtin, not a file of the repository; a drive letter is
                // matched as part of the candidate and so never precedes it.
                if (match.Index >= 2 && line[match.Index - 1] == ':' && !char.IsWhiteSpace(line[match.Index - 2]))
                {
                    continue;
                }

                if (ToRepositoryPath(line.Substring(match.Index, match.Length)) is { } path && seen.Add(path))
                {
                    paths.Add(path);
                    if (paths.Count == max)
                    {
                        return paths;
                    }
                }
            }
        }

        return paths;
    }

    /// <summary>Drops colours and URLs, which would otherwise read as paths (a URL's path has slashes and extensions too).</summary>
    private static string Prepare(ReadOnlySpan<char> raw)
    {
        var line = raw.ToString();
        if (line.Contains('\x1B'))
        {
            line = LogText.StripAnsi(line);
        }

        var scheme = line.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return line;
        }

        var text = new StringBuilder(line);
        while (scheme >= 0)
        {
            var start = scheme;
            while (start > 0 && (char.IsAsciiLetterOrDigit(line[start - 1]) || line[start - 1] is '+' or '.' or '-'))
            {
                start--;
            }

            var end = scheme + 3;
            if (line.AsSpan(start, scheme - start).Equals("file", StringComparison.OrdinalIgnoreCase))
            {
                // Kotlin and Gradle print real paths as file:///home/...: keep the path, lose the scheme.
                text.Remove(start, end - start).Insert(start, " ", end - start);
            }
            else
            {
                while (end < line.Length && !char.IsWhiteSpace(line[end]) && line[end] is not ('"' or '\'' or '<' or '>'))
                {
                    end++;
                }

                text.Remove(start, end - start).Insert(start, " ", end - start);
            }

            scheme = end < line.Length ? line.IndexOf("://", end, StringComparison.Ordinal) : -1;
        }

        return text.ToString();
    }

    private static string? ToRepositoryPath(string candidate)
    {
        // Logs that passed through JSON or a Windows shell sometimes double their backslashes.
        var path = candidate.TrimEnd('.').Replace(@"\\", @"\", StringComparison.Ordinal).Replace('\\', '/');
        if (path.Length == 0 || path[0] is '~' or '-' or '@'
            // Java frames read "app//com.acme.Foo.bar" and protocol-relative URLs "//cdn/x.js"; no file path does.
            || path.Contains("//", StringComparison.Ordinal)
            || path.Split('/').Any(s => ForeignSegments.Contains(s) || IsJenkinsScratch(s)))
        {
            return null;
        }

        var absolute = path[0] == '/' || (path.Length > 2 && char.IsAsciiLetter(path[0]) && path[1] == ':' && path[2] == '/');
        if (absolute)
        {
            // Absolute paths outside a known CI workspace (/usr, /opt, /tmp, tool caches, home directories)
            // cannot be made relative to the repository, so they are not guessed at.
            path = WithoutWorkspace(path);
            if (path is null)
            {
                return null;
            }
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToList();
        if (segments.Count < 2 || segments.Contains("..") || LooksLikeHost(segments[0]) || !HasExtension(segments[^1]))
        {
            return null;
        }

        return string.Join('/', segments);
    }

    /// <summary>The part of an absolute path below the checkout of a known CI system, or null.</summary>
    private static string? WithoutWorkspace(string path)
    {
        string[] exact = ["/home/runner/work/", "/Users/runner/work/", "/__w/", "/home/travis/build/"];
        foreach (var prefix in exact)
        {
            if (path.StartsWith(prefix, StringComparison.Ordinal))
            {
                return BelowOwnerAndRepository(path[prefix.Length..]);
            }
        }

        // GitHub's Windows runners check out to D:\a\<repo>\<repo>.
        if (path.Length > 5 && path.AsSpan(1, 4).Equals(":/a/", StringComparison.OrdinalIgnoreCase))
        {
            return BelowOwnerAndRepository(path[5..]);
        }

        if (path.StartsWith("/builds/", StringComparison.Ordinal))
        {
            return BelowOwnerAndRepository(path["/builds/".Length..]);
        }

        if (path.StartsWith("/home/vsts/work/", StringComparison.Ordinal))
        {
            return BelowAzureBuild(path["/home/vsts/work/".Length..]);
        }

        var work = path.IndexOf("/_work/", StringComparison.OrdinalIgnoreCase);
        if (work >= 0)
        {
            var rest = path[(work + "/_work/".Length)..];
            // Azure Pipelines agents use _work/<n>/s; self-hosted GitHub runners use _work/<repo>/<repo>.
            return BelowAzureBuild(rest) ?? BelowOwnerAndRepository(rest);
        }

        var workspace = path.IndexOf("/workspace/", StringComparison.OrdinalIgnoreCase);
        if (workspace >= 0)
        {
            return BelowJenkinsJob(path[(workspace + "/workspace/".Length)..]);
        }

        return null;
    }

    private static string? BelowOwnerAndRepository(string rest)
    {
        var parts = rest.Split('/', 3);
        // The runner keeps its own _temp, _actions and _tool next to checkouts.
        return parts.Length == 3 && parts[0].Length > 0 && parts[0][0] != '_' ? parts[2] : null;
    }

    private static string? BelowAzureBuild(string rest)
    {
        var parts = rest.Split('/', 3);
        return parts.Length == 3 && parts[0].Length > 0 && parts[0].All(char.IsAsciiDigit) && parts[1] == "s" ? parts[2] : null;
    }

    private static string? BelowJenkinsJob(string rest)
    {
        var parts = rest.Split('/');
        if (parts.Length < 2)
        {
            return null;
        }

        // A job lives at workspace/<job>, workspace/<folder>/<job> or deeper, and nothing marks where its name
        // ends; the first usual source root is the best guess, else the default layout of one segment.
        for (var i = 1; i < parts.Length - 1; i++)
        {
            if (SourceRoots.Contains(parts[i]))
            {
                return string.Join('/', parts[i..]);
            }
        }

        return string.Join('/', parts[1..]);
    }

    /// <summary>Jenkins keeps pipeline scripts and libraries in job@tmp, job@libs and job@script beside the checkout.</summary>
    private static bool IsJenkinsScratch(string segment) =>
        segment.EndsWith("@tmp", StringComparison.Ordinal)
        || segment.EndsWith("@libs", StringComparison.Ordinal)
        || segment.EndsWith("@script", StringComparison.Ordinal);

    /// <summary>Go packages and bare URLs start with a host name ("github.com/acme/svc/..."); repository directories rarely do.</summary>
    private static bool LooksLikeHost(string segment)
    {
        var dot = segment.IndexOf('.');
        return dot > 0 && dot < segment.Length - 1 && segment.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-');
    }

    /// <summary>An extension that starts with a letter, so that versions and ratios ("1/2.5") are not taken for files.</summary>
    private static bool HasExtension(string name)
    {
        var dot = name.LastIndexOf('.');
        if (dot <= 0 || dot == name.Length - 1 || name.Length - dot - 1 > 16 || !char.IsAsciiLetter(name[dot + 1]))
        {
            return false;
        }

        return name.AsSpan(dot + 1).IndexOfAnyExcept(AsciiLettersAndDigits) < 0;
    }

    private static readonly System.Buffers.SearchValues<char> AsciiLettersAndDigits =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

    /// <summary>A run of path characters, optionally behind a drive letter. Nothing follows the run, so no backtracking.</summary>
    [GeneratedRegex(@"[A-Za-z]:[\\/][\w.\-/\\+@~]*|[\w.\-/\\+@~]+", RegexOptions.CultureInvariant)]
    private static partial Regex Candidate();
}
