using System.Globalization;
using System.Numerics;
using Rnn.Simd.Network;

namespace Rnn.Simd.Forecasting;

/// <summary>
/// Forecasts the values that follow a history with a trained network, or with a seed ensemble of M networks whose
/// outputs are averaged, in original units: <see cref="Forecast(ReadOnlySpan{float}, Span{float})"/> (one shot: the
/// model's output after the history, y[N - 1 + h] or y[N .. N + h - 1]), <see cref="ForecastPath(ReadOnlySpan{float}, Span{float})"/>
/// (the next h values one shot), <see cref="Predict(ForecastWindows)"/> / <see cref="PredictRows(ReadOnlySpan{float}, int, Span{float})"/>
/// (the one-shot outputs of every row of a part of a series, for evaluation) and
/// <see cref="Generate(ReadOnlySpan{float}, int, Span{float})"/> (generative, free-running mode of the chapter: a
/// one-step-ahead model fed its own predictions for as many steps as asked).
/// </summary>
/// <remarks>
/// <para>The forecaster binds the network(s) to the <see cref="ForecastOptions"/> and <see cref="StandardScaler"/> they
/// were trained with, and owns one batch-1 state per member, one input row and the output rows: after construction,
/// no method with span arguments allocates (spans in, spans out), whatever the number of steps. It is therefore not
/// thread-safe; use one forecaster per thread (they may share the networks).</para>
/// <para>Every method starts from zero states and runs every member over the history's feature rows (the same rows
/// <see cref="ForecastWindows"/> builds: times max(0, L_max - h) .. N - 1 of an N-step history), so a forecast
/// equals the output a training-style chronological run would give at the last history row.</para>
/// <para>The networks may be float or double (<see cref="ElementType"/>). Feature rows are built in float as for
/// training; a double network reads them widened to double, and its outputs are rounded to float before they are
/// averaged and inverse-scaled, so a double model's forecast is its float-rounded outputs unscaled.</para>
/// <para>An ensemble's output is the element-wise mean of the members' outputs in scaled units
/// (<see cref="EnsembleAverage"/>), inverse-scaled once; in generative mode that mean is the value fed back to every
/// member. One code path serves M = 1, whose result is the single network's bit for bit.</para>
/// </remarks>
public sealed class Forecaster
{
    private readonly Members _members;
    private readonly float[] _input, _output, _memberOutputs;
    private readonly int[] _inputColumns, _targetColumns;
    private readonly double[] _mean, _std;
    private readonly string? _generativeProblem;

    /// <summary>Binds a trained float network to its data options and scaler.</summary>
    /// <param name="network">The trained network (read, never modified).</param>
    /// <param name="scaler">The scaler it was trained with (fitted on the training part), one entry per series column.</param>
    /// <param name="options">The options it was trained with (horizon, mode, columns, features).</param>
    /// <exception cref="ArgumentException">The network's input or output size differs from what the options give for the scaler's column count.</exception>
    public Forecaster(RecurrentNetwork<float> network, StandardScaler scaler, ForecastOptions options)
        : this(new FloatMembers([network ?? throw new ArgumentNullException(nameof(network))]), scaler, options, nameof(network))
    {
    }

    /// <summary>
    /// Binds a seed ensemble of float networks (M ≥ 1 networks trained on the same data with the same options, typically
    /// from different seeds) to its data options and scaler; its forecasts average the members' outputs in scaled units.
    /// </summary>
    /// <param name="members">The trained networks, member 0 first (read, never modified); the list is copied.</param>
    /// <param name="scaler">The scaler they were trained with, one entry per series column.</param>
    /// <param name="options">The options they were trained with.</param>
    /// <exception cref="ArgumentException">The list is empty, a member is null, or a member's input or output size
    /// differs from what the options give (the message names member k).</exception>
    public Forecaster(IReadOnlyList<RecurrentNetwork<float>> members, StandardScaler scaler, ForecastOptions options)
        : this(new FloatMembers(Copy(members)), scaler, options, nameof(members))
    {
    }

