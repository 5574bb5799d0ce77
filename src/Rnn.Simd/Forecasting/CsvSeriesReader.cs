using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Rnn.Simd.Forecasting;

/// <summary>Options of <see cref="CsvSeriesReader"/>.</summary>
public sealed class CsvSeriesOptions
{
    /// <summary>The defaults: a header line, missing values are errors.</summary>
    public static CsvSeriesOptions Default { get; } = new();

    /// <summary>
    /// True (the default) when the first line is a header holding the column name. A first line that parses as a
    /// number is then rejected rather than silently taken for a name.
    /// </summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>What to do with missing values (empty lines between values, NaN, NA, N/A, null): throw (the default) or interpolate linearly.</summary>
    public GapHandling Gaps { get; init; } = GapHandling.Throw;
}

/// <summary>
/// Reads a single-column CSV of numbers into a univariate <see cref="TimeSeries"/>, without any third-party package:
/// an optional header line (the column name; surrounding quotes are removed), then one number per line, oldest first,
/// in the invariant culture ('.' decimal separator, exponents allowed, surrounding quotes allowed). Lines are
/// trimmed; blank lines at the end are ignored; a blank line between values, or NaN / NA / N/A / null (any case), is
/// a missing value. Every error names its 1-based line: <see cref="SeriesFormatException"/> for text that is not a
/// number or a line with several fields, <see cref="NonFiniteValueException"/> for ±infinity (or an overflow) and
/// for a missing value unless <see cref="CsvSeriesOptions.Gaps"/> asks for interpolation, <see cref="EmptySeriesException"/>
/// when there is no value. Meant for the embedded default data and simple files; use a full CSV library for others.
/// </summary>
public static class CsvSeriesReader
{
    private const int MaxQuoted = 40;

    /// <summary>Reads the series from a text reader (read to its end; not disposed).</summary>
    /// <param name="reader">The CSV text.</param>
    /// <param name="options">Header and gap handling; null means <see cref="CsvSeriesOptions.Default"/>.</param>
    /// <returns>A T x 1 series named after the header (or "value" without a header).</returns>
    public static TimeSeries Read(TextReader reader, CsvSeriesOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        options ??= CsvSeriesOptions.Default;
        if (options.Gaps != GapHandling.Throw && options.Gaps != GapHandling.InterpolateLinear)
            throw new ArgumentOutOfRangeException(nameof(options), options.Gaps, "Unknown gap handling.");

        string name = "value";
        int lineNumber = 0;
        int firstDataLine = 1;
        if (options.HasHeader)
        {
            string? header = reader.ReadLine();
            lineNumber = 1;
            firstDataLine = 2;
            if (header is null) throw new EmptySeriesException("The CSV is empty: no header and no value.");
            name = ParseHeader(header);
        }

        var values = new List<float>(4096);
        int pendingBlanks = 0, pendingBlankLine = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            ReadOnlySpan<char> text = line.AsSpan().Trim();
            if (text.IsEmpty)
            {
                if (pendingBlanks++ == 0) pendingBlankLine = lineNumber;
                continue;
            }
            // Blank lines followed by a value are missing values; blank lines at the end are not.
            for (; pendingBlanks > 0; pendingBlanks--)
            {
                if (options.Gaps == GapHandling.Throw) ThrowMissing(values.Count, pendingBlankLine, "an empty line");
                values.Add(float.NaN);
            }
            values.Add(ParseValue(text, values.Count, lineNumber, options.Gaps));
        }

        if (values.Count == 0)
            throw new EmptySeriesException(options.HasHeader
                ? $"The CSV has a header ('{name}') but no value."
                : "The CSV has no value.");

