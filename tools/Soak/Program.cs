using System.Globalization;
using Triage.Soak;

// tools/soak.sh builds the gateway and this tool, then runs:
//   Triage.Soak --triage src/Host/bin/Release/net10.0/triage.dll [--minutes 10] [--rate 5] [--flap-seconds 60] [--keep]
var options = SoakOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(SoakOptions.Usage);
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C ends the load early and still counts; the environment is cleaned up either way.
    e.Cancel = true;
    stop.Cancel();
};

await using var soak = await SoakRun.PrepareAsync(options);
var report = await soak.RunAsync(stop.Token);
Console.WriteLine();
Console.WriteLine(report.Render());
return report.Holds ? 0 : 1;

namespace Triage.Soak
{
    internal sealed record SoakOptions(string Triage, double Minutes, double Rate, int FlapSeconds, bool Keep)
    {
        public const string Usage = """
            usage: Triage.Soak --triage PATH/triage.dll [--minutes N] [--rate PER_SECOND] [--flap-seconds S] [--keep]
              --minutes       how long the load runs (default 10)
              --rate          failures posted per second (default 5)
              --flap-seconds  the provider is up this long, then down as long, and so on (default 60)
              --keep          keep the virtual host, the database and the work folder for a look afterwards
            RabbitMQ and PostgreSQL are found as the tests find them: TRIAGE_TEST_RABBITMQ, TRIAGE_TEST_RABBITMQ_MANAGEMENT, TRIAGE_TEST_POSTGRES.
            """;

        public static SoakOptions? Parse(string[] args)
        {
            var options = new SoakOptions(string.Empty, 10, 5, 60, false);
            for (var i = 0; i < args.Length; i++)
            {
                string? Next() => i + 1 < args.Length ? args[++i] : null;
                switch (args[i])
                {
                    case "--triage" when Next() is { } path:
                        options = options with { Triage = Path.GetFullPath(path) };
                        break;
                    case "--minutes" when Number(Next()) is > 0 and var minutes:
                        options = options with { Minutes = minutes };
                        break;
                    case "--rate" when Number(Next()) is > 0 and var rate:
                        options = options with { Rate = rate };
                        break;
                    case "--flap-seconds" when Number(Next()) is >= 5 and var flap:
                        options = options with { FlapSeconds = (int)flap };
                        break;
                    case "--keep":
                        options = options with { Keep = true };
                        break;
                    default:
                        return null;
                }
            }

            return File.Exists(options.Triage) ? options : null;
        }

        private static double? Number(string? text) =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
