using Triage.Router.Cache;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Unit;

/// <summary>
/// The identity finds the source files an error points at by running its pattern only on the run of name characters
/// before each position, not on the whole line. These tests hold that search to the pattern run over the whole line:
/// on lines that trip such a search up, on random strings made of those pieces, and on every line of the real logs.
/// </summary>
public sealed class SourceFileSearchTests
{
    [Theory]
    [InlineData("/home/travis/build/acme/ledger/src/Ledger.java:41: error: cannot find symbol", "Ledger.java")]
    [InlineData("  File \"/app/tests/test_ssl.py\", line 14, in test_handshake", "test_ssl.py")]
    [InlineData("[ERROR] /w/src/A.java:[155,27] error: incompatible types", "A.java")]
    [InlineData("at com.acme.Ledger.post(Ledger.kt:88)", "Ledger.kt")]
    [InlineData("x.js:1,y.ts:2", "x.js y.ts")]
    [InlineData("a.c: 12: warning", "a.c")]
    [InlineData("модуль.py:3: ошибка", "модуль.py")]
    [InlineData("→main.go:7:2: undefined: x", "main.go")]
    [InlineData("my-lib.config.json,\u0663", "my-lib.config.json")]
    [InlineData("build.gradle:12 and settings.gradle", "build.gradle")]
    [InlineData("version 1.2.3: released, see notes.txt:4", "")]
    [InlineData(".java:3 and a.b.java(12)", "a.b.java")]
    [InlineData("pages/common/mat2.md:3: TLDR004 Command descriptions should end in a period", "mat2.md")]
    [InlineData("/w/docs/index.rst:12: WARNING: duplicate label intro", "index.rst")]
    public void Finds_the_files_that_an_error_points_at(string line, string files)
    {
        Assert.Equal(files.Split(' ', StringSplitOptions.RemoveEmptyEntries), Found(line));
        Assert.Equal(Reference(line), Found(line));
    }

    [Fact]
    public void Finds_in_random_text_exactly_what_the_pattern_finds_over_the_whole_line()
    {
        string[] pieces =
        [
            "a", "Z", "_", "-", ".", "..", "java", "py", "js", "json", "c", "h", "yml", ":", "(", "[", ",", "\"", "\", line ",
            ", line ", " ", "  ", "\t", "\u00A0", "1", "23", "\u0663", "/", "\\", "é", "→", "\u0301", "x.py", "-a.c",
        ];
        foreach (var line in ScannerInputs.Random(pieces, seed: 20261207, count: 50_000, maxPieces: 14))
        {
            Assert.True(Reference(line).SequenceEqual(Found(line)), $"differs on {System.Text.Json.JsonSerializer.Serialize(line)}");
        }
    }

    [SkippableFact]
    public void Finds_on_every_line_of_the_real_logs_exactly_what_the_pattern_finds()
    {
        var found = 0;
        foreach (var file in ScannerInputs.RealLogs())
        {
            foreach (var line in File.ReadLines(file))
            {
                var reference = Reference(line);
                Assert.True(reference.SequenceEqual(Found(line)), $"differs on a line of {file}: {line}");
                found += reference.Count;
            }
        }

        Assert.True(found > 1000, $"only {found} file positions in all the real logs: the comparison saw too little");
    }

    private static List<string> Reference(string line) =>
        [.. FailureIdentity.SourceFile().Matches(line).Select(m => m.Groups["file"].Value).Distinct().Order(StringComparer.Ordinal)];

    private static List<string> Found(string line)
    {
        var files = new SortedSet<string>(StringComparer.Ordinal);
        FailureIdentity.AddSourceFiles(line, files);
        return [.. files];
    }
}
