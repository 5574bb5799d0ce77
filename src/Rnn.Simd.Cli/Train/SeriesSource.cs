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
    /// <summary>One line for the progress output: what was loaded and how.</summary>
    public string Describe()
    {
        var s = new System.Text.StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"{(IsEmbedded ? "ACEA Rome load (embedded)" : Name)}, column '{Column}', {Series.Length} steps");
        if (Aggregate > 1) s.Append(CultureInfo.InvariantCulture, $" (means of {Aggregate} rows{(DroppedRows > 0 ? $", last {DroppedRows} rows dropped" : "")})");
        if (FilledGaps > 0) s.Append(CultureInfo.InvariantCulture, $"; {FilledGaps} missing value(s) interpolated");
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
        return d.Data is null ? LoadEmbedded(d.Aggregate ?? EmbeddedAggregate) : LoadFile(d.Data, d.Column, d.HasHeader, d.Separator, d.FillGaps, d.Aggregate ?? 1);
    }

    /// <summary>The embedded ACEA data averaged over <paramref name="aggregate"/> rows, with its anomaly mask.</summary>
    public static LoadedSeries LoadEmbedded(int aggregate = EmbeddedAggregate)
    {
        using Stream stream = typeof(SeriesSource).Assembly.GetManifestResourceStream(DataResource)
            ?? throw new CliException($"the embedded data {DataResource} is missing from this build");
        TimeSeries raw = CsvSeriesReader.Read(stream);
        (TimeSeries series, int dropped) = AggregateSeries(raw, aggregate, "the embedded data");
        return new LoadedSeries(series, TimeMask.Exclude(EmbeddedAnomaly).Aggregate(aggregate), "acea-rome", raw.ColumnNames[0], aggregate, 0, dropped, IsEmbedded: true);
    }

    /// <summary>One column of a CSV file averaged over <paramref name="aggregate"/> rows.</summary>
    public static LoadedSeries LoadFile(string path, string? column, bool? hasHeader, char? separator, bool fillGaps, int aggregate)
    {
        CsvColumn read = CsvColumnReader.Read(path, new CsvColumnOptions(column, hasHeader, separator, fillGaps));
        (TimeSeries series, int dropped) = AggregateSeries(read.Series, aggregate, Path.GetFileName(path));
        return new LoadedSeries(series, TimeMask.None, Path.GetFileName(path), read.Series.ColumnNames[0], aggregate, read.FilledGaps, dropped, IsEmbedded: false);
    }

    private static (TimeSeries Series, int Dropped) AggregateSeries(TimeSeries raw, int aggregate, string what)
    {
        if (aggregate == 1) return (raw, 0);
        if (raw.Length < aggregate)
            throw new CliException(string.Create(CultureInfo.InvariantCulture, $"--aggregate {aggregate} needs at least {aggregate} rows; {what} has {raw.Length}."));
        // An incomplete last group would be a mean over fewer rows than the others: drop it (reported in Describe).
        return (raw.Aggregate(aggregate, dropIncompleteTail: true), raw.Length % aggregate);
    }
}
