// Micro-benchmarks: `dotnet run -c Release --project bench/Triage.Bench.Micro -- --filter '*VectorIndexLookup*' --job short`
// (BenchmarkDotNet's own arguments), or `-- lookup-latency [--entries N] [--calls N] [--clusters N] [--spread S]
// [--pools 128,512]` for the latency of single lookups (median, p99) and the recall of the embedded index against an
// exact scan, with entries bunched as tightly as asked, for each candidate pool.
using BenchmarkDotNet.Running;
using Triage.Bench.Micro;

if (args.FirstOrDefault() == "lookup-latency")
{
    return LookupLatency.Run(args.Skip(1).ToArray());
}

BenchmarkSwitcher.FromAssembly(typeof(VectorIndexLookup).Assembly).Run(args);
return 0;
