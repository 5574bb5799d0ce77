using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Rnn.Simd.Forecasting;

/// <summary>What to do with missing values (NaN) when a series is built.</summary>
public enum GapHandling
{
    /// <summary>A missing value is an error: <see cref="NonFiniteValueException"/> naming its index, column (and CSV line).</summary>
    Throw = 0,

    /// <summary>
    /// Each run of missing values inside a column is filled by linear interpolation between the finite values on
    /// either side. A run at the very start or end of a column has only one neighbour and is still an error.
    /// </summary>
    InterpolateLinear = 1,
}

/// <summary>A run of consecutive missing values (NaN) in one column: time indices [<see cref="Start"/>, <see cref="Start"/> + <see cref="Length"/>).</summary>
/// <param name="Column">Column of the gap.</param>
/// <param name="Start">Time index of the first missing value.</param>
/// <param name="Length">Number of consecutive missing values.</param>
public readonly record struct SeriesGap(int Column, int Start, int Length)
{
    /// <summary>The gap's time indices.</summary>
    public TimeRange Range => TimeRange.FromLength(Start, Length);
}

/// <summary>
/// A univariate or multivariate time series of finite float values, time-major: <see cref="Length"/> (T) steps of
/// <see cref="ColumnCount"/> (C) values, value (t, c) at flat index t·C + c, oldest first, with a name per column.
/// Immutable; every value is finite (construction rejects ±infinity always, and NaN unless asked to interpolate).
/// </summary>
public sealed class TimeSeries
{
    private readonly float[] _values;
    private readonly string[] _names;
    private readonly System.Collections.ObjectModel.ReadOnlyCollection<string> _readOnlyNames;

    /// <summary>Creates a series from time-major values (copied).</summary>
    /// <param name="values">T x C values, time-major: value (t, c) at t·C + c. NaN marks a missing value.</param>
    /// <param name="columnCount">C ≥ 1; the length of <paramref name="values"/> must be a multiple of it.</param>
    /// <param name="columnNames">One distinct name per column; null gives "value" for one column, "column0", "column1", ... otherwise.</param>
    /// <param name="gaps">Whether missing values are an error (the default) or interpolated linearly.</param>
    /// <exception cref="EmptySeriesException"><paramref name="values"/> is empty.</exception>
    /// <exception cref="NonFiniteValueException">A value is ±infinity, or NaN with <see cref="GapHandling.Throw"/>, or a gap touches the start or end of a column.</exception>
    /// <exception cref="ArgumentException">The length is not a multiple of C, or the names do not fit.</exception>
    public TimeSeries(ReadOnlySpan<float> values, int columnCount = 1, IReadOnlyList<string>? columnNames = null, GapHandling gaps = GapHandling.Throw)
        : this(Validate(values.ToArray(), columnCount, gaps), columnCount, MakeNames(columnNames, columnCount))
    {
    }

    // Takes ownership of a validated array: no copy, no check.
    private TimeSeries(float[] values, int columnCount, string[] names)
    {
        _values = values;
        _names = names;
        _readOnlyNames = Array.AsReadOnly(names);
        ColumnCount = columnCount;
        Length = values.Length / columnCount;
    }

    internal static TimeSeries Wrap(float[] validatedValues, int columnCount, string[] names) => new(validatedValues, columnCount, names);

