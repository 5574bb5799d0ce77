using System.Globalization;
using System.Text;

namespace Rnn.Simd.Forecasting;

/// <summary>The kind of one input feature of a <see cref="FeatureSpec"/>.</summary>
public enum FeatureKind
{
    /// <summary>
    /// The scaled value of every input column at the row's time t (one input per input column). Text form <c>value</c>
    /// (alias <c>load</c>). Parameter unused (0).
    /// </summary>
    Value = 0,

    /// <summary>
    /// The scaled value of every target column L steps before the row's furthest target, y[t + h - L] (one input per
    /// target column), L ≥ h so that it is known at time t. Text form <c>lagL</c>, e.g. <c>lag168</c> (the same hour a
    /// week before the target on hourly data). Parameter L.
    /// </summary>
    Lag = 1,

    /// <summary>
    /// The phase of the row's time t in a cycle of P steps, as two inputs sin(2π t / P) and cos(2π t / P), t the index
    /// in the series. Text form <c>phaseP</c>, with <c>day</c> = phase24 and <c>week</c> = phase168 (hourly data).
    /// Parameter P ≥ 2.
    /// </summary>
    Phase = 2,

    /// <summary>
    /// The phase of the row's time t in a calendar cycle, from the series' timestamps (<c>TimeSeries.Time</c>),
    /// as two inputs sin(2π f) and cos(2π f), f the fraction of the cycle elapsed at t. Text forms <c>hourofday</c>
    /// (f = time of day / 24 h), <c>dayofweek</c> (f = (days since Monday + time of day) / 7), <c>dayofyear</c>
    /// (f = (day of year − 1 + time of day) / days in the year) and <c>month</c> (f = (month − 1) / 12). Parameter a
    /// <see cref="CalendarField"/>. Needs a series with a time axis.
    /// </summary>
    Calendar = 3,
}

/// <summary>The calendar cycle of a <see cref="FeatureKind.Calendar"/> feature (its parameter).</summary>
public enum CalendarField
{
    /// <summary>Hour of the day (a cycle of 24 hours).</summary>
    HourOfDay = 1,

    /// <summary>Day of the week (a cycle of 7 days from Monday).</summary>
    DayOfWeek = 2,

    /// <summary>Day of the year (a cycle of 365 or 366 days).</summary>
    DayOfYear = 3,

    /// <summary>Month of the year (a cycle of 12 months).</summary>
    Month = 4,
}

/// <summary>One input feature: a kind and its integer parameter (the lag L or the period P; 0 for a value).</summary>
/// <param name="Kind">What the feature reads.</param>
/// <param name="Parameter">L for <see cref="FeatureKind.Lag"/>, P for <see cref="FeatureKind.Phase"/>, 0 for <see cref="FeatureKind.Value"/>.</param>
public readonly record struct Feature(FeatureKind Kind, int Parameter)
{
    /// <summary>The current value of the input columns.</summary>
    public static Feature Value => new(FeatureKind.Value, 0);

    /// <summary>y[t + h - <paramref name="lag"/>] of the target columns.</summary>
    public static Feature Lag(int lag) => new(FeatureKind.Lag, lag);

    /// <summary>sin / cos of the time's phase in a cycle of <paramref name="period"/> steps.</summary>
    public static Feature Phase(int period) => new(FeatureKind.Phase, period);

    /// <summary>sin / cos of the timestamp's phase in the calendar cycle <paramref name="field"/>.</summary>
    public static Feature Calendar(CalendarField field) => new(FeatureKind.Calendar, (int)field);

    /// <summary>The short text form: value, lagL, day, week or phaseP.</summary>
    public override string ToString() => Kind switch
    {
        FeatureKind.Value => "value",
        FeatureKind.Lag => "lag" + Parameter.ToString(CultureInfo.InvariantCulture),
        FeatureKind.Phase when Parameter == 24 => "day",
        FeatureKind.Phase when Parameter == 168 => "week",
        FeatureKind.Phase => "phase" + Parameter.ToString(CultureInfo.InvariantCulture),
        FeatureKind.Calendar when Parameter == (int)CalendarField.HourOfDay => "hourofday",
        FeatureKind.Calendar when Parameter == (int)CalendarField.DayOfWeek => "dayofweek",
        FeatureKind.Calendar when Parameter == (int)CalendarField.DayOfYear => "dayofyear",
        FeatureKind.Calendar when Parameter == (int)CalendarField.Month => "month",
        _ => $"unknown({(int)Kind},{Parameter})",
    };
}

