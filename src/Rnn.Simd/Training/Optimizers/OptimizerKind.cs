using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>The optimisers of chapter section 2.3, for choosing one by name (command line, configuration).</summary>
public enum OptimizerKind
{
    /// <summary><see cref="Sgd{T}"/>, Eq. 2.3.</summary>
    Sgd = 0,
    /// <summary><see cref="Momentum{T}"/>, Eq. 2.4, μ = 0.9.</summary>
    Momentum = 1,
    /// <summary><see cref="Nesterov{T}"/>, Eq. 2.5, μ = 0.9.</summary>
    Nesterov = 2,
    /// <summary><see cref="Adagrad{T}"/>, Eq. 2.6.</summary>
    Adagrad = 3,
    /// <summary><see cref="RmsProp{T}"/>, Eq. 2.7, δ = 0.01, without gains.</summary>
    RmsProp = 4,
    /// <summary><see cref="RmsProp{T}"/> with the adaptive gains of Eq. 2.7.</summary>
    RmsPropGains = 5,
    /// <summary><see cref="Adam{T}"/>, Eq. 2.8, β1 = 0.9, β2 = 0.999, ε = 1e-8.</summary>
    Adam = 6,
    /// <summary><see cref="AdamW{T}"/>: Adam with decoupled weight decay 0.01.</summary>
    AdamW = 7,
}

/// <summary>Creates optimisers by <see cref="OptimizerKind"/> with the chapter's default hyper-parameters.</summary>
public static class OptimizerFactory
{
    /// <summary>All kinds, in declaration order (e.g. to benchmark each).</summary>
    public static IReadOnlyList<OptimizerKind> AllKinds { get; } = Enum.GetValues<OptimizerKind>();

    /// <summary>Creates an optimiser of the given kind with default hyper-parameters; allocates its state buffers.</summary>
    /// <param name="kind">Which optimiser.</param>
    /// <param name="parameterCount">Length of the flat parameter buffer.</param>
    /// <param name="regularization">R_λ folded into each step (and AdamW's decay ranges), or null.</param>
    /// <param name="path">ISA path of the fused pass.</param>
    /// <exception cref="ArgumentOutOfRangeException">Unknown kind.</exception>
    public static Optimizer<T> Create<T>(OptimizerKind kind, int parameterCount, RegularizationPlan? regularization = null, IsaPath path = IsaPath.Auto)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => kind switch
    {
        OptimizerKind.Sgd => new Sgd<T>(parameterCount, regularization, path),
        OptimizerKind.Momentum => new Momentum<T>(parameterCount, regularization: regularization, path: path),
        OptimizerKind.Nesterov => new Nesterov<T>(parameterCount, regularization: regularization, path: path),
        OptimizerKind.Adagrad => new Adagrad<T>(parameterCount, regularization: regularization, path: path),
        OptimizerKind.RmsProp => new RmsProp<T>(parameterCount, regularization: regularization, path: path),
        OptimizerKind.RmsPropGains => new RmsProp<T>(parameterCount, adaptiveGains: true, regularization: regularization, path: path),
        OptimizerKind.Adam => new Adam<T>(parameterCount, regularization: regularization, path: path),
        OptimizerKind.AdamW => new AdamW<T>(parameterCount, regularization: regularization, path: path),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimiser kind."),
    };
}
