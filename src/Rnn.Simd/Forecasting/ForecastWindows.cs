using System.Globalization;
using System.Numerics;
using Rnn.Simd.Training;

namespace Rnn.Simd.Forecasting;

/// <summary>
/// One part of a split (its <see cref="TargetRange"/>) turned into time-major arrays for a recurrent network:
/// <see cref="Inputs"/> (T x I), <see cref="Targets"/> (T x O) and <see cref="Weights"/> (T x O), scaled with a
/// <see cref="StandardScaler"/>, plus the true targets in original units for evaluation.
/// </summary>
/// <remarks>
/// <para><b>Alignment.</b> Row r of every array belongs to the input time t = <see cref="FirstTime"/> + r. The network
/// reads the rows in order (one row per recurrent step), and at row r it has seen the series up to and including time
/// t and nothing later:</para>
/// <list type="bullet">
/// <item>Inputs[r·I .. r·I + I) = the feature row of time t (<see cref="ForecastOptions.Features"/>; with the default
///   <see cref="FeatureSpec.ValueOnly"/>, Inputs[r·I + i] = scaled value of input column InputColumns[i] at time t).
///   Lag features y[t + h - L] need t ≥ L_max - h: rows start at input time max(0, L_max - h, S - h), so a part at the
///   series start loses its first max(h, L_max) targets (they are dropped, not masked).</item>
/// <item><see cref="TargetMode.SingleStep"/> (O = C_t target columns): Targets[r·O + j] = scaled y[t + h] of target
///   column TargetColumns[j]. Rows run over t = max(0, S - h) .. E - h - 1 for the target range [S, E), so the
///   targets are exactly the times max(S, h) .. E - 1: every target of the part once, except the first h times of the
///   series, which no input precedes by h.</item>
/// <item><see cref="TargetMode.MultiOutput"/> (O = h·C_t, step-major): Targets[r·O + (k - 1)·C_t + j] = scaled
///   y[t + k] of TargetColumns[j], k = 1..h. Rows run over t = max(0, S - h) .. E - 2, every row with at least one
///   target inside [S, E); a target time outside [S, E) (in the neighbouring part, or past the series end, where
///   the stored target is 0) has weight 0. So each time of the part is the target of horizon step k exactly once.</item>
/// </list>
/// <para>Input times may precede the part (by up to h steps): the input of the first validation targets comes from
/// the end of the training part, as it would in use. With single-step targets the rows of consecutive parts of a
/// split tile the input times without overlap (train ends at input time E_train - h - 1, validation starts at
/// E_train - h), so a trainer can run the network across them and carry its state; with multi-output targets
/// consecutive parts share h - 1 rows. A stateful trainer that starts a part cold can first run the network over the
/// series before <see cref="FirstTime"/> to warm its state.</para>
/// <para><b>Weights and masking.</b> Weights[r·O + o] is 1 when the target time of (r, o) lies in
/// <see cref="TargetRange"/> and the <see cref="Mask"/> does not exclude it, else 0. A loss or metric weighted by them
/// (Σ w·e² / Σ w) gets no contribution at all from a weight-0 target; every evaluation here uses them. Targets of
/// weight 0 still hold finite values (never NaN) so that unweighted code cannot be poisoned, but a trainer must
/// weight its loss by <see cref="Weights"/> or it would learn masked targets and, with multi-output targets, peek at
/// the next part.</para>
/// </remarks>
public sealed class ForecastWindows
{
    private readonly float[] _inputs, _targets, _weights, _actual;
    private readonly int[] _inputColumns, _targetColumns;

    private ForecastWindows(TimeSeries series, StandardScaler scaler, ForecastOptions options, TimeMask mask, TimeRange targetRange,
        int firstTime, int length, int[] inputColumns, int[] targetColumns)
    {
        Series = series;
        Scaler = scaler;
        Options = options;
        Mask = mask;
        TargetRange = targetRange;
        FirstTime = firstTime;
        Length = length;
        _inputColumns = inputColumns;
        _targetColumns = targetColumns;
        InputSize = options.Features.InputSize(inputColumns.Length, targetColumns.Length);
        OutputSize = targetColumns.Length * options.StepsPerRow;
        _inputs = new float[length * InputSize];
        _targets = new float[length * OutputSize];
        _weights = new float[length * OutputSize];
        _actual = new float[length * OutputSize];
    }

