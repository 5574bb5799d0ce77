namespace Rnn.Simd.Forecasting;

/// <summary>
/// The whole data protocol in one object: a series in original units, a chronological split, a z-score scaler
/// fitted on the training part only (skipping masked steps), an optional mask of excluded target times, and the
/// <see cref="ForecastWindows"/> of each part, all with the same <see cref="ForecastOptions"/>. Models and
/// <see cref="Baselines"/> evaluated on <see cref="Test"/> are scored on the same targets.
/// </summary>
/// <example>
/// The common protocol on the ACEA series (hourly, h = 24, 70 / 15 / 15, anomaly masked):
/// <code>
/// TimeSeries hourly = CsvSeriesReader.Read(stream).Aggregate(6);
/// var data = ForecastDataset.Create(hourly, new ForecastOptions(horizon: 24), SplitFractions.Default,
///                                   TimeMask.Exclude(16000, 17848));
/// // train on data.Train.Inputs (T x 1), data.Train.Targets (T x 1) weighted by data.Train.Weights ...
/// ForecastMetrics model = data.Test.EvaluateScaled(networkOutputs);
/// ForecastMetrics lag24 = Baselines.EvaluatePersistence(data.Test);
/// </code>
/// With input features (the load plus its values 2, 3 and 7 days before each target):
/// <code>
/// var options = new ForecastOptions(24, features: FeatureSpec.Parse("value,lag48,lag72,lag168"));
/// </code>
/// </example>
public sealed class ForecastDataset
{
    private ForecastDataset(TimeSeries series, ForecastOptions options, ChronologicalSplit split, TimeMask mask, StandardScaler scaler,
        ForecastWindows train, ForecastWindows? validation, ForecastWindows? test)
    {
        Series = series;
        Options = options;
        Split = split;
        Mask = mask;
        Scaler = scaler;
        Train = train;
        Validation = validation;
        Test = test;
    }

    /// <summary>Splits the series by fractions, fits the scaler on the training part, and builds the windows of each part.</summary>
    /// <param name="series">The series in original units.</param>
    /// <param name="options">Horizon, target mode, input and target columns.</param>
    /// <param name="fractions">Split fractions (see <see cref="ChronologicalSplit.Create(int, SplitFractions)"/>).</param>
    /// <param name="mask">Excluded target times (null for none); also skipped when fitting the scaler.</param>
    /// <exception cref="SeriesTooShortException">The series is too short for the horizon and the split; the message gives the length needed.</exception>
    /// <exception cref="InvalidSplitException">The fractions are invalid.</exception>
    public static ForecastDataset Create(TimeSeries series, ForecastOptions options, SplitFractions fractions, TimeMask? mask = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        ChronologicalSplit.CheckFractions(fractions);
        // Every part length grows monotonically with the series length, so one minimum decides.
        int needed = MinimumLength(fractions, options);
        if (series.Length < needed) throw TooShort(series, options, fractions, needed);
        ChronologicalSplit split = ChronologicalSplit.Create(series.Length, fractions);
        return Create(series, options, split, mask);
    }

    /// <summary>As <see cref="Create(TimeSeries, ForecastOptions, SplitFractions, TimeMask?)"/> with the default 70 / 15 / 15 split.</summary>
    public static ForecastDataset Create(TimeSeries series, ForecastOptions options, TimeMask? mask = null) =>
        Create(series, options, SplitFractions.Default, mask);

