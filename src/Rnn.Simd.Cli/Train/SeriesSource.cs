using System.Globalization;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Cli.Train;

/// <summary>The series a command trains or evaluates on, in original units, after aggregation.</summary>
/// <param name="Series">The (aggregated) series.</param>
/// <param name="Mask">Target times excluded from losses and metrics (the embedded data's anomaly; none for a file).</param>
/// <param name="Name">Short name for reports: <c>acea-rome-hourly</c> or the file name.</param>
/// <param name="Column">Column name of the series.</param>
/// <param name="Aggregate">Rows averaged into one step.</param>
/// <param name="FilledGaps">Missing values filled by interpolation.</param>
/// <param name="DroppedRows">Rows dropped at the end because they did not fill a whole aggregate.</param>
/// <param name="IsEmbedded">True for the embedded ACEA data.</param>
public sealed record LoadedSeries(TimeSeries Series, TimeMask Mask, string Name, string Column, int Aggregate, int FilledGaps, int DroppedRows, bool IsEmbedded)
{
    /// <summary>The times of the (aggregated) steps, from the file's time column; null without one.</summary>
    public TimeAxis? Time { get; init; }

    /// <summary>The time column's name, or null.</summary>
    public string? TimeColumn { get; init; }

    /// <summary>The sampling period of the (aggregated) steps: from the time column, 10 minutes × aggregate for the embedded data, null when unknown.</summary>
    public SamplingPeriod? Period { get; init; }

    /// <summary>Missing timestamps filled by linear interpolation (<c>--fill-gaps linear</c>), counted in rows of the file.</summary>
    public int FilledTimeSteps { get; init; }

    /// <summary>One line for the progress output: what was loaded and how.</summary>
    public string Describe()
    {
        var s = new System.Text.StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"{(IsEmbedded ? "ACEA Rome load (embedded)" : Name)}, column '{Column}', {Series.Length} steps");
        if (Aggregate > 1) s.Append(CultureInfo.InvariantCulture, $" (means of {Aggregate} rows{(DroppedRows > 0 ? $", last {DroppedRows} rows dropped" : "")})");
        if (Period is { } p) s.Append(CultureInfo.InvariantCulture, $"; sampled every {p}{(Time is { } t ? $" from {t.Start:yyyy-MM-dd HH:mm} (time column '{TimeColumn}')" : "")}");
        if (FilledGaps > 0) s.Append(CultureInfo.InvariantCulture, $"; {FilledGaps} missing value(s) interpolated");
        if (FilledTimeSteps > 0) s.Append(CultureInfo.InvariantCulture, $"; {FilledTimeSteps} missing time step(s) filled by linear interpolation");
        if (!Mask.IsEmpty) s.Append(CultureInfo.InvariantCulture, $"; steps {Mask} (abnormally low load) masked out of losses and metrics");
        return s.ToString();
    }
}

/// <summary>
/// Loads the series of <c>train</c> (and later <c>forecast</c> / <c>evaluate</c>): the embedded ACEA Rome 10-minute
/// load with its anomaly mask, or one column of a user CSV file (<see cref="CsvColumnReader"/>), then averaged over
/// <c>--aggregate</c> rows.
/// </summary>
public static class SeriesSource
{
    /// <summary>Embedded resource name of the default data.</summary>
    public const string DataResource = "Rnn.Simd.Cli.Data.acea-rome-10min.csv.gz";

    /// <summary>Rows of the embedded 10-minute data averaged by default: hourly steps.</summary>
    public const int EmbeddedAggregate = 6;

    /// <summary>
    /// The anomaly of the embedded series (abnormally low load), in 10-minute indices [start, end); hourly indices
    /// [16000, 17848).
    /// </summary>
    public static readonly TimeRange EmbeddedAnomaly = new(96000, 107088);

    /// <summary>Loads the series the options ask for.</summary>
    public static LoadedSeries Load(TrainOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return Load(o.Source);
    }

    /// <summary>Loads the series the data options ask for (aggregate by default 6 for the embedded data, 1 for a file).</summary>
    public static LoadedSeries Load(DataOptions d)
    {
        ArgumentNullException.ThrowIfNull(d);
        return d.Data is null ? LoadEmbedded(d.Aggregate ?? EmbeddedAggregate)
            : LoadFile(d.Data, new CsvColumnOptions(d.Column, d.HasHeader, d.Separator, d.FillGaps, d.TimeColumn, d.TimeFormat), d.Aggregate ?? 1);
    }

