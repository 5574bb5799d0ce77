using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Tests.Forecasting;

public class BaselinesTests
{
    private static readonly TimeSeries Y = new([5f, 3f, 8f, 1f, 9f, 2f, 7f, 4f, 6f, 0f]);
    private static readonly StandardScaler Scaler = new([4.0], [3.0]); // baselines work in original units whatever the scaling

    [Fact]
    public void Persistence_IsLagH_HandComputed()
    {
        // h = 2, targets 4..9: rows t = 2..7, ŷ[t + 2] = y[t].
        var w = ForecastWindows.Create(Y, Scaler, new TimeRange(4, 10), new ForecastOptions(2));
        float[] p = Baselines.Persistence(w);
        Assert.Equal([8f, 1f, 9f, 2f, 7f, 4f], p);

        var m = Baselines.EvaluatePersistence(w);
        // y = 9 2 7 4 6 0, e = 1 1 -2 2 -1 -4
        Assert.Equal(6, m.Count);
        Assert.Equal(Math.Sqrt(27.0 / 6), m.Rmse, 12);
        Assert.Equal(11.0 / 6, m.Mae, 12);
        double mean = 28.0 / 6, variance = 186.0 / 6 - mean * mean;
        Assert.Equal(variance, m.TargetVariance, 12);
        Assert.Equal(Math.Sqrt(27.0 / 6 / variance), m.Nrmse!.Value, 12);
        Assert.Equal(1, m.ZeroTargetCount);
        Assert.Equal(100.0 * (1.0 / 9 + 1.0 / 2 + 2.0 / 7 + 2.0 / 4 + 1.0 / 6) / 5, m.Mape!.Value, 10);
    }

    [Fact]
    public void SeasonalNaive_IsLagSeason_HandComputed()
    {
        // season 3, h = 2: ŷ[s] = y[s - 3] for targets s = 4..9 -> y[1..6].
        var w = ForecastWindows.Create(Y, Scaler, new TimeRange(4, 10), new ForecastOptions(2));
        Assert.Equal([3f, 8f, 1f, 9f, 2f, 7f], Baselines.SeasonalNaive(w, 3));
        var m = Baselines.EvaluateSeasonalNaive(w, 3);
        // y = 9 2 7 4 6 0, e = 6 -6 6 -5 4 -7
        Assert.Equal(Math.Sqrt((36.0 + 36 + 36 + 25 + 16 + 49) / 6), m.Rmse, 12);
        // With season = h it equals persistence.
        Assert.Equal(Baselines.Persistence(w), Baselines.SeasonalNaive(w, 2));
    }

    [Fact]
    public void SeasonalNaive_SeasonShorterThanTheHorizon_StepsBackWholeSeasons()
    {
        // season 3, h = 4: lag 3 would read y[t + 1]; the forecast uses lag 6 = y[t - 2] for targets s = 6..9 -> y[0..3].
        var w = ForecastWindows.Create(Y, Scaler, new TimeRange(6, 10), new ForecastOptions(4));
        Assert.Equal(6, Baselines.SeasonalLag(3, 4));
        Assert.Equal([Y[0, 0], Y[1, 0], Y[2, 0], Y[3, 0]], Baselines.SeasonalNaive(w, 3));
        Assert.Equal(24, Baselines.SeasonalLag(24, 24));
        Assert.Equal(48, Baselines.SeasonalLag(24, 36));
        Assert.Equal(168, Baselines.SeasonalLag(168, 24));
        Assert.Equal(336, Baselines.SeasonalLag(168, 169));
        Assert.Throws<ArgumentOutOfRangeException>(() => Baselines.SeasonalLag(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Baselines.SeasonalLag(24, 0));
    }

    [Fact]
    public void MultiOutput_PersistenceRepeatsYt_SeasonalNeverLooksPastT()
    {
        // h = 3, season 2, targets [6, 8): rows t = 3..6.
        var w = ForecastWindows.Create(Y, Scaler, new TimeRange(6, 8), new ForecastOptions(3, TargetMode.MultiOutput));
        Assert.Equal(3, w.FirstTime);
        float[] p = Baselines.Persistence(w);
        Assert.Equal([1f, 1f, 1f, 9f, 9f, 9f, 2f, 2f, 2f, 7f, 7f, 7f], p);

        // step 1: lag 2 -> y[t - 1]; step 2: lag 2 -> y[t]; step 3: lag 4 (two seasons) -> y[t - 1].
        float[] s = Baselines.SeasonalNaive(w, 2);
        Assert.Equal(
            [8f, 1f, 8f,
             1f, 9f, 1f,
             9f, 2f, 9f,
             2f, 7f, 2f], s);
        for (int r = 0; r < w.Length; r++)
            for (int k = 0; k < 3; k++)
                Assert.True(w.TargetTime(r, k) - (k == 2 ? 4 : 2) <= w.FirstTime + r);
    }

    [Fact]
    public void Baselines_AreScoredOnExactlyTheModelsTargets()
    {
        var mask = TimeMask.Exclude(5, 7);
        var w = ForecastWindows.Create(Y, Scaler, new TimeRange(4, 10), new ForecastOptions(2), mask);
        var persistence = Baselines.EvaluatePersistence(w);
        var seasonal = Baselines.EvaluateSeasonalNaive(w, 3);
        Assert.Equal(w.IncludedCount, persistence.Count);
        Assert.Equal(w.IncludedCount, seasonal.Count);
        Assert.Equal(4, persistence.Count);
        // Same as scoring the unmasked targets 4, 7, 8, 9 by hand: y = 9 4 6 0, ŷ = 8 2 7 4.
        var byHand = ForecastMetrics.Compute([8f, 2f, 7f, 4f], [9f, 4f, 6f, 0f]);
        Assert.Equal(byHand.Rmse, persistence.Rmse, 12);
        Assert.Equal(byHand.Nrmse!.Value, persistence.Nrmse!.Value, 12);
    }

    [Fact]
    public void SeasonalNaive_WithoutHistoryForAnIncludedTarget_Throws()
    {
        // Targets from 2 on, season 3: target 2 would need y[-1].
        var w = ForecastWindows.Create(Y, Scaler, new TimeRange(0, 10), new ForecastOptions(2));
        var ex = Assert.Throws<SeriesTooShortException>(() => Baselines.SeasonalNaive(w, 3));
        Assert.Equal(3, ex.RequiredLength);
        Assert.Contains("target time 2", ex.Message, StringComparison.Ordinal);

        // Masking that target removes the need for its history.
        var masked = ForecastWindows.Create(Y, Scaler, new TimeRange(0, 10), new ForecastOptions(2), TimeMask.Exclude(2, 3));
        Assert.Equal(7, Baselines.EvaluateSeasonalNaive(masked, 3).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => Baselines.SeasonalNaive(w, 0));
    }
}
