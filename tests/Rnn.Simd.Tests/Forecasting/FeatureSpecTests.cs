using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Tests.Forecasting;

public class FeatureSpecTests
{
    // y[t] = t for t = 0..19; an identity scaler keeps scaled = original so the rows are readable.
    private static readonly TimeSeries Ramp = new(Enumerable.Range(0, 20).Select(i => (float)i).ToArray());
    private static readonly StandardScaler Identity = new([0.0], [1.0]);

    [Theory]
    [InlineData("value", "value")]
    [InlineData("load", "value")]
    [InlineData(" Value , LAG168,day, week ", "value,lag168,day,week")]
    [InlineData("phase24", "day")]
    [InlineData("phase168,phase7", "week,phase7")]
    [InlineData("lag48,lag24", "lag48,lag24")]
    public void Parse_GivesTheCanonicalTextForm_AndRoundTrips(string text, string canonical)
    {
        FeatureSpec spec = FeatureSpec.Parse(text);
        Assert.Equal(canonical, spec.ToString());
        Assert.Equal(spec, FeatureSpec.Parse(spec.ToString()));
        Assert.Equal(spec.GetHashCode(), FeatureSpec.Parse(spec.ToString()).GetHashCode());
    }

    [Fact]
    public void Parse_ItemsAndSizes()
    {
        FeatureSpec spec = FeatureSpec.Parse("value,lag168,day,week,lag48");
        Assert.Equal([Feature.Value, Feature.Lag(168), Feature.Phase(24), Feature.Phase(168), Feature.Lag(48)], spec.Items);
        Assert.Equal(168, spec.MaxLag);
        Assert.True(spec.HasValue);
        Assert.Equal(1 + 1 + 2 + 2 + 1, spec.InputSize(1, 1));
        Assert.Equal(3 + 2 + 2 + 2 + 2, spec.InputSize(3, 2)); // values per input column, lags per target column
        Assert.Equal(144, spec.EarliestInputTime(24));
        Assert.Equal(0, spec.EarliestInputTime(200));
        Assert.False(FeatureSpec.Parse("lag24,day").HasValue);
        Assert.NotEqual(FeatureSpec.Parse("value,day"), FeatureSpec.Parse("day,value")); // order is the input order
    }

    [Theory]
    [InlineData("")]
    [InlineData("value,")]
    [InlineData("hour")]
    [InlineData("lag")]
    [InlineData("lagx")]
    [InlineData("lag-3")]
    [InlineData("phase")]
    [InlineData("lag 24")]
    public void Parse_Malformed_ThrowsFormatExceptionNamingTheFeature(string text)
    {
        var e = Assert.Throws<FormatException>(() => FeatureSpec.Parse(text));
        Assert.Contains("feature", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("lag0", "at least 1")]
    [InlineData("phase1", "at least 2")]
    [InlineData("value,day,phase24", "twice")]
    [InlineData("lag5,lag5", "twice")]
    public void Parse_InvalidParameters_ThrowArgumentException(string text, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => FeatureSpec.Parse(text));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Options_RejectALagShorterThanTheHorizon()
    {
        var e = Assert.Throws<ArgumentException>(() => new ForecastOptions(24, features: FeatureSpec.Parse("value,lag12")));
        Assert.Contains("lag12", e.Message);
        Assert.Equal("features", e.ParamName);
        Assert.Equal(FeatureSpec.ValueOnly, new ForecastOptions(24).Features);
        Assert.Equal(3, new ForecastOptions(24, features: FeatureSpec.Parse("value,lag24,lag48")).InputSize(1));
    }

    [Fact]
    public void WithoutLagsBelow_DropsOnlyTheLagsThatWouldReadTheFuture()
    {
        FeatureSpec spec = FeatureSpec.Parse("value,lag48,lag72,lag168,day");
        Assert.Same(spec, spec.WithoutLagsBelow(24));
        Assert.Same(spec, spec.WithoutLagsBelow(48));
        Assert.Equal("value,lag72,lag168,day", spec.WithoutLagsBelow(60).ToString());
        Assert.Equal("value,day", spec.WithoutLagsBelow(169).ToString());
        Assert.Throws<ArgumentException>(() => FeatureSpec.Parse("lag2,lag3").WithoutLagsBelow(4));
    }

    [Fact]
    public void Windows_ValueFeature_IsTheInputColumnAtT()
    {
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(10, 15), new ForecastOptions(2, features: FeatureSpec.Parse("value")));
        Assert.Equal(8, w.FirstTime);
        Assert.Equal([8f, 9f, 10f, 11f, 12f], w.Inputs.ToArray());
        Assert.Equal([10f, 11f, 12f, 13f, 14f], w.Targets.ToArray());
    }

