using System.Globalization;

namespace Rnn.Simd.Forecasting;

/// <summary>
/// The time between two consecutive steps of a regular series: a fixed duration (10 minutes, an hour, a day) or a whole
/// number of calendar months (a month, a quarter, a year), since months differ in length. Exactly one of
/// <see cref="Duration"/> and <see cref="Months"/> is non-zero.
/// </summary>
public readonly record struct SamplingPeriod
{
    private SamplingPeriod(TimeSpan duration, int months)
    {
        Duration = duration;
        Months = months;
    }

    /// <summary>A fixed duration (positive).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A duration that is not positive.</exception>
    public static SamplingPeriod FromDuration(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(duration), duration, "A sampling period must be positive.");
        return new SamplingPeriod(duration, 0);
    }

    /// <summary>A whole number of calendar months (1 monthly, 3 quarterly, 12 yearly).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 month.</exception>
    public static SamplingPeriod FromMonths(int months)
    {
        if (months < 1) throw new ArgumentOutOfRangeException(nameof(months), months, "A monthly sampling period must be at least 1 month.");
        return new SamplingPeriod(TimeSpan.Zero, months);
    }

    /// <summary>The fixed duration of a step, or <see cref="TimeSpan.Zero"/> for a period in calendar months.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Calendar months per step, or 0 for a fixed duration.</summary>
    public int Months { get; }

    /// <summary>True for a period in calendar months.</summary>
    public bool IsCalendarMonths => Months > 0;

    /// <summary>The time <paramref name="steps"/> periods after <paramref name="time"/>.</summary>
    public DateTime Advance(DateTime time, long steps) =>
        IsCalendarMonths ? time.AddMonths(checked((int)(steps * Months))) : time.AddTicks(checked(Duration.Ticks * steps));

    /// <summary>This period times <paramref name="factor"/> (the period of a series aggregated by that factor).</summary>
    public SamplingPeriod Times(int factor)
    {
        if (factor < 1) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The factor must be at least 1.");
        return IsCalendarMonths ? FromMonths(checked(Months * factor)) : FromDuration(TimeSpan.FromTicks(checked(Duration.Ticks * factor)));
    }

    /// <summary>Whole steps of this period in <paramref name="span"/>, or 0 when it is not a whole number of steps (or the period is in months).</summary>
    public int StepsIn(TimeSpan span) =>
        IsCalendarMonths || span.Ticks % Duration.Ticks != 0 || span.Ticks / Duration.Ticks > int.MaxValue ? 0 : (int)(span.Ticks / Duration.Ticks);

    /// <summary>Short text: "10 minutes", "1 hour", "1 day", "1 month", "12 months"; also the JSON form of the tool.</summary>
    public override string ToString()
    {
        if (IsCalendarMonths) return Months == 1 ? "1 month" : Invariant($"{Months} months");
        TimeSpan d = Duration;
        if (d.Ticks % TimeSpan.TicksPerDay == 0) return Plural(d.Ticks / TimeSpan.TicksPerDay, "day");
        if (d.Ticks % TimeSpan.TicksPerHour == 0) return Plural(d.Ticks / TimeSpan.TicksPerHour, "hour");
        if (d.Ticks % TimeSpan.TicksPerMinute == 0) return Plural(d.Ticks / TimeSpan.TicksPerMinute, "minute");
        if (d.Ticks % TimeSpan.TicksPerSecond == 0) return Plural(d.Ticks / TimeSpan.TicksPerSecond, "second");
        return Invariant($"{d.TotalMilliseconds} ms");
    }

    private static string Plural(long n, string unit) => n == 1 ? "1 " + unit : Invariant($"{n} {unit}s");

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What is wrong with a row's timestamp (see <see cref="IrregularTimeException"/>).</summary>
public enum TimeProblem
{
    /// <summary>Earlier than the row before it.</summary>
    Unsorted = 0,

