using Triage.Router.Cache;

namespace Triage.Tests.Unit;

public sealed class FailureIdentityTests
{
    [Fact]
    public void The_fingerprint_masks_what_varies_between_runs_and_keeps_what_names_the_failure()
    {
        var fingerprint = FailureFingerprint.Of(
            "2026-11-20T10:15:03Z build 4711 /tmp/junit8812/out.xml port 54123 id 3f2a9c81d4 " +
            "6f1c2a8e-5b7d-4c3e-9a1f-0e2d3c4b5a69 took 2.31s at /home/travis/build/acme/ledger/src/Ledger.java:41 " +
            "LedgerTest.shouldBalance NullPointerException CS0246");

        Assert.DoesNotContain("2026", fingerprint);
        Assert.DoesNotContain("4711", fingerprint);
        Assert.DoesNotContain("junit8812", fingerprint);
        Assert.DoesNotContain("54123", fingerprint);
        Assert.DoesNotContain("3f2a9c81d4", fingerprint);
        Assert.DoesNotContain("6f1c2a8e", fingerprint);
        Assert.DoesNotContain("/home/travis", fingerprint);
        Assert.Contains("src/Ledger.java", fingerprint);
        Assert.Contains("LedgerTest.shouldBalance", fingerprint);
        Assert.Contains("NullPointerException", fingerprint);
        Assert.Contains("CS0246", fingerprint);
    }

    [Theory]
    [InlineData("--- FAIL: TestParseDates (0.01s)", "TestParseDates")]
    [InlineData("FAILED tests/test_dates.py::test_parse_dates - AssertionError", "tests/test_dates.py::test_parse_dates")]
    [InlineData("[ERROR] shouldParse(com.acme.DateTest)  Time elapsed: 0.01 s  <<< FAILURE!", "shouldParse(com.acme.DateTest)")]
    [InlineData("    Acme.Tests.DateTests.Parses [FAIL]", "Acme.Tests.DateTests.Parses")]
    [InlineData("test dates::parses ... FAILED", "dates::parses")]
    [InlineData("rspec ./spec/dates_spec.rb:12 # Dates parses", "./spec/dates_spec.rb:12")]
    [InlineData("  ● Dates › parses ISO dates", "Dates › parses ISO dates")]
    [InlineData("[info] - parses ISO dates *** FAILED ***", "parses ISO dates")]
    [InlineData("DatesTest#test_parses_iso_dates:", "DatesTest#test_parses_iso_dates")]
    [InlineData("com.acme.DatesTest > parsesIsoDates FAILED", "com.acme.DatesTest > parsesIsoDates")]
    public void Failing_tests_are_named_as_their_runner_names_them(string line, string test)
    {
        Assert.Contains(test, FailureIdentity.Of(line).Tests);
    }

    [Fact]
    public void The_fingerprint_masks_dot_leaders_file_name_timestamps_and_clock_times_of_day()
    {
        Assert.Equal(
            FailureFingerprint.Of("Building OTP.................... failed."),
            FailureFingerprint.Of("Building OTP..................... failed."));
        Assert.Equal(
            FailureFingerprint.Of("npm ERR!     /home/travis/.npm/_logs/2019-11-05T05_01_58_327Z-debug.log"),
            FailureFingerprint.Of("npm ERR!     /home/travis/.npm/_logs/2019-11-06T04_58_25_372Z-debug.log"));
        Assert.Equal(
            FailureFingerprint.Of("[error] Total time: 302 s, completed Jul 30, 2019 12:58:59 AM"),
            FailureFingerprint.Of("[error] Total time: 110 s, completed Jul 31, 2019 1:01:24 PM"));
        Assert.Contains("Building OTP", FailureFingerprint.Of("Building OTP.................... failed."));
    }

    [Theory]
    [InlineData("BUILD FAILED in 1m 12s", "BUILD FAILED in 58s")]
    [InlineData("--- FAIL: TestSync (1m12.5s)", "--- FAIL: TestSync (9.8s)")]
    [InlineData("Job timed out after 1h 2m 3s", "Job timed out after 59 min")]
    public void A_duration_of_several_units_is_masked_as_one_duration(string longer, string shorter)
    {
        Assert.Equal(FailureFingerprint.Of(shorter), FailureFingerprint.Of(longer));
    }

