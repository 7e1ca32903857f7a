using System.Text.RegularExpressions;
using Triage.Platform.Text;
using Triage.Tests.Infrastructure;

namespace Triage.Tests.Unit;

/// <summary>
/// The cleaner is a hand-written copy loop; these regular expressions say what it must do, pass by pass, and the
/// tests hold it to them on every real log of ../shared/data and on random strings made of the pieces that trip
/// such loops up (unterminated sequences, markers cut short, a CR before a removed escape).
/// </summary>
public sealed class LogTextTests
{
    private static readonly Regex Escapes = new(@"\x1B(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1B]*(\x07|\x1B\\)|[ -/]+[0-~]|[0-Z\\-~])");
    private static readonly Regex FoldMarkers = new(@"travis_(fold|time):[a-z]+:[^\r\n]*|##\[(group|endgroup)\]|section_(start|end):\d+:[^\r\n]*");
    private static readonly Regex OrphanColours = new(@"\[(\d{1,3}(;\d{1,3}){0,4})?m");

    [Theory]
    [InlineData("\u001b[31mFAIL\u001b[0m src/app.test.js", "FAIL src/app.test.js")]
    [InlineData("travis_fold:start:install\r\n$ npm ci\r\ntravis_time:end:0a1b:start=1,finish=2\r\n", "\n$ npm ci\n\n")]
    [InlineData("##[group]Run npm test\n##[endgroup]", "Run npm test\n")]
    [InlineData("section_start:1700000000:build_script\r\u001b[0Kbuild", "\nbuild")]
    [InlineData("[1;31mERROR[m: [0K", "ERROR: [0K")]
    [InlineData("progress 10%\rprogress 90%\r\ndone", "progress 10%\nprogress 90%\ndone")]
    [InlineData("\u001b]0;title\u0007ok \u001b]8;;https://x\u001b\\link", "ok link")]
    [InlineData("unterminated \u001b]0;title and \u001b[12", "unterminated 0;title and \u001b[12")]
    [InlineData("\u001b[?1h\u001b=An error occurred\u001b[?1l\u001b>", "An error occurred")]
    [InlineData("\u001b(B\u001b[mok \u001b7saved\u001b8", "ok saved")]
    public void Removes_escapes_fold_markers_and_lost_colour_codes(string log, string clean)
    {
        Assert.Equal(clean, LogText.StripAnsi(log));
    }

    [Fact]
    public void Cleans_random_text_exactly_as_the_three_passes_would()
    {
        string[] pieces =
        [
            "\u001b", "\u0007", "[", "]", "\\", ";", ":", "0", "12", "1234", "m", "a", "Z", "_", "travis_", "fold:", "time:",
            "start:", "end:", "section_", "##[", "group]", "endgroup]", "\r", "\n", "\r\n", " ", "\u0663", "(", "=", "~",
        ];
        foreach (var log in ScannerInputs.Random(pieces, seed: 20261125, count: 50_000, maxPieces: 16))
        {
            Assert.True(Reference(log) == LogText.StripAnsi(log), $"differs on {System.Text.Json.JsonSerializer.Serialize(log)}");
            AssertLinesMatch(log);
        }
    }

    [SkippableFact]
    public void Cleans_every_real_log_exactly_as_the_three_passes_would()
    {
        foreach (var file in ScannerInputs.RealLogs())
        {
            var log = File.ReadAllText(file);
            Assert.True(Reference(log) == LogText.StripAnsi(log), $"differs on {file}");
            AssertLinesMatch(log);
        }
    }

    [Fact]
    public void Cleans_into_a_buffer_what_it_would_return_as_a_string()
    {
        const string log = "\u001b[32m✓\u001b[0m ok\r\ntravis_fold:end:x\r\n[31merror[0m";
        var buffer = new char[log.Length];

        var length = LogText.StripAnsi(log, buffer);

        Assert.Equal(LogText.StripAnsi(log), new string(buffer, 0, length));
    }

    [Theory]
    [InlineData("", new string[0])]
    [InlineData("one", new[] { "one" })]
    [InlineData("one\n", new[] { "one" })]
    [InlineData("one\n\ntwo", new[] { "one", "", "two" })]
    [InlineData("\n", new[] { "" })]
    public void Splits_clean_text_into_lines_without_their_breaks(string text, string[] expected)
    {
        Assert.Equal(expected, LogText.Lines(text).Select(r => text[r]));
    }

    // The lines the cleaner finds on its way are the lines of the text it returns.
    private static void AssertLinesMatch(string log)
    {
        var buffer = new char[log.Length];
        var found = new List<Range>();
        var clean = new string(buffer, 0, LogText.StripAnsi(log, buffer, found));
        var split = clean.Split('\n');
        var expected = split[^1].Length == 0 ? split[..^1] : split;
        Assert.True(expected.SequenceEqual(found.Select(r => clean[r])), $"lines differ on {System.Text.Json.JsonSerializer.Serialize(log)}");
        Assert.True(LogText.Lines(clean).SequenceEqual(found), $"lines differ on {System.Text.Json.JsonSerializer.Serialize(log)}");
    }

    private static string Reference(string log)
    {
        var text = Escapes.Replace(log, string.Empty);
        text = FoldMarkers.Replace(text, string.Empty);
        text = OrphanColours.Replace(text, string.Empty);
        return text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
    }
}
