using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Tests.Forecasting;

public class DampedHoltWintersTests
{
    // The component (smoothing) form of damped additive Holt-Winters, FPP3 §8.3, written plainly: an independent
    // formulation of the library's error-correction form (β* = β / α, the same γ).
    private static double[] ComponentForm(double[] y, int m, EtsParameters p, double level, double trend, IReadOnlyList<double> s0, int k)
    {
        double a = p.Alpha, bStar = p.Beta / p.Alpha, g = p.Gamma, phi = p.Phi;
        var s = new List<double>(s0);          // s[j] = s_{j - m}
        var forecasts = new double[y.Length];
        double l = level, b = trend;
        for (int t = 0; t < y.Length; t++)
        {
            double sOld = s[t];                // s_{t-m}
            double lNew = a * (y[t] - sOld) + (1 - a) * (l + phi * b);
            double bNew = bStar * (lNew - l) + (1 - bStar) * phi * b;
            double sNew = g * (y[t] - l - phi * b) + (1 - g) * sOld;
            l = lNew;
            b = bNew;
            s.Add(sNew);                       // s_t at index t + m
            double damp = 0;
            for (int j = 1; j <= k; j++) damp += Math.Pow(phi, j);
            int hm = (k - 1) % m + 1;          // FPP3: ŷ_{t+k|t} = ℓ_t + φ_k b_t + s_{t+k-m(⌊(k-1)/m⌋+1)} = s index t + hm - m
            forecasts[t] = l + damp * b + s[t + hm];
        }
        return forecasts;
    }

    private static double[] Synthetic(int n, int m, ulong seed, double noise)
    {
        var rng = new Random((int)seed);
        var y = new double[n];
        for (int t = 0; t < n; t++)
            y[t] = 100 + 0.05 * t + 10 * Math.Sin(2 * Math.PI * t / m) + 4 * Math.Cos(4 * Math.PI * t / m) + noise * (rng.NextDouble() - 0.5);
        return y;
    }

    [Theory]
    [InlineData(7, 1)]
    [InlineData(7, 3)]
    [InlineData(12, 12)]
    [InlineData(12, 17)]
    [InlineData(5, 6)]
    public void ForecastFromEveryOrigin_EqualsThePlainComponentForm(int m, int k)
    {
        double[] y = Synthetic(80, m, 3, 2);
        var p = new EtsParameters(0.4, 0.1, 0.2, 0.9);
        var model = DampedHoltWinters.WithParameters(y, m, p);
        double[] f = model.ForecastFromEveryOrigin(y, [k]);
        double[] expected = ComponentForm(y, m, p, model.InitialLevel, model.InitialTrend, model.InitialSeasonal, k);
        for (int t = 0; t < y.Length; t++) Assert.Equal(expected[t], f[t], 1e-9 * Math.Max(1, Math.Abs(expected[t])));
    }

    [Fact]
    public void InitialStates_AreTheClassicalHeuristic_HandComputed()
    {
        // m = 2: first season 1, 3 (mean 2), second 5, 7 (mean 6): b = (6 - 2) / 2 = 2; level before y0 = 2 - 1.5·2 = -1;
        // deviations from the line 2 + (j - 0.5)·2: y0 - 1 = 0, y1 - 3 = 0.
        var model = DampedHoltWinters.WithParameters([1, 3, 5, 7, 9], 2, new EtsParameters(0.5, 0.1, 0.1, 0.9));
        Assert.Equal(2, model.InitialTrend, 12);
        Assert.Equal(-1, model.InitialLevel, 12);
        Assert.Equal([0.0, 0.0], model.InitialSeasonal);
    }

    [Fact]
    public void KnownAnswer_ExactSeasonPlusLevel_IsForecastExactly()
    {
        // A constant level with an exact season and no trend: the heuristic states are exact, every one-step error is 0,
        // so any parameters forecast the pattern exactly, at every horizon.
        int[] pattern = [3, -1, 4, -6];
        var y = new double[40];
        for (int t = 0; t < y.Length; t++) y[t] = 50 + pattern[t % 4];
        DampedHoltWinters model = DampedHoltWinters.Fit(y.AsSpan(0, 24), 4);
        Assert.Equal(0, model.TrainingSse, 9);
        double[] f = model.ForecastFromEveryOrigin(y, [1, 5]);
        for (int t = 0; t + 5 < y.Length; t++)
        {
            Assert.Equal(y[t + 1], f[2 * t], 9);
            Assert.Equal(y[t + 5], f[2 * t + 1], 9);
        }
    }

    [Fact]
    public void Fit_StaysInsideTheFppBounds_AndBeatsEveryGridPoint()
    {
        double[] y = Synthetic(300, 12, 7, 6);
        DampedHoltWinters fit = DampedHoltWinters.Fit(y, 12);
        EtsParameters p = fit.Parameters;
        Assert.InRange(p.Alpha, 0, 1);
        Assert.InRange(p.Beta, 0, p.Alpha);
        Assert.InRange(p.Gamma, 0, 1 - p.Alpha);
        Assert.InRange(p.Phi, 0.8, 0.98);
        Assert.Equal(300, fit.TrainingCount);
        // The optimum is at least as good as a coarse grid over the feasible set (an independent search).
        foreach (double a in new[] { 0.05, 0.2, 0.5, 0.8 })
            foreach (double bf in new[] { 0.01, 0.3 })
                foreach (double gf in new[] { 0.01, 0.3, 0.8 })
                    foreach (double phi in new[] { 0.8, 0.9, 0.98 })
                    {
                        var q = new EtsParameters(a, a * bf, (1 - a) * gf, phi);
                        double sse = DampedHoltWinters.WithParameters(y, 12, q).TrainingSse;
                        Assert.True(fit.TrainingSse <= sse * (1 + 1e-9), $"grid point {q} has SSE {sse} < fitted {fit.TrainingSse} at {p}");
                    }
    }

