namespace Rnn.Simd.Benchmarks.Infrastructure;

/// <summary>Seeded inputs, so every run times the same numbers.</summary>
internal static class Data
{
    public const int Seed = 20240607;

    /// <summary>A fresh array of uniform values in [lo, hi) from a generator seeded with <see cref="Seed"/> + salt.</summary>
    public static float[] Uniform(int length, float lo = -1f, float hi = 1f, int salt = 0)
    {
        var random = new Random(Seed + salt);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = lo + (hi - lo) * random.NextSingle();
        return values;
    }
}
