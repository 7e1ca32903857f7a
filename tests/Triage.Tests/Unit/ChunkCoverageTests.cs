using Triage.Host.Evaluation;
using Triage.Router.Excerpts;

namespace Triage.Tests.Unit;

public sealed class ChunkCoverageTests
{
    private static readonly Excerpt Kept = new(
        "--- FAIL: TestLedger (0.01s)\n    ledger_test.go:12: balance is -1\n    ledger_test.go:13: want 0, got -1\nFAIL ledger",
        [0, 1, 2, 3],
        4);

    [Fact]
    public void A_chunk_cut_inside_its_first_and_last_lines_counts_them_as_kept()
    {
        var coverage = CacheEvaluation.ChunkCoverage("FAIL: TestLedger (0.01s)\n    ledger_test.go:12: balance is -1\n    ledger_test.go:13: want 0", Kept);

        Assert.Equal(new Coverage(3, 3, 1), coverage);
    }

    [Fact]
    public void A_middle_line_counts_only_as_labelled_and_a_short_fragment_never_does()
    {
        Assert.Equal(0, CacheEvaluation.ChunkCoverage("ledger_test.go:12: balance\n    ledger_test.go:12: balance is -1 or less\nFAIL", Kept).Kept);
        Assert.Equal(new Coverage(0, 1, 0), CacheEvaluation.ChunkCoverage("ledger", Kept));
    }
}
