using Rnn.Simd.Network;

namespace Rnn.Simd.Training.Regularization;

/// <summary>
/// The explicit regulariser R_λ of the loss (chapter Eq. 2.1, section 2.2): L1 (λ1 ‖W‖₁), L2 (λ2 ‖W‖²) or both
/// (elastic net), applied to the weight matrices and, only when asked, to the biases.
/// </summary>
/// <remarks>
/// <para>
/// Conventions. L2 is the squared Euclidean norm without a ½: R = λ2 Σ w², so its gradient is 2 λ2 w (PyTorch's
/// <c>weight_decay = wd</c> corresponds to λ2 = wd / 2). L1 is R = λ1 Σ |w| with the subgradient λ1 sign(w), taking
/// sign(0) = 0, so a weight that is exactly zero feels no L1 pull.
/// </para>
/// <para>
/// The optimisers fold the gradient of R into their fused pass (<see cref="Optimizers.Optimizer{T}"/>); the reported
/// loss should add <see cref="RegularizationPlan.Penalty{T}(ReadOnlySpan{T}, Kernels.IsaPath)"/>. Dropout, the chapter's fourth
/// regulariser, lives with the cells, not here.
/// </para>
/// </remarks>
/// <param name="L1">λ1 ≥ 0, the weight of ‖W‖₁.</param>
/// <param name="L2">λ2 ≥ 0, the weight of ‖W‖² (gradient 2 λ2 w).</param>
/// <param name="ApplyToBiases">When true, biases are regularised too; by default only weights are.</param>
public sealed record RegularizationOptions(double L1 = 0, double L2 = 0, bool ApplyToBiases = false)
{
    /// <summary>No explicit regularisation (λ1 = λ2 = 0).</summary>
    public static RegularizationOptions None { get; } = new();

    /// <summary>L1 only: R = λ1 ‖W‖₁.</summary>
    public static RegularizationOptions Lasso(double l1) => new(L1: l1);

    /// <summary>L2 only: R = λ2 ‖W‖².</summary>
    public static RegularizationOptions Ridge(double l2) => new(L2: l2);

    /// <summary>Elastic net: R = λ1 ‖W‖₁ + λ2 ‖W‖².</summary>
    public static RegularizationOptions ElasticNet(double l1, double l2) => new(l1, l2);

    /// <summary>
    /// Resolves the options against a network layout: the regularised ranges are the weight slices
    /// (<see cref="ParameterSlice.IsWeight"/>) plus the biases when <see cref="ApplyToBiases"/> is set, adjacent
    /// slices merged. Allocates the plan once; reuse it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">λ1 or λ2 is negative, NaN or infinite.</exception>
    public RegularizationPlan Resolve(ParameterLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var ranges = new List<(int Offset, int Length)>(layout.Slices.Count);
        foreach (ParameterSlice s in layout.Slices)
        {
            if (s.Length == 0 || !(s.IsWeight || ApplyToBiases)) continue;
            if (ranges.Count > 0 && ranges[^1].Offset + ranges[^1].Length == s.Offset)
                ranges[^1] = (ranges[^1].Offset, ranges[^1].Length + s.Length);
            else
                ranges.Add((s.Offset, s.Length));
        }
        return new RegularizationPlan(layout.TotalLength, L1, L2, ranges);
    }
}
