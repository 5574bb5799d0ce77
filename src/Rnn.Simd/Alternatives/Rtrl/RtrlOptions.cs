using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Alternatives.Rtrl;

/// <summary>Options of an <see cref="RtrlTrainer{T}"/> (real-time recurrent learning, Williams and Zipser 1989).</summary>
public sealed record RtrlOptions
{
    /// <summary>
    /// k: update the weights after every k steps with the gradient accumulated over them (default 1: every step, the
    /// fully online "real-time" algorithm of Williams and Zipser; k &gt; 1 accumulates the gradient over k steps, and k ≥
    /// the series length one exact full-sequence gradient per epoch). The sensitivities carry on across updates.
    /// </summary>
    public int UpdateEvery { get; init; } = 1;

    /// <summary>The optimiser applied to each update (default Adam, chapter Eq. 2.8).</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>The learning rate η (default 1e-3), constant.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>L1 / L2 regularisation folded into each optimiser step (chapter Eq. 2.1; weights only unless it says
    /// otherwise); default none.</summary>
    public RegularizationOptions Regularization { get; init; } = RegularizationOptions.None;

    /// <summary>Clip the global norm of each update's gradient to this value (chapter section 2.4); +∞ (default) disables it.</summary>
    public double ClipNorm { get; init; } = double.PositiveInfinity;

    /// <summary>Clip each gradient element to ±this value; +∞ (default) disables it.</summary>
    public double ClipValue { get; init; } = double.PositiveInfinity;

    /// <summary>Maximum number of epochs (passes over the training series, each from a zero state); default 20.</summary>
    public int Epochs { get; init; } = 20;

    /// <summary>Stop after this many epochs without a better validation loss; 0 disables early stopping. Default 5.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>
    /// Refuse a network whose sensitivities (<see cref="RtrlGradient{T}.SensitivityBytes"/>: state x |θ| x the element
    /// size) would need more than this many bytes; default 4 GiB (<see cref="RtrlGradient{T}.DefaultMaxSensitivityBytes"/>).
    /// </summary>
    public long MaxSensitivityBytes { get; init; } = 4L << 30;

    /// <summary>Threads of the sensitivity GEMMs (1 = the caller only, default; 0 = every core). Results are bitwise
    /// the same for any value; only large H gains (a product below 2^18 multiply-adds stays on the caller).</summary>
    public int MaxThreads { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> (or <see cref="ArgumentNullException"/>) naming the
    /// first invalid option and its value.</summary>
    public void Validate()
    {
        if (UpdateEvery < 1) throw new ArgumentOutOfRangeException(nameof(UpdateEvery), UpdateEvery, $"UpdateEvery must be at least 1 (1 updates every step); it is {UpdateEvery}.");
        if (!Enum.IsDefined(Optimizer)) throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, $"Optimizer {Optimizer} is not an OptimizerKind.");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, $"LearningRate must be positive and finite; it is {LearningRate}.");
        ArgumentNullException.ThrowIfNull(Regularization, nameof(Regularization));
        if (!(ClipNorm > 0)) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, $"ClipNorm must be positive (+∞ disables it); it is {ClipNorm}.");
        if (!(ClipValue > 0)) throw new ArgumentOutOfRangeException(nameof(ClipValue), ClipValue, $"ClipValue must be positive (+∞ disables it); it is {ClipValue}.");
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, $"Epochs must be at least 1; it is {Epochs}.");
        if (Patience < 0) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, $"Patience must be non-negative (0 disables early stopping); it is {Patience}.");
        if (MaxThreads < 0) throw new ArgumentOutOfRangeException(nameof(MaxThreads), MaxThreads, $"MaxThreads must be 0 (every core) or positive; it is {MaxThreads}.");
        if (MaxSensitivityBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxSensitivityBytes), MaxSensitivityBytes, $"MaxSensitivityBytes must be positive; it is {MaxSensitivityBytes}.");
    }
}