/// <summary>
/// Which inputs a forecasting network reads at each step, computed from the series alone (no timestamps needed): an
/// immutable, ordered list of <see cref="Feature"/>s with a short text form such as <c>"value,lag168,day,week"</c>
/// (<see cref="Parse"/> / <see cref="ToString"/> round-trip), so that a model file or a command-line option can carry it.
/// </summary>
/// <remarks>
/// <para>The input row of time t is the concatenation, in list order, of: <c>value</c> → the scaled input columns at
/// t; <c>lagL</c> → the scaled target columns at t + h - L; <c>phaseP</c> → sin(2π t/P), cos(2π t/P) (not scaled,
/// already in [-1, 1]). Values and lags are z-scored with the scaler of their column (fitted on the training part).</para>
/// <para>Lags are relative to the row's furthest target t + h, so <c>lag168</c> with h = 24 reads y[t - 144]: the load
/// of the target's hour one week earlier. A lag shorter than h would read the future and is rejected. A row whose lag
/// would reach before the series start is dropped (not masked): windows start at input time max(0, L_max - h), so
/// the first L_max targets of a series are never predicted. A <see cref="TimeMask"/> excludes targets only: a value or
/// lag input that reads a masked time still reads the value stored there.</para>
/// <para>Phases use the index t of the series, so a model trained with them expects a series whose index 0 falls on
/// the same phase as the training series' (e.g. midnight of a Monday for day and week on hourly data), or a series
/// that continues the training series.</para>
/// </remarks>
public sealed class FeatureSpec : IEquatable<FeatureSpec>
{
    private readonly Feature[] _items;

