using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Simd;
using Rnn.Simd.Kernels.Updates;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>
/// Adam (Kingma and Ba 2014) with bias correction, chapter Eq. 2.8:
/// <code>
///   m_k = β1 m_(k-1) + (1 - β1) ∇L(W_k)          v_k = β2 v_(k-1) + (1 - β2) ∇L(W_k)²
///   m̂_k = m_k / (1 - β1^k)                       v̂_k = v_k / (1 - β2^k)
///   W_(k+1) = W_k - η m̂_k / (sqrt(v̂_k) + ε)
/// </code>
/// Two state buffers, "m" and "v", zero at the start; k counts from 1 (<see cref="Optimizer{T}.StepCount"/>).
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
/// <remarks>
/// The bias corrections are folded into two per-step scalars computed in double, η / (1 - β1^k) and
/// 1 / sqrt(1 - β2^k), so the per-element work is W -= (η / (1 - β1^k)) · m / (sqrt(v) · (1 / sqrt(1 - β2^k)) + ε),
/// equal to Eq. 2.8 up to rounding. The pass reads W, g, m, v and writes W, m, v: 28 bytes per float parameter.
/// </remarks>
public unsafe class Adam<T> : Optimizer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Creates the optimiser for a buffer of <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter, gradient and moment buffers.</param>
    /// <param name="beta1">β1 in [0, 1), decay of the first moment; default 0.9.</param>
    /// <param name="beta2">β2 in [0, 1), decay of the second moment; default 0.999.</param>
    /// <param name="epsilon">ε &gt; 0 added to sqrt(v̂); default 1e-8.</param>
    /// <param name="regularization">R_λ folded into the step (coupled: its gradient enters m and v), or null for none.</param>
    /// <param name="path">ISA path of the fused pass.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    /// <exception cref="ArgumentException">The plan covers a different number of parameters.</exception>
    public Adam(int parameterCount, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        RegularizationPlan? regularization = null, IsaPath path = IsaPath.Auto)
        : this(parameterCount, beta1, beta2, epsilon, 0, regularization, path) { }

    private protected Adam(int parameterCount, double beta1, double beta2, double epsilon, double weightDecay,
        RegularizationPlan? regularization, IsaPath path)
        : base(parameterCount, regularization, weightDecay, path, "m", "v")
    {
        CheckUnitInterval(beta1, nameof(beta1));
        CheckUnitInterval(beta2, nameof(beta2));
        CheckPositive(epsilon, nameof(epsilon));
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    /// <summary>β1, the decay rate of the first moment m.</summary>
    public double Beta1 { get; }

    /// <summary>β2, the decay rate of the second moment v.</summary>
    public double Beta2 { get; }

    /// <summary>ε, added to sqrt(v̂) in the denominator.</summary>
    public double Epsilon { get; }

    /// <inheritdoc/>
    public override string Name => "Adam";

    private protected override void StepCore(T* p, T* g, T* s0, T* s1, T* s2, T learningRate, T gradientScale)
    {
        double k = StepCount;
        double stepSize = double.CreateTruncating(learningRate) / (1 - Math.Pow(Beta1, k));
        double c2 = 1 / Math.Sqrt(1 - Math.Pow(Beta2, k));
        // 1 - β is formed in double, then rounded once: (T)(1 - β) is nearer the true value than 1 - (T)β in float.
        var op = new AdamOperator<T>(T.CreateTruncating(Beta1), T.CreateTruncating(1 - Beta1), T.CreateTruncating(Beta2),
            T.CreateTruncating(1 - Beta2), T.CreateTruncating(stepSize), T.CreateTruncating(c2), T.CreateTruncating(Epsilon));
        Run(op, p, g, s0, s1, s2, learningRate, gradientScale);
    }
}

/// <summary>
/// AdamW (Loshchilov and Hutter 2019): Adam (Eq. 2.8) with decoupled weight decay, W ← (1 - η λ_wd) W before the
/// Adam update, on the regularised ranges of the plan (by default the weights, not the biases), instead of an L2
/// term that m and v would rescale.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
public sealed class AdamW<T> : Adam<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Creates the optimiser for a buffer of <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter, gradient and moment buffers.</param>
    /// <param name="weightDecay">λ_wd ≥ 0; each step multiplies the decayed parameters by (1 - η λ_wd). Default 0.01 (PyTorch's).</param>
    /// <param name="beta1">β1 in [0, 1); default 0.9.</param>
    /// <param name="beta2">β2 in [0, 1); default 0.999.</param>
    /// <param name="epsilon">ε &gt; 0; default 1e-8.</param>
    /// <param name="regularization">Where the decay applies (its regularised ranges) and any coupled L1/L2; null
    /// decays every parameter. Resolve <see cref="RegularizationOptions.None"/> against the network layout to decay
    /// the weights only.</param>
    /// <param name="path">ISA path of the fused pass.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    /// <exception cref="ArgumentException">The plan covers a different number of parameters.</exception>
    public AdamW(int parameterCount, double weightDecay = 0.01, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        RegularizationPlan? regularization = null, IsaPath path = IsaPath.Auto)
        : base(parameterCount, beta1, beta2, epsilon, weightDecay, regularization, path) { }

    /// <inheritdoc/>
    public override string Name => "AdamW";
}

/// <summary>Eq. 2.8: m ← β1 m + (1-β1) g; v ← β2 v + (1-β2) g²; p ← p - a m / (sqrt(v) c + ε), a = η/(1-β1^k), c = 1/sqrt(1-β2^k). s0 = m, s1 = v.</summary>
internal readonly struct AdamOperator<T>(T beta1, T oneMinusBeta1, T beta2, T oneMinusBeta2, T stepSize, T c2, T epsilon) : IUpdateOperator<T>
    where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T _b1 = beta1, _omb1 = oneMinusBeta1, _b2 = beta2, _omb2 = oneMinusBeta2, _negStep = -stepSize, _c2 = c2, _eps = epsilon;

    public static int StateCount => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TV>(ref TV p, TV g, ref TV m, ref TV v, ref TV s2) where TV : unmanaged, IVec<TV, T>
    {
        m = TV.MulAdd(TV.Create(_b1), m, TV.Create(_omb1) * g);
        v = TV.MulAdd(TV.Create(_omb2) * g, g, TV.Create(_b2) * v);
        p = TV.MulAdd(TV.Create(_negStep), m / TV.MulAdd(TV.Sqrt(v), TV.Create(_c2), TV.Create(_eps)), p);
    }

}
