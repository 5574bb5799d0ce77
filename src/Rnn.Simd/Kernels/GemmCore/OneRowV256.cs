using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Rnn.Simd.Kernels.Operators.VectorHelpers;

namespace Rnn.Simd.Kernels.GemmCore;

/// <summary>
/// Vector256 one-row (batch 1, GEMV) products y = alpha · x · op(B) + beta · y. These are memory-bound: the work is
/// one pass over B, so they stream it with several independent accumulator chains instead of packing it.
/// </summary>
internal static unsafe class OneRowV256<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>B pre-packed in panels of 2 vectors ([panel][k][NR], panel stride k·NR): four panels at a time, eight accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Packed(nint k, T* x, T* panels, nint n, T* y, T alpha, T beta)
    {
        nint w = Vector256<T>.Count, nr = 2 * w, panelSize = k * nr, full = n / nr, p = 0;
        T* tmp = stackalloc T[2 * Vector256<T>.Count];
        for (; p + 4 <= full; p += 4)
        {
            T* b0 = panels + p * panelSize, b1 = b0 + panelSize, b2 = b1 + panelSize, b3 = b2 + panelSize;
            Vector256<T> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
            for (nint kk = 0; kk < k; kk++)
            {
                Vector256<T> xv = Vector256.Create(x[kk]);
                nint o = kk * nr;
                a00 = MulAdd(xv, Vector256.Load(b0 + o), a00); a01 = MulAdd(xv, Vector256.Load(b0 + o + w), a01);
                a10 = MulAdd(xv, Vector256.Load(b1 + o), a10); a11 = MulAdd(xv, Vector256.Load(b1 + o + w), a11);
                a20 = MulAdd(xv, Vector256.Load(b2 + o), a20); a21 = MulAdd(xv, Vector256.Load(b2 + o + w), a21);
                a30 = MulAdd(xv, Vector256.Load(b3 + o), a30); a31 = MulAdd(xv, Vector256.Load(b3 + o + w), a31);
            }
            T* yp = y + p * nr;
            Store(a00, yp, alpha, beta); Store(a01, yp + w, alpha, beta);
            Store(a10, yp + nr, alpha, beta); Store(a11, yp + nr + w, alpha, beta);
            Store(a20, yp + 2 * nr, alpha, beta); Store(a21, yp + 2 * nr + w, alpha, beta);
            Store(a30, yp + 3 * nr, alpha, beta); Store(a31, yp + 3 * nr + w, alpha, beta);
        }
        for (; p * nr < n; p++)
        {
            T* b0 = panels + p * panelSize;
            Vector256<T> a0 = default, a1 = default;
            for (nint kk = 0; kk < k; kk++)
            {
                Vector256<T> xv = Vector256.Create(x[kk]);
                a0 = MulAdd(xv, Vector256.Load(b0 + kk * nr), a0);
                a1 = MulAdd(xv, Vector256.Load(b0 + kk * nr + w), a1);
            }
            T* yp = y + p * nr;
            nint valid = n - p * nr;
            if (valid >= nr)
            {
                Store(a0, yp, alpha, beta); Store(a1, yp + w, alpha, beta);
            }
            else
            {
                a0.Store(tmp); a1.Store(tmp + w);
                for (nint j = 0; j < valid; j++) yp[j] = beta == T.Zero ? alpha * tmp[j] : MulAdd(alpha, tmp[j], beta * yp[j]);
            }
        }
    }

    /// <summary>B row-major K x N with leading dimension ldb: blocks of eight vectors of columns, then single vectors, then a scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(nint k, T* x, T* b, nint ldb, nint n, T* y, T alpha, T beta)
    {
        nint w = Vector256<T>.Count, j = 0;
        for (; j + 8 * w <= n; j += 8 * w)
        {
            Vector256<T> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            T* bp = b + j;
            for (nint kk = 0; kk < k; kk++, bp += ldb)
            {
                Vector256<T> xv = Vector256.Create(x[kk]);
                a0 = MulAdd(xv, Vector256.Load(bp), a0); a1 = MulAdd(xv, Vector256.Load(bp + w), a1);
                a2 = MulAdd(xv, Vector256.Load(bp + 2 * w), a2); a3 = MulAdd(xv, Vector256.Load(bp + 3 * w), a3);
                a4 = MulAdd(xv, Vector256.Load(bp + 4 * w), a4); a5 = MulAdd(xv, Vector256.Load(bp + 5 * w), a5);
                a6 = MulAdd(xv, Vector256.Load(bp + 6 * w), a6); a7 = MulAdd(xv, Vector256.Load(bp + 7 * w), a7);
            }
            T* yp = y + j;
            Store(a0, yp, alpha, beta); Store(a1, yp + w, alpha, beta); Store(a2, yp + 2 * w, alpha, beta); Store(a3, yp + 3 * w, alpha, beta);
            Store(a4, yp + 4 * w, alpha, beta); Store(a5, yp + 5 * w, alpha, beta); Store(a6, yp + 6 * w, alpha, beta); Store(a7, yp + 7 * w, alpha, beta);
        }
        for (; j + w <= n; j += w)
        {
            Vector256<T> a0 = default;
            T* bp = b + j;
            for (nint kk = 0; kk < k; kk++, bp += ldb) a0 = MulAdd(Vector256.Create(x[kk]), Vector256.Load(bp), a0);
            Store(a0, y + j, alpha, beta);
        }
        for (; j < n; j++)
        {
            T acc = T.Zero;
            T* bp = b + j;
            for (nint kk = 0; kk < k; kk++, bp += ldb) acc = MulAdd(x[kk], *bp, acc);
            y[j] = beta == T.Zero ? alpha * acc : MulAdd(alpha, acc, beta * y[j]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<T> acc, T* y, T alpha, T beta)
    {
        if (beta == T.Zero) (Vector256.Create(alpha) * acc).Store(y);
        else MulAdd(Vector256.Create(alpha), acc, Vector256.Create(beta) * Vector256.Load(y)).Store(y);
    }
}
