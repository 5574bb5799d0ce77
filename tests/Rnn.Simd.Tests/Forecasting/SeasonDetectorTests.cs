using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Tests.Forecasting;

public class SeasonDetectorTests
{
    private static SamplingPeriod Minutes(int m) => SamplingPeriod.FromDuration(TimeSpan.FromMinutes(m));

    private static SamplingPeriod Days(int d) => SamplingPeriod.FromDuration(TimeSpan.FromDays(d));

    [Fact]
    public void Candidates_FollowTheSamplingPeriod()
    {
        Assert.Equal([(24, "day"), (168, "week")], SeasonDetector.Candidates(Minutes(60)));
        Assert.Equal([(48, "day"), (336, "week")], SeasonDetector.Candidates(Minutes(30)));
        Assert.Equal([(144, "day"), (1008, "week")], SeasonDetector.Candidates(Minutes(10)));
        Assert.Equal([(7, "week"), (365, "year")], SeasonDetector.Candidates(Days(1)));
        Assert.Equal([(52, "year")], SeasonDetector.Candidates(Days(7)));
        Assert.Equal([(12, "year")], SeasonDetector.Candidates(SamplingPeriod.FromMonths(1)));
        Assert.Equal([(4, "year")], SeasonDetector.Candidates(SamplingPeriod.FromMonths(3)));
        Assert.Empty(SeasonDetector.Candidates(SamplingPeriod.FromMonths(12)));
        Assert.Equal([(1440, "week")], SeasonDetector.Candidates(Minutes(7)));
        Assert.Empty(SeasonDetector.Candidates(Minutes(11)));
    }

    // A plain sample autocorrelation, the textbook formula, on a detrended series (an independent check of the rule).
    private static double Acf(double[] x, int k)
    {
        double mean = x.Average(), den = x.Sum(v => (v - mean) * (v - mean)), num = 0;
        for (int t = 0; t + k < x.Length; t++) num += (x[t] - mean) * (x[t + k] - mean);
        return num / den;
    }

    [Fact]
    public void Autocorrelation_IsTheTextbookFormula()
    {
        double[] x = [1, 4, 2, 8, 5, 7, 1, 0, 3];
        for (int k = 0; k < 5; k++) Assert.Equal(Acf(x, k), SeasonDetector.Autocorrelation(x, k), 12);
    }

    [Fact]
    public void HalfHourly_DayAndWeek_AreConfirmed()
    {
        var rng = new Random(1);
        var y = new float[336 * 5];
        for (int t = 0; t < y.Length; t++)
            y[t] = (float)(100 + 20 * Math.Sin(2 * Math.PI * t / 48) + (t / 48 % 7 >= 5 ? -15 : 0) + 3 * rng.NextDouble());
        IReadOnlyList<SeasonCandidate> c = SeasonDetector.Detect(y, Minutes(30));
        Assert.All(c, s => Assert.True(s.Confirmed, s.Reason));
        Assert.Equal([48, 336], SeasonDetector.DetectPeriods(y, Minutes(30)));
    }

    [Fact]
    public void Daily_WeekConfirmed_YearRejectedAsLongerThanHalfTheTrainingPart()
    {
        var y = new float[700];
        for (int t = 0; t < y.Length; t++) y[t] = (float)(t % 7 == 0 ? 10 : 2 + 0.01 * t + 0.3 * Math.Sin(t));
        IReadOnlyList<SeasonCandidate> c = SeasonDetector.Detect(y, Days(1));
        Assert.True(c[0].Confirmed, c[0].Reason);
        Assert.False(c[1].Confirmed);
        Assert.Contains("half the training part", c[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Monthly_RandomWalkAndSlowCycle_HaveNoYear_WhileAYearlyCycleIsFound()
    {
        var rng = new Random(4);
        var walk = new float[600];
        for (int t = 1; t < walk.Length; t++) walk[t] = walk[t - 1] + (float)(rng.NextDouble() - 0.5);
        Assert.Empty(SeasonDetector.DetectPeriods(walk, SamplingPeriod.FromMonths(1)));

        // An 11-year cycle (sunspots): r(12) is high but r(6) higher.
        var slow = new float[600];
        for (int t = 0; t < slow.Length; t++) slow[t] = (float)(50 + 40 * Math.Sin(2 * Math.PI * t / 132) + 5 * rng.NextDouble());
        SeasonCandidate year = SeasonDetector.Detect(slow, SamplingPeriod.FromMonths(1))[0];
        Assert.False(year.Confirmed);
        Assert.True(year.Acf > SeasonDetector.MinAcf, "the slow cycle has a high r(12): it is the contrast that rejects it");

        // CO₂-like: a trend plus a yearly cycle.
        var co2 = new float[480];
        for (int t = 0; t < co2.Length; t++) co2[t] = (float)(315 + 0.12 * t + 3 * Math.Sin(2 * Math.PI * t / 12) + 0.3 * rng.NextDouble());
        Assert.Equal([12], SeasonDetector.DetectPeriods(co2, SamplingPeriod.FromMonths(1)));
        SeasonCandidate c = SeasonDetector.Detect(co2, SamplingPeriod.FromMonths(1))[0];
        double[] detrended = Detrend(co2);
        Assert.Equal(Acf(detrended, 12), c.Acf, 9);
        Assert.Equal(Acf(detrended, 6), c.AcfHalf, 9);
    }

    private static double[] Detrend(float[] y)
    {
        int n = y.Length;
        double tm = (n - 1) / 2.0, ym = y.Average(v => (double)v);
        double b = Enumerable.Range(0, n).Sum(t => (t - tm) * (y[t] - ym)) / Enumerable.Range(0, n).Sum(t => (t - tm) * (t - tm));
        return Enumerable.Range(0, n).Select(t => y[t] - ym - b * (t - tm)).ToArray();
    }
}
