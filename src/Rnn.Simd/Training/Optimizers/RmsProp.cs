using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Simd;
using Rnn.Simd.Kernels.Updates;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>
/// RMSprop (Tieleman and Hinton 2012), chapter Eq. 2.7, with the chapter's optional per-weight adaptive gains:
/// <code>
///   r_k    = (1 - δ) r_(k-1) + δ ∇L(W_k)²                       running mean square, δ = 0.01: keep 0.99 of it
///   γ_k    = γ_(k-1) + δ_γ          if ∇L(W_k) ∇L(W_(k-1)) &gt; 0   (the gradient kept its sign: grow additively)
///          = (1 - δ_γ) γ_(k-1)      if ∇L(W_k) ∇L(W_(k-1)) &lt; 0   (it flipped, an oscillation: shrink)
///          = γ_(k-1)                otherwise (a zero gradient, or the first step)
///   W_(k+1) = W_k - η γ_k ∇L(W_k) / (sqrt(r_k) + ε)
/// </code>
/// Without gains γ ≡ 1 and the state is the single buffer "mean_sq" (zero at the start). With gains there are two
/// more, "gain" (one at the start, optionally capped at <see cref="MaxGain"/>) and "prev_grad" (the previous
/// effective gradient, zero at the start), and the pass moves 36 instead of 20 bytes per float parameter.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
/// <remarks>
/// The sign test compares sign bits of the two gradients (a product could underflow to zero). ε is added to the
/// root, as in PyTorch and in Adam's Eq. 2.8; Tieleman and Hinton have none.
/// </remarks>
public sealed unsafe class RmsProp<T> : Optimizer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Creates the optimiser for a buffer of <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter, gradient and state buffers.</param>
    /// <param name="decay">δ in (0, 1): the weight of the new squared gradient in the running mean; the chapter's 0.01.</param>
    /// <param name="epsilon">ε &gt; 0 added to the root; default 1e-8.</param>
    /// <param name="adaptiveGains">Enables the per-weight gains of Eq. 2.7.</param>
    /// <param name="gainStep">δ_γ in (0, 1): additive growth and multiplicative shrink (1 - δ_γ) of the gains; the chapter uses the same δ = 0.01.</param>
    /// <param name="maxGain">Upper bound of a gain (≥ 1); +∞, the default, leaves them unbounded as the chapter does.</param>
    /// <param name="regularization">R_λ folded into the step, or null for none.</param>
    /// <param name="path">ISA path of the fused pass.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    /// <exception cref="ArgumentException">The plan covers a different number of parameters.</exception>
    public RmsProp(int parameterCount, double decay = 0.01, double epsilon = 1e-8, bool adaptiveGains = false, double gainStep = 0.01,
        double maxGain = double.PositiveInfinity, RegularizationPlan? regularization = null, IsaPath path = IsaPath.Auto)
        : base(parameterCount, regularization, 0, path, adaptiveGains ? ["mean_sq", "gain", "prev_grad"] : ["mean_sq"])
    {
        if (!(decay > 0 && decay < 1)) ThrowHelper.ThrowArgumentOutOfRange(nameof(decay), $"decay must be in (0, 1) (got {decay}).");
        if (!(gainStep > 0 && gainStep < 1)) ThrowHelper.ThrowArgumentOutOfRange(nameof(gainStep), $"gainStep must be in (0, 1) (got {gainStep}).");
        if (!(maxGain >= 1)) ThrowHelper.ThrowArgumentOutOfRange(nameof(maxGain), $"maxGain must be at least 1 (got {maxGain}).");
        CheckPositive(epsilon, nameof(epsilon));
        Decay = decay;
        Epsilon = epsilon;
        AdaptiveGains = adaptiveGains;
        GainStep = gainStep;
        MaxGain = maxGain;
        InitializeState();
    }

    /// <summary>δ, the weight of the new squared gradient in the running mean square.</summary>
    public double Decay { get; }

    /// <summary>ε, added to the root of the mean square.</summary>
    public double Epsilon { get; }

    /// <summary>True when the per-weight gains of Eq. 2.7 are on.</summary>
    public bool AdaptiveGains { get; }

    /// <summary>δ_γ, the additive growth of a gain (and 1 - δ_γ its shrink factor).</summary>
    public double GainStep { get; }

    /// <summary>The cap of a gain (+∞ for none).</summary>
    public double MaxGain { get; }

    /// <inheritdoc/>
    public override string Name => AdaptiveGains ? "RMSprop+gains" : "RMSprop";

    private protected override void InitializeState()
    {
        if (AdaptiveGains) State(1).Fill(T.One);
    }

    private protected override void StepCore(T* p, T* g, T* s0, T* s1, T* s2, T learningRate, T gradientScale)
    {
        // 1 - δ is formed in double and rounded once.
        T rho = T.CreateTruncating(1 - Decay), delta = T.CreateTruncating(Decay), eps = T.CreateTruncating(Epsilon);
        if (AdaptiveGains)
        {
            var op = new RmsPropGainsOperator<T>(rho, delta, learningRate, eps, T.CreateTruncating(GainStep),
                T.CreateTruncating(1 - GainStep), T.CreateSaturating(MaxGain));
            Run(op, p, g, s0, s1, s2, learningRate, gradientScale);
        }
        else
        {
            Run(new RmsPropOperator<T>(rho, delta, learningRate, eps), p, g, s0, s1, s2, learningRate, gradientScale);
        }
    }
}

