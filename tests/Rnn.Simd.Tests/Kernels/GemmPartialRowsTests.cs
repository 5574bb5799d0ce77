using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.GemmCore;
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
        foreach (IsaPath p in Isa.SupportedPaths) d.Add(p);
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