    /// <summary>Builds the windows whose targets are the times of <paramref name="targetRange"/> (a part of a split).</summary>
    /// <param name="series">The series in original units (not scaled).</param>
    /// <param name="scaler">The scaler fitted on the training part (same column count as the series).</param>
    /// <param name="targetRange">The part: target times [S, E), inside the series.</param>
    /// <param name="options">Horizon, target mode, input and target columns.</param>
    /// <param name="mask">Excluded target times, or null for none.</param>
    /// <exception cref="EmptySeriesException"><paramref name="targetRange"/> is empty.</exception>
    /// <exception cref="SeriesTooShortException">No target of the range has an input h steps (multi-output: 1 step) before it.</exception>
    /// <exception cref="ArgumentException">The range reaches past the series, a column does not exist, or the scaler has another column count.</exception>
    public static ForecastWindows Create(TimeSeries series, StandardScaler scaler, TimeRange targetRange, ForecastOptions options, TimeMask? mask = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(scaler);
        ArgumentNullException.ThrowIfNull(options);
        mask ??= TimeMask.None;
        int c = series.ColumnCount;
        if (scaler.ColumnCount != c)
            throw new ArgumentException($"The scaler was fitted on {scaler.ColumnCount} column(s); the series has {c}.", nameof(scaler));
        if (targetRange.End > series.Length)
            throw new ArgumentOutOfRangeException(nameof(targetRange), targetRange, $"The target range reaches past the end of the series ({series.Length} values).");
        if (targetRange.IsEmpty)
            throw new EmptySeriesException($"The target range {targetRange} is empty: there is nothing to predict.", nameof(targetRange));
        if (options.Features.HasCalendar && series.Time is null)
            throw new ArgumentException($"The features '{options.Features}' read the timestamps of the series, and this series has none (TimeSeries.WithTime; a file needs a time column).", nameof(series));
        int[] inputColumns = options.ResolveInputs(c, nameof(options));
        int[] targetColumns = options.ResolveTargets(c, nameof(options));

        int h = options.Horizon;
        int earliest = options.Features.EarliestInputTime(h);                // lag features need y[t + h - L_max] ≥ index 0
        int first = Math.Max(earliest, targetRange.Start - h);
        int lastTargetStep = options.Mode == TargetMode.SingleStep ? h : 1; // the nearest target of a row
        int end = targetRange.End - lastTargetStep;                         // one past the last row
        if (end <= first)
        {
            int needed = Math.Max(earliest, targetRange.Start - h) + lastTargetStep + 1;
            throw new SeriesTooShortException(
                $"The target range {targetRange} has no target that an input precedes by {lastTargetStep} step(s) (horizon {h}, {options.Mode}): " +
                $"the first input is at time {earliest}{(earliest > 0 ? $" (the lag {options.Features.MaxLag} must reach index 0 or later)" : "")}, " +
                $"so a part must end at index {needed} or later; this one ends at {targetRange.End}.",
                needed, targetRange.End, nameof(targetRange));
        }

        var w = new ForecastWindows(series, scaler, options, mask, targetRange, first, end - first, inputColumns, targetColumns);
        w.Fill();
        return w;
    }

    private void Fill()
    {
        ReadOnlySpan<float> v = Series.Values;
        int c = Series.ColumnCount, n = Series.Length, ct = _targetColumns.Length, steps = Options.StepsPerRow;
        ReadOnlySpan<double> mean = Scaler.Mean, std = Scaler.Std;
        var view = new SeriesView(v, c);
        FeatureSpec features = Options.Features;
        for (int r = 0; r < Length; r++)
        {
            int t = FirstTime + r;
            features.FillRow(view, t, Options.Horizon, _inputColumns, _targetColumns, mean, std, _inputs.AsSpan(r * InputSize, InputSize), Series.Time);
            for (int k = 0; k < steps; k++)
            {
                int s = t + (Options.Mode == TargetMode.SingleStep ? Options.Horizon : k + 1);
                bool inSeries = s < n;
                float weight = TargetRange.Contains(s) && !Mask.IsExcluded(s) ? 1f : 0f;
                for (int jt = 0; jt < ct; jt++)
                {
                    int o = r * OutputSize + k * ct + jt;
                    int j = _targetColumns[jt];
                    float y = inSeries ? v[s * c + j] : 0f;
                    _actual[o] = y;
                    _targets[o] = inSeries ? (float)((y - mean[j]) / std[j]) : 0f;
                    _weights[o] = weight;
                    if (weight != 0) IncludedCount++;
                }
            }
        }
    }

    /// <summary>The series in original units the windows were cut from.</summary>
    public TimeSeries Series { get; }

