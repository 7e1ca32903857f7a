namespace Triage.Bench;

internal sealed record Options(int Calls, TimeSpan Latency, string? Json)
{
    public static Options Parse(string[] args)
    {
        var calls = 2000;
        var latency = 0;
        string? json = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--calls":
                    calls = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--latency-ms":
                    latency = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--json":
                    json = args[++i];
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return new Options(calls, TimeSpan.FromMilliseconds(latency), json);
    }
}

internal static class Stats
{
    public static double Percentile(IReadOnlyList<double> sorted, double q) =>
        sorted[(int)Math.Clamp(Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    public static Summary Of(List<double> samples)
    {
        samples.Sort();
        return new Summary(Percentile(samples, 0.5), Percentile(samples, 0.99), samples[0], samples[^1], samples.Count);
    }
}

internal sealed record Summary(double Median, double P99, double Min, double Max, int Count);
