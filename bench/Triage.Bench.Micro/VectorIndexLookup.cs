using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using Triage.Router.Cache;

namespace Triage.Bench.Micro;

/// <summary>
/// One lookup in a scope of 100,000 entries of 256 dimensions: the embedded index against the plain exact scan of
/// the same vectors that it replaces. Each invocation asks the next query of the mix (see <see cref="LookupData"/>).
/// </summary>
[Config(typeof(LookupConfig))]
public class VectorIndexLookup
{
    private LookupData data = null!;
    private EmbeddedVectorIndex index = null!;
    private float[] flat = null!;
    private int next;

    [Params(100_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        data = LookupData.Create(Entries);
        index = await data.IndexAsync();
        flat = data.Entries.SelectMany(v => v).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => index.Dispose();

    [Benchmark]
    public int EmbeddedSearch()
    {
        var query = data.Queries[next++ % data.Queries.Length];
        return index.SearchAsync(LookupData.Scope, query, 5, DateTimeOffset.MinValue, CancellationToken.None).GetAwaiter().GetResult().Count;
    }

    [Benchmark(Baseline = true)]
    public int ExactScan()
    {
        var query = data.Queries[next++ % data.Queries.Length];
        var dimensions = query.Length;
        var best = -1;
        var bestSimilarity = float.NegativeInfinity;
        for (var i = 0; i < Entries; i++)
        {
            var similarity = System.Numerics.Tensors.TensorPrimitives.Dot(flat.AsSpan(i * dimensions, dimensions), query);
            if (similarity > bestSimilarity)
            {
                (best, bestSimilarity) = (i, similarity);
            }
        }

        return best;
    }

    private sealed class LookupConfig : ManualConfig
    {
        public LookupConfig()
        {
            AddColumn(StatisticColumn.Median, StatisticColumn.P95);
            AddDiagnoser(MemoryDiagnoser.Default);
        }
    }
}
