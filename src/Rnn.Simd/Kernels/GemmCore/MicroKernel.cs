using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels.GemmCore;

/// <summary>
/// The vector micro-kernel, written once for every width: an MR x (2 x W) tile of C held in 2·MR registers (W = lanes
/// of TV). Per step of k it loads 2 registers of the packed B panel, broadcasts MR values of the packed A panel and
/// issues 2·MR FMAs. MR = 8 on the 512-bit width (16 accumulators of the 32 zmm registers), 6 on the 128- and 256-bit
/// widths (12 of 16): 2·MR independent chains cover the FMA latency (4 cycles) times the FMA ports (2).
/// </summary>
internal readonly unsafe struct MicroKernel<T, TV> : IGemmMicroKernel<T>
    where T : unmanaged, IBinaryFloatingPointIeee754<T>
    where TV : unmanaged, IVec<TV, T>
{
    public static int MR => MicroKernelShape.Rows(TV.Count * Unsafe.SizeOf<T>());
    public static int NR => 2 * TV.Count;

    /// <summary>C[0..MR, 0..NR) = alpha · Σ_k a[k·MR + i] · b[k·ldb + j] + beta · C (C not read when beta = 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(nint kc, T* a, T* b, nint ldb, T* c, nint ldc, T alpha, T beta)
    {
        nint w = TV.Count, mr = MR;
        TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        TV c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        TV c60 = default, c61 = default, c70 = default, c71 = default;
        for (nint k = 0; k < kc; k++)
        {
            TV b0 = TV.Load(b), b1 = TV.Load(b + w);
            { TV ai = TV.Create(a[0]); c00 = TV.MulAdd(ai, b0, c00); c01 = TV.MulAdd(ai, b1, c01); }
            { TV ai = TV.Create(a[1]); c10 = TV.MulAdd(ai, b0, c10); c11 = TV.MulAdd(ai, b1, c11); }
            { TV ai = TV.Create(a[2]); c20 = TV.MulAdd(ai, b0, c20); c21 = TV.MulAdd(ai, b1, c21); }
            { TV ai = TV.Create(a[3]); c30 = TV.MulAdd(ai, b0, c30); c31 = TV.MulAdd(ai, b1, c31); }
            { TV ai = TV.Create(a[4]); c40 = TV.MulAdd(ai, b0, c40); c41 = TV.MulAdd(ai, b1, c41); }
            { TV ai = TV.Create(a[5]); c50 = TV.MulAdd(ai, b0, c50); c51 = TV.MulAdd(ai, b1, c51); }
            if (mr == 8)
            {
                { TV ai = TV.Create(a[6]); c60 = TV.MulAdd(ai, b0, c60); c61 = TV.MulAdd(ai, b1, c61); }
                { TV ai = TV.Create(a[7]); c70 = TV.MulAdd(ai, b0, c70); c71 = TV.MulAdd(ai, b1, c71); }
            }
            a += mr;
            b += ldb;
        }
        TileStore<T, TV>.Row(c00, c01, c, w, alpha, beta);
        TileStore<T, TV>.Row(c10, c11, c + ldc, w, alpha, beta);
        TileStore<T, TV>.Row(c20, c21, c + 2 * ldc, w, alpha, beta);
        TileStore<T, TV>.Row(c30, c31, c + 3 * ldc, w, alpha, beta);
        TileStore<T, TV>.Row(c40, c41, c + 4 * ldc, w, alpha, beta);
        TileStore<T, TV>.Row(c50, c51, c + 5 * ldc, w, alpha, beta);
        if (mr == 8)
        {
            TileStore<T, TV>.Row(c60, c61, c + 6 * ldc, w, alpha, beta);
            TileStore<T, TV>.Row(c70, c71, c + 7 * ldc, w, alpha, beta);
        }
    }

    /// <summary>
    /// C[0..rows, 0..NR) for the first <paramref name="rows"/> (&lt; MR) rows of an MR panel (row stride MR in the
    /// packed A): B = 32 rows at MR = 6 leave 2, and the full kernel on zero rows wasted 1/9 of every per-step product.
    /// Rows go 4, 2, 1 at a time; each element is the same single FMA chain over k with the same alpha / beta store as
    /// <see cref="Run"/>, so results are bitwise those of the full kernel.
    /// </summary>
    public static bool RunPartialRows(nint kc, T* a, T* b, nint ldb, T* c, nint ldc, T alpha, T beta, int rows)
    {
        nint mr = MR;
        int i = 0;
        for (; i + 4 <= rows; i += 4) Rows<Four>(kc, a + i, mr, b, ldb, c + i * ldc, ldc, alpha, beta);
        for (; i + 2 <= rows; i += 2) Rows<Two>(kc, a + i, mr, b, ldb, c + i * ldc, ldc, alpha, beta);
        for (; i < rows; i++) Rows<One>(kc, a + i, mr, b, ldb, c + i * ldc, ldc, alpha, beta);
        return true;
    }

    private interface IRowCount { static abstract int Value { get; } }
    private readonly struct One : IRowCount { public static int Value => 1; }
    private readonly struct Two : IRowCount { public static int Value => 2; }
    private readonly struct Four : IRowCount { public static int Value => 4; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TR>(nint kc, T* a, nint mr, T* b, nint ldb, T* c, nint ldc, T alpha, T beta) where TR : IRowCount
    {
        nint w = TV.Count;
        TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (nint k = 0; k < kc; k++, a += mr, b += ldb)
        {
            TV b0 = TV.Load(b), b1 = TV.Load(b + w);
            { TV ai = TV.Create(a[0]); c00 = TV.MulAdd(ai, b0, c00); c01 = TV.MulAdd(ai, b1, c01); }
            if (TR.Value >= 2) { TV ai = TV.Create(a[1]); c10 = TV.MulAdd(ai, b0, c10); c11 = TV.MulAdd(ai, b1, c11); }
            if (TR.Value >= 4)
            {
                { TV ai = TV.Create(a[2]); c20 = TV.MulAdd(ai, b0, c20); c21 = TV.MulAdd(ai, b1, c21); }
                { TV ai = TV.Create(a[3]); c30 = TV.MulAdd(ai, b0, c30); c31 = TV.MulAdd(ai, b1, c31); }
            }
        }
        TileStore<T, TV>.Row(c00, c01, c, w, alpha, beta);
        if (TR.Value >= 2) TileStore<T, TV>.Row(c10, c11, c + ldc, w, alpha, beta);
        if (TR.Value >= 4)
        {
            TileStore<T, TV>.Row(c20, c21, c + 2 * ldc, w, alpha, beta);
            TileStore<T, TV>.Row(c30, c31, c + 3 * ldc, w, alpha, beta);
        }
    }
}

/// <summary>The store of one tile row of two registers: alpha · acc, or alpha · acc + beta · C (C not read when beta = 0).</summary>
internal static unsafe class TileStore<T, TV> where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : unmanaged, IVec<TV, T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(TV lo, TV hi, T* c, nint w, T alpha, T beta)
    {
        TV va = TV.Create(alpha);
        if (beta == T.Zero)
        {
            (va * lo).Store(c); (va * hi).Store(c + w);
        }
        else
        {
            TV vb = TV.Create(beta);
            TV.MulAdd(va, lo, vb * TV.Load(c)).Store(c);
            TV.MulAdd(va, hi, vb * TV.Load(c + w)).Store(c + w);
        }
    }
}
