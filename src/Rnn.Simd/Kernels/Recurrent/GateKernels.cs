using System.Numerics;
using Rnn.Simd.Kernels.GemmCore;
using Rnn.Simd.Kernels.Operators;
using static Rnn.Simd.Kernels.Operators.VectorHelpers;

namespace Rnn.Simd.Kernels.Recurrent;

/// <summary>Scalar forms of the fused gate math: the tails of the vector paths and the whole scalar path. Same formulas, same order.</summary>
internal static unsafe class CellPointwiseScalar<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public static void LstmForward(T* gates, T* cPrev, T* c, T* tanhC, T* h, nint j, nint n)
    {
        for (; j < n; j++)
        {
            T i = SigmoidOperator<T>.Invoke(gates[j]);
            T f = SigmoidOperator<T>.Invoke(gates[n + j]);
            T g = TanhOperator<T>.Invoke(gates[2 * n + j]);
            T o = SigmoidOperator<T>.Invoke(gates[3 * n + j]);
            T cv = MulAdd(f, cPrev[j], i * g);
            T tc = TanhOperator<T>.Invoke(cv);
            gates[j] = i; gates[n + j] = f; gates[2 * n + j] = g; gates[3 * n + j] = o;
            c[j] = cv; tanhC[j] = tc; h[j] = o * tc;
        }
    }

    public static void LstmBackward(T* gates, T* cPrev, T* tanhC, T* dh, T* dc, T* dGates, nint j, nint n)
    {
        T one = T.One;
        for (; j < n; j++)
        {
            T i = gates[j], f = gates[n + j], g = gates[2 * n + j], o = gates[3 * n + j];
            T tc = tanhC[j], dhv = dh[j];
            T dcv = MulAdd(dhv * o, MulAdd(-tc, tc, one), dc[j]);
            T dao = dhv * tc * (o * (one - o));
            T dai = dcv * g * (i * (one - i));
            T dag = dcv * i * MulAdd(-g, g, one);
            T daf = dcv * cPrev[j] * (f * (one - f));
            dGates[j] = dai; dGates[n + j] = daf; dGates[2 * n + j] = dag; dGates[3 * n + j] = dao;
            dc[j] = dcv * f;
        }
    }

    public static void GruForward(T* gx, T* gh, T* bhh, T* hPrev, T* act, T* ghn, T* h, nint j, nint n)
    {
        for (; j < n; j++)
        {
            T r = SigmoidOperator<T>.Invoke(gx[j] + gh[j] + bhh[j]);
            T z = SigmoidOperator<T>.Invoke(gx[n + j] + gh[n + j] + bhh[n + j]);
            T hn = gh[2 * n + j] + bhh[2 * n + j];
            T nv = TanhOperator<T>.Invoke(MulAdd(r, hn, gx[2 * n + j]));
            act[j] = r; act[n + j] = z; act[2 * n + j] = nv; ghn[j] = hn;
            h[j] = MulAdd(z, hPrev[j] - nv, nv);
        }
    }

    public static void GruBackward(T* act, T* ghn, T* hPrev, T* dh, T* dGx, T* dGh, T* dhPrev, nint j, nint n)
    {
        T one = T.One;
        for (; j < n; j++)
        {
            T r = act[j], z = act[n + j], nv = act[2 * n + j], dhv = dh[j];
            T dan = dhv * (one - z) * MulAdd(-nv, nv, one);
            T daz = dhv * (hPrev[j] - nv) * (z * (one - z));
            T dar = dan * ghn[j] * (r * (one - r));
            dGx[j] = dar; dGx[n + j] = daz; dGx[2 * n + j] = dan;
            dGh[j] = dar; dGh[n + j] = daz; dGh[2 * n + j] = dan * r;
            dhPrev[j] = dhv * z;
        }
    }
}