    /// <summary>Uses a given split (for example from <see cref="ChronologicalSplit.FromRanges"/>), fits the scaler on its training part, and builds the windows.</summary>
    /// <param name="series">The series in original units.</param>
    /// <param name="options">Horizon, target mode, input and target columns.</param>
    /// <param name="split">A split of a series of the same length.</param>
    /// <param name="mask">Excluded target times (null for none); also skipped when fitting the scaler.</param>
    /// <exception cref="SeriesTooShortException">A part has no target that an input precedes by the horizon.</exception>
    public static ForecastDataset Create(TimeSeries series, ForecastOptions options, ChronologicalSplit split, TimeMask? mask = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(split);
        if (split.Length != series.Length)
            throw new ArgumentException($"The split is for {split.Length} values; the series has {series.Length}.", nameof(split));
        mask ??= TimeMask.None;
        StandardScaler scaler = StandardScaler.Fit(series, split.Train, mask);
        ForecastWindows train = ForecastWindows.Create(series, scaler, split.Train, options, mask);
        ForecastWindows? validation = split.Validation.IsEmpty ? null : ForecastWindows.Create(series, scaler, split.Validation, options, mask);
        ForecastWindows? test = split.Test.IsEmpty ? null : ForecastWindows.Create(series, scaler, split.Test, options, mask);
        return new ForecastDataset(series, options, split, mask, scaler, train, validation, test);
    }

    /// <summary>The series in original units.</summary>
    public TimeSeries Series { get; }

    /// <summary>Horizon, target mode, input and target columns.</summary>
    public ForecastOptions Options { get; }

    /// <summary>The chronological split.</summary>
    public ChronologicalSplit Split { get; }

    /// <summary>Excluded target times (<see cref="TimeMask.None"/> when none).</summary>
    public TimeMask Mask { get; }

    /// <summary>The scaler, fitted on the training part (masked steps skipped).</summary>
    public StandardScaler Scaler { get; }

    /// <summary>Windows whose targets are the training part.</summary>
    public ForecastWindows Train { get; }

    /// <summary>Windows whose targets are the validation part, or null when the split has none.</summary>
    public ForecastWindows? Validation { get; }

    /// <summary>Windows whose targets are the test part, or null when the split has none.</summary>
    public ForecastWindows? Test { get; }

    /// <summary>The windows of a part, or null when that part is empty.</summary>
    public ForecastWindows? this[SplitPart part] => part switch
    {
        SplitPart.Train => Train,
        SplitPart.Validation => Validation,
        SplitPart.Test => Test,
        _ => throw new ArgumentOutOfRangeException(nameof(part), part, "Unknown split part."),
    };

    // The shortest series whose split leaves no part empty and whose training part ends at or after index h + 1
    // (single step; 2 for multi-output), so that it holds at least one target.
    private static int MinimumLength(SplitFractions fractions, ForecastOptions options)
    {
        int trainEndNeeded = TrainEndNeeded(options);
        int n = ChronologicalSplit.MinimumLength(fractions);
        // floor(n · train) ≥ trainEndNeeded from about trainEndNeeded / train on; step up over rounding.
        n = Math.Max(n, (int)Math.Min(int.MaxValue - 1024, Math.Floor(trainEndNeeded / fractions.Train) - 1));
        if (n >= int.MaxValue - 1024) return int.MaxValue;
        for (int i = 0; i < 1024; i++, n++)
        {
            ChronologicalSplit? split = TrySplit(n, fractions);
            if (split is not null && split.Train.End >= trainEndNeeded) return n;
        }
        return int.MaxValue;
    }

    // Rows start at input time e = max(0, L_max - h) (lag features); the first row's nearest target is e + h (single step) or e + 1.
    private static int TrainEndNeeded(ForecastOptions options) =>
        options.Features.EarliestInputTime(options.Horizon) + (options.Mode == TargetMode.SingleStep ? options.Horizon + 1 : 2);

    private static ChronologicalSplit? TrySplit(int length, SplitFractions fractions)
    {
        try { return ChronologicalSplit.Create(length, fractions); }
        catch (InvalidSplitException) { return null; }
    }

    private static SeriesTooShortException TooShort(TimeSeries series, ForecastOptions options, SplitFractions f, int needed) =>
        new($"The series has {series.Length} values; horizon {options.Horizon} ({options.Mode}) with the split train {ForecastFormat.Num(f.Train)} / " +
            $"validation {ForecastFormat.Num(f.Validation)} / test {ForecastFormat.Num(f.Test)} needs at least {needed}, so that every part is non-empty " +
            $"and the training part holds a target {(options.Mode == TargetMode.SingleStep ? options.Horizon : 1)} step(s) after an input.",
            needed, series.Length, nameof(series));
}
