using System.Text;

namespace Triage.Tests.Infrastructure;

/// <summary>
/// Inputs for the tests that hold a hand-written scanner to the regular expression it stands for: random strings
/// made of the pieces that trip such scanners up, and every real log of ../shared/data.
/// </summary>
internal static class ScannerInputs
{
    /// <summary><paramref name="count"/> strings, each of 1 to <paramref name="maxPieces"/> - 1 pieces drawn at random.</summary>
    public static IEnumerable<string> Random(string[] pieces, int seed, int count, int maxPieces)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var text = new StringBuilder();
            for (var n = random.Next(1, maxPieces); n > 0; n--)
            {
                text.Append(pieces[random.Next(pieces.Length)]);
            }

            yield return text.ToString();
        }
    }

    /// <summary>The paths of the real logs, or a skip that says where they were looked for.</summary>
    public static IEnumerable<string> RealLogs()
    {
        var folder = Path.GetFullPath(Path.Combine(Unit.ShippedConfigurationTests.RepositoryRoot(), "..", "shared", "data"));
        Skip.IfNot(Directory.Exists(folder), $"{folder} is missing: the real logs are not here.");
        return Directory.EnumerateFiles(folder, "*.log", SearchOption.AllDirectories);
    }
}