    /// <summary>Creates a spec from features (copied).</summary>
    /// <exception cref="ArgumentException">The list is empty, holds a feature twice, an unknown kind, a lag below 1 or a period below 2.</exception>
    public FeatureSpec(IReadOnlyList<Feature> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Count == 0) throw new ArgumentException("A feature spec needs at least one feature (e.g. \"value\").", nameof(features));
        _items = new Feature[features.Count];
        for (int i = 0; i < _items.Length; i++)
        {
            Feature f = features[i];
            switch (f.Kind)
            {
                case FeatureKind.Value when f.Parameter != 0:
                    throw new ArgumentException($"Feature {i}: a value feature takes no parameter (got {f.Parameter}).", nameof(features));
                case FeatureKind.Lag when f.Parameter < 1:
                    throw new ArgumentException($"Feature {i}: a lag must be at least 1 step (got {f.Parameter}).", nameof(features));
                case FeatureKind.Phase when f.Parameter < 2:
                    throw new ArgumentException($"Feature {i}: a phase period must be at least 2 steps (got {f.Parameter}).", nameof(features));
                case FeatureKind.Calendar when f.Parameter < (int)CalendarField.HourOfDay || f.Parameter > (int)CalendarField.Month:
                    throw new ArgumentException($"Feature {i}: unknown calendar field {f.Parameter}.", nameof(features));
                case FeatureKind.Value or FeatureKind.Lag or FeatureKind.Phase or FeatureKind.Calendar:
                    break;
                default:
                    throw new ArgumentException($"Feature {i}: unknown kind {(int)f.Kind}.", nameof(features));
            }
            for (int k = 0; k < i; k++)
                if (_items[k] == f) throw new ArgumentException($"The feature '{f}' is listed twice.", nameof(features));
            _items[i] = f;
            if (f.Kind == FeatureKind.Lag) MaxLag = Math.Max(MaxLag, f.Parameter);
            if (f.Kind == FeatureKind.Calendar) HasCalendar = true;
        }
    }

    /// <summary>True when a feature reads the timestamps (<see cref="FeatureKind.Calendar"/>): the series needs a <c>TimeSeries.Time</c>.</summary>
    public bool HasCalendar { get; }

    /// <summary>
    /// This spec with each phase feature whose cycle is a calendar cycle of <paramref name="period"/> replaced by the
    /// calendar feature read from the real timestamps (a series with a time column): on sub-daily data a phase of one day
    /// becomes <c>hourofday</c> and one of a week <c>dayofweek</c>; on daily data phase7 becomes <c>dayofweek</c> and
    /// phase365 <c>dayofyear</c>; on monthly data phase12 becomes <c>month</c>. Other features are kept; returns this
    /// instance when nothing changes.
    /// </summary>
    public FeatureSpec WithCalendarPhases(SamplingPeriod period)
    {
        var items = new Feature[_items.Length];
        bool changed = false;
        for (int i = 0; i < items.Length; i++)
        {
            Feature f = _items[i];
            CalendarField? field = f.Kind == FeatureKind.Phase ? CalendarOf(f.Parameter, period) : null;
            items[i] = field is { } c ? Feature.Calendar(c) : f;
            changed |= field is not null;
        }
        if (!changed) return this;
        // Two phases may map to one calendar feature (never with distinct periods, but keep the spec valid).
        var distinct = new List<Feature>(items.Length);
        foreach (Feature f in items)
            if (!distinct.Contains(f)) distinct.Add(f);
        return new FeatureSpec(distinct);
    }

    private static CalendarField? CalendarOf(int steps, SamplingPeriod period)
    {
        if (period.IsCalendarMonths) return period.Months * steps == 12 ? CalendarField.Month : null;
        TimeSpan cycle = period.Duration * steps;
        if (cycle == TimeSpan.FromDays(1) && period.Duration < TimeSpan.FromDays(1)) return CalendarField.HourOfDay;
        if (cycle == TimeSpan.FromDays(7)) return CalendarField.DayOfWeek;
        if (period.Duration == TimeSpan.FromDays(1) && (steps == 365 || steps == 366)) return CalendarField.DayOfYear;
        return null;
    }

    /// <summary>The default: the current value of the input columns only (what a network read before features existed).</summary>
    public static FeatureSpec ValueOnly { get; } = new([Feature.Value]);

    /// <summary>The features, in input order.</summary>
    public IReadOnlyList<Feature> Items => _items;

    /// <summary>The largest lag L (0 without lag features).</summary>
    public int MaxLag { get; }

    /// <summary>True when the spec reads the input columns' current values.</summary>
    public bool HasValue => Array.IndexOf(_items, Feature.Value) >= 0;

    /// <summary>I, the network's input size, for <paramref name="inputColumns"/> input and <paramref name="targetColumns"/> target columns.</summary>
    public int InputSize(int inputColumns, int targetColumns)
    {
        int size = 0;
        foreach (Feature f in _items)
            size += f.Kind switch { FeatureKind.Value => inputColumns, FeatureKind.Lag => targetColumns, _ => 2 };
        return size;
    }

    /// <summary>The first input time whose lags all fall inside the series for horizon <paramref name="horizon"/>: max(0, L_max - h).</summary>
    public int EarliestInputTime(int horizon) => Math.Max(0, MaxLag - horizon);

    /// <summary>Throws when a lag is shorter than the horizon (it would read a value later than the row's time).</summary>
    /// <exception cref="ArgumentException">A lag L &lt; h.</exception>
    public void CheckHorizon(int horizon, string? paramName = null)
    {
        foreach (Feature f in _items)
            if (f.Kind == FeatureKind.Lag && f.Parameter < horizon)
                throw new ArgumentException(
                    $"The feature '{f}' reads y[t + h - {f.Parameter}], which lies after the row's time t for horizon h = {horizon}: a lag must be at least the horizon.",
                    paramName);
    }

    /// <summary>
    /// This spec without the lags shorter than <paramref name="horizon"/> (they would read the future), e.g. to reuse a
    /// default feature set for a longer horizon: <c>value,lag48,lag72,lag168</c> at h = 60 gives <c>value,lag72,lag168</c>.
    /// Returns this instance when every lag is long enough.
    /// </summary>
    /// <exception cref="ArgumentException">Nothing would be left.</exception>
    public FeatureSpec WithoutLagsBelow(int horizon)
    {
        var kept = new List<Feature>(_items.Length);
        foreach (Feature f in _items)
            if (f.Kind != FeatureKind.Lag || f.Parameter >= horizon) kept.Add(f);
        if (kept.Count == _items.Length) return this;
        if (kept.Count == 0) throw new ArgumentException($"Every feature of '{this}' is a lag shorter than the horizon {horizon}.", nameof(horizon));
        return new FeatureSpec(kept);
    }

    /// <summary>Parses the short text form: comma-separated <c>value</c> (or <c>load</c>), <c>lagL</c>, <c>day</c>, <c>week</c>, <c>phaseP</c>, <c>hourofday</c>, <c>dayofweek</c>, <c>dayofyear</c>, <c>month</c>; case and spaces ignored.</summary>
    /// <exception cref="FormatException">An empty list, an unknown or malformed feature (the message names it).</exception>
    /// <exception cref="ArgumentException">A repeated feature, a lag below 1 or a period below 2.</exception>
    public static FeatureSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(',');
        var features = new Feature[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            string p = parts[i].Trim().ToLowerInvariant();
            features[i] = p switch
            {
                "value" or "load" => Feature.Value,
                "day" => Feature.Phase(24),
                "week" => Feature.Phase(168),
                "hourofday" => Feature.Calendar(CalendarField.HourOfDay),
                "dayofweek" => Feature.Calendar(CalendarField.DayOfWeek),
                "dayofyear" => Feature.Calendar(CalendarField.DayOfYear),
                "month" or "monthofyear" => Feature.Calendar(CalendarField.Month),
                _ when p.StartsWith("lag", StringComparison.Ordinal) => Feature.Lag(Number(p, 3, parts[i], text)),
                _ when p.StartsWith("phase", StringComparison.Ordinal) => Feature.Phase(Number(p, 5, parts[i], text)),
                _ => throw new FormatException(
                    $"Unknown feature '{parts[i].Trim()}' in \"{text}\": use value (or load), lagL, day, week, phaseP, hourofday, dayofweek, dayofyear or month, separated by commas."),
            };
        }
        return new FeatureSpec(features);
    }

    private static int Number(string p, int prefix, string original, string text)
    {
        if (p.Length == prefix || !int.TryParse(p.AsSpan(prefix), NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            throw new FormatException($"The feature '{original.Trim()}' in \"{text}\" needs a whole number of steps after '{p[..prefix]}', e.g. {p[..prefix]}168.");
        return n;
    }

    /// <summary>The short text form, e.g. <c>value,lag168,day,week</c>; <see cref="Parse"/> gives back an equal spec.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < _items.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(_items[i].ToString());
        }
        return sb.ToString();
    }

    /// <summary>Same features in the same order.</summary>
    public bool Equals(FeatureSpec? other) => other is not null && _items.AsSpan().SequenceEqual(other._items);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as FeatureSpec);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (Feature f in _items) hash.Add(f);
        return hash.ToHashCode();
    }

    /// <summary>
    /// Writes the input row of time <paramref name="t"/> (I values) from <paramref name="source"/>, scaling values
    /// and lags with <paramref name="mean"/> / <paramref name="std"/> of their column. Overwrites; allocates nothing.
    /// </summary>
    internal void FillRow(in SeriesView source, int t, int horizon, ReadOnlySpan<int> inputColumns, ReadOnlySpan<int> targetColumns,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> std, Span<float> row, TimeAxis? time = null)
    {
        int at = 0;
        foreach (Feature f in _items)
        {
            switch (f.Kind)
            {
                case FeatureKind.Value:
                    foreach (int j in inputColumns) row[at++] = (float)((source.Value(t, j) - mean[j]) / std[j]);
                    break;
                case FeatureKind.Lag:
                    int s = t + horizon - f.Parameter;
                    foreach (int j in targetColumns) row[at++] = (float)((source.Value(s, j) - mean[j]) / std[j]);
                    break;
                case FeatureKind.Calendar:
                    if (time is null) ThrowNoTime(f);
                    double turn = 2 * Math.PI * CalendarFraction(time!.TimeAt(t), (CalendarField)f.Parameter);
                    row[at++] = (float)Math.Sin(turn);
                    row[at++] = (float)Math.Cos(turn);
                    break;
                default:
                    // t mod P first, so that the angle stays exact for any t (no loss of the phase in a large 2π t / P).
                    double angle = 2 * Math.PI * (t % f.Parameter) / f.Parameter;
                    row[at++] = (float)Math.Sin(angle);
                    row[at++] = (float)Math.Cos(angle);
                    break;
            }
        }
    }

    /// <summary>The fraction in [0, 1) of the calendar cycle <paramref name="field"/> elapsed at <paramref name="time"/> (see <see cref="FeatureKind.Calendar"/>).</summary>
    public static double CalendarFraction(DateTime time, CalendarField field)
    {
        double day = time.TimeOfDay.Ticks / (double)TimeSpan.TicksPerDay;
        return field switch
        {
            CalendarField.HourOfDay => day,
            // DayOfWeek counts from Sunday = 0; the cycle starts on Monday.
            CalendarField.DayOfWeek => (((int)time.DayOfWeek + 6) % 7 + day) / 7,
            CalendarField.DayOfYear => (time.DayOfYear - 1 + day) / (DateTime.IsLeapYear(time.Year) ? 366 : 365),
            CalendarField.Month => (time.Month - 1) / 12.0,
            _ => throw new ArgumentOutOfRangeException(nameof(field), field, "Unknown calendar field."),
        };
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowNoTime(Feature f) =>
        throw new InvalidOperationException($"The feature '{f}' reads the timestamps of the series, and this series has none (a file needs a time column).");
}

/// <summary>
/// Values of a series by (time, column) for feature rows: times before <see cref="HistoryLength"/> come from the
/// history (T x C, original units), later times from values generated so far (G x C_t, original units, one column
/// per target column), which is how a generative forecast feeds its predictions back.
/// </summary>
internal readonly ref struct SeriesView
{
    private readonly ReadOnlySpan<float> _history;
    private readonly ReadOnlySpan<float> _generated;
    private readonly ReadOnlySpan<int> _targetColumns;
    private readonly int _columns;

    public SeriesView(ReadOnlySpan<float> history, int columns) : this(history, columns, default, default) { }

    public SeriesView(ReadOnlySpan<float> history, int columns, ReadOnlySpan<float> generated, ReadOnlySpan<int> targetColumns)
    {
        _history = history;
        _columns = columns;
        _generated = generated;
        _targetColumns = targetColumns;
        HistoryLength = history.Length / columns;
    }

    public int HistoryLength { get; }

    public float Value(int time, int column)
    {
        if (time < HistoryLength) return _history[time * _columns + column];
        int k = _targetColumns.IndexOf(column);
        return _generated[(time - HistoryLength) * _targetColumns.Length + k];
    }
}
