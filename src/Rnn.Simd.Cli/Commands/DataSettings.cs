using System.ComponentModel;
using Rnn.Simd.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>
/// The data options shared by <c>train</c>, <c>forecast</c> and <c>evaluate</c>: which series to read (the embedded
/// ACEA load or one column of a CSV file) and how (header, separator, gaps, aggregation). Parsed by
/// <see cref="TryParseData"/> into a <see cref="DataOptions"/>, with one-line messages naming the option.
/// </summary>
public abstract class DataSettings : CommandSettings
{
    /// <summary>User data file.</summary>
    [CommandOption("--data <FILE>")]
    [Description("CSV file (plain or gzip-compressed) with the series, oldest row first (default: the embedded ACEA Rome load).")]
    public string? Data { get; init; }

    /// <summary>Column of the data file.</summary>
    [CommandOption("--column <NAME|INDEX>")]
    [Description("Column of --data to forecast: a header name or a 0-based index (default: the only numeric column).")]
    public string? Column { get; init; }

    /// <summary>Rows averaged into one step.</summary>
    [CommandOption("--aggregate <K>")]
    [Description("Average every K rows into one time step (default 6 for the embedded 10-minute data, giving hours; 1 for --data).")]
    public string? Aggregate { get; init; }

    /// <summary>The data file has a header line.</summary>
    [CommandOption("--has-header")]
    [Description("The first line of --data is a header (default: detected; a first line of numbers is data).")]
    public bool HasHeader { get; init; }

    /// <summary>The data file has no header line.</summary>
    [CommandOption("--no-header")]
    [Description("The first line of --data is data, not a header.")]
    public bool NoHeader { get; init; }

    /// <summary>Field separator of the data file.</summary>
    [CommandOption("--separator <CHAR>")]
    [Description("Field separator of --data: , ; | or tab (default: detected from the first line).")]
    public string? Separator { get; init; }

    /// <summary>Gap handling.</summary>
    [CommandOption("--fill-gaps <METHOD>")]
    [Description("none (default: an empty or NaN value, or a missing time step, is an error naming its line) or linear (interpolate missing values and missing time steps inside the series).")]
    public string? FillGaps { get; init; }

    /// <summary>Time column of the data file.</summary>
    [CommandOption("--time-column <NAME|INDEX>")]
    [Description("Column of --data holding the time of each row (ISO 8601 dates and date-times, yyyy-MM, Unix seconds), or none (default: a column named time, date, timestamp, datetime or ds, or the first column, when its first value is a time).")]
    public string? TimeColumn { get; init; }

    /// <summary>Format of the time column.</summary>
    [CommandOption("--time-format <FORMAT>")]
    [Description("A .NET custom date and time format of the time column, invariant culture (e.g. dd/MM/yyyy HH:mm); default: ISO 8601, yyyy-MM or Unix seconds.")]
    public string? TimeFormat { get; init; }

    /// <summary>Parses the data options; an error names the option.</summary>
    protected ValidationResult TryParseData(out DataOptions? data)
    {
        data = null;
        ValidationResult r;
        if (!(r = OptionValues.ParseInt("--aggregate", Aggregate, 1, 1_000_000, out int? aggregate)).Successful) return r;
        if (HasHeader && NoHeader) return ValidationResult.Error("--has-header and --no-header contradict each other; give at most one.");
        if (Data is not null && OptionValues.IsMissing(Data)) return ValidationResult.Error("--data needs a value.");
        if (Data is null)
        {
            foreach ((string name, bool given) in new[] { ("--column", Column is not null), ("--has-header", HasHeader), ("--no-header", NoHeader), ("--separator", Separator is not null),
                         ("--time-column", TimeColumn is not null), ("--time-format", TimeFormat is not null) })
                if (given) return ValidationResult.Error($"{name} applies to --data FILE; without --data the embedded ACEA series is used.");
        }
        if (Column is not null && OptionValues.IsMissing(Column)) return ValidationResult.Error("--column needs a value.");
        char? separator = null;
        if (Separator is not null)
        {
            separator = Separator switch
            {
                "," or "comma" => ',',
                ";" or "semicolon" => ';',
                "|" or "pipe" => '|',
                "tab" or "\\t" or "\t" => '\t',
                _ => null,
            };
            if (separator is null) return ValidationResult.Error($"--separator must be one of , ; | tab, got '{Separator}'.");
        }
        string fill = (FillGaps ?? "none").Trim().ToLowerInvariant();
        if (fill is not ("none" or "linear"))
            return ValidationResult.Error($"--fill-gaps must be none or linear, got '{FillGaps}'.");
        if (TimeColumn is not null && OptionValues.IsMissing(TimeColumn)) return ValidationResult.Error("--time-column needs a value (a column, or none).");
        if (TimeFormat is not null)
        {
            if (OptionValues.IsMissing(TimeFormat)) return ValidationResult.Error("--time-format needs a format such as yyyy-MM-dd.");
            if (TimeColumn is not null && string.Equals(TimeColumn.Trim(), "none", StringComparison.OrdinalIgnoreCase))
                return ValidationResult.Error("--time-format applies to a time column; --time-column none has none.");
            try
            {
                _ = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc).ToString(TimeFormat, System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (FormatException)
            {
                return ValidationResult.Error($"--time-format '{TimeFormat}' is not a valid .NET date and time format.");
            }
        }
        data = new DataOptions(Data, Column, aggregate, HasHeader ? true : NoHeader ? false : null, separator, fill == "linear", TimeColumn?.Trim(), TimeFormat);
        return ValidationResult.Success();
    }
}

/// <summary>Parsed data options: where the series comes from and how it is read.</summary>
/// <param name="Data">User CSV file, or null for the embedded data.</param>
/// <param name="Column">Column name or 0-based index in <paramref name="Data"/>, or null for the only numeric column.</param>
/// <param name="Aggregate">Rows averaged per time step, or null for the command's default.</param>
/// <param name="HasHeader">True or false when the header was stated, null to detect it.</param>
/// <param name="Separator">Field separator, or null to detect it.</param>
/// <param name="FillGaps">Interpolate missing values and missing time steps linearly instead of rejecting them.</param>
/// <param name="TimeColumn">Time column name or index, "none", or null to detect it.</param>
/// <param name="TimeFormat">.NET custom format of the time column, or null for the built-in forms.</param>
public sealed record DataOptions(string? Data, string? Column, int? Aggregate, bool? HasHeader, char? Separator, bool FillGaps,
    string? TimeColumn = null, string? TimeFormat = null);
