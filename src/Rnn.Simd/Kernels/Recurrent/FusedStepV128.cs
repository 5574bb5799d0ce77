using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Rnn.Simd.Kernels.GemmCore;
using static Rnn.Simd.Kernels.Operators.VectorHelpers;

namespace Rnn.Simd.Kernels.Recurrent;

/// <summary>
/// Vector128 pre-activations of one hidden block of a batch-1 step (see the batch-1 step): the G gate panels
/// of NR = 2 vectors of columns sit side by side in each packed row, so one k-step is one broadcast of x_k and 2·G
/// FMAs over G·NR contiguous weights (one sequential stream instead of G panels a whole matrix apart).
/// </summary>
internal static unsafe class FusedStepV128<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>
    /// dst[q·NR + c] (+)= Σ_k x[k] · rows[k·4·NR + q·NR + c] for the 4 gates q, K cut into chunks of
    /// <see cref="GemmBlocking.KC"/> rows, each chunk summed from zero in one chain and then added to dst (or, for the
    /// first chunk when <paramref name="overwrite"/>, stored): exactly the order of the blocked GEMM with beta = 1
    /// (or 0), so a row computed here equals the same row of a batched product bitwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gates4(nint k, T* x, T* rows, T* dst, bool overwrite)
    {
        nint w = Vector128<T>.Count, nr = 2 * w, stride = 4 * nr;
        for (nint k0 = 0; k0 < k; k0 += GemmBlocking.KC)
        {
            nint k1 = Math.Min(k, k0 + GemmBlocking.KC);
            Vector128<T> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
            T* r = rows + k0 * stride;
            for (nint kk = k0; kk < k1; kk++, r += stride)
            {
                Vector128<T> xv = Vector128.Create(x[kk]);
                a00 = MulAdd(xv, Vector128.Load(r), a00); a01 = MulAdd(xv, Vector128.Load(r + w), a01);
                a10 = MulAdd(xv, Vector128.Load(r + nr), a10); a11 = MulAdd(xv, Vector128.Load(r + nr + w), a11);
                a20 = MulAdd(xv, Vector128.Load(r + 2 * nr), a20); a21 = MulAdd(xv, Vector128.Load(r + 2 * nr + w), a21);
                a30 = MulAdd(xv, Vector128.Load(r + 3 * nr), a30); a31 = MulAdd(xv, Vector128.Load(r + 3 * nr + w), a31);
            }
            if (overwrite && k0 == 0)
            {
                a00.Store(dst); a01.Store(dst + w); a10.Store(dst + nr); a11.Store(dst + nr + w);
                a20.Store(dst + 2 * nr); a21.Store(dst + 2 * nr + w); a30.Store(dst + 3 * nr); a31.Store(dst + 3 * nr + w);
            }
            else
            {
                (a00 + Vector128.Load(dst)).Store(dst); (a01 + Vector128.Load(dst + w)).Store(dst + w);
                (a10 + Vector128.Load(dst + nr)).Store(dst + nr); (a11 + Vector128.Load(dst + nr + w)).Store(dst + nr + w);
                (a20 + Vector128.Load(dst + 2 * nr)).Store(dst + 2 * nr); (a21 + Vector128.Load(dst + 2 * nr + w)).Store(dst + 2 * nr + w);
                (a30 + Vector128.Load(dst + 3 * nr)).Store(dst + 3 * nr); (a31 + Vector128.Load(dst + 3 * nr + w)).Store(dst + 3 * nr + w);
            }
        }
    }

    /// <summary>As <see cref="Gates4"/> for 3 gates (GRU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gates3(nint k, T* x, T* rows, T* dst, bool overwrite)
    {
        nint w = Vector128<T>.Count, nr = 2 * w, stride = 3 * nr;
        for (nint k0 = 0; k0 < k; k0 += GemmBlocking.KC)
        {
            nint k1 = Math.Min(k, k0 + GemmBlocking.KC);
            Vector128<T> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
            T* r = rows + k0 * stride;
            for (nint kk = k0; kk < k1; kk++, r += stride)
            {
                Vector128<T> xv = Vector128.Create(x[kk]);
                a00 = MulAdd(xv, Vector128.Load(r), a00); a01 = MulAdd(xv, Vector128.Load(r + w), a01);
                a10 = MulAdd(xv, Vector128.Load(r + nr), a10); a11 = MulAdd(xv, Vector128.Load(r + nr + w), a11);
                a20 = MulAdd(xv, Vector128.Load(r + 2 * nr), a20); a21 = MulAdd(xv, Vector128.Load(r + 2 * nr + w), a21);
            }
            if (overwrite && k0 == 0)
            {
                a00.Store(dst); a01.Store(dst + w); a10.Store(dst + nr); a11.Store(dst + nr + w);
                a20.Store(dst + 2 * nr); a21.Store(dst + 2 * nr + w);
            }
            else
            {
                (a00 + Vector128.Load(dst)).Store(dst); (a01 + Vector128.Load(dst + w)).Store(dst + w);
                (a10 + Vector128.Load(dst + nr)).Store(dst + nr); (a11 + Vector128.Load(dst + nr + w)).Store(dst + nr + w);
                (a20 + Vector128.Load(dst + 2 * nr)).Store(dst + 2 * nr); (a21 + Vector128.Load(dst + 2 * nr + w)).Store(dst + 2 * nr + w);
            }
        }
    }
}
