using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Tests.Forecasting;

public class StandardScalerTests
{
    [Fact]
    public void Fit_UsesOnlyTheGivenRange_WithPopulationStd_PerColumn()
    {
        // column 0 on [0, 4): 1, 2, 3, 4 -> mean 2.5, population variance 1.25; column 1: 10, 10, 20, 20 -> 15, 25.
        // The last step (1000, -1000) is outside the range and must not matter.
        var s = new TimeSeries([1, 10, 2, 10, 3, 20, 4, 20, 1000, -1000], 2);
        var scaler = StandardScaler.Fit(s, new TimeRange(0, 4));
        Assert.Equal([2.5, 15.0], scaler.Mean.ToArray());
        Assert.Equal(Math.Sqrt(1.25), scaler.Std[0], 15);
        Assert.Equal(5.0, scaler.Std[1], 15);

        Assert.Equal((float)((4 - 2.5) / Math.Sqrt(1.25)), scaler.Transform(4f, 0));
        Assert.Equal(-1f, scaler.Transform(10f, 1));
        Assert.Equal(20f, scaler.InverseTransform(1f, 1));
    }

    [Fact]
    public void Transform_AndInverse_RoundTripTheSeries()
    {
        var s = new TimeSeries([1, 10, 2, 10, 3, 20, 4, 20, 7, -3], 2, ["a", "b"]);
        var scaler = StandardScaler.Fit(s, new TimeRange(0, 4));
        var z = scaler.Transform(s);
        Assert.Equal(["a", "b"], z.ColumnNames);
        Assert.Equal(-1f, z[0, 1]);
        var back = scaler.InverseTransform(z);
        for (int i = 0; i < s.Values.Length; i++) Assert.Equal(s.Values[i], back.Values[i], 1e-5f);

        float[] col = [1, 2, 3, 4];
        float[] scaled = new float[4];
        scaler.Transform(col, scaled, 0);
        scaler.InverseTransform(scaled, scaled, 0); // in place
        for (int i = 0; i < 4; i++) Assert.Equal(col[i], scaled[i], 1e-6f);
    }

    [Fact]
    public void Fit_SkipsMaskedSteps()
    {
        // 1, 2, [100, 100], 3 with the 100s masked -> mean 2, variance 2/3.
        var s = new TimeSeries([1f, 2f, 100f, 100f, 3f]);
        var scaler = StandardScaler.Fit(s, new TimeRange(0, 5), TimeMask.Exclude(2, 4));
        Assert.Equal(2.0, scaler.Mean[0], 15);
        Assert.Equal(Math.Sqrt(2.0 / 3.0), scaler.Std[0], 15);
    }

    [Fact]
    public void Fit_ConstantColumn_Throws()
    {
        var s = new TimeSeries([5, 1, 5, 2, 5, 3], 2, ["flat", "ok"]);
        var ex = Assert.Throws<ForecastDataException>(() => StandardScaler.Fit(s, new TimeRange(0, 3)));
        Assert.Contains("'flat'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("constant", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_EverythingMasked_Throws()
    {
        var s = new TimeSeries([1f, 2f, 3f]);
        Assert.Throws<EmptySeriesException>(() => StandardScaler.Fit(s, new TimeRange(0, 2), TimeMask.Exclude(0, 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => StandardScaler.Fit(s, new TimeRange(0, 4)));
    }

    [Fact]
    public void ExplicitStatistics_AreValidated()
    {
        Assert.Throws<ArgumentException>(() => new StandardScaler([0.0], [0.0]));
        Assert.Throws<ArgumentException>(() => new StandardScaler([double.NaN], [1.0]));
        Assert.Throws<ArgumentException>(() => new StandardScaler([0.0, 1.0], [1.0]));
        var scaler = new StandardScaler([1.0], [2.0]);
        Assert.Equal(2f, scaler.Transform(5f, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => scaler.Transform(5f, 1));
        Assert.Throws<ArgumentException>(() => scaler.Transform(new TimeSeries([1f, 2f], 2)));
    }
}

public class TimeMaskTests
{
    [Fact]
    public void Ranges_AreSortedAndMerged()
    {
        var m = new TimeMask([new TimeRange(10, 12), new TimeRange(2, 4), new TimeRange(3, 6), new TimeRange(6, 7), new TimeRange(20, 20)]);
        Assert.Equal([new TimeRange(2, 7), new TimeRange(10, 12)], m.Excluded);
        Assert.Equal("[2, 7), [10, 12)", m.ToString());
        Assert.Equal("none", TimeMask.None.ToString());
    }

    [Fact]
    public void IsExcluded_AndCount()
    {
        var m = new TimeMask([new TimeRange(2, 5), new TimeRange(8, 9)]);
        bool[] expected = [false, false, true, true, true, false, false, false, true, false];
        for (int t = 0; t < expected.Length; t++) Assert.Equal(expected[t], m.IsExcluded(t));
        Assert.Equal(2, m.CountExcluded(new TimeRange(3, 8)));
        Assert.Equal(4, m.CountExcluded(new TimeRange(0, 100)));
        Assert.False(TimeMask.None.IsExcluded(0));
    }

    [Fact]
    public void Union_AndAggregate()
    {
        var m = TimeMask.Exclude(0, 2).Union(TimeMask.Exclude(5, 6));
        Assert.Equal([new TimeRange(0, 2), new TimeRange(5, 6)], m.Excluded);
        Assert.Equal([new TimeRange(16000, 17848)], TimeMask.Exclude(96000, 107088).Aggregate(6).Excluded);
    }
}