/// <summary>Eq. 2.7 without gains: r ← (1-δ) r + δ g²; p ← p - η g / (sqrt(r) + ε). s0 = r.</summary>
internal readonly struct RmsPropOperator<T>(T rho, T delta, T learningRate, T epsilon) : IUpdateOperator<T>
    where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T _rho = rho, _delta = delta, _negLr = -learningRate, _eps = epsilon;

    public static int StateCount => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TV>(ref TV p, TV g, ref TV r, ref TV s1, ref TV s2) where TV : unmanaged, IVec<TV, T>
    {
        r = TV.MulAdd(TV.Create(_delta) * g, g, TV.Create(_rho) * r);
        p = TV.MulAdd(TV.Create(_negLr), g / (TV.Sqrt(r) + TV.Create(_eps)), p);
    }

}

/// <summary>
/// Eq. 2.7 with gains: γ grows by δ_γ when g and the previous gradient have the same sign (both non-zero), shrinks by
/// (1 - δ_γ) when the signs differ, else stays; γ ≤ max; then r ← (1-δ) r + δ g²; p ← p - η γ g / (sqrt(r) + ε);
/// prev ← g. s0 = r, s1 = γ, s2 = prev.
/// </summary>
internal readonly struct RmsPropGainsOperator<T>(T rho, T delta, T learningRate, T epsilon, T gainUp, T gainDown, T maxGain) : IUpdateOperator<T>
    where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T _rho = rho, _delta = delta, _negLr = -learningRate, _eps = epsilon, _up = gainUp, _down = gainDown, _max = maxGain;

    public static int StateCount => 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TV>(ref TV p, TV g, ref TV r, ref TV gain, ref TV prev) where TV : unmanaged, IVec<TV, T>
    {
        TV keep = TV.EqualsMask(g, TV.Zero) | TV.EqualsMask(prev, TV.Zero);
        TV changed = TV.ConditionalSelect(TV.IsNegative(g ^ prev), gain * TV.Create(_down), gain + TV.Create(_up));
        gain = TV.Min(TV.ConditionalSelect(keep, gain, changed), TV.Create(_max));
        prev = g;
        r = TV.MulAdd(TV.Create(_delta) * g, g, TV.Create(_rho) * r);
        p = TV.MulAdd(TV.Create(_negLr), gain * g / (TV.Sqrt(r) + TV.Create(_eps)), p);
    }

}
