using Triage.Contracts;
using Triage.Workers.Providers.Builtin;

namespace Triage.Tests.Unit;

public sealed class RuleBasedTriagerTests
{
    [Theory]
    [InlineData("[ERROR] /src/A.java:[87,25] cannot find symbol", TriageCategory.CompileError)]
    [InlineData("Program.cs(12,5): error CS0103: The name 'x' does not exist in the current context", TriageCategory.CompileError)]
    [InlineData("error[E0308]: mismatched types", TriageCategory.CompileError)]
    [InlineData("E       AssertionError: assert 2 == 3", TriageCategory.TestFailure)]
    [InlineData("Tests run: 12, Failures: 2, Errors: 0, Skipped: 0", TriageCategory.TestFailure)]
    [InlineData("--- FAIL: TestParse (0.00s)", TriageCategory.TestFailure)]
    [InlineData("npm ERR! code E404", TriageCategory.Dependency)]
    [InlineData("[ERROR] Failed to execute goal on project x: Could not resolve dependencies for project a:b:jar:1.0", TriageCategory.Dependency)]
    [InlineData("ModuleNotFoundError: No module named 'yaml'", TriageCategory.Dependency)]
    [InlineData("java.lang.OutOfMemoryError: Java heap space", TriageCategory.OutOfMemory)]
    [InlineData("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", TriageCategory.OutOfMemory)]
    [InlineData("curl: (6) Could not resolve host: mirror.example.org", TriageCategory.Network)]
    [InlineData("No output has been received in the last 10m0s, this potentially indicates a stalled build", TriageCategory.Timeout)]
    [InlineData("write /var/lib/docker/tmp: No space left on device", TriageCategory.Infrastructure)]
    [InlineData("/bin/sh: 1: yarn: command not found", TriageCategory.Configuration)]
    [InlineData("Done. Your build exited with 1.", TriageCategory.Unknown)]
    public void Recognises_the_kind_of_failure_from_the_log(string line, string category)
    {
        var verdict = RuleBasedTriager.Triage(Failure($"step 1\nstep 2\n{line}\nmore output"));

        Assert.Equal(category, verdict.Category);
        Assert.InRange(verdict.Confidence, 0, 1);
    }

    [Fact]
    public void Names_the_line_that_explains_the_failure_rather_than_its_banner()
    {
        var verdict = RuleBasedTriager.Triage(Failure("""
            [INFO] Compiling 214 source files
            [ERROR] COMPILATION ERROR :
            [ERROR] /w/src/main/java/com/acme/RefundService.java:[87,25] cannot find symbol
            [INFO] BUILD FAILURE
            """));

        Assert.Equal(TriageCategory.CompileError, verdict.Category);
        Assert.Contains("RefundService.java:[87,25] cannot find symbol", verdict.SuspectedCause);
        Assert.Contains("RefundService.java", verdict.Summary);
    }

    [Fact]
    public void Reported_failing_tests_make_a_test_failure_and_are_named_in_the_summary()
    {
        var failure = Failure("nothing recognisable here") with
        {
            FailedTests = [new FailedTest("OrdersTest.cancels_an_order"), new FailedTest("OrdersTest.refunds")],
        };

        var verdict = RuleBasedTriager.Triage(failure);

        Assert.Equal(TriageCategory.TestFailure, verdict.Category);
        Assert.Contains("OrdersTest.cancels_an_order", verdict.Summary);
        Assert.Contains("OrdersTest.refunds", verdict.Summary);
    }

    [Fact]
    public void Colour_codes_do_not_hide_an_error()
    {
        var verdict = RuleBasedTriager.Triage(Failure("\u001b[31;1mjava.lang.OutOfMemoryError\u001b[0m: Java heap space"));

        Assert.Equal(TriageCategory.OutOfMemory, verdict.Category);
        Assert.DoesNotContain("\u001b", verdict.SuspectedCause);
    }

    private static BuildFailed Failure(string log) => Infrastructure.Samples.Failure(log);
}
