namespace Rnn.Simd.Forecasting;

/// <summary>The three parts of a chronological split.</summary>
public enum SplitPart
{
    /// <summary>The training part (oldest).</summary>
    Train = 0,

    /// <summary>The validation part (model selection, early stopping).</summary>
    Validation = 1,

    /// <summary>The test part (newest; reported once).</summary>
    Test = 2,
}

/// <summary>Fractions of a series given to the training, validation and test parts, oldest first.</summary>
/// <param name="Train">Fraction of the training part, in (0, 1].</param>
/// <param name="Validation">Fraction of the validation part, in [0, 1); 0 means no validation part.</param>
/// <param name="Test">Fraction of the test part, in [0, 1); 0 means no test part.</param>
public readonly record struct SplitFractions(double Train, double Validation, double Test)
{
    /// <summary>The common protocol: 70 % train, 15 % validation, 15 % test.</summary>
    public static SplitFractions Default => new(0.70, 0.15, 0.15);
}

/// <summary>
/// A chronological train / validation / test split of a series of <see cref="Length"/> time steps into three ordered,
/// non-overlapping time ranges (no shuffling: the validation part follows the training part, the test part follows
/// the validation part). A part is the set of time indices whose values are <em>targets</em> of that part (see
/// <see cref="ForecastWindows"/>); inputs may reach back into the preceding part.
/// </summary>
public sealed class ChronologicalSplit
{
    // Fraction products like 22896 · 0.7 = 16027.199999999999 are floored; the tolerance keeps 10 · 0.7 at 7, not 6.
    private const double RoundingTolerance = 1e-9;

    private ChronologicalSplit(int length, TimeRange train, TimeRange validation, TimeRange test)
    {
        Length = length;
        Train = train;
        Validation = validation;
        Test = test;
    }

