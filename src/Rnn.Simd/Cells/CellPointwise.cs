using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Operators;
using static Rnn.Simd.Kernels.Operators.VectorHelpers;

namespace Rnn.Simd.Cells;

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
internal static unsafe class CellPointwise
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
}
