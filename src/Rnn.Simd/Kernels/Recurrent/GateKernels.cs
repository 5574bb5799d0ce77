using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels.GemmCore;
using Rnn.Simd.Kernels.Operators;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels.Recurrent;

/// <summary>
/// The fused element-wise gate math of the recurrent cells and the gate-interleaved batch-1 product, each written
/// once over the width abstraction (<see cref="IVec{TSelf, T}"/>). Over B rows of H columns on one ISA path: row b of
/// a gate array starts at b·G·H (G gates), of a state array at b·H. Each row makes one pass over its H columns in
/// registers of the path's width, then finishes the last H mod W columns with the scalar width (the same formulas,
/// so a column's value does not depend on where it falls). The activations are those of
/// <see cref="VectorMath.Tanh{T}"/> and <see cref="VectorMath.Sigmoid{T}"/> (same approximations, same accuracy).
/// </summary>
internal static unsafe class GateKernels
{
    /// <summary>
    /// LSTM forward (PyTorch gate order i, f, g, o): gates holds the pre-activations a = x W_ihᵀ + h W_hhᵀ + b and
    /// receives the activations i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o); c = f ⊙ c_prev + i ⊙ g,
    /// tanhC = tanh(c), h = o ⊙ tanh(c). c may be the same buffer as cPrev (column j is read before it is written).
    /// </summary>
    public static void LstmForward<T>(IsaPath path, int batch, int hidden, T* gates, T* cPrev, T* c, T* tanhC, T* h)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var job = new LstmForwardJob<T>(batch, hidden, gates, cPrev, c, tanhC, h);
        IsaDispatch.Run<T, LstmForwardJob<T>>(path, ref job);
    }

    /// <summary>
    /// LSTM backward of one step: gates holds the activations (i, f, g, o), dh = dL/dh_t, dc = dL/dc_t from step t+1 in
    /// and dL/dc_(t-1) out; dGates receives the pre-activation gradients (overwritten).
    /// </summary>
    public static void LstmBackward<T>(IsaPath path, int batch, int hidden, T* gates, T* cPrev, T* tanhC, T* dh, T* dc, T* dGates)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var job = new LstmBackwardJob<T>(batch, hidden, gates, cPrev, tanhC, dh, dc, dGates);
        IsaDispatch.Run<T, LstmBackwardJob<T>>(path, ref job);
    }

    /// <summary>
    /// GRU forward (PyTorch r, z, n): gx = x W_ihᵀ + b_ih and gh = h W_hhᵀ (no bias), bhh = b_hh (3H, shared by the
    /// rows); act receives r, z, n (may be gx itself), ghn receives W_hn h + b_hn, h = (1 - z) ⊙ n + z ⊙ h_prev.
    /// h may be hPrev (column j is read before it is written).
    /// </summary>
    public static void GruForward<T>(IsaPath path, int batch, int hidden, T* gx, T* gh, T* bhh, T* hPrev, T* act, T* ghn, T* h)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var job = new GruForwardJob<T>(batch, hidden, gx, gh, bhh, hPrev, act, ghn, h);
        IsaDispatch.Run<T, GruForwardJob<T>>(path, ref job);
    }

    /// <summary>
    /// GRU backward of one step: dGx receives the input-side pre-activation gradients (r, z, n), dGh the hidden side
    /// (the n block scaled by r), dhPrev = dh ⊙ z (the direct path only; the caller adds dGh · W_hh). All overwritten.
    /// </summary>
    public static void GruBackward<T>(IsaPath path, int batch, int hidden, T* act, T* ghn, T* hPrev, T* dh, T* dGx, T* dGh, T* dhPrev)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var job = new GruBackwardJob<T>(batch, hidden, act, ghn, hPrev, dh, dGx, dGh, dhPrev);
        IsaDispatch.Run<T, GruBackwardJob<T>>(path, ref job);
    }

    /// <summary>
    /// Pre-activations of one hidden block of a batch-1 step over gate-interleaved packed rows (G gates of NR columns
    /// side by side per row): dst[q·NR + c] (+)= Σ_k x[k] · rows[k·G·NR + q·NR + c], K cut into KC chunks summed from
    /// zero and then added (or stored, first chunk with <paramref name="overwrite"/>): the blocked GEMM's order, so a
    /// row computed here equals the same row of a batched product bitwise. nr must be the path's panel width.
    /// </summary>
    public static void FusedGates<T>(IsaPath path, int gates, nint k, T* x, T* rows, T* dst, bool overwrite, int nr)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (gates == 4)
        {
            var job = new FusedGatesJob<T, Four>(k, x, rows, dst, overwrite, nr);
            IsaDispatch.Run<T, FusedGatesJob<T, Four>>(path, ref job);
        }
        else if (gates == 3)
        {
            var job = new FusedGatesJob<T, Three>(k, x, rows, dst, overwrite, nr);
            IsaDispatch.Run<T, FusedGatesJob<T, Three>>(path, ref job);
        }
        else
        {
            GatesScalar(k, x, rows, dst, overwrite, gates, nr);
        }
    }

    private readonly struct LstmForwardJob<T>(int batch, int hidden, T* gates, T* cPrev, T* c, T* tanhC, T* h) : IVecJob<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            nint n = hidden;
            for (int b = 0; b < batch; b++)
            {
                T* gb = gates + b * 4 * n; nint o = b * n;
                nint j = Row<TV>(gb, cPrev + o, c + o, tanhC + o, h + o, 0, n);
                Row<Vec1<T>>(gb, cPrev + o, c + o, tanhC + o, h + o, j, n);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static nint Row<TV>(T* gates, T* cPrev, T* c, T* tanhC, T* h, nint j, nint n) where TV : unmanaged, IVec<TV, T>
        {
            for (nint w = TV.Count; j + w <= n; j += w)
            {
                // i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o); c = f ⊙ c_prev + i ⊙ g; h = o ⊙ tanh(c)
                TV i = SigmoidOperator<T>.Invoke(TV.Load(gates + j));
                TV f = SigmoidOperator<T>.Invoke(TV.Load(gates + n + j));
                TV g = TanhOperator<T>.Invoke(TV.Load(gates + 2 * n + j));
                TV o = SigmoidOperator<T>.Invoke(TV.Load(gates + 3 * n + j));
                TV cv = TV.MulAdd(f, TV.Load(cPrev + j), i * g);
                TV tc = TanhOperator<T>.Invoke(cv);
                i.Store(gates + j); f.Store(gates + n + j); g.Store(gates + 2 * n + j); o.Store(gates + 3 * n + j);
                cv.Store(c + j); tc.Store(tanhC + j); (o * tc).Store(h + j);
            }
            return j;
        }
    }

    private readonly struct LstmBackwardJob<T>(int batch, int hidden, T* gates, T* cPrev, T* tanhC, T* dh, T* dc, T* dGates) : IVecJob<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            nint n = hidden;
            for (int b = 0; b < batch; b++)
            {
                T* gb = gates + b * 4 * n, db = dGates + b * 4 * n; nint o = b * n;
                nint j = Row<TV>(gb, cPrev + o, tanhC + o, dh + o, dc + o, db, 0, n);
                Row<Vec1<T>>(gb, cPrev + o, tanhC + o, dh + o, dc + o, db, j, n);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static nint Row<TV>(T* gates, T* cPrev, T* tanhC, T* dh, T* dc, T* dGates, nint j, nint n) where TV : unmanaged, IVec<TV, T>
        {
            TV one = TV.One;
            for (nint w = TV.Count; j + w <= n; j += w)
            {
                TV i = TV.Load(gates + j), f = TV.Load(gates + n + j), g = TV.Load(gates + 2 * n + j), o = TV.Load(gates + 3 * n + j);
                TV tc = TV.Load(tanhC + j), dhv = TV.Load(dh + j);
                // h = o ⊙ tanh(c)  =>  dc += dh ⊙ o ⊙ (1 - tanh²(c)),  da_o = dh ⊙ tanh(c) ⊙ o(1 - o)
                TV dcv = TV.MulAdd(dhv * o, TV.MulAdd(-tc, tc, one), TV.Load(dc + j));
                TV dao = dhv * tc * (o * (one - o));
                // c = f ⊙ c_prev + i ⊙ g  =>  da_i = dc ⊙ g ⊙ i(1 - i), da_g = dc ⊙ i ⊙ (1 - g²), da_f = dc ⊙ c_prev ⊙ f(1 - f)
                TV dai = dcv * g * (i * (one - i));
                TV dag = dcv * i * TV.MulAdd(-g, g, one);
                TV daf = dcv * TV.Load(cPrev + j) * (f * (one - f));
                dai.Store(dGates + j); daf.Store(dGates + n + j); dag.Store(dGates + 2 * n + j); dao.Store(dGates + 3 * n + j);
                // dc_(t-1) = dc ⊙ f
                (dcv * f).Store(dc + j);
            }
            return j;
        }
    }

    private readonly struct GruForwardJob<T>(int batch, int hidden, T* gx, T* gh, T* bhh, T* hPrev, T* act, T* ghn, T* h) : IVecJob<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            nint n = hidden;
            for (int b = 0; b < batch; b++)
            {
                nint g3 = b * 3 * n, o = b * n;
                nint j = Row<TV>(gx + g3, gh + g3, bhh, hPrev + o, act + g3, ghn + o, h + o, 0, n);
                Row<Vec1<T>>(gx + g3, gh + g3, bhh, hPrev + o, act + g3, ghn + o, h + o, j, n);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static nint Row<TV>(T* gx, T* gh, T* bhh, T* hPrev, T* act, T* ghn, T* h, nint j, nint n) where TV : unmanaged, IVec<TV, T>
        {
            for (nint w = TV.Count; j + w <= n; j += w)
            {
                // r = σ(gx_r + gh_r + b_hr), z = σ(gx_z + gh_z + b_hz), n = tanh(gx_n + r ⊙ (gh_n + b_hn)), h = (1 - z) ⊙ n + z ⊙ h_prev
                TV r = SigmoidOperator<T>.Invoke(TV.Load(gx + j) + TV.Load(gh + j) + TV.Load(bhh + j));
                TV z = SigmoidOperator<T>.Invoke(TV.Load(gx + n + j) + TV.Load(gh + n + j) + TV.Load(bhh + n + j));
                TV hn = TV.Load(gh + 2 * n + j) + TV.Load(bhh + 2 * n + j);
                TV nv = TanhOperator<T>.Invoke(TV.MulAdd(r, hn, TV.Load(gx + 2 * n + j)));
                TV hp = TV.Load(hPrev + j);
                r.Store(act + j); z.Store(act + n + j); nv.Store(act + 2 * n + j); hn.Store(ghn + j);
                TV.MulAdd(z, hp - nv, nv).Store(h + j);
            }
            return j;
        }
    }

    private readonly struct GruBackwardJob<T>(int batch, int hidden, T* act, T* ghn, T* hPrev, T* dh, T* dGx, T* dGh, T* dhPrev) : IVecJob<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            nint n = hidden;
            for (int b = 0; b < batch; b++)
            {
                nint g3 = b * 3 * n, o = b * n;
                nint j = Row<TV>(act + g3, ghn + o, hPrev + o, dh + o, dGx + g3, dGh + g3, dhPrev + o, 0, n);
                Row<Vec1<T>>(act + g3, ghn + o, hPrev + o, dh + o, dGx + g3, dGh + g3, dhPrev + o, j, n);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static nint Row<TV>(T* act, T* ghn, T* hPrev, T* dh, T* dGx, T* dGh, T* dhPrev, nint j, nint n) where TV : unmanaged, IVec<TV, T>
        {
            TV one = TV.One;
            for (nint w = TV.Count; j + w <= n; j += w)
            {
                TV r = TV.Load(act + j), z = TV.Load(act + n + j), nv = TV.Load(act + 2 * n + j);
                TV dhv = TV.Load(dh + j);
                // h = (1 - z) ⊙ n + z ⊙ h_prev  =>  dn = dh ⊙ (1 - z), dz = dh ⊙ (h_prev - n), dh_prev = dh ⊙ z
                TV dan = dhv * (one - z) * TV.MulAdd(-nv, nv, one);
                TV daz = dhv * (TV.Load(hPrev + j) - nv) * (z * (one - z));
                // n = tanh(gx_n + r ⊙ ghn)  =>  dr = da_n ⊙ ghn, d(ghn) = da_n ⊙ r
                TV dar = dan * TV.Load(ghn + j) * (r * (one - r));
                dar.Store(dGx + j); daz.Store(dGx + n + j); dan.Store(dGx + 2 * n + j);
                dar.Store(dGh + j); daz.Store(dGh + n + j); (dan * r).Store(dGh + 2 * n + j);
                (dhv * z).Store(dhPrev + j);
            }
            return j;
        }
    }

    /// <summary>A gate count known to the JIT, so the unused accumulators of a 3-gate block fold away.</summary>
    private interface IGateCount { static abstract int Value { get; } }
    private readonly struct Three : IGateCount { public static int Value => 3; }
    private readonly struct Four : IGateCount { public static int Value => 4; }

    /// <summary>
    /// The G gate panels of NR = 2 registers of columns sit side by side in each packed row, so one k-step is one
    /// broadcast of x_k and 2·G FMAs over G·NR contiguous weights (one sequential stream instead of G panels a whole
    /// matrix apart). The scalar path's panels are NR = 4 wide (its GEMM tile): there the per-element loop runs.
    /// </summary>
    private readonly struct FusedGatesJob<T, TG>(nint k, T* x, T* rows, T* dst, bool overwrite, int nr) : IVecJob<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TG : IGateCount
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            if (TV.Count == 1 || nr != 2 * TV.Count) GatesScalar(k, x, rows, dst, overwrite, TG.Value, nr);
            else Body<TV>(k, x, rows, dst, overwrite, nr);
        }

        // Static, operands by value: see UpdateDriver (fields read through `this` are reloaded after every store).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Body<TV>(nint k, T* x, T* rows, T* dst, bool overwrite, nint nr) where TV : unmanaged, IVec<TV, T>
        {
            nint w = TV.Count, stride = TG.Value * nr;
            for (nint k0 = 0; k0 < k; k0 += GemmBlocking.KC)
            {
                nint k1 = Math.Min(k, k0 + GemmBlocking.KC);
                TV a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
                T* r = rows + k0 * stride;
                for (nint kk = k0; kk < k1; kk++, r += stride)
                {
                    TV xv = TV.Create(x[kk]);
                    a00 = TV.MulAdd(xv, TV.Load(r), a00); a01 = TV.MulAdd(xv, TV.Load(r + w), a01);
                    a10 = TV.MulAdd(xv, TV.Load(r + nr), a10); a11 = TV.MulAdd(xv, TV.Load(r + nr + w), a11);
                    a20 = TV.MulAdd(xv, TV.Load(r + 2 * nr), a20); a21 = TV.MulAdd(xv, TV.Load(r + 2 * nr + w), a21);
                    if (TG.Value == 4) { a30 = TV.MulAdd(xv, TV.Load(r + 3 * nr), a30); a31 = TV.MulAdd(xv, TV.Load(r + 3 * nr + w), a31); }
                }
                bool store = overwrite && k0 == 0;
                Finish(a00, dst, store); Finish(a01, dst + w, store);
                Finish(a10, dst + nr, store); Finish(a11, dst + nr + w, store);
                Finish(a20, dst + 2 * nr, store); Finish(a21, dst + 2 * nr + w, store);
                if (TG.Value == 4) { Finish(a30, dst + 3 * nr, store); Finish(a31, dst + 3 * nr + w, store); }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Finish<TV>(TV acc, T* d, bool store) where TV : unmanaged, IVec<TV, T>
        {
            if (store) acc.Store(d);
            else (acc + TV.Load(d)).Store(d);
        }
    }

    /// <summary>Scalar form of the fused gate product: per element one chain per KC chunk, added to dst.</summary>
    private static void GatesScalar<T>(nint k, T* x, T* rows, T* dst, bool overwrite, int gates, int nr)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        nint stride = gates * nr;
        for (nint k0 = 0; k0 < k; k0 += GemmBlocking.KC)
        {
            nint k1 = Math.Min(k, k0 + GemmBlocking.KC);
            for (nint e = 0; e < stride; e++)
            {
                T acc = T.Zero;
                for (nint kk = k0; kk < k1; kk++) acc = T.FusedMultiplyAdd(x[kk], rows[kk * stride + e], acc);
                dst[e] = overwrite && k0 == 0 ? acc : acc + dst[e];
            }
        }
    }
}
