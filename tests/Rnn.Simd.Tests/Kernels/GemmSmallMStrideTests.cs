using Rnn.Simd.Kernels;
using Rnn.Simd.Tests.Infrastructure;

namespace Rnn.Simd.Tests.Kernels;

/// <summary>
/// Small-M products, where full micro-panels of B are read in place with its row stride and a ragged last one is
/// packed: row strides that are multiples of 2 KiB (512 and 2048 floats, 256 and 1024 doubles, which alias in L1),
/// odd N, and M on both sides of the in-place limit, compared with a plain double loop.
/// </summary>
public sealed class GemmSmallMStrideTests
{
    public static TheoryData<IsaPath, int, int, int, int> Cases()
    {
        var data = new TheoryData<IsaPath, int, int, int, int>();
        foreach (IsaPath path in TestPaths.All)
        {
            foreach ((int m, int n, int k, int ldb) in new[] { (32, 500, 130, 512), (20, 2048, 300, 2048), (47, 131, 17, 512), (8, 509, 64, 512), (32, 64, 9, 2048) })
                data.Add(path, m, n, k, ldb);
        }
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Float_MatchesReference(IsaPath path, int m, int n, int k, int ldb) => Check<float>(path, m, n, k, ldb, 1e-5);

    [Theory, MemberData(nameof(Cases))]
    public void Double_MatchesReference(IsaPath path, int m, int n, int k, int ldb) => Check<double>(path, m, n, k, ldb / 2 >= n ? ldb / 2 : ldb, 1e-13);

    private static void Check<T>(IsaPath path, int m, int n, int k, int ldb, double relTol) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        var rng = new Random(m * 131 + n * 7 + k);
        T[] a = new T[m * k], b = new T[k * ldb], c = new T[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = T.CreateTruncating(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = T.CreateTruncating(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < c.Length; i++) c[i] = T.CreateTruncating(rng.NextDouble() * 2 - 1);
        T[] c0 = (T[])c.Clone();
        Gemm.Multiply(Transpose.None, Transpose.None, m, n, k, T.CreateTruncating(1.5), a, k, b, ldb, T.CreateTruncating(0.5), c, n, 1, path);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, scale = 0;
                for (int p = 0; p < k; p++)
                {
                    double t = double.CreateTruncating(a[i * k + p]) * double.CreateTruncating(b[p * ldb + j]);
                    sum += t;
                    scale += Math.Abs(t);
                }
                double expected = 1.5 * sum + 0.5 * double.CreateTruncating(c0[i * n + j]);
                double actual = double.CreateTruncating(c[i * n + j]);
                Assert.True(Math.Abs(actual - expected) <= relTol * (1.5 * scale + 1), $"{path} {typeof(T).Name} m={m} n={n} k={k} ldb={ldb}: C[{i},{j}] = {actual}, expected {expected}.");
            }
        }
    }
}