    /// <summary>Binds a trained double network to its data options and scaler (see the remarks for the arithmetic).</summary>
    /// <inheritdoc cref="Forecaster(RecurrentNetwork{float}, StandardScaler, ForecastOptions)"/>
    public Forecaster(RecurrentNetwork<double> network, StandardScaler scaler, ForecastOptions options)
        : this(new ConvertingMembers<double>([network ?? throw new ArgumentNullException(nameof(network))]), scaler, options, nameof(network))
    {
    }

    /// <summary>Binds a seed ensemble of double networks to its data options and scaler (see the remarks for the arithmetic).</summary>
    /// <inheritdoc cref="Forecaster(IReadOnlyList{RecurrentNetwork{float}}, StandardScaler, ForecastOptions)"/>
    public Forecaster(IReadOnlyList<RecurrentNetwork<double>> members, StandardScaler scaler, ForecastOptions options)
        : this(new ConvertingMembers<double>(Copy(members)), scaler, options, nameof(members))
    {
    }

    private Forecaster(Members members, StandardScaler scaler, ForecastOptions options, string paramName)
    {
        ArgumentNullException.ThrowIfNull(scaler);
        ArgumentNullException.ThrowIfNull(options);
        int c = scaler.ColumnCount;
        _inputColumns = options.ResolveInputs(c, nameof(options));
        _targetColumns = options.ResolveTargets(c, nameof(options));
        int inputSize = options.InputSize(c), outputSize = options.OutputSize(c);
        for (int k = 0; k < members.Count; k++)
        {
            string who = members.Count == 1 ? "The network" : $"Member {k}";
            NetworkArchitecture arch = members.Architecture(k);
            if (arch.InputSize != inputSize)
                throw new ArgumentException(
                    $"{who} reads {arch.InputSize} input(s) per step, but the features '{options.Features}' of {c} column(s) give {inputSize}.", paramName);
            if (arch.OutputSize != outputSize)
                throw new ArgumentException(
                    $"{who} writes {arch.OutputSize} output(s) per step, but horizon {options.Horizon} ({options.Mode}) with {_targetColumns.Length} target column(s) needs {outputSize}.",
                    paramName);
        }
        _members = members;
        Options = options;
        Scaler = scaler;
        ColumnCount = c;
        _mean = scaler.Mean.ToArray();
        _std = scaler.Std.ToArray();
        _input = new float[inputSize];
        _output = new float[outputSize];
        _memberOutputs = new float[members.Count * outputSize];
        _generativeProblem = FindGenerativeProblem(options, _inputColumns, _targetColumns);
    }

