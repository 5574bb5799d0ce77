using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Tests.Forecasting;

public class TimeAxisTests
{
    private static DateTime[] Every(DateTime start, TimeSpan step, int n)
    {
        var t = new DateTime[n];
        for (int i = 0; i < n; i++) t[i] = start + step * i;
        return t;
    }

    [Fact]
    public void HalfHourly_PeriodIs30Minutes_PositionsAreConsecutive()
    {
        DateTime[] t = Every(new DateTime(2024, 3, 30, 22, 0, 0), TimeSpan.FromMinutes(30), 200);
        (TimeAxis axis, int[] positions) = TimeAxis.FromTimestamps(t, allowGaps: false);
        Assert.Equal(SamplingPeriod.FromDuration(TimeSpan.FromMinutes(30)), axis.Period);
        Assert.Equal("30 minutes", axis.Period.ToString());
        Assert.Equal(Enumerable.Range(0, 200), positions);
        Assert.Equal(t[137], axis.TimeAt(137));
    }

    [Fact]
    public void Monthly_IsCalendarMonths_ThoughMonthsDifferInLength()
    {
        var t = new DateTime[40];
        for (int i = 0; i < t.Length; i++) t[i] = new DateTime(1958, 3, 1).AddMonths(i);
        (TimeAxis axis, _) = TimeAxis.FromTimestamps(t, allowGaps: false);
        Assert.True(axis.Period.IsCalendarMonths);
        Assert.Equal(1, axis.Period.Months);
        Assert.Equal(new DateTime(1961, 6, 1), axis.TimeAt(39));
        Assert.Equal("12 months", axis.Aggregate(12).Period.ToString());
    }

    [Fact]
    public void Daily_ModalDifferenceWinsOverAFewIrregularRows_WhichAreThenRejected()
    {
        DateTime[] t = Every(new DateTime(2020, 1, 1), TimeSpan.FromDays(1), 30);
        Assert.Equal(TimeSpan.FromDays(1), TimeAxis.InferPeriod(t).Duration);
        t[10] = t[10].AddHours(5);
        var e = Assert.Throws<IrregularTimeException>(() => TimeAxis.FromTimestamps(t, allowGaps: true));
        Assert.Equal(10, e.Index);
        Assert.Equal(TimeProblem.Irregular, e.Problem);
        Assert.Contains("2020-01-11 05:00:00", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gaps_AreAnErrorNamingTheRow_OrPositionsWithHoles()
    {
        var t = new List<DateTime>(Every(new DateTime(2020, 1, 1), TimeSpan.FromHours(1), 50));
        t.RemoveRange(20, 3); // hours 20, 21, 22 missing: row 20 is hour 23
        var e = Assert.Throws<IrregularTimeException>(() => TimeAxis.FromTimestamps(t.ToArray(), allowGaps: false));
        Assert.Equal(20, e.Index);
        Assert.Equal(TimeProblem.Gap, e.Problem);
        Assert.Contains("3 step(s)", e.Message, StringComparison.Ordinal);
        (_, int[] positions) = TimeAxis.FromTimestamps(t.ToArray(), allowGaps: true);
        Assert.Equal(19, positions[19]);
        Assert.Equal(23, positions[20]);
        Assert.Equal(49, positions[^1]);
    }

    [Fact]
    public void UnsortedAndDuplicates_AreErrors_EvenWithGapsAllowed()
    {
        DateTime[] t = Every(new DateTime(2020, 1, 1), TimeSpan.FromHours(1), 10);
        (t[4], t[5]) = (t[5], t[4]);
        var e = Assert.Throws<IrregularTimeException>(() => TimeAxis.FromTimestamps(t, allowGaps: true));
        Assert.Equal((5, TimeProblem.Unsorted), (e.Index, e.Problem));
        t = Every(new DateTime(2020, 1, 1), TimeSpan.FromHours(1), 10);
        t[7] = t[6];
        e = Assert.Throws<IrregularTimeException>(() => TimeAxis.FromTimestamps(t, allowGaps: true));
        Assert.Equal((7, TimeProblem.Duplicate), (e.Index, e.Problem));
        Assert.Throws<ArgumentException>(() => TimeAxis.FromTimestamps(t.AsSpan(0, 1), allowGaps: false));
    }

    [Fact]
    public void SamplingPeriod_TextAndArithmetic()
    {
        var tenMinutes = SamplingPeriod.FromDuration(TimeSpan.FromMinutes(10));
        Assert.Equal("1 hour", tenMinutes.Times(6).ToString());
        Assert.Equal(144, tenMinutes.StepsIn(TimeSpan.FromDays(1)));
        Assert.Equal(0, SamplingPeriod.FromDuration(TimeSpan.FromMinutes(7)).StepsIn(TimeSpan.FromDays(1)));
        Assert.Equal("1 day", SamplingPeriod.FromDuration(TimeSpan.FromDays(1)).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => SamplingPeriod.FromMonths(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SamplingPeriod.FromDuration(TimeSpan.Zero));
    }
}
