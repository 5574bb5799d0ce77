using System.Globalization;
using System.IO.Compression;
using System.Text;
using nietras.SeparatedValues;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Cli.Train;

/// <summary>How <see cref="CsvColumnReader"/> reads a file.</summary>
/// <param name="Column">Header name or 0-based index of the column, or null for the only numeric column.</param>
/// <param name="HasHeader">True or false when known, null to detect (a first line whose fields are all numbers is data).</param>
/// <param name="Separator">Field separator, or null to let Sep detect it from the first line.</param>
/// <param name="FillGaps">Interpolate missing values (empty, NaN, NA, null) linearly instead of rejecting them.</param>
/// <param name="TimeColumn">Header name or 0-based index of the time column, "none" for no time column, or null to detect one (see <see cref="TimeParsing"/>).</param>
/// <param name="TimeFormat">A .NET custom date and time format (invariant culture) the time column must match, or null for the formats of <see cref="TimeParsing"/>.</param>
public sealed record CsvColumnOptions(string? Column = null, bool? HasHeader = null, char? Separator = null, bool FillGaps = false,
    string? TimeColumn = null, string? TimeFormat = null);

/// <summary>One column of a CSV file as a univariate series, with what was done to it.</summary>
/// <param name="Series">The values, oldest first, named after the column.</param>
/// <param name="ColumnIndex">0-based index of the column in the file.</param>
/// <param name="FilledGaps">Missing values filled by linear interpolation (0 unless asked).</param>
public sealed record CsvColumn(TimeSeries Series, int ColumnIndex, int FilledGaps)
{
    /// <summary>The timestamps of the rows (clock times in the first row's UTC offset), or null without a time column.</summary>
    public IReadOnlyList<DateTime>? Times { get; init; }

    /// <summary>The time column's name, or null without one.</summary>
    public string? TimeColumnName { get; init; }

    /// <summary>The 1-based file line of each value (for messages about a row).</summary>
    public IReadOnlyList<int> Lines { get; init; } = [];
}

/// <summary>
/// Reads one numeric column of a CSV file (plain, or gzip-compressed: detected by its magic bytes, whatever the file
/// name) through Sep. Every problem is a <see cref="CliException"/> with a one-line message naming the file and, for a
/// value, its 1-based line, the column and the text: a missing file, an unknown column (the existing ones are listed),
/// a non-numeric cell, a missing value (unless gaps are filled), ±infinity, a row too short for the column, a corrupt
/// gzip stream, a file without values.
/// </summary>
public static class CsvColumnReader
{
    private const int MaxQuoted = 40;

    /// <summary>Reads the column of <paramref name="path"/> chosen by <paramref name="options"/>.</summary>
    public static CsvColumn Read(string path, CsvColumnOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        return Parse(ReadText(path), Path.GetFileName(path), options);
    }

    /// <summary>
    /// Reads the column chosen by <paramref name="options"/> from the bytes of a seekable <paramref name="stream"/>
    /// (plain or gzip, as a file), naming <paramref name="file"/> in messages. The fuzzing harness's entry point
    /// (tests/Rnn.Simd.Fuzz); <see cref="Read(string, CsvColumnOptions)"/> is this over the opened file.
    /// </summary>
    internal static CsvColumn Read(Stream stream, string file, CsvColumnOptions options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        if (!stream.CanSeek) throw new ArgumentException("The stream must be seekable (the gzip trailer is read from its end).", nameof(stream));
        return Parse(ReadText(stream, file), file, options);
    }

    private static CsvColumn Parse(string text, string file, CsvColumnOptions options)
    {
        if (text.AsSpan().Trim().IsEmpty) throw new CliException($"{file} is empty: no header and no value.");
        bool hasHeader = options.HasHeader ?? DetectHeader(text, options.Separator);

        SepReaderOptions sepOptions = (options.Separator is char c ? Sep.New(c).Reader() : Sep.Reader()) with
        {
            HasHeader = hasHeader,
            Unescape = true,
            Trim = SepTrim.All,
            // Ragged rows are reported below with the line and the column, not by Sep's own exception.
            DisableColCountCheck = true,
        };
        try
        {
            using SepReader reader = OpenSep(sepOptions, text, file);
            IReadOnlyList<string> names = hasHeader ? reader.Header.ColNames : [];
            return ReadRows(reader, file, names, hasHeader, options);
        }
        catch (InvalidDataException e)
        {
            // Sep's own complaints (e.g. an unterminated quote) name a row; keep its words on one line.
            throw new CliException($"{file}: {e.Message}", e);
        }
    }

