using Rnn.Simd.Alternatives.Readout;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Readout;

/// <summary>
/// <see cref="RidgeReadout"/> against the weighted normal equations accumulated by plain scalar loops and solved by
/// Gauss-Jordan elimination with partial pivoting (<see cref="NaiveRidge"/>), in double.
/// </summary>
public class RidgeReadoutTests
{
    /// <summary>The oracle: β (O x D) from (Σ w z zᵀ + λ I′) βᵀ = Σ w z yᵀ, scalar loops and Gauss-Jordan, never the library.</summary>
    internal static double[] NaiveRidge(double[] z, double[] y, double[]? w, int rows, int d, int o, double lambda, bool biasLast)
    {
        // Augmented [A | B], D x (D + O).
        int cols = d + o;
        var a = new double[d * cols];
        for (int t = 0; t < rows; t++)
        {
            double wt = w is null ? 1 : w[t];
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++) a[i * cols + j] += wt * z[t * d + i] * z[t * d + j];
                for (int j = 0; j < o; j++) a[i * cols + d + j] += wt * z[t * d + i] * y[t * o + j];
            }
        }
        for (int i = 0; i < d; i++) a[i * cols + i] += biasLast && i == d - 1 ? 0 : lambda;
        for (int c = 0; c < d; c++)
        {
            int p = c;
            for (int r = c + 1; r < d; r++) if (Math.Abs(a[r * cols + c]) > Math.Abs(a[p * cols + c])) p = r;
            if (p != c) for (int j = 0; j < cols; j++) (a[c * cols + j], a[p * cols + j]) = (a[p * cols + j], a[c * cols + j]);
            double pivot = a[c * cols + c];
            for (int j = 0; j < cols; j++) a[c * cols + j] /= pivot;
            for (int r = 0; r < d; r++)
            {
                if (r == c) continue;
                double f = a[r * cols + c];
                if (f == 0) continue;
                for (int j = 0; j < cols; j++) a[r * cols + j] -= f * a[c * cols + j];
            }
        }
        var beta = new double[o * d];
        for (int j = 0; j < o; j++) for (int i = 0; i < d; i++) beta[j * d + i] = a[i * cols + d + j];
        return beta;
    }

    private static double MaxRelative(double[] expected, ReadOnlySpan<double> actual)
    {
        double scale = 0, err = 0;
        for (int i = 0; i < expected.Length; i++) scale = Math.Max(scale, Math.Abs(expected[i]));
        for (int i = 0; i < expected.Length; i++) err = Math.Max(err, Math.Abs(expected[i] - actual[i]));
        return err / Math.Max(scale, 1e-300);
    }

    /// <summary>Rows z with a trailing constant 1 (the bias column) when asked, uniform elsewhere.</summary>
    private static double[] Features(ulong seed, int rows, int d, bool biasLast)
    {
        double[] z = Uniform(seed, rows * d);
        if (biasLast) for (int t = 0; t < rows; t++) z[t * d + d - 1] = 1;
        return z;
    }

    [Theory]
    [InlineData(1, 1, 7, 0.0, false)]
    [InlineData(5, 2, 40, 0.0, true)]
    [InlineData(17, 3, 255, 0.5, false)]   // one row short of a block
    [InlineData(17, 3, 256, 0.5, true)]    // exactly one block
    [InlineData(97, 1, 600, 1e-3, true)]   // D one past a panel, several blocks and a partial one
    [InlineData(200, 4, 777, 2.0, false)]
    public void Solve_EqualsNaiveNormalEquations(int d, int o, int rows, double lambda, bool biasLast)
    {
        double[] z = Features((ulong)(d * 31 + rows), rows, d, biasLast), y = Uniform((ulong)(d + 7), rows * o);
        double[] w = Uniform((ulong)(rows + 3), rows, 0, 2);
        var readout = new RidgeReadout(d, o, biasLast);
        readout.AddRows<double>(z, y, w, rows);
        double[] beta = readout.Solve(lambda);

        double[] expected = NaiveRidge(z, y, w, rows, d, o, lambda, biasLast);
        double rel = MaxRelative(expected, beta);
        Assert.True(rel <= 1e-10, $"D={d} O={o} rows={rows} λ={lambda}: relative error {rel:E3}");
    }

    [Fact]
    public void CopyNormalEquations_EqualNaiveSums_FloatRows()
    {
        const int d = 130, o = 2, rows = 300;
        double[] zd = Uniform(11, rows * d), yd = Uniform(12, rows * o), wd = Uniform(13, rows, 0, 3);
        float[] z = Convert<float>(zd), y = Convert<float>(yd), w = Convert<float>(wd);
        var readout = new RidgeReadout(d, o);
        readout.AddRows<float>(z, y, w, rows);
        var g = new double[d * d];
        var b = new double[d * o];
        readout.CopyNormalEquations(g, b);
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double s = 0;
                for (int t = 0; t < rows; t++) s += (double)w[t] * z[t * d + i] * z[t * d + j];
                Assert.True(Math.Abs(s - g[i * d + j]) <= 1e-12 * Math.Max(1, Math.Abs(s)), $"G[{i},{j}] = {g[i * d + j]} vs {s}");
            }
            for (int j = 0; j < o; j++)
            {
                double s = 0;
                for (int t = 0; t < rows; t++) s += (double)w[t] * z[t * d + i] * y[t * o + j];
                Assert.True(Math.Abs(s - b[i * o + j]) <= 1e-12 * Math.Max(1, Math.Abs(s)), $"B[{i},{j}] = {b[i * o + j]} vs {s}");
            }
        }
        Assert.Equal(rows, readout.Rows);
    }

    [Fact]
    public void ZeroWeightRows_AreIgnored_AndWeightTwoEqualsADuplicate()
    {
        const int d = 9, o = 2, rows = 300;
        double[] z = Uniform(21, rows * d), y = Uniform(22, rows * o);
        // Every third row has weight 0 and garbage targets; every fifth weight 2.
        var w = new double[rows];
        var withGarbage = (double[])y.Clone();
        for (int t = 0; t < rows; t++)
        {
            w[t] = t % 3 == 0 ? 0 : t % 5 == 0 ? 2 : 1;
            if (w[t] == 0) for (int j = 0; j < o; j++) withGarbage[t * o + j] = 1e6;
        }
        var weighted = new RidgeReadout(d, o);
        weighted.AddRows<double>(z, withGarbage, w, rows);
        double[] beta = weighted.Solve(0.1);

        // Independent: the kept rows listed explicitly, the weight-2 rows twice, unit weights.
        var kz = new List<double>();
        var ky = new List<double>();
        for (int t = 0; t < rows; t++)
        {
            for (int copy = 0; copy < (int)w[t]; copy++)
            {
                for (int i = 0; i < d; i++) kz.Add(z[t * d + i]);
                for (int j = 0; j < o; j++) ky.Add(y[t * o + j]);
            }
        }
        double[] expected = NaiveRidge([.. kz], [.. ky], null, ky.Count / o, d, o, 0.1, false);
        Assert.True(MaxRelative(expected, beta) <= 1e-10);
        Assert.Equal(kz.Count / d - rows / 5 + rows / 15, weighted.Rows); // rows of positive weight, each once
    }

    [Fact]
    public void ExactLinearTargets_AreRecovered_WithLambdaZero()
    {
        const int d = 33, o = 3, rows = 500;
        double[] z = Features(31, rows, d, true), trueBeta = Uniform(32, o * d, -2, 2);
        var y = new double[rows * o];
        for (int t = 0; t < rows; t++)
            for (int j = 0; j < o; j++)
                for (int i = 0; i < d; i++) y[t * o + j] += trueBeta[j * d + i] * z[t * d + i];
        var readout = new RidgeReadout(d, o, lastFeatureIsBias: true);
        readout.AddRows<double>(z, y, default, rows);
        var beta = new float[o * d];
        readout.Solve<float>(0, beta);
        for (int i = 0; i < beta.Length; i++) Assert.Equal(trueBeta[i], beta[i], 1e-5);
        Assert.True(MaxRelative(trueBeta, readout.Solve(0)) <= 1e-10);
    }

    [Fact]
    public void UnregularisedBias_MatchesOracle_AndHugeLambdaLeavesTheMean()
    {
        const int d = 6, o = 1, rows = 80;
        double[] z = Features(41, rows, d, true), y = Uniform(42, rows);
        var shifted = new double[rows];
        for (int t = 0; t < rows; t++) shifted[t] = y[t] + 5;
        var a = new RidgeReadout(d, o, lastFeatureIsBias: true);
        var b = new RidgeReadout(d, o, lastFeatureIsBias: true);
        a.AddRows<double>(z, y, default, rows);
        b.AddRows<double>(z, shifted, default, rows);
        double[] ba = a.Solve(3.0), bb = b.Solve(3.0);
        Assert.True(MaxRelative(NaiveRidge(z, shifted, null, rows, d, o, 3.0, true), bb) <= 1e-10);
        Assert.True(MaxRelative(NaiveRidge(z, y, null, rows, d, o, 3.0, true), ba) <= 1e-10);
        // And the bias really is unpenalised: with a huge λ the non-bias weights vanish and the bias tends to the mean.
        double[] big = b.Solve(1e12);
        double mean = 0;
        for (int t = 0; t < rows; t++) mean += shifted[t] / rows;
        Assert.Equal(mean, big[d - 1], 1e-6);
        for (int i = 0; i < d - 1; i++) Assert.True(Math.Abs(big[i]) < 1e-9);
    }

    [Fact]
    public void ResetAndResolve_GiveTheSameAnswer()
    {
        const int d = 12, o = 2, rows = 270;
        double[] z = Uniform(51, rows * d), y = Uniform(52, rows * o);
        var r = new RidgeReadout(d, o);
        r.AddRows<double>(Uniform(53, 40 * d), Uniform(54, 40 * o), default, 40);
        r.Reset();
        r.AddRows<double>(z, y, default, rows);
        double[] first = r.Solve(0.3), again = r.Solve(0.3);
        Assert.Equal(first, again);
        Assert.True(MaxRelative(NaiveRidge(z, y, null, rows, d, o, 0.3, false), first) <= 1e-10);
    }

    [Fact]
    public void LambdaZero_CollinearFeatures_ThrowsNamingTheColumn()
    {
        const int d = 4, rows = 50;
        double[] z = Uniform(61, rows * d);
        for (int t = 0; t < rows; t++) z[t * d + 2] = 2 * z[t * d + 1]; // column 2 = 2 · column 1
        var r = new RidgeReadout(d, 1);
        r.AddRows<double>(z, Uniform(62, rows), default, rows);
        var ex = Assert.Throws<InvalidOperationException>(() => r.Solve(0));
        Assert.Contains("column 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not positive definite", ex.Message, StringComparison.Ordinal);
        Assert.Equal(4, r.Solve(1e-6).Length); // a positive λ cures it
    }

    [Fact]
    public void LambdaZero_NoRows_Throws()
    {
        var r = new RidgeReadout(3, 1);
        r.Add<double>([1, 2, 3], [1], 0); // weight 0: ignored
        var ex = Assert.Throws<InvalidOperationException>(() => r.Solve(0));
        Assert.Contains("no rows", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadInput_Throws()
    {
        var r = new RidgeReadout(3, 2);
        Assert.Equal("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => r.Solve(-1)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Solve(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RidgeReadout(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RidgeReadout(2, 0));
        Assert.Throws<ArgumentException>(() => r.Add<double>([1, 2], [1, 2], 1));
        Assert.Throws<ArgumentException>(() => r.Add<double>([1, 2, 3], [1], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Add<double>([1, 2, 3], [1, 2], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Add<double>([1, 2, 3], [1, 2], double.NaN));
        Assert.Throws<ArgumentException>(() => r.Solve<double>(1, new double[5]));
    }
}

/// <summary>Accumulating rows and solving allocate nothing after the first block (the GEMM's packing buffers).</summary>
[Collection(Rnn.Simd.Tests.Kernels.AllocationCollection.Name)]
public class RidgeReadoutAllocationTests
{
    [Fact]
    public void AddAndSolve_AllocateNothingAfterWarmUp()
    {
        const int d = 40, o = 2;
        double[] z = Uniform(71, d), y = Uniform(72, o);
        float[] zf = Convert<float>(z), yf = Convert<float>(y);
        var beta = new float[o * d];
        var r = new RidgeReadout(d, o, lastFeatureIsBias: true);
        for (int t = 0; t < 2 * RidgeReadout.BlockRows; t++) r.Add<double>(z, y, 1.0 + t % 3);
        r.Solve<float>(1.0, beta);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 3 * RidgeReadout.BlockRows + 5; t++) r.Add<float>(zf, yf, 0.5);
        r.Solve<float>(1.0, beta);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated");
    }
}