    /// <summary>Creates a multivariate series from one array per column (all of the same length).</summary>
    /// <param name="columns">C arrays of T values each, oldest first.</param>
    /// <param name="columnNames">One distinct name per column, or null for defaults.</param>
    /// <param name="gaps">Whether missing values are an error (the default) or interpolated linearly.</param>
    /// <exception cref="ArgumentException">No column, or columns of different lengths.</exception>
    /// <exception cref="EmptySeriesException">The columns are empty.</exception>
    /// <exception cref="NonFiniteValueException">As for the constructor.</exception>
    public static TimeSeries FromColumns(IReadOnlyList<float[]> columns, IReadOnlyList<string>? columnNames = null, GapHandling gaps = GapHandling.Throw)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count == 0) throw new ArgumentException("At least one column is required.", nameof(columns));
        int c = columns.Count;
        int t = columns[0]?.Length ?? throw new ArgumentNullException(nameof(columns), "Column 0 is null.");
        for (int j = 1; j < c; j++)
        {
            float[]? col = columns[j] ?? throw new ArgumentNullException(nameof(columns), $"Column {j} is null.");
            if (col.Length != t)
                throw new ArgumentException($"All columns must have the same length: column 0 has {t} values, column {j} has {col.Length}.", nameof(columns));
        }
        var values = new float[checked(t * c)];
        for (int j = 0; j < c; j++)
        {
            float[] col = columns[j];
            for (int i = 0; i < t; i++) values[i * c + j] = col[i];
        }
        return new TimeSeries(Validate(values, c, gaps), c, MakeNames(columnNames, c));
    }

    /// <summary>T, the number of time steps.</summary>
    public int Length { get; }

    /// <summary>The time of each step (from a time column), or null when the series has no timestamps; calendar features need it.</summary>
    public TimeAxis? Time { get; private init; }

    /// <summary>This series (the same values, not copied) with the time axis <paramref name="time"/> (null removes it).</summary>
    public TimeSeries WithTime(TimeAxis? time) => new(_values, ColumnCount, _names) { Time = time };

    /// <summary>C, the number of values per time step.</summary>
    public int ColumnCount { get; }

    /// <summary>Column names, one per column.</summary>
    public IReadOnlyList<string> ColumnNames => _readOnlyNames;

    /// <summary>All values, T x C time-major (value (t, c) at t·C + c).</summary>
    public ReadOnlySpan<float> Values => _values;

    /// <summary>The value of column <paramref name="column"/> at time <paramref name="time"/>.</summary>
    public float this[int time, int column]
    {
        get
        {
            if ((uint)time >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(time), time, $"The series has {Length} time steps.");
            if ((uint)column >= (uint)ColumnCount) throw new ArgumentOutOfRangeException(nameof(column), column, $"The series has {ColumnCount} columns.");
            return _values[time * ColumnCount + column];
        }
    }

    /// <summary>The C values at time <paramref name="time"/>.</summary>
    public ReadOnlySpan<float> Row(int time)
    {
        if ((uint)time >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(time), time, $"The series has {Length} time steps.");
        return _values.AsSpan(time * ColumnCount, ColumnCount);
    }

    /// <summary>Copies column <paramref name="column"/> (T values) into <paramref name="destination"/> (overwrites its first T elements).</summary>
    public void CopyColumn(int column, Span<float> destination)
    {
        if ((uint)column >= (uint)ColumnCount) throw new ArgumentOutOfRangeException(nameof(column), column, $"The series has {ColumnCount} columns.");
        if (destination.Length < Length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), Length, destination.Length);
        int c = ColumnCount;
        for (int t = 0; t < Length; t++) destination[t] = _values[t * c + column];
    }

    /// <summary>Column <paramref name="column"/> as a new array of T values.</summary>
    public float[] GetColumn(int column)
    {
        var result = new float[Length];
        CopyColumn(column, result);
        return result;
    }

    /// <summary>Index of the column named <paramref name="name"/> (ordinal comparison).</summary>
    /// <exception cref="ArgumentException">No column has that name.</exception>
    public int ColumnIndex(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (int j = 0; j < _names.Length; j++)
            if (string.Equals(_names[j], name, StringComparison.Ordinal)) return j;
        throw new ArgumentException($"No column named '{name}'; the columns are: {string.Join(", ", _names)}.", nameof(name));
    }

    /// <summary>The time steps [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) as a new series (copied).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the series.</exception>
    /// <exception cref="EmptySeriesException"><paramref name="length"/> is 0.</exception>
    public TimeSeries Slice(int start, int length)
    {
        if (start < 0 || start > Length) throw new ArgumentOutOfRangeException(nameof(start), start, $"The series has {Length} time steps.");
        if (length < 0 || length > Length - start)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Only {Length - start} time steps follow index {start}.");
        if (length == 0) throw new EmptySeriesException($"The slice [{start}, {start}) of the series is empty.", nameof(length));
        return new TimeSeries(_values.AsSpan(start * ColumnCount, length * ColumnCount).ToArray(), ColumnCount, _names) { Time = Time?.Skip(start) };
    }

    /// <summary>
    /// Aggregates every <paramref name="factor"/> consecutive time steps into their mean, column by column (computed
    /// in double): coarse value (i, c) = mean of fine values (i·k .. i·k + k - 1, c). For example 10-minute values to
    /// hourly with k = 6. A fine index range maps to coarse indices with <see cref="TimeRange.Aggregate"/>.
    /// </summary>
    /// <param name="factor">k ≥ 1.</param>
    /// <param name="dropIncompleteTail">When T is not a multiple of k: false (the default) throws; true drops the last T mod k steps.</param>
    /// <returns>A series of floor(T / k) steps with the same column names.</returns>
    /// <exception cref="SeriesTooShortException">T &lt; k.</exception>
    /// <exception cref="ArgumentException">T is not a multiple of k and <paramref name="dropIncompleteTail"/> is false.</exception>
    public TimeSeries Aggregate(int factor, bool dropIncompleteTail = false)
    {
        if (factor < 1) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The aggregation factor must be at least 1.");
        if (Length < factor)
            throw new SeriesTooShortException($"Aggregating by {factor} needs at least {factor} time steps; the series has {Length}.", factor, Length, nameof(factor));
        if (Length % factor != 0 && !dropIncompleteTail)
            throw new ArgumentException(
                $"The series length {Length} is not a multiple of the aggregation factor {factor} ({Length % factor} steps would be left over); trim the series or pass dropIncompleteTail: true.",
                nameof(factor));
        int n = Length / factor, c = ColumnCount;
        var result = new float[n * c];
        double inv = 1.0 / factor;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < c; j++)
            {
                double sum = 0;
                int baseIndex = i * factor * c + j;
                for (int k = 0; k < factor; k++) sum += _values[baseIndex + k * c];
                result[i * c + j] = (float)(sum * inv);
            }
        }
        return new TimeSeries(result, c, _names) { Time = Time?.Aggregate(factor) };
    }

    /// <summary>
    /// Finds every run of missing values (NaN) in time-major data, column by column (column order, then time order).
    /// ±infinity is not a gap (it is corrupt data, never interpolated).
    /// </summary>
    /// <param name="values">T x C values, time-major.</param>
    /// <param name="columnCount">C ≥ 1.</param>
    public static IReadOnlyList<SeriesGap> FindGaps(ReadOnlySpan<float> values, int columnCount = 1)
    {
        CheckShape(values.Length, columnCount);
        var gaps = new List<SeriesGap>();
        int t = values.Length / columnCount;
        for (int j = 0; j < columnCount; j++)
        {
            int i = 0;
            while (i < t)
            {
                if (!float.IsNaN(values[i * columnCount + j])) { i++; continue; }
                int start = i;
                while (i < t && float.IsNaN(values[i * columnCount + j])) i++;
                gaps.Add(new SeriesGap(j, start, i - start));
            }
        }
        return gaps;
    }

    /// <summary>
    /// Fills each run of missing values (NaN) in place by linear interpolation, column by column, between the finite
    /// values just before and just after it (computed in double): for a gap [a, b), value t = v[a-1] + (v[b] - v[a-1])·(t - a + 1)/(b - a + 1).
    /// </summary>
    /// <param name="values">T x C values, time-major; overwritten where NaN.</param>
    /// <param name="columnCount">C ≥ 1.</param>
    /// <returns>The number of values filled.</returns>
    /// <exception cref="NonFiniteValueException">A value is ±infinity, or a gap touches the start or end of a column (nothing to interpolate from).</exception>
    public static int InterpolateGaps(Span<float> values, int columnCount = 1)
    {
        CheckShape(values.Length, columnCount);
        return InterpolateCore(values, columnCount, firstDataLine: null);
    }

    // firstDataLine: CSV line of time index 0, so that errors name lines.
    internal static int InterpolateCore(Span<float> values, int columnCount, int? firstDataLine)
    {
        int t = values.Length / columnCount;
        ThrowOnInfinity(values, columnCount, firstDataLine);
        int filled = 0;
        for (int j = 0; j < columnCount; j++)
        {
            int i = 0;
            while (i < t)
            {
                if (!float.IsNaN(values[i * columnCount + j])) { i++; continue; }
                int a = i;
                while (i < t && float.IsNaN(values[i * columnCount + j])) i++;
                int b = i;
                if (a == 0 || b == t)
                {
                    string where = a == 0 ? "start" : "end";
                    string side = a == 0 ? "before" : "after";
                    throw new NonFiniteValueException(
                        $"The gap of {b - a} missing value(s) at time indices [{a}, {b}){Lines(a, b, firstDataLine)} of column {j} is at the {where} of the series and cannot be interpolated (no value {side} it); trim the series.",
                        a, j, float.NaN, firstDataLine + a);
                }
                double left = values[(a - 1) * columnCount + j], right = values[b * columnCount + j];
                double step = (right - left) / (b - a + 1);
                for (int k = a; k < b; k++) values[k * columnCount + j] = (float)(left + step * (k - a + 1));
                filled += b - a;
            }
        }
        return filled;
    }

    private static string Lines(int a, int b, int? firstDataLine) =>
        firstDataLine is int l ? string.Create(CultureInfo.InvariantCulture, $" (lines {l + a} to {l + b - 1})") : "";

    private static void ThrowOnInfinity(ReadOnlySpan<float> values, int columnCount, int? firstDataLine)
    {
        for (int i = 0; i < values.Length; i++)
            if (float.IsInfinity(values[i])) ThrowNonFinite(values[i], i / columnCount, i % columnCount, firstDataLine);
    }

    [DoesNotReturn]
    internal static void ThrowNonFinite(float value, int time, int column, int? firstDataLine)
    {
        string line = firstDataLine is int l ? $" on line {l + time}" : "";
        string hint = float.IsNaN(value) ? " Use GapHandling.InterpolateLinear to fill gaps, or TimeSeries.FindGaps to list them." : "";
        throw new NonFiniteValueException(
            $"The series has a {NonFiniteValueException.Describe(value)} at time index {time}, column {column}{line}.{hint}",
            time, column, value, firstDataLine + time);
    }

    private static void CheckShape(int length, int columnCount, string valuesName = "values")
    {
        if (columnCount < 1) throw new ArgumentOutOfRangeException(nameof(columnCount), columnCount, "A series needs at least one column.");
        if (length % columnCount != 0)
            throw new ArgumentException($"{length} values do not divide into rows of {columnCount} columns.", valuesName);
    }

    // Validates (and with InterpolateLinear fills) an array the series will own.
    private static float[] Validate(float[] values, int columnCount, GapHandling gaps)
    {
        CheckShape(values.Length, columnCount);
        if (values.Length == 0) throw new EmptySeriesException("The series is empty: at least one time step is required.", nameof(values));
        if (gaps == GapHandling.InterpolateLinear)
        {
            InterpolateCore(values, columnCount, firstDataLine: null);
        }
        else if (gaps == GapHandling.Throw)
        {
            for (int i = 0; i < values.Length; i++)
                if (!float.IsFinite(values[i])) ThrowNonFinite(values[i], i / columnCount, i % columnCount, null);
        }
        else
        {
            throw new ArgumentOutOfRangeException(nameof(gaps), gaps, "Unknown gap handling.");
        }
        return values;
    }

    private static string[] MakeNames(IReadOnlyList<string>? names, int columnCount, string namesName = "columnNames")
    {
        var result = new string[columnCount];
        if (names is null)
        {
            if (columnCount == 1) result[0] = "value";
            else for (int j = 0; j < columnCount; j++) result[j] = string.Create(CultureInfo.InvariantCulture, $"column{j}");
            return result;
        }
        if (names.Count != columnCount)
            throw new ArgumentException($"{names.Count} column names given for {columnCount} columns.", namesName);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int j = 0; j < columnCount; j++)
        {
            string? name = names[j];
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"Column name {j} is empty.", namesName);
            if (!seen.Add(name)) throw new ArgumentException($"Column name '{name}' is used twice.", namesName);
            result[j] = name;
        }
        return result;
    }
}
