using System.Text;
using Triage.Router.Excerpts;

namespace Triage.Tests.Unit;

public sealed class FailureExcerptTests
{
    [Fact]
    public void Stays_within_its_line_and_byte_bounds_on_a_long_log()
    {
        var log = string.Join('\n', Enumerable.Range(1, 100_000).Select(i => $"line {i} error " + new string('x', i % 300)));

        var excerpt = FailureExcerpt.From(log);

        Assert.True(excerpt.Split('\n').Length <= FailureExcerpt.MaxLines + FailureExcerpt.MaxLines / 2, "gap markers aside, at most MaxLines");
        Assert.True(Encoding.UTF8.GetByteCount(excerpt) <= FailureExcerpt.MaxBytes + 2 * FailureExcerpt.MaxLines);
    }

    [Fact]
    public void Finds_the_error_in_the_middle_of_a_long_log_and_leaves_the_noise()
    {
        var lines = new List<string>();
        lines.AddRange(Enumerable.Range(1, 3000).Select(i => $"Downloading artifact {i}/3000 from https://repo.example/{i}.jar"));
        lines.Add("src/main/java/com/acme/Ledger.java:[41,17] error: cannot find symbol");
        lines.Add("  symbol:   method balance()");
        lines.Add("  location: class com.acme.Account");
        lines.AddRange(Enumerable.Range(1, 400).Select(i => $"Uploading report part {i}"));
        lines.Add("The command \"mvn -B verify\" exited with 1.");
        lines.Add("Done. Your build exited with 1.");

        var excerpt = FailureExcerpt.Extract(string.Join('\n', lines));

        Assert.Contains("error: cannot find symbol", excerpt.Text);
        Assert.Contains("symbol:   method balance()", excerpt.Text);
        Assert.DoesNotContain("Downloading artifact 17/3000", excerpt.Text);
        Assert.True(excerpt.SourceLines.Count < 60, $"kept {excerpt.SourceLines.Count} lines");
    }

    [Fact]
    public void Keeps_what_a_failing_command_printed_last_even_without_a_marker()
    {
        var log = string.Join('\n', Enumerable.Range(1, 500).Select(i => $"checking link {i} ok")
            .Append("Links with issues: 2")
            .Append("  1. https://example.org/gone 404")
            .Append("The command \"awesome_bot README.md\" exited with 1."));

        var excerpt = FailureExcerpt.From(log);

        Assert.Contains("1. https://example.org/gone 404", excerpt);
    }

    [Fact]
    public void Errors_of_the_step_that_failed_come_before_errors_of_steps_that_carried_on()
    {
        var lines = new List<string> { "$ ./install-tools.sh" };
        for (var i = 0; i < 40; i++)
        {
            lines.Add($"error: optional tool {i} could not be installed, continuing");
            lines.AddRange(Enumerable.Range(1, 5).Select(j => $"  retry {j} of tool {i} failed"));
        }

        lines.Add("The command \"./install-tools.sh\" exited with 0.");
        lines.Add("$ make test");
        lines.AddRange(Enumerable.Range(1, 300).Select(i => $"test {i} passed"));
        lines.Add("warning: ledger_test.c:41: comparison of integers of different signs");
        lines.AddRange(Enumerable.Range(1, 300).Select(i => $"test {i + 300} passed"));
        lines.Add("The command \"make test\" exited with 2.");
        lines.Add("store build cache");
        lines.AddRange(Enumerable.Range(1, 50).Select(i => $"uploading part {i} failed, retrying"));
        lines.Add("Done. Your build exited with 1.");

        var excerpt = FailureExcerpt.From(string.Join('\n', lines));

        Assert.Contains("warning: ledger_test.c:41", excerpt);
        Assert.Contains("test 600 passed", excerpt);
        Assert.DoesNotContain("uploading part 40 failed", excerpt);
    }

    [Fact]
    public void A_name_that_merely_contains_a_marker_is_not_one()
    {
        var log = string.Join('\n', Enumerable.Range(1, 400).Select(i => $"Executed Test_let_errors_{i}() in 0.001 seconds, see exceptions_test.rb")
            .Append("FAILED: test_quotestar.vim: expected 'abc' got 'abd'"));

        var excerpt = FailureExcerpt.Extract(log);

        Assert.Contains("FAILED: test_quotestar.vim", excerpt.Text);
        Assert.True(excerpt.SourceLines.Count < 10, $"kept {excerpt.SourceLines.Count} lines");
    }

    [Fact]
    public void A_package_named_like_a_marker_is_not_one()
    {
        var log = string.Join('\n', Enumerable.Range(1, 300).Select(i => $"    depends exceptions-0.10.{i}-K1JVigLRL0e8f7wZmwIycT")
            .Append("Setup: Encountered missing dependencies:")
            .Append("    error-prone-2.3.4 was not found"));

        var excerpt = FailureExcerpt.Extract(log);

        Assert.Contains("missing dependencies", excerpt.Text);
        Assert.DoesNotContain("depends exceptions-0.10.1-", excerpt.Text);
    }

    [Fact]
    public void Strips_colour_codes_fold_markers_and_colour_codes_that_lost_their_escape()
    {
        var excerpt = FailureExcerpt.From("travis_fold:start:install\r\n\u001b[32mok\u001b[0m\r\ntravis_fold:end:install\r\n[[1;31mERROR[m] \u001b[31mFAILED\u001b[0m\n\n");

        Assert.Contains("[ERROR] FAILED", excerpt);
        Assert.DoesNotContain("\u001b", excerpt);
        Assert.DoesNotContain("travis_fold", excerpt);
    }

    [Fact]
    public void Cuts_a_single_enormous_line()
    {
        var excerpt = FailureExcerpt.From(new string('a', 50_000));

        Assert.True(excerpt.Length <= FailureExcerpt.MaxLineLength + 2);
    }
}
