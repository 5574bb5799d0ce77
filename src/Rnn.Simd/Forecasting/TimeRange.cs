namespace Rnn.Simd.Forecasting;

/// <summary>
/// A half-open range of time indices [<see cref="Start"/>, <see cref="End"/>) of a series: a part of a split, a
/// masked stretch, the target times of a window set. Indices are 0-based rows of a <see cref="TimeSeries"/>.
/// </summary>
public readonly struct TimeRange : IEquatable<TimeRange>
{
    /// <summary>Creates the range [<paramref name="start"/>, <paramref name="end"/>).</summary>
    /// <param name="start">First index (≥ 0).</param>
    /// <param name="end">One past the last index (≥ <paramref name="start"/>; equal means empty).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="start"/> is negative or <paramref name="end"/> is before it.</exception>
    public TimeRange(int start, int end)
    {
        if (start < 0) throw new ArgumentOutOfRangeException(nameof(start), start, "A time range cannot start before index 0.");
        if (end < start) throw new ArgumentOutOfRangeException(nameof(end), end, $"A time range cannot end ({end}) before it starts ({start}).");
        Start = start;
        End = end;
    }

    /// <summary>The range of <paramref name="length"/> indices starting at <paramref name="start"/>.</summary>
    public static TimeRange FromLength(int start, int length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "A length cannot be negative.");
        return new TimeRange(start, checked(start + length));
    }

    /// <summary>First index.</summary>
    public int Start { get; }

    /// <summary>One past the last index.</summary>
    public int End { get; }

    /// <summary>Number of indices, <see cref="End"/> - <see cref="Start"/>.</summary>
    public int Length => End - Start;

    /// <summary>True when the range holds no index.</summary>
    public bool IsEmpty => End == Start;

    /// <summary>True when <paramref name="index"/> lies in [<see cref="Start"/>, <see cref="End"/>).</summary>
    public bool Contains(int index) => index >= Start && index < End;

    /// <summary>True when the two ranges share at least one index.</summary>
    public bool Overlaps(TimeRange other) => Start < other.End && other.Start < End;

    /// <summary>
    /// The same stretch of time on a series aggregated by <paramref name="factor"/> (see <see cref="TimeSeries.Aggregate"/>):
    /// every coarse index whose <paramref name="factor"/> fine values touch this range, [Start / k, ceil(End / k)).
    /// An empty range stays empty. For example 10-minute indices [96000, 107088) are hourly indices [16000, 17848).
    /// </summary>
    /// <param name="factor">k ≥ 1, the number of fine values per coarse value.</param>
    public TimeRange Aggregate(int factor)
    {
        if (factor < 1) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The aggregation factor must be at least 1.");
        if (IsEmpty) return new TimeRange(Start / factor, Start / factor);
        return new TimeRange(Start / factor, (int)(((long)End + factor - 1) / factor));
    }

    /// <inheritdoc/>
    public bool Equals(TimeRange other) => Start == other.Start && End == other.End;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is TimeRange other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Start, End);

    /// <summary>True when both ranges have the same bounds.</summary>
    public static bool operator ==(TimeRange left, TimeRange right) => left.Equals(right);

    /// <summary>True when the ranges differ in a bound.</summary>
    public static bool operator !=(TimeRange left, TimeRange right) => !left.Equals(right);

    /// <summary>The range as "[start, end)".</summary>
    public override string ToString() => $"[{Start}, {End})";
}
