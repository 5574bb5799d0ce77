using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels.Updates;

/// <summary>
/// Runs an <see cref="IUpdateOperator{T}"/> over one segment of the flat buffers in one pass: load p, g and the
/// states, form the effective gradient (<see cref="GradientTerms{T}"/>), apply the rule, store p and the states.
/// </summary>
/// <remarks>
/// The remainder is one overlapping last vector, as in <see cref="Rnn.Simd.Kernels.Operators.ElementwiseDriver"/>:
/// it is loaded and computed before the main loop writes anything, and stored after it. The elements it shares with
/// the last full vector were computed from the same original inputs by the same lane-wise operations, so they are
/// stored twice with identical bits, and an in-place stateful update stays exact. Segments shorter than one vector
/// run the scalar width. No unrolling: the pass is bound by memory traffic (Adam moves 28 bytes per float parameter
/// for about 25 vector operations), and the out-of-order core overlaps independent iterations on its own.
/// </remarks>
internal static unsafe class UpdateDriver
{
    /// <summary>Updates elements [0, n) of p and the states; path must already be resolved (not Auto).</summary>
    public static void Run<T, TOp>(in TOp op, in GradientTerms<T> terms, T* p, T* g, T* s0, T* s1, T* s2, nint n, IsaPath path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        if (n <= 0) return;
        var job = new Job<T, TOp>(op, terms, p, g, s0, s1, s2, n);
        IsaDispatch.Run<T, Job<T, TOp>>(path, ref job);
    }

    private readonly struct Job<T, TOp>(TOp op, GradientTerms<T> terms, T* p, T* g, T* s0, T* s1, T* s2, nint n) : IVecJob<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : struct, IUpdateOperator<T>
    {
        // The body is static and takes its operands by value: an instance body would read the job's fields through
        // `this` (an address-exposed struct), and the JIT reloads them after every store through a pointer.
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            if (n < TV.Count) Body<Vec1<T>>(op, terms, p, g, s0, s1, s2, n);
            else Body<TV>(op, terms, p, g, s0, s1, s2, n);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Body<TV>(TOp op, GradientTerms<T> terms, T* p, T* g, T* s0, T* s1, T* s2, nint n) where TV : unmanaged, IVec<TV, T>
        {
            nint w = TV.Count, last = n - w;
            Step(op, terms, p, g, s0, s1, s2, last, out TV lp, out TV l0, out TV l1, out TV l2);
            nint i = 0;
            for (; i <= last; i += w)
            {
                Step(op, terms, p, g, s0, s1, s2, i, out TV pv, out TV v0, out TV v1, out TV v2);
                Store(p, s0, s1, s2, i, pv, v0, v1, v2);
            }
            if (i < n) Store(p, s0, s1, s2, last, lp, l0, l1, l2);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Step<TV>(in TOp op, in GradientTerms<T> terms, T* p, T* g, T* s0, T* s1, T* s2, nint i,
            out TV pv, out TV v0, out TV v1, out TV v2) where TV : unmanaged, IVec<TV, T>
        {
            pv = TV.Load(p + i);
            v0 = TOp.StateCount > 0 ? TV.Load(s0 + i) : default;
            v1 = TOp.StateCount > 1 ? TV.Load(s1 + i) : default;
            v2 = TOp.StateCount > 2 ? TV.Load(s2 + i) : default;
            TV ge = terms.Effective(TV.Load(g + i), pv);
            pv *= TV.Create(terms.Decay);
            op.Invoke(ref pv, ge, ref v0, ref v1, ref v2);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store<TV>(T* p, T* s0, T* s1, T* s2, nint i, TV pv, TV v0, TV v1, TV v2) where TV : unmanaged, IVec<TV, T>
        {
            pv.Store(p + i);
            if (TOp.StateCount > 0) v0.Store(s0 + i);
            if (TOp.StateCount > 1) v1.Store(s1 + i);
            if (TOp.StateCount > 2) v2.Store(s2 + i);
        }
    }
}