    /// <summary>Equal to the row before it.</summary>
    Duplicate = 1,

    /// <summary>A whole number of periods (more than one) after the row before it: rows are missing.</summary>
    Gap = 2,

    /// <summary>Not a whole number of periods after the first row.</summary>
    Irregular = 3,
}

/// <summary>The timestamps of a series are unsorted, duplicated, irregular or have gaps; <see cref="Index"/> is the 0-based row.</summary>
public sealed class IrregularTimeException : ForecastDataException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="index">0-based row of the offending timestamp.</param>
    /// <param name="problem">The kind of problem.</param>
    public IrregularTimeException(string message, int index, TimeProblem problem) : base(message, "times")
    {
        Index = index;
        Problem = problem;
    }

    /// <summary>0-based row of the offending timestamp.</summary>
    public int Index { get; }

    /// <summary>The kind of problem.</summary>
    public TimeProblem Problem { get; }
}

/// <summary>
/// The times of a regular series: step t is at <see cref="Start"/> advanced by t <see cref="Period"/>s. Built from the
/// timestamps of a file by <see cref="FromTimestamps"/>, which derives the period (the modal difference between
/// consecutive timestamps; calendar months when consecutive timestamps are whole months apart) and checks that every
/// timestamp lies on the grid. Timestamps are clock times (<see cref="DateTimeKind"/> ignored): a series with UTC offsets
/// should be given in one offset (the first row's), so that a daylight-saving change is not a gap.
/// </summary>
/// <param name="Start">The time of step 0.</param>
/// <param name="Period">The sampling period.</param>
public sealed record TimeAxis(DateTime Start, SamplingPeriod Period)
{
    /// <summary>The time of step <paramref name="step"/>.</summary>
    public DateTime TimeAt(int step) => Period.Advance(Start, step);

    /// <summary>The axis of the series aggregated by <paramref name="factor"/> (step i is the first fine step of its group).</summary>
    public TimeAxis Aggregate(int factor) => new(Start, Period.Times(factor));

    /// <summary>The axis of the series from step <paramref name="start"/> on.</summary>
    public TimeAxis Skip(int start) => new(TimeAt(start), Period);

    /// <summary>
    /// Derives the sampling period of <paramref name="times"/> (see <see cref="InferPeriod"/>) and the grid position of
    /// every row: row i is step <c>positions[i]</c> of the returned axis. Without <paramref name="allowGaps"/> the
    /// positions are 0, 1, 2, ...; with it a row may skip whole periods (the missing steps are the caller's to fill).
    /// </summary>
    /// <param name="times">At least two timestamps, oldest first.</param>
    /// <param name="allowGaps">Accept whole missing periods between rows.</param>
    /// <exception cref="ArgumentException">Fewer than two timestamps.</exception>
    /// <exception cref="IrregularTimeException">An unsorted or repeated timestamp, a gap (unless allowed) or a timestamp off the grid; the message says which row and why.</exception>
    public static (TimeAxis Axis, int[] Positions) FromTimestamps(ReadOnlySpan<DateTime> times, bool allowGaps)
    {
        CheckOrder(times);
        SamplingPeriod period = InferPeriod(times);
        var positions = new int[times.Length];
        DateTime start = times[0];
        for (int i = 1; i < times.Length; i++)
        {
            long steps = Steps(start, times[i], period, out bool exact);
            if (!exact || steps > int.MaxValue)
                throw new IrregularTimeException(Invariant(
                    $"Row {i}: the timestamp {Format(times[i])} is not a whole number of sampling periods ({period}) after the first row's {Format(start)}: the spacing is irregular."),
                    i, TimeProblem.Irregular);
            positions[i] = (int)steps;
            int skipped = positions[i] - positions[i - 1] - 1;
            if (skipped > 0 && !allowGaps)
                throw new IrregularTimeException(Invariant(
                    $"Row {i}: {skipped} step(s) of {period} are missing before the timestamp {Format(times[i])} (the row before is {Format(times[i - 1])}); use --fill-gaps linear to interpolate them."),
                    i, TimeProblem.Gap);
        }
        return (new TimeAxis(start, period), positions);
    }