    private static RecurrentNetwork<T>[] Copy<T>(IReadOnlyList<RecurrentNetwork<T>> members) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("The ensemble has no members: a forecaster needs at least one network.", nameof(members));
        var copy = new RecurrentNetwork<T>[members.Count];
        for (int k = 0; k < copy.Length; k++)
            copy[k] = members[k] ?? throw new ArgumentException($"Member {k} of the ensemble is null.", nameof(members));
        return copy;
    }

    /// <summary>M ≥ 1, the networks whose outputs are averaged (1 for a single network).</summary>
    public int MemberCount => _members.Count;

    /// <summary>
    /// The time of index 0 of the histories given as spans, for calendar features (<see cref="FeatureKind.Calendar"/>);
    /// null when the model reads none. The overloads taking a <see cref="TimeSeries"/> or <see cref="ForecastWindows"/>
    /// use the series' own <see cref="TimeSeries.Time"/> when it has one.
    /// </summary>
    public TimeAxis? Time { get; set; }

    // The time axis of the call in progress (Time, or the series' own).
    private TimeAxis? _callTime;

    /// <summary><c>typeof(float)</c> or <c>typeof(double)</c>: the element type of the networks.</summary>
    public Type ElementType => _members.ElementType;

    /// <summary>The options the network was trained with.</summary>
    public ForecastOptions Options { get; }

    /// <summary>The scaler the network was trained with.</summary>
    public StandardScaler Scaler { get; }

    /// <summary>C, the columns of a history row.</summary>
    public int ColumnCount { get; }

    /// <summary>Values <see cref="Forecast(ReadOnlySpan{float}, Span{float})"/> writes: O = target columns (single step) or h · target columns (multi-output, step-major).</summary>
    public int OutputSize => _output.Length;

    /// <summary>C_t, the values <see cref="Generate(ReadOnlySpan{float}, int, Span{float})"/> writes per generated step (one per target column).</summary>
    public int TargetCount => _targetColumns.Length;

    /// <summary>The shortest history either method accepts: max(0, L_max - h) + 1 steps (one input row whose lags all exist).</summary>
    public int MinimumHistory => Options.Features.EarliestInputTime(Options.Horizon) + 1;

    /// <summary>True when <see cref="Generate(ReadOnlySpan{float}, int, Span{float})"/> can run this model (see <see cref="Generate(ReadOnlySpan{float}, int, Span{float})"/> for the conditions).</summary>
    public bool CanGenerate => _generativeProblem is null;

    /// <summary>
    /// Why <see cref="Generate(ReadOnlySpan{float}, int, Span{float})"/> cannot run this model, as a clause to follow
    /// "cannot forecast generatively:" (for example "the model was trained for horizon 24; feeding predictions back
    /// needs a one-step-ahead model (horizon 1)"), or null when it can (<see cref="CanGenerate"/>).
    /// </summary>
    public string? GenerativeProblem => _generativeProblem;

    /// <summary>
    /// One-shot forecast: runs the network from a zero state over the history's rows and writes its last output in
    /// original units: ŷ[N - 1 + h] per target column (single step), or ŷ[N], ..., ŷ[N + h - 1] step-major
    /// (multi-output). Allocates nothing.
    /// </summary>
    /// <param name="history">N x C values in original units, time-major (N ≥ <see cref="MinimumHistory"/>).</param>
    /// <param name="destination">At least <see cref="OutputSize"/> values; the first <see cref="OutputSize"/> are overwritten.</param>
    /// <exception cref="ArgumentException">The history is not whole rows of C values, or the destination is too short.</exception>
    /// <exception cref="SeriesTooShortException">The history is shorter than <see cref="MinimumHistory"/>.</exception>
    /// <exception cref="NonFiniteValueException">A history value the network reads is NaN or infinite.</exception>
    public void Forecast(ReadOnlySpan<float> history, Span<float> destination)
    {
        if (destination.Length < _output.Length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), _output.Length, destination.Length);
        WarmUp(history);
        Unscale(_output, destination);
    }

    /// <summary>Values <see cref="ForecastPath(ReadOnlySpan{float}, Span{float})"/> writes: h · C_t.</summary>
    public int PathSize => Options.Horizon * _targetColumns.Length;

    /// <summary>
    /// The next h values after the history, ŷ[N], ..., ŷ[N + h - 1] (C_t per step, original units, step-major), one shot:
    /// a single-step model's output at row t predicts y[t + h], so the outputs of the last h rows (times N - h .. N - 1)
    /// give them; a multi-output model's last output is them already. Allocates nothing.
    /// </summary>
    /// <param name="history">N x C values in original units, time-major; a single-step model needs N ≥ <see cref="MinimumHistory"/> + h - 1 (h complete input rows).</param>
    /// <param name="destination">At least <see cref="PathSize"/> values; those are overwritten.</param>
    /// <exception cref="ArgumentException">The history is not whole rows of C values, or the destination is too short.</exception>
    /// <exception cref="SeriesTooShortException">The history holds fewer complete input rows than the path needs.</exception>
    /// <exception cref="NonFiniteValueException">A history value the network reads is NaN or infinite.</exception>
    public void ForecastPath(ReadOnlySpan<float> history, Span<float> destination)
    {
        int size = PathSize;
        if (destination.Length < size) ThrowHelper.ThrowDestinationTooShort(nameof(destination), size, destination.Length);
        if (Options.Mode == TargetMode.MultiOutput)
        {
            WarmUp(history);
            Unscale(_output, destination[..size]);
            return;
        }
        int c = ColumnCount, h = Options.Horizon, needed = MinimumHistory + h - 1;
        if (history.Length % c == 0 && history.Length / c < needed)
            throw new SeriesTooShortException(
                $"The history has {history.Length / c} step(s); the outputs of its last {h} rows give the next {h} values, so the model needs at least {needed} (features '{Options.Features}', horizon {h}).",
                needed, history.Length / c, nameof(history));
        int n = history.Length / c;
        // The scaled outputs of the last h rows go straight to the destination and are unscaled in place there: no
        // buffer of h · C_t values sized by the horizon at construction (a model file's horizon alone must not make
        // loading allocate; the caller's destination is already that size).
        Span<float> path = destination[..size];
        WarmUp(history, n - h, path);
        Unscale(path, path);
    }

    /// <summary>As <see cref="ForecastPath(ReadOnlySpan{float}, Span{float})"/> on a series; returns a new h x C_t array.</summary>
    public float[] ForecastPath(TimeSeries history)
    {
        ArgumentNullException.ThrowIfNull(history);
        CheckColumns(history);
        var result = new float[PathSize];
        _callTime = history.Time;
        try { ForecastPath(history.Values, result); }
        finally { _callTime = null; }
        return result;
    }

    /// <summary>As <see cref="Forecast(ReadOnlySpan{float}, Span{float})"/> on a series (its columns must match the scaler's); returns a new array.</summary>
    public float[] Forecast(TimeSeries history)
    {
        ArgumentNullException.ThrowIfNull(history);
        CheckColumns(history);
        var result = new float[OutputSize];
        _callTime = history.Time;
        try { Forecast(history.Values, result); }
        finally { _callTime = null; }
        return result;
    }

    /// <summary>
    /// The one-shot outputs of the rows <paramref name="firstRow"/> .. N - 1 of a history, in original units
    /// ((N - firstRow) x O, row-major, the layout of <see cref="ForecastWindows.Targets"/>): one zero state per member runs
    /// over every row from max(0, L_max - h) on, so each output has the whole history before it, as in use; row t's
    /// output predicts y[t + h] (single step) or y[t + 1 .. t + h] (multi-output). Allocates nothing; the state run
    /// is the same as <see cref="Forecast(ReadOnlySpan{float}, Span{float})"/>'s, whose result is the last row here.
    /// </summary>
    /// <param name="history">N x C values in original units, time-major (N ≥ <see cref="MinimumHistory"/>).</param>
    /// <param name="firstRow">The first row whose output is written: max(0, L_max - h) ≤ firstRow ≤ N - 1.</param>
    /// <param name="destination">At least (N - firstRow) · O values; those are overwritten.</param>
    /// <exception cref="ArgumentException">The history is not whole rows of C values, or the destination is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="firstRow"/> lies before the first complete input row or at or after N.</exception>
    /// <exception cref="SeriesTooShortException">The history is shorter than <see cref="MinimumHistory"/>.</exception>
    /// <exception cref="NonFiniteValueException">A history value the network reads is NaN or infinite.</exception>
    public void PredictRows(ReadOnlySpan<float> history, int firstRow, Span<float> destination)
    {
        int c = ColumnCount, o = _output.Length, first = MinimumHistory - 1;
        if (history.Length % c != 0)
            throw new ArgumentException($"The history must be whole rows of {c} value(s); got {history.Length} values.", nameof(history));
        int n = history.Length / c;
        if (n >= MinimumHistory && (firstRow < first || firstRow >= n))
            throw new ArgumentOutOfRangeException(nameof(firstRow), firstRow,
                $"The rows with complete inputs of this {n}-step history are {first} .. {n - 1} (features '{Options.Features}', horizon {Options.Horizon}).");
        long size = (long)Math.Max(n - firstRow, 0) * o;
        if (destination.Length < size) ThrowHelper.ThrowDestinationTooShort(nameof(destination), (int)Math.Min(size, int.MaxValue), destination.Length);
        Span<float> rows = destination[..(int)size];
        WarmUp(history, firstRow, rows);
        Unscale(rows, rows);
    }

    /// <summary>
    /// The one-shot outputs of every row of a part of a split, in original units (T x O, aligned with the part's
    /// <see cref="ForecastWindows.Targets"/> and <see cref="ForecastWindows.ActualTargets"/>, so that
    /// <see cref="ForecastWindows.Evaluate(ReadOnlySpan{float})"/> scores them): <see cref="PredictRows(ReadOnlySpan{float}, int, Span{float})"/>
    /// over the part's series up to its last input row, from the part's first input row on. The state runs over the
    /// whole series before the part, as in use; the rows are built with this forecaster's scaler and options, never
    /// the windows' own. Allocates nothing.
    /// </summary>
    /// <param name="part">Windows of the series (for example <see cref="ForecastDataset.Test"/>) with this model's horizon, target mode and target columns.</param>
    /// <param name="destination">At least T · O values (<see cref="ForecastWindows.Length"/> x <see cref="OutputSize"/>); those are overwritten.</param>
    /// <exception cref="ArgumentException">The windows were cut for another horizon, target mode, target columns or
    /// column count, their first row precedes this model's first complete input row, or the destination is too short.</exception>
    public void Predict(ForecastWindows part, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(part);
        CheckPart(part);
        int end = part.FirstTime + part.Length;
        _callTime = part.Series.Time;
        try { PredictRows(part.Series.Values[..(end * ColumnCount)], part.FirstTime, destination); }
        finally { _callTime = null; }
    }

    /// <summary>As <see cref="Predict(ForecastWindows, Span{float})"/>; returns a new T x O array.</summary>
    public float[] Predict(ForecastWindows part)
    {
        ArgumentNullException.ThrowIfNull(part);
        CheckPart(part);
        var result = new float[checked(part.Length * OutputSize)];
        Predict(part, result);
        return result;
    }

    /// <summary>
    /// Generative (free-running) forecast, the chapter's generative mode: warms the state up on the history, then
    /// feeds its own predictions back as inputs for <paramref name="steps"/> steps, writing ŷ[N], ..., ŷ[N + steps - 1]
    /// (C_t values per step, one per target column, original units, step-major). Allocates nothing.
    /// </summary>
    /// <remarks>
    /// Runs only a one-step-ahead model: horizon 1, so each output is the next step's value, and every input
    /// column read by a value feature is also a target column, so that its future values are the predictions. Lag
    /// features then read the history or values already generated, and phase features need only the time index.
    /// A generated value enters the next row exactly as a history value would (the reported value in original units,
    /// scaled by the feature row), so generating k values and then forecasting one shot from the history extended by
    /// them gives value k + 1.
    /// </remarks>
    /// <param name="history">N x C values in original units, time-major (N ≥ <see cref="MinimumHistory"/>).</param>
    /// <param name="steps">Steps to generate, ≥ 1.</param>
    /// <param name="destination">At least steps · C_t values; those are overwritten.</param>
    /// <exception cref="InvalidOperationException">The model cannot run generatively (the message says why, see <see cref="GenerativeProblem"/>).</exception>
    /// <exception cref="ArgumentException">Bad history shape, steps &lt; 1, or a destination too short.</exception>
    /// <exception cref="SeriesTooShortException">The history is shorter than <see cref="MinimumHistory"/>.</exception>
    /// <exception cref="NonFiniteValueException">A history value the network reads is NaN or infinite.</exception>
    public void Generate(ReadOnlySpan<float> history, int steps, Span<float> destination)
    {
        ThrowIfCannotGenerate();
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "At least one step must be generated.");
        int ct = _targetColumns.Length;
        if (destination.Length / ct < steps) ThrowHelper.ThrowDestinationTooShort(nameof(destination), steps * ct, destination.Length);
        int n = WarmUp(history);
        Unscale(_output, destination[..ct]);
        for (int k = 1; k < steps; k++)
        {
            // Row of time t = N - 1 + k: its value inputs are ŷ[t] (generated), its lags y[t + 1 - L] lie in the
            // history or among the k values generated so far.
            int t = n - 1 + k;
            var view = new SeriesView(history, ColumnCount, destination[..(k * ct)], _targetColumns);
            Options.Features.FillRow(view, t, 1, _inputColumns, _targetColumns, _mean, _std, _input, _callTime ?? Time);
            _members.Step(_input, _memberOutputs);
            Average();
            Unscale(_output, destination.Slice(k * ct, ct));
        }
    }

    /// <summary>As <see cref="Generate(ReadOnlySpan{float}, int, Span{float})"/> on a series; returns a new steps x C_t array.</summary>
    public float[] Generate(TimeSeries history, int steps)
    {
        ArgumentNullException.ThrowIfNull(history);
        CheckColumns(history);
        ThrowIfCannotGenerate();
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "At least one step must be generated.");
        var result = new float[checked(steps * TargetCount)];
        _callTime = history.Time;
        try { Generate(history.Values, steps, result); }
        finally { _callTime = null; }
        return result;
    }

    private void ThrowIfCannotGenerate()
    {
        if (_generativeProblem is not null)
            throw new InvalidOperationException($"This model cannot forecast generatively: {_generativeProblem}. Use Forecast or ForecastPath for a one-shot forecast.");
    }

    // Runs zero states over the history's rows; leaves the last (averaged) output in _output. With a rows buffer, the
    // averaged (scaled) outputs of rows firstRow .. N - 1 go there, oldest first. Returns N.
    private int WarmUp(ReadOnlySpan<float> history, int firstRow = int.MaxValue, Span<float> rows = default)
    {
        int c = ColumnCount;
        if (history.Length % c != 0)
            throw new ArgumentException($"The history must be whole rows of {c} value(s); got {history.Length} values.", nameof(history));
        int n = history.Length / c, h = Options.Horizon;
        if (n < MinimumHistory)
            throw new SeriesTooShortException(
                $"The history has {n} step(s); the model needs at least {MinimumHistory} (features '{Options.Features}', horizon {h}).",
                MinimumHistory, n, nameof(history));
        int first = Options.Features.EarliestInputTime(h);
        CheckFinite(history, first, n);
        _members.Reset();
        var view = new SeriesView(history, c);
        int o = _output.Length, m = _members.Count;
        for (int t = first; t < n; t++)
        {
            Options.Features.FillRow(view, t, h, _inputColumns, _targetColumns, _mean, _std, _input, _callTime ?? Time);
            _members.Step(_input, _memberOutputs);
            if (t >= firstRow) EnsembleAverage.Mean(_memberOutputs, m, rows.Slice((t - firstRow) * o, o));
        }
        // Only the last row's outputs are used: average once, after the warm-up.
        Average();
        return n;
    }

    // _output = mean of the members' outputs, scaled units (exactly member 0's for M = 1).
    private void Average() => EnsembleAverage.Mean(_memberOutputs, _members.Count, _output);

    private void CheckFinite(ReadOnlySpan<float> history, int first, int n)
    {
        // Lags read from first + h - L_max = max(0, ...) on; checking every value from index 0 is simpler and as cheap.
        for (int i = 0; i < history.Length; i++)
        {
            if (float.IsFinite(history[i])) continue;
            int t = i / ColumnCount, j = i % ColumnCount;
            throw new NonFiniteValueException(string.Create(CultureInfo.InvariantCulture,
                $"The history value at time {t}, column {j} is a {NonFiniteValueException.Describe(history[i])}; interpolate gaps before forecasting (rows {first}..{n - 1} are read)."),
                t, j, history[i], null, nameof(history));
        }
    }

    // In place is fine: element o is read before it is written.
    private void Unscale(ReadOnlySpan<float> scaled, Span<float> original)
    {
        int ct = _targetColumns.Length;
        for (int o = 0; o < scaled.Length; o++)
        {
            int j = _targetColumns[o % ct];
            original[o] = (float)(scaled[o] * _std[j] + _mean[j]);
        }
    }

    private void CheckColumns(TimeSeries history)
    {
        if (history.ColumnCount != ColumnCount)
            throw new ArgumentException($"The history has {history.ColumnCount} column(s); the model was trained on {ColumnCount}.", nameof(history));
    }

    // The windows' rows must mean what this model's rows mean: the same targets at the same offsets.
    private void CheckPart(ForecastWindows part)
    {
        string? problem = null;
        if (part.Series.ColumnCount != ColumnCount)
            problem = $"their series has {part.Series.ColumnCount} column(s); the model was trained on {ColumnCount}";
        else if (part.Horizon != Options.Horizon || part.Mode != Options.Mode)
            problem = $"they were cut for horizon {part.Horizon} ({part.Mode}); the model predicts horizon {Options.Horizon} ({Options.Mode})";
        else if (!part.TargetColumns.SequenceEqual(_targetColumns))
            problem = $"they target columns [{string.Join(", ", part.TargetColumns)}]; the model predicts [{string.Join(", ", _targetColumns)}]";
        else if (part.FirstTime < MinimumHistory - 1)
            problem = $"their first row is input time {part.FirstTime}, before the model's first complete input row {MinimumHistory - 1} (features '{Options.Features}')";
        if (problem is not null) throw new ArgumentException($"The windows do not fit this model: {problem}.", nameof(part));
    }

    private static string? FindGenerativeProblem(ForecastOptions options, int[] inputColumns, int[] targetColumns)
    {
        if (options.Horizon != 1)
            return $"the model was trained for horizon {options.Horizon}; feeding predictions back needs a one-step-ahead model (horizon 1)";
        if (options.Features.HasValue)
            foreach (int j in inputColumns)
                if (Array.IndexOf(targetColumns, j) < 0)
                    return $"the model reads column {j} as an input but does not predict it, so the column's future values are unknown (train with that column among the targets)";
        return null;
    }

    // The members behind one interface, whatever their element type: every member reads the same float input row with
    // its own batch-1 state, and member k writes block k of a member-major float buffer.
    private abstract class Members
    {
        public abstract int Count { get; }

        public abstract Type ElementType { get; }

        public abstract NetworkArchitecture Architecture(int member);

        public abstract void Reset();

        // input: I values; outputs: M x O values, member-major (overwritten).
        public abstract void Step(ReadOnlySpan<float> input, Span<float> outputs);
    }

    private sealed class FloatMembers : Members
    {
        private readonly RecurrentNetwork<float>[] _networks;
        private readonly NetworkState<float>[] _states;

        public FloatMembers(RecurrentNetwork<float>[] networks)
        {
            _networks = networks;
            _states = new NetworkState<float>[networks.Length];
            for (int k = 0; k < networks.Length; k++) _states[k] = networks[k].CreateState();
        }

        public override int Count => _networks.Length;

        public override Type ElementType => typeof(float);

        public override NetworkArchitecture Architecture(int member) => _networks[member].Architecture;

        public override void Reset()
        {
            foreach (NetworkState<float> state in _states) state.Reset();
        }

        public override void Step(ReadOnlySpan<float> input, Span<float> outputs)
        {
            int o = outputs.Length / _networks.Length;
            for (int k = 0; k < _networks.Length; k++) _networks[k].Step(input, outputs.Slice(k * o, o), _states[k]);
        }
    }

    // A wider network: the float row is widened exactly, the outputs rounded to float once.
    private sealed class ConvertingMembers<T> : Members where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        private readonly RecurrentNetwork<T>[] _networks;
        private readonly NetworkState<T>[] _states;
        private readonly T[] _x, _y;

        public ConvertingMembers(RecurrentNetwork<T>[] networks)
        {
            _networks = networks;
            _states = new NetworkState<T>[networks.Length];
            for (int k = 0; k < networks.Length; k++) _states[k] = networks[k].CreateState();
            _x = new T[networks[0].Architecture.InputSize];
            _y = new T[networks[0].Architecture.OutputSize];
        }

        public override int Count => _networks.Length;

        public override Type ElementType => typeof(T);

        public override NetworkArchitecture Architecture(int member) => _networks[member].Architecture;

        public override void Reset()
        {
            foreach (NetworkState<T> state in _states) state.Reset();
        }

        public override void Step(ReadOnlySpan<float> input, Span<float> outputs)
        {
            for (int i = 0; i < _x.Length; i++) _x[i] = T.CreateTruncating(input[i]);
            int o = _y.Length;
            for (int k = 0; k < _networks.Length; k++)
            {
                _networks[k].Step(_x, _y, _states[k]);
                Span<float> block = outputs.Slice(k * o, o);
                for (int j = 0; j < o; j++) block[j] = float.CreateTruncating(_y[j]);
            }
        }
    }
}
