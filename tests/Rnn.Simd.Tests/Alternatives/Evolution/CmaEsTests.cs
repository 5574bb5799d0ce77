using Rnn.Simd.Alternatives.Evolution;
using Xunit.Abstractions;

namespace Rnn.Simd.Tests.Alternatives.Evolution;

/// <summary>
/// CMA-ES against Hansen's own reference implementation and against the formulas of the tutorial written out here.
/// </summary>
/// <remarks>
/// Reference evaluation counts (to f ≤ 1e-8): Hansen's purecma.py (pycma, cma/purecma.py, version 3.0.0, the
/// tutorial's algorithm with positive weights, "written for reading and understanding"), run in this repository's
/// review with the same starts as below, 9 seeds each, median: sphere n = 10, x0 = 0.5·1, σ0 = 0.5: 1320 (1250-1400);
/// sphere n = 20: 2508 (2412-2616); ellipsoid Σ 10^(6(i-1)/(n-1)) x_i² (condition 1e6), n = 10, x0 = 0.5·1, σ0 = 0.5:
/// 5830 (5460-6290); Rosenbrock n = 10, x0 = 0.1·1, σ0 = 0.5: 5970 (5440-7090). The issue asks for the tutorial's counts
/// within a factor 2: the median of 5 seeded runs here must be at most twice these medians.
/// </remarks>
public class CmaEsTests(ITestOutputHelper output)
{
    private static double Sphere(ReadOnlySpan<double> x)
    {
        double s = 0;
        foreach (double v in x) s += v * v;
        return s;
    }

    private static double Ellipsoid(ReadOnlySpan<double> x)
    {
        double s = 0;
        int n = x.Length;
        for (int i = 0; i < n; i++) s += Math.Pow(1e6, i / (n - 1.0)) * x[i] * x[i];
        return s;
    }

    private static double Rosenbrock(ReadOnlySpan<double> x)
    {
        double s = 0;
        for (int i = 0; i + 1 < x.Length; i++)
        {
            double a = x[i] * x[i] - x[i + 1], b = x[i] - 1;
            s += 100 * a * a + b * b;
        }
        return s;
    }

    private long MedianEvaluations(FitnessFunction f, int n, double start, CmaEsVariant variant = CmaEsVariant.Full, int runs = 5)
    {
        var counts = new long[runs];
        for (int r = 0; r < runs; r++)
        {
            var x0 = new double[n];
            Array.Fill(x0, start);
            var es = new CmaEs(x0, 0.5, new CmaEsOptions { Seed = (ulong)(101 + r), Variant = variant });
            OptimizationResult result = es.Run(f, 100_000, 1e-8);
            Assert.True(result.Reason == StopReason.TargetReached, $"run {r}: stopped by {result.Reason} at f = {result.BestFitness:E3} after {result.Evaluations} evaluations");
            Assert.True(f(result.BestSolution) <= 1e-8);
            counts[r] = result.Evaluations;
        }
        Array.Sort(counts);
        output.WriteLine($"evaluations: {string.Join(", ", counts)}; median {counts[runs / 2]}");
        return counts[runs / 2];
    }

    [Fact]
    public void Sphere10_ReachesTarget_WithinTwiceHansensCount() => Assert.InRange(MedianEvaluations(Sphere, 10, 0.5), 1, 2 * 1320);

    [Fact]
    public void Sphere20_ReachesTarget_WithinTwiceHansensCount() => Assert.InRange(MedianEvaluations(Sphere, 20, 0.5), 1, 2 * 2508);

    [Fact]
    public void Ellipsoid10_ReachesTarget_WithinTwiceHansensCount() => Assert.InRange(MedianEvaluations(Ellipsoid, 10, 0.5), 1, 2 * 5830);

    [Fact]
    public void Rosenbrock10_ReachesTarget_WithinTwiceHansensCount() => Assert.InRange(MedianEvaluations(Rosenbrock, 10, 0.1), 1, 2 * 5970);