    [Theory]
    [InlineData("  1. [L3035]  https://swift.example.org Failed to open TCP connection", "  1. [L3036]  https://swift.example.org Failed to open TCP connection")]
    [InlineData("see https://git.example.org/acme/ledger/blob/main/journal.c#L42", "see https://git.example.org/acme/ledger/blob/main/journal.c#L47")]
    public void A_line_reference_is_masked_as_a_number(string one, string other)
    {
        Assert.Equal(FailureFingerprint.Of(one), FailureFingerprint.Of(other));
        Assert.Contains("L<n>", FailureFingerprint.Of(one), StringComparison.Ordinal);
    }

    [Fact]
    public void The_fingerprint_masks_addresses_of_digits_alone_and_keeps_error_codes()
    {
        Assert.Equal(
            FailureFingerprint.Of("ERROR: AddressSanitizer: SEGV (pc 0x000000455084 bp 0x000000000000 T0)"),
            FailureFingerprint.Of("ERROR: AddressSanitizer: SEGV (pc 0x000000455234 bp 0x000000000000 T0)"));
        Assert.Contains("0x80004005", FailureFingerprint.Of("COMException: HRESULT 0x80004005"));
    }

    [Fact]
    public void The_suites_sbt_lists_under_failed_tests_are_the_failing_tests()
    {
        var identity = FailureIdentity.Of(
            "[info] *** 2 TESTS FAILED ***\n[error] Failed tests:\n[error] \tcom.acme.http.StreamingTest\n"
            + "[error] \tcom.acme.http.UpgradeTest\n[error] (http / Test / test) sbt.TestsFailedException: Tests unsuccessful");

        Assert.Equal(["com.acme.http.StreamingTest", "com.acme.http.UpgradeTest"], identity.Tests);
        Assert.Contains("TestsFailedException", identity.Exceptions);
    }

    [Fact]
    public void The_tests_xcodebuild_lists_as_failing_are_the_failing_tests()
    {
        static FailureIdentity Failing(string test) => FailureIdentity.Of(
            "Executed 412 tests, with 1 failure (0 unexpected) in 109.898 (110.012) seconds\n\nFailing tests:\n\n\tMapKitTests-iOS:\n\n"
            + $"\t\t{test}\n\n\t-[LegacySpec test_zoom]\n\n** TEST EXECUTE FAILED **");

        var rotate = Failing("MKMapViewSpec.should_accept_changes_to_its_rotate_enabled_state()");
        var scroll = Failing("MKMapViewSpec.should_accept_changes_to_its_scroll_enabled_state()");

        Assert.Equal(["-[LegacySpec test_zoom]", "MKMapViewSpec.should_accept_changes_to_its_rotate_enabled_state()"], rotate.Tests);
        Assert.False(rotate.Matches(scroll));
    }

    [Fact]
    public void The_addresses_a_link_checker_found_broken_are_what_failed()
    {
        static FailureIdentity Checked(string issues) => FailureIdentity.Of(
            "Links to check: 2017, 5 white listed\n  1. [L0043] 200 https://raw.githubusercontent.com/acme/app/master/shot.png\n\n"
            + $"Issues :-(\n> Links\n{issues}\n> Dupes\n  None ✓\n\nThe command \"awesome_bot README.md\" exited with 1.");

        var first = Checked("  1. [L0153] 404 http://cdn.example.org/screens/b49683ea.jpeg");
        var rerun = Checked("  1. [L0161] 404 http://cdn.example.org/screens/b49683ea.jpeg");
        var other = Checked("  1. [L1581] 404 https://github.com/acme/passes/raw/master/img/preview.gif");

        Assert.Equal(["http://cdn.example.org/screens/b49683ea.jpeg"], first.Files);
        Assert.True(first.Matches(rerun), "the list moved, the broken link is the same");
        Assert.False(first.Matches(other));
        Assert.Equal(
            ["https://files.example.org/ledger-1.0.tar.gz"],
            FailureIdentity.Of("ERROR: HTTP error 404 while getting https://files.example.org/ledger-1.0.tar.gz?token=abc123").Files);
        Assert.Empty(FailureIdentity.Of("error: could not reach http://127.0.0.1:8500/v1/kv after 3 attempts").Files);
        Assert.Empty(FailureIdentity.Of("[ERROR] Downloaded from central: https://repo.example.org/a/b-1.jar (450 kB at 1.2 MB/s)").Files);
        Assert.Equal(
            ["http://dl.example.org/ubuntu/dists/trusty/main/binary-i386/Packages"],
            FailureIdentity.Of("W: Failed to fetch http://dl.example.org/ubuntu/dists/trusty/main/binary-i386/Packages  404  Not Found").Files);
    }

