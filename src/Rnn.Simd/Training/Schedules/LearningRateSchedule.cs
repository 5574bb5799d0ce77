namespace Rnn.Simd.Training.Schedules;

/// <summary>
/// A learning-rate schedule over epochs (chapter section 2.3: "it is usually helpful to anneal η over time or when
/// the performance stops increasing"). The rate of epoch k is <see cref="CurrentRate"/>; the trainer calls
/// <see cref="EndEpoch"/> after each epoch with its validation loss, which moves to epoch k + 1.
/// </summary>
/// <remarks>
/// Epochs count from 0: before the first <see cref="EndEpoch"/> the rate is η_0 = <see cref="InitialRate"/>.
/// Rates are doubles; convert to the network's element type when calling the optimiser. Not thread-safe.
/// </remarks>
public abstract class LearningRateSchedule
{
    /// <summary>Initialises the schedule at epoch 0 with rate η_0.</summary>
    /// <param name="initialRate">η_0, finite and positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">η_0 is not finite and positive.</exception>
    protected LearningRateSchedule(double initialRate)
    {
        CheckPositive(initialRate, nameof(initialRate));
        InitialRate = initialRate;
        CurrentRate = initialRate;
    }

    /// <summary>η_0, the rate of epoch 0.</summary>
    public double InitialRate { get; }

    /// <summary>k, the number of epochs ended so far (the index of the current epoch).</summary>
    public int Epoch { get; private set; }

    /// <summary>η_k, the learning rate to use during the current epoch.</summary>
    public double CurrentRate { get; private set; }

    /// <summary>
    /// Ends epoch k: records its validation loss (used only by <see cref="StepDecayOnPlateau"/>; others ignore it and
    /// accept NaN), advances to epoch k + 1 and returns its rate, which is also the new <see cref="CurrentRate"/>.
    /// </summary>
    /// <param name="validationLoss">The validation loss measured at the end of epoch k.</param>
    /// <exception cref="ArgumentException">The schedule needs the loss and it is NaN or infinite.</exception>
    public double EndEpoch(double validationLoss = double.NaN)
    {
        double next = NextRate(Epoch, validationLoss);
        Epoch++;
        CurrentRate = next;
        return next;
    }

    /// <summary>Returns to epoch 0 and rate η_0, forgetting any recorded losses.</summary>
    public void Reset()
    {
        Epoch = 0;
        CurrentRate = InitialRate;
        ResetCore();
    }

    /// <summary>Restores the epoch counter and the current rate saved by a training checkpoint.</summary>
    internal void RestoreState(int epoch, double currentRate)
    {
        Epoch = epoch;
        CurrentRate = currentRate;
    }

    /// <summary>
    /// Computes η_(k+1) when epoch k = <paramref name="endedEpoch"/> ends with <paramref name="validationLoss"/>;
    /// <see cref="CurrentRate"/> still holds η_k.
    /// </summary>
    protected abstract double NextRate(int endedEpoch, double validationLoss);

    /// <summary>Clears the state a derived schedule keeps; called by <see cref="Reset"/>.</summary>
    protected virtual void ResetCore() { }

    /// <summary>Throws unless the value is finite and positive.</summary>
    protected static void CheckPositive(double value, string name)
    {
        if (!(value > 0 && double.IsFinite(value))) throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and positive.");
    }

    /// <summary>Throws unless the value is finite and non-negative.</summary>
    protected static void CheckNonNegative(double value, string name)
    {
        if (!(value >= 0 && double.IsFinite(value))) throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and non-negative.");
    }
}

/// <summary>A constant rate: η_k = η_0.</summary>
/// <param name="rate">η_0, finite and positive.</param>
public sealed class ConstantSchedule(double rate) : LearningRateSchedule(rate)
{
    /// <inheritdoc/>
    protected override double NextRate(int endedEpoch, double validationLoss) => InitialRate;
}

/// <summary>Exponential decay (section 2.3): η_k = η_0 e^(-α k).</summary>
public sealed class ExponentialDecaySchedule : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialRate">η_0, finite and positive.</param>
    /// <param name="alpha">α ≥ 0, the decay per epoch.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public ExponentialDecaySchedule(double initialRate, double alpha) : base(initialRate)
    {
        CheckNonNegative(alpha, nameof(alpha));
        Alpha = alpha;
    }

    /// <summary>α, the decay rate.</summary>
    public double Alpha { get; }

    /// <summary>η_k = η_0 e^(-α k) for any epoch k ≥ 0, without changing the schedule.</summary>
    public double RateAt(int epoch) => InitialRate * Math.Exp(-Alpha * epoch);

    /// <inheritdoc/>
    protected override double NextRate(int endedEpoch, double validationLoss) => RateAt(endedEpoch + 1);
}

/// <summary>Fractional (inverse-time) decay (section 2.3): η_k = η_0 / (1 + α k).</summary>
public sealed class FractionalDecaySchedule : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialRate">η_0, finite and positive.</param>
    /// <param name="alpha">α ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public FractionalDecaySchedule(double initialRate, double alpha) : base(initialRate)
    {
        CheckNonNegative(alpha, nameof(alpha));
        Alpha = alpha;
    }

    /// <summary>α, the decay rate.</summary>
    public double Alpha { get; }

    /// <summary>η_k = η_0 / (1 + α k) for any epoch k ≥ 0, without changing the schedule.</summary>
    public double RateAt(int epoch) => InitialRate / (1 + Alpha * epoch);

    /// <inheritdoc/>
    protected override double NextRate(int endedEpoch, double validationLoss) => RateAt(endedEpoch + 1);
}

