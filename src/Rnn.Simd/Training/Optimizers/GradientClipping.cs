using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Operators;
using Rnn.Simd.Kernels.Updates;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>
/// Gradient clipping against exploding gradients (chapter section 2.4, after Pascanu et al.): by global norm, which
/// rescales the whole gradient and so keeps its direction, and by value, which clamps each element.
/// </summary>
/// <remarks>
/// Clipping by global norm costs one reduction over the flat gradient (<see cref="GlobalNorm{T}"/>); the factor
/// from <see cref="ScaleForMaxNorm{T}(double, double)"/> is then passed to <see cref="Optimizer{T}.Step(Span{T}, ReadOnlySpan{T}, T, T)"/>
/// as its gradient scale and applied inside the fused update, so the gradients are never rewritten. Clipping by
/// value is likewise folded into the step by <see cref="Optimizer{T}.ClipValue"/>; <see cref="ClipByValue{T}"/> is
/// the stand-alone sweep for other uses. Both act on the data gradient only; the regulariser's gradient is added
/// after them.
/// </remarks>
public static unsafe class GradientClipping
{
    /// <summary>
    /// The global Euclidean norm sqrt(Σ g²) of a flat gradient, accumulated in double on every path (so float
    /// gradients cannot overflow it). One read of the span; allocates nothing.
    /// </summary>
    /// <param name="gradients">The flat gradient (any length; 0 gives 0).</param>
    /// <param name="path">ISA path of the reduction.</param>
    /// <returns>The norm in double; NaN if an element is NaN, +∞ if one is infinite.</returns>
    public static double GlobalNorm<T>(ReadOnlySpan<T> gradients, IsaPath path = IsaPath.Auto) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => Math.Sqrt(DoubleReductions.SumOfSquares(gradients, path));

    /// <summary>
    /// The factor that brings a gradient of norm <paramref name="norm"/> within <paramref name="maxNorm"/>:
    /// 1 when norm ≤ maxNorm, else maxNorm / norm. Scaling by it keeps the direction and gives a norm of maxNorm up
    /// to one rounding per element (relative 1e-7 in float).
    /// </summary>
    /// <param name="norm">The global norm, e.g. from <see cref="GlobalNorm{T}"/>.</param>
    /// <param name="maxNorm">The threshold, finite and positive.</param>
    /// <returns>The factor; NaN when the norm is NaN or infinite, which <see cref="Optimizer{T}.Step(Span{T}, ReadOnlySpan{T}, T, T)"/>
    /// rejects with a message, so a diverged gradient is never silently applied.</returns>
    /// <exception cref="ArgumentOutOfRangeException">maxNorm is not positive and finite, or norm is negative.</exception>
    public static T ScaleForMaxNorm<T>(double norm, double maxNorm) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (!(maxNorm > 0 && double.IsFinite(maxNorm))) ThrowHelper.ThrowArgumentOutOfRange(nameof(maxNorm), $"The maximum norm must be finite and positive (got {maxNorm}).");
        if (norm < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(norm), $"A norm cannot be negative (got {norm}).");
        if (!double.IsFinite(norm)) return T.NaN;
        return norm <= maxNorm ? T.One : T.CreateTruncating(maxNorm / norm);
    }

    /// <summary>
    /// Computes the global norm of <paramref name="gradients"/> and the clipping factor for <paramref name="maxNorm"/>
    /// in one call: <c>ScaleForMaxNorm(GlobalNorm(gradients), maxNorm)</c>.
    /// </summary>
    /// <param name="gradients">The flat gradient.</param>
    /// <param name="maxNorm">The threshold, finite and positive.</param>
    /// <param name="norm">The global norm before clipping (report it; NaN or +∞ means divergence).</param>
    /// <param name="path">ISA path of the reduction.</param>
    /// <returns>The factor to pass as the gradient scale of the optimiser step.</returns>
    public static T ScaleForMaxNorm<T>(ReadOnlySpan<T> gradients, double maxNorm, out double norm, IsaPath path = IsaPath.Auto)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        norm = GlobalNorm(gradients, path);
        return ScaleForMaxNorm<T>(norm, maxNorm);
    }

    /// <summary>
    /// Clamps every element to [-maxAbs, +maxAbs] in place (overwrites <paramref name="gradients"/>); NaN stays
    /// NaN. A separate sweep: inside a training step prefer <see cref="Optimizer{T}.ClipValue"/>, which does the
    /// same within the fused update.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">maxAbs is not positive (or is NaN).</exception>
    public static void ClipByValue<T>(Span<T> gradients, T maxAbs, IsaPath path = IsaPath.Auto) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        VectorHelpers.EnsureSupported<T>();
        if (!(maxAbs > T.Zero)) ThrowHelper.ThrowArgumentOutOfRange(nameof(maxAbs), "The clip value must be positive.");
        IsaPath resolved = Isa.Resolve(path);
        fixed (T* g = gradients)
        {
            Clamp.InPlace(resolved, g, gradients.Length, maxAbs);
        }
    }
}
