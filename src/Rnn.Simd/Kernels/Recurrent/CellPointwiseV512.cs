using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Rnn.Simd.Kernels.Operators;
using static Rnn.Simd.Kernels.Operators.VectorHelpers;

namespace Rnn.Simd.Kernels.Recurrent;

/// <summary>
/// Vector512 fused gate math of one batch row: each method makes one pass over the H columns, applies the
/// activations (the same approximations as <see cref="Rnn.Simd.Kernels.VectorMath"/>), and stores what backward
/// needs. Columns [0, n - n % Count) are processed; the caller finishes the tail with <see cref="CellPointwiseScalar{T}"/>.
/// </summary>
internal static unsafe class CellPointwiseV512<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>LSTM forward (PyTorch order i, f, g, o). gates: pre-activations in, activations out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static nint LstmForward(T* gates, T* cPrev, T* c, T* tanhC, T* h, nint n)
    {
        nint w = Vector512<T>.Count, j = 0;
        for (; j + w <= n; j += w)
        {
            // i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o); c = f ⊙ c_prev + i ⊙ g; h = o ⊙ tanh(c)
            Vector512<T> i = SigmoidOperator<T>.Invoke(Vector512.Load(gates + j));
            Vector512<T> f = SigmoidOperator<T>.Invoke(Vector512.Load(gates + n + j));
            Vector512<T> g = TanhOperator<T>.Invoke(Vector512.Load(gates + 2 * n + j));
            Vector512<T> o = SigmoidOperator<T>.Invoke(Vector512.Load(gates + 3 * n + j));
            Vector512<T> cv = MulAdd(f, Vector512.Load(cPrev + j), i * g);
            Vector512<T> tc = TanhOperator<T>.Invoke(cv);
            i.Store(gates + j); f.Store(gates + n + j); g.Store(gates + 2 * n + j); o.Store(gates + 3 * n + j);
            cv.Store(c + j); tc.Store(tanhC + j); (o * tc).Store(h + j);
        }
        return j;
    }

    /// <summary>LSTM backward. dc: gradient w.r.t. c_t from step t+1 in, gradient w.r.t. c_(t-1) out. dGates: pre-activation gradients out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static nint LstmBackward(T* gates, T* cPrev, T* tanhC, T* dh, T* dc, T* dGates, nint n)
    {
        nint w = Vector512<T>.Count, j = 0;
        Vector512<T> one = Vector512<T>.One;
        for (; j + w <= n; j += w)
        {
            Vector512<T> i = Vector512.Load(gates + j), f = Vector512.Load(gates + n + j), g = Vector512.Load(gates + 2 * n + j), o = Vector512.Load(gates + 3 * n + j);
            Vector512<T> tc = Vector512.Load(tanhC + j), dhv = Vector512.Load(dh + j);
            // h = o ⊙ tanh(c)  =>  dc += dh ⊙ o ⊙ (1 - tanh²(c)),  da_o = dh ⊙ tanh(c) ⊙ o(1 - o)
            Vector512<T> dcv = MulAdd(dhv * o, MulAdd(-tc, tc, one), Vector512.Load(dc + j));
            Vector512<T> dao = dhv * tc * (o * (one - o));
            // c = f ⊙ c_prev + i ⊙ g  =>  da_i = dc ⊙ g ⊙ i(1 - i), da_g = dc ⊙ i ⊙ (1 - g²), da_f = dc ⊙ c_prev ⊙ f(1 - f)
            Vector512<T> dai = dcv * g * (i * (one - i));
            Vector512<T> dag = dcv * i * MulAdd(-g, g, one);
            Vector512<T> daf = dcv * Vector512.Load(cPrev + j) * (f * (one - f));
            dai.Store(dGates + j); daf.Store(dGates + n + j); dag.Store(dGates + 2 * n + j); dao.Store(dGates + 3 * n + j);
            (dcv * f).Store(dc + j);
        }
        return j;
    }

    /// <summary>GRU forward (PyTorch r, z, n). gx = x W_ihᵀ + b_ih, gh = h W_hhᵀ (no bias); act gets r, z, n; ghn gets W_hn h + b_hn.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static nint GruForward(T* gx, T* gh, T* bhh, T* hPrev, T* act, T* ghn, T* h, nint n)
    {
        nint w = Vector512<T>.Count, j = 0;
        for (; j + w <= n; j += w)
        {
            // r = σ(gx_r + gh_r + b_hr), z = σ(gx_z + gh_z + b_hz), n = tanh(gx_n + r ⊙ (gh_n + b_hn)), h = (1 - z) ⊙ n + z ⊙ h_prev
            Vector512<T> r = SigmoidOperator<T>.Invoke(Vector512.Load(gx + j) + Vector512.Load(gh + j) + Vector512.Load(bhh + j));
            Vector512<T> z = SigmoidOperator<T>.Invoke(Vector512.Load(gx + n + j) + Vector512.Load(gh + n + j) + Vector512.Load(bhh + n + j));
            Vector512<T> hn = Vector512.Load(gh + 2 * n + j) + Vector512.Load(bhh + 2 * n + j);
            Vector512<T> nv = TanhOperator<T>.Invoke(MulAdd(r, hn, Vector512.Load(gx + 2 * n + j)));
            Vector512<T> hp = Vector512.Load(hPrev + j);
            r.Store(act + j); z.Store(act + n + j); nv.Store(act + 2 * n + j); hn.Store(ghn + j);
            MulAdd(z, hp - nv, nv).Store(h + j);
        }
        return j;
    }

    /// <summary>GRU backward: dGx (input-side pre-activation gradients), dGh (hidden side: the n block scaled by r), dhPrev = dh ⊙ z (the direct path only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static nint GruBackward(T* act, T* ghn, T* hPrev, T* dh, T* dGx, T* dGh, T* dhPrev, nint n)
    {
        nint w = Vector512<T>.Count, j = 0;
        Vector512<T> one = Vector512<T>.One;
        for (; j + w <= n; j += w)
        {
            Vector512<T> r = Vector512.Load(act + j), z = Vector512.Load(act + n + j), nv = Vector512.Load(act + 2 * n + j);
            Vector512<T> dhv = Vector512.Load(dh + j);
            // h = (1 - z) ⊙ n + z ⊙ h_prev  =>  dn = dh ⊙ (1 - z), dz = dh ⊙ (h_prev - n), dh_prev = dh ⊙ z
            Vector512<T> dan = dhv * (one - z) * MulAdd(-nv, nv, one);
            Vector512<T> daz = dhv * (Vector512.Load(hPrev + j) - nv) * (z * (one - z));
            // n = tanh(gx_n + r ⊙ ghn)  =>  dr = da_n ⊙ ghn, d(ghn) = da_n ⊙ r
            Vector512<T> dar = dan * Vector512.Load(ghn + j) * (r * (one - r));
            dar.Store(dGx + j); daz.Store(dGx + n + j); dan.Store(dGx + 2 * n + j);
            dar.Store(dGh + j); daz.Store(dGh + n + j); (dan * r).Store(dGh + 2 * n + j);
            (dhv * z).Store(dhPrev + j);
        }
        return j;
    }
}
