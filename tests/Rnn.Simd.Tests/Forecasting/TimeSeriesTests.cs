using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Tests.Forecasting;

public class TimeSeriesTests
{
    [Fact]
    public void Constructor_CopiesTimeMajorValues_AndNamesColumns()
    {
        float[] values = [1, 10, 2, 20, 3, 30];
        var s = new TimeSeries(values, columnCount: 2, ["load", "temp"]);
        values[0] = 99; // copied

        Assert.Equal(3, s.Length);
        Assert.Equal(2, s.ColumnCount);
        Assert.Equal(["load", "temp"], s.ColumnNames);
        Assert.Equal(1f, s[0, 0]);
        Assert.Equal(20f, s[1, 1]);
        Assert.Equal([3f, 30f], s.Row(2).ToArray());
        Assert.Equal([10f, 20f, 30f], s.GetColumn(1));
        Assert.Equal(1, s.ColumnIndex("temp"));
        Assert.Throws<ArgumentException>(() => s.ColumnIndex("nope"));
        Assert.Throws<ArgumentOutOfRangeException>(() => s[3, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => s[0, 2]);
    }

    [Fact]
    public void DefaultNames_AreValueForOneColumn_AndColumnIndexedOtherwise()
    {
        Assert.Equal(["value"], new TimeSeries([1f, 2f]).ColumnNames);
        Assert.Equal(["column0", "column1"], new TimeSeries([1f, 2f], 2).ColumnNames);
    }

    [Fact]
    public void FromColumns_InterleavesColumnsTimeMajor()
    {
        var s = TimeSeries.FromColumns([[1f, 2f, 3f], [10f, 20f, 30f]], ["a", "b"]);
        Assert.Equal([1f, 10f, 2f, 20f, 3f, 30f], s.Values.ToArray());
        Assert.Throws<ArgumentException>(() => TimeSeries.FromColumns([[1f, 2f], [1f]]));
        Assert.Throws<ArgumentException>(() => TimeSeries.FromColumns(Array.Empty<float[]>()));
    }

    [Fact]
    public void BadShapesAndNames_Throw()
    {
        Assert.Throws<ArgumentException>(() => new TimeSeries([1f, 2f, 3f], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TimeSeries([1f], 0));
        Assert.Throws<ArgumentException>(() => new TimeSeries([1f, 2f], 2, ["a"]));
        Assert.Throws<ArgumentException>(() => new TimeSeries([1f, 2f], 2, ["a", "a"]));
        Assert.Throws<ArgumentException>(() => new TimeSeries([1f, 2f], 2, ["a", " "]));
    }

    [Fact]
    public void EmptySeries_Throws()
    {
        var ex = Assert.Throws<EmptySeriesException>(() => new TimeSeries(ReadOnlySpan<float>.Empty));
        Assert.Contains("empty", ex.Message, StringComparison.Ordinal);
        Assert.Throws<EmptySeriesException>(() => TimeSeries.FromColumns([Array.Empty<float>()]));
    }

    [Theory]
    [InlineData(float.NaN, "missing value (NaN)")]
    [InlineData(float.PositiveInfinity, "+infinity")]
    [InlineData(float.NegativeInfinity, "-infinity")]
    public void NonFiniteValue_ThrowsWithIndexAndColumn(float bad, string described)
    {
        float[] values = [1, 2, 3, 4, 5, bad, 7, 8];
        var ex = Assert.Throws<NonFiniteValueException>(() => new TimeSeries(values, 2));
        Assert.Equal(2, ex.Index);
        Assert.Equal(1, ex.Column);
        Assert.Null(ex.LineNumber);
        Assert.Equal(float.IsNaN(bad), ex.IsMissing);
        Assert.Contains(described, ex.Message, StringComparison.Ordinal);
        Assert.Contains("time index 2, column 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindGaps_ListsRunsPerColumn()
    {
        float n = float.NaN;
        // column 0: 1, NaN, NaN, 4, 5 ; column 1: 10, 20, 30, NaN, 50
        float[] values = [1, 10, n, 20, n, 30, 4, n, 5, 50];
        var gaps = TimeSeries.FindGaps(values, 2);
        Assert.Equal([new SeriesGap(0, 1, 2), new SeriesGap(1, 3, 1)], gaps);
        Assert.Equal(new TimeRange(1, 3), gaps[0].Range);
        Assert.Empty(TimeSeries.FindGaps([1f, float.PositiveInfinity], 1)); // infinity is not a gap
    }

    [Fact]
    public void InterpolateGaps_FillsLinearlyBetweenNeighbours()
    {
        float n = float.NaN;
        float[] values = [1, 10, n, 20, n, 30, 4, n, 5, 50];
        int filled = TimeSeries.InterpolateGaps(values, 2);
        Assert.Equal(3, filled);
        // column 0: 1 .. 4 over 3 steps -> 2, 3; column 1: 30 .. 50 -> 40
        Assert.Equal([1f, 10f, 2f, 20f, 3f, 30f, 4f, 40f, 5f, 50f], values);

        var s = new TimeSeries([0f, n, n, n, 8f], gaps: GapHandling.InterpolateLinear);
        Assert.Equal([0f, 2f, 4f, 6f, 8f], s.Values.ToArray());
    }

    [Theory]
    [InlineData(new float[] { float.NaN, 1, 2 }, 0, "start")]
    [InlineData(new float[] { 1, 2, float.NaN, float.NaN }, 2, "end")]
    public void InterpolateGaps_AtAnEdge_Throws(float[] values, int index, string where)
    {
        var ex = Assert.Throws<NonFiniteValueException>(() => TimeSeries.InterpolateGaps(values));
        Assert.Equal(index, ex.Index);
        Assert.True(ex.IsMissing);
        Assert.Contains(where, ex.Message, StringComparison.Ordinal);
        Assert.Throws<NonFiniteValueException>(() => new TimeSeries(values, gaps: GapHandling.InterpolateLinear));
    }

    [Fact]
    public void InterpolateGaps_RejectsInfinity()
    {
        var ex = Assert.Throws<NonFiniteValueException>(() => TimeSeries.InterpolateGaps([1f, float.NaN, float.PositiveInfinity, 3f]));
        Assert.Equal(2, ex.Index);
        Assert.False(ex.IsMissing);
    }

    [Fact]
    public void Aggregate_AveragesEachKConsecutiveValuesPerColumn()
    {
        // 6 steps x 2 columns, k = 3
        float[] values = [1, 10, 2, 20, 6, 60, 0, 0, 3, 3, -3, 0];
        var s = new TimeSeries(values, 2, ["a", "b"]).Aggregate(3);
        Assert.Equal(2, s.Length);
        Assert.Equal(["a", "b"], s.ColumnNames);
        Assert.Equal([3f, 30f, 0f, 1f], s.Values.ToArray());
    }

    [Fact]
    public void Aggregate_IncompleteTail_ThrowsOrDrops()
    {
        var s = new TimeSeries([1f, 2f, 3f, 4f, 5f]);
        var ex = Assert.Throws<ArgumentException>(() => s.Aggregate(2));
        Assert.Contains("not a multiple", ex.Message, StringComparison.Ordinal);
        Assert.Equal([1.5f, 3.5f], s.Aggregate(2, dropIncompleteTail: true).Values.ToArray());
        var tooShort = Assert.Throws<SeriesTooShortException>(() => s.Aggregate(6));
        Assert.Equal(6, tooShort.RequiredLength);
        Assert.Equal(5, tooShort.ActualLength);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Aggregate(0));
    }

    [Fact]
    public void Slice_CopiesARange()
    {
        var s = new TimeSeries([1f, 10f, 2f, 20f, 3f, 30f], 2);
        var slice = s.Slice(1, 2);
        Assert.Equal([2f, 20f, 3f, 30f], slice.Values.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Slice(2, 2));
        Assert.Throws<EmptySeriesException>(() => s.Slice(1, 0));
    }

    [Fact]
    public void TimeRange_AggregateMapsFineIndicesToCoarseBuckets()
    {
        Assert.Equal(new TimeRange(16000, 17848), new TimeRange(96000, 107088).Aggregate(6));
        Assert.Equal(new TimeRange(1, 3), new TimeRange(7, 13).Aggregate(6)); // touches buckets 1 and 2
        Assert.Equal("[2, 5)", new TimeRange(2, 5).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TimeRange(-1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TimeRange(3, 2));
    }
}
