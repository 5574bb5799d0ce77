using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels.GemmCore;

/// <summary>
/// One-row (batch 1, GEMV) products y = alpha · x · op(B) + beta · y. These are memory-bound: the work is
/// one pass over B, so they stream it with several independent accumulator chains instead of packing it.
/// </summary>
internal static unsafe class OneRow<T, TV> where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : unmanaged, IVec<TV, T>
{
    /// <summary>B pre-packed in panels of 2 vectors ([panel][k][NR], panel stride k·NR): four panels at a time, eight accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Packed(nint k, T* x, T* panels, nint n, T* y, T alpha, T beta)
    {
        nint w = TV.Count, nr = 2 * w, panelSize = k * nr, full = n / nr, p = 0;
        T* tmp = stackalloc T[2 * 64 / sizeof(T)];
        for (; p + 4 <= full; p += 4)
        {
            T* b0 = panels + p * panelSize, b1 = b0 + panelSize, b2 = b1 + panelSize, b3 = b2 + panelSize;
            TV a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
            for (nint kk = 0; kk < k; kk++)
            {
                TV xv = TV.Create(x[kk]);
                nint o = kk * nr;
                a00 = TV.MulAdd(xv, TV.Load(b0 + o), a00); a01 = TV.MulAdd(xv, TV.Load(b0 + o + w), a01);
                a10 = TV.MulAdd(xv, TV.Load(b1 + o), a10); a11 = TV.MulAdd(xv, TV.Load(b1 + o + w), a11);
                a20 = TV.MulAdd(xv, TV.Load(b2 + o), a20); a21 = TV.MulAdd(xv, TV.Load(b2 + o + w), a21);
                a30 = TV.MulAdd(xv, TV.Load(b3 + o), a30); a31 = TV.MulAdd(xv, TV.Load(b3 + o + w), a31);
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
            TV a0 = default, a1 = default;
            for (nint kk = 0; kk < k; kk++)
            {
                TV xv = TV.Create(x[kk]);
                a0 = TV.MulAdd(xv, TV.Load(b0 + kk * nr), a0);
                a1 = TV.MulAdd(xv, TV.Load(b0 + kk * nr + w), a1);
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
                for (nint j = 0; j < valid; j++) yp[j] = beta == T.Zero ? alpha * tmp[j] : T.FusedMultiplyAdd(alpha, tmp[j], beta * yp[j]);
            }
        }
    }

    /// <summary>
    /// B row-major K x N with leading dimension ldb. y is first scaled by beta, then four rows of B at a time are
    /// folded into it (y += Σ (alpha·x_k)·B[k, :]): every row of B is read sequentially, which the prefetchers
    /// follow, where a column-block walk would cross a page on every row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(nint k, T* x, T* b, nint ldb, nint n, T* y, T alpha, T beta)
    {
        nint w = TV.Count;
        if (beta == T.Zero) new Span<T>(y, (int)n).Clear();
        else if (beta != T.One) System.Numerics.Tensors.TensorPrimitives.Multiply(new ReadOnlySpan<T>(y, (int)n), beta, new Span<T>(y, (int)n));
        nint kk = 0;
        for (; kk + 4 <= k; kk += 4)
        {
            T s0 = alpha * x[kk], s1 = alpha * x[kk + 1], s2 = alpha * x[kk + 2], s3 = alpha * x[kk + 3];
            TV x0 = TV.Create(s0), x1 = TV.Create(s1), x2 = TV.Create(s2), x3 = TV.Create(s3);
            T* r0 = b + kk * ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
            nint j = 0;
            for (; j + w <= n; j += w)
            {
                TV acc = TV.MulAdd(x0, TV.Load(r0 + j), TV.Load(y + j));
                acc = TV.MulAdd(x1, TV.Load(r1 + j), acc);
                acc = TV.MulAdd(x2, TV.Load(r2 + j), acc);
                TV.MulAdd(x3, TV.Load(r3 + j), acc).Store(y + j);
            }
            for (; j < n; j++) y[j] = T.FusedMultiplyAdd(s3, r3[j], T.FusedMultiplyAdd(s2, r2[j], T.FusedMultiplyAdd(s1, r1[j], T.FusedMultiplyAdd(s0, r0[j], y[j]))));
        }
        for (; kk < k; kk++)
        {
            T s0 = alpha * x[kk];
            TV x0 = TV.Create(s0);
            T* r0 = b + kk * ldb;
            nint j = 0;
            for (; j + w <= n; j += w) TV.MulAdd(x0, TV.Load(r0 + j), TV.Load(y + j)).Store(y + j);
            for (; j < n; j++) y[j] = T.FusedMultiplyAdd(s0, r0[j], y[j]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(TV acc, T* y, T alpha, T beta)
    {
        if (beta == T.Zero) (TV.Create(alpha) * acc).Store(y);
        else TV.MulAdd(TV.Create(alpha), acc, TV.Create(beta) * TV.Load(y)).Store(y);
    }
}
