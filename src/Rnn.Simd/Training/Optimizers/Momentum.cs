using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Simd;
using Rnn.Simd.Kernels.Updates;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>
/// Classical momentum, chapter Eq. 2.4: V_k = μ V_(k-1) - η ∇L(W_k), W_(k+1) = W_k + V_k. One state buffer,
/// "velocity" (V, zero at the start).
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
public sealed unsafe class Momentum<T> : Optimizer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Creates the optimiser for a buffer of <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter, gradient and velocity buffers.</param>
    /// <param name="momentum">μ in [0, 1); the chapter's common choice 0.9.</param>
    /// <param name="regularization">R_λ folded into the step, or null for none.</param>
    /// <param name="path">ISA path of the fused pass.</param>
    /// <exception cref="ArgumentOutOfRangeException">μ is outside [0, 1).</exception>
    /// <exception cref="ArgumentException">The plan covers a different number of parameters.</exception>
    public Momentum(int parameterCount, double momentum = 0.9, RegularizationPlan? regularization = null, IsaPath path = IsaPath.Auto)
        : base(parameterCount, regularization, 0, path, "velocity")
    {
        CheckUnitInterval(momentum, nameof(momentum));
        Mu = momentum;
    }

    /// <summary>μ, the fraction of the previous update kept.</summary>
    public double Mu { get; }

    /// <inheritdoc/>
    public override string Name => "Momentum";

    private protected override void StepCore(T* p, T* g, T* s0, T* s1, T* s2, T learningRate, T gradientScale) =>
        Run(new MomentumOperator<T>(T.CreateTruncating(Mu), learningRate), p, g, s0, s1, s2, learningRate, gradientScale);
}

/// <summary>Eq. 2.4: v ← μ v - η g; p ← p + v. s0 = v.</summary>
internal readonly struct MomentumOperator<T>(T mu, T learningRate) : IUpdateOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T _mu = mu, _negLr = -learningRate;

    public static int StateCount => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TV>(ref TV p, TV g, ref TV v, ref TV s1, ref TV s2) where TV : unmanaged, IVec<TV, T>
    {
        v = TV.MulAdd(TV.Create(_mu), v, TV.Create(_negLr) * g);
        p += v;
    }

}
