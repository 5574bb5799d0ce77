using System.Globalization;

namespace Rnn.Simd.Forecasting;

/// <summary>One candidate season and the autocorrelation evidence for it.</summary>
/// <param name="Period">m, the season in time steps.</param>
/// <param name="Name">"day", "week", "year" (what the period is in calendar terms).</param>
/// <param name="Acf">r(m), the autocorrelation of the detrended training part at lag m (NaN when not computed).</param>
/// <param name="AcfHalf">r(⌊m/2⌋), the autocorrelation half a season away (NaN when not computed).</param>
/// <param name="Confirmed">True when the rule of <see cref="SeasonDetector"/> accepts it.</param>
/// <param name="Reason">Why it was rejected (empty when confirmed).</param>
public sealed record SeasonCandidate(int Period, string Name, double Acf, double AcfHalf, bool Confirmed, string Reason);

/// <summary>
/// Detects the seasons of a series from its sampling period and the autocorrelation of its training part only.
/// <para><b>Candidates</b> (<see cref="Candidates"/>): the calendar cycles that are a whole number of steps of the
/// sampling period P: a day (P shorter than a day: 24 on hourly data, 48 half-hourly, 144 every 10 minutes) and a week
/// (168, 336, 1008); for daily data a week (7) and a year (365); for weekly data a year (52); for monthly, quarterly
/// data a year (12, 4).</para>
/// <para><b>Rule</b> (<see cref="Detect"/>): the training part is detrended by least squares (a line), so that a trend
/// does not make every lag look correlated, and its sample autocorrelation r(k) = Σ (x_t − x̄)(x_{t+k} − x̄) / Σ (x_t − x̄)²
/// (Box &amp; Jenkins; Hyndman &amp; Athanasopoulos, FPP3 §2.8) is computed at the lag m and at ⌊m/2⌋. A candidate is
/// confirmed when m is at most half the training part (two whole seasons: r(m) then rests on at least a season of
/// pairs, and ETS can be initialised), r(m) ≥ <see cref="MinAcf"/>, and r(m) − r(⌊m/2⌋) ≥ <see cref="MinContrast"/>: a season repeats after m steps,
/// and is unlike itself half a season later (a slow cycle or a random walk has r(m/2) ≥ r(m) and is rejected).</para>
/// </summary>
public static class SeasonDetector
{
    /// <summary>The smallest r(m) that confirms a season.</summary>
    public const double MinAcf = 0.2;

    /// <summary>The smallest r(m) − r(⌊m/2⌋) that confirms a season.</summary>
    public const double MinContrast = 0.1;

    /// <summary>The calendar cycles of <paramref name="period"/> as (steps, name), shortest first (see the class remarks).</summary>
    public static IReadOnlyList<(int Period, string Name)> Candidates(SamplingPeriod period)
    {
        var result = new List<(int, string)>();
        if (period.IsCalendarMonths)
        {
            if (12 % period.Months == 0 && 12 / period.Months >= 2) result.Add((12 / period.Months, "year"));
            return result;
        }
        TimeSpan day = TimeSpan.FromDays(1), week = TimeSpan.FromDays(7);
        if (period.Duration < day)
        {
            Add(result, period.StepsIn(day), "day");
            Add(result, period.StepsIn(week), "week");
        }
        else if (period.Duration == day)
        {
            result.Add((7, "week"));
            result.Add((365, "year"));
        }
        else if (period.Duration == week)
        {
            result.Add((52, "year"));
        }
        else
        {
            // Every few days: a week when it is whole steps of the period.
            Add(result, period.StepsIn(week), "week");
        }
        return result;
    }

    private static void Add(List<(int, string)> list, int steps, string name)
    {
        if (steps >= 2) list.Add((steps, name));
    }

    /// <summary>Checks each candidate of <paramref name="period"/> on <paramref name="train"/> (the training part only) with the rule of the class remarks.</summary>
    /// <param name="train">The training part of the target column, oldest first.</param>
    /// <param name="period">The sampling period.</param>
    public static IReadOnlyList<SeasonCandidate> Detect(ReadOnlySpan<float> train, SamplingPeriod period)
    {
        IReadOnlyList<(int Period, string Name)> candidates = Candidates(period);
        var result = new List<SeasonCandidate>(candidates.Count);
        double[] x = Detrend(train);
        foreach ((int m, string name) in candidates) result.Add(Check(x, m, name));
        return result;
    }

    /// <summary>The confirmed periods of <see cref="Detect"/>, shortest first.</summary>
    public static int[] DetectPeriods(ReadOnlySpan<float> train, SamplingPeriod period)
    {
        var periods = new List<int>();
        foreach (SeasonCandidate c in Detect(train, period))
            if (c.Confirmed) periods.Add(c.Period);
        return [.. periods];
    }

    /// <summary>Checks one season <paramref name="m"/> on <paramref name="train"/> (as <see cref="Detect"/> does for each candidate).</summary>
    public static SeasonCandidate Check(ReadOnlySpan<float> train, int m, string name = "") => Check(Detrend(train), m, name);

    private static SeasonCandidate Check(double[] x, int m, string name)
    {
        if (m < 2) throw new ArgumentOutOfRangeException(nameof(m), m, "A season must be at least 2 steps.");
        if (2L * m > x.Length)
            return new SeasonCandidate(m, name, double.NaN, double.NaN, false,
                Invariant($"longer than half the training part ({x.Length} steps)"));
        double r = Autocorrelation(x, m), half = Autocorrelation(x, m / 2);
        string reason = r < MinAcf ? Invariant($"r({m}) = {r:F3} < {MinAcf}")
            : r - half < MinContrast ? Invariant($"r({m}) - r({m / 2}) = {r - half:F3} < {MinContrast}")
            : "";
        return new SeasonCandidate(m, name, r, half, reason.Length == 0, reason);
    }

    /// <summary>The sample autocorrelation r(<paramref name="lag"/>) of <paramref name="x"/> (mean removed, normalised by the lag-0 sum); 0 for a constant series.</summary>
    public static double Autocorrelation(ReadOnlySpan<double> x, int lag)
    {
        if (lag < 0 || lag >= x.Length) throw new ArgumentOutOfRangeException(nameof(lag), lag, $"The lag must be in [0, {x.Length}).");
        double mean = 0;
        foreach (double v in x) mean += v;
        mean /= x.Length;
        double den = 0, num = 0;
        for (int t = 0; t < x.Length; t++) den += (x[t] - mean) * (x[t] - mean);
        for (int t = 0; t + lag < x.Length; t++) num += (x[t] - mean) * (x[t + lag] - mean);
        return den > 0 ? num / den : 0;
    }

    // x_t minus its least-squares line a + b t.
    private static double[] Detrend(ReadOnlySpan<float> y)
    {
        int n = y.Length;
        if (n < 2) throw new SeriesTooShortException($"Season detection needs at least 2 training values; got {n}.", 2, n, nameof(y));
        double tm = (n - 1) / 2.0, ym = 0;
        foreach (float v in y) ym += v;
        ym /= n;
        double sxy = 0, sxx = 0;
        for (int t = 0; t < n; t++)
        {
            sxy += (t - tm) * (y[t] - ym);
            sxx += (t - tm) * (t - tm);
        }
        double b = sxy / sxx;
        var x = new double[n];
        for (int t = 0; t < n; t++) x[t] = y[t] - ym - b * (t - tm);
        return x;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
