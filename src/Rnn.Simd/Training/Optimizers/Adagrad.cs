using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Simd;
using Rnn.Simd.Kernels.Updates;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>
/// Adagrad (Duchi et al. 2011), chapter Eq. 2.6: per parameter i,
/// W_(k+1) = W_k - η ∇L(W_k) / sqrt(Σ_(j=0..k) ∇L(W_j)² + ε). One state buffer, "sum_sq" (the running sum of
/// squared gradients, zero at the start).
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
/// <remarks>
/// As in Eq. 2.6, ε sits inside the square root (PyTorch adds it outside); the sum includes the current gradient.
/// The sum only grows, so the effective rate only shrinks: the drawback the chapter names and RMSprop fixes.
/// </remarks>
public sealed unsafe class Adagrad<T> : Optimizer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Creates the optimiser for a buffer of <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter, gradient and accumulator buffers.</param>
    /// <param name="epsilon">ε &gt; 0 inside the square root; default 1e-8.</param>
    /// <param name="regularization">R_λ folded into the step, or null for none.</param>
    /// <param name="path">ISA path of the fused pass.</param>
    /// <exception cref="ArgumentOutOfRangeException">ε is not positive and finite.</exception>
    /// <exception cref="ArgumentException">The plan covers a different number of parameters.</exception>
    public Adagrad(int parameterCount, double epsilon = 1e-8, RegularizationPlan? regularization = null, IsaPath path = IsaPath.Auto)
        : base(parameterCount, regularization, 0, path, "sum_sq")
    {
        CheckPositive(epsilon, nameof(epsilon));
        Epsilon = epsilon;
    }

    /// <summary>ε, added to the sum of squares inside the square root.</summary>
    public double Epsilon { get; }

    /// <inheritdoc/>
    public override string Name => "Adagrad";

    private protected override void StepCore(T* p, T* g, T* s0, T* s1, T* s2, T learningRate, T gradientScale) =>
        Run(new AdagradOperator<T>(learningRate, T.CreateTruncating(Epsilon)), p, g, s0, s1, s2, learningRate, gradientScale);
}

/// <summary>Eq. 2.6: G ← G + g²; p ← p - η g / sqrt(G + ε). s0 = G.</summary>
internal readonly struct AdagradOperator<T>(T learningRate, T epsilon) : IUpdateOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T _negLr = -learningRate, _eps = epsilon;

    public static int StateCount => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TV>(ref TV p, TV g, ref TV sum, ref TV s1, ref TV s2) where TV : unmanaged, IVec<TV, T>
    {
        sum = TV.MulAdd(g, g, sum);
        p = TV.MulAdd(TV.Create(_negLr), g / TV.Sqrt(sum + TV.Create(_eps)), p);
    }

}
