using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Rnn.Simd.Kernels.Operators.VectorHelpers;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>
/// What the fused pass does to a raw gradient element before the optimiser's rule sees it, for one segment of the
/// flat buffer (the regularisation constants are zero on segments the plan leaves unregularised):
/// <code>
///   g_eff = clamp(scale · g, -clip, +clip) + 2 λ2 · p + λ1 · sign(p)      (gradient of E + R_λ, Eq. 2.1)
///   p     = decay · p                                                      (decoupled weight decay, AdamW)
/// </code>
/// sign(0) = 0 (the L1 subgradient we pick at the kink), and sign(NaN) = ±1 by its sign bit on every path.
/// clamp propagates NaN, so a NaN gradient is never hidden. The vector clamp uses the native min/max instructions
/// with the gradient as the second operand: x86 MINPS/MAXPS return the second operand when either is NaN and Arm's
/// FMIN/FMAX propagate NaN, so NaN survives at two instructions instead of the IEEE Min/Max emulation (about ten on
/// x86); for non-NaN inputs, ±0 included, the result equals the scalar T.Min/T.Max form bit for bit. With scale = 1, clip = +∞, λ = 0 and decay = 1 every
/// term is exact: g_eff = g and p is unchanged.
/// </summary>
internal readonly struct GradientTerms<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public readonly T Scale, Clip, L1, L2x2, Decay;

    public GradientTerms(T scale, T clip, T l1, T l2x2, T decay)
    {
        Scale = scale; Clip = clip; L1 = l1; L2x2 = l2x2; Decay = decay;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Effective(T g, T p)
    {
        T clipped = T.Min(T.Max(Scale * g, -Clip), Clip);
        T sign = p == T.Zero ? T.Zero : T.CopySign(T.One, p);
        return MulAdd(L1, sign, MulAdd(L2x2, p, clipped));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<T> Effective(Vector128<T> g, Vector128<T> p)
    {
        Vector128<T> c = Vector128.Create(Clip);
        Vector128<T> clipped = Vector128.MinNative(c, Vector128.MaxNative(-c, Vector128.Create(Scale) * g));
        Vector128<T> sign = Vector128.AndNot(SignedOne(p), Vector128.Equals(p, Vector128<T>.Zero));
        return MulAdd(Vector128.Create(L1), sign, MulAdd(Vector128.Create(L2x2), p, clipped));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<T> Effective(Vector256<T> g, Vector256<T> p)
    {
        Vector256<T> c = Vector256.Create(Clip);
        Vector256<T> clipped = Vector256.MinNative(c, Vector256.MaxNative(-c, Vector256.Create(Scale) * g));
        Vector256<T> sign = Vector256.AndNot(SignedOne(p), Vector256.Equals(p, Vector256<T>.Zero));
        return MulAdd(Vector256.Create(L1), sign, MulAdd(Vector256.Create(L2x2), p, clipped));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> Effective(Vector512<T> g, Vector512<T> p)
    {
        Vector512<T> c = Vector512.Create(Clip);
        Vector512<T> clipped = Vector512.MinNative(c, Vector512.MaxNative(-c, Vector512.Create(Scale) * g));
        Vector512<T> sign = Vector512.AndNot(SignedOne(p), Vector512.Equals(p, Vector512<T>.Zero));
        return MulAdd(Vector512.Create(L1), sign, MulAdd(Vector512.Create(L2x2), p, clipped));
    }
}
