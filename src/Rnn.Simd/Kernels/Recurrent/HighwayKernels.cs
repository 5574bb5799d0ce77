using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels.Operators;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels.Recurrent;

/// <summary>
/// The fused element-wise math of one micro-layer of a recurrent highway cell (Zilly et al. 2017, Recurrent Highway
/// Networks, ICML, Sec. 3, the RHN layer equations, with the coupled carry gate c = 1 - t), written once over the width
/// abstraction (<see cref="IVec{TSelf, T}"/>) like <see cref="GateKernels"/>: over B rows of H columns, a gate row
/// of 2H columns holds the candidate block (h̃) then the transform block (t); a state row holds H columns. Each row
/// makes one pass in registers of the path's width and finishes the last H mod W columns with the scalar width (the
/// same formulas). tanh and σ are those of <see cref="VectorMath.Tanh{T}"/> and <see cref="VectorMath.Sigmoid{T}"/>.
/// </summary>
internal static unsafe class HighwayKernels
{
    /// <summary>
    /// Forward of one micro-layer: <paramref name="gates"/> (B x 2H) holds the pre-activations (a_H, a_T) on entry and
    /// receives h̃ = tanh(a_H), t = σ(a_T) (overwritten); s = h̃ ⊙ t + s_prev ⊙ (1 - t) is written to
    /// <paramref name="s"/> (B x H), which may be <paramref name="sPrev"/> itself (column j is read before it is written).
    /// </summary>
    public static void Forward<T>(IsaPath path, int batch, int hidden, T* gates, T* sPrev, T* s)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var job = new ForwardJob<T>(batch, hidden, gates, sPrev, s);
        IsaDispatch.Run<T, ForwardJob<T>>(path, ref job);
    }

    /// <summary>
    /// Backward of one micro-layer: <paramref name="gates"/> (B x 2H) holds h̃ and t from the forward, <paramref name="sPrev"/>
    /// (B x H) the state that entered it, <paramref name="ds"/> (B x H) dL/ds. Overwrites <paramref name="dGates"/> (B x 2H)
    /// with dL/da_H = ds ⊙ t ⊙ (1 - h̃²) and dL/da_T = ds ⊙ (h̃ - s_prev) ⊙ t(1 - t), and <paramref name="dsPrev"/> (B x H)
    /// with the carry path ds ⊙ (1 - t) only (the caller adds dG · R). <paramref name="dsPrev"/> may be <paramref name="ds"/>.
    /// </summary>
    public static void Backward<T>(IsaPath path, int batch, int hidden, T* gates, T* sPrev, T* ds, T* dGates, T* dsPrev)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var job = new BackwardJob<T>(batch, hidden, gates, sPrev, ds, dGates, dsPrev);
        IsaDispatch.Run<T, BackwardJob<T>>(path, ref job);
    }

    private readonly struct ForwardJob<T>(int batch, int hidden, T* gates, T* sPrev, T* s) : IVecJob<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            nint n = hidden;
            for (int b = 0; b < batch; b++)
            {
                T* gb = gates + b * 2 * n; nint o = b * n;
                nint j = Row<TV>(gb, sPrev + o, s + o, 0, n);
                Row<Vec1<T>>(gb, sPrev + o, s + o, j, n);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static nint Row<TV>(T* gates, T* sPrev, T* s, nint j, nint n) where TV : unmanaged, IVec<TV, T>
        {
            for (nint w = TV.Count; j + w <= n; j += w)
            {
                // h̃ = tanh(a_H), t = σ(a_T); s = h̃ ⊙ t + s_prev ⊙ (1 - t) = s_prev + t ⊙ (h̃ - s_prev)
                TV hc = TanhOperator<T>.Invoke(TV.Load(gates + j));
                TV t = SigmoidOperator<T>.Invoke(TV.Load(gates + n + j));
                TV sp = TV.Load(sPrev + j);
                hc.Store(gates + j); t.Store(gates + n + j);
                TV.MulAdd(t, hc - sp, sp).Store(s + j);
            }
            return j;
        }
    }

    private readonly struct BackwardJob<T>(int batch, int hidden, T* gates, T* sPrev, T* ds, T* dGates, T* dsPrev) : IVecJob<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            nint n = hidden;
            for (int b = 0; b < batch; b++)
            {
                nint g2 = b * 2 * n, o = b * n;
                nint j = Row<TV>(gates + g2, sPrev + o, ds + o, dGates + g2, dsPrev + o, 0, n);
                Row<Vec1<T>>(gates + g2, sPrev + o, ds + o, dGates + g2, dsPrev + o, j, n);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static nint Row<TV>(T* gates, T* sPrev, T* ds, T* dGates, T* dsPrev, nint j, nint n) where TV : unmanaged, IVec<TV, T>
        {
            TV one = TV.One;
            for (nint w = TV.Count; j + w <= n; j += w)
            {
                TV hc = TV.Load(gates + j), t = TV.Load(gates + n + j), dsv = TV.Load(ds + j), sp = TV.Load(sPrev + j);
                // s = h̃ ⊙ t + s_prev ⊙ (1 - t)  =>  dh̃ = ds ⊙ t, dt = ds ⊙ (h̃ - s_prev), ds_prev (carry) = ds ⊙ (1 - t)
                TV dah = dsv * t * TV.MulAdd(-hc, hc, one);
                TV dat = dsv * (hc - sp) * (t * (one - t));
                dah.Store(dGates + j); dat.Store(dGates + n + j);
                (dsv * (one - t)).Store(dsPrev + j);
            }
            return j;
        }
    }
}
