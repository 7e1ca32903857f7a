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

    [Theory]
    [InlineData("Build step 'Execute shell' marked build as failure", true)]
    [InlineData("[2024-01-02T10:11:12.345Z] Build step 'Invoke top-level Maven targets' marked build as failure", true)]
    [InlineData("Build step 'Execute shell' marked build as unstable", false)]
    [InlineData("echo \"Build step 'x' marked build as failure\" > notes.txt", false)]
    public void Jenkins_marking_the_build_failed_is_the_close_of_the_step_that_failed(string line, bool close)
    {
        Assert.Equal(close, FailureMarkers.IsFailedExit(line));
        Assert.Equal(close, FailureMarkers.IsExit(line));
    }

    [Fact]
    public void Keeps_what_a_jenkins_build_step_printed_last_even_without_a_marker()
    {
        var log = "[ledger] $ /bin/sh -xe /tmp/jenkins4242.sh\n" + Noise(300) + "\nwarning: option --legacy is deprecated\n"
            + Noise(300, "more ") + "\nDeploy rejected by the registry: version 1.4.2 of ledger-core already exists\n"
            + "Build step 'Execute shell' marked build as failure\nFinished: FAILURE";

        var excerpt = FailureExcerpt.From(log);

        Assert.Contains("Deploy rejected by the registry: version 1.4.2 of ledger-core already exists", excerpt);
    }

    [Fact]
    public void Jenkins_pipeline_structure_does_not_spend_the_context_of_the_exit()
    {
        // What a declarative pipeline prints after a failed step: a dozen lines about its stages, then the exit.
        var lines = new List<string> { "[Pipeline] Start of Pipeline", "[Pipeline] node", "[Pipeline] {", "[Pipeline] stage", "[Pipeline] { (Publish)", "[Pipeline] sh", "+ ./publish.sh" };
        lines.AddRange(Enumerable.Range(1, 300).Select(i => $"Uploading ledger-core-1.4.2 part {i} of 300"));
        lines.Add("Deploy rejected by the registry: version 1.4.2 of ledger-core already exists");
        lines.AddRange(["[Pipeline] }", "[Pipeline] // stage"]);
        foreach (var stage in new[] { "Deploy", "Smoke", "Notify" })
        {
            lines.AddRange(["[Pipeline] stage", $"[Pipeline] {{ ({stage})", $"Stage \"{stage}\" skipped due to earlier failure(s)", "[Pipeline] }", "[Pipeline] // stage"]);
        }

        lines.AddRange(["[Pipeline] }", "[Pipeline] // node", "[Pipeline] End of Pipeline", "ERROR: script returned exit code 1", "Finished: FAILURE"]);

        var excerpt = FailureExcerpt.Extract(string.Join('\n', lines));

        // The focus, which the cache compares, has only the exit's context to go by: no marker says why.
        Assert.Contains("Deploy rejected by the registry: version 1.4.2 of ledger-core already exists", FailureExcerpt.Focus(excerpt.Text));
        Assert.DoesNotContain("[Pipeline]", excerpt.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("skipped due to earlier failure", excerpt.Text, StringComparison.Ordinal);
        Assert.Equal(lines.Count, excerpt.LogLines);
        var exit = excerpt.Text.Split('\n').ToList().IndexOf("ERROR: script returned exit code 1");
        Assert.Equal(lines.IndexOf("ERROR: script returned exit code 1"), excerpt.SourceLines[exit]);
    }

    [Fact]
    public void A_marker_after_pipeline_structure_with_a_marker_of_its_own_is_found()
    {
        // The search for markers finds "error" in the structure line first; the line after it is the log's first.
        var log = "[Pipeline] error\nerror: pathspec 'release' did not match any file(s) known to git\n"
            + string.Join('\n', Enumerable.Range(1, 400).Select(i => $"cleaning workspace part {i} of 400"));

        Assert.Contains("error: pathspec 'release' did not match any file(s) known to git", FailureExcerpt.From(log), StringComparison.Ordinal);
    }

    [Fact]
    public void A_log_of_pipeline_structure_alone_is_shown_as_it_is()
    {
        var excerpt = FailureExcerpt.Extract("[Pipeline] Start of Pipeline\n[Pipeline] node\n[Pipeline] }\n[Pipeline] End of Pipeline");

        Assert.Contains("[Pipeline] End of Pipeline", excerpt.Text, StringComparison.Ordinal);
        Assert.Equal(4, excerpt.LogLines);
    }

    [Theory]
    [InlineData("[Pipeline] }", true)]
    [InlineData("[Pipeline] // stage", true)]
    [InlineData("[2024-01-02T10:11:12.345Z] [Pipeline] sh", true)]
    [InlineData("11:09:31  [Pipeline] { (Build)", true)]
    [InlineData("Stage \"Deploy\" skipped due to earlier failure(s)", true)]
    [InlineData("Stage \"Deploy\" skipped due to when conditional", true)]
    [InlineData("+ echo '[Pipeline] }'", false)]
    [InlineData("Pipeline failed: stage Deploy", false)]
    public void Jenkins_says_which_lines_are_the_pipeline_s_own(string line, bool structure)
    {
        Assert.Equal(structure, FailureMarkers.IsPipelineStructure(line));
    }

    [Fact]
    public void Pipeline_structure_with_failure_words_in_it_is_left_out_all_the_same()
    {
        // The error step and catchError print their own names; the message is what the build said.
        var lines = new List<string> { "[Pipeline] stage", "[Pipeline] { (Verify)", "[Pipeline] catchError", "[Pipeline] {", "[Pipeline] sh", "+ make verify" };
        lines.AddRange(Enumerable.Range(1, 200).Select(i => $"verified module {i}"));
        lines.AddRange(["make: *** [Makefile:12: verify] Error 2", "[Pipeline] }", "[Pipeline] // catchError", "[Pipeline] error", "[Pipeline] }", "[Pipeline] // stage", "[Pipeline] End of Pipeline"]);
        lines.AddRange(["ERROR: verification failed", "Finished: FAILURE"]);

        var excerpt = FailureExcerpt.From(string.Join('\n', lines));

        Assert.Contains("make: *** [Makefile:12: verify] Error 2", excerpt);
        Assert.Contains("ERROR: verification failed", excerpt);
        Assert.DoesNotContain("[Pipeline]", excerpt, StringComparison.Ordinal);
    }

    [Fact]
    public void In_a_step_of_many_tools_the_latest_verdicts_come_first()
    {
        // A Jenkins shell step builds every example before the project itself: the examples' errors did not fail it.
        var lines = new List<string> { "[ledger] $ /bin/sh -xe /tmp/jenkins4242.sh" };
        for (var k = 1; k <= 12; k++)
        {
            lines.Add($"compiling examples/ledger_{k}/");
            lines.AddRange(Enumerable.Range(1, 12).Select(i =>
                $"[ERROR] /builds/workspace/ledger/examples/ledger_{k}/src/main/java/org/example/Entities{i}.java:[{i},29] unmappable character for encoding UTF-8"));
        }

        lines.AddRange(Enumerable.Range(1, 200).Select(i => $"[INFO] Compiling module {i}"));
        lines.Add("[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.0:compile (default-compile) on project ledger: Compilation failure");
        lines.Add("[ERROR] /builds/workspace/ledger/src/main/java/org/example/Journal.java:[23,29] cannot find symbol");
        lines.AddRange(Enumerable.Range(1, 14).Select(i => $"[INFO] Uploading report {i} of 14"));
        lines.Add("Build step 'Execute shell' marked build as failure");

        var excerpt = FailureExcerpt.From(string.Join('\n', lines));

        Assert.Contains("Journal.java:[23,29] cannot find symbol", excerpt);
    }

    [Theory]
    [InlineData("com.example.TimeoutException: Failed to drain within the deadline", "INFO: Server session closed due to error", true)]
    [InlineData("java.lang.Exception: fail", "WARNING: Failed invocation: fail", true)]
    [InlineData("java.lang.IllegalStateException: closed", "SEVERE: Request failed", false)]
    [InlineData("java.lang.IllegalStateException: closed", "Tests run: 3, Failures: 1", false)]
    [InlineData("INFO: the next record", "INFO: Server session closed due to error", false)]
    public void An_exception_a_logger_recorded_below_the_error_level_was_handled(string line, string above, bool handled)
    {
        Assert.Equal(handled, FailureMarkers.IsHandled(line, above));
    }

    [Theory]
    [InlineData("[INFO] Running org.example.ledger.JournalTest", true, false, false)]
    [InlineData("Running com.example.cache.DiskCacheTest", true, false, false)]
    [InlineData("[INFO] Running tests in parallel", false, false, false)]
    [InlineData("[INFO] Tests run: 7, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 7.537 s - in org.example.ledger.JournalTest", false, true, true)]
    [InlineData("[WARNING] Tests run: 12, Failures: 0, Errors: 0, Skipped: 1, Time elapsed: 0.2 s - in org.example.ledger.JournalTest", false, true, true)]
    [InlineData("Tests run: 57, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 4.332 sec", false, true, true)]
    [InlineData("[ERROR] Tests run: 8, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 32.995 s <<< FAILURE! - in org.example.MinerTest", false, true, false)]
    [InlineData("[INFO] Tests run: 7147, Failures: 0, Errors: 0, Skipped: 7", false, false, false)]
    public void Maven_s_test_runner_opens_and_closes_each_class(string line, bool opens, bool closes, bool passed)
    {
        Assert.Equal(opens, FailureMarkers.RunsTestClass(line));
        Assert.Equal(closes, FailureMarkers.IsTestClassSummary(line));
        Assert.Equal(passed, FailureMarkers.PassedTestClass(line));
    }

    [Fact]
    public void What_the_tests_of_a_passing_class_printed_is_no_failure()
    {
        var log = "$ mvn test\n" + Noise(200) + "\n[INFO] Running org.example.cli.OptionsTest\n"
            + "Error: --rule-key, --violation-specs are mutually exclusive (specify only one)\n"
            + "Usage: ledger repair [-hV] [--rule-key=<ruleKey>]\n"
            + "[INFO] Tests run: 7, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 7.537 s - in org.example.cli.OptionsTest\n"
            + "[INFO] Running org.example.miner.MinerTest\n"
            + "org.example.TransportException: https://git.example.org/ledger.git: 503 Service Unavailable\n"
            + "\tat org.example.miner.Miner.clone(Miner.java:39)\n"
            + "[ERROR] Tests run: 8, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 32.995 s <<< FAILURE! - in org.example.miner.MinerTest\n"
            + "[ERROR] mines_the_warnings  Time elapsed: 0.461 s  <<< FAILURE!\n"
            + "java.lang.AssertionError: expected a value greater than <0>\n"
            + Noise(100, "after ") + "\nThe command \"mvn test\" exited with 1.";

        var excerpt = FailureExcerpt.From(log);

        Assert.DoesNotContain("mutually exclusive", excerpt);
        Assert.Contains("503 Service Unavailable", excerpt);
        Assert.Contains("[ERROR] mines_the_warnings  Time elapsed: 0.461 s  <<< FAILURE!", excerpt);
    }

    [Fact]
    public void A_passing_class_whose_opening_was_lost_leaves_the_failed_class_above_it_alone()
    {
        var log = "$ mvn test\n" + Noise(200) + "\n[INFO] Running org.example.ledger.JournalTest\n"
            + "[ERROR] Tests run: 1, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.1 s <<< FAILURE! - in org.example.ledger.JournalTest\n"
            + "[ERROR] rejects_a_negative_balance  Time elapsed: 0.1 s  <<< FAILURE!\n"
            + "java.lang.AssertionError: expected the journal to refuse -5\n"
            + "\tat org.example.ledger.JournalTest.rejects_a_negative_balance(JournalTest.java:41)\n"
            + "[INFO] Tests run: 3, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.2 s - in org.example.ledger.AuditTest\n"
            + Noise(100, "after ") + "\nThe command \"mvn test\" exited with 1.";

        var excerpt = FailureExcerpt.From(log);

        Assert.Contains("java.lang.AssertionError: expected the journal to refuse -5", excerpt);
    }

    [Fact]
    public void The_jvm_s_warning_about_reflective_access_is_boilerplate()
    {
        var log = "$ mvn test\n" + Noise(200) + "\nWARNING: An illegal reflective access operation has occurred\n"
            + "WARNING: Illegal reflective access by com.google.inject.internal.cglib.core.$ReflectUtils$1 (file:/usr/share/maven/lib/guice.jar)\n"
            + "WARNING: Please consider reporting this to the maintainers of com.google.inject.internal.cglib.core.$ReflectUtils$1\n"
            + "WARNING: Use --illegal-access=warn to enable warnings of further illegal reflective access operations\n"
            + "WARNING: All illegal access operations will be denied in a future release\n"
            + Noise(200, "more ") + "\n[ERROR] LedgerTest.rejects_a_negative_balance:41 expected <0> but was <-5>\n"
            + Noise(20, "after ") + "\nThe command \"mvn test\" exited with 1.";

        var excerpt = FailureExcerpt.From(log);

        Assert.DoesNotContain("illegal", excerpt, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("[ERROR] LedgerTest.rejects_a_negative_balance:41", excerpt);
    }

    [Fact]
    public void The_trace_of_the_failure_is_kept_whole_before_weak_markers_get_their_lines()
    {
        // Warnings that differ in more than their numbers, so that each is a block of its own worth its share.
        string[] options =
        [
            "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo", "lima",
            "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey",
            "xray", "yankee", "zulu",
        ];
        var lines = new List<string> { "$ npm test" };
        foreach (var option in options)
        {
            lines.Add($"warning: option --{option} is deprecated");
            lines.AddRange(Enumerable.Range(1, 6).Select(j => $"compiled module {option} part {j}"));
        }

        lines.Add("TypeError: Cannot read properties of undefined (reading 'balance')");
        lines.AddRange(Enumerable.Range(1, 120).Select(i => $"    at Ledger.post (/app/lib/ledger/step{i}.js:{i}:5)"));
        lines.AddRange(Enumerable.Range(1, 40).Select(i => $"npm notice {i}"));
        lines.Add("The command \"npm test\" exited with 1.");

        var excerpt = FailureExcerpt.From(string.Join('\n', lines));

        Assert.Contains("TypeError: Cannot read properties of undefined (reading 'balance')", excerpt);
        Assert.Contains("/app/lib/ledger/step120.js", excerpt);
    }

    [Theory]
    [InlineData("Detecting the current branch failed: fatal: ref HEAD is not a symbolic ref", "[WARNING] Cannot get the branch information from the git repository: ", true)]
    [InlineData("fatal: not a git repository", "WARNING: could not read the version:", true)]
    [InlineData("[ERROR] Failed to execute goal", "[WARNING] Cannot get the branch information from the git repository:", false)]
    [InlineData("fatal: ref HEAD is not a symbolic ref", "[WARNING] The POM is invalid", false)]
    [InlineData("fatal: ref HEAD is not a symbolic ref", "[INFO] Executing:", false)]
    [InlineData("Error: could not resolve org.acme:ledger:1.2", "[warn] \tThere may be incompatibilities among your library dependencies:", true)]
    [InlineData("fatal: not a git repository (or any of the parent directories): .git", "warning: could not describe the version:", true)]
    public void The_second_line_of_a_split_warning_is_a_warning(string line, string above, bool continues)
    {
        Assert.Equal(continues, FailureMarkers.ContinuesWarning(line, above));
    }

    [Fact]
    public void The_runner_s_verdict_comes_before_exceptions_that_passing_tests_logged()
    {
        string[] parts = ["ledger", "journal", "balance", "audit", "payroll", "invoice", "receipt", "refund", "tax", "report", "budget", "vault"];
        var lines = new List<string> { "$ ./sbt test" };
        foreach (var part in parts)
        {
            lines.Add($"Jul 30, 2019 12:41:38 AM com.example.{part}.Session close");
            lines.Add("INFO: Server session closed due to error");
            lines.Add($"com.example.{part}.DrainException: Failed to drain the {part} session within the deadline");
            lines.AddRange(Enumerable.Range(1, 20).Select(i => $"\tat com.example.{part}.Session.run(Session.scala:{i})"));
            lines.AddRange(Enumerable.Range(1, 6).Select(i => $"[info] - answers {part} request {i}"));
        }

        lines.Add("[info] - rejects a client without TLS *** FAILED ***");
        lines.Add("[info]   Expected exception com.example.SslException to be thrown (SslTest.scala:151)");
        lines.AddRange(Enumerable.Range(1, 15).Select(i => $"[info] Uploading report {i} of 15"));
        lines.Add("The command \"./sbt test\" exited with 1.");

        var excerpt = FailureExcerpt.From(string.Join('\n', lines));

        Assert.Contains("[info] - rejects a client without TLS *** FAILED ***", excerpt);
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
    public void A_trace_logged_again_and_again_leaves_room_for_the_failure_after_it()
    {
        // A server that logs the same handled exception on every test it runs, then the one test that failed.
        var lines = new List<string> { "$ ./gradlew test" };
        for (var run = 0; run < 12; run++)
        {
            lines.Add($"12:00:{run:00} WARN  Session {1000 + run} closed");
            lines.Add("com.acme.net.DrainException: Failed to drain within the deadline");
            lines.AddRange(Enumerable.Range(1, 30).Select(f => $"\tat com.acme.net.Session.drain{f}(Session.java:{100 + f})"));
            lines.AddRange(Enumerable.Range(1, 20).Select(t => $"test case {run * 20 + t} passed"));
        }

        lines.Add("LedgerTest > rejects_a_negative_balance FAILED");
        lines.Add("    java.lang.AssertionError: expected:<-1> but was:<0>");
        lines.Add("        at com.acme.LedgerTest.rejects_a_negative_balance(LedgerTest.java:41)");
        lines.AddRange(Enumerable.Range(1, 20).Select(t => $"test case {300 + t} passed"));
        lines.Add("The command \"./gradlew test\" exited with 1.");

        var excerpt = FailureExcerpt.From(string.Join('\n', lines));

        Assert.Contains("rejects_a_negative_balance FAILED", excerpt);
        Assert.Contains("expected:<-1> but was:<0>", excerpt);
        Assert.Contains("Failed to drain within the deadline", excerpt);
    }

    [Theory]
    [InlineData("Note: the optional module {0} is missing, going on without it")]
    [InlineData("Note: the module {0} reported an error while probing, going on")]
    public void A_report_without_failure_words_above_the_failed_step_s_close_comes_before_markers_of_other_steps(string note)
    {
        // An install step that prints a marker, weak or strong, again and again, and carries on; then a linter that
        // names every finding without a failure word, and the step it failed.
        var lines = new List<string> { "$ ./install.sh" };
        for (var i = 0; i < 2000; i++)
        {
            lines.Add($"Installing dependency lib{i} version 1.0.{i} from the mirror");
            if (i % 100 == 0)
            {
                lines.Add(string.Format(System.Globalization.CultureInfo.InvariantCulture, note, Word(i)));
            }
        }

        lines.Add("$ npm test");
        lines.AddRange(Enumerable.Range(0, 30).Select(i => $"  /src/{Word(i)}.js:{i + 1}:3: Unnecessary semicolon after {Word(i + 7)}."));
        lines.Add("The command \"npm test\" exited with 1.");

        var excerpt = FailureExcerpt.From(string.Join('\n', lines));

        Assert.All(Enumerable.Range(0, 30), i => Assert.Contains($"/src/{Word(i)}.js:{i + 1}:3:", excerpt));
        Assert.Contains(note[..10], excerpt);

        static string Word(int i) => new(Enumerable.Range(0, 3).Select(d => (char)('a' + (i / (int)Math.Pow(26, d)) % 26)).ToArray());
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

    private static string Noise(int count, string prefix = "") =>
        string.Join('\n', Enumerable.Range(1, count).Select(i => $"{prefix}Downloading artifact {i} from https://repo.example/{i}.jar"));

    [Fact]
    public void A_trace_goes_on_across_a_blank_line_and_the_headers_of_its_causes()
    {
        var trace = string.Join('\n',
            "ERROR: Error cloning remote repo 'origin'",
            "hudson.plugins.git.GitException: Command \"git fetch\" returned status code 128:",
            "stdout: ",
            "stderr: fatal: unable to access 'https://git.example/repo.git/': The requested URL returned error: 503",
            "",
            "\tat org.example.git.CliGit.launch(CliGit.java:2681)",
            "\tat org.example.git.CliGit.fetch(CliGit.java:2102)",
            "Caused: hudson.remoting.Channel$OrderlyShutdown",
            "Also:   hudson.remoting.Channel$CallSiteStackTrace: Remote call to builder-1",
            "\t\tat hudson.remoting.Channel.call(Channel.java:1001)",
            "\t\tat org.example.checkout.Checkout.run(Checkout.java:42)");

        var excerpt = FailureExcerpt.From(Noise(200) + "\n" + trace + "\n" + Noise(200, "post "));

        Assert.Contains("at org.example.git.CliGit.fetch(CliGit.java:2102)", excerpt);
        Assert.Contains("at org.example.checkout.Checkout.run(Checkout.java:42)", excerpt);
    }

    [Fact]
    public void A_long_trace_is_kept_past_the_loose_lines_a_block_may_carry()
    {
        var frames = Enumerable.Range(1, 90).Select(i => $"\tat org.example.layer{i}.Call.invoke(Call.java:{i})");
        var log = Noise(300) + "\norg.opentest4j.AssertionFailedError: expected: <true> but was: <false>\n"
            + string.Join('\n', frames) + "\n" + Noise(100, "after ");

        var excerpt = FailureExcerpt.From(log);

        Assert.Contains("at org.example.layer90.Call.invoke(Call.java:90)", excerpt);
    }

    [Fact]
    public void Time_stamps_before_each_line_do_not_hide_boilerplate_or_continuation()
    {
        var stamp = "2022-05-30T09:11:02.8577255Z ";
        var log = string.Join('\n', Enumerable.Range(1, 200).Select(i => $"{stamp}Downloading artifact {i}")
            .Append($"{stamp}ConsoleClientTest > testClassicParsing() FAILED")
            .Append($"{stamp}    java.lang.IllegalArgumentException: no such file ../data/a.log")
            .Append($"{stamp}        at org.example.LogParser.parseLog(LogParser.java:39)")
            .Append($"{stamp}")
            .Append($"{stamp}        Caused by:")
            .Append($"{stamp}        java.nio.file.NoSuchFileException: ../data/a.log")
            .Append($"{stamp}            at org.example.Files.lines(Files.java:12)")
            .Concat(Enumerable.Range(1, 100).Select(i => $"{stamp}Uploading {i}"))
            .Append($"{stamp}##[error]Process completed with exit code 1."));

        var excerpt = FailureExcerpt.From(log);

        Assert.Contains("at org.example.Files.lines(Files.java:12)", excerpt);
        Assert.Equal(0, FailureMarkers.Weight($"{stamp}[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch."));
        Assert.True(FailureMarkers.IsExit($"{stamp}##[error]Process completed with exit code 1."));
    }

    [Fact]
    public void The_time_stamp_before_each_line_is_left_out_so_the_budget_goes_to_what_the_tools_printed()
    {
        // With its stamp each frame is half as long again: the trace would not fit the byte budget.
        var stamp = "2022-05-30T09:11:02.8577255Z ";
        var log = string.Join('\n', Enumerable.Range(1, 200).Select(i => $"{stamp}Downloading artifact {i}")
            .Append($"{stamp}java.lang.IllegalStateException: no route to the registry")
            .Concat(Enumerable.Range(1, 120).Select(i => $"{stamp}\tat org.example.layer{i}.Call.invoke(Call.java:{i})"))
            .Concat(Enumerable.Range(1, 100).Select(i => $"{stamp}Uploading {i}"))
            .Append($"{stamp}##[error]Process completed with exit code 1."));

        var excerpt = FailureExcerpt.From(log);

        Assert.Contains("\tat org.example.layer120.Call.invoke(Call.java:120)", excerpt);
        Assert.DoesNotContain("2022-05-30", excerpt);
        Assert.Contains("java.lang.IllegalStateException: no route to the registry", excerpt.Split('\n'));
    }

    [Theory]
    [InlineData(" > git fetch --tags https://git.example/repo.git # timeout=10")]
    [InlineData("[INFO] --- jacoco-maven-plugin:0.8.1:report @ assertj-core ---")]
    [InlineData("Time elapsed in ms for assertDoesNotHaveDuplicates : 237")]
    [InlineData("Number of failures in tests: 0")]
    [InlineData("[ RUN      ] floating windows API has proper error messages: 3.15 ms OK")]
    [InlineData("        responds with an error if the identifier cannot be found:    OK (0.01s)")]
    [InlineData("test_fails_on_bad_input PASSED")]
    [InlineData("[info] - client rejects illegal headers with an exception !!! IGNORED !!!")]
    [InlineData("[info] - server rejects an invalid header")]
    [InlineData("Allow some information gathering to give useful error messages")]
    [InlineData("* Improve the error message given when using --version with multiple gems")]
    [InlineData("Password prompt timeout: 0.0 minutes")]
    [InlineData("Read timeout => 30")]
    public void Settings_names_and_passing_tests_are_no_failure(string line)
    {
        Assert.Equal(0, FailureMarkers.Weight(line));
    }

    [Theory]
    [InlineData("hint: of your new repositories, which will suppress this warning, call:", 0)]
    [InlineData("2022-05-07T08:49:03.9012345Z hint: of your new repositories, which will suppress this warning, call:", 0)]
    [InlineData("error: failed to push some refs to 'https://git.example.org/ledger.git'", 3)]
    [InlineData("fatal: unsafe repository ('/github/workspace' is owned by someone else)", 3)]
    public void Git_s_hints_are_advice_and_its_errors_are_verdicts(string line, int weight)
    {
        Assert.Equal(weight, FailureMarkers.Weight(line));
    }

    [Theory]
    [InlineData("[info] Passed: Total 4, Failed 0, Errors 0, Passed 4")]
    [InlineData("298 runs, 654 assertions, 0 failures, 0 errors, 0 skips")]
    [InlineData("[WARNING] Tests run: 12, Failures: 0, Errors: 0, Skipped: 1, Time elapsed: 0.024 s - in org.example.LedgerTest")]
    [InlineData("[INFO] no errors, no warnings")]
    [InlineData("Build succeeded.    0 Error(s)")]
    [InlineData("[info] + errors.for invalid enum: OK, proved property.")]
    [InlineData("[info] + range.too large range throws exception: OK, passed 100 tests.")]
    [InlineData("OK (41 tests, 123 assertions)")]
    [InlineData("OK (1 test, 1 assertion)")]
    public void Counts_of_nothing_failed_are_no_failure(string line)
    {
        Assert.Equal(0, FailureMarkers.Weight(line));
    }

    [Theory]
    [InlineData("Tests: 1 failed, 5 passed")]
    [InlineData("Tests: 10 failed, 5 passed")]
    [InlineData("Tests run: 5, Failures: 1, Errors: 0, Skipped: 0")]
    [InlineData("Tests: 12, Assertions: 30, Failures: 1.")]
    [InlineData("OK (2 tests, 2 assertions, but 1 error)")]
    [InlineData("Graphviz dot encountered an error when generating the diagram for:")]
    [InlineData("[INFO] Error stacktraces are turned on.")]
    [InlineData("13105 examples, 1 failure, 3 pending")]
    [InlineData("ERROR balancer: dial tcp 127.0.0.1:9: connection refused")]
    [InlineData("Error parsing config: error reading header")]
    [InlineData("Connecting to remote server localhost failed with the following error message : access is denied")]
    public void Failure_words_in_passing_are_strong_markers(string line)
    {
        Assert.Equal(2, FailureMarkers.Weight(line));
    }

    [Theory]
    [InlineData("timeout: 30 seconds elapsed while waiting for the database")]
    [InlineData("Timeout: 2000ms exceeded")]
    [InlineData("Missing: 2 files")]
    [InlineData("Invalid: 3")]
    public void A_marker_before_a_number_is_one_unless_it_is_a_timeout_setting(string line)
    {
        Assert.Equal(1, FailureMarkers.Weight(line));
    }

    [Theory]
    [InlineData("[info] - rejects a bad header *** FAILED ***")]
    [InlineData("org.opentest4j.AssertionFailedError: expected: <1> but was: <2>")]
    [InlineData("FAIL src/ledger.test.js")]
    [InlineData("--- FAIL: TestLedger (0.01s)")]
    [InlineData("src/ledger.c:12:5: error: unknown type name 'money'")]
    [InlineData("[ERROR] /w/src/Ledger.java:[155,27] error: incompatible types")]
    [InlineData("error[E0425]: cannot find value `total` in this scope")]
    [InlineData("!!  754 - neg/t742.scala                            [compilation failed]")]
    [InlineData("    Ledger.Tests.BalanceFixture.Rejects_a_negative_balance [FAIL]")]
    [InlineData("= ==16563==ERROR: AddressSanitizer: SEGV on unknown address 0x000001d548d0")]
    [InlineData("Firefox 60.0.0 (Windows 7.0.0) injector should throw if the value has not been set yet FAILED")]
    [InlineData("  1) Ledger rejects a negative balance")]
    [InlineData("     Failure/Error: expect(balance).to eq(0)")]
    public void A_tools_verdict_is_more_than_a_failure_word(string line)
    {
        // The "1)" line is a verdict only through the rspec line after it: on its own it names no failure.
        Assert.Equal(line.Contains("1)", StringComparison.Ordinal) ? 0 : 3, FailureMarkers.Weight(line));
    }

    [Theory]
    [InlineData("E           KeyError: 'user'")]
    [InlineData("tests/test_ssl.py:14: AssertionError")]
    [InlineData("java.lang.IllegalStateException: closed")]
    public void A_thrown_type_named_alone_is_a_weak_marker(string line)
    {
        // Passing tests print the exceptions they expect: without a failure word, the type is context, not a verdict.
        Assert.Equal(1, FailureMarkers.Weight(line));
    }

    [Fact]
    public void The_verdict_of_the_failed_step_outranks_later_lines_that_mention_errors()
    {
        var lines = new List<string> { "$ make test" };
        lines.AddRange(Enumerable.Range(1, 100).Select(i => $"ledger_{i} ok"));
        lines.Add("Ledger rejects a negative balance FAILED");
        lines.AddRange(Enumerable.Range(1, 12).Select(i => $"\tframe_{i}@ledger.js:{i}:1"));
        for (var i = 0; i < 60; i++)
        {
            lines.Add($"Chrome LOG: 'fixture {i} retried after an error'");
            lines.AddRange(Enumerable.Range(1, 6).Select(_ => "................................"));
        }

        lines.Add("The command \"make test\" exited with 1.");

        var excerpt = FailureExcerpt.From(string.Join('\n', lines));

        Assert.Contains("Ledger rejects a negative balance FAILED", excerpt);
        Assert.Contains("frame_12@ledger.js:12:1", excerpt);
    }

    [Fact]
    public void A_python_trace_is_kept_from_its_first_line_though_it_names_the_exception_last()
    {
        var lines = new List<string>();
        for (var k = 1; k <= 4; k++)
        {
            lines.AddRange(Enumerable.Range(1, 10).Select(i => $"ledger_{k}_{i} ok"));
            lines.Add($"Error: ledger {k} broke");
            lines.AddRange(Enumerable.Range(1, 45).Select(i => $"    at Ledger.step{i} (ledger.js:{i}:1)"));
        }

        lines.AddRange(Enumerable.Range(1, 10).Select(i => $"balance_{i} ok"));
        lines.Add("TestFramework (ERROR): Unexpected exception caught during testing");
        lines.Add("Traceback (most recent call last):");
        for (var i = 1; i <= 15; i++)
        {
            lines.Add($"  File \"/w/test/ledger_test.py\", line {i}, in step_{i}");
            lines.Add($"    self.step_{i + 1}()");
        }

        lines.Add("ConnectionRefusedError: [Errno 111] Connection refused");

        var excerpt = FailureExcerpt.From(string.Join('\n', lines));

        Assert.Contains("TestFramework (ERROR): Unexpected exception caught during testing", excerpt);
        Assert.Contains("in step_1\n", excerpt);
        Assert.Contains("ConnectionRefusedError: [Errno 111] Connection refused", excerpt);
    }

    [Fact]
    public void The_first_verdict_of_the_failed_step_gets_half_the_budget_before_the_other_blocks_get_theirs()
    {
        var lines = new List<string> { "$ make test", "Error: ledger broke" };
        lines.AddRange(Enumerable.Range(1, 100).Select(i => $"    at Ledger.step{i} (ledger.js:{i}:1)"));
        for (var k = 1; k <= 5; k++)
        {
            lines.AddRange(Enumerable.Range(1, 10).Select(i => $"balance_{k}_{i} ok"));
            lines.Add($"Error: balance {k} broke");
            lines.AddRange(Enumerable.Range(1, 45).Select(i => $"    at Balance.check{i} (balance.js:{i}:1)"));
        }

        lines.Add("The command \"make test\" exited with 1.");

        var excerpt = FailureExcerpt.From(string.Join('\n', lines));

        Assert.Contains("at Ledger.step70 (ledger.js:70:1)", excerpt);
        Assert.Contains("Error: balance 1 broke", excerpt);
    }

    [Theory]
    [InlineData("    #3 0x4fb97b in __interceptor_free asan_malloc_linux.cc:129:3", true)]
    [InlineData("=     #36 0xbdf488 in do_cmdline /src/nvim/ex_docmd.c:593:20", true)]
    [InlineData("= #define LEDGER 0x10", false)]
    public void A_native_frame_is_a_frame_behind_a_harness_mark(string line, bool frame)
    {
        Assert.Equal(frame, FailureMarkers.IsFrame(line));
    }

    [Fact]
    public void A_report_without_markers_just_above_the_failed_steps_end_is_kept_while_the_excerpt_is_small()
    {
        var lines = new List<string> { "$ check_links README.md" };
        lines.AddRange(Enumerable.Range(1, 2000).Select(i => $"  {i:0000}. https://example.org/page/{i}"));
        lines.AddRange(["Issues :-(", "> Links"]);
        string[] gone = ["ledger", "journal", "balance", "audit", "payroll", "invoice", "receipt", "refund", "tax", "report"];
        lines.AddRange(gone.Select((page, i) => $"  {i + 1:00}. [L{(i + 1) * 40:0000}] 404 https://example.org/{page}"));
        lines.AddRange(["> Dupes", "  None"]);
        lines.AddRange(["Wrote results to results.json", "Wrote filtered results to filtered.json", "Wrote a table to table.md"]);
        lines.AddRange(Enumerable.Range(1, 10).Select(i => $"Closing connection {i}"));
        lines.Add("The command \"check_links README.md\" exited with 1.");
        var log = string.Join('\n', lines);

        var excerpt = FailureExcerpt.From(log);

        Assert.Contains("  01. [L0040] 404 https://example.org/ledger", excerpt);
        Assert.DoesNotContain("https://example.org/page/1000", excerpt);
        Assert.True(excerpt.Length <= log.Length / 20, $"the excerpt is {excerpt.Length} of {log.Length} characters");
    }

    [Theory]
    [InlineData(3000, true)]
    [InlineData(100, false)]
    public void What_the_budget_has_left_widens_the_blocks_while_the_excerpt_is_a_small_part_of_the_log(int before, bool widened)
    {
        var lines = Enumerable.Range(1, before).Select(i => $"step {i} ok").ToList();
        lines.AddRange(["Running the ledger suite", "seed 20261206", "opening accounts", "posting entries", "balancing", "closing the day"]);
        lines.AddRange(["Error: ledger broke", "    at Ledger.post (ledger.js:12:3)"]);
        lines.AddRange(["dumping the journal", "removing fixtures", "stopping the clock", "releasing locks", "flushing logs",
            "archiving reports", "uploading coverage", "pruning caches", "cleanup done", "bye"]);

        var excerpt = FailureExcerpt.From(string.Join('\n', lines));

        Assert.Equal(widened, excerpt.Contains("Running the ledger suite", StringComparison.Ordinal));
        Assert.Equal(widened, excerpt.Contains("cleanup done", StringComparison.Ordinal));
        Assert.DoesNotContain("step 2000 ok", excerpt);
    }

    [Fact]
    public void Lines_with_the_mark_of_the_tool_that_failed_carry_its_block_on()
    {
        var report = string.Join('\n',
            "= ==16563==ERROR: AddressSanitizer: SEGV on unknown address 0x000001d548d0",
            "= ==16563==The signal is caused by a WRITE memory access.",
            "=     #0 0x455083 in atomic_compare_exchange_strong sanitizer_atomic.h:81",
            "=     #1 0x4fb97b in __interceptor_free asan_malloc_linux.cc:129:3",
            "=     #2 0x1066974 in xfree src/nvim/memory.c:119:3",
            "=     #3 0x12c54b8 in free_string_option src/nvim/option.c:2306:5",
            "=     #4 0x12c49dd in free_all_options src/nvim/option.c:969:9",
            "= SUMMARY: AddressSanitizer: SEGV sanitizer_atomic.h:81:10");

        var excerpt = FailureExcerpt.From(Noise(200) + "\n" + report + "\n" + Noise(200, "post "));

        Assert.Contains("free_all_options src/nvim/option.c:969:9", excerpt);
    }

    [Theory]
    [InlineData("2022-05-30T09:11:02.8577255Z hello", "hello")]
    [InlineData("[2024-01-02T10:11:12.345Z] hello", "hello")]
    [InlineData("2024-01-02 10:11:12,345 hello", "hello")]
    [InlineData("2022-05-30T09:11:02.8577255Z", "")]
    [InlineData("2022-05-30 is the day", "2022-05-30 is the day")]
    [InlineData("hello", "hello")]
    public void The_body_of_a_line_is_what_follows_its_time_stamp(string line, string body)
    {
        Assert.Equal(body, FailureMarkers.Body(line).ToString());
    }
}
