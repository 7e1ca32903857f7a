using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.RegularExpressions;

namespace Triage.Workers.Ownership;

/// <summary>
/// Ownership rules in the CODEOWNERS format of GitHub and GitLab: the last rule that matches a path names its
/// owners. Only the matching is kept; the file's sections, comments and approval counts do not help say whom
/// to ping about a failed build.
/// </summary>
public sealed partial class CodeOwners
{
    private static readonly ReadOnlyCollection<string> NoOwners = ReadOnlyCollection<string>.Empty;

    private readonly IReadOnlyList<Rule> rules;

    private CodeOwners(IReadOnlyList<Rule> rules) => this.rules = rules;

    /// <summary>Reads CODEOWNERS text. A line that cannot be understood is skipped so that one typo does not cost all ownership hints.</summary>
    public static CodeOwners Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        var rules = new List<Rule>();
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            var line = raw.Trim().ToString();
            if (line.Length == 0 || line[0] == '#' || SectionHeader().IsMatch(line))
            {
                continue;
            }

            var tokens = Tokenize(line);
            if (tokens.Count > 0 && TryCreate(tokens[0], tokens.Skip(1), out var rule))
            {
                rules.Add(rule);
            }
        }

        return new CodeOwners(rules);
    }

    /// <summary>
    /// Rules from a pattern-to-owner map (owners separated by spaces or commas). A map has no order to speak of,
    /// so the longer of two overlapping patterns wins, which makes "src/payments/" beat "src/" as one expects.
    /// </summary>
    public static CodeOwners FromPaths(IReadOnlyDictionary<string, string> pathToOwner)
    {
        ArgumentNullException.ThrowIfNull(pathToOwner);

        var rules = new List<Rule>();
        foreach (var (pattern, owners) in pathToOwner.OrderBy(p => p.Key.Trim().Length).ThenBy(p => p.Key, StringComparer.Ordinal))
        {
            var split = (owners ?? string.Empty).Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries);
            // A map written by hand often spells a prefix as "./src/"; CODEOWNERS itself has no such form.
            var trimmed = pattern.Trim();
            if (TryCreate(trimmed.StartsWith("./", StringComparison.Ordinal) ? trimmed[2..] : trimmed, split, out var rule))
            {
                rules.Add(rule);
            }
        }

        return new CodeOwners(rules);
    }

    /// <summary>These rules followed by those of <paramref name="later"/>, which therefore win where both match.</summary>
    public CodeOwners Then(CodeOwners later)
    {
        ArgumentNullException.ThrowIfNull(later);
        return new CodeOwners([.. rules, .. later.rules]);
    }

    /// <summary>The owners of the last rule matching the path; empty when none matches or that rule un-owns it.</summary>
    public IReadOnlyList<string> OwnersOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);

        var normalised = Normalise(path);
        if (normalised.Length == 0)
        {
            return NoOwners;
        }

        for (var i = rules.Count - 1; i >= 0; i--)
        {
            if (rules[i].Pattern.IsMatch(normalised))
            {
                return rules[i].Owners;
            }
        }

        return NoOwners;
    }

    /// <summary>Everyone to ping for a set of files: owners by first appearance, each once, the first <paramref name="max"/>.</summary>
    public IReadOnlyList<string> OwnersOf(IEnumerable<string> paths, int max = 5)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentOutOfRangeException.ThrowIfNegative(max);

        var owners = new List<string>();
        if (max == 0)
        {
            return owners;
        }

        // Handles and emails are case-insensitive on both GitHub and GitLab.
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var path in paths)
        {
            foreach (var owner in OwnersOf(path))
            {
                if (seen.Add(owner))
                {
                    owners.Add(owner);
                    if (owners.Count == max)
                    {
                        return owners;
                    }
                }
            }
        }

        return owners;
    }

    private static bool TryCreate(string pattern, IEnumerable<string> ownerTokens, [NotNullWhen(true)] out Rule? rule)
    {
        rule = null;
        var owners = new List<string>();
        foreach (var owner in ownerTokens)
        {
            if (!IsOwner(owner))
            {
                return false;
            }

            if (!owners.Contains(owner, StringComparer.OrdinalIgnoreCase))
            {
                owners.Add(owner);
            }
        }

        var regex = ToRegex(pattern);
        if (regex is null)
        {
            return false;
        }

        rule = new Rule(regex, owners.Count == 0 ? NoOwners : owners.AsReadOnly());
        return true;
    }

    private static bool IsOwner(string token) => UserOrTeam().IsMatch(token) || Email().IsMatch(token);

    /// <summary>Splits a rule line at unescaped whitespace; an unescaped '#' starting a token comments out the rest.</summary>
    private static List<string> Tokenize(string line)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\\' && i + 1 < line.Length)
            {
                // The escape stays in the token: the pattern translation needs it to keep "\*" literal.
                current.Append(c).Append(line[++i]);
            }
            else if (char.IsWhiteSpace(c))
            {
                if (current.Length > 0)
                {
                    tokens.Add(current.ToString());
                    current.Clear();
                }
            }
            else if (c == '#' && current.Length == 0)
            {
                break;
            }
            else
            {
                current.Append(c);
            }
        }

        if (current.Length > 0)
        {
            tokens.Add(current.ToString());
        }

        return tokens;
    }

    /// <summary>
    /// Translates a gitignore-style pattern as GitHub reads CODEOWNERS. Null for patterns no path can sensibly
    /// match ("/", "***", negation, which CODEOWNERS does not support).
    /// </summary>
    internal static Regex? ToRegex(string pattern)
    {
        if (pattern.Length == 0 || pattern == "/" || pattern[0] == '!' || pattern.Contains("***", StringComparison.Ordinal))
        {
            return null;
        }

        var segments = pattern.Split('/').ToList();
        if (segments[0].Length == 0)
        {
            segments.RemoveAt(0);
        }
        else if (segments.Count == 1 || (segments.Count == 2 && segments[1].Length == 0))
        {
            // A pattern with no slash but a trailing one matches at any depth, as if it began with "**/".
            if (segments[0] != "**")
            {
                segments.Insert(0, "**");
            }
        }

        if (segments.Count > 1 && segments[^1].Length == 0)
        {
            segments[^1] = "**";
        }

        var regex = new StringBuilder(@"\A");
        var needSlash = false;
        var last = segments.Count - 1;
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            if (segment == "**")
            {
                if (i == 0 && i == last)
                {
                    regex.Append(".+");
                }
                else if (i == 0)
                {
                    regex.Append("(?:.+/)?");
                    needSlash = false;
                }
                else if (i == last)
                {
                    regex.Append("/.*");
                }
                else
                {
                    regex.Append("(?:/.+)?");
                    needSlash = true;
                }

                continue;
            }

            if (needSlash)
            {
                regex.Append('/');
            }

            needSlash = true;
            if (segment == "*")
            {
                // GitHub: "docs/*" owns the files directly in docs, not those in its subdirectories.
                regex.Append("[^/]+");
                continue;
            }

            AppendSegment(regex, segment);
            if (i == last)
            {
                // Naming a directory without a trailing slash still owns everything under it.
                regex.Append("(?:/.*)?");
            }
        }

        regex.Append(@"\z");

        // Patterns come from repositories we do not control; a linear-time engine keeps a hostile one harmless.
        return new Regex(regex.ToString(), RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
    }

    private static void AppendSegment(StringBuilder regex, string segment)
    {
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            if (c == '\\' && i + 1 < segment.Length)
            {
                regex.Append(Regex.Escape(segment[++i].ToString()));
            }
            else if (c == '*')
            {
                regex.Append("[^/]*");
            }
            else if (c == '?')
            {
                regex.Append("[^/]");
            }
            else
            {
                regex.Append(Regex.Escape(c.ToString()));
            }
        }
    }

    private static string Normalise(string path)
    {
        var normalised = path.Trim().Replace('\\', '/');
        while (true)
        {
            if (normalised.StartsWith("./", StringComparison.Ordinal))
            {
                normalised = normalised[2..];
            }
            else if (normalised.StartsWith('/'))
            {
                normalised = normalised[1..];
            }
            else
            {
                return normalised;
            }
        }
    }

    /// <summary>GitLab "[Section]", "^[Optional section]", "[Section][2]", optionally with default owners after it.</summary>
    [GeneratedRegex(@"^\^?\[[^\]]+\](?:\[\d+\])?(?:\s.*)?$")]
    private static partial Regex SectionHeader();

    /// <summary>"@user", "@org/team", and GitLab's nested "@group/subgroup".</summary>
    [GeneratedRegex(@"^@[A-Za-z0-9_][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")]
    private static partial Regex UserOrTeam();

    [GeneratedRegex(@"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")]
    private static partial Regex Email();

    private sealed record Rule(Regex Pattern, IReadOnlyList<string> Owners);
}