    /// <summary>
    /// The sampling period of sorted timestamps: calendar months (the modal whole-month difference) when most
    /// consecutive pairs are a whole number of months apart on the same day and clock time, otherwise the modal
    /// difference (ties: the shorter).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two timestamps.</exception>
    /// <exception cref="IrregularTimeException">Unsorted or repeated timestamps.</exception>
    public static SamplingPeriod InferPeriod(ReadOnlySpan<DateTime> times)
    {
        CheckOrder(times);
        var counts = new Dictionary<long, int>();
        var monthCounts = new Dictionary<int, int>();
        int monthly = 0;
        for (int i = 1; i < times.Length; i++)
        {
            long d = times[i].Ticks - times[i - 1].Ticks;
            counts[d] = counts.GetValueOrDefault(d) + 1;
            int months = (times[i].Year - times[i - 1].Year) * 12 + times[i].Month - times[i - 1].Month;
            // Whole months apart, and not a fixed duration that happens to be (28 days in February): at least 28 days per month.
            if (months > 0 && times[i - 1].AddMonths(months) == times[i] && d >= months * 28 * TimeSpan.TicksPerDay)
            {
                monthly++;
                monthCounts[months] = monthCounts.GetValueOrDefault(months) + 1;
            }
        }
        int pairs = times.Length - 1;
        long modal = Mode(counts);
        // Fixed-duration data whose modal step is shorter than 28 days is never monthly, even when every pair happens to match.
        if (2 * monthly > pairs && modal >= 28 * TimeSpan.TicksPerDay) return SamplingPeriod.FromMonths((int)Mode(monthCounts));
        return SamplingPeriod.FromDuration(TimeSpan.FromTicks(modal));
    }

    private static long Mode<TKey>(Dictionary<TKey, int> counts) where TKey : notnull, IConvertible, IComparable<TKey>
    {
        TKey best = default!;
        int bestCount = -1;
        foreach (KeyValuePair<TKey, int> kv in counts)
            if (kv.Value > bestCount || (kv.Value == bestCount && kv.Key.CompareTo(best) < 0)) (best, bestCount) = (kv.Key, kv.Value);
        return best.ToInt64(CultureInfo.InvariantCulture);
    }

    private static void CheckOrder(ReadOnlySpan<DateTime> times)
    {
        if (times.Length < 2) throw new ArgumentException($"At least two timestamps are needed to derive a sampling period; got {times.Length}.", nameof(times));
        for (int i = 1; i < times.Length; i++)
        {
            if (times[i] == times[i - 1])
                throw new IrregularTimeException(Invariant($"Row {i}: the timestamp {Format(times[i])} repeats the row before."), i, TimeProblem.Duplicate);
            if (times[i] < times[i - 1])
                throw new IrregularTimeException(Invariant(
                    $"Row {i}: the timestamp {Format(times[i])} is earlier than the row before ({Format(times[i - 1])}): the rows must be sorted, oldest first."), i, TimeProblem.Unsorted);
        }
    }

    // Periods from start to time; exact when time lies on the grid.
    private static long Steps(DateTime start, DateTime time, SamplingPeriod period, out bool exact)
    {
        if (period.IsCalendarMonths)
        {
            int months = (time.Year - start.Year) * 12 + time.Month - start.Month;
            long steps = months / period.Months;
            exact = months % period.Months == 0 && start.AddMonths(months) == time;
            return steps;
        }
        long d = time.Ticks - start.Ticks;
        exact = d % period.Duration.Ticks == 0;
        return d / period.Duration.Ticks;
    }

    private static string Format(DateTime t) => t.ToString(t.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