    /// <summary>The scaler applied to inputs and targets (and inverted on predictions by <see cref="EvaluateScaled"/>).</summary>
    public StandardScaler Scaler { get; }

    /// <summary>Horizon, target mode and columns.</summary>
    public ForecastOptions Options { get; }

    /// <summary>The excluded target times (<see cref="TimeMask.None"/> when none).</summary>
    public TimeMask Mask { get; }

    /// <summary>The part: target times [S, E) that count (weight 1 unless masked).</summary>
    public TimeRange TargetRange { get; }

    /// <summary>Time index of the input of row 0; row r reads time <see cref="FirstTime"/> + r.</summary>
    public int FirstTime { get; }

    /// <summary>T, the number of rows (recurrent steps).</summary>
    public int Length { get; }

    /// <summary>I, values per input row.</summary>
    public int InputSize { get; }

    /// <summary>O, values per target row: target columns (single step) or h · target columns (multi-output).</summary>
    public int OutputSize { get; }

    /// <summary>h, the forecast horizon.</summary>
    public int Horizon => Options.Horizon;

    /// <summary>Single step or multi-output.</summary>
    public TargetMode Mode => Options.Mode;

    /// <summary>The series columns the value features read (the input columns, not the network inputs when features are more than values).</summary>
    public IReadOnlyList<int> InputColumns => _inputColumns;

    /// <summary>The series column of each target column (C_t values); output o predicts column TargetColumns[o mod C_t].</summary>
    public IReadOnlyList<int> TargetColumns => _targetColumns;

    /// <summary>Scaled inputs, T x I time-major (see the remarks for the alignment).</summary>
    public ReadOnlySpan<float> Inputs => _inputs;

    /// <summary>Scaled targets, T x O time-major; 0 where the target time lies past the series end.</summary>
    public ReadOnlySpan<float> Targets => _targets;

    /// <summary>Per-target weights, T x O: 1 for a target time inside <see cref="TargetRange"/> and not masked, else 0.</summary>
    public ReadOnlySpan<float> Weights => _weights;

    /// <summary>The true targets in original units, T x O (what predictions are evaluated against); 0 past the series end.</summary>
    public ReadOnlySpan<float> ActualTargets => _actual;

    /// <summary>Number of targets of weight 1.</summary>
    public int IncludedCount { get; private set; }

    /// <summary>
    /// The windows as a <see cref="Trainer{T}"/>'s data: a new <see cref="SequenceData{T}"/> of S = T steps whose step r
    /// pairs input row r (<see cref="Inputs"/>, I values) with target row r (<see cref="Targets"/>, O values), weighted by
    /// <see cref="Weights"/> (so masked targets and targets outside <see cref="TargetRange"/> count for nothing). The
    /// arrays are copies: the windows stay unchanged whatever is done with the result. Rows are in time order, as a
    /// stateful trainer must read them.
    /// </summary>
    /// <example>
    /// <code>
    /// TrainingResult r = trainer.Fit(data.Train.ToSequenceData(), data.Validation!.ToSequenceData());
    /// </code>
    /// </example>
    public SequenceData<float> ToSequenceData() =>
        new((float[])_inputs.Clone(), (float[])_targets.Clone(), InputSize, OutputSize, (float[])_weights.Clone());

    /// <summary>
    /// As <see cref="ToSequenceData()"/> in element type <typeparamref name="T"/> (double for a gradient check or a
    /// double network): every value converted from float, exactly for double.
    /// </summary>
    /// <typeparam name="T">float or double.</typeparam>
    public SequenceData<T> ToSequenceData<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        new(Convert<T>(_inputs), Convert<T>(_targets), InputSize, OutputSize, Convert<T>(_weights));