/// <summary>Step decay at a fixed interval: η_k = η_0 · α^⌊k / interval⌋ (the rate is multiplied by α every <c>interval</c> epochs).</summary>
public sealed class FixedStepDecaySchedule : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialRate">η_0, finite and positive.</param>
    /// <param name="factor">α in (0, 1].</param>
    /// <param name="interval">Epochs between reductions, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public FixedStepDecaySchedule(double initialRate, double factor, int interval) : base(initialRate)
    {
        if (!(factor > 0 && factor <= 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The factor must be in (0, 1].");
        if (interval < 1) throw new ArgumentOutOfRangeException(nameof(interval), interval, "The interval must be at least 1 epoch.");
        Factor = factor;
        Interval = interval;
    }

    /// <summary>α, the factor applied at each reduction.</summary>
    public double Factor { get; }

    /// <summary>Epochs between reductions.</summary>
    public int Interval { get; }

    /// <summary>η_k = η_0 α^⌊k / interval⌋ for any epoch k ≥ 0, without changing the schedule.</summary>
    public double RateAt(int epoch) => InitialRate * Math.Pow(Factor, epoch / Interval);

    /// <inheritdoc/>
    protected override double NextRate(int endedEpoch, double validationLoss) => RateAt(endedEpoch + 1);
}

/// <summary>
/// The chapter's step decay (section 2.3, its choice for SGD): the rate is multiplied by α when the validation loss
/// has not decreased for <see cref="Patience"/> epochs.
/// </summary>
/// <remarks>
/// <para>
/// The rule, applied by <see cref="LearningRateSchedule.EndEpoch"/> with the loss L_k of the epoch that ended: if
/// L_k &lt; best - <see cref="MinDecrease"/> it is an improvement (best = L_k, the count of epochs without one
/// restarts at 0); otherwise the count grows by one, and when it reaches <see cref="Patience"/> the rate becomes
/// max(α η, <see cref="MinRate"/>) and the count restarts at 0. So with patience p, the rate drops after exactly p
/// consecutive epochs without a new best (PyTorch's ReduceLROnPlateau waits p + 1), and again after p more. Epoch
/// 0's loss is always an improvement over the initial best of +∞.
/// </para>
/// </remarks>
public sealed class StepDecayOnPlateau : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialRate">η_0, finite and positive.</param>
    /// <param name="factor">α in (0, 1), the multiplier at each reduction (e.g. 0.5).</param>
    /// <param name="patience">Epochs without a decrease that trigger a reduction, at least 1.</param>
    /// <param name="minDecrease">The loss must fall below the best by more than this to count as a decrease (≥ 0; default 0, any decrease).</param>
    /// <param name="minRate">The rate never drops below this (≥ 0; default 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public StepDecayOnPlateau(double initialRate, double factor = 0.5, int patience = 5, double minDecrease = 0, double minRate = 0)
        : base(initialRate)
    {
        if (!(factor > 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The factor must be in (0, 1).");
        if (patience < 1) throw new ArgumentOutOfRangeException(nameof(patience), patience, "The patience must be at least 1 epoch.");
        CheckNonNegative(minDecrease, nameof(minDecrease));
        CheckNonNegative(minRate, nameof(minRate));
        Factor = factor;
        Patience = patience;
        MinDecrease = minDecrease;
        MinRate = minRate;
    }

    /// <summary>α, the multiplier at each reduction.</summary>
    public double Factor { get; }

    /// <summary>Consecutive epochs without a decrease that trigger a reduction.</summary>
    public int Patience { get; }

    /// <summary>The margin by which the loss must beat the best to count as a decrease.</summary>
    public double MinDecrease { get; }

    /// <summary>The floor of the rate.</summary>
    public double MinRate { get; }

    /// <summary>The last validation loss that counted as a decrease, i.e. the best so far up to <see cref="MinDecrease"/> (+∞ before the first epoch ends).</summary>
    public double BestLoss { get; private set; } = double.PositiveInfinity;

    /// <summary>Consecutive epochs since the last decrease or reduction.</summary>
    public int EpochsWithoutDecrease { get; private set; }

    /// <summary>How many times the rate has been reduced.</summary>
    public int Reductions { get; private set; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The validation loss is NaN or infinite.</exception>
    protected override double NextRate(int endedEpoch, double validationLoss)
    {
        if (!double.IsFinite(validationLoss))
            throw new ArgumentException($"Step decay needs the validation loss of each epoch; epoch {endedEpoch} reported {validationLoss}.", nameof(validationLoss));
        if (validationLoss < BestLoss - MinDecrease)
        {
            BestLoss = validationLoss;
            EpochsWithoutDecrease = 0;
            return CurrentRate;
        }
        if (++EpochsWithoutDecrease < Patience) return CurrentRate;
        EpochsWithoutDecrease = 0;
        Reductions++;
        return Math.Max(CurrentRate * Factor, MinRate);
    }

    /// <summary>Restores the plateau state saved by a training checkpoint.</summary>
    internal void RestorePlateau(double bestLoss, int epochsWithoutDecrease, int reductions)
    {
        BestLoss = bestLoss;
        EpochsWithoutDecrease = epochsWithoutDecrease;
        Reductions = reductions;
    }

    /// <inheritdoc/>
    protected override void ResetCore()
    {
        BestLoss = double.PositiveInfinity;
        EpochsWithoutDecrease = 0;
        Reductions = 0;
    }
}
