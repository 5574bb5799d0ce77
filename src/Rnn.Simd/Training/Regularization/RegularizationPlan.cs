using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Operators;
using Rnn.Simd.Kernels.Updates;

namespace Rnn.Simd.Training.Regularization;

/// <summary>
/// R_λ (chapter Eq. 2.1) resolved against a flat parameter buffer: λ1, λ2 and the ranges of elements they apply to
/// (by default the weight matrices), cut once into segments that the optimisers' fused pass walks with the λ of each
/// segment (zero on the unregularised ones). Immutable.
/// </summary>
/// <remarks>
/// <para>
/// Why segments and not a per-element λ buffer: the layout alternates a few large weight slices and a few small bias
/// slices, so a network has at most 2L + 2 segments; walking them costs a handful of calls per step, whereas a λ
/// buffer would add 4 bytes of reads per float parameter (+14 % traffic for Adam's 28) to a memory-bound pass.
/// </para>
/// <para>
/// The regularised ranges also say where decoupled weight decay (<see cref="Optimizers.AdamW{T}"/>) applies.
/// <see cref="Uniform"/> regularises every element, which is the right plan for a raw buffer with no layout.
/// </para>
/// </remarks>
public sealed class RegularizationPlan
{
    private readonly Segment[] _segments;
    private readonly (int Offset, int Length)[] _ranges;

    /// <summary>Creates a plan over a buffer of <paramref name="parameterCount"/> elements.</summary>
    /// <param name="parameterCount">Length of the flat parameter (and gradient) buffer.</param>
    /// <param name="l1">λ1 ≥ 0: R includes λ1 Σ |w| over the regularised ranges.</param>
    /// <param name="l2">λ2 ≥ 0: R includes λ2 Σ w² (gradient 2 λ2 w).</param>
    /// <param name="regularizedRanges">The (offset, length) ranges the terms apply to: ascending, non-overlapping,
    /// within the buffer; empty ranges are ignored.</param>
    /// <exception cref="ArgumentOutOfRangeException">A λ is negative or not finite, the count is negative, or a
    /// range is outside the buffer, unsorted or overlapping.</exception>
    public RegularizationPlan(int parameterCount, double l1, double l2, IReadOnlyList<(int Offset, int Length)> regularizedRanges)
    {
        ArgumentNullException.ThrowIfNull(regularizedRanges);
        if (parameterCount < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(parameterCount), $"The parameter count must not be negative (got {parameterCount}).");
        if (!double.IsFinite(l1) || l1 < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(l1), $"λ1 must be finite and non-negative (got {l1}).");
        if (!double.IsFinite(l2) || l2 < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(l2), $"λ2 must be finite and non-negative (got {l2}).");
        ParameterCount = parameterCount;
        L1 = l1;
        L2 = l2;
        var ranges = new List<(int, int)>(regularizedRanges.Count);
        var segments = new List<Segment>(2 * regularizedRanges.Count + 1);
        int end = 0;
        foreach ((int offset, int length) in regularizedRanges)
        {
            if (length == 0) continue;
            if (length < 0 || offset < end || offset > parameterCount - length)
                ThrowHelper.ThrowArgumentOutOfRange(nameof(regularizedRanges),
                    $"Range ({offset}, {length}) is negative, outside the buffer of {parameterCount} elements, or not after the previous range ending at {end}.");
            if (offset > end) segments.Add(new Segment(end, offset - end, false));
            segments.Add(new Segment(offset, length, true));
            ranges.Add((offset, length));
            end = offset + length;
        }
        if (end < parameterCount) segments.Add(new Segment(end, parameterCount - end, false));
        _segments = segments.ToArray();
        _ranges = ranges.ToArray();
    }

    /// <summary>A plan that regularises every element of a buffer (no layout, or everything counts as a weight).</summary>
    public static RegularizationPlan Uniform(int parameterCount, double l1 = 0, double l2 = 0) =>
        new(parameterCount, l1, l2, parameterCount > 0 ? [(0, parameterCount)] : []);

