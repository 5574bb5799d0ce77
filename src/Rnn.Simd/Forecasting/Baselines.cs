namespace Rnn.Simd.Forecasting;

/// <summary>
/// Naive forecasts a model has to beat, produced in the layout of a <see cref="ForecastWindows"/> (T x O, original
/// units) so that they are scored on exactly the targets (same times, same weights, same mask) a model is scored on.
/// For the row of input time t and horizon step k (k = h for single-step windows):
/// <list type="bullet">
/// <item>Persistence: ŷ[t + k] = y[t], the last value the model has seen (lag k; lag h for single-step windows).</item>
/// <item>Seasonal naive with season m: ŷ[t + k] = y[t + k - m·(⌊(k - 1) / m⌋ + 1)], the value one season before the
///   target, or whole seasons before when k &gt; m so that it is never later than t (lag m when k ≤ m).</item>
/// </list>
/// On hourly data with h = 24, persistence is lag 24 (the same hour yesterday) and the seasonal naive forecast with
/// m = 168 is lag 168 (the same hour a week before).
/// <para><b>Which lags are legitimate.</b> A forecast of y[t + h] made at time t may only use values up to y[t], so a
/// lag ℓ is legitimate only when ℓ ≥ h. Persistence uses exactly ℓ = h. A season m ≥ h gives ℓ = m; a season m &lt; h
/// (m = 24 with h = 36, say) would read the future at lag m, so it steps back whole seasons, ℓ = m·⌈h / m⌉ (lag 48
/// for m = 24, h = 36): the same phase of the season, but the last one known at t (<see cref="SeasonalLag"/>). So the
/// daily (24) and weekly (168) seasonal-naive baselines are defined and honest for every horizon; for h = 24 the
/// daily one equals persistence, and for h ≤ 24 it is lag 24.</para>
/// </summary>
public static class Baselines
{
    /// <summary>The lag ℓ = m·⌈k / m⌉ ≥ k the seasonal naive forecast with season <paramref name="season"/> uses for horizon step <paramref name="step"/> (m when k ≤ m).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A season or step below 1.</exception>
    public static int SeasonalLag(int season, int step)
    {
        if (season < 1) throw new ArgumentOutOfRangeException(nameof(season), season, "The season must be at least 1 step.");
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "The horizon step must be at least 1.");
        return season * ((step - 1) / season + 1);
    }

    /// <summary>Persistence forecasts, T x O in original units: ŷ = y[t] of the output's target column.</summary>
    public static float[] Persistence(ForecastWindows windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var result = new float[windows.Length * windows.OutputSize];
        ReadOnlySpan<float> v = windows.Series.Values;
        int c = windows.Series.ColumnCount, o = windows.OutputSize;
        for (int r = 0; r < windows.Length; r++)
        {
            int t = windows.FirstTime + r;
            for (int k = 0; k < o; k++) result[r * o + k] = v[t * c + windows.TargetColumn(k)];
        }
        return result;
    }

    /// <summary>Seasonal naive forecasts, T x O in original units (see the class remarks for the lag).</summary>
    /// <param name="windows">The windows to forecast.</param>
    /// <param name="season">m ≥ 1, the season length in time steps (24 or 168 on hourly data).</param>
    /// <exception cref="SeriesTooShortException">An included target lies less than one season after the start of the series.</exception>
    public static float[] SeasonalNaive(ForecastWindows windows, int season)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (season < 1) throw new ArgumentOutOfRangeException(nameof(season), season, "The season must be at least 1 step.");
        var result = new float[windows.Length * windows.OutputSize];
        ReadOnlySpan<float> v = windows.Series.Values;
        ReadOnlySpan<float> w = windows.Weights;
        int c = windows.Series.ColumnCount, o = windows.OutputSize;
        for (int r = 0; r < windows.Length; r++)
        {
            for (int k = 0; k < o; k++)
            {
                int step = windows.HorizonStep(k);
                int target = windows.FirstTime + r + step;
                int source = target - SeasonalLag(season, step);
                if (source >= 0)
                {
                    result[r * o + k] = v[source * c + windows.TargetColumn(k)];
                }
                else if (w[r * o + k] != 0)
                {
                    int needed = target - source; // the lag, in steps before the target
                    throw new SeriesTooShortException(
                        $"The seasonal naive forecast with season {season} needs the value {needed} steps before target time {target}, which precedes the series start; " +
                        $"its targets must start at index {needed} or later (this part's targets {windows.TargetRange} start earlier).",
                        needed, target, nameof(windows));
                }
                // A weight-0 target without history keeps 0: it is never scored.
            }
        }
        return result;
    }

    /// <summary>Metrics of <see cref="Persistence"/> on the windows' included targets (original units).</summary>
    public static ForecastMetrics EvaluatePersistence(ForecastWindows windows) => windows.Evaluate(Persistence(windows));

    /// <summary>Metrics of <see cref="SeasonalNaive"/> with season <paramref name="season"/> on the windows' included targets (original units).</summary>
    public static ForecastMetrics EvaluateSeasonalNaive(ForecastWindows windows, int season) => windows.Evaluate(SeasonalNaive(windows, season));
}
