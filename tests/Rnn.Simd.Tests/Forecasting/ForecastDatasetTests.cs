using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Tests.Forecasting;

public class ForecastDatasetTests
{
    private static TimeSeries Sine(int length)
    {
        var v = new float[length];
        for (int t = 0; t < length; t++) v[t] = 10 + MathF.Sin(t * 0.3f) + 0.01f * t;
        return new TimeSeries(v);
    }

    [Fact]
    public void Create_SplitsScalesOnTrainOnly_AndBuildsEveryPart()
    {
        var series = Sine(200);
        var data = ForecastDataset.Create(series, new ForecastOptions(5));
        Assert.Equal(new TimeRange(0, 140), data.Split.Train);
        Assert.Equal(new TimeRange(140, 170), data.Split.Validation);
        Assert.Equal(new TimeRange(170, 200), data.Split.Test);

        var trainOnly = StandardScaler.Fit(series, new TimeRange(0, 140));
        Assert.Equal(trainOnly.Mean[0], data.Scaler.Mean[0]);
        Assert.Equal(trainOnly.Std[0], data.Scaler.Std[0]);

        Assert.Equal(new TimeRange(5, 140).Length, data.Train.IncludedCount); // the first h targets have no input
        Assert.Equal(30, data.Validation!.IncludedCount);
        Assert.Equal(30, data.Test!.IncludedCount);
        Assert.Same(data.Test, data[SplitPart.Test]);
        Assert.Equal(data.Train.FirstTime + data.Train.Length, data.Validation.FirstTime);
    }

    [Fact]
    public void Create_WithMask_MasksEveryPartAndTheScalerFit()
    {
        var series = Sine(200);
        var mask = TimeMask.Exclude(100, 150); // across the train / validation boundary
        var data = ForecastDataset.Create(series, new ForecastOptions(5), mask);
        Assert.Equal(135 - 40, data.Train.IncludedCount);
        Assert.Equal(30 - 10, data.Validation!.IncludedCount);
        Assert.Equal(30, data.Test!.IncludedCount);
        var fit = StandardScaler.Fit(series, new TimeRange(0, 140), mask);
        Assert.Equal(fit.Mean[0], data.Scaler.Mean[0]);
    }

    [Fact]
    public void Create_WithoutValidation_LeavesItNull()
    {
        var data = ForecastDataset.Create(Sine(100), new ForecastOptions(1), new SplitFractions(0.8, 0, 0.2));
        Assert.Null(data.Validation);
        Assert.Null(data[SplitPart.Validation]);
        Assert.NotNull(data.Test);
    }

    [Fact]
    public void Create_FromExplicitRanges()
    {
        var series = Sine(100);
        var split = ChronologicalSplit.FromRanges(100, new TimeRange(0, 60), new TimeRange(70, 80), new TimeRange(80, 100));
        var data = ForecastDataset.Create(series, new ForecastOptions(3), split);
        Assert.Equal(67, data.Validation!.FirstTime);
        Assert.Throws<ArgumentException>(() => ForecastDataset.Create(Sine(99), new ForecastOptions(3), split));
    }

    [Theory]
    [InlineData(30, 24, TargetMode.SingleStep, 36)]  // train part must end at 25 or later: floor(36 · 0.7) = 25
    [InlineData(5, 1, TargetMode.MultiOutput, 7)]    // the split alone needs 7 values for 70 / 15 / 15
    public void Create_TooShortSeries_SaysHowLongItMustBe(int length, int horizon, TargetMode mode, int needed)
    {
        var ex = Assert.Throws<SeriesTooShortException>(() => ForecastDataset.Create(Sine(length), new ForecastOptions(horizon, mode)));
        Assert.Equal(needed, ex.RequiredLength);
        Assert.Equal(length, ex.ActualLength);
        Assert.Contains($"has {length} values", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"at least {needed}", ex.Message, StringComparison.Ordinal);
        ForecastDataset.Create(Sine(needed), new ForecastOptions(horizon, mode)); // and that length works
    }

    [Fact]
    public void Create_InvalidFractions_ThrowInvalidSplit()
    {
        Assert.Throws<InvalidSplitException>(() => ForecastDataset.Create(Sine(100), new ForecastOptions(1), new SplitFractions(0.8, 0.3, 0.1)));
    }
}
