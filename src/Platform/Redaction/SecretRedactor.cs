using System.Buffers;
using System.Text.RegularExpressions;

namespace Triage.Platform.Redaction;

/// <summary>
/// Takes secrets out of CI build logs before they are sent to an LLM provider or enter a cache. Each secret becomes
/// <c>[REDACTED:kind]</c>; what surrounds it (the key of an assignment, the user of a URL, the scheme of an
/// Authorization header) stays, so the log still reads.
/// </summary>
/// <remarks>
/// Logs are untrusted and can be several megabytes, so the built-in patterns are written to run in linear time:
/// a token pattern can only start where a token can start (a lookbehind rules out the middle of a run), and an
/// attempt that fails stops at the next quote, slash or line end, so no character is read by more than a few
/// attempts. The match timeout is a backstop; should it fire, <see cref="RegexMatchTimeoutException"/> propagates,
/// because a half-redacted log must not go out.
/// </remarks>
public sealed partial class SecretRedactor
{
    private const int TimeoutMilliseconds = 2_000;

    private const string CustomKind = "custom";

    private const string PlaceholderStart = "[REDACTED:";

    // The largest PEM key (RSA 16384) is about 12 KB, even with a CI timestamp on every line. A BEGIN and an END
    // further apart than this are two unrelated lines, say from a grep, not one key.
    private const int MaxPrivateKeyLength = 64 * 1024;

    // When findings overlap, they become one redaction named after the most specific of them: a GitHub token in
    // a URL's password is a github-token, a JWT in a Bearer header is a jwt.
    private const int PrivateKeyRank = 0;
    private const int TokenRank = 1;
    private const int AuthorizationRank = 100;
    private const int UrlPasswordRank = 101;
    private const int AssignmentRank = 102;
    private const int CustomRank = 103;