    private static T[] Convert<T>(float[] values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var result = new T[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = T.CreateTruncating(values[i]);
        return result;
    }

    /// <summary>Horizon step k of output <paramref name="output"/>: h for single step, output / C_t + 1 for multi-output.</summary>
    public int HorizonStep(int output)
    {
        CheckOutput(output);
        return Mode == TargetMode.SingleStep ? Horizon : output / _targetColumns.Length + 1;
    }

    /// <summary>The series column output <paramref name="output"/> predicts.</summary>
    public int TargetColumn(int output)
    {
        CheckOutput(output);
        return _targetColumns[output % _targetColumns.Length];
    }

    /// <summary>The time index row <paramref name="row"/>'s output <paramref name="output"/> predicts: FirstTime + row + HorizonStep(output).</summary>
    public int TargetTime(int row, int output)
    {
        if ((uint)row >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(row), row, $"There are {Length} rows.");
        return FirstTime + row + HorizonStep(output);
    }

    /// <summary>Converts network outputs (T x O, scaled) to original units, output by output with the scaler of its target column. Overwrites; may be the same span.</summary>
    public void InverseTransformOutputs(ReadOnlySpan<float> scaled, Span<float> original)
    {
        CheckPredictions(scaled, nameof(scaled));
        if (original.Length < scaled.Length) ThrowHelper.ThrowDestinationTooShort(nameof(original), scaled.Length, original.Length);
        ReadOnlySpan<double> mean = Scaler.Mean, std = Scaler.Std;
        int ct = _targetColumns.Length;
        for (int i = 0; i < scaled.Length; i++)
        {
            int j = _targetColumns[i % OutputSize % ct];
            original[i] = (float)(scaled[i] * std[j] + mean[j]);
        }
    }

    /// <summary>Metrics of predictions in original units (T x O, aligned with <see cref="Targets"/>) over the included targets.</summary>
    /// <exception cref="NonFiniteValueException">An included prediction is not finite (its row, output and target time are named).</exception>
    /// <exception cref="EmptySeriesException">Every target is masked.</exception>
    public ForecastMetrics Evaluate(ReadOnlySpan<float> predictions)
    {
        CheckPredictions(predictions, nameof(predictions));
        CheckFinite(predictions);
        return ForecastMetrics.Compute(predictions, _actual, _weights);
    }

    /// <summary>Metrics of network outputs (T x O, scaled): inverse-scaled per target column first, then as <see cref="Evaluate(ReadOnlySpan{float})"/>.</summary>
    public ForecastMetrics EvaluateScaled(ReadOnlySpan<float> scaledPredictions)
    {
        CheckPredictions(scaledPredictions, nameof(scaledPredictions));
        CheckFinite(scaledPredictions);
        var original = new float[scaledPredictions.Length];
        InverseTransformOutputs(scaledPredictions, original);
        return ForecastMetrics.Compute(original, _actual, _weights);
    }

    /// <summary>
    /// Metrics of one output only (one horizon step of one target column) of predictions in original units (T x O):
    /// for multi-output targets, the error at horizon step <see cref="HorizonStep"/>(<paramref name="output"/>).
    /// </summary>
    public ForecastMetrics Evaluate(ReadOnlySpan<float> predictions, int output)
    {
        CheckPredictions(predictions, nameof(predictions));
        CheckOutput(output);
        CheckFinite(predictions);
        var p = new float[Length];
        var y = new float[Length];
        var w = new float[Length];
        for (int r = 0; r < Length; r++)
        {
            int i = r * OutputSize + output;
            p[r] = predictions[i];
            y[r] = _actual[i];
            w[r] = _weights[i];
        }
        return ForecastMetrics.Compute(p, y, w);
    }

    private void CheckFinite(ReadOnlySpan<float> predictions)
    {
        for (int i = 0; i < predictions.Length; i++)
        {
            if (_weights[i] == 0 || float.IsFinite(predictions[i])) continue;
            int r = i / OutputSize, o = i % OutputSize;
            int s = FirstTime + r + HorizonStep(o), j = TargetColumn(o);
            throw new NonFiniteValueException(string.Create(CultureInfo.InvariantCulture,
                $"The prediction of row {r} (input time {FirstTime + r}), output {o} (target time {s}, column {j} '{Series.ColumnNames[j]}') is a {NonFiniteValueException.Describe(predictions[i])}."),
                s, j, predictions[i], null, nameof(predictions));
        }
    }

    private void CheckPredictions(ReadOnlySpan<float> predictions, string paramName)
    {
        if (predictions.Length != _targets.Length)
            throw new ArgumentException($"Predictions must be T x O = {Length} x {OutputSize} = {_targets.Length} values; got {predictions.Length}.", paramName);
    }

    private void CheckOutput(int output)
    {
        if ((uint)output >= (uint)OutputSize) throw new ArgumentOutOfRangeException(nameof(output), output, $"There are {OutputSize} outputs.");
    }

    /// <summary>A summary: rows, sizes, first input time, target range and included count.</summary>
    public override string ToString() =>
        $"{Length} rows x {InputSize} inputs -> {OutputSize} outputs ({Mode}, h={Horizon}), inputs from time {FirstTime}, targets {TargetRange}, {IncludedCount} included";
}
