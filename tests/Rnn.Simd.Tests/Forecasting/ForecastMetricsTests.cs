using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Tests.Forecasting;

public class ForecastMetricsTests
{
    [Fact]
    public void HandComputed_Unweighted()
    {
        // y = 1, 2, 3, 4; ŷ = 2 everywhere; e = y - ŷ = -1, 0, 1, 2.
        var m = ForecastMetrics.Compute([2f, 2f, 2f, 2f], [1f, 2f, 3f, 4f]);
        Assert.Equal(4, m.Count);
        Assert.Equal(Math.Sqrt(6.0 / 4), m.Rmse, 14);          // (1 + 0 + 1 + 4) / 4
        Assert.Equal(1.5, m.Mse, 14);
        Assert.Equal(1.0, m.Mae, 14);                         // (1 + 0 + 1 + 2) / 4
        Assert.Equal(2.5, m.TargetMean, 14);
        Assert.Equal(1.25, m.TargetVariance, 14);             // population variance of 1..4
        Assert.Equal(Math.Sqrt(1.5 / 1.25), m.Nrmse!.Value, 14);
        Assert.Equal(100.0 * (1.0 / 1 + 0 + 1.0 / 3 + 2.0 / 4) / 4, m.Mape!.Value, 12);
        Assert.Equal(0, m.ZeroTargetCount);
    }

    [Fact]
    public void PredictingTheMean_HasNrmseOne()
    {
        var m = ForecastMetrics.Compute([2.5f, 2.5f, 2.5f, 2.5f], [1f, 2f, 3f, 4f]);
        Assert.Equal(1.0, m.Nrmse!.Value, 14);
    }

    [Fact]
    public void ZeroWeights_ExcludeTargetsCompletely()
    {
        // The masked pair (ŷ = 100, y = 7) must leave every metric as if it were absent.
        var masked = ForecastMetrics.Compute([2f, 100f, 2f, 2f, 2f], [1f, 7f, 2f, 3f, 4f], [1f, 0f, 1f, 1f, 1f]);
        var plain = ForecastMetrics.Compute([2f, 2f, 2f, 2f], [1f, 2f, 3f, 4f]);
        Assert.Equal(4, masked.Count);
        Assert.Equal(plain.Rmse, masked.Rmse, 15);
        Assert.Equal(plain.Mae, masked.Mae, 15);
        Assert.Equal(plain.Nrmse!.Value, masked.Nrmse!.Value, 15);
        Assert.Equal(plain.Mape!.Value, masked.Mape!.Value, 15);
        // A masked NaN is not an error either.
        var withNaN = ForecastMetrics.Compute([2f, float.NaN, 2f, 2f, 2f], [1f, float.NaN, 2f, 3f, 4f], [1f, 0f, 1f, 1f, 1f]);
        Assert.Equal(plain.Rmse, withNaN.Rmse, 15);
    }

    [Fact]
    public void NonUnitWeights_WeightTheMeans()
    {
        // Weight 2 on the first target is the same as listing it twice.
        var weighted = ForecastMetrics.Compute([0f, 0f], [1f, 4f], [2f, 1f]);
        var repeated = ForecastMetrics.Compute([0f, 0f, 0f], [1f, 1f, 4f]);
        Assert.Equal(2, weighted.Count);
        Assert.Equal(repeated.Rmse, weighted.Rmse, 14);
        Assert.Equal(repeated.Nrmse!.Value, weighted.Nrmse!.Value, 14);
        Assert.Equal(repeated.Mape!.Value, weighted.Mape!.Value, 14);
    }

    [Fact]
    public void ZeroTargets_AreSkippedByMape_AndCounted()
    {
        // y = 0, 2, 4; ŷ = 1, 1, 1: MAPE over y = 2, 4 only: (1/2 + 3/4) / 2.
        var m = ForecastMetrics.Compute([1f, 1f, 1f], [0f, 2f, 4f]);
        Assert.Equal(1, m.ZeroTargetCount);
        Assert.Equal(100.0 * (0.5 + 0.75) / 2, m.Mape!.Value, 12);
        Assert.Equal(Math.Sqrt((1 + 1 + 9) / 3.0), m.Rmse, 14); // RMSE still counts the zero target
        Assert.Contains("1 zero target(s) skipped by MAPE", m.ToString(), StringComparison.Ordinal);

        var allZero = ForecastMetrics.Compute([1f, 1f], [0f, 0f]);
        Assert.Null(allZero.Mape);
        Assert.Equal(2, allZero.ZeroTargetCount);
    }

    [Fact]
    public void ConstantTargets_HaveNoNrmse()
    {
        var m = ForecastMetrics.Compute([1f, 2f], [3f, 3f]);
        Assert.Equal(0.0, m.TargetVariance);
        Assert.Null(m.Nrmse);
        Assert.Contains("NRMSE=n/a", m.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void BadInput_Throws()
    {
        Assert.Throws<ArgumentException>(() => ForecastMetrics.Compute([1f], [1f, 2f]));
        Assert.Throws<ArgumentException>(() => ForecastMetrics.Compute([1f, 2f], [1f, 2f], [1f]));
        Assert.Throws<ArgumentException>(() => ForecastMetrics.Compute([1f, 2f], [1f, 2f], [1f, -1f]));
        Assert.Throws<ArgumentException>(() => ForecastMetrics.Compute([1f, 2f], [1f, 2f], [1f, float.NaN]));
        Assert.Throws<ArgumentException>(() => ForecastMetrics.Compute([1f, 2f], [1f, 2f], [1f, float.PositiveInfinity]));
        var nan = Assert.Throws<NonFiniteValueException>(() => ForecastMetrics.Compute([1f, float.NaN], [1f, 2f]));
        Assert.Equal(1, nan.Index);
        Assert.Contains("prediction", nan.Message, StringComparison.Ordinal);
        var inf = Assert.Throws<NonFiniteValueException>(() => ForecastMetrics.Compute([1f, 2f], [float.NegativeInfinity, 2f]));
        Assert.Contains("target", inf.Message, StringComparison.Ordinal);
        Assert.Throws<EmptySeriesException>(() => ForecastMetrics.Compute([1f, 2f], [1f, 2f], [0f, 0f]));
        Assert.Throws<EmptySeriesException>(() => ForecastMetrics.Compute(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty));
    }
}