    /// <summary>Length of the flat buffer the plan describes.</summary>
    public int ParameterCount { get; }

    /// <summary>λ1, the weight of ‖W‖₁.</summary>
    public double L1 { get; }

    /// <summary>λ2, the weight of ‖W‖² (gradient 2 λ2 w).</summary>
    public double L2 { get; }

    /// <summary>True when λ1 or λ2 is non-zero.</summary>
    public bool IsActive => L1 != 0 || L2 != 0;

    /// <summary>The regularised (offset, length) ranges, ascending, merged where adjacent ranges were given merged.</summary>
    public IReadOnlyList<(int Offset, int Length)> RegularizedRanges => _ranges;

    /// <summary>Number of regularised elements.</summary>
    public int RegularizedCount
    {
        get
        {
            int n = 0;
            foreach ((int _, int length) in _ranges) n += length;
            return n;
        }
    }

    /// <summary>Segments that cover [0, ParameterCount) in order, each wholly regularised or not.</summary>
    internal ReadOnlySpan<Segment> Segments => _segments;

    /// <summary>
    /// R_λ(W) = λ1 Σ |w| + λ2 Σ w² over the regularised ranges (section 2.2), accumulated in double. Add it to the
    /// data loss E to report L of Eq. 2.1. Allocates nothing.
    /// </summary>
    /// <param name="parameters">The flat parameter buffer, <see cref="ParameterCount"/> elements.</param>
    /// <param name="path">ISA path of the reductions.</param>
    /// <exception cref="ArgumentException">The span length differs from <see cref="ParameterCount"/>.</exception>
    public double Penalty<T>(ReadOnlySpan<T> parameters, IsaPath path = IsaPath.Auto) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (parameters.Length != ParameterCount) ThrowHelper.ThrowLengthMismatch(nameof(parameters), ParameterCount, parameters.Length);
        if (!IsActive) return 0;
        double abs = 0, squares = 0;
        foreach ((int offset, int length) in _ranges)
        {
            ReadOnlySpan<T> w = parameters.Slice(offset, length);
            if (L1 != 0) abs += DoubleReductions.SumOfMagnitudes(w, path);
            if (L2 != 0) squares += DoubleReductions.SumOfSquares(w, path);
        }
        return L1 * abs + L2 * squares;
    }

    /// <summary>
    /// Accumulates the gradient of R_λ into <paramref name="gradients"/>: g += 2 λ2 w + λ1 sign(w) (sign(0) = 0) on
    /// the regularised ranges. The optimisers already fold this term into their step; use this only for gradient
    /// checks or a custom update, never together with an optimiser built on the same plan (it would count R twice).
    /// </summary>
    /// <exception cref="ArgumentException">A span length differs from <see cref="ParameterCount"/>, or the spans overlap.</exception>
    public void AddGradient<T>(ReadOnlySpan<T> parameters, Span<T> gradients) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (parameters.Length != ParameterCount) ThrowHelper.ThrowLengthMismatch(nameof(parameters), ParameterCount, parameters.Length);
        if (gradients.Length != ParameterCount) ThrowHelper.ThrowLengthMismatch(nameof(gradients), ParameterCount, gradients.Length);
        if (parameters.Overlaps(gradients)) ThrowHelper.ThrowArgument(nameof(gradients), "The gradients must not overlap the parameters.");
        if (!IsActive) return;
        T l1 = T.CreateTruncating(L1), l2x2 = T.CreateTruncating(2 * L2);
        foreach ((int offset, int length) in _ranges)
        {
            for (int i = offset; i < offset + length; i++)
            {
                T w = parameters[i];
                T sign = w == T.Zero ? T.Zero : T.CopySign(T.One, w);
                gradients[i] = VectorHelpers.MulAdd(l1, sign, VectorHelpers.MulAdd(l2x2, w, gradients[i]));
            }
        }
    }

    /// <summary>One run of the flat buffer with one regularisation setting.</summary>
    internal readonly record struct Segment(int Offset, int Length, bool Regularized);
}
