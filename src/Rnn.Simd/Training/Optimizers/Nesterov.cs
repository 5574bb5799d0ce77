using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Simd;
using Rnn.Simd.Kernels.Updates;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>
/// Nesterov momentum, chapter Eq. 2.5: V_k = μ V_(k-1) - η ∇L(W_k + μ V_(k-1)), W_(k+1) = W_k + V_k. One state
/// buffer, "velocity".
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
/// <remarks>
/// Eq. 2.5 needs the gradient at the look-ahead point W_k + μ V_(k-1), not at W_k. So that the network's ordinary
/// forward/backward yields exactly that gradient, the parameter buffer holds the look-ahead point
/// Θ_k = W_k + μ V_(k-1) (Bengio et al. 2013's change of variable; Θ_0 = W_0 since V starts at zero). Substituting
/// into Eq. 2.5 gives the update this class performs:
/// <code>
///   V_k     = μ V_(k-1) - η ∇L(Θ_k)
///   Θ_(k+1) = Θ_k + μ V_k - η ∇L(Θ_k)          (= W_(k+1) + μ V_k)
/// </code>
/// The iterates W_k of Eq. 2.5 are Θ_k - μ V_(k-1): <see cref="CopyWeights"/> recovers them, e.g. to evaluate or
/// save the model. The regulariser's gradient is taken at Θ, like the data gradient, so it too is evaluated where
/// Eq. 2.5 asks.
/// </remarks>
public sealed unsafe class Nesterov<T> : Optimizer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Creates the optimiser for a buffer of <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter, gradient and velocity buffers.</param>
    /// <param name="momentum">μ in [0, 1); default 0.9.</param>
    /// <param name="regularization">R_λ folded into the step, or null for none.</param>
    /// <param name="path">ISA path of the fused pass.</param>
    /// <exception cref="ArgumentOutOfRangeException">μ is outside [0, 1).</exception>
    /// <exception cref="ArgumentException">The plan covers a different number of parameters.</exception>
    public Nesterov(int parameterCount, double momentum = 0.9, RegularizationPlan? regularization = null, IsaPath path = IsaPath.Auto)
        : base(parameterCount, regularization, 0, path, "velocity")
    {
        CheckUnitInterval(momentum, nameof(momentum));
        Mu = momentum;
    }

    /// <summary>μ, the fraction of the previous update kept.</summary>
    public double Mu { get; }

    /// <inheritdoc/>
    public override string Name => "Nesterov";

    /// <summary>
    /// Writes the iterate W_k = Θ_k - μ V_(k-1) of Eq. 2.5 from the look-ahead parameters Θ the optimiser keeps.
    /// Overwrites destination[0 .. ParameterCount); the parameters are not changed.
    /// </summary>
    /// <exception cref="ArgumentException">A length differs from <see cref="Optimizer{T}.ParameterCount"/> (destination may be longer).</exception>
    public void CopyWeights(ReadOnlySpan<T> parameters, Span<T> destination)
    {
        if (parameters.Length != ParameterCount) ThrowHelper.ThrowLengthMismatch(nameof(parameters), ParameterCount, parameters.Length);
        if (destination.Length < ParameterCount) ThrowHelper.ThrowDestinationTooShort(nameof(destination), ParameterCount, destination.Length);
        ReadOnlySpan<T> v = State(0);
        T negMu = -T.CreateTruncating(Mu);
        for (int i = 0; i < parameters.Length; i++) destination[i] = T.FusedMultiplyAdd(negMu, v[i], parameters[i]);
    }

    private protected override void StepCore(T* p, T* g, T* s0, T* s1, T* s2, T learningRate, T gradientScale) =>
        Run(new NesterovOperator<T>(T.CreateTruncating(Mu), learningRate), p, g, s0, s1, s2, learningRate, gradientScale);
}

/// <summary>Eq. 2.5 on the look-ahead point: v ← μ v - η g; θ ← θ + μ v - η g. s0 = v.</summary>
internal readonly struct NesterovOperator<T>(T mu, T learningRate) : IUpdateOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T _mu = mu, _negLr = -learningRate;

    public static int StateCount => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TV>(ref TV p, TV g, ref TV v, ref TV s1, ref TV s2) where TV : unmanaged, IVec<TV, T>
    {
        TV mu = TV.Create(_mu), step = TV.Create(_negLr) * g;
        v = TV.MulAdd(mu, v, step);
        p = TV.MulAdd(mu, v, p + step);
    }

}
