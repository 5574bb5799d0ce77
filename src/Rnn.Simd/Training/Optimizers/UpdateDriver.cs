using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>
/// Runs an <see cref="IUpdateOperator{T}"/> over one segment of the flat buffers in one pass: load p, g and the
/// states, form the effective gradient (<see cref="GradientTerms{T}"/>), apply the rule, store p and the states.
/// </summary>
/// <remarks>
/// The remainder is one overlapping last vector, as in <see cref="Rnn.Simd.Kernels.Operators.ElementwiseDriver"/>:
/// it is loaded and computed before the main loop writes anything, and stored after it. The elements it shares with
/// the last full vector were computed from the same original inputs by the same lane-wise operations, so they are
/// stored twice with identical bits, and an in-place stateful update stays exact. Segments shorter than one vector
/// run the scalar form. No unrolling: the pass is bound by memory traffic (Adam moves 28 bytes per float parameter
/// for about 25 vector operations), and the out-of-order core overlaps independent iterations on its own.
/// </remarks>
internal static unsafe class UpdateDriver
{
    /// <summary>Updates elements [0, n) of p and the states; path must already be resolved (not Auto).</summary>
    public static void Run<T, TOp>(in TOp op, in GradientTerms<T> terms, T* p, T* g, T* s0, T* s1, T* s2, nint n, IsaPath path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        switch (path)
        {
            case IsaPath.Vector512 when n >= Vector512<T>.Count: Run512(op, terms, p, g, s0, s1, s2, n); return;
            case IsaPath.Vector256 when n >= Vector256<T>.Count: Run256(op, terms, p, g, s0, s1, s2, n); return;
            case IsaPath.Vector128 when n >= Vector128<T>.Count: Run128(op, terms, p, g, s0, s1, s2, n); return;
        }
        RunScalar(op, terms, p, g, s0, s1, s2, n);
    }