/// <summary>
/// Dispatch of the fused gate math over B rows of H columns, on one ISA path. Row b of a gate array starts at
/// b·G·H (G gates); of a state array at b·H.
/// </summary>
internal static unsafe class GateKernels
{
    public static void LstmForward<T>(IsaPath path, int batch, int hidden, T* gates, T* cPrev, T* c, T* tanhC, T* h)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        nint n = hidden;
        for (int b = 0; b < batch; b++)
        {
            T* gb = gates + b * 4 * n; nint o = b * n;
            nint j = path switch
            {
                IsaPath.Vector512 => CellPointwiseV512<T>.LstmForward(gb, cPrev + o, c + o, tanhC + o, h + o, n),
                IsaPath.Vector256 => CellPointwiseV256<T>.LstmForward(gb, cPrev + o, c + o, tanhC + o, h + o, n),
                IsaPath.Vector128 => CellPointwiseV128<T>.LstmForward(gb, cPrev + o, c + o, tanhC + o, h + o, n),
                _ => 0,
            };
            CellPointwiseScalar<T>.LstmForward(gb, cPrev + o, c + o, tanhC + o, h + o, j, n);
        }
    }

    public static void LstmBackward<T>(IsaPath path, int batch, int hidden, T* gates, T* cPrev, T* tanhC, T* dh, T* dc, T* dGates)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        nint n = hidden;
        for (int b = 0; b < batch; b++)
        {
            T* gb = gates + b * 4 * n, db = dGates + b * 4 * n; nint o = b * n;
            nint j = path switch
            {
                IsaPath.Vector512 => CellPointwiseV512<T>.LstmBackward(gb, cPrev + o, tanhC + o, dh + o, dc + o, db, n),
                IsaPath.Vector256 => CellPointwiseV256<T>.LstmBackward(gb, cPrev + o, tanhC + o, dh + o, dc + o, db, n),
                IsaPath.Vector128 => CellPointwiseV128<T>.LstmBackward(gb, cPrev + o, tanhC + o, dh + o, dc + o, db, n),
                _ => 0,
            };
            CellPointwiseScalar<T>.LstmBackward(gb, cPrev + o, tanhC + o, dh + o, dc + o, db, j, n);
        }
    }

    public static void GruForward<T>(IsaPath path, int batch, int hidden, T* gx, T* gh, T* bhh, T* hPrev, T* act, T* ghn, T* h)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        nint n = hidden;
        for (int b = 0; b < batch; b++)
        {
            nint g3 = b * 3 * n, o = b * n;
            nint j = path switch
            {
                IsaPath.Vector512 => CellPointwiseV512<T>.GruForward(gx + g3, gh + g3, bhh, hPrev + o, act + g3, ghn + o, h + o, n),
                IsaPath.Vector256 => CellPointwiseV256<T>.GruForward(gx + g3, gh + g3, bhh, hPrev + o, act + g3, ghn + o, h + o, n),
                IsaPath.Vector128 => CellPointwiseV128<T>.GruForward(gx + g3, gh + g3, bhh, hPrev + o, act + g3, ghn + o, h + o, n),
                _ => 0,
            };
            CellPointwiseScalar<T>.GruForward(gx + g3, gh + g3, bhh, hPrev + o, act + g3, ghn + o, h + o, j, n);
        }
    }

    public static void GruBackward<T>(IsaPath path, int batch, int hidden, T* act, T* ghn, T* hPrev, T* dh, T* dGx, T* dGh, T* dhPrev)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        nint n = hidden;
        for (int b = 0; b < batch; b++)
        {
            nint g3 = b * 3 * n, o = b * n;
            nint j = path switch
            {
                IsaPath.Vector512 => CellPointwiseV512<T>.GruBackward(act + g3, ghn + o, hPrev + o, dh + o, dGx + g3, dGh + g3, dhPrev + o, n),
                IsaPath.Vector256 => CellPointwiseV256<T>.GruBackward(act + g3, ghn + o, hPrev + o, dh + o, dGx + g3, dGh + g3, dhPrev + o, n),
                IsaPath.Vector128 => CellPointwiseV128<T>.GruBackward(act + g3, ghn + o, hPrev + o, dh + o, dGx + g3, dGh + g3, dhPrev + o, n),
                _ => 0,
            };
            CellPointwiseScalar<T>.GruBackward(act + g3, ghn + o, hPrev + o, dh + o, dGx + g3, dGh + g3, dhPrev + o, j, n);
        }
    }

    /// <summary>
    /// Pre-activations of one hidden block of a batch-1 step over gate-interleaved packed rows (G gates of NR columns
    /// side by side per row): dst[q·NR + c] (+)= Σ_k x[k] · rows[k·G·NR + q·NR + c], K cut into KC chunks summed from
    /// zero and then added (or stored, first chunk with <paramref name="overwrite"/>): the blocked GEMM's order.
    /// </summary>
    public static void FusedGates<T>(IsaPath path, int gates, nint k, T* x, T* rows, T* dst, bool overwrite, int nr)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (gates == 4) Gates4(path, k, x, rows, dst, overwrite, nr);
        else if (gates == 3) Gates3(path, k, x, rows, dst, overwrite, nr);
        else GatesScalar(k, x, rows, dst, overwrite, gates, nr);
    }

    private static void Gates4<T>(IsaPath path, nint k, T* x, T* rows, T* dst, bool overwrite, int nr)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        switch (path)
        {
            case IsaPath.Vector512: FusedStepV512<T>.Gates4(k, x, rows, dst, overwrite); return;
            case IsaPath.Vector256: FusedStepV256<T>.Gates4(k, x, rows, dst, overwrite); return;
            case IsaPath.Vector128: FusedStepV128<T>.Gates4(k, x, rows, dst, overwrite); return;
        }
        GatesScalar(k, x, rows, dst, overwrite, 4, nr);
    }

    private static void Gates3<T>(IsaPath path, nint k, T* x, T* rows, T* dst, bool overwrite, int nr)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        switch (path)
        {
            case IsaPath.Vector512: FusedStepV512<T>.Gates3(k, x, rows, dst, overwrite); return;
            case IsaPath.Vector256: FusedStepV256<T>.Gates3(k, x, rows, dst, overwrite); return;
            case IsaPath.Vector128: FusedStepV128<T>.Gates3(k, x, rows, dst, overwrite); return;
        }
        GatesScalar(k, x, rows, dst, overwrite, 3, nr);
    }

    /// <summary>Scalar form of the vector Gates methods: per element one chain per KC chunk, added to dst.</summary>
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
                for (nint kk = k0; kk < k1; kk++) acc = MulAdd(x[kk], rows[kk * stride + e], acc);
                dst[e] = overwrite && k0 == 0 ? acc : acc + dst[e];
            }
        }
    }
}
