using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Training.Initialization;

namespace Rnn.Simd.Tests.Training.Initialization;

/// <summary>Initialisation (chapter section 2.4): moment statistics, orthogonality, spectral radius, biases, determinism.</summary>
public class InitializerTests
{
    /// <summary>
    /// Sample mean within 5 standard errors of μ, and sample variance within 5 standard errors of σ², the latter
    /// sqrt((μ4 - σ⁴) / N) with the fourth central moment μ4 = kurtosis · σ⁴ of the distribution.
    /// </summary>
    private static void AssertMoments<T>(ReadOnlySpan<T> x, double mean, double variance, double kurtosis, string what)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = x.Length;
        double s = 0;
        foreach (T v in x) s += double.CreateTruncating(v);
        double m = s / n, ss = 0;
        foreach (T v in x) ss += (double.CreateTruncating(v) - m) * (double.CreateTruncating(v) - m);
        double var = ss / (n - 1);
        double seMean = Math.Sqrt(variance / n), seVar = variance * Math.Sqrt((kurtosis - 1) / n);
        Assert.True(Math.Abs(m - mean) <= 5 * seMean, $"{what}: mean {m:G4}, expected {mean:G4} ± {5 * seMean:G3}");
        Assert.True(Math.Abs(var - variance) <= 5 * seVar, $"{what}: variance {var:G4}, expected {variance:G4} ± {5 * seVar:G3}");
    }

    [Fact]
    public void RandomSchemes_HaveTheirMoments_AndBounds()
    {
        const int rows = 180, cols = 170;
        var w = new float[rows * cols];
        var d = new double[rows * cols];
        double glorotVar = 2.0 / (rows + cols), heVar = 2.0 / cols;

        Initializers.GlorotUniform<float>(w, rows, cols, new Rng(1));
        AssertMoments<float>(w, 0, glorotVar, 9.0 / 5, "Glorot uniform");
        double a = Math.Sqrt(6.0 / (rows + cols));
        Assert.All(w, v => Assert.InRange((double)v, -a, a));

        Initializers.GlorotNormal<double>(d, rows, cols, new Rng(2));
        AssertMoments<double>(d, 0, glorotVar, 3, "Glorot normal");

        Initializers.HeNormal<float>(w, rows, cols, new Rng(3));
        AssertMoments<float>(w, 0, heVar, 3, "He normal");

        Initializers.HeUniform<double>(d, rows, cols, new Rng(4));
        AssertMoments<double>(d, 0, heVar, 9.0 / 5, "He uniform");
        Assert.All(d, v => Assert.InRange(v, -Math.Sqrt(6.0 / cols), Math.Sqrt(6.0 / cols)));

        // The chapter's scheme: U[0, 1) / sqrt(N_h): mean 1 / (2 sqrt(N_h)), variance 1 / (12 N_h).
        const int nh = 96;
        Initializers.UniformRescaled<float>(w, nh, new Rng(5));
        AssertMoments<float>(w, 0.5 / Math.Sqrt(nh), 1.0 / (12 * nh), 9.0 / 5, "uniform rescaled");
        Assert.All(w, v => Assert.InRange((double)v, 0, 1 / Math.Sqrt(nh)));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(17, 17)]
    [InlineData(64, 64)]
    [InlineData(40, 13)]
    [InlineData(9, 33)]
    public void Orthogonal_IsOrthonormal(int rows, int cols)
    {
        CheckOrthonormal<double>(rows, cols, 1.0, 1e-12);
        CheckOrthonormal<float>(rows, cols, 1.0, 2e-6);
        CheckOrthonormal<double>(rows, cols, 0.7, 1e-12);
    }

    private static void CheckOrthonormal<T>(int rows, int cols, double gain, double tol) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var w = new T[rows * cols];
        Initializers.Orthogonal<T>(w, rows, cols, new Rng((ulong)(rows * 1000 + cols)), gain);
        // rows ≥ cols: WᵀW = gain² I (orthonormal columns); otherwise WWᵀ = gain² I (orthonormal rows).
        bool byColumns = rows >= cols;
        int k = byColumns ? cols : rows, len = byColumns ? rows : cols;
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < k; j++)
            {
                double s = 0;
                for (int t = 0; t < len; t++)
                {
                    double x = double.CreateTruncating(byColumns ? w[t * cols + i] : w[i * cols + t]);
                    double y = double.CreateTruncating(byColumns ? w[t * cols + j] : w[j * cols + t]);
                    s += x * y;
                }
                Assert.True(Math.Abs(s - (i == j ? gain * gain : 0)) <= tol, $"{typeof(T).Name} {rows}x{cols}: (WᵀW)[{i},{j}] = {s}");
            }
        }
    }

    /// <summary>
    /// Independent estimate of ρ(A) by Gelfand's formula ρ = lim ‖A^k‖^(1/k) with k = 2^14 reached by repeated
    /// squaring (renormalised each time): an upper bound that converges to ρ with relative error about log(C) / k.
    /// </summary>
    private static double GelfandRadius(double[] a, int n)
    {
        var b = (double[])a.Clone();
        var c = new double[n * n];
        double log = Normalize(b);
        for (int i = 0; i < 14; i++)
        {
            Array.Clear(c);
            for (int r = 0; r < n; r++)
                for (int t = 0; t < n; t++)
                {
                    double x = b[r * n + t];
                    for (int col = 0; col < n; col++) c[r * n + col] += x * b[t * n + col];
                }
            (b, c) = (c, b);
            log = 2 * log + Normalize(b);
        }
        return Math.Exp(log / (1 << 14));

        static double Normalize(double[] m)
        {
            double s = Math.Sqrt(m.Sum(x => x * x));
            for (int i = 0; i < m.Length; i++) m[i] /= s;
            return Math.Log(s);
        }
    }

    [Fact]
    public void SpectralRadius_OfAMatrixWithKnownSpectrum()
    {
        // A = Q D Qᵀ with D holding a rotation block of modulus 0.9 (a complex pair, where plain power iteration
        // oscillates) and real eigenvalues of modulus at most 0.6: ρ = 0.9 exactly.
        const int n = 12;
        var q = new double[n * n];
        Initializers.Orthogonal<double>(q, n, n, new Rng(8));
        var dm = new double[n * n];
        double th = 0.7;
        dm[0] = 0.9 * Math.Cos(th); dm[1] = -0.9 * Math.Sin(th); dm[n] = 0.9 * Math.Sin(th); dm[n + 1] = 0.9 * Math.Cos(th);
        for (int i = 2; i < n; i++) dm[i * n + i] = 0.6 * Math.Cos(i);
        var a = new double[n * n];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
            {
                double s = 0;
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++) s += q[r * n + i] * dm[i * n + j] * q[c * n + j];
                a[r * n + c] = s;
            }
        Assert.Equal(0.9, Initializers.EstimateSpectralRadius<double>(a, n), 1e-9);
        Assert.Equal(0.9, GelfandRadius(a, n), 1e-3);
        Assert.Equal(0.0, Initializers.EstimateSpectralRadius<double>(new double[] { 0, 1, 0, 0 }, 2));
    }

    [Theory]
    [InlineData(16, 0.95)]
    [InlineData(33, 1.1)]
    [InlineData(64, 0.8)]
    public void ScaleToSpectralRadius_ReachesTheTarget_OnRandomMatrices(int n, double target)
    {
        var w = new float[n * n];
        Initializers.GlorotNormal<float>(w, n, n, new Rng((ulong)n));
        double before = Initializers.ScaleToSpectralRadius<float>(w, n, target);
        Assert.True(before > 0);
        double achieved = GelfandRadius(w.Select(x => (double)x).ToArray(), n);
        Assert.True(Math.Abs(achieved / target - 1) <= 0.01, $"n={n}: spectral radius {achieved} after scaling to {target}");
    }

    [Fact]
    public void Initialize_Lstm_SetsBlocks_Biases_AndRadius_Deterministically()
    {
        var arch = new NetworkArchitecture(CellType.Lstm, 5, [16, 12], 3);
        var net = new RecurrentNetwork<float>(arch, seed: 1);
        int version = net.ParametersVersion;
        var options = new InitializationOptions { RecurrentSpectralRadius = 0.9, LstmForgetGateBias = 1.0 };
        Initializers.Initialize(net, options, seed: 42);
        Assert.True(net.ParametersVersion > version, "Initialize must mark the parameters changed");
        for (int l = 0; l < arch.NumLayers; l++)
        {
            int h = arch.HiddenSizes[l], inSize = arch.LayerInputSize(l);
            Span<float> wih = net.Parameter($"weight_ih_l{l}");
            // Glorot per gate block: n_in = I_l, n_out = H.
            double a = Math.Sqrt(6.0 / (inSize + h));
            foreach (float v in wih) Assert.InRange((double)v, -a, a);
            Span<float> whh = net.Parameter($"weight_hh_l{l}");
            for (int gate = 0; gate < 4; gate++)
            {
                double[] block = whh.Slice(gate * h * h, h * h).ToArray().Select(x => (double)x).ToArray();
                Assert.True(Math.Abs(GelfandRadius(block, h) / 0.9 - 1) <= 0.01, $"layer {l} gate {gate}");
            }
            float[] bih = net.Parameter($"bias_ih_l{l}").ToArray(), bhh = net.Parameter($"bias_hh_l{l}").ToArray();
            for (int j = 0; j < 4 * h; j++)
            {
                bool forget = j >= h && j < 2 * h;
                Assert.Equal(forget ? 1f : 0f, bih[j]);
                Assert.Equal(0f, bhh[j]);
            }
        }
        Assert.All(net.Parameter("readout.bias").ToArray(), b => Assert.Equal(0f, b));

        var again = new RecurrentNetwork<float>(arch, seed: 7);
        Initializers.Initialize(again, options, seed: 42);
        Assert.True(net.Parameters.SequenceEqual(again.Parameters), "same seed, same weights");
        Initializers.Initialize(again, options, seed: 43);
        Assert.False(net.Parameters.SequenceEqual(again.Parameters));
    }

    [Fact]
    public void Initialize_OrthogonalRecurrentBlocks_Gru()
    {
        var arch = NetworkArchitecture.Uniform(CellType.Gru, 3, 10, 1, 1);
        var net = new RecurrentNetwork<double>(arch);
        Initializers.Initialize(net, new InitializationOptions(), seed: 5);
        Span<double> whh = net.Parameter("weight_hh_l0");
        for (int gate = 0; gate < 3; gate++)
        {
            Span<double> b = whh.Slice(gate * 100, 100);
            for (int i = 0; i < 10; i++)
                for (int j = 0; j < 10; j++)
                {
                    double s = 0;
                    for (int t = 0; t < 10; t++) s += b[t * 10 + i] * b[t * 10 + j];
                    Assert.Equal(i == j ? 1 : 0, s, 1e-12);
                }
        }
        Assert.Throws<InvalidOperationException>(() => Initializers.SetLstmForgetGateBias(net));
    }

    [Fact]
    public void Initialize_UniformRescaled_UsesTotalHiddenUnits()
    {
        var arch = new NetworkArchitecture(CellType.Elman, 2, [8, 17], 1);
        var net = new RecurrentNetwork<float>(arch);
        var options = new InitializationOptions
        {
            InputWeights = WeightInit.UniformRescaled, RecurrentWeights = WeightInit.UniformRescaled, ReadoutWeights = WeightInit.UniformRescaled,
        };
        Initializers.Initialize(net, options, seed: 3);
        double bound = 1 / Math.Sqrt(8 + 17);
        foreach (ParameterSlice s in net.Layout.Slices)
        {
            foreach (float v in net.Parameters.Slice(s.Offset, s.Length))
            {
                if (s.IsWeight) Assert.InRange((double)v, 0, bound);
                else Assert.Equal(0f, v);
            }
        }
    }
}
