using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;

namespace Rnn.Simd.Tests.Forecasting;

/// <summary>
/// Calendar features (hourofday, dayofweek, dayofyear, month) from a series' timestamps: the text form, the fraction of
/// each cycle against hand-computed dates, the rows of windows against sin / cos written out here from
/// <see cref="DateTime"/> arithmetic, the forecaster against a hand loop, and no allocation on the forecast path.
/// </summary>
public class CalendarFeatureTests
{
    private static readonly SamplingPeriod Hourly = SamplingPeriod.FromDuration(TimeSpan.FromHours(1));

    [Fact]
    public void Parse_AndToString_RoundTrip()
    {
        FeatureSpec spec = FeatureSpec.Parse("value, HourOfDay,dayofweek,dayofyear,monthofyear");
        Assert.Equal("value,hourofday,dayofweek,dayofyear,month", spec.ToString());
        Assert.Equal(spec, FeatureSpec.Parse(spec.ToString()));
        Assert.True(spec.HasCalendar);
        Assert.False(FeatureSpec.Parse("value,day,week").HasCalendar);
        Assert.Equal(1 + 4 * 2, spec.InputSize(1, 1));
        Assert.Throws<ArgumentException>(() => new FeatureSpec([new Feature(FeatureKind.Calendar, 9)]));
    }

    [Theory]
    [InlineData("2024-01-01T00:00:00", CalendarField.DayOfWeek, 0.0)]                 // a Monday
    [InlineData("2024-01-03T12:00:00", CalendarField.DayOfWeek, 2.5 / 7)]
    [InlineData("2024-01-07T18:00:00", CalendarField.DayOfWeek, 6.75 / 7)]           // Sunday evening
    [InlineData("2024-01-07T06:00:00", CalendarField.HourOfDay, 0.25)]
    [InlineData("2024-12-31T12:00:00", CalendarField.DayOfYear, 365.5 / 366)]        // leap year
    [InlineData("2023-03-01T00:00:00", CalendarField.DayOfYear, 59.0 / 365)]
    [InlineData("2023-03-15T00:00:00", CalendarField.Month, 2.0 / 12)]
    public void CalendarFraction_HandComputed(string time, CalendarField field, double expected) =>
        Assert.Equal(expected, FeatureSpec.CalendarFraction(DateTime.Parse(time, System.Globalization.CultureInfo.InvariantCulture), field), 12);

    [Fact]
    public void WithCalendarPhases_ReplacesCalendarCyclesOnly()
    {
        Assert.Equal("value,hourofday,dayofweek,phase12", FeatureSpec.Parse("value,day,week,phase12").WithCalendarPhases(Hourly).ToString());
        var halfHour = SamplingPeriod.FromDuration(TimeSpan.FromMinutes(30));
        Assert.Equal("value,hourofday,dayofweek,day", FeatureSpec.Parse("value,phase48,phase336,day").WithCalendarPhases(halfHour).ToString());
        var daily = SamplingPeriod.FromDuration(TimeSpan.FromDays(1));
        Assert.Equal("value,dayofweek,dayofyear,day", FeatureSpec.Parse("value,phase7,phase365,day").WithCalendarPhases(daily).ToString());
        Assert.Equal("value,month", FeatureSpec.Parse("value,phase12").WithCalendarPhases(SamplingPeriod.FromMonths(1)).ToString());
        FeatureSpec plain = FeatureSpec.Parse("value,lag24");
        Assert.Same(plain, plain.WithCalendarPhases(Hourly));
    }

    private static TimeSeries Series(int n, DateTime start) =>
        new TimeSeries(Enumerable.Range(0, n).Select(t => (float)(50 + 10 * Math.Sin(t / 3.0))).ToArray()).WithTime(new TimeAxis(start, Hourly));