    // The in-sample MSE of the k-step forecasts of the plain component form (an independent evaluation of a criterion).
    private static double HorizonMse(double[] y, int m, EtsParameters p, int k)
    {
        var init = DampedHoltWinters.WithParameters(y, m, p);
        double[] f = ComponentForm(y, m, p, init.InitialLevel, init.InitialTrend, init.InitialSeasonal, k);
        double sum = 0;
        for (int t = 0; t + k < y.Length; t++) sum += (y[t + k] - f[t]) * (y[t + k] - f[t]);
        return sum / (y.Length - k);
    }

    [Fact]
    public void FitForHorizon_MinimisesTheKStepError_BetterThanTheLikelihoodFitAndAGrid()
    {
        // A smooth series with a wandering level: the one-step likelihood follows each step's slope, the 9-step criterion does not.
        var rng = new Random(11);
        var y = new double[400];
        double level = 50;
        for (int t = 0; t < y.Length; t++)
        {
            level += rng.NextDouble() - 0.5;
            y[t] = level + 8 * Math.Sin(2 * Math.PI * t / 12) + 0.2 * (rng.NextDouble() - 0.5);
        }
        const int k = 9;
        DampedHoltWinters horizon = DampedHoltWinters.FitForHorizon(y, 12, [k]);
        DampedHoltWinters likelihood = DampedHoltWinters.Fit(y, 12);
        double best = HorizonMse(y, 12, horizon.Parameters, k);
        Assert.True(best <= HorizonMse(y, 12, likelihood.Parameters, k) * (1 + 1e-9));
        Assert.True(likelihood.TrainingSse <= horizon.TrainingSse * (1 + 1e-9), "the likelihood fit has the lower one-step SSE");
        foreach (double a in new[] { 0.05, 0.3, 0.7 })
            foreach (double bf in new[] { 0.01, 0.5 })
                foreach (double gf in new[] { 0.05, 0.5 })
                    foreach (double phi in new[] { 0.8, 0.98 })
                    {
                        var q = new EtsParameters(a, a * bf, (1 - a) * gf, phi);
                        Assert.True(best <= HorizonMse(y, 12, q, k) * (1 + 1e-6), $"grid point {q} beats the fit {horizon.Parameters}");
                    }
    }

    [Fact]
    public void Fit_MaskedTimes_AreMissingObservations()
    {
        double[] y = Synthetic(120, 12, 5, 2);
        double[] spoiled = (double[])y.Clone();
        for (int t = 60; t < 70; t++) spoiled[t] = 1e6;
        var mask = TimeMask.Exclude(60, 70);
        var p = new EtsParameters(0.3, 0.05, 0.2, 0.9);
        // The masked values are never read: the filter is the same whatever is stored there.
        var a = DampedHoltWinters.WithParameters(y, 12, p, mask);
        var b = DampedHoltWinters.WithParameters(spoiled, 12, p, mask);
        Assert.Equal(a.TrainingSse, b.TrainingSse, 9);
        Assert.Equal(110, a.TrainingCount);
        Assert.Equal(a.ForecastFromEveryOrigin(y, [3], mask), b.ForecastFromEveryOrigin(spoiled, [3], mask));
    }

    [Fact]
    public void NonSeasonal_IsEtsAAdN()
    {
        double[] y = [10, 12, 13, 15, 16, 18, 19, 21];
        var p = new EtsParameters(0.6, 0.2, 0, 0.9);
        var model = DampedHoltWinters.WithParameters(y, 1, p);
        // Plain recursions, ℓ_{-1} = y0, b_{-1} = y1 - y0.
        double l = 10, b = 2;
        double[] f = model.ForecastFromEveryOrigin(y, [2]);
        for (int t = 0; t < y.Length; t++)
        {
            double e = y[t] - l - 0.9 * b;
            l = l + 0.9 * b + 0.6 * e;
            b = 0.9 * b + 0.2 * e;
            Assert.Equal(l + (0.9 + 0.81) * b, f[t], 9);
        }
    }

    [Fact]
    public void Forecast_Windows_UsesTheRowOriginAndStep_AndRejectsAShortTrainingPart()
    {
        double[] y = Synthetic(200, 8, 1, 1);
        var series = new TimeSeries(Array.ConvertAll(y, v => (float)v));
        var scaler = StandardScaler.Fit(series, new TimeRange(0, 140), TimeMask.None);
        var test = ForecastWindows.Create(series, scaler, new TimeRange(170, 200), new ForecastOptions(3, TargetMode.MultiOutput));
        float[] f = DampedHoltWinters.Forecast(test, 8, new TimeRange(0, 140));
        var yTrain = Array.ConvertAll(series.GetColumn(0)[..140], v => (double)v);
        var all = Array.ConvertAll(series.GetColumn(0), v => (double)v);
        double[] expected = DampedHoltWinters.Fit(yTrain, 8).ForecastFromEveryOrigin(all, [1, 2, 3]);
        for (int r = 0; r < test.Length; r++)
            for (int k = 0; k < 3; k++) Assert.Equal((float)expected[(test.FirstTime + r) * 3 + k], f[r * 3 + k]);
        Assert.Throws<SeriesTooShortException>(() => DampedHoltWinters.Forecast(test, 80, new TimeRange(0, 140)));
    }
}
