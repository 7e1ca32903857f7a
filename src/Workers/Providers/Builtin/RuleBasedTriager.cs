using System.Text.RegularExpressions;
using Triage.Contracts;
using Triage.Platform.Text;
using Triage.Workers.Ownership;

namespace Triage.Workers.Providers.Builtin;

/// <summary>
/// The offline triager: reads the failure excerpt with the patterns of common build tools and says what kind
/// of failure it is, where it shows, and which tests failed. It needs no model and no network, so it is the
/// default of the embedded mode and every route's last resort.
/// </summary>
public sealed partial class RuleBasedTriager(string name, OwnershipDirectory? ownership = null) : ITriageProvider
{
    public const string ModelName = "rules-v1";

    private const int MaxCauseLength = 300;

    /// <summary>In order of precedence: the first kind that shows in the log names the failure.</summary>
    private static readonly (string Category, string Description, Regex Pattern)[] Rules =
    [
        (TriageCategory.OutOfMemory, "The build ran out of memory", OutOfMemory()),
        (TriageCategory.Infrastructure, "The build machine or its services failed", Infrastructure()),
        (TriageCategory.CompileError, "The code does not compile", CompileError()),
        (TriageCategory.Network, "A network call failed", Network()),
        (TriageCategory.Dependency, "A dependency could not be resolved", Dependency()),
        (TriageCategory.Timeout, "A step ran out of time", Timeout()),
        (TriageCategory.TestFailure, "Tests failed", TestFailure()),
        (TriageCategory.Configuration, "The build is misconfigured", Configuration()),
    ];

    public string Name { get; } = name;

    public Task<ProviderAnswer> TriageAsync(TriageRequested request, CancellationToken cancellationToken)
    {
        var verdict = Triage(request.Failure);
        if (ownership?.OwnersOf(request.Failure) is { Count: > 0 } hints)
        {
            verdict = verdict with { SuggestedOwners = hints[0].Owners };
        }

        return Task.FromResult(new ProviderAnswer(verdict, ModelName, new TokenUsage(0, 0)));
    }

    public static TriageVerdict Triage(BuildFailed failure)
    {
        var lines = LogText.StripAnsi(failure.Log).Split('\n');
        var tests = failure.FailedTests.Select(t => t.Name).Where(n => n.Length > 0).Distinct().ToList();

        foreach (var (category, description, pattern) in Rules)
        {
            var hits = lines.Select((line, index) => (line: line.Trim(), index))
                .Where(l => l.line.Length > 0 && pattern.IsMatch(l.line))
                .ToList();
            if (hits.Count == 0 && !(category == TriageCategory.TestFailure && tests.Count > 0))
            {
                continue;
            }

            var cause = hits.Count > 0 ? Shorten(MostTelling(hits.Select(h => h.line), pattern)) : $"{tests.Count} failing test(s) reported by the build";
            return new TriageVerdict(
                Summarise(description, failure, cause, tests),
                category,
                cause,
                [],
                Math.Min(0.3 + (0.1 * hits.Count) + (tests.Count > 0 ? 0.1 : 0), 0.7),
                FlakyLikelihood(category),
                NextSteps(category, cause));
        }

        var last = lines.Select(l => l.Trim()).LastOrDefault(l => l.Length > 0) ?? "the log is empty";
        return new TriageVerdict(
            Summarise("The build failed for a reason the built-in rules do not recognise", failure, Shorten(last), tests),
            TriageCategory.Unknown,
            $"Last line of the log: {Shorten(last)}",
            [],
            0.1,
            0.2,
            ["Read the end of the build log: the built-in rules found no known failure pattern."]);
    }

    /// <summary>Timeouts, network and infrastructure failures tend to pass on a rerun; compile errors never do.</summary>
    private static double FlakyLikelihood(string category) => category switch
    {
        TriageCategory.Network or TriageCategory.Infrastructure => 0.7,
        TriageCategory.Timeout => 0.5,
        TriageCategory.OutOfMemory => 0.3,
        TriageCategory.TestFailure => 0.2,
        _ => 0.05,
    };

    private static IReadOnlyList<string> NextSteps(string category, string cause) => category switch
    {
        TriageCategory.CompileError => [$"Fix the compile error: {cause}", "Build locally before pushing."],
        TriageCategory.TestFailure => ["Run the failing tests locally.", "Check the last change to the code they cover."],
        TriageCategory.Dependency => ["Check that the dependency and version exist in the registry the build uses.", "Check credentials and mirrors of the package registry."],
        TriageCategory.Network => ["Rerun the build; if it fails again, check the remote service and the agent's network."],
        TriageCategory.OutOfMemory => ["Raise the memory limit of the step or the agent.", "Look for a leak or an unbounded input in the failing step."],
        TriageCategory.Timeout => ["Rerun once to rule out a slow agent.", "Find the step that hangs and add a timeout to it."],
        TriageCategory.Infrastructure => ["Rerun on another agent.", "Tell the CI platform team if it repeats."],
        _ => ["Check the build's configuration and the tools on the agent."],
    };