        float[] array = values.ToArray();
        if (options.Gaps == GapHandling.InterpolateLinear) TimeSeries.InterpolateCore(array, 1, firstDataLine);
        return TimeSeries.Wrap(array, 1, [name]);
    }

    /// <summary>
    /// Reads the series from a stream (read to its end; not disposed), as UTF-8 (a byte-order mark selects another
    /// Unicode encoding). A seekable stream that starts with the gzip magic bytes (1F 8B) is decompressed with
    /// <see cref="GZipStream"/> first; wrap a non-seekable gzip stream in a <see cref="GZipStream"/> yourself.
    /// </summary>
    /// <param name="stream">The CSV bytes, plain or gzip-compressed.</param>
    /// <param name="options">Header and gap handling; null means <see cref="CsvSeriesOptions.Default"/>.</param>
    /// <exception cref="InvalidDataException">The stream starts with the gzip magic bytes but is not a valid gzip stream.</exception>
    /// <exception cref="ForecastDataException">The text is not a series (see the class summary: <see cref="SeriesFormatException"/>,
    /// <see cref="NonFiniteValueException"/>, <see cref="EmptySeriesException"/>).</exception>
    public static TimeSeries Read(Stream stream, CsvSeriesOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (IsGzip(stream))
        {
            using var gzip = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
            using var gzipReader = new StreamReader(gzip, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
            return Read(gzipReader, options);
        }
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        return Read(reader, options);
    }

    /// <summary>Reads the series from a file (plain or gzip-compressed, see <see cref="Read(Stream, CsvSeriesOptions?)"/>).</summary>
    /// <param name="path">Path of the CSV file.</param>
    /// <param name="options">Header and gap handling; null means <see cref="CsvSeriesOptions.Default"/>.</param>
    public static TimeSeries ReadFile(string path, CsvSeriesOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return Read(stream, options);
    }

    private static bool IsGzip(Stream stream)
    {
        if (!stream.CanSeek) return false;
        long position = stream.Position;
        Span<byte> magic = stackalloc byte[2];
        int read = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Position = position;
        return read == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
    }

    private static string ParseHeader(string header)
    {
        ReadOnlySpan<char> text = header.AsSpan().Trim();
        if (text.IsEmpty) throw new SeriesFormatException("Line 1 is empty; expected a header (the column name). Set HasHeader = false for a file without header.", 1);
        if (text.IndexOfAny(',', ';', '\t') >= 0)
            throw new SeriesFormatException($"Line 1, the header '{Quote(text)}', has several fields; this reader reads a single column (one number per line).", 1);
        ReadOnlySpan<char> name = Unquote(text);
        if (float.TryParse(name, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            throw new SeriesFormatException($"Line 1 is the number '{Quote(name)}', not a header; set HasHeader = false for a file without header.", 1);
        if (name.IsEmpty) throw new SeriesFormatException("Line 1, the header, is an empty name.", 1);
        return name.ToString();
    }

    private static float ParseValue(ReadOnlySpan<char> text, int index, int lineNumber, GapHandling gaps)
    {
        if (text.IndexOfAny(',', ';', '\t') >= 0)
            throw new SeriesFormatException($"Line {lineNumber} ('{Quote(text)}') has several fields; this reader reads a single column (one number per line).", lineNumber);
        ReadOnlySpan<char> number = Unquote(text);
        if (number.IsEmpty || IsMissingToken(number))
        {
            if (gaps == GapHandling.Throw) ThrowMissing(index, lineNumber, $"'{Quote(text)}'");
            return float.NaN;
        }
        if (!float.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
            throw new SeriesFormatException($"Line {lineNumber}: '{Quote(text)}' is not a number (invariant culture, '.' as decimal separator).", lineNumber);
        if (!float.IsFinite(value))
            throw new NonFiniteValueException(
                $"Line {lineNumber}: '{Quote(text)}' is a {NonFiniteValueException.Describe(value)} (time index {index}); the series must be finite.",
                index, 0, value, lineNumber);
        return value;
    }

    private static bool IsMissingToken(ReadOnlySpan<char> s) =>
        s.Equals("NaN", StringComparison.OrdinalIgnoreCase) || s.Equals("NA", StringComparison.OrdinalIgnoreCase)
        || s.Equals("N/A", StringComparison.OrdinalIgnoreCase) || s.Equals("null", StringComparison.OrdinalIgnoreCase);

    [DoesNotReturn]
    private static void ThrowMissing(int index, int lineNumber, string what) =>
        throw new NonFiniteValueException(
            $"Line {lineNumber}: {what} is a missing value (time index {index}). Read with Gaps = GapHandling.InterpolateLinear to interpolate gaps.",
            index, 0, float.NaN, lineNumber);

    private static ReadOnlySpan<char> Unquote(ReadOnlySpan<char> s) =>
        s.Length >= 2 && s[0] == '"' && s[^1] == '"' ? s[1..^1].Trim() : s;

    private static string Quote(ReadOnlySpan<char> s) => s.Length <= MaxQuoted ? s.ToString() : string.Concat(s[..MaxQuoted], "...");
}