    /// <summary>The embedded ACEA data averaged over <paramref name="aggregate"/> rows, with its anomaly mask.</summary>
    public static LoadedSeries LoadEmbedded(int aggregate = EmbeddedAggregate)
    {
        using Stream stream = typeof(SeriesSource).Assembly.GetManifestResourceStream(DataResource)
            ?? throw new CliException($"the embedded data {DataResource} is missing from this build");
        TimeSeries raw = CsvSeriesReader.Read(stream);
        (TimeSeries series, int dropped) = AggregateSeries(raw, aggregate, "the embedded data");
        return new LoadedSeries(series, TimeMask.Exclude(EmbeddedAnomaly).Aggregate(aggregate), "acea-rome", raw.ColumnNames[0], aggregate, 0, dropped, IsEmbedded: true)
        {
            // 10-minute values without timestamps: the period is known, the calendar is not.
            Period = EmbeddedPeriod.Times(aggregate),
        };
    }

    /// <summary>The sampling period of the embedded data's rows.</summary>
    public static readonly SamplingPeriod EmbeddedPeriod = SamplingPeriod.FromDuration(TimeSpan.FromMinutes(10));

    /// <summary>One column of a CSV file averaged over <paramref name="aggregate"/> rows.</summary>
    public static LoadedSeries LoadFile(string path, string? column, bool? hasHeader, char? separator, bool fillGaps, int aggregate) =>
        LoadFile(path, new CsvColumnOptions(column, hasHeader, separator, fillGaps), aggregate);

    /// <summary>
    /// One column of a CSV file, on the grid of its time column when it has one (<see cref="TimeAxis.FromTimestamps"/>:
    /// the sampling period, and an error naming the line for an unsorted, repeated, irregular or missing timestamp;
    /// missing ones are filled by linear interpolation with <c>--fill-gaps linear</c>), averaged over
    /// <paramref name="aggregate"/> rows.
    /// </summary>
    public static LoadedSeries LoadFile(string path, CsvColumnOptions options, int aggregate)
    {
        ArgumentNullException.ThrowIfNull(options);
        string file = Path.GetFileName(path);
        CsvColumn read = CsvColumnReader.Read(path, options);
        TimeSeries raw = read.Series;
        TimeAxis? axis = null;
        int filledTime = 0;
        if (read.Times is { } times)
        {
            if (times.Count < 2) throw new CliException($"{file}: the time column '{read.TimeColumnName}' has fewer than two rows; a sampling period needs two.");
            int[] positions;
            try
            {
                (axis, positions) = TimeAxis.FromTimestamps(times.ToArray(), options.FillGaps);
            }
            catch (IrregularTimeException e)
            {
                string message = e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
                int colon = message.IndexOf(": ", StringComparison.Ordinal);
                throw new CliException(Invariant($"{file}, line {read.Lines[e.Index]}, time column '{read.TimeColumnName}': {message[(colon + 2)..]}"), e);
            }
            (raw, filledTime) = OnGrid(raw, positions);
        }
        (TimeSeries series, int dropped) = AggregateSeries(raw.WithTime(axis), aggregate, file);
        return new LoadedSeries(series, TimeMask.None, file, read.Series.ColumnNames[0], aggregate, read.FilledGaps, dropped, IsEmbedded: false)
        {
            Time = axis?.Aggregate(aggregate),
            TimeColumn = read.TimeColumnName,
            Period = axis?.Period.Times(aggregate),
            FilledTimeSteps = filledTime,
        };
    }

    // The values at their grid positions, the missing steps between them interpolated linearly.
    private static (TimeSeries Series, int Filled) OnGrid(TimeSeries raw, int[] positions)
    {
        int n = positions[^1] + 1;
        if (n == raw.Length) return (raw, 0);
        var values = new float[n];
        values.AsSpan().Fill(float.NaN);
        ReadOnlySpan<float> v = raw.Values;
        for (int i = 0; i < positions.Length; i++) values[positions[i]] = v[i];
        int filled = TimeSeries.InterpolateGaps(values);
        return (new TimeSeries(values, 1, raw.ColumnNames), filled);
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static (TimeSeries Series, int Dropped) AggregateSeries(TimeSeries raw, int aggregate, string what)
    {
        if (aggregate == 1) return (raw, 0);
        if (raw.Length < aggregate)
            throw new CliException(string.Create(CultureInfo.InvariantCulture, $"--aggregate {aggregate} needs at least {aggregate} rows; {what} has {raw.Length}."));
        // An incomplete last group would be a mean over fewer rows than the others: drop it (reported in Describe).
        return (raw.Aggregate(aggregate, dropIncompleteTail: true), raw.Length % aggregate);
    }
}