    private static SepReader OpenSep(SepReaderOptions options, string text, string file)
    {
        try
        {
            return options.FromText(text);
        }
        catch (ArgumentException e)
        {
            // Sep refuses a header that names a column twice (found by fuzzing: it escaped as an ArgumentException).
            throw new CliException($"{file}: the header names a column more than once ({OneLine(e.Message)}); rename the columns or read without a header.", e);
        }
    }

    // The column's name in messages and in the series: the header's, or "column j" where there is no header, the row
    // is longer than the header, or the header cell is blank (a series column needs a non-blank name; found by fuzzing).
    private static string Label(IReadOnlyList<string> names, int j, bool hasHeader) =>
        hasHeader && j < names.Count && !string.IsNullOrWhiteSpace(names[j]) ? names[j] : Invariant($"column {j}");

    private static CsvColumn ReadRows(SepReader reader, string file, IReadOnlyList<string> names, bool hasHeader, CsvColumnOptions options)
    {
        int column = -1;
        string columnName = "";
        if (options.Column is string wanted) (column, columnName) = ResolveNamed(wanted, names, file, hasHeader);

        var values = new List<float>(4096);
        var lines = new List<int>(4096);
        List<DateTimeOffset>? times = null;
        int timeColumn = -1;
        string timeName = "";
        bool firstRow = true;
        int pendingBlanks = 0, firstBlankLine = 0;
        foreach (SepReader.Row row in reader)
        {
            int line = row.LineNumberFrom;
            if (row.ColCount == 1 && row[0].Span.IsEmpty)
            {
                // A blank line between values is a missing value; blank lines at the end are not values.
                if (pendingBlanks++ == 0) firstBlankLine = line;
                continue;
            }
            if (firstRow)
            {
                firstRow = false;
                (timeColumn, timeName) = ResolveTime(row, names, file, hasHeader, options, column);
                if (timeColumn >= 0) times = new List<DateTimeOffset>(4096);
            }
            if (column < 0) (column, columnName) = ResolveDefault(row, names, file, hasHeader, timeColumn);
            if (times is not null && pendingBlanks > 0)
                throw new CliException(Invariant($"{file}, line {firstBlankLine}: a blank line has no timestamp; with the time column '{timeName}' every row needs one (remove the line, or give the row its time and an empty value)."));
            for (; pendingBlanks > 0; pendingBlanks--, firstBlankLine++)
            {
                values.Add(ParseCell([], file, firstBlankLine, columnName, options.FillGaps));
                lines.Add(firstBlankLine);
            }
            if (column >= row.ColCount)
                throw new CliException(Invariant($"{file}, line {line}: the row has {row.ColCount} field(s); column '{columnName}' is field {column + 1}."));
            if (times is not null)
            {
                if (timeColumn >= row.ColCount)
                    throw new CliException(Invariant($"{file}, line {line}: the row has {row.ColCount} field(s); the time column '{timeName}' is field {timeColumn + 1}."));
                ReadOnlySpan<char> cell = row[timeColumn].Span;
                if (!TimeParsing.TryParse(cell, options.TimeFormat, allowUnixSeconds: true, out DateTimeOffset time))
                    throw new CliException(Invariant(
                        $"{file}, line {line}, time column '{timeName}': '{Quote(cell)}' is not a time ({(options.TimeFormat is null ? TimeParsing.Formats : $"--time-format {options.TimeFormat}")})."));
                times.Add(time);
            }
            values.Add(ParseCell(row[column].Span, file, line, columnName, options.FillGaps));
            lines.Add(line);
        }
        if (values.Count == 0)
            throw new CliException(hasHeader ? $"{file} has a header but no value." : $"{file} has no value.");

        float[] array = values.ToArray();
        int filled = 0;
        if (options.FillGaps)
        {
            try
            {
                filled = TimeSeries.InterpolateGaps(array);
            }
            catch (NonFiniteValueException e)
            {
                int first = lines[e.Index];
                throw new CliException(Invariant(
                    $"{file}, line {first}, column '{columnName}': a gap at the {(e.Index == 0 ? "start" : "end")} of the series cannot be interpolated (there is no value on one side); remove those rows."), e);
            }
        }
        if (column == timeColumn)
            throw new CliException($"{file}: column '{columnName}' is the time column; choose the series with --column, or the time with --time-column.");
        return new CsvColumn(new TimeSeries(array, 1, [columnName]), column, filled)
        {
            Times = times is null ? null : TimeParsing.InFirstOffset(times),
            TimeColumnName = times is null ? null : timeName,
            Lines = lines,
        };
    }