    private static void RunScalar<T, TOp>(TOp op, GradientTerms<T> terms, T* p, T* g, T* s0, T* s1, T* s2, nint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        T d0 = default, d1 = default, d2 = default;
        for (nint i = 0; i < n; i++)
        {
            T pv = p[i];
            T ge = terms.Effective(g[i], pv);
            pv *= terms.Decay;
            op.Invoke(ref pv, ge,
                ref TOp.StateCount > 0 ? ref s0[i] : ref d0,
                ref TOp.StateCount > 1 ? ref s1[i] : ref d1,
                ref TOp.StateCount > 2 ? ref s2[i] : ref d2);
            p[i] = pv;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step128<T, TOp>(in TOp op, in GradientTerms<T> terms, T* p, T* g, T* s0, T* s1, T* s2, nint i,
        out Vector128<T> pv, out Vector128<T> v0, out Vector128<T> v1, out Vector128<T> v2)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        pv = Vector128.Load(p + i);
        v0 = TOp.StateCount > 0 ? Vector128.Load(s0 + i) : default;
        v1 = TOp.StateCount > 1 ? Vector128.Load(s1 + i) : default;
        v2 = TOp.StateCount > 2 ? Vector128.Load(s2 + i) : default;
        Vector128<T> ge = terms.Effective(Vector128.Load(g + i), pv);
        pv *= Vector128.Create(terms.Decay);
        op.Invoke(ref pv, ge, ref v0, ref v1, ref v2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128<T, TOp>(T* p, T* s0, T* s1, T* s2, nint i, Vector128<T> pv, Vector128<T> v0, Vector128<T> v1, Vector128<T> v2)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        pv.Store(p + i);
        if (TOp.StateCount > 0) v0.Store(s0 + i);
        if (TOp.StateCount > 1) v1.Store(s1 + i);
        if (TOp.StateCount > 2) v2.Store(s2 + i);
    }

    private static void Run128<T, TOp>(TOp op, GradientTerms<T> terms, T* p, T* g, T* s0, T* s1, T* s2, nint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        nint w = Vector128<T>.Count, last = n - w;
        Step128(op, terms, p, g, s0, s1, s2, last, out Vector128<T> lp, out Vector128<T> l0, out Vector128<T> l1, out Vector128<T> l2);
        nint i = 0;
        for (; i <= last; i += w)
        {
            Step128(op, terms, p, g, s0, s1, s2, i, out Vector128<T> pv, out Vector128<T> v0, out Vector128<T> v1, out Vector128<T> v2);
            Store128<T, TOp>(p, s0, s1, s2, i, pv, v0, v1, v2);
        }
        if (i < n) Store128<T, TOp>(p, s0, s1, s2, last, lp, l0, l1, l2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step256<T, TOp>(in TOp op, in GradientTerms<T> terms, T* p, T* g, T* s0, T* s1, T* s2, nint i,
        out Vector256<T> pv, out Vector256<T> v0, out Vector256<T> v1, out Vector256<T> v2)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        pv = Vector256.Load(p + i);
        v0 = TOp.StateCount > 0 ? Vector256.Load(s0 + i) : default;
        v1 = TOp.StateCount > 1 ? Vector256.Load(s1 + i) : default;
        v2 = TOp.StateCount > 2 ? Vector256.Load(s2 + i) : default;
        Vector256<T> ge = terms.Effective(Vector256.Load(g + i), pv);
        pv *= Vector256.Create(terms.Decay);
        op.Invoke(ref pv, ge, ref v0, ref v1, ref v2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256<T, TOp>(T* p, T* s0, T* s1, T* s2, nint i, Vector256<T> pv, Vector256<T> v0, Vector256<T> v1, Vector256<T> v2)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        pv.Store(p + i);
        if (TOp.StateCount > 0) v0.Store(s0 + i);
        if (TOp.StateCount > 1) v1.Store(s1 + i);
        if (TOp.StateCount > 2) v2.Store(s2 + i);
    }

    private static void Run256<T, TOp>(TOp op, GradientTerms<T> terms, T* p, T* g, T* s0, T* s1, T* s2, nint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        nint w = Vector256<T>.Count, last = n - w;
        Step256(op, terms, p, g, s0, s1, s2, last, out Vector256<T> lp, out Vector256<T> l0, out Vector256<T> l1, out Vector256<T> l2);
        nint i = 0;
        for (; i <= last; i += w)
        {
            Step256(op, terms, p, g, s0, s1, s2, i, out Vector256<T> pv, out Vector256<T> v0, out Vector256<T> v1, out Vector256<T> v2);
            Store256<T, TOp>(p, s0, s1, s2, i, pv, v0, v1, v2);
        }
        if (i < n) Store256<T, TOp>(p, s0, s1, s2, last, lp, l0, l1, l2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step512<T, TOp>(in TOp op, in GradientTerms<T> terms, T* p, T* g, T* s0, T* s1, T* s2, nint i,
        out Vector512<T> pv, out Vector512<T> v0, out Vector512<T> v1, out Vector512<T> v2)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        pv = Vector512.Load(p + i);
        v0 = TOp.StateCount > 0 ? Vector512.Load(s0 + i) : default;
        v1 = TOp.StateCount > 1 ? Vector512.Load(s1 + i) : default;
        v2 = TOp.StateCount > 2 ? Vector512.Load(s2 + i) : default;
        Vector512<T> ge = terms.Effective(Vector512.Load(g + i), pv);
        pv *= Vector512.Create(terms.Decay);
        op.Invoke(ref pv, ge, ref v0, ref v1, ref v2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512<T, TOp>(T* p, T* s0, T* s1, T* s2, nint i, Vector512<T> pv, Vector512<T> v0, Vector512<T> v1, Vector512<T> v2)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        pv.Store(p + i);
        if (TOp.StateCount > 0) v0.Store(s0 + i);
        if (TOp.StateCount > 1) v1.Store(s1 + i);
        if (TOp.StateCount > 2) v2.Store(s2 + i);
    }

    private static void Run512<T, TOp>(TOp op, GradientTerms<T> terms, T* p, T* g, T* s0, T* s1, T* s2, nint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        nint w = Vector512<T>.Count, last = n - w;
        Step512(op, terms, p, g, s0, s1, s2, last, out Vector512<T> lp, out Vector512<T> l0, out Vector512<T> l1, out Vector512<T> l2);
        nint i = 0;
        for (; i <= last; i += w)
        {
            Step512(op, terms, p, g, s0, s1, s2, i, out Vector512<T> pv, out Vector512<T> v0, out Vector512<T> v1, out Vector512<T> v2);
            Store512<T, TOp>(p, s0, s1, s2, i, pv, v0, v1, v2);
        }
        if (i < n) Store512<T, TOp>(p, s0, s1, s2, last, lp, l0, l1, l2);
    }
}
