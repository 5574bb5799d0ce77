namespace Rnn.Simd.Benchmarks.Infrastructure;

/// <summary>Plain scalar loops: the baselines the kernels are measured against. No SIMD, no blocking.</summary>
internal static class Naive
{
    /// <summary>
    /// C (M x N) = A (M x K) · B (K x N), row-major, overwriting C. The i-p-j order (a row of C accumulates rows of B
    /// scaled by A[i, p]) is the textbook loop a reader would write first; the inner loop walks memory
    /// contiguously, so this measures scalar code, not cache misses of a strided dot product.
    /// </summary>
    public static void Gemm(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        for (int i = 0; i < m; i++)
        {
            Span<float> row = c.Slice(i * n, n);
            row.Clear();
            ReadOnlySpan<float> aRow = a.Slice(i * k, k);
            for (int p = 0; p < k; p++)
            {
                float aip = aRow[p];
                ReadOnlySpan<float> bRow = b.Slice(p * n, n);
                for (int j = 0; j < row.Length; j++) row[j] += aip * bRow[j];
            }
        }
    }

    public static float Sum(ReadOnlySpan<float> x)
    {
        float sum = 0f;
        for (int i = 0; i < x.Length; i++) sum += x[i];
        return sum;
    }

    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float sum = 0f;
        y = y.Slice(0, x.Length);
        for (int i = 0; i < x.Length; i++) sum += x[i] * y[i];
        return sum;
    }

    public static float SumOfSquares(ReadOnlySpan<float> x)
    {
        float sum = 0f;
        for (int i = 0; i < x.Length; i++) sum += x[i] * x[i];
        return sum;
    }
}
