using System.Globalization;

namespace Rnn.Simd.Forecasting;

/// <summary>
/// Error metrics of a set of point forecasts against their true targets, in the units the values were given in
/// (original units when produced by <see cref="ForecastWindows.Evaluate(ReadOnlySpan{float})"/>). With errors
/// e = y - ŷ over the included targets (weight w &gt; 0; masked targets have w = 0 and do not count at all) and
/// W = Σ w (the count for 0/1 weights):
/// <list type="bullet">
/// <item>RMSE = sqrt(Σ w e² / W); MAE = Σ w |e| / W;</item>
/// <item>NRMSE = sqrt((Σ w e² / W) / var(y)), var the population variance (divisor W) of the included true targets,
///   so that predicting their mean scores 1 — the common protocol's metric;</item>
/// <item>MAPE = 100 · Σ w |e / y| / Σ w over the included targets with y ≠ 0, in percent; targets equal to 0 have no
///   percentage error and are skipped, and <see cref="ZeroTargetCount"/> says how many were.</item>
/// </list>
/// Sums are in double. Immutable.
/// </summary>
public sealed class ForecastMetrics
{
    private ForecastMetrics(int count, double rmse, double mae, double? mape, int zeroTargets, double targetMean, double targetVariance)
    {
        Count = count;
        Rmse = rmse;
        Mae = mae;
        Mape = mape;
        ZeroTargetCount = zeroTargets;
        TargetMean = targetMean;
        TargetVariance = targetVariance;
    }

    /// <summary>Number of included targets (weight &gt; 0).</summary>
    public int Count { get; }

    /// <summary>Root mean squared error.</summary>
    public double Rmse { get; }

    /// <summary>Mean squared error, <see cref="Rmse"/>².</summary>
    public double Mse => Rmse * Rmse;

    /// <summary>Mean absolute error.</summary>
    public double Mae { get; }

    /// <summary>Mean absolute percentage error in percent over the included targets that are not 0; null when all of them are 0.</summary>
    public double? Mape { get; }

    /// <summary>Included targets equal to 0, which MAPE skips.</summary>
    public int ZeroTargetCount { get; }

    /// <summary>Weighted mean of the included true targets.</summary>
    public double TargetMean { get; }

    /// <summary>Population variance of the included true targets (the NRMSE denominator).</summary>
    public double TargetVariance { get; }

    /// <summary>RMSE normalised by the standard deviation of the true targets, sqrt(MSE / var(y)); null when the included targets are all equal (variance 0).</summary>
    public double? Nrmse => TargetVariance > 0 ? Math.Sqrt(Rmse * Rmse / TargetVariance) : null;

    /// <summary>Computes the metrics of <paramref name="predicted"/> against <paramref name="actual"/>.</summary>
    /// <param name="predicted">ŷ, any layout (n values); must be finite wherever the weight is positive.</param>
    /// <param name="actual">y, the same layout (n values); must be finite wherever the weight is positive.</param>
    /// <param name="weights">
    /// Per-target weights (n values, finite, ≥ 0): 0 excludes a target (a mask), 1 includes it; other values weight
    /// the means. Empty means every target has weight 1.
    /// </param>
    /// <exception cref="ArgumentException">Lengths differ, or a weight is negative or not finite.</exception>
    /// <exception cref="NonFiniteValueException">An included prediction or target is NaN or ±infinity (its flat index is named).</exception>
    /// <exception cref="EmptySeriesException">No target is included.</exception>
    public static ForecastMetrics Compute(ReadOnlySpan<float> predicted, ReadOnlySpan<float> actual, ReadOnlySpan<float> weights = default)
    {
        if (predicted.Length != actual.Length) ThrowHelper.ThrowLengthMismatch(nameof(predicted), actual.Length, predicted.Length);
        bool weighted = !weights.IsEmpty;
        if (weighted && weights.Length != actual.Length) ThrowHelper.ThrowLengthMismatch(nameof(weights), actual.Length, weights.Length);

        int count = 0;
        double sumW = 0, sumY = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            float w = weighted ? weights[i] : 1f;
            if (!(w >= 0) || float.IsPositiveInfinity(w))
                throw new ArgumentException($"Weight {i} is {w.ToString(CultureInfo.InvariantCulture)}; weights must be finite and non-negative.", nameof(weights));
            if (w == 0) continue;
            if (!float.IsFinite(predicted[i])) ThrowNonFinite(predicted[i], i, "prediction", nameof(predicted));
            if (!float.IsFinite(actual[i])) ThrowNonFinite(actual[i], i, "target", nameof(actual));
            count++;
            sumW += w;
            sumY += w * (double)actual[i];
        }
        if (count == 0)
            throw new EmptySeriesException($"No target to evaluate: all {actual.Length} targets have weight 0 (masked or outside the part).", nameof(weights));

        double mean = sumY / sumW;
        double sumSq = 0, sumAbs = 0, sumVar = 0, sumPct = 0, sumPctW = 0;
        int zeros = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double w = weighted ? weights[i] : 1.0;
            if (w == 0) continue;
            double y = actual[i];
            double e = y - predicted[i];
            sumSq += w * e * e;
            sumAbs += w * Math.Abs(e);
            double d = y - mean;
            sumVar += w * d * d;
            if (y == 0) { zeros++; continue; }
            sumPct += w * Math.Abs(e / y);
            sumPctW += w;
        }
        double? mape = sumPctW > 0 ? 100.0 * sumPct / sumPctW : null;
        return new ForecastMetrics(count, Math.Sqrt(sumSq / sumW), sumAbs / sumW, mape, zeros, mean, sumVar / sumW);
    }

    private static void ThrowNonFinite(float value, int index, string what, string paramName) =>
        throw new NonFiniteValueException(
            $"The {what} at flat index {index} is a {NonFiniteValueException.Describe(value)}; an included {what} must be finite.",
            index, null, value, null, paramName);

    /// <summary>The metrics on one line, e.g. "n=3435 NRMSE=0.4172 RMSE=... MAE=... MAPE=...%".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"n={Count} NRMSE={(Nrmse is double n ? n.ToString("F4", CultureInfo.InvariantCulture) : "n/a")} RMSE={Rmse:G5} MAE={Mae:G5} MAPE={(Mape is double m ? m.ToString("F2", CultureInfo.InvariantCulture) + "%" : "n/a")}{(ZeroTargetCount > 0 ? $" ({ZeroTargetCount} zero target(s) skipped by MAPE)" : "")}");
}
