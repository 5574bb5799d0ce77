using System.Globalization;
using System.Numerics;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;

namespace Rnn.Simd.Cli.Models;

/// <summary>
/// A batch-1 network state over float spans, whatever the network's element type: the one way the tool steps a
/// trained network (test predictions of <c>train</c>, <c>evaluate</c>, <c>forecast</c>). Each step is the forward
/// recurrence of the chapter (section 2.1): h[t] from x[t] and h[t-1], then the readout y[t] from h[t].
/// </summary>
public abstract class ModelStepper
{
    /// <summary>I, inputs per step.</summary>
    public abstract int InputSize { get; }

    /// <summary>O, outputs per step.</summary>
    public abstract int OutputSize { get; }

    /// <summary>Runs one step: reads I scaled inputs, overwrites O scaled outputs, advances the state.</summary>
    public abstract void Step(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Zeroes the state (the start of a series).</summary>
    public abstract void Reset();

    /// <summary>A stepper over a float network (no conversion).</summary>
    public static ModelStepper For(RecurrentNetwork<float> network) => new FloatStepper(network);

    /// <summary>A stepper over a network of any element type (inputs and outputs converted per step).</summary>
    public static ModelStepper For<T>(RecurrentNetwork<T> network) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        network is RecurrentNetwork<float> f ? new FloatStepper(f) : new ConvertingStepper<T>(network);

    private sealed class FloatStepper(RecurrentNetwork<float> network) : ModelStepper
    {
        private readonly NetworkState<float> _state = network.CreateState();

        public override int InputSize => network.Architecture.InputSize;

        public override int OutputSize => network.Architecture.OutputSize;

        public override void Step(ReadOnlySpan<float> input, Span<float> output) => network.Step(input, output, _state);

        public override void Reset() => _state.Reset();
    }

    /// <summary>
    /// A stepper over a seed ensemble: every member is stepped on the same input and the outputs are averaged in scaled
    /// units (<see cref="EnsembleAverage"/>: summed in member order in double, divided by M, rounded once). One member is
    /// that member's own stepper.
    /// </summary>
    public static ModelStepper For<T>(IReadOnlyList<RecurrentNetwork<T>> members) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("An ensemble needs at least one member.", nameof(members));
        if (members.Count == 1) return For(members[0]);
        var steppers = new ModelStepper[members.Count];
        for (int k = 0; k < steppers.Length; k++) steppers[k] = For(members[k]);
        return new EnsembleStepper(steppers);
    }

    private sealed class EnsembleStepper : ModelStepper
    {
        private readonly ModelStepper[] _members;
        private readonly float[] _stacked;

        public EnsembleStepper(ModelStepper[] members)
        {
            _members = members;
            _stacked = new float[members.Length * members[0].OutputSize];
        }

        public override int InputSize => _members[0].InputSize;

        public override int OutputSize => _members[0].OutputSize;

        public override void Step(ReadOnlySpan<float> input, Span<float> output)
        {
            int o = OutputSize;
            for (int k = 0; k < _members.Length; k++) _members[k].Step(input, _stacked.AsSpan(k * o, o));
            EnsembleAverage.Mean(_stacked, _members.Length, output);
        }

        public override void Reset()
        {
            foreach (ModelStepper m in _members) m.Reset();
        }
    }

    private sealed class ConvertingStepper<T>(RecurrentNetwork<T> network) : ModelStepper where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        private readonly NetworkState<T> _state = network.CreateState();
        private readonly T[] _x = new T[network.Architecture.InputSize];
        private readonly T[] _y = new T[network.Architecture.OutputSize];

        public override int InputSize => _x.Length;

        public override int OutputSize => _y.Length;

        public override void Step(ReadOnlySpan<float> input, Span<float> output)
        {
            for (int i = 0; i < _x.Length; i++) _x[i] = T.CreateTruncating(input[i]);
            network.Step(_x, _y, _state);
            for (int o = 0; o < _y.Length; o++) output[o] = float.CreateTruncating(_y[o]);
        }

        public override void Reset() => _state.Reset();
    }
}