    private static string Summarise(string description, BuildFailed failure, string cause, IReadOnlyList<string> tests)
    {
        var where = failure.Stage is { Length: > 0 } stage ? $" in stage '{stage}'" : string.Empty;
        var summary = $"{description}{where} of {failure.Job} #{failure.BuildNumber}. First sign: {cause.TrimEnd('.')}.";
        if (tests.Count > 0)
        {
            summary += $" Failing tests: {string.Join(", ", tests.Take(5))}{(tests.Count > 5 ? $" and {tests.Count - 5} more" : string.Empty)}.";
        }

        return summary;
    }

    /// <summary>
    /// Tools print a banner ("[ERROR] COMPILATION ERROR :") before the line that explains it; the first hit
    /// that says more than its marker is the cause.
    /// </summary>
    private static string MostTelling(IEnumerable<string> lines, Regex pattern)
    {
        var all = lines.ToList();
        return all.FirstOrDefault(l => l.Length - pattern.Match(l).Length > 20) ?? all[0];
    }

    private static string Shorten(string line) => line.Length <= MaxCauseLength ? line : line[..MaxCauseLength] + "…";

    [GeneratedRegex(@"OutOfMemoryError|out of memory|Cannot allocate memory|std::bad_alloc|\bMemoryError\b|heap out of memory|exit code 137|Killed signal terminated|oom-kill", RegexOptions.IgnoreCase)]
    private static partial Regex OutOfMemory();

    [GeneratedRegex(@"No space left on device|Cannot connect to the Docker daemon|docker: Error response from daemon|agent (went|is) offline|lost connection to (the )?agent|runner (has|was) (lost|shut ?down)|The runner has received a shutdown signal|Disk quota exceeded", RegexOptions.IgnoreCase)]
    private static partial Regex Infrastructure();

    [GeneratedRegex(@"\berror CS\d{4}\b|\berror\[E\d{4}\]|\berror TS\d+\b|: error:|: fatal error:|COMPILATION ERROR|cannot find symbol|Compilation failed|compilation terminated|undefined reference to|SyntaxError:|error: cannot find|\[ERROR\] .*\.(java|kt|scala):\[\d+|Could not compile|does not compile|is not defined in module|unresolved (reference|import)|expected .* found .* at", RegexOptions.IgnoreCase)]
    private static partial Regex CompileError();

    [GeneratedRegex(@"Could not resolve host|Temporary failure in name resolution|Name or service not known|Connection (refused|reset by peer|timed out)|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|Network is unreachable|TLS handshake timeout|SSL: CERTIFICATE_VERIFY_FAILED|503 Service Unavailable|502 Bad Gateway", RegexOptions.IgnoreCase)]
    private static partial Regex Network();

    [GeneratedRegex(@"Could not resolve dependencies|Could not find artifact|Could not resolve all (dependencies|files)|npm ERR! (404|code E404|code ERESOLVE)|No matching distribution found|Unable to find package|error NU1\d{3}|unresolved dependenc|version solving failed|failed to select a version|Could not find a version that satisfies|Cannot find module|ModuleNotFoundError|No module named|package .* is not in (GOROOT|std)|cannot find package|Gem::MissingSpecError|Bundler could not find", RegexOptions.IgnoreCase)]
    private static partial Regex Dependency();

    [GeneratedRegex(@"timed out|\btimeout\b.*(exceeded|expired|reached)|deadline exceeded|No output has been received in the last|exceeded the maximum (execution )?time|Build timed out|took longer than", RegexOptions.IgnoreCase)]
    private static partial Regex Timeout();

    [GeneratedRegex(@"Tests run:.*(Failures|Errors): [1-9]|^--- FAIL:|^FAIL[: ]|test result: FAILED|\bAssertionError\b|AssertionFailedError|Assert\.\w+\(\) Failure|expected:? .* (but was|got|received)|^\s*\d+ (failing|failed)|\bFAILED\b.*(test|spec)|Failed tests:|Tests failed|npm ERR! Test failed|There (was|were) \d+ failures?|\d+ examples?, [1-9]\d* failures?", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex TestFailure();

    [GeneratedRegex(@"command not found|is not recognized as an internal or external command|No such file or directory|Permission denied|Invalid configuration|Missing required (property|argument|parameter)|Unknown option|unrecognized option|undefined variable|is not set", RegexOptions.IgnoreCase)]
    private static partial Regex Configuration();
}