    // The time column: --time-column (none: no time column), else the first column named like a time (time, date,
    // timestamp, datetime, ds) whose first value parses as a time (Unix seconds included), else the first column if its
    // first value parses as a date (not a bare number). A column detected so is the time column: a later value that
    // does not parse is an error naming the line.
    private static (int Index, string Name) ResolveTime(SepReader.Row first, IReadOnlyList<string> names, string file, bool hasHeader, CsvColumnOptions options, int valueColumn)
    {
        if (options.TimeColumn is string wanted)
        {
            if (string.Equals(wanted.Trim(), "none", StringComparison.OrdinalIgnoreCase)) return (-1, "");
            (int index, string name) = ResolveNamed(wanted, names, file, hasHeader);
            if (index == valueColumn)
                throw new CliException($"{file}: --time-column '{wanted}' and --column name the same column.");
            return (index, name);
        }
        for (int j = 0; j < Math.Min(names.Count, first.ColCount); j++)
        {
            if (j == valueColumn || !TimeParsing.IsTimeName(names[j])) continue;
            if (TimeParsing.TryParse(first[j].Span, options.TimeFormat, allowUnixSeconds: true, out _)) return (j, Label(names, j, hasHeader));
            if (options.TimeFormat is not null)
                throw new CliException(Invariant(
                    $"{file}, line {first.LineNumberFrom}, time column '{names[j]}': '{Quote(first[j].Span)}' does not match --time-format {options.TimeFormat}."));
        }
        if (valueColumn != 0 && first.ColCount > 1 && TimeParsing.TryParse(first[0].Span, options.TimeFormat, allowUnixSeconds: false, out _))
            return (0, Label(names, 0, hasHeader));
        return (-1, "");
    }

    private static float ParseCell(ReadOnlySpan<char> cell, string file, int line, string column, bool fillGaps)
    {
        if (cell.IsEmpty || IsMissingToken(cell))
        {
            if (fillGaps) return float.NaN;
            throw new CliException(Invariant(
                $"{file}, line {line}, column '{column}': {(cell.IsEmpty ? "empty value" : $"'{cell}'")} is a missing value; use --fill-gaps linear to interpolate gaps."));
        }
        if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            throw new CliException(Invariant($"{file}, line {line}, column '{column}': '{Quote(cell)}' is not a number ('.' is the decimal separator)."));
        float f = (float)value;
        if (!float.IsFinite(f))
            throw new CliException(Invariant($"{file}, line {line}, column '{column}': '{Quote(cell)}' is not finite (or out of the float range); the series must be finite."));
        return f;
    }

    private static (int Index, string Name) ResolveNamed(string wanted, IReadOnlyList<string> names, string file, bool hasHeader)
    {
        for (int j = 0; j < names.Count; j++)
            if (string.Equals(names[j], wanted, StringComparison.Ordinal)) return (j, Label(names, j, hasHeader));
        for (int j = 0; j < names.Count; j++)
            if (string.Equals(names[j], wanted, StringComparison.OrdinalIgnoreCase)) return (j, Label(names, j, hasHeader));
        if (int.TryParse(wanted, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            if (!hasHeader) return (index, Invariant($"column {index}"));
            if (index < names.Count) return (index, Label(names, index, hasHeader));
            throw new CliException(Invariant($"{file} has no column {index}: it has {names.Count} column(s), {ListColumns(names)} (indices start at 0)."));
        }
        throw new CliException(hasHeader
            ? $"{file} has no column '{wanted}'; its columns are {ListColumns(names)}."
            : $"{file} has no header, so --column must be a 0-based index, got '{wanted}'.");
    }

    private static (int Index, string Name) ResolveDefault(SepReader.Row first, IReadOnlyList<string> names, string file, bool hasHeader, int timeColumn = -1)
    {
        int count = Math.Max(first.ColCount, names.Count);
        if (count == 1) return (0, Label(names, 0, hasHeader));
        var numeric = new List<int>();
        for (int j = 0; j < first.ColCount; j++)
            if (j != timeColumn && double.TryParse(first[j].Span, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) numeric.Add(j);
        // The row may be longer than the header (ragged rows are allowed): such a field has no header name.
        if (numeric.Count == 1) return (numeric[0], Label(names, numeric[0], hasHeader));
        IReadOnlyList<string> listed = hasHeader ? names : Numbered(count);
        throw new CliException(numeric.Count == 0
            ? $"{file}: no column of the first data row (line {first.LineNumberFrom}) is numeric; choose one with --column among {ListColumns(listed)}."
            : $"{file} has {numeric.Count} numeric columns; choose one with --column among {ListColumns(listed)}.");
    }

    private static string[] Numbered(int count)
    {
        var names = new string[count];
        for (int j = 0; j < count; j++) names[j] = Invariant($"column {j}");
        return names;
    }

    private static string ListColumns(IReadOnlyList<string> names)
    {
        var parts = new string[names.Count];
        for (int j = 0; j < names.Count; j++) parts[j] = Invariant($"{j}: '{names[j]}'");
        return string.Join(", ", parts);
    }

    // A header is assumed unless every field of the first line is a number or a date.
    private static bool DetectHeader(string text, char? separator)
    {
        int end = text.IndexOfAny(['\r', '\n']);
        ReadOnlySpan<char> first = (end < 0 ? text : text[..end]).AsSpan().Trim();
        if (first.IsEmpty) return true;
        ReadOnlySpan<char> seps = separator is char c ? [c] : [',', ';', '\t', '|'];
        foreach (Range r in first.SplitAny(seps))
        {
            ReadOnlySpan<char> field = first[r].Trim().Trim('"');
            // A date (first column of a headerless file with a time column) is data too.
            if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _) && !TimeParsing.TryParse(field, null, allowUnixSeconds: false, out _)) return true;
        }
        return false;
    }

