using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Rnn.Simd.Kernels.Operators.VectorHelpers;

namespace Rnn.Simd.Kernels.GemmCore;

/// <summary>
/// Vector128 kernels for the last, partial MR panel of A (fewer than MR valid rows, full NR columns): B = 32 rows
/// at MR = 6 leave 2, and running the full 6-row kernel on zero rows wasted 1/9 of every per-step product. Rows
/// are taken 4, 2, 1 at a time from the packed panel (row stride <c>mr</c>); each element is the same single FMA chain
/// over k with the same alpha / beta store as the full kernel, so results are bitwise those of the full kernel.
/// </summary>
internal static unsafe class PartialRowsV128<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>C[0..rows, 0..NR) = alpha · A_panel · B_panel + beta · C for the first <paramref name="rows"/> rows of an MR panel.</summary>
    public static void Run(nint kc, T* a, nint mr, T* b, nint ldb, T* c, nint ldc, T alpha, T beta, int rows)
    {
        int i = 0;
        for (; i + 4 <= rows; i += 4) Rows4(kc, a + i, mr, b, ldb, c + i * ldc, ldc, alpha, beta);
        for (; i + 2 <= rows; i += 2) Rows2(kc, a + i, mr, b, ldb, c + i * ldc, ldc, alpha, beta);
        for (; i < rows; i++) Rows1(kc, a + i, mr, b, ldb, c + i * ldc, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows4(nint kc, T* a, nint mr, T* b, nint ldb, T* c, nint ldc, T alpha, T beta)
    {
        nint w = Vector128<T>.Count;
        Vector128<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (nint k = 0; k < kc; k++, a += mr, b += ldb)
        {
            Vector128<T> b0 = Vector128.Load(b), b1 = Vector128.Load(b + w);
            { Vector128<T> ai = Vector128.Create(a[0]); c00 = MulAdd(ai, b0, c00); c01 = MulAdd(ai, b1, c01); }
            { Vector128<T> ai = Vector128.Create(a[1]); c10 = MulAdd(ai, b0, c10); c11 = MulAdd(ai, b1, c11); }
            { Vector128<T> ai = Vector128.Create(a[2]); c20 = MulAdd(ai, b0, c20); c21 = MulAdd(ai, b1, c21); }
            { Vector128<T> ai = Vector128.Create(a[3]); c30 = MulAdd(ai, b0, c30); c31 = MulAdd(ai, b1, c31); }
        }
        Store(c00, c01, c, w, alpha, beta); Store(c10, c11, c + ldc, w, alpha, beta);
        Store(c20, c21, c + 2 * ldc, w, alpha, beta); Store(c30, c31, c + 3 * ldc, w, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows2(nint kc, T* a, nint mr, T* b, nint ldb, T* c, nint ldc, T alpha, T beta)
    {
        nint w = Vector128<T>.Count;
        Vector128<T> c00 = default, c01 = default, c10 = default, c11 = default;
        for (nint k = 0; k < kc; k++, a += mr, b += ldb)
        {
            Vector128<T> b0 = Vector128.Load(b), b1 = Vector128.Load(b + w);
            { Vector128<T> ai = Vector128.Create(a[0]); c00 = MulAdd(ai, b0, c00); c01 = MulAdd(ai, b1, c01); }
            { Vector128<T> ai = Vector128.Create(a[1]); c10 = MulAdd(ai, b0, c10); c11 = MulAdd(ai, b1, c11); }
        }
        Store(c00, c01, c, w, alpha, beta); Store(c10, c11, c + ldc, w, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows1(nint kc, T* a, nint mr, T* b, nint ldb, T* c, T alpha, T beta)
    {
        nint w = Vector128<T>.Count;
        // One chain per element as in the full kernel: latency-bound with 2 chains, still cheaper than MR rows.
        Vector128<T> c00 = default, c01 = default;
        for (nint k = 0; k < kc; k++, a += mr, b += ldb)
        {
            Vector128<T> ai = Vector128.Create(a[0]);
            c00 = MulAdd(ai, Vector128.Load(b), c00); c01 = MulAdd(ai, Vector128.Load(b + w), c01);
        }
        Store(c00, c01, c, w, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector128<T> lo, Vector128<T> hi, T* c, nint w, T alpha, T beta)
    {
        Vector128<T> va = Vector128.Create(alpha);
        if (beta == T.Zero)
        {
            (va * lo).Store(c); (va * hi).Store(c + w);
        }
        else
        {
            Vector128<T> vb = Vector128.Create(beta);
            MulAdd(va, lo, vb * Vector128.Load(c)).Store(c);
            MulAdd(va, hi, vb * Vector128.Load(c + w)).Store(c + w);
        }
    }
}
