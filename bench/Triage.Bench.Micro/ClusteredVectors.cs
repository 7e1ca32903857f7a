using System.Numerics.Tensors;

namespace Triage.Bench.Micro;

/// <summary>
/// Unit vectors in clusters, the way failures of one scope bunch around a few causes: each entry is a random
/// cluster centre plus Gaussian noise, normalised. Deterministic for a seed, so that runs compare.
/// </summary>
internal sealed class ClusteredVectors(int dimensions, int seed)
{
    private readonly Random random = new(seed);

    public int Dimensions { get; } = dimensions;

    /// <param name="spread">Noise norm relative to the centre's: two members of a cluster have cosine ≈ 1 / (1 + spread²).</param>
    public float[][] Entries(int count, int clusters, float spread)
    {
        var centres = Enumerable.Range(0, clusters).Select(_ => Unit()).ToArray();
        return Enumerable.Range(0, count).Select(i => Near(centres[i % clusters], spread)).ToArray();
    }

    /// <summary>A vector at cosine ≈ <paramref name="similarity"/> to <paramref name="of"/>.</summary>
    public float[] At(float[] of, double similarity) => Near(of, (float)Math.Sqrt(1 / (similarity * similarity) - 1));

    public float[] Unit()
    {
        var vector = new float[Dimensions];
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = Gaussian();
        }

        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }

    public int Next(int max) => random.Next(max);

    private float[] Near(float[] centre, float spread)
    {
        var noise = Unit();
        var vector = new float[Dimensions];
        TensorPrimitives.MultiplyAdd(noise, spread, centre, vector);
        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }

    private float Gaussian() =>
        (float)(Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble()));
}
