namespace Rnn.Simd.Forecasting;

/// <summary>
/// Z-score scaling per column, z = (x - mean) / std, with the mean and the population standard deviation (divisor n,
/// as scikit-learn's StandardScaler) of each column, fitted on the training part only so that nothing of the
/// validation and test parts leaks into training. Computed in double, stored as double; immutable.
/// </summary>
public sealed class StandardScaler
{
    private readonly double[] _mean;
    private readonly double[] _std;

    /// <summary>Creates a scaler from known statistics (for example read back from a model file).</summary>
    /// <param name="mean">Mean of each column (C values, finite).</param>
    /// <param name="std">Standard deviation of each column (C values, finite and positive).</param>
    /// <exception cref="ArgumentException">Lengths differ, no column, or a value is not finite or a std not positive.</exception>
    public StandardScaler(ReadOnlySpan<double> mean, ReadOnlySpan<double> std)
    {
        if (mean.Length == 0) throw new ArgumentException("At least one column is required.", nameof(mean));
        if (std.Length != mean.Length) ThrowHelper.ThrowLengthMismatch(nameof(std), mean.Length, std.Length);
        for (int j = 0; j < mean.Length; j++)
        {
            if (!double.IsFinite(mean[j])) throw new ArgumentException($"The mean of column {j} is not finite ({mean[j]}).", nameof(mean));
            if (!double.IsFinite(std[j]) || std[j] <= 0)
                throw new ArgumentException($"The standard deviation of column {j} must be finite and positive; got {std[j]}.", nameof(std));
        }
        _mean = mean.ToArray();
        _std = std.ToArray();
    }

    /// <summary>
    /// Fits the mean and population standard deviation of every column over the time steps of
    /// <paramref name="range"/> (the training part), skipping the steps <paramref name="mask"/> excludes.
    /// </summary>
    /// <param name="series">The series in original units.</param>
    /// <param name="range">Time steps to fit on; must lie inside the series.</param>
    /// <param name="mask">Excluded time steps (for example an anomaly inside the training part), or null.</param>
    /// <exception cref="EmptySeriesException">The range holds no step that the mask leaves.</exception>
    /// <exception cref="ForecastDataException">A column is constant over the fitted steps (its standard deviation is 0).</exception>
    public static StandardScaler Fit(TimeSeries series, TimeRange range, TimeMask? mask = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (range.End > series.Length)
            throw new ArgumentOutOfRangeException(nameof(range), range, $"The range reaches past the end of the series ({series.Length} values).");
        mask ??= TimeMask.None;
        int c = series.ColumnCount;
        ReadOnlySpan<float> v = series.Values;
        var mean = new double[c];
        var std = new double[c];
        int n = 0;
        for (int t = range.Start; t < range.End; t++)
        {
            if (mask.IsExcluded(t)) continue;
            n++;
            for (int j = 0; j < c; j++) mean[j] += v[t * c + j];
        }
        if (n == 0)
            throw new EmptySeriesException($"Cannot fit the scaler: the range {range} has no time step that the mask leaves.", nameof(range));
        for (int j = 0; j < c; j++) mean[j] /= n;
        // Two passes: the variance of values far from 0 (a load around 55) stays accurate.
        for (int t = range.Start; t < range.End; t++)
        {
            if (mask.IsExcluded(t)) continue;
            for (int j = 0; j < c; j++)
            {
                double d = v[t * c + j] - mean[j];
                std[j] += d * d;
            }
        }
        for (int j = 0; j < c; j++)
        {
            std[j] = Math.Sqrt(std[j] / n);
            if (!(std[j] > 0))
                throw new ForecastDataException(
                    $"Cannot scale column {j} ('{series.ColumnNames[j]}'): it is constant ({ForecastFormat.Num(mean[j])}) over the {n} fitted time steps of {range}.",
                    nameof(series));
        }
        return new StandardScaler(mean, std);
    }

    /// <summary>C, the number of columns.</summary>
    public int ColumnCount => _mean.Length;

    /// <summary>Mean of each column (C values).</summary>
    public ReadOnlySpan<double> Mean => _mean;

    /// <summary>Population standard deviation of each column (C values, all positive).</summary>
    public ReadOnlySpan<double> Std => _std;

    /// <summary>z = (x - mean[column]) / std[column].</summary>
    public float Transform(float value, int column) => (float)((value - _mean[CheckColumn(column)]) / _std[column]);

    /// <summary>x = z · std[column] + mean[column].</summary>
    public float InverseTransform(float value, int column) => (float)(value * _std[CheckColumn(column)] + _mean[column]);

    /// <summary>Scales values of one column: destination[i] = (source[i] - mean) / std. Overwrites; may be the same span.</summary>
    public void Transform(ReadOnlySpan<float> source, Span<float> destination, int column)
    {
        CheckColumn(column);
        if (destination.Length < source.Length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), source.Length, destination.Length);
        double m = _mean[column], s = _std[column];
        for (int i = 0; i < source.Length; i++) destination[i] = (float)((source[i] - m) / s);
    }

    /// <summary>Unscales values of one column: destination[i] = source[i] · std + mean. Overwrites; may be the same span.</summary>
    public void InverseTransform(ReadOnlySpan<float> source, Span<float> destination, int column)
    {
        CheckColumn(column);
        if (destination.Length < source.Length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), source.Length, destination.Length);
        double m = _mean[column], s = _std[column];
        for (int i = 0; i < source.Length; i++) destination[i] = (float)(source[i] * s + m);
    }

    /// <summary>The whole series scaled column by column (same shape and names).</summary>
    /// <exception cref="ArgumentException">The series has a different number of columns.</exception>
    public TimeSeries Transform(TimeSeries series) => Apply(series, inverse: false);

    /// <summary>The whole series unscaled column by column (same shape and names).</summary>
    /// <exception cref="ArgumentException">The series has a different number of columns.</exception>
    public TimeSeries InverseTransform(TimeSeries series) => Apply(series, inverse: true);

    private TimeSeries Apply(TimeSeries series, bool inverse)
    {
        ArgumentNullException.ThrowIfNull(series);
        int c = series.ColumnCount;
        if (c != ColumnCount)
            throw new ArgumentException($"The scaler was fitted on {ColumnCount} column(s); the series has {c}.", nameof(series));
        ReadOnlySpan<float> v = series.Values;
        var result = new float[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            int j = i % c;
            double x = inverse ? v[i] * _std[j] + _mean[j] : (v[i] - _mean[j]) / _std[j];
            if (!double.IsFinite((float)x)) ThrowOverflow(i / c, j, inverse);
            result[i] = (float)x;
        }
        return TimeSeries.Wrap(result, c, CopyNames(series));
    }

    private static string[] CopyNames(TimeSeries series)
    {
        var names = new string[series.ColumnCount];
        for (int j = 0; j < names.Length; j++) names[j] = series.ColumnNames[j];
        return names;
    }

    private static void ThrowOverflow(int time, int column, bool inverse) =>
        throw new NonFiniteValueException(
            $"{(inverse ? "Unscaling" : "Scaling")} overflows float at time index {time}, column {column}.", time, column, float.PositiveInfinity);

    private int CheckColumn(int column)
    {
        if ((uint)column >= (uint)_mean.Length)
            throw new ArgumentOutOfRangeException(nameof(column), column, $"The scaler has {_mean.Length} column(s).");
        return column;
    }
}
