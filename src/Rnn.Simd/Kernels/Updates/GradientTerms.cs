using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels.Updates;

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
/// x86); the scalar width runs the same instructions on one lane, so every path gives the same bits. With scale = 1, clip = +∞, λ = 0 and decay = 1 every
/// term is exact: g_eff = g and p is unchanged.
/// </summary>
internal readonly struct GradientTerms<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public readonly T Scale, Clip, L1, L2x2, Decay;

    public GradientTerms(T scale, T clip, T l1, T l2x2, T decay)
    {
        Scale = scale; Clip = clip; L1 = l1; L2x2 = l2x2; Decay = decay;
    }

    /// <summary>g_eff of one register (the scalar width included: one formula for every path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Effective<TV>(TV g, TV p) where TV : unmanaged, IVec<TV, T>
    {
        TV c = TV.Create(Clip);
        TV clipped = TV.MinNative(c, TV.MaxNative(-c, TV.Create(Scale) * g));
        TV sign = TV.AndNot((p & TV.Create(-T.Zero)) | TV.One, TV.EqualsMask(p, TV.Zero));
        return TV.MulAdd(TV.Create(L1), sign, TV.MulAdd(TV.Create(L2x2), p, clipped));
    }
}