    [Fact]
    public void Windows_RowsHoldSinAndCosOfTheTimestamps()
    {
        var start = new DateTime(2024, 2, 28, 21, 0, 0);
        TimeSeries series = Series(200, start);
        var options = new ForecastOptions(2, features: FeatureSpec.Parse("value,hourofday,dayofweek,dayofyear,month"));
        var scaler = new StandardScaler([50.0], [7.0]);
        var w = ForecastWindows.Create(series, scaler, new TimeRange(10, 200), options);
        for (int r = 0; r < w.Length; r++)
        {
            int t = w.FirstTime + r;
            DateTime at = start.AddHours(t);
            double hour = at.Hour / 24.0, dow = (((int)at.DayOfWeek + 6) % 7 + at.Hour / 24.0) / 7;
            double doy = (at.DayOfYear - 1 + at.Hour / 24.0) / 366, month = (at.Month - 1) / 12.0;
            ReadOnlySpan<float> row = w.Inputs.Slice(r * 9, 9);
            Assert.Equal((float)((series[t, 0] - 50.0) / 7.0), row[0]);
            double[] f = [hour, dow, doy, month];
            for (int k = 0; k < 4; k++)
            {
                Assert.Equal((float)Math.Sin(2 * Math.PI * f[k]), row[1 + 2 * k]);
                Assert.Equal((float)Math.Cos(2 * Math.PI * f[k]), row[2 + 2 * k]);
            }
        }
    }

    [Fact]
    public void Windows_WithoutTimestamps_AreRefused()
    {
        var options = new ForecastOptions(1, features: FeatureSpec.Parse("value,hourofday"));
        var e = Assert.Throws<ArgumentException>(() =>
            ForecastWindows.Create(new TimeSeries([1f, 2f, 3f, 4f]), new StandardScaler([0.0], [1.0]), new TimeRange(1, 4), options));
        Assert.Contains("timestamps", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forecaster_PredictEqualsAHandLoopOverTheWindowsRows_AndTheSpanPathUsesItsTime()
    {
        var start = new DateTime(2024, 3, 30, 0, 0, 0);
        TimeSeries series = Series(300, start);
        var options = new ForecastOptions(3, features: FeatureSpec.Parse("value,hourofday,dayofweek"));
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Gru, options.InputSize(1), 6, 1, 1), seed: 5);
        var scaler = new StandardScaler([50.0], [7.0]);
        var all = ForecastWindows.Create(series, scaler, new TimeRange(3, 300), options);
        Assert.Equal(0, all.FirstTime);
        var forecaster = new Forecaster(net, scaler, options);
        float[] predicted = forecaster.Predict(all);

        NetworkState<float> state = net.CreateState();
        var y = new float[1];
        for (int r = 0; r < all.Length; r++)
        {
            net.Step(all.Inputs.Slice(r * all.InputSize, all.InputSize), y, state);
            Assert.Equal((float)(y[0] * 7.0 + 50.0), predicted[r]);
        }
        // The span overloads read Forecaster.Time; without it a calendar model cannot run.
        var one = new float[1];
        Assert.Throws<InvalidOperationException>(() => forecaster.Forecast(series.Values, one));
        forecaster.Time = series.Time;
        forecaster.Forecast(series.Values[..(all.Length * 1)], one);
        Assert.Equal(predicted[^1], one[0]);
        Assert.Equal(predicted[^1], forecaster.Forecast(series.Slice(0, all.Length))[0]);
    }

    [Fact]
    public void Forecaster_CalendarPath_AllocatesNothingAfterWarmUp()
    {
        TimeSeries series = Series(400, new DateTime(2024, 1, 1));
        var options = new ForecastOptions(1, features: FeatureSpec.Parse("value,lag24,hourofday,dayofweek,dayofyear,month"));
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Lstm, options.InputSize(1), 8, 1, 1), seed: 2);
        var forecaster = new Forecaster(net, new StandardScaler([50.0], [7.0]), options) { Time = series.Time };
        var output = new float[1];
        var generated = new float[24];
        forecaster.Forecast(series.Values, output);
        forecaster.Generate(series.Values, 24, generated);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            forecaster.Forecast(series.Values, output);
            forecaster.Generate(series.Values, 24, generated);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