    /// <summary>
    /// Splits <paramref name="length"/> time steps by fractions, contiguously from index 0: training part
    /// [0, n_train), validation [n_train, n_train + n_val), test after it, with n = floor(length · fraction). When the
    /// fractions sum to 1 the last part with a positive fraction also takes the values lost to rounding, so the parts
    /// cover the series; when they sum to less than 1 the last (1 - sum) of the series is left out. With the default
    /// 70 / 15 / 15 on 22,896 hourly values: train [0, 16027), validation [16027, 19461), test [19461, 22896).
    /// </summary>
    /// <param name="length">Time steps of the series (≥ 1).</param>
    /// <param name="fractions">Part fractions; each finite and in [0, 1], train &gt; 0, sum ≤ 1.</param>
    /// <exception cref="EmptySeriesException"><paramref name="length"/> is 0.</exception>
    /// <exception cref="InvalidSplitException">A fraction is invalid, the sum exceeds 1, or a positive fraction leaves an empty part (the message gives the length that would work).</exception>
    public static ChronologicalSplit Create(int length, SplitFractions fractions)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "A length cannot be negative.");
        CheckFractions(fractions);
        if (length == 0) throw new EmptySeriesException("Cannot split an empty series.", nameof(length));
        if (!TryCompute(length, fractions, out var train, out var validation, out var test, out string? emptyPart))
        {
            int needed = MinimumLength(fractions);
            throw new InvalidSplitException(
                $"The split {Describe(fractions)} of {length} values leaves the {emptyPart} part empty; at least {needed} values are needed.");
        }
        return new ChronologicalSplit(length, train, validation, test);
    }

    /// <summary>Splits by the default fractions 70 / 15 / 15 (see <see cref="Create(int, SplitFractions)"/>).</summary>
    public static ChronologicalSplit Create(int length) => Create(length, SplitFractions.Default);

    /// <summary>
    /// A split from explicit ranges, for protocols fractions cannot express (for example a validation part that
    /// starts after a masked anomaly). The ranges must lie in [0, <paramref name="length"/>) and be in chronological
    /// order (train, then validation, then test; gaps between them are allowed); validation and test may be empty.
    /// </summary>
    /// <exception cref="InvalidSplitException">The training part is empty, a range reaches past the series, or the ranges overlap or are out of order.</exception>
    public static ChronologicalSplit FromRanges(int length, TimeRange train, TimeRange validation, TimeRange test)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "A length cannot be negative.");
        if (length == 0) throw new EmptySeriesException("Cannot split an empty series.", nameof(length));
        if (train.IsEmpty) throw new InvalidSplitException($"The training part {train} is empty.");
        CheckInside("training", train, length);
        CheckInside("validation", validation, length);
        CheckInside("test", test, length);
        if (!validation.IsEmpty && validation.Start < train.End)
            throw new InvalidSplitException($"The validation part {validation} must start at or after the end of the training part {train}.");
        int lastEnd = validation.IsEmpty ? train.End : validation.End;
        if (!test.IsEmpty && test.Start < lastEnd)
            throw new InvalidSplitException($"The test part {test} must start at or after the end of the parts before it (index {lastEnd}).");
        return new ChronologicalSplit(length, train, validation, test);
    }

    /// <summary>Time steps of the series that was split.</summary>
    public int Length { get; }

    /// <summary>The training part: the scaler is fitted here, the network trained on its targets.</summary>
    public TimeRange Train { get; }

    /// <summary>The validation part (may be empty).</summary>
    public TimeRange Validation { get; }

    /// <summary>The test part (may be empty).</summary>
    public TimeRange Test { get; }

    /// <summary>The range of a part.</summary>
    public TimeRange this[SplitPart part] => part switch
    {
        SplitPart.Train => Train,
        SplitPart.Validation => Validation,
        SplitPart.Test => Test,
        _ => throw new ArgumentOutOfRangeException(nameof(part), part, "Unknown split part."),
    };

    /// <summary>The split as "train [a, b), validation [b, c), test [c, d) of n".</summary>
    public override string ToString() => $"train {Train}, validation {Validation}, test {Test} of {Length}";

    private static void CheckInside(string name, TimeRange range, int length)
    {
        if (range.End > length) throw new InvalidSplitException($"The {name} part {range} reaches past the end of the series ({length} values).");
    }

    internal static void CheckFractions(SplitFractions f)
    {
        if (!double.IsFinite(f.Train) || !double.IsFinite(f.Validation) || !double.IsFinite(f.Test)
            || f.Train < 0 || f.Validation < 0 || f.Test < 0 || f.Train > 1 || f.Validation > 1 || f.Test > 1)
            throw new InvalidSplitException($"Split fractions must be finite and between 0 and 1; got {Describe(f)}.");
        if (f.Train == 0) throw new InvalidSplitException($"The training fraction must be positive; got {Describe(f)}.");
        double sum = f.Train + f.Validation + f.Test;
        if (sum > 1 + RoundingTolerance)
            throw new InvalidSplitException($"Split fractions must sum to at most 1; {Describe(f)} sums to {ForecastFormat.Num(sum)}.");
    }

    private static bool TryCompute(int length, SplitFractions f, out TimeRange train, out TimeRange validation, out TimeRange test, out string? emptyPart)
    {
        int nTrain = Floor(length, f.Train), nVal = Floor(length, f.Validation), nTest = Floor(length, f.Test);
        if (Math.Abs(f.Train + f.Validation + f.Test - 1) <= RoundingTolerance)
        {
            int rest = length - nTrain - nVal - nTest;
            if (f.Test > 0) nTest += rest;
            else if (f.Validation > 0) nVal += rest;
            else nTrain += rest;
        }
        train = new TimeRange(0, nTrain);
        validation = TimeRange.FromLength(nTrain, nVal);
        test = TimeRange.FromLength(nTrain + nVal, nTest);
        emptyPart = nTrain == 0 ? "training" : f.Validation > 0 && nVal == 0 ? "validation" : f.Test > 0 && nTest == 0 ? "test" : null;
        return emptyPart is null;
    }

    /// <summary>The smallest series length this split leaves no part empty for (saturates at <see cref="int.MaxValue"/>).</summary>
    internal static int MinimumLength(SplitFractions f)
    {
        // A part of fraction p > 0 is non-empty once floor(n·p) ≥ 1, so no length below about 1 / p works, except for
        // the part that takes the rounding remainder (non-empty as soon as n·p > 0): start just under the bound of
        // the others and step up over the rounding slack.
        bool sumIsOne = Math.Abs(f.Train + f.Validation + f.Test - 1) <= RoundingTolerance;
        SplitPart? remainderTaker = !sumIsOne ? null : f.Test > 0 ? SplitPart.Test : f.Validation > 0 ? SplitPart.Validation : SplitPart.Train;
        double smallest = 1;
        if (remainderTaker != SplitPart.Train) smallest = Math.Min(smallest, f.Train);
        if (f.Validation > 0 && remainderTaker != SplitPart.Validation) smallest = Math.Min(smallest, f.Validation);
        if (f.Test > 0 && remainderTaker != SplitPart.Test) smallest = Math.Min(smallest, f.Test);
        double start = Math.Max(1, Math.Floor(0.999 / smallest));
        if (start >= int.MaxValue - 1024) return int.MaxValue;
        for (int n = (int)start; n < (int)start + 1024; n++)
            if (TryCompute(n, f, out _, out _, out _, out _)) return n;
        return int.MaxValue;
    }

    private static int Floor(int length, double fraction) => (int)Math.Floor(length * fraction + RoundingTolerance);

    private static string Describe(SplitFractions f) =>
        $"train {ForecastFormat.Num(f.Train)} / validation {ForecastFormat.Num(f.Validation)} / test {ForecastFormat.Num(f.Test)}";
}
