using System.Globalization;

namespace Rnn.Simd.Cli.Train;

/// <summary>
/// The timestamps the tool reads from a time column: ISO 8601 dates and date-times (<c>2024-03-31</c>,
/// <c>2024-03-31T02:30</c>, <c>2024-03-31 02:30:00</c>, with fractional seconds, with or without a UTC offset or
/// <c>Z</c>), year-months <c>yyyy-MM</c> (the first of the month), and Unix seconds (a whole number, UTC; only in a
/// column named like a time or chosen with <c>--time-column</c>, since any number would parse). <c>--time-format</c>
/// replaces them by one .NET custom format, invariant culture. A time with an offset is converted to the first row's
/// offset, so that a daylight-saving change is not a gap.
/// </summary>
public static class TimeParsing
{
    /// <summary>The accepted forms, for messages.</summary>
    public const string Formats = "expected an ISO 8601 date or date-time such as 2024-03-31 or 2024-03-31T02:30:00+01:00, yyyy-MM, or Unix seconds; or give --time-format";

    private static readonly string[] IsoFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF",
        "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-ddTHH:mmzzz", "yyyy-MM-ddTHH:mm:sszzz", "yyyy-MM-ddTHH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-dd HH:mmzzz", "yyyy-MM-dd HH:mm:sszzz", "yyyy-MM-dd HH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-ddTHH:mmK", "yyyy-MM-ddTHH:mm:ssK", "yyyy-MM-ddTHH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
        "yyyy-MM",
    ];

    /// <summary>True for a header that names a time: time, date, timestamp, datetime, ds (Prophet's name), or a name containing time or date.</summary>
    public static bool IsTimeName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string n = name.Trim().ToLowerInvariant();
        return n is "ds" or "period" || n.Contains("time", StringComparison.Ordinal) || n.Contains("date", StringComparison.Ordinal);
    }

    /// <summary>Parses one cell as a time (see the class remarks); a value without an offset gets offset 0.</summary>
    /// <param name="cell">The cell, trimmed or not.</param>
    /// <param name="format">A .NET custom format to use instead of the built-in forms, or null.</param>
    /// <param name="allowUnixSeconds">Accept a whole number as Unix seconds (only without <paramref name="format"/>).</param>
    /// <param name="time">The time.</param>
    public static bool TryParse(ReadOnlySpan<char> cell, string? format, bool allowUnixSeconds, out DateTimeOffset time)
    {
        ReadOnlySpan<char> s = cell.Trim().Trim('"');
        time = default;
        if (s.IsEmpty) return false;
        const DateTimeStyles styles = DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces;
        if (format is not null) return DateTimeOffset.TryParseExact(s, format, CultureInfo.InvariantCulture, styles, out time);
        if (allowUnixSeconds && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds))
        {
            if (seconds < -62135596800L || seconds > 253402300799L) return false;
            time = DateTimeOffset.FromUnixTimeSeconds(seconds);
            return true;
        }
        // Only strings that start like an ISO date (yyyy-MM): no culture-dependent guessing of 1/2/2020.
        if (s.Length < 7 || !char.IsAsciiDigit(s[0]) || !char.IsAsciiDigit(s[3]) || s[4] != '-') return false;
        return DateTimeOffset.TryParseExact(s, IsoFormats, CultureInfo.InvariantCulture, styles, out time);
    }

    /// <summary>The clock times of <paramref name="times"/> in the first one's UTC offset (so that they are evenly spaced across a daylight-saving change).</summary>
    public static DateTime[] InFirstOffset(IReadOnlyList<DateTimeOffset> times)
    {
        ArgumentNullException.ThrowIfNull(times);
        var result = new DateTime[times.Count];
        if (times.Count == 0) return result;
        TimeSpan offset = times[0].Offset;
        for (int i = 0; i < result.Length; i++) result[i] = DateTime.SpecifyKind(times[i].ToOffset(offset).DateTime, DateTimeKind.Unspecified);
        return result;
    }
}
