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
    public void Failing_tests_are_named_as_their_runner_names_them(string line, string test)
    {
        Assert.Contains(test, FailureIdentity.Of(line).Tests);
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
