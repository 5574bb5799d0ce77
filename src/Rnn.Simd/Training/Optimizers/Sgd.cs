using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Simd;
using Rnn.Simd.Kernels.Updates;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>
/// Plain stochastic gradient descent, chapter Eq. 2.3: W_(k+1) = W_k - η ∇L(W_k). No state. Pair it with a step
/// decay schedule, as the chapter does.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
public sealed unsafe class Sgd<T> : Optimizer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Creates the optimiser for a buffer of <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient buffers.</param>
    /// <param name="regularization">R_λ folded into the step, or null for none.</param>
    /// <param name="path">ISA path of the fused pass.</param>
    /// <exception cref="ArgumentException">The plan covers a different number of parameters.</exception>
    /// <exception cref="PlatformNotSupportedException">The path is not supported on this machine.</exception>
    public Sgd(int parameterCount, RegularizationPlan? regularization = null, IsaPath path = IsaPath.Auto)
        : base(parameterCount, regularization, 0, path) { }

    /// <inheritdoc/>
    public override string Name => "SGD";

    private protected override void StepCore(T* p, T* g, T* s0, T* s1, T* s2, T learningRate, T gradientScale) =>
        Run(new SgdOperator<T>(learningRate), p, g, s0, s1, s2, learningRate, gradientScale);
}

/// <summary>Eq. 2.3: p ← p - η g.</summary>
internal readonly struct SgdOperator<T>(T learningRate) : IUpdateOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T _negLr = -learningRate;

    public static int StateCount => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TV>(ref TV p, TV g, ref TV s0, ref TV s1, ref TV s2) where TV : unmanaged, IVec<TV, T> =>
        p = TV.MulAdd(TV.Create(_negLr), g, p);

}