    [Fact]
    public void Elixir_errors_are_failure_lines_so_two_different_ones_are_different_failures()
    {
        var a = FailureIdentity.Of("** (throw) \"Words not in order \\\"exos\\\" and \\\"ex_lttb\\\"\"\n    check.exs:9: Awesome.check/1");
        var b = FailureIdentity.Of("** (throw) \"Words not in order \\\"thumbor\\\" and \\\"thumbnex\\\"\"\n    check.exs:9: Awesome.check/1");

        Assert.Single(a.Messages);
        Assert.False(a.Matches(b));
    }

    [Fact]
    public void A_build_failed_by_warnings_as_errors_says_so_in_its_identity()
    {
        var identity = FailureIdentity.Of("src/Text/Ipynb.hs:94:10: Warning:\n    No explicit implementation for\n\n<no location info>:\nFailing due to -Werror.");

        Assert.Contains("Failing due to -Werror.", identity.Messages);
    }

    [Fact]
    public void Two_failing_tests_through_the_same_assertion_are_different_failures()
    {
        var a = FailureIdentity.Of("--- FAIL: TestParseDates (0.01s)\n    dates_test.go:41: expected 2026 got 2025");
        var b = FailureIdentity.Of("--- FAIL: TestParseTimes (0.01s)\n    dates_test.go:41: expected 2026 got 2025");

        Assert.False(a.Matches(b));
        Assert.Equal(CacheVerdict.DifferentFailure, CacheDecision.Judge(0.99, 0.92, a, b));
    }

    [Fact]
    public void Reruns_of_one_failure_match_however_their_numbers_differ()
    {
        var a = FailureIdentity.Of("--- FAIL: TestParseDates (0.01s)\n    dates_test.go:41: Error: timeout after 30012ms");
        var b = FailureIdentity.Of("--- FAIL: TestParseDates (2.93s)\n    dates_test.go:41: Error: timeout after 30477ms");

        Assert.True(a.Matches(b));
        Assert.Equal(CacheVerdict.Reuse, CacheDecision.Judge(0.95, 0.92, a, b));
        Assert.Equal(CacheVerdict.BelowThreshold, CacheDecision.Judge(0.91, 0.92, a, b));
    }

    [Fact]
    public void Reruns_of_one_failure_match_though_one_run_printed_other_trouble_before_it()
    {
        // The same failing step; on the first run an apt mirror also timed out while the machine was set up.
        var failingStep = string.Join('\n', Enumerable.Range(1, 200).Select(i => $"ok {i} - parses case {i}")
            .Append("not ok 201 - parses leap days")
            .Append("  AssertionError: expected 29 to equal 28")
            .Append("    at Context.<anonymous> (test/dates.js:88:12)")
            .Append("# tests 201, pass 200, fail 1")
            .Append("The command \"npm test\" exited with 1."));
        var setup = string.Join('\n', Enumerable.Range(1, 300).Select(i => $"Get:{i} http://archive.ubuntu.com/ubuntu trusty/main pkg{i}"));
        var first = Signature(setup + "\nW: Failed to fetch http://ppa.launchpad.net/x/Release  Could not connect, connection timed out\n"
            + "E: Some index files failed to download. They have been ignored, or old ones used instead.\n$ npm test\n" + failingStep);
        var rerun = Signature(setup + "\n$ npm test\n" + failingStep);
        var other = Signature(setup + "\n$ npm test\n" + failingStep.Replace("leap days", "time zones", StringComparison.Ordinal)
            .Replace("test/dates.js:88", "test/zones.js:17", StringComparison.Ordinal));

        Assert.True(first.Identity.Matches(rerun.Identity), "the apt trouble before the failing step is not the failure");
        Assert.False(first.Identity.Matches(other.Identity), "another failing test is another failure");

        static FailureSignature Signature(string log) =>
            FailureSignature.Of(Triage.Router.Excerpts.FailureExcerpt.From(log), new HashedNgramEmbeddingGenerator());
    }