    [Fact]
    public void Separable_OnTheSeparableEllipsoid_ReachesTarget_FasterThanFull()
    {
        // Ros and Hansen (2008): on the axis-parallel ellipsoid sep-CMA-ES learns the scaling (n + 2)/3 times
        // faster, so it needs fewer evaluations than the full model, which must learn n(n+1)/2 entries.
        long sep = MedianEvaluations(Ellipsoid, 10, 0.5, CmaEsVariant.Separable);
        long full = MedianEvaluations(Ellipsoid, 10, 0.5, CmaEsVariant.Full);
        Assert.True(sep < full, $"sep-CMA {sep} evaluations, full {full}");
        Assert.InRange(sep, 1, 2 * 5830);
    }

    [Fact]
    public void Separable_OnARotatedEllipsoid_FailsWhereFullSucceeds()
    {
        // An independent rotation (Gram-Schmidt of a seeded random matrix): sep-CMA cannot learn correlations, the full
        // model can (Ros and Hansen 2008, section 4: sep-CMA is not rotation invariant).
        const int n = 10;
        double[] q = RandomOrthogonal(n, 77);
        double Rotated(ReadOnlySpan<double> x)
        {
            Span<double> y = stackalloc double[n];
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int j = 0; j < n; j++) s += q[i * n + j] * x[j];
                y[i] = s;
            }
            return Ellipsoid(y);
        }
        var x0 = new double[n];
        Array.Fill(x0, 0.5);
        OptimizationResult full = new CmaEs(x0, 0.5, new CmaEsOptions { Seed = 5 }).Run(Rotated, 30_000, 1e-8);
        OptimizationResult sep = new CmaEs(x0, 0.5, new CmaEsOptions { Seed = 5, Variant = CmaEsVariant.Separable }).Run(Rotated, full.Evaluations, 1e-8);
        output.WriteLine($"full {full.Evaluations} evaluations to {full.BestFitness:E2}; sep {sep.Evaluations} to {sep.BestFitness:E2}");
        Assert.Equal(StopReason.TargetReached, full.Reason);
        Assert.True(sep.BestFitness > 1e-8, $"sep-CMA reached {sep.BestFitness:E2} on the rotated ellipsoid within {full.Evaluations} evaluations");
    }

    private static double[] RandomOrthogonal(int n, ulong seed)
    {
        var rng = new Rng(seed);
        var q = new double[n * n];
        for (int i = 0; i < q.Length; i++) q[i] = rng.NextNormal();
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < i; k++)
            {
                double dot = 0;
                for (int j = 0; j < n; j++) dot += q[i * n + j] * q[k * n + j];
                for (int j = 0; j < n; j++) q[i * n + j] -= dot * q[k * n + j];
            }
            double norm = 0;
            for (int j = 0; j < n; j++) norm += q[i * n + j] * q[i * n + j];
            norm = Math.Sqrt(norm);
            for (int j = 0; j < n; j++) q[i * n + j] /= norm;
        }
        return q;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(100)]
    public void DefaultParameters_AreThoseOfTable1(int n)
    {
        var es = new CmaEs(new double[n], 1);
        int lambda = 4 + (int)Math.Floor(3 * Math.Log(n)), mu = lambda / 2;
        Assert.Equal(lambda, es.PopulationSize);
        Assert.Equal(mu, es.ParentCount);
        double[] w = new double[mu];
        for (int i = 0; i < mu; i++) w[i] = Math.Log((lambda + 1) / 2.0) - Math.Log(i + 1);
        double sum = w.Sum();
        for (int i = 0; i < mu; i++) Assert.Equal(w[i] / sum, es.Weights[i], 1e-15);
        double mueff = 1 / w.Sum(v => v / sum * (v / sum));
        Assert.Equal(mueff, es.MuEff, 1e-12);
        Assert.Equal((mueff + 2) / (n + mueff + 5), es.CSigma, 1e-15);
        Assert.Equal(1 + 2 * Math.Max(0, Math.Sqrt((mueff - 1) / (n + 1)) - 1) + es.CSigma, es.DSigma, 1e-15);
        Assert.Equal((4 + mueff / n) / (n + 4 + 2 * mueff / n), es.Cc, 1e-15);
        double c1 = 2 / (Math.Pow(n + 1.3, 2) + mueff);
        Assert.Equal(c1, es.C1, 1e-15);
        Assert.Equal(Math.Min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / (Math.Pow(n + 2, 2) + 2 * mueff / 2)), es.CMu, 1e-15);
        var sep = new CmaEs(new double[n], 1, new CmaEsOptions { Variant = CmaEsVariant.Separable });
        Assert.Equal(Math.Min(1, c1 * (n + 2) / 3), sep.C1, 1e-15);
    }

    [Fact]
    public void TwoGenerations_FollowTheTutorialsUpdateEquations()
    {
        // Eq. 41-47 of the tutorial restated naively in double here, for n = 4, λ = 8, checked against the class after
        // each of two generations (the second with C ≠ I, so the eigendecomposition is exercised through C^(-1/2)).
        const int n = 4;
        double[] m = [0.3, -0.2, 0.5, 1.0];
        double sigma = 0.7;
        var es = new CmaEs(m, sigma, new CmaEsOptions { PopulationSize = 8, Seed = 3 });
        int lambda = 8, mu = es.ParentCount;
        double mueff = es.MuEff, cs = es.CSigma, cc = es.Cc, c1 = es.C1, cmu = es.CMu, ds = es.DSigma, chiN = es.ExpectedNorm;
        var c = new double[n * n];
        for (int i = 0; i < n; i++) c[i * n + i] = 1;
        var ps = new double[n];
        var pc = new double[n];
        for (int g = 1; g <= 2; g++)
        {
            es.Ask();
            var fit = new double[lambda];
            var ys = new double[lambda][];
            for (int k = 0; k < lambda; k++)
            {
                ReadOnlySpan<double> x = es.Candidate(k);
                fit[k] = Rosenbrock(x);
                ys[k] = new double[n];
                for (int i = 0; i < n; i++) ys[k][i] = (x[i] - m[i]) / sigma;
            }
            int[] order = Enumerable.Range(0, lambda).OrderBy(k => fit[k]).ToArray();
            var yw = new double[n];
            for (int j = 0; j < mu; j++)
                for (int i = 0; i < n; i++) yw[i] += es.Weights[j] * ys[order[j]][i];
            // C^(-1/2) yw through the independent solve u = C⁻¹ yw: the class's p_σ increment r must satisfy |r|² = ywᵀ u.
            double[] u = Solve(c, yw, n);
            double expectedR2 = 0;
            for (int i = 0; i < n; i++) expectedR2 += yw[i] * u[i];
            var psOld = (double[])ps.Clone();
            es.Tell(fit);
            double a = Math.Sqrt(cs * (2 - cs) * mueff);
            double r2 = 0;
            for (int i = 0; i < n; i++)
            {
                double r = (es.PathSigma[i] - (1 - cs) * psOld[i]) / a;
                r2 += r * r;
            }
            Assert.Equal(expectedR2, r2, 1e-10 * Math.Max(1, expectedR2));
            if (g == 1)
            {
                // C = I: C^(-1/2) yw = yw exactly.
                for (int i = 0; i < n; i++) Assert.Equal((1 - cs) * psOld[i] + a * yw[i], es.PathSigma[i], 1e-13);
            }
            es.PathSigma.CopyTo(ps);
            double psNorm = Math.Sqrt(ps.Sum(v => v * v));
            bool hsig = psNorm / Math.Sqrt(1 - Math.Pow(1 - cs, 2 * g)) < (1.4 + 2.0 / (n + 1)) * chiN;
            for (int i = 0; i < n; i++) pc[i] = (1 - cc) * pc[i] + (hsig ? Math.Sqrt(cc * (2 - cc) * mueff) * yw[i] : 0);
            double delta = hsig ? 0 : cc * (2 - cc);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double rankMu = 0;
                    for (int k = 0; k < mu; k++) rankMu += es.Weights[k] * ys[order[k]][i] * ys[order[k]][j];
                    c[i * n + j] = (1 + c1 * delta - c1 - cmu) * c[i * n + j] + c1 * pc[i] * pc[j] + cmu * rankMu;
                }
            }
            for (int i = 0; i < n; i++) m[i] += sigma * yw[i];
            sigma *= Math.Exp(cs / ds * (psNorm / chiN - 1));

            for (int i = 0; i < n; i++)
            {
                Assert.Equal(m[i], es.Mean[i], 1e-13);
                Assert.Equal(pc[i], es.PathC[i], 1e-13);
                for (int j = i; j < n; j++) Assert.Equal(c[i * n + j], es.Covariance[i * n + j], 1e-13);
            }
            Assert.Equal(sigma, es.Sigma, 1e-13);
        }
    }

    private static double[] Solve(double[] a, double[] b, int n)
    {
        // Gaussian elimination with partial pivoting on copies.
        var m = (double[])a.Clone();
        var x = (double[])b.Clone();
        for (int col = 0; col < n; col++)
        {
            int p = col;
            for (int r = col + 1; r < n; r++) if (Math.Abs(m[r * n + col]) > Math.Abs(m[p * n + col])) p = r;
            for (int j = 0; j < n; j++) (m[col * n + j], m[p * n + j]) = (m[p * n + j], m[col * n + j]);
            (x[col], x[p]) = (x[p], x[col]);
            for (int r = col + 1; r < n; r++)
            {
                double f = m[r * n + col] / m[col * n + col];
                for (int j = col; j < n; j++) m[r * n + j] -= f * m[col * n + j];
                x[r] -= f * x[col];
            }
        }
        for (int r = n - 1; r >= 0; r--)
        {
            double s = x[r];
            for (int j = r + 1; j < n; j++) s -= m[r * n + j] * x[j];
            x[r] = s / m[r * n + r];
        }
        return x;
    }

    [Fact]
    public void SameSeed_GivesBitwiseTheSameRun_AndAnotherSeedDiffers()
    {
        double[] Run(ulong seed)
        {
            var es = new CmaEs(new double[] { 1, 2, 3, 4, 5 }, 0.3, new CmaEsOptions { Seed = seed });
            es.Run(Rosenbrock, 2000);
            return es.Mean.ToArray();
        }
        Assert.Equal(Run(9), Run(9));
        Assert.NotEqual(Run(9), Run(10));
    }

    [Fact]
    public void AskTell_AllocatesNothingAfterConstruction()
    {
        var es = new CmaEs(new double[30], 0.5, new CmaEsOptions { Seed = 2 });
        var fit = new double[es.PopulationSize];
        void Generation()
        {
            es.Ask();
            for (int k = 0; k < fit.Length; k++) fit[k] = Ellipsoid(es.Candidate(k));
            es.Tell(fit);
        }
        for (int i = 0; i < 3; i++) Generation();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) Generation(); // crosses several lazy eigendecompositions
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void BadInput_IsRefusedWithTheOptionNamed()
    {
        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => new CmaEs(new double[3], 1, new CmaEsOptions { PopulationSize = 1 }));
        Assert.Equal("PopulationSize", e1.ParamName);
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => new CmaEs(new double[3], 0));
        Assert.Equal("initialSigma", e2.ParamName);
        Assert.Throws<ArgumentException>(() => new CmaEs(ReadOnlySpan<double>.Empty, 1));
        Assert.Throws<ArgumentException>(() => new CmaEs(new[] { 1.0, double.NaN }, 1));
        var es = new CmaEs(new double[3], 1);
        Assert.Throws<InvalidOperationException>(() => es.Tell(new double[es.PopulationSize]));
        es.Ask();
        Assert.Throws<ArgumentException>(() => es.Tell(new double[es.PopulationSize + 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => es.Candidate(es.PopulationSize));
    }

    [Fact]
    public void NaNFitness_CountsAsWorst()
    {
        // Half the space returns NaN: the strategy must walk away from it and still solve the sphere on the other side.
        static double Guarded(ReadOnlySpan<double> x) => x[0] < -0.5 ? double.NaN : Sphere(x);
        var es = new CmaEs(new double[] { 1, 1, 1 }, 0.5, new CmaEsOptions { Seed = 4 });
        OptimizationResult r = es.Run(Guarded, 20_000, 1e-10);
        Assert.Equal(StopReason.TargetReached, r.Reason);
    }
}
