using System.Globalization;

namespace Rnn.Simd.Forecasting;

/// <summary>
/// Bad input to the forecasting layer: the base of every data error it throws (empty or too short series, non-finite
/// or missing values, malformed CSV, invalid split). The message says what is wrong and where (time index, column,
/// CSV line, the numbers that do not fit). Derives from <see cref="ArgumentException"/> because the data is an
/// argument of the call that rejects it.
/// </summary>
public class ForecastDataException : ArgumentException
{
    /// <summary>Creates the exception with a message that says what and where.</summary>
    /// <param name="message">What is wrong and where.</param>
    /// <param name="paramName">The argument that holds the bad data, if any.</param>
    public ForecastDataException(string message, string? paramName = null) : base(message, paramName) { }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">What is wrong and where.</param>
    /// <param name="innerException">The underlying error.</param>
    public ForecastDataException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>A series (or a CSV file, or a part of a split) has no value at all.</summary>
public sealed class EmptySeriesException : ForecastDataException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is empty.</param>
    /// <param name="paramName">The argument that is empty, if any.</param>
    public EmptySeriesException(string message, string? paramName = null) : base(message, paramName) { }
}

/// <summary>
/// A series is shorter than what an operation needs: a horizon, a split part that must hold at least one target, an
/// aggregation factor or a seasonal lag. <see cref="RequiredLength"/> and <see cref="ActualLength"/> give the numbers.
/// </summary>
public sealed class SeriesTooShortException : ForecastDataException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What needs how many values, and why.</param>
    /// <param name="requiredLength">The smallest length that would work.</param>
    /// <param name="actualLength">The length that was given.</param>
    /// <param name="paramName">The argument that is too short, if any.</param>
    public SeriesTooShortException(string message, int requiredLength, int actualLength, string? paramName = null)
        : base(message, paramName)
    {
        RequiredLength = requiredLength;
        ActualLength = actualLength;
    }

    /// <summary>The smallest length (in time steps of the series concerned) that would work.</summary>
    public int RequiredLength { get; }

    /// <summary>The length that was given.</summary>
    public int ActualLength { get; }
}

/// <summary>
/// A value is NaN (a missing value, a gap) or ±infinity where a finite number is required: in a series, a CSV file,
/// or a prediction being evaluated. Says where: <see cref="Index"/> (time index, or flat position for a prediction
/// span), <see cref="Column"/> and, for a CSV file, <see cref="LineNumber"/>.
/// </summary>
public sealed class NonFiniteValueException : ForecastDataException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What and where.</param>
    /// <param name="index">Time index (0-based) of the value, or its flat position in a span.</param>
    /// <param name="column">Column of the value, or null when the data has no columns (a flat span).</param>
    /// <param name="value">The offending value (NaN or ±infinity).</param>
    /// <param name="lineNumber">1-based line of a CSV file the value came from, if any.</param>
    /// <param name="paramName">The argument that holds the value, if any.</param>
    public NonFiniteValueException(string message, int index, int? column, float value, int? lineNumber = null, string? paramName = null)
        : base(message, paramName)
    {
        Index = index;
        Column = column;
        Value = value;
        LineNumber = lineNumber;
    }

    /// <summary>Time index (0-based) of the value, or its flat position in a span.</summary>
    public int Index { get; }

    /// <summary>Column of the value, or null for a flat span.</summary>
    public int? Column { get; }

    /// <summary>The offending value.</summary>
    public float Value { get; }

    /// <summary>True when the value is missing (NaN, an empty CSV field), which linear interpolation can fill; false for ±infinity.</summary>
    public bool IsMissing => float.IsNaN(Value);

    /// <summary>1-based line of the CSV file the value came from, or null.</summary>
    public int? LineNumber { get; }

    internal static string Describe(float value) =>
        float.IsNaN(value) ? "missing value (NaN)" : float.IsPositiveInfinity(value) ? "non-finite value +infinity" : "non-finite value -infinity";
}

/// <summary>A line of a CSV file is not what the reader accepts; <see cref="LineNumber"/> says which.</summary>
public sealed class SeriesFormatException : ForecastDataException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong with the line.</param>
    /// <param name="lineNumber">1-based line number.</param>
    public SeriesFormatException(string message, int lineNumber) : base(message) => LineNumber = lineNumber;

    /// <summary>1-based line number of the offending line.</summary>
    public int LineNumber { get; }
}

/// <summary>
/// Split fractions or boundaries that cannot work: a fraction outside [0, 1] or not finite, fractions summing to more
/// than 1, a training part that is empty, a positive fraction that rounds to an empty part, or ranges out of order.
/// </summary>
public sealed class InvalidSplitException : ForecastDataException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong with the split, with the numbers.</param>
    public InvalidSplitException(string message) : base(message) { }
}

internal static class ForecastFormat
{
    public static string Num(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