/// <summary>The scaled network inputs of every time of a series from the first one the features allow, and the columns the model reads and predicts.</summary>
/// <param name="Values">(T - FirstTime) x I scaled inputs, time-major: row r is the input of time FirstTime + r.</param>
/// <param name="FirstTime">The first input time: max(0, L_max - h) with lag features (earlier rows would read before the series start), else 0.</param>
/// <param name="Length">T.</param>
/// <param name="InputSize">I.</param>
/// <param name="InputColumns">The series column of each input column (derived inputs, if any, come after them).</param>
/// <param name="TargetColumns">The series column of each target (C_t).</param>
public sealed record ModelInputs(float[] Values, int FirstTime, int Length, int InputSize, IReadOnlyList<int> InputColumns, IReadOnlyList<int> TargetColumns);

/// <summary>
/// Runs a trained forecasting network over a series: its scaled inputs at every time (built by
/// <see cref="ForecastWindows"/>, so whatever a window row holds is what the network reads), its predictions on one part
/// of a split, and the values after the series end, one-shot or generative.
/// </summary>
/// <remarks>
/// A candidate for the library (Forecasting): "inputs of every time of a series" and "forecast past the end" are what
/// any user of a saved model needs. They live in the CLI until the library's forecasting API settles.
/// </remarks>
public static class ModelRunner
{
    /// <summary>
    /// The scaled network inputs of every time E..T-1 of <paramref name="series"/> ((T - E) x I, time-major), exactly as
    /// <see cref="ForecastWindows.Create"/> builds a row with <paramref name="scaler"/> and <paramref name="options"/>;
    /// E = <see cref="FeatureSpec.EarliestInputTime"/> (0 without lag features).
    /// </summary>
    /// <remarks>
    /// Windows have a row only for an input time whose target lies inside the series, so the series is extended by h
    /// copies of its last row and the windows are cut for the targets [h, T + h): their rows are the input times E..T-1
    /// (and, with multi-output targets, h - 1 more, dropped). A row of time t &lt; T reads the series up to t only (a lag
    /// L ≥ h reads t + h - L ≤ t), so the padding supplies nothing but unused targets.
    /// </remarks>
    /// <param name="series">The series in original units.</param>
    /// <param name="scaler">The model's scaler.</param>
    /// <param name="options">The model's forecast options.</param>
    /// <param name="mask">Excluded target times (affects only weights, never inputs), or null.</param>
    public static ModelInputs SeriesInputs(TimeSeries series, StandardScaler scaler, ForecastOptions options, TimeMask? mask)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(scaler);
        ArgumentNullException.ThrowIfNull(options);
        int n = series.Length, c = series.ColumnCount, h = options.Horizon;
        if ((long)n + h > int.MaxValue / Math.Max(c, 1))
            throw new CliException(string.Create(CultureInfo.InvariantCulture, $"The series ({n} steps) with horizon {h} is too long."));
        var padded = new float[(n + h) * c];
        series.Values.CopyTo(padded);
        ReadOnlySpan<float> last = series.Row(n - 1);
        for (int k = 0; k < h; k++) last.CopyTo(padded.AsSpan((n + k) * c, c));
        var extended = new TimeSeries(padded, c, series.ColumnNames);
        ForecastWindows rows = ForecastWindows.Create(extended, scaler, new TimeRange(h, n + h), options, mask);
        int first = options.Features.EarliestInputTime(h);
        if (first >= n)
            throw new CliException(string.Create(CultureInfo.InvariantCulture,
                $"The series has {n} steps; the model's inputs ({options.Features}) read {options.Features.MaxLag - h} steps back, so it needs more than {first}."));
        if (rows.FirstTime != first || rows.Length < n - first)
            throw new InvalidOperationException($"The windows over the extended series start at input time {rows.FirstTime} with {rows.Length} rows; expected time {first} and at least {n - first}.");
        return new ModelInputs(rows.Inputs[..((n - first) * rows.InputSize)].ToArray(), first, n, rows.InputSize, rows.InputColumns, rows.TargetColumns);
    }

    /// <summary>
    /// The network's outputs on the rows of <paramref name="part"/>, in original units (T_p x O, aligned with the part's
    /// targets): a fresh batch-1 state is run over the inputs of every time before the part's first input time, then
    /// over the part's own rows, so each prediction has the whole history before it, as in use.
    /// </summary>
    /// <param name="stepper">The network.</param>
    /// <param name="series">The inputs of every time of the series (<see cref="SeriesInputs"/>).</param>
    /// <param name="part">The windows of the part, built with the same scaler and options.</param>
    public static float[] PredictPart(ModelStepper stepper, ModelInputs series, ForecastWindows part)
    {
        ArgumentNullException.ThrowIfNull(series);
        ReadOnlySpan<float> seriesInputs = series.Values;
        int first = series.FirstTime;
        ArgumentNullException.ThrowIfNull(stepper);
        ArgumentNullException.ThrowIfNull(part);
        int inSize = part.InputSize, outSize = part.OutputSize;
        if (stepper.InputSize != inSize || stepper.OutputSize != outSize)
            throw new ArgumentException($"The network maps {stepper.InputSize} inputs to {stepper.OutputSize} outputs; the windows have {inSize} and {outSize}.");
        if (part.FirstTime < first || seriesInputs.Length < (part.FirstTime - first) * inSize)
            throw new ArgumentException($"The series inputs cover times {first}..{first + seriesInputs.Length / Math.Max(inSize, 1) - 1}; the part starts at input time {part.FirstTime}.");
        stepper.Reset();
        var scratch = new float[outSize];
        for (int t = first; t < part.FirstTime; t++) stepper.Step(seriesInputs.Slice((t - first) * inSize, inSize), scratch);
        var predictions = new float[part.Length * outSize];
        ReadOnlySpan<float> inputs = part.Inputs;
        for (int r = 0; r < part.Length; r++)
            stepper.Step(inputs.Slice(r * inSize, inSize), predictions.AsSpan(r * outSize, outSize));
        part.InverseTransformOutputs(predictions, predictions);
        return predictions;
    }

    /// <summary>
    /// One-shot forecast of the h values after the series end, in original units (h x C_t, step-major), from a state
    /// run over the whole series. Single-step model (the state at time t predicts y[t + h]): the outputs of the last h
    /// steps, times T - h .. T - 1, give y[T] .. y[T + h - 1]. Multi-output model: the last step's outputs give them.
    /// </summary>
    /// <param name="stepper">The network.</param>
    /// <param name="series">The inputs of every time of the series (<see cref="SeriesInputs"/>).</param>
    /// <param name="options">The model's forecast options.</param>
    /// <param name="scaler">The model's scaler (to return original units).</param>
    public static float[] ForecastOneShot(ModelStepper stepper, ModelInputs series, ForecastOptions options, StandardScaler scaler)
    {
        ArgumentNullException.ThrowIfNull(series);
        ReadOnlySpan<float> seriesInputs = series.Values;
        int length = series.Length, first = series.FirstTime;
        IReadOnlyList<int> targetColumns = series.TargetColumns;
        ArgumentNullException.ThrowIfNull(stepper);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(targetColumns);
        ArgumentNullException.ThrowIfNull(scaler);
        int h = options.Horizon, ct = targetColumns.Count, inSize = stepper.InputSize, outSize = stepper.OutputSize;
        bool single = options.Mode == TargetMode.SingleStep;
        int needed = single ? h : 1;
        if (length - first < needed)
            throw new CliException(string.Create(CultureInfo.InvariantCulture,
                $"The series has {length} steps, {length - first} of them with complete inputs; a one-shot forecast with this single-step model of horizon {h} reads the outputs of the last {h} steps, so it needs at least {first + h}."));
        var result = new float[h * ct];
        var scratch = new float[outSize];
        stepper.Reset();
        for (int t = first; t < length; t++)
        {
            stepper.Step(seriesInputs.Slice((t - first) * inSize, inSize), scratch);
            if (single && t >= length - h) scratch.AsSpan(0, ct).CopyTo(result.AsSpan((t - (length - h)) * ct, ct));
        }
        if (!single) scratch.AsSpan(0, h * ct).CopyTo(result);
        ToOriginal(result, targetColumns, scaler);
        return result;
    }

    /// <summary>
    /// Generative forecast (the chapter's generative mode): a state is run over the whole series, then each prediction is
    /// fed back as the next input for <paramref name="steps"/> steps. Only for a horizon-1 model whose inputs are exactly
    /// its target columns in the same order (checked by <see cref="GenerativeProblem"/>): the scaled output of one step is
    /// then the scaled input of the next. Returns steps x C_t values in original units, step-major.
    /// </summary>
    public static float[] ForecastGenerative(ModelStepper stepper, ModelInputs series, int steps, StandardScaler scaler)
    {
        ArgumentNullException.ThrowIfNull(series);
        ReadOnlySpan<float> seriesInputs = series.Values;
        int length = series.Length;
        IReadOnlyList<int> targetColumns = series.TargetColumns;
        if (series.FirstTime != 0) throw new ArgumentException("A generative forecast needs a model without lag inputs.");
        ArgumentNullException.ThrowIfNull(stepper);
        ArgumentNullException.ThrowIfNull(targetColumns);
        ArgumentNullException.ThrowIfNull(scaler);
        int ct = targetColumns.Count, inSize = stepper.InputSize;
        if (stepper.OutputSize != ct || inSize != ct)
            throw new ArgumentException($"A generative forecast needs as many inputs as outputs ({ct}); the network has {inSize} inputs and {stepper.OutputSize} outputs.");
        if (length < 1) throw new CliException("The series is empty.");
        var result = new float[steps * ct];
        var y = new float[ct];
        stepper.Reset();
        for (int t = 0; t < length; t++) stepper.Step(seriesInputs.Slice(t * inSize, inSize), y);
        // y now predicts y[T]; each step feeds its own prediction back: x[T + k] = ŷ[T + k].
        var x = new float[ct];
        for (int k = 0; k < steps; k++)
        {
            y.CopyTo(result.AsSpan(k * ct, ct));
            if (k == steps - 1) break;
            y.CopyTo(x, 0);
            stepper.Step(x, y);
        }
        ToOriginal(result, targetColumns, scaler);
        return result;
    }

    /// <summary>
    /// Why the model cannot forecast generatively, or null when it can: horizon 1, single-step targets, the input columns
    /// equal to the target columns in the same order, and no inputs beyond those columns (derived features cannot be fed
    /// back from a prediction).
    /// </summary>
    public static string? GenerativeProblem(ForecastOptions options, IReadOnlyList<int> inputColumns, IReadOnlyList<int> targetColumns, int networkInputSize)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(inputColumns);
        ArgumentNullException.ThrowIfNull(targetColumns);
        if (options.Horizon != 1)
            return string.Create(CultureInfo.InvariantCulture, $"the model was trained for horizon {options.Horizon}; feeding predictions back needs a model of horizon 1 (train --horizon 1)");
        if (options.Mode != TargetMode.SingleStep)
            return "the model has multi-output targets; feeding predictions back needs single-step targets (train --mode single --horizon 1)";
        if (!inputColumns.SequenceEqual(targetColumns))
            return $"the model reads columns [{string.Join(", ", inputColumns)}] but predicts columns [{string.Join(", ", targetColumns)}]; its predictions cannot be its next inputs";
        if (networkInputSize != inputColumns.Count)
            return string.Create(CultureInfo.InvariantCulture, $"the network takes {networkInputSize} inputs per step but only {inputColumns.Count} are series columns; derived inputs cannot be fed back from a prediction");
        return null;
    }

    private static void ToOriginal(Span<float> values, IReadOnlyList<int> targetColumns, StandardScaler scaler)
    {
        int ct = targetColumns.Count;
        for (int i = 0; i < values.Length; i++) values[i] = scaler.InverseTransform(values[i], targetColumns[i % ct]);
    }
}
