// Micro-benchmarks: `dotnet run -c Release --project bench/Triage.Bench.Micro -- --filter '*VectorIndexLookup*' --job short`
// (BenchmarkDotNet's own arguments), or `-- lookup-latency [--entries N] [--calls N]` for the latency of single
// lookups (median, p99) and the recall of the embedded index against an exact scan; --clusters N --spread S
// change how tightly the entries bunch.
using BenchmarkDotNet.Running;
using Triage.Bench.Micro;

if (args.FirstOrDefault() == "lookup-latency")
{
    return LookupLatency.Run(args.Skip(1).ToArray());
}

BenchmarkSwitcher.FromAssembly(typeof(VectorIndexLookup).Assembly).Run(args);
return 0;