    private static string ReadText(string path)
    {
        string file = Path.GetFileName(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (FileNotFoundException e) { throw new CliException($"data file '{path}' does not exist.", e); }
        catch (DirectoryNotFoundException e) { throw new CliException($"data file '{path}' does not exist (no such directory).", e); }
        catch (UnauthorizedAccessException e) { throw new CliException($"data file '{path}' cannot be read: {e.Message}", e); }
        using (stream) return ReadText(stream, file);
    }

    private static string ReadText(Stream stream, string file)
    {
        long start = stream.Position;
        Span<byte> magic = stackalloc byte[2];
        int read = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Position = start;
        bool gzip = read == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        if (!gzip)
        {
            using var plain = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
            return plain.ReadToEnd();
        }
        try
        {
            return Decompress(stream);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new CliException($"{file} is gzip-compressed but cannot be decompressed (corrupt or truncated): {OneLine(e.Message)}", e);
        }
    }

    // GZipStream returns what it could decode from a truncated file without complaint, so the gzip trailer (RFC 1952:
    // CRC-32 and length mod 2^32 of the uncompressed data, the file's last 8 bytes) is checked here. A file of several
    // concatenated gzip members carries the trailer of its last member only and is rejected; recompress it as one.
    private static string Decompress(Stream stream)
    {
        long compressedLength = stream.Length;
        var bytes = new MemoryStream();
        using (var unzip = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true)) unzip.CopyTo(bytes);
        if (compressedLength < 18) throw new InvalidDataException("the file is shorter than a gzip header and trailer");
        Span<byte> trailer = stackalloc byte[8];
        stream.Position = compressedLength - 8;
        stream.ReadExactly(trailer);
        uint crc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        uint size = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        ReadOnlySpan<byte> data = bytes.GetBuffer().AsSpan(0, (int)bytes.Length);
        if (size != (uint)data.Length || crc != Crc32(data))
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{data.Length} bytes decompressed, but the gzip trailer does not match them (CRC-32 or length)"));
        using var reader = new StreamReader(new MemoryStream(bytes.GetBuffer(), 0, (int)bytes.Length), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    private static uint[]? s_crcTable;

    // CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as gzip stores it.
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint[] table = s_crcTable ??= BuildCrcTable();
        uint c = 0xFFFFFFFFu;
        foreach (byte b in data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
        return ~c;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    private static bool IsMissingToken(ReadOnlySpan<char> s) =>
        s.Equals("NaN", StringComparison.OrdinalIgnoreCase) || s.Equals("NA", StringComparison.OrdinalIgnoreCase)
        || s.Equals("N/A", StringComparison.OrdinalIgnoreCase) || s.Equals("null", StringComparison.OrdinalIgnoreCase);

    private static string Quote(ReadOnlySpan<char> s) => s.Length <= MaxQuoted ? s.ToString() : string.Concat(s[..MaxQuoted], "...");

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
