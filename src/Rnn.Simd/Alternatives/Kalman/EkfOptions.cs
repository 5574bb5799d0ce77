namespace Rnn.Simd.Alternatives.Kalman;

/// <summary>Which covariance an <see cref="EkfTrainer{T}"/> keeps (Puskorius and Feldkamp 1994; Haykin 2001, ch. 2).</summary>
public enum EkfVariant
{
    /// <summary>
    /// Node-decoupled EKF (NDEKF; Puskorius and Feldkamp 1994; Haykin 2001, ch. 2, "Decoupled EKF"): one covariance block per node, the weights feeding one hidden unit
    /// across all its gates (every layer) or one output of the readout; the blocks share the global scaling matrix
    /// A = (R + Σ_g H_gᵀ P_g H_g)⁻¹. Cost per update Σ_g n_g², so it scales to the tool's networks. The default.
    /// </summary>
    NodeDecoupled = 0,

    /// <summary>Global EKF (GEKF; Haykin 2001, ch. 2, "The EKF procedure"): one n x n covariance over every trainable weight; O(n²) memory
    /// and work per update, the reference algorithm for small networks.</summary>
    Global = 1,
}

/// <summary>
/// Options of an <see cref="EkfTrainer{T}"/>. R and Q are annealed over the epochs, as Haykin (2001, ch. 2) recommends: epoch e of E
/// uses R_e = R0 · (R_end / R0)^((e - 1) / (E - 1)) (geometric; linear when either end is 0, as Q may be).
/// </summary>
/// <remarks>
/// The defaults were chosen on the validation loss of the tool's default task (ACEA hourly load, z-scored, LSTM
/// H = 32, node-decoupled, about 15,900 training steps per epoch) among a handful of settings: with many steps per
/// epoch a small Q and a large R keep the filter from tracking the most recent hours instead of learning the series
/// (Q = 1e-3 gave an a-priori training MSE of 0.05 but a validation MSE of 0.24). A short series wants the book's
/// bolder values (R from 10 to 1, P0 = 10, Q from 1e-3 to 1e-6; see the tests).
/// </remarks>
public sealed record EkfOptions
{
    /// <summary>Global or node-decoupled covariance (default <see cref="EkfVariant.NodeDecoupled"/>).</summary>
    public EkfVariant Variant { get; init; } = EkfVariant.NodeDecoupled;

    /// <summary>R0: the measurement noise variance of the first epoch, the same for each output (default 100). Its
    /// inverse is the book's learning rate η: a large R takes small, cautious steps while P is still large. A target
    /// with weight w has noise R / w (w = 0: no measurement).</summary>
    public double MeasurementNoise { get; init; } = 100;

    /// <summary>R_end: the measurement noise of the last epoch (default 30; annealed from <see cref="MeasurementNoise"/>).</summary>
    public double FinalMeasurementNoise { get; init; } = 30;

    /// <summary>Q0: the artificial process noise q of the first epoch, Q = q·I added to P after every update (default
    /// 1e-6); it keeps P from collapsing and helps it stay positive definite. 0 is allowed (then the filter on a model
    /// linear in its weights is recursive least squares).</summary>
    public double ProcessNoise { get; init; } = 1e-6;

    /// <summary>Q_end: the process noise of the last epoch (default 1e-8; annealed from <see cref="ProcessNoise"/>).</summary>
    public double FinalProcessNoise { get; init; } = 1e-8;

    /// <summary>P0 = this · I, the initial weight covariance (default 1): how far the filter may move the initial
    /// weights at first.</summary>
    public double InitialCovariance { get; init; } = 1;

    /// <summary>h of "EKF with BPTT(h)": each output's Jacobian ∂y/∂w is back-propagated through at least the last h
    /// steps, its own included (default 10; the truncated-BPTT ring holds h + UpdateEvery - 1 steps).</summary>
    public int TruncationDepth { get; init; } = 10;

