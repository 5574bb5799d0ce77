using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.GemmCore;
using Rnn.Simd.Tests.Infrastructure;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Kernels;

/// <summary>
/// The last MR panel of A with fewer than MR rows runs its own kernels (rows 4, 2, 1 at a time). Its rows must equal
/// bitwise the same rows computed by the full MR-row kernel: the product is repeated with A padded to a multiple of
/// MR rows (extra rows random), so every panel runs the full kernel there. Packed and unpacked B, in-place B (small M)
/// and packed B blocks, K across the KC = 256 block edge, alpha ≠ 1 and beta 0, 1, 0.5, every path. Correctness against the naive
/// reference is covered by <see cref="GemmTests"/>.
/// </summary>
public class GemmPartialRowsTests
{
    public static TheoryData<IsaPath> Paths()
    {
        var d = new TheoryData<IsaPath>();
        foreach (IsaPath p in TestPaths.All) d.Add(p);
        return d;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void PartialLastPanel_EqualsFullKernelRows_Bitwise(IsaPath path)
    {
        Check<float>(path);
        Check<double>(path);
    }

    private static void Check<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int mr = GemmDriver.PanelHeight<T>(path), nr = GemmDriver.PanelWidth<T>(path);
        foreach (int k in new[] { 5, 300 })
        {
            foreach (int m in new[] { 2, 3, mr + 1, mr + 2, 2 * mr + mr - 1, 50, 150 })
            {
                if (m % mr == 0) continue;
                int n = 3 * nr, mPad = (m + mr - 1) / mr * mr;
                T[] a = Convert<T>(Uniform((ulong)(17 * m + k), mPad * k));
                T[] b = Convert<T>(Uniform((ulong)(31 * m + k), k * n));
                T[] c0 = Convert<T>(Uniform((ulong)(43 * m + k), mPad * n));
                var packed = PackedMatrix<T>.Create(Transpose.None, k, n, b, n, path);
                T alpha = T.CreateTruncating(-0.37);
                foreach (T beta in new[] { T.Zero, T.One, T.CreateTruncating(0.5) })
                {
                    for (int variant = 0; variant < 2; variant++)
                    {
                        T[] c = c0.AsSpan(0, m * n).ToArray(), cPad = (T[])c0.Clone();
                        if (variant == 0)
                        {
                            Gemm.Multiply(Transpose.None, Transpose.None, m, n, k, alpha, a.AsSpan(0, m * k), k, b, n, beta, c, n, 1, path);
                            Gemm.Multiply(Transpose.None, Transpose.None, mPad, n, k, alpha, a, k, b, n, beta, cPad, n, 1, path);
                        }
                        else
                        {
                            Gemm.Multiply(Transpose.None, m, alpha, a.AsSpan(0, m * k), k, packed, beta, c, n);
                            Gemm.Multiply(Transpose.None, mPad, alpha, a, k, packed, beta, cPad, n);
                        }
                        Assert.True(c.AsSpan().SequenceEqual(cPad.AsSpan(0, m * n)), $"{typeof(T).Name} {path} M={m} K={k} beta={beta} {(variant == 0 ? "unpacked" : "packed")}");
                    }
                }
            }
        }
    }
}

/// <summary>
/// Packing a transposed source (float on AVX goes through 8 x 8 register transposes, the rest element-wise) gives
/// the same packed operand as packing the explicitly transposed matrix: compared through a product, bitwise, at
/// shapes either side of the 8 x 8 blocks and with a leading dimension wider than the rows.
/// </summary>
public class PackTransposedTests
{
    public static TheoryData<IsaPath> Paths() => GemmPartialRowsTests.Paths();

    [Theory]
    [MemberData(nameof(Paths))]
    public void PackTransposed_EqualsPackingTheTransposedCopy(IsaPath path)
    {
        foreach (int k in new[] { 1, 7, 8, 9, 17, 130, 300 })
        {
            foreach (int n in new[] { 1, 7, 8, 9, 16, 17, 40 })
            {
                int ld = k + 3;
                float[] bt = Convert<float>(Uniform((ulong)(k * 100 + n), n * ld)); // stored N x K, ld = K + 3
                var b = new float[k * n];
                for (int j = 0; j < n; j++)
                    for (int kk = 0; kk < k; kk++) b[kk * n + j] = bt[j * ld + kk];
                var fromT = PackedMatrix<float>.Create(Transpose.Transposed, k, n, bt, ld, path);
                var direct = PackedMatrix<float>.Create(Transpose.None, k, n, b, n, path);
                float[] a = Convert<float>(Uniform((ulong)(k + 7), 3 * k));
                var c1 = new float[3 * n];
                var c2 = new float[3 * n];
                Gemm.Multiply(Transpose.None, 3, 1f, a, k, fromT, 0f, c1, n);
                Gemm.Multiply(Transpose.None, 3, 1f, a, k, direct, 0f, c2, n);
                Assert.True(c1.AsSpan().SequenceEqual(c2), $"{path} K={k} N={n}");
            }
        }
    }
}
