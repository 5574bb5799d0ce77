using System.Numerics;
using Rnn.Simd.Alternatives.Reservoir;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Reservoir;

/// <summary>
/// The spectral radius estimate and the Hessenberg QR eigenvalues against matrices whose spectrum is known by
/// construction: companion matrices of polynomials with chosen roots, and permuted block-triangular (non-normal)
/// matrices whose dominant eigenvalue is a complex-conjugate pair (where power iteration does not converge).
/// </summary>
public class SpectralRadiusTests
{
    /// <summary>The monic polynomial with the given roots, coefficients c_0 .. c_(n-1) of z^0 .. z^(n-1) (c_n = 1).</summary>
    private static Complex[] MonicCoefficients(Complex[] roots)
    {
        var c = new Complex[roots.Length + 1];
        c[0] = 1;
        int deg = 0;
        foreach (Complex r in roots)
        {
            // multiply by (z - r)
            for (int k = deg + 1; k >= 1; k--) c[k] = c[k - 1] - r * c[k];
            c[0] = -r * c[0];
            deg++;
        }
        return c;
    }

    [Fact]
    public void HessenbergEigenvalues_OfCompanionMatrix_AreTheRoots()
    {
        Complex[] roots = [3, -2, new(1, 2), new(1, -2), 0.5, new(-0.3, 0.9), new(-0.3, -0.9)];
        Complex[] c = MonicCoefficients(roots);
        int n = roots.Length;
        // Companion matrix in upper Hessenberg form: first row -c_(n-1) .. -c_0, ones on the subdiagonal.
        var a = new double[n * n];
        for (int j = 0; j < n; j++) a[j] = -c[n - 1 - j].Real;
        for (int i = 1; i < n; i++) a[i * n + i - 1] = 1;
        var re = new double[n];
        var im = new double[n];
        SpectralRadius.HessenbergEigenvalues(a, n, re, im);
        foreach (Complex r in roots)
        {
            double nearest = double.MaxValue;
            for (int i = 0; i < n; i++) nearest = Math.Min(nearest, Complex.Abs(new Complex(re[i], im[i]) - r));
            Assert.True(nearest < 1e-10, $"root {r}: nearest eigenvalue is {nearest:E2} away");
        }
    }

    /// <summary>P B Pᵀ with B block upper triangular: 2 x 2 blocks [[a, b], [-b, a]] (eigenvalues a ± ib) and 1 x 1
    /// blocks on the diagonal (the pairs last, so that their invariant planes are not coordinate planes and W does not act on them as a scaled rotation), a dense random strictly-upper part (so the matrix is far from normal), P a random
    /// permutation. The eigenvalues are exactly those of the diagonal blocks.</summary>
    private static double[] KnownSpectrum(int n, ulong seed, (double A, double B)[] pairs, double[] reals, double coupling)
    {
        Assert.Equal(n, 2 * pairs.Length + reals.Length);
        var b = new double[n * n];
        var rng = new Rng(seed);
        int pos = 0;
        var blockStart = new int[n];
        foreach (double r in reals)
        {
            b[pos * n + pos] = r;
            blockStart[pos] = pos;
            pos++;
        }
        foreach ((double pa, double pb) in pairs)
        {
            b[pos * n + pos] = pa;
            b[pos * n + pos + 1] = pb;
            b[(pos + 1) * n + pos] = -pb;
            b[(pos + 1) * n + pos + 1] = pa;
            blockStart[pos] = blockStart[pos + 1] = pos;
            pos += 2;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (j > i && blockStart[j] != blockStart[i]) b[i * n + j] = coupling * rng.NextUniform(-1, 1);
        var perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int k = rng.NextInt(i + 1);
            (perm[i], perm[k]) = (perm[k], perm[i]);
        }
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) a[perm[i] * n + perm[j]] = b[i * n + j];
        return a;
    }

    private static SpectralRadius.MatVec Dense(double[] a, int n) => (x, y) =>
    {
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < n; j++) s += a[i * n + j] * x[j];
            y[i] = s;
        }
    };

    [Theory]
    [InlineData(60, 10)]   // Krylov space smaller than n: restarts needed
    [InlineData(150, 80)]
    [InlineData(9, 80)]    // n below the Krylov dimension: the space becomes invariant, exact
    public void Estimate_ComplexDominantPair_NonNormal(int n, int krylov)
    {
        var pairs = new (double, double)[] { (0.6, 0.7), (0.1, 0.5) };
        var reals = new double[n - 4];
        var rng = new Rng(7);
        for (int i = 0; i < reals.Length; i++) reals[i] = rng.NextUniform(-0.75, 0.75);
        double[] a = KnownSpectrum(n, 11, pairs, reals, 0.3);
        double rho = Math.Sqrt(0.6 * 0.6 + 0.7 * 0.7);
        double est = SpectralRadius.Estimate(n, Dense(a, n), 5, krylov);
        Assert.True(Math.Abs(est - rho) <= 1e-8, $"ρ = {rho}, estimate {est}");
    }

    [Fact]
    public void PowerIteration_DoesNotSettle_OnTheComplexPairCase()
    {
        // Guard that the case above is a real test: the plain power-iteration ratio ‖W v‖ / ‖v‖ keeps oscillating.
        const int n = 60;
        var reals = new double[n - 4];
        var rng = new Rng(7);
        for (int i = 0; i < reals.Length; i++) reals[i] = rng.NextUniform(-0.75, 0.75);
        double[] a = KnownSpectrum(n, 11, [(0.6, 0.7), (0.1, 0.5)], reals, 0.3);
        double rho = Math.Sqrt(0.85);
        double[] v = Uniform(3, n), w = new double[n];
        SpectralRadius.MatVec mv = Dense(a, n);
        double worst = 0;
        for (int k = 0; k < 600; k++)
        {
            mv(v, w);
            double nv = Math.Sqrt(v.Sum(x => x * x)), nw = Math.Sqrt(w.Sum(x => x * x));
            if (k >= 500) worst = Math.Max(worst, Math.Abs(nw / nv - rho));
            for (int i = 0; i < n; i++) v[i] = w[i] / nw;
        }
        Assert.True(worst > 1e-3, $"power iteration settled ({worst:E2}); the test matrix is not a hard case");
    }

    [Fact]
    public void Estimate_RealNegativeDominant()
    {
        const int n = 40;
        var reals = new double[n];
        var rng = new Rng(9);
        for (int i = 0; i < n; i++) reals[i] = rng.NextUniform(-0.5, 0.5);
        reals[17] = -0.93;
        double[] a = KnownSpectrum(n, 13, [], reals, 0.2);
        Assert.Equal(0.93, SpectralRadius.Estimate(n, Dense(a, n), 1, 12), 1e-9);
    }

    [Fact]
    public void Estimate_ZeroMatrix_IsZero()
    {
        const int n = 8;
        Assert.Equal(0.0, SpectralRadius.Estimate(n, Dense(new double[n * n], n), 1));
    }
}
