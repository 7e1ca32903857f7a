using System.Text;
using Triage.Router.Excerpts;

namespace Triage.Tests.Unit;

public sealed class FailureExcerptTests
{
    [Fact]
    public void Keeps_the_end_of_a_long_log_within_its_line_and_byte_bounds()
    {
        var log = string.Join('\n', Enumerable.Range(1, 100_000).Select(i => $"line {i} " + new string('x', i % 300)));

        var excerpt = FailureExcerpt.From(log);

        Assert.True(excerpt.Split('\n').Length <= FailureExcerpt.MaxLines);
        Assert.True(Encoding.UTF8.GetByteCount(excerpt) <= FailureExcerpt.MaxBytes);
        Assert.EndsWith("line 100000 " + new string('x', 100_000 % 300), excerpt);
    }

    [Fact]
    public void Strips_colour_codes_and_fold_markers()
    {
        var excerpt = FailureExcerpt.From("travis_fold:start:install\r\n\u001b[32mok\u001b[0m\r\ntravis_fold:end:install\r\n\u001b[31mFAILED\u001b[0m\n\n");

        Assert.Equal("\nok\n\nFAILED", excerpt);
    }

    [Fact]
    public void Cuts_a_single_enormous_line()
    {
        var excerpt = FailureExcerpt.From(new string('a', 50_000));

        Assert.True(excerpt.Length <= FailureExcerpt.MaxLineLength + 2);
    }
}
