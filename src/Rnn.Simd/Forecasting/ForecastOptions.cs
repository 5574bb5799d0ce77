namespace Rnn.Simd.Forecasting;

/// <summary>What a window row asks the network to predict.</summary>
public enum TargetMode
{
    /// <summary>One-shot single step: the row of time t targets y[t + h] only (O = target columns).</summary>
    SingleStep = 0,

    /// <summary>Multi-output: the row of time t targets every step y[t + 1], ..., y[t + h] (O = h · target columns, step-major).</summary>
    MultiOutput = 1,
}

/// <summary>
/// How a series becomes network inputs and targets: the horizon h, the target mode, which columns are inputs and
/// which are targets, and the input features computed from them (<see cref="FeatureSpec"/>). Immutable.
/// </summary>
public sealed class ForecastOptions
{
    private readonly int[]? _inputColumns;
    private readonly int[]? _targetColumns;

    /// <summary>Creates the options.</summary>
    /// <param name="horizon">h ≥ 1, in time steps of the (aggregated) series: 24 for a day ahead on hourly data.</param>
    /// <param name="mode">Single step y[t + h] (the default) or all of y[t + 1 .. t + h].</param>
    /// <param name="inputColumns">Series columns read at each step, in this order (I = count); null means all columns.</param>
    /// <param name="targetColumns">Series columns predicted, in this order; null means all columns.</param>
    /// <param name="features">The input features (null: <see cref="FeatureSpec.ValueOnly"/>, the input columns' current values).</param>
    /// <exception cref="ArgumentException">h &lt; 1, an unknown mode, an empty, negative or repeated column list, a lag feature shorter than h.</exception>
    public ForecastOptions(int horizon, TargetMode mode = TargetMode.SingleStep, IReadOnlyList<int>? inputColumns = null, IReadOnlyList<int>? targetColumns = null,
        FeatureSpec? features = null)
    {
        if (horizon < 1) throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "The forecast horizon must be at least 1 step.");
        if (mode != TargetMode.SingleStep && mode != TargetMode.MultiOutput)
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown target mode.");
        Horizon = horizon;
        Mode = mode;
        _inputColumns = CopyColumns(inputColumns, nameof(inputColumns));
        _targetColumns = CopyColumns(targetColumns, nameof(targetColumns));
        Features = features ?? FeatureSpec.ValueOnly;
        Features.CheckHorizon(horizon, nameof(features));
    }

    /// <summary>The input features of each row (<see cref="FeatureSpec.ValueOnly"/> unless given).</summary>
    public FeatureSpec Features { get; }

    /// <summary>h, the forecast horizon in time steps.</summary>
    public int Horizon { get; }

    /// <summary>Single step or multi-output.</summary>
    public TargetMode Mode { get; }

    /// <summary>The input columns, or null for all columns of the series.</summary>
    public IReadOnlyList<int>? InputColumns => _inputColumns;

    /// <summary>The target columns, or null for all columns of the series.</summary>
    public IReadOnlyList<int>? TargetColumns => _targetColumns;

    /// <summary>Horizon steps per window row: 1 for <see cref="TargetMode.SingleStep"/>, h for <see cref="TargetMode.MultiOutput"/>.</summary>
    public int StepsPerRow => Mode == TargetMode.SingleStep ? 1 : Horizon;

    /// <summary>I, the network's input size, for a series of <paramref name="columnCount"/> columns (see <see cref="FeatureSpec.InputSize"/>).</summary>
    public int InputSize(int columnCount) => Features.InputSize(_inputColumns?.Length ?? columnCount, _targetColumns?.Length ?? columnCount);

    /// <summary>O, the network's output size, for a series of <paramref name="columnCount"/> columns: target columns · <see cref="StepsPerRow"/>.</summary>
    public int OutputSize(int columnCount) => (_targetColumns?.Length ?? columnCount) * StepsPerRow;

    internal int[] ResolveInputs(int columnCount, string paramName) => Resolve(_inputColumns, columnCount, "input", paramName);

    internal int[] ResolveTargets(int columnCount, string paramName) => Resolve(_targetColumns, columnCount, "target", paramName);

    private static int[] Resolve(int[]? columns, int columnCount, string what, string paramName)
    {
        if (columns is null)
        {
            var all = new int[columnCount];
            for (int j = 0; j < columnCount; j++) all[j] = j;
            return all;
        }
        foreach (int j in columns)
            if (j >= columnCount)
                throw new ArgumentException($"The {what} column {j} does not exist: the series has {columnCount} column(s).", paramName);
        return columns;
    }

    private static int[]? CopyColumns(IReadOnlyList<int>? columns, string paramName)
    {
        if (columns is null) return null;
        if (columns.Count == 0) throw new ArgumentException("A column list cannot be empty (null means all columns).", paramName);
        var result = new int[columns.Count];
        for (int i = 0; i < result.Length; i++)
        {
            int j = columns[i];
            if (j < 0) throw new ArgumentOutOfRangeException(paramName, j, "A column index cannot be negative.");
            for (int k = 0; k < i; k++)
                if (result[k] == j) throw new ArgumentException($"Column {j} is listed twice.", paramName);
            result[i] = j;
        }
        return result;
    }
}