    /// <summary>
    /// s: one filter update per instance of s consecutive steps (default 1, the book's update at every time step).
    /// The s·O outputs of an instance are one measurement vector (A is s·O x s·O), all taken at the same weights, so
    /// every target is used whatever s is; a larger s makes fewer, larger updates (less work on P per step). A trailing
    /// part of the training series shorter than s is not trained on.
    /// </summary>
    public int UpdateEvery { get; init; } = 1;

    /// <summary>Maximum number of epochs (passes over the training series; P carries from one to the next). Default 20.</summary>
    public int Epochs { get; init; } = 20;

    /// <summary>Stop after this many epochs without a better validation loss; 0 disables early stopping. Default 5.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>
    /// Names of the parameter slices the filter trains (e.g. <c>readout.weight</c>, <c>readout.bias</c>: the readout
    /// alone, a model linear in its weights); the others stay fixed. Null (default): every parameter.
    /// </summary>
    public IReadOnlyList<string>? TrainableParameters { get; init; }

    /// <summary>The covariance may take at most this many bytes (default 1 GiB); a larger network is refused with the
    /// size it needs (use <see cref="EkfVariant.NodeDecoupled"/> for large networks).</summary>
    public long MaxCovarianceBytes { get; init; } = 1L << 30;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option and its value.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Variant)) throw new ArgumentOutOfRangeException(nameof(Variant), Variant, $"{nameof(Variant)} {Variant} is not an EkfVariant (Global or NodeDecoupled).");
        Positive(MeasurementNoise, nameof(MeasurementNoise));
        Positive(FinalMeasurementNoise, nameof(FinalMeasurementNoise));
        NonNegative(ProcessNoise, nameof(ProcessNoise));
        NonNegative(FinalProcessNoise, nameof(FinalProcessNoise));
        Positive(InitialCovariance, nameof(InitialCovariance));
        if (TruncationDepth < 1) throw new ArgumentOutOfRangeException(nameof(TruncationDepth), TruncationDepth, $"{nameof(TruncationDepth)} must be at least 1 (got {TruncationDepth}).");
        if (UpdateEvery < 1) throw new ArgumentOutOfRangeException(nameof(UpdateEvery), UpdateEvery, $"{nameof(UpdateEvery)} must be at least 1 (got {UpdateEvery}).");
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, $"{nameof(Epochs)} must be at least 1 (got {Epochs}).");
        if (Patience < 0) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, $"{nameof(Patience)} must be non-negative (got {Patience}).");
        if (MaxCovarianceBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxCovarianceBytes), MaxCovarianceBytes, $"{nameof(MaxCovarianceBytes)} must be positive (got {MaxCovarianceBytes}).");
        if (TrainableParameters is { Count: 0 }) throw new ArgumentException($"{nameof(TrainableParameters)} is empty: name at least one parameter slice, or pass null for all.", nameof(TrainableParameters));
    }

    /// <summary>The measurement noise R of epoch <paramref name="epoch"/> (1-based) of <see cref="Epochs"/>.</summary>
    public double MeasurementNoiseAt(int epoch) => Anneal(MeasurementNoise, FinalMeasurementNoise, epoch, Epochs);

    /// <summary>The process noise q of epoch <paramref name="epoch"/> (1-based) of <see cref="Epochs"/>.</summary>
    public double ProcessNoiseAt(int epoch) => Anneal(ProcessNoise, FinalProcessNoise, epoch, Epochs);

    private static double Anneal(double start, double end, int epoch, int epochs)
    {
        double f = epochs <= 1 ? 0 : Math.Clamp((epoch - 1) / (double)(epochs - 1), 0, 1);
        return start > 0 && end > 0 ? start * Math.Pow(end / start, f) : start + (end - start) * f;
    }

    private static void Positive(double value, string name)
    {
        if (!(value > 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive and finite (got {value}).");
    }

    private static void NonNegative(double value, string name)
    {
        if (!(value >= 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be non-negative and finite (got {value}).");
    }
}