    [Fact]
    public void Two_failures_of_one_jenkins_stage_differ_though_the_same_later_stages_were_skipped()
    {
        // Declarative Jenkins says so of every stage after the failed one: the same lines, whatever failed.
        var npm = Signature(JenkinsPipeline("+ npm run build", "npm ERR! Missing script: \"build\""));
        var rerun = Signature(JenkinsPipeline("+ npm run build", "npm ERR! Missing script: \"build\"", packages: 95));
        var cli = Signature(JenkinsPipeline("+ npx react-native generate-android", "error: unknown command 'generate-android'"));

        Assert.True(npm.Identity.Matches(rerun.Identity));
        Assert.False(npm.Identity.Matches(cli.Identity), "another error in the same stage is another failure");
        Assert.DoesNotContain(npm.Identity.Messages, m => m.Contains("skipped", StringComparison.Ordinal));

        static FailureSignature Signature(string log) =>
            FailureSignature.Of(Triage.Router.Excerpts.FailureExcerpt.From(log), new HashedNgramEmbeddingGenerator());
    }

    /// <summary>A declarative Jenkins pipeline whose Build stage fails with <paramref name="error"/>, and eight stages after it.</summary>
    private static string JenkinsPipeline(string command, string error, int packages = 80)
    {
        var lines = new List<string> { "Started by user Ada", "[Pipeline] Start of Pipeline", "[Pipeline] node", "[Pipeline] {" };
        lines.AddRange(Enumerable.Range(1, packages).Select(i => $"added package {i} of {packages}"));
        lines.AddRange(["[Pipeline] stage", "[Pipeline] { (Build)", "[Pipeline] sh", command, error, "[Pipeline] }", "[Pipeline] // stage"]);
        foreach (var stage in new[] { "Test", "Lint", "Package", "Scan", "Publish", "Deploy", "Smoke", "Notify" })
        {
            lines.AddRange(["[Pipeline] stage", $"[Pipeline] {{ ({stage})", $"Stage \"{stage}\" skipped due to earlier failure(s)", "[Pipeline] }", "[Pipeline] // stage"]);
        }

        lines.AddRange(["[Pipeline] }", "[Pipeline] // node", "[Pipeline] End of Pipeline", "ERROR: script returned exit code 1", "Finished: FAILURE"]);
        return string.Join('\n', lines);
    }

    [Fact]
    public void The_identity_survives_storage()
    {
        var identity = FailureIdentity.Of("[ERROR] Foo.java:[3,1] error: CS0246 java.lang.IllegalStateException: boom");

        Assert.Equal(identity.Serialize(), FailureIdentity.Deserialize(identity.Serialize()).Serialize());
    }

    [Fact]
    public void The_builtin_embedding_is_deterministic_and_unit_length()
    {
        var embedder = new HashedNgramEmbeddingGenerator();
        var a = embedder.Embed("error: cannot find symbol <n> Ledger.java");
        var b = embedder.Embed("error: cannot find symbol <n> Ledger.java");

        Assert.Equal(a, b);
        Assert.Equal(HashedNgramEmbeddingGenerator.DefaultDimensions, a.Length);
        Assert.Equal(1.0, Math.Sqrt(a.Sum(x => (double)x * x)), 4);
        Assert.True(System.Numerics.Tensors.TensorPrimitives.Dot(a, embedder.Embed("npm ERR! code ELIFECYCLE")) < 0.5);
    }
}
