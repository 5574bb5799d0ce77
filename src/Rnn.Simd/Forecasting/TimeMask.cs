namespace Rnn.Simd.Forecasting;

/// <summary>
/// A set of excluded time indices (a union of <see cref="TimeRange"/>s), for stretches such as an anomaly that must not
/// count in training, validation or evaluation. A mask acts on <em>targets</em>: a window target whose time index is
/// excluded gets weight 0 in <see cref="ForecastWindows.Weights"/>, so it contributes no error to a loss weighted by
/// them nor to any metric, and the scaler can skip excluded steps when fitting. Inputs are never removed: a recurrent
/// network still reads the excluded stretch, so its state stays continuous and the time axis keeps its meaning
/// (cutting a stretch out would join two distant days as if they were consecutive). Immutable; ranges are kept sorted
/// and merged.
/// </summary>
public sealed class TimeMask
{
    private readonly TimeRange[] _ranges;

    /// <summary>Creates a mask excluding the union of <paramref name="excluded"/> (empty ranges are ignored).</summary>
    public TimeMask(IEnumerable<TimeRange> excluded)
    {
        ArgumentNullException.ThrowIfNull(excluded);
        var list = new List<TimeRange>();
        foreach (TimeRange r in excluded)
            if (!r.IsEmpty) list.Add(r);
        list.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        var merged = new List<TimeRange>(list.Count);
        foreach (TimeRange r in list)
        {
            if (merged.Count > 0 && r.Start <= merged[^1].End)
                merged[^1] = new TimeRange(merged[^1].Start, Math.Max(merged[^1].End, r.End));
            else
                merged.Add(r);
        }
        _ranges = merged.ToArray();
    }

    /// <summary>The mask that excludes nothing.</summary>
    public static TimeMask None { get; } = new(Array.Empty<TimeRange>());

    /// <summary>A mask excluding [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public static TimeMask Exclude(int start, int end) => new([new TimeRange(start, end)]);

    /// <summary>A mask excluding <paramref name="range"/>.</summary>
    public static TimeMask Exclude(TimeRange range) => new([range]);

    /// <summary>The excluded ranges, sorted, disjoint and not touching.</summary>
    public IReadOnlyList<TimeRange> Excluded => _ranges;

    /// <summary>True when nothing is excluded.</summary>
    public bool IsEmpty => _ranges.Length == 0;

    /// <summary>True when time index <paramref name="time"/> is excluded.</summary>
    public bool IsExcluded(int time)
    {
        // Binary search for the last range starting at or before time.
        int lo = 0, hi = _ranges.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_ranges[mid].Start <= time) lo = mid + 1;
            else hi = mid - 1;
        }
        return hi >= 0 && time < _ranges[hi].End;
    }

    /// <summary>Number of excluded time indices inside <paramref name="range"/>.</summary>
    public int CountExcluded(TimeRange range)
    {
        int count = 0;
        foreach (TimeRange r in _ranges)
        {
            int a = Math.Max(r.Start, range.Start), b = Math.Min(r.End, range.End);
            if (b > a) count += b - a;
        }
        return count;
    }

    /// <summary>A mask excluding what this one or <paramref name="other"/> excludes.</summary>
    public TimeMask Union(TimeMask other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var all = new TimeRange[_ranges.Length + other._ranges.Length];
        _ranges.CopyTo(all, 0);
        other._ranges.CopyTo(all, _ranges.Length);
        return new TimeMask(all);
    }

    /// <summary>
    /// This mask on a series aggregated by <paramref name="factor"/> (<see cref="TimeSeries.Aggregate"/>): a coarse step
    /// is excluded when any of its fine steps is (see <see cref="TimeRange.Aggregate"/>).
    /// </summary>
    public TimeMask Aggregate(int factor)
    {
        if (factor < 1) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The aggregation factor must be at least 1.");
        var ranges = new TimeRange[_ranges.Length];
        for (int i = 0; i < ranges.Length; i++) ranges[i] = _ranges[i].Aggregate(factor);
        return new TimeMask(ranges);
    }

    /// <summary>The excluded ranges, e.g. "[16000, 17848)", or "none".</summary>
    public override string ToString() => _ranges.Length == 0 ? "none" : string.Join(", ", _ranges);
}