    [Fact]
    public void Windows_LagFeature_ReadsYtPlusHMinusL_AndDropsRowsBeforeTheSeriesStart()
    {
        // h = 2, lag 5: row t reads y[t - 3]; rows start at t = 3 so targets start at 5 = L (targets 2..4 dropped).
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(0, 8), new ForecastOptions(2, features: FeatureSpec.Parse("lag5")));
        Assert.Equal(3, w.FirstTime);
        Assert.Equal(3, w.Length); // input times 3, 4, 5 -> targets 5, 6, 7
        Assert.Equal(1, w.InputSize);
        Assert.Equal([0f, 1f, 2f], w.Inputs.ToArray());
        Assert.Equal([5f, 6f, 7f], w.Targets.ToArray());
        Assert.Equal(3, w.IncludedCount);
        for (int r = 0; r < w.Length; r++) Assert.Equal(w.TargetTime(r, 0) - 5, w.Inputs[r]); // y[target - L]
    }

    [Fact]
    public void Windows_PhaseFeature_IsSinCosOfTModP()
    {
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(10, 14), new ForecastOptions(1, features: FeatureSpec.Parse("phase4")));
        Assert.Equal(9, w.FirstTime);
        Assert.Equal(2, w.InputSize);
        // t = 9, 10, 11, 12 -> t mod 4 = 1, 2, 3, 0 -> angles π/2, π, 3π/2, 0.
        float[] expected = [1f, 0f, 0f, -1f, -1f, 0f, 0f, 1f];
        float[] actual = w.Inputs.ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 6);
    }

    [Fact]
    public void Windows_RowLayout_IsTheSpecOrder_WithScaledValuesAndLags()
    {
        // Scaler mean 10, std 2; features value, lag4, phase4 with h = 3 -> row t = [(y_t - 10)/2, (y_{t-1} - 10)/2, sin, cos].
        var scaler = new StandardScaler([10.0], [2.0]);
        var w = ForecastWindows.Create(Ramp, scaler, new TimeRange(8, 10), new ForecastOptions(3, features: FeatureSpec.Parse("value,lag4,phase4")));
        Assert.Equal(5, w.FirstTime);
        Assert.Equal(4, w.InputSize);
        float[] actual = w.Inputs.ToArray();
        // t = 5: value -2.5, lag y[4] -> -3, 5 mod 4 = 1 -> sin 1, cos 0; t = 6: -2, -2.5, 6 mod 4 = 2 -> 0, -1.
        float[] expected = [-2.5f, -3f, 1f, 0f, -2f, -2.5f, 0f, -1f];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 6);
        Assert.Equal([-1f, -0.5f], w.Targets.ToArray()); // y[8], y[9] scaled
    }

    [Fact]
    public void Windows_MultiColumn_ValuesPerInputColumn_LagsPerTargetColumn()
    {
        // Two columns: a = t, b = 100 + t. Inputs: both columns; target: b only; features value, lag2 with h = 1.
        var series = TimeSeries.FromColumns([Enumerable.Range(0, 6).Select(i => (float)i).ToArray(), Enumerable.Range(0, 6).Select(i => 100f + i).ToArray()]);
        var scaler = new StandardScaler([0.0, 0.0], [1.0, 1.0]);
        var options = new ForecastOptions(1, targetColumns: [1], features: FeatureSpec.Parse("value,lag2"));
        Assert.Equal(3, options.InputSize(2));
        var w = ForecastWindows.Create(series, scaler, new TimeRange(2, 6), options);
        Assert.Equal(1, w.FirstTime);
        // Row t: a_t, b_t, b_{t-1}.
        Assert.Equal([1f, 101f, 100f, 2f, 102f, 101f, 3f, 103f, 102f, 4f, 104f, 103f], w.Inputs.ToArray());
        Assert.Equal([102f, 103f, 104f, 105f], w.Targets.ToArray());
    }

    [Fact]
    public void Windows_MultiOutput_WithLags_StartsWhereTheLagExists()
    {
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(0, 10), new ForecastOptions(3, TargetMode.MultiOutput, features: FeatureSpec.Parse("value,lag5")));
        Assert.Equal(2, w.FirstTime); // y[t + 3 - 5] needs t ≥ 2
        Assert.Equal([2f, 0f, 3f, 1f], w.Inputs[..4].ToArray());
        Assert.Equal([3f, 4f, 5f], w.Targets[..3].ToArray());
    }

    [Fact]
    public void Windows_PartTooShortForTheLag_ThrowsNamingTheLag()
    {
        var e = Assert.Throws<SeriesTooShortException>(() =>
            ForecastWindows.Create(Ramp, Identity, new TimeRange(0, 6), new ForecastOptions(2, features: FeatureSpec.Parse("value,lag8"))));
        Assert.Contains("lag 8", e.Message);
    }

    [Fact]
    public void Dataset_WithLags_ConsecutivePartsStillTile_AndMaskedTargetsStayExcluded()
    {
        var series = new TimeSeries(Enumerable.Range(0, 200).Select(i => (float)Math.Sin(i * 0.3) + i * 0.01f).ToArray());
        var options = new ForecastOptions(4, features: FeatureSpec.Parse("value,lag24,day"));
        var data = ForecastDataset.Create(series, options, TimeMask.Exclude(150, 160));
        Assert.Equal(20, data.Train.FirstTime); // max(0, 24 - 4)
        Assert.Equal(data.Train.FirstTime + data.Train.Length, data.Validation!.FirstTime);
        Assert.Equal(data.Validation.FirstTime + data.Validation.Length, data.Test!.FirstTime);
        for (int r = 0; r < data.Validation.Length; r++)
        {
            int target = data.Validation.TargetTime(r, 0);
            Assert.Equal(target is >= 150 and < 160 ? 0f : 1f, data.Validation.Weights[r]);
        }
        // Scaling is fitted on the training part only: the lag input of row r equals the scaled target of row r + h - 24... i.e. the same value.
        Assert.Equal(data.Scaler.Transform(series[data.Train.FirstTime + 4 - 24, 0], 0), data.Train.Inputs[1]);
    }

    [Fact]
    public void Dataset_TooShortForTheLag_SaysTheLengthNeeded()
    {
        var series = new TimeSeries(Enumerable.Range(0, 30).Select(i => (float)i).ToArray());
        var e = Assert.Throws<SeriesTooShortException>(() => ForecastDataset.Create(series, new ForecastOptions(1, features: FeatureSpec.Parse("value,lag100"))));
        Assert.True(e.RequiredLength > 100);
        var ok = new TimeSeries(Enumerable.Range(0, e.RequiredLength).Select(i => (float)i).ToArray());
        Assert.NotNull(ForecastDataset.Create(ok, new ForecastOptions(1, features: FeatureSpec.Parse("value,lag100"))).Train);
    }
}