    // Most patterns begin with a literal that the regex engine finds in one vectorised pass. Two begin with a
    // choice of letters that are everywhere in a log ([sr]k_live_, gh[pousr]_), so the engine would stop at every
    // 's', 'r' or 'g' in it: for those, a search for the text every match contains runs first, and a log without it
    // (nearly every log) never reaches the regex.
    private static readonly (string Kind, Regex Pattern, SearchValues<string>? MustContain)[] Tokens =
    [
        ("aws-access-key", AwsAccessKeyId(), null),
        ("github-token", GitHubToken(), Containing("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
        ("gitlab-token", GitLabToken(), null),
        ("slack-token", SlackToken(), null),
        ("slack-webhook", SlackWebhook(), null),
        ("npm-token", NpmToken(), null),
        ("anthropic-key", AnthropicKey(), null),
        ("openai-key", OpenAiKey(), null),
        ("google-api-key", GoogleApiKey(), null),
        ("stripe-key", StripeKey(), Containing("sk_live_", "rk_live_")),
        ("jwt", JsonWebToken(), null),
    ];

    private static readonly TimeSpan ConfiguredPatternTimeout = TimeSpan.FromMilliseconds(TimeoutMilliseconds);

    private static readonly SearchValues<char> Base64 =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");

    private static readonly SearchValues<char> EnvironmentName = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

    private readonly Regex[] _configured;

    /// <param name="extraPatterns">
    /// .NET regular expressions from configuration, redacted as <c>custom</c>. A pattern with a group named
    /// <c>secret</c> redacts only that group and keeps the rest of its match.
    /// </param>
    /// <exception cref="ArgumentException">A pattern is empty or is not a valid regular expression.</exception>
    public SecretRedactor(IEnumerable<string>? extraPatterns = null)
    {
        _configured = (extraPatterns ?? []).Select(Compile).ToArray();
    }

    /// <summary>Replaces every secret in <paramref name="text"/>; secrets that overlap count as one.</summary>
    /// <exception cref="RegexMatchTimeoutException">A pattern ran out of time; nothing was redacted.</exception>
    public RedactionResult Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        var findings = new List<Finding>();
        FindPrivateKeys(text, findings);
        for (var i = 0; i < Tokens.Length; i++)
        {
            if (Tokens[i].MustContain is not { } mustContain || text.AsSpan().ContainsAny(mustContain))
            {
                AddMatches(Tokens[i].Pattern, text, TokenRank + i, Tokens[i].Kind, findings);
            }
        }

        FindAuthorizationHeaders(text, findings);
        AddMatches(UrlPassword(), text, UrlPasswordRank, "password", findings);
        FindAssignments(text, findings);
        foreach (var pattern in _configured)
        {
            AddMatches(pattern, text, CustomRank, CustomKind, findings);
        }

        return Apply(text, findings);
    }

    private static SearchValues<string> Containing(params string[] texts) => SearchValues.Create(texts, StringComparison.Ordinal);

    private static Regex Compile(string pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            throw new ArgumentException($"The redaction pattern \"{pattern}\" is empty.", "extraPatterns");
        }

        try
        {
            // Configured patterns are not reviewed like the built-in ones, so they get the engine that cannot
            // backtrack; only what it does not support (lookarounds, backreferences) falls back to the timeout.
            return new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, ConfiguredPatternTimeout);
        }
        catch (NotSupportedException)
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, ConfiguredPatternTimeout);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The redaction pattern \"{pattern}\" is not a valid regular expression: {e.Message}", "extraPatterns", e);
        }
    }

    private static void AddMatches(Regex pattern, string text, int rank, string kind, List<Finding> findings)
    {
        for (var match = pattern.Match(text); match.Success; match = match.NextMatch())
        {
            var secret = match.Groups["secret"];
            Capture span = secret.Success ? secret : match;
            findings.Add(new Finding(span.Index, span.Index + span.Length, rank, kind));
        }
    }

    private static void FindAuthorizationHeaders(string text, List<Finding> findings)
    {
        for (var match = AuthorizationHeader().Match(text); match.Success; match = match.NextMatch())
        {
            var kind = match.Groups["bearer"].Success ? "bearer-token" : match.Groups["basic"].Success ? "basic-auth" : "token";
            var secret = match.Groups["secret"];
            findings.Add(new Finding(secret.Index, secret.Index + secret.Length, AuthorizationRank, kind));
        }
    }

    private static void FindAssignments(string text, List<Finding> findings)
    {
        for (var match = Assignment().Match(text); match.Success; match = match.NextMatch())
        {
            var value = match.Groups["secret"];
            if (IsNotASecret(value.ValueSpan) || IsWorkingDirectory(text, match) || IsUrlUser(text, match))
            {
                continue;
            }

            var kind = match.Groups["aws"].Success ? "aws-secret-key"
                : match.Groups["apikey"].Success ? "api-key"
                : match.Groups["secretkey"].Success ? "secret"
                : match.Groups["token"].Success ? "token"
                : "password";
            findings.Add(new Finding(value.Index, value.Index + value.Length, AssignmentRank, kind));
        }
    }

    /// <summary>Values that stand in for a secret without carrying it: CI masks, nulls and variable references.</summary>
    private static bool IsNotASecret(ReadOnlySpan<char> value)
    {
        if (value.Trim('*').IsEmpty || value is "[MASKED" or "[MASKED]" or "null" or "None")
        {
            return true;
        }

        if (value.StartsWith("${", StringComparison.Ordinal) || value.StartsWith("$(", StringComparison.Ordinal))
        {
            return true;
        }

        // $DB_PASSWORD: upper case only, because a literal password may well start with '$'.
        return value.Length > 1 && value[0] == '$' && !char.IsAsciiDigit(value[1])
            && !value[1..].ContainsAnyExcept(EnvironmentName);
    }

    /// <summary>PWD and OLDPWD are the shell's directories, in every environment dump; DB_PWD is a password.</summary>
    private static bool IsWorkingDirectory(string text, Match match)
    {
        var keyword = match.Groups["password"];
        if (!keyword.Success || !keyword.ValueSpan.Equals("pwd", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var start = keyword.Index;
        if (start >= 3 && text.AsSpan(start - 3, 3).Equals("old", StringComparison.OrdinalIgnoreCase))
        {
            start -= 3;
        }

        return start == 0 || !(char.IsAsciiLetterOrDigit(text[start - 1]) || text[start - 1] is '_' or '-' or '.');
    }

    /// <summary>
    /// In https://x-access-token:secret@github.com the key is a URL's user: the URL rule redacts the password and
    /// keeps the host, where the assignment would run on through the host and path.
    /// </summary>
    private static bool IsUrlUser(string text, Match match)
    {
        var start = match.Index;
        var limit = Math.Max(0, start - 256);
        while (start > limit && !char.IsWhiteSpace(text[start - 1]) && text[start - 1] is not ('/' or '@' or ':'))
        {
            start--;
        }

        return start >= 3 && text.AsSpan(start - 3, 3) is "://";
    }

    private static void FindPrivateKeys(string text, List<Finding> findings)
    {
        if (!text.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            return;
        }

        var ends = PrivateKeyEnd().Matches(text);
        var paired = new bool[ends.Count];
        var nextEnd = new Dictionary<string, int>(StringComparer.Ordinal);
        var coveredUntil = 0;
        foreach (Match begin in PrivateKeyBegin().Matches(text))
        {
            if (begin.Index < coveredUntil)
            {
                continue;
            }

            var label = begin.Groups["label"].Value;
            var afterBegin = begin.Index + begin.Length;
            var j = nextEnd.GetValueOrDefault(label);
            while (j < ends.Count && (ends[j].Index < afterBegin || ends[j].Groups["label"].Value != label))
            {
                j++;
            }

            nextEnd[label] = j;
            int end;
            if (j < ends.Count && ends[j].Index + ends[j].Length - begin.Index <= MaxPrivateKeyLength)
            {
                paired[j] = true;
                nextEnd[label] = j + 1;
                end = ends[j].Index + ends[j].Length;
            }
            else
            {
                // A key whose END never came was cut off (a killed job, a truncated log): what follows the BEGIN
                // line is still key material for as long as it looks like base64.
                end = EndOfKeyBody(text, afterBegin);
            }

            findings.Add(new Finding(begin.Index, end, PrivateKeyRank, "private-key"));
            coveredUntil = end;
        }

        for (var j = 0; j < ends.Count; j++)
        {
            if (!paired[j])
            {
                // The head of the log was cut off, the END of the key survived: so did the lines before it.
                findings.Add(new Finding(StartOfKeyBody(text, ends[j].Index), ends[j].Index + ends[j].Length, PrivateKeyRank, "private-key"));
            }
        }
    }

    private static int EndOfKeyBody(string text, int from)
    {
        var end = LineEnd(text, from);
        var position = end;
        while (position < text.Length)
        {
            var lineStart = position + (text[position] == '\r' && position + 1 < text.Length && text[position + 1] == '\n' ? 2 : 1);
            var lineEnd = LineEnd(text, lineStart);
            var line = text.AsSpan(lineStart, lineEnd - lineStart).Trim();
            if (!line.IsEmpty)
            {
                if (!IsKeyMaterial(line))
                {
                    break;
                }

                end = lineEnd;
            }

            position = lineEnd;
        }

        return end;
    }

    private static int StartOfKeyBody(string text, int endMarker)
    {
        var start = LineStart(text, endMarker);
        var position = start;
        while (position > 0)
        {
            var lineEnd = position - (position >= 2 && text[position - 1] == '\n' && text[position - 2] == '\r' ? 2 : 1);
            var lineStart = LineStart(text, lineEnd);
            var line = text.AsSpan(lineStart, lineEnd - lineStart).Trim();
            if (!line.IsEmpty)
            {
                if (!IsKeyMaterial(line))
                {
                    break;
                }

                start = lineStart;
            }

            position = lineStart;
        }

        return start;
    }

    private static bool IsKeyMaterial(ReadOnlySpan<char> line) =>
        !line.ContainsAnyExcept(Base64)
        || line.StartsWith("Proc-Type:", StringComparison.Ordinal)
        || line.StartsWith("DEK-Info:", StringComparison.Ordinal);

    private static int LineEnd(string text, int from)
    {
        var end = text.AsSpan(from).IndexOfAny('\r', '\n');
        return end < 0 ? text.Length : from + end;
    }

    private static int LineStart(string text, int at) => text.AsSpan(0, at).LastIndexOfAny('\r', '\n') + 1;

    private static RedactionResult Apply(string text, List<Finding> findings)
    {
        var placeholders = AlreadyRedacted().Matches(text);

        // A finding that touches an earlier [REDACTED:...] is that placeholder seen again; leaving it alone is
        // what makes a second pass change nothing.
        findings.RemoveAll(f => f.End <= f.Start || Overlaps(placeholders, f));
        if (findings.Count == 0)
        {
            return new RedactionResult(text, 0);
        }

        findings.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : b.End.CompareTo(a.End));
        MergeOverlaps(findings);
        var length = text.Length;
        foreach (var redaction in findings)
        {
            length += PlaceholderStart.Length + redaction.Kind.Length + 1 - (redaction.End - redaction.Start);
        }

        // The length is known up front, so the text is written once, straight into the string.
        var redacted = string.Create(length, (text, findings), static (destination, state) =>
        {
            var (text, redactions) = state;
            var copied = 0;
            foreach (var redaction in redactions)
            {
                destination = Write(destination, text.AsSpan(copied, redaction.Start - copied));
                destination = Write(destination, PlaceholderStart);
                destination = Write(destination, redaction.Kind);
                destination = Write(destination, "]");
                copied = redaction.End;
            }

            Write(destination, text.AsSpan(copied));
        });
        return new RedactionResult(redacted, findings.Count);
    }

    /// <summary>
    /// Folds each run of overlapping findings, sorted by start, into one that spans them all and is named after
    /// the most specific of them.
    /// </summary>
    private static void MergeOverlaps(List<Finding> findings)
    {
        var merged = 0;
        var i = 0;
        while (i < findings.Count)
        {
            var first = findings[i];
            var end = first.End;
            var named = first;
            for (i++; i < findings.Count && findings[i].Start < end; i++)
            {
                end = Math.Max(end, findings[i].End);
                if (findings[i].Rank < named.Rank)
                {
                    named = findings[i];
                }
            }

            findings[merged++] = named with { Start = first.Start, End = end };
        }

        findings.RemoveRange(merged, findings.Count - merged);
    }

    private static Span<char> Write(Span<char> destination, ReadOnlySpan<char> value)
    {
        value.CopyTo(destination);
        return destination[value.Length..];
    }

    private static bool Overlaps(MatchCollection placeholders, Finding finding)
    {
        // Placeholders do not overlap one another, so their ends are as ordered as their starts.
        int low = 0, high = placeholders.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (placeholders[middle].Index + placeholders[middle].Length <= finding.Start)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low < placeholders.Count && placeholders[low].Index < finding.End;
    }

    private readonly record struct Finding(int Start, int End, int Rank, string Kind);

    [GeneratedRegex(@"\[REDACTED:[a-z0-9-]{1,40}\]", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex AlreadyRedacted();

    [GeneratedRegex(@"-----BEGIN (?<label>(?:RSA|EC|OPENSSH|ENCRYPTED|DSA) )?PRIVATE KEY-----", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex PrivateKeyBegin();

    [GeneratedRegex(@"-----END (?<label>(?:RSA|EC|OPENSSH|ENCRYPTED|DSA) )?PRIVATE KEY-----", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex PrivateKeyEnd();

    [GeneratedRegex(@"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex AwsAccessKeyId();

    [GeneratedRegex(@"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex GitHubToken();

    // glrt- (runner) and gldt- (deploy) tokens are the ones most likely to show up in a CI log besides glpat-.
    [GeneratedRegex(@"(?<![A-Za-z0-9_-])gl(?:pat|rt|dt|ptt)-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex GitLabToken();

    [GeneratedRegex(@"(?<![A-Za-z0-9_-])xox[abprs]-[A-Za-z0-9-]{10,}", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex SlackToken();

    [GeneratedRegex(@"hooks\.slack\.com/(?:services|workflows|triggers)/(?<secret>[A-Za-z0-9_/+-]+)", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex SlackWebhook();

    [GeneratedRegex(@"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36,}", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex NpmToken();

    [GeneratedRegex(@"(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex AnthropicKey();

    // A bare sk- key is all letters and digits; requiring that keeps kebab-case names that start with sk- out.
    [GeneratedRegex(@"(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,})", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex OpenAiKey();

    [GeneratedRegex(@"(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex GoogleApiKey();

    [GeneratedRegex(@"(?<![A-Za-z0-9_])[sr]k_live_[A-Za-z0-9]{16,}", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex StripeKey();

    [GeneratedRegex(@"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex JsonWebToken();

    // The user stays: it names the account without opening it. An empty user (redis://:secret@host) still has a
    // password. The password runs to the last '@' before the path, so an unencoded '@' in it does not leak the rest.
    [GeneratedRegex(@"://[^\s:/@]*:(?<secret>[^\s/?#]+)@", RegexOptions.None, TimeoutMilliseconds)]
    private static partial Regex UrlPassword();

    // The credential is token68 characters only, so a masked one (Bearer ***) or a placeholder is not taken for one.
    [GeneratedRegex(@"authorization\\?[""']?[ \t]*[:=][ \t]*\\?[""']?(?:(?<bearer>bearer)|(?<basic>basic)|token)[ \t]+(?<secret>[A-Za-z0-9._~+/=-]+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex AuthorizationHeader();

    // The keyword only has to end the key, so DB_PASSWORD, _authToken, access_token, client_secret and
    // aws_secret_access_key match while max_tokens and secretName do not. What comes before the keyword is kept
    // anyway, so it stays out of the pattern: an optional prefix there made the search for a start four times slower.
    // Values: \"escaped JSON\", "JSON or shell", 'shell', or bare up to whitespace or a delimiter of the text around it.
    [GeneratedRegex("""
        (?:(?<aws>secret[_-]?access[_-]?key)|(?<apikey>api[_-]?key)|(?<secretkey>secret(?:[_-]?key)?)|(?<token>token)|(?<password>passw(?:or)?d|pwd))\\?["']?[ \t]*(?::=|=>|[:=])[ \t]*(?:\\"(?<secret>[^"\\\r\n]+)\\"|"(?<secret>(?:[^"\\\r\n]|\\.)+)"|'(?<secret>[^'\r\n]+)'|(?<secret>[^\s"'`,;&<>)}\]]+))
        """, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex Assignment();
}

/// <summary>The redacted text and how many secrets were taken out of it.</summary>
public readonly record struct RedactionResult(string Text, int Count);
