using Rnn.Simd.Analysis;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;

namespace Rnn.Simd.Tests.Analysis;

/// <summary>
/// <see cref="GradientFlow"/> against independent double-precision references: the exact-linear ReLU Elman (J = W_hh,
/// so the product is W_hhᵏ), a one-sided Jacobi SVD written here, central finite differences of a scalar forward written
/// here (Elman tanh, LSTM with s = [h; c], GRU), and the per-lag gradient norms of Eq. 2.9.
/// </summary>
public class GradientFlowTests
{
    private static RecurrentNetwork<double> Net(CellType cell, int input, int hidden, ulong seed, Activation act = Activation.Tanh, double scale = 1)
    {
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(cell, input, [hidden], 1, act), seed);
        if (scale != 1) { foreach (ref double p in net.Parameters) p *= scale; net.MarkParametersChanged(); }
        return net;
    }

    private static double[] Inputs(int steps, int input, ulong seed, double low = -1, double high = 1)
    {
        var rng = new Rng(seed);
        var x = new double[steps * input];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextUniform(low, high);
        return x;
    }

    // ---- independent references ---------------------------------------------------------------------------------

    /// <summary>Singular values of a rows x cols matrix by one-sided Jacobi (Hestenes), descending.</summary>
    private static double[] JacobiSingularValues(double[,] a)
    {
        int m = a.GetLength(0), n = a.GetLength(1);
        var u = (double[,])a.Clone();
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double alpha = 0, beta = 0, gamma = 0;
                    for (int i = 0; i < m; i++) { alpha += u[i, p] * u[i, p]; beta += u[i, q] * u[i, q]; gamma += u[i, p] * u[i, q]; }
                    if (gamma == 0) continue;
                    off = Math.Max(off, Math.Abs(gamma) / Math.Sqrt(alpha * beta));
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.Sign(zeta == 0 ? 1 : zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                    double c = 1 / Math.Sqrt(1 + t * t), s = c * t;
                    for (int i = 0; i < m; i++) { double x = u[i, p], y = u[i, q]; u[i, p] = c * x - s * y; u[i, q] = s * x + c * y; }
                }
            if (off < 1e-15) break;
        }
        var sv = new double[n];
        for (int j = 0; j < n; j++) { double s = 0; for (int i = 0; i < m; i++) s += u[i, j] * u[i, j]; sv[j] = Math.Sqrt(s); }
        Array.Sort(sv); Array.Reverse(sv);
        return sv;
    }

    private static double[,] MatMul(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), k = a.GetLength(1), m = b.GetLength(1);
        var c = new double[n, m];
        for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) { double s = 0; for (int l = 0; l < k; l++) s += a[i, l] * b[l, j]; c[i, j] = s; }
        return c;
    }

    private static double[,] Matrix(ReadOnlySpan<double> flat, int rows, int cols, int rowOffset = 0)
    {
        var m = new double[rows, cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) m[i, j] = flat[(rowOffset + i) * cols + j];
        return m;
    }

    /// <summary>A scalar double reference of one step of each cell from state s (h, or [h; c]) with input x.</summary>
    private static double[] RefStep(CellType cell, Activation act, double[] p, ParameterLayout lay, int inSize, int h, double[] x, double[] s)
    {
        double W(ParameterKind k, int r, int c, int cols) => p[lay.Get(0, k).Offset + r * cols + c];
        double B(ParameterKind k, int r) => p[lay.Get(0, k).Offset + r];
        double Pre(int r, bool withHidden, bool withBhh)
        {
            double a = B(ParameterKind.InputBias, r) + (withBhh ? B(ParameterKind.RecurrentBias, r) : 0);
            for (int c = 0; c < inSize; c++) a += W(ParameterKind.InputWeight, r, c, inSize) * x[c];
            if (withHidden) for (int c = 0; c < h; c++) a += W(ParameterKind.RecurrentWeight, r, c, h) * s[c];
            return a;
        }
        double Hid(int r) { double a = B(ParameterKind.RecurrentBias, r); for (int c = 0; c < h; c++) a += W(ParameterKind.RecurrentWeight, r, c, h) * s[c]; return a; }
        static double Sig(double v) => 1 / (1 + Math.Exp(-v));
        var o = new double[cell == CellType.Lstm ? 2 * h : h];
        for (int j = 0; j < h; j++)
        {
            switch (cell)
            {
                case CellType.Elman:
                    double a = Pre(j, true, true);
                    o[j] = act switch { Activation.Relu => Math.Max(a, 0), Activation.Sigmoid => Sig(a), _ => Math.Tanh(a) };
                    break;
                case CellType.Lstm:
                    double i = Sig(Pre(j, true, true)), f = Sig(Pre(h + j, true, true)), g = Math.Tanh(Pre(2 * h + j, true, true)), og = Sig(Pre(3 * h + j, true, true));
                    double c = f * s[h + j] + i * g;
                    o[j] = og * Math.Tanh(c); o[h + j] = c;
                    break;
                default:
                    double r = Sig(Pre(j, false, false) + Hid(j)), z = Sig(Pre(h + j, false, false) + Hid(h + j));
                    double n = Math.Tanh(Pre(2 * h + j, false, false) + r * Hid(2 * h + j));
                    o[j] = (1 - z) * n + z * s[j];
                    break;
            }
        }
        return o;
    }

    /// <summary>The reference states s_0 … s_(T-1) from the zero state.</summary>
    private static double[][] RefRun(RecurrentNetwork<double> net, double[] x)
    {
        NetworkArchitecture a = net.Architecture;
        int h = a.HiddenSizes[0], n = a.Cell == CellType.Lstm ? 2 * h : h, steps = x.Length / a.InputSize;
        double[] p = net.Parameters.ToArray();
        var states = new double[steps][];
        var s = new double[n];
        for (int t = 0; t < steps; t++) s = states[t] = RefStep(a.Cell, a.Activation, p, net.Layout, a.InputSize, h, x.AsSpan(t * a.InputSize, a.InputSize).ToArray(), s);
        return states;
    }

    /// <summary>s_t as a function of s_(t-k), by the reference steps t-k+1 … t.</summary>
    private static double[] RefRunFrom(RecurrentNetwork<double> net, double[] x, int t, int k, double[] start)
    {
        NetworkArchitecture a = net.Architecture;
        double[] p = net.Parameters.ToArray();
        double[] s = start;
        for (int tau = t - k + 1; tau <= t; tau++) s = RefStep(a.Cell, a.Activation, p, net.Layout, a.InputSize, a.HiddenSizes[0], x.AsSpan(tau * a.InputSize, a.InputSize).ToArray(), s);
        return s;
    }

    /// <summary>The library's product J_t ⋯ J_(t-k+1) as a dense matrix, column j = the JVP chain applied to e_j.</summary>
    private static double[,] LibraryProduct(LayerTrace trace, int t, int k)
    {
        int n = trace.StateSize;
        var m = new double[n, n];
        for (int j = 0; j < n; j++)
        {
            double[] v = new double[n], w = new double[n];
            v[j] = 1;
            for (int tau = t - k + 1; tau <= t; tau++) { trace.Jvp(tau, v, w); (v, w) = (w, v); }
            for (int i = 0; i < n; i++) m[i, j] = v[i];
        }
        return m;
    }

    // ---- tests ----------------------------------------------------------------------------------------------------

    /// <summary>A ReLU Elman whose pre-activations are all positive is linear in h: each factor is W_hh, the product
    /// W_hhᵏ, and the power-iteration σ_max equals the Jacobi SVD of W_hhᵏ computed here.</summary>
    [Fact]
    public void ReluElman_PositivePreActivations_ProductIsRecurrentPower_SigmaMatchesSvd()
    {
        const int h = 5, k = 8, steps = 12;
        var net = Net(CellType.Elman, 2, h, 3, Activation.Relu);
        var rng = new Rng(9);
        // Non-negative weights and positive biases and inputs keep every a_t > 0.
        foreach (ref double p in net.Parameters) p = rng.NextUniform(0.02, 0.3);
        net.MarkParametersChanged();
        double[] x = Inputs(steps, 2, 4, 0.1, 1);
        LayerTrace trace = GradientFlow.Trace(net, x)[0];
        double[,] w = Matrix(net.Parameter("weight_hh_l0"), h, h);
        double[,] power = w;
        for (int lag = 1; lag <= k; lag++)
        {
            if (lag > 1) power = MatMul(power, w);
            double[,] lib = LibraryProduct(trace, steps - 1, lag);
            for (int i = 0; i < h; i++) for (int j = 0; j < h; j++) Assert.Equal(power[i, j], lib[i, j], 1e-12 * Math.Max(1, Math.Abs(power[i, j])));
        }
        GradientFlowReport report = GradientFlow.Analyze<double>(net, x, default, new GradientFlowOptions { MaxLag = k, PowerIterations = 100, Tolerance = 0, SingularValueLags = [.. Enumerable.Range(1, k)] });
        power = w;
        foreach (LagSingularValue sv in report.Layers[0].JacobianSingularValues)
        {
            if (sv.Lag > 1) power = MatMul(power, w);
            double expected = JacobiSingularValues(power)[0];
            Assert.Equal(expected, sv.SigmaMax, expected * 1e-9);
        }
    }

    /// <summary>On a tanh Elman, an LSTM ([h; c]) and a GRU each per-lag Jacobian product equals central finite
    /// differences of the scalar reference forward; the VJP is the JVP's transpose.</summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void PerLagJacobian_MatchesFiniteDifferences(CellType cell)
    {
        const int h = 4, steps = 9, t = 8;
        var net = Net(cell, 2, h, 11, scale: 2.5);
        double[] x = Inputs(steps, 2, 5);
        LayerTrace trace = GradientFlow.Trace(net, x)[0];
        double[][] states = RefRun(net, x);
        int n = trace.StateSize;
        for (int j = 0; j < h; j++) Assert.Equal(states[t][j], trace.H(t)[j], 1e-13);
        foreach (int k in new[] { 1, 3, 6 })
        {
            double[,] lib = LibraryProduct(trace, t, k);
            const double eps = 1e-6;
            double maxAbs = 0, maxErr = 0;
            for (int j = 0; j < n; j++)
            {
                double[] plus = (double[])states[t - k].Clone(), minus = (double[])states[t - k].Clone();
                plus[j] += eps; minus[j] -= eps;
                double[] fp = RefRunFrom(net, x, t, k, plus), fm = RefRunFrom(net, x, t, k, minus);
                for (int i = 0; i < n; i++)
                {
                    double fd = (fp[i] - fm[i]) / (2 * eps);
                    maxAbs = Math.Max(maxAbs, Math.Abs(fd));
                    maxErr = Math.Max(maxErr, Math.Abs(fd - lib[i, j]));
                }
            }
            Assert.True(maxAbs > 1e-4, $"{cell} k={k}: the product is ~0 ({maxAbs}); the test would be vacuous");
            Assert.True(maxErr <= 1e-7 * Math.Max(1, maxAbs), $"{cell} k={k}: max |FD - JVP| = {maxErr:E2} (max |J| {maxAbs:E2})");
        }
        // VJP = JVPᵀ: uᵀ (J v) = (Jᵀ u)ᵀ v for the step t.
        var rng = new Rng(2);
        double[] u = new double[n], v = new double[n], jv = new double[n], ju = new double[n];
        for (int i = 0; i < n; i++) { u[i] = rng.NextNormal(); v[i] = rng.NextNormal(); }
        trace.Jvp(t, v, jv); trace.Vjp(t, u, ju);
        double left = 0, right = 0;
        for (int i = 0; i < n; i++) { left += u[i] * jv[i]; right += ju[i] * v[i]; }
        Assert.Equal(left, right, 1e-12 * Math.Max(1, Math.Abs(left)));
    }

    /// <summary>The power-iteration σ_max equals the Jacobi SVD of the dense product at small H, on every cell.</summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void PowerIteration_EqualsFullSvd(CellType cell)
    {
        const int h = 6, steps = 20;
        var net = Net(cell, 2, h, 21, scale: 3);
        double[] x = Inputs(steps, 2, 8);
        LayerTrace trace = GradientFlow.Trace(net, x)[0];
        var report = GradientFlow.Analyze<double>(net, x, default, new GradientFlowOptions { MaxLag = 10, PowerIterations = 300, Tolerance = 0, SingularValueLags = [1, 2, 5, 10] });
        foreach (LagSingularValue sv in report.Layers[0].JacobianSingularValues)
        {
            double[] s = JacobiSingularValues(LibraryProduct(trace, steps - 1, sv.Lag));
            Assert.True(s[0] > 1e-8, "degenerate product");
            Assert.Equal(s[0], sv.SigmaMax, s[0] * 1e-7);
        }
    }

    /// <summary>The batched sweeps (all origins together) average the same norms as one origin at a time, computed
    /// here from the library's single-vector VJP; the default tolerance's early stop agrees with 300 iterations.</summary>
    [Fact]
    public void BatchedOrigins_EqualOneAtATime_DefaultToleranceAgrees()
    {
        const int h = 5, steps = 30, k = 12;
        var net = Net(CellType.Lstm, 2, h, 41, scale: 2);
        double[] x = Inputs(steps, 2, 3);
        var report = GradientFlow.Analyze<double>(net, x, default, new GradientFlowOptions { MaxLag = k, MaxOrigins = 5 });
        Assert.Equal(5, report.Origins);
        LayerTrace trace = GradientFlow.Trace(net, x)[0];
        double[] wo = net.Parameter("readout.weight").ToArray();
        int span = steps - 1 - k;
        var expected = new double[k];
        for (int i = 0; i < 5; i++)
        {
            int t = steps - 1 - (int)Math.Round((double)i * span / 4);
            double[] u = new double[2 * h], w = new double[2 * h];
            for (int j = 0; j < h; j++) u[j] = wo[j];
            for (int lag = 1; lag <= k; lag++)
            {
                trace.Vjp(t - lag + 1, u, w);
                (u, w) = (w, u);
                double sq = 0; foreach (double v in u) sq += v * v;
                expected[lag - 1] += Math.Sqrt(sq) / 5;
            }
        }
        for (int lag = 0; lag < k; lag++) Assert.Equal(expected[lag], report.GradientNorms[lag], expected[lag] * 1e-12);
        var exact = GradientFlow.Analyze<double>(net, x, default, new GradientFlowOptions { MaxLag = k, PowerIterations = 300, Tolerance = 0 });
        for (int i = 0; i < exact.Layers[0].JacobianSingularValues.Count; i++)
        {
            double e = exact.Layers[0].JacobianSingularValues[i].SigmaMax;
            Assert.Equal(e, report.Layers[0].JacobianSingularValues[i].SigmaMax, e * 1e-4);
        }
    }

    /// <summary>‖∂L_t/∂s_(t-k)‖ (Eq. 2.9) at the single origin t = T - 1 equals central differences of L_t = ½(y_t - d_t)²
    /// through the reference forward, for every lag.</summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void GradientNorms_MatchFiniteDifferences(CellType cell)
    {
        const int h = 3, steps = 10, k = 7;
        var net = Net(cell, 2, h, 31, scale: 2);
        double[] x = Inputs(steps, 2, 12);
        double[] d = Inputs(steps, 1, 13);
        var report = GradientFlow.Analyze<double>(net, x, d, new GradientFlowOptions { MaxLag = k, MaxOrigins = 1 });
        Assert.Equal(1, report.Origins);
        double[][] states = RefRun(net, x);
        double[] wo = net.Parameter("readout.weight").ToArray();
        double bo = net.Parameter("readout.bias")[0];
        int t = steps - 1, n = states[0].Length;
        double Loss(double[] s) { double y = bo; for (int j = 0; j < h; j++) y += wo[j] * s[j]; return 0.5 * (y - d[t]) * (y - d[t]); }
        for (int lag = 1; lag <= k; lag++)
        {
            double sq = 0;
            for (int j = 0; j < n; j++)
            {
                const double eps = 1e-5;
                double[] plus = (double[])states[t - lag].Clone(), minus = (double[])states[t - lag].Clone();
                plus[j] += eps; minus[j] -= eps;
                double g = (Loss(RefRunFrom(net, x, t, lag, plus)) - Loss(RefRunFrom(net, x, t, lag, minus))) / (2 * eps);
                sq += g * g;
            }
            double expected = Math.Sqrt(sq);
            Assert.True(expected > 1e-8, $"lag {lag}: vanishing reference gradient");
            // Relative 1e-6 plus the central difference's round-off floor (~1e-16 · L / eps per component).
            Assert.Equal(expected, report.GradientNorms[lag - 1], expected * 1e-6 + 1e-10);
        }
    }

    /// <summary>The spectral-radius estimate on matrices with known ρ: a symmetric one (ρ = max |λ| by Jacobi SVD,
    /// singular values of a symmetric matrix being |λ|) and a scaled rotation block beside a smaller diagonal (complex
    /// dominant pair, ρ = 0.9, where a Rayleigh quotient would not converge).</summary>
    [Fact]
    public void SpectralRadius_KnownMatrices()
    {
        const int n = 5;
        var rng = new Rng(4);
        var sym = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) sym[i * n + j] = sym[j * n + i] = rng.NextUniform(-1, 1);
        double expected = JacobiSingularValues(Matrix(sym, n, n))[0];
        Assert.Equal(expected, GradientFlow.SpectralRadius(sym, n, 2000, new Rng(1)), expected * 1e-3);

        double th = 0.7;
        var rot = new double[n * n];
        rot[0] = 0.9 * Math.Cos(th); rot[1] = -0.9 * Math.Sin(th); rot[n] = 0.9 * Math.Sin(th); rot[n + 1] = 0.9 * Math.Cos(th);
        rot[2 * n + 2] = 0.5; rot[3 * n + 3] = -0.4; rot[4 * n + 4] = 0.3;
        Assert.Equal(0.9, GradientFlow.SpectralRadius(rot, n, 400, new Rng(1)), 1e-6);
    }

    /// <summary>Saturation thresholds: a large-weight tanh Elman saturates (|h| &gt; 0.99), a tiny-weight one does not.</summary>
    [Fact]
    public void Saturation_FollowsTheThresholds()
    {
        double[] x = Inputs(30, 2, 3);
        var big = GradientFlow.Analyze<double>(Net(CellType.Elman, 2, 8, 1, scale: 40), x, default, new GradientFlowOptions { MaxLag = 5 });
        var small = GradientFlow.Analyze<double>(Net(CellType.Elman, 2, 8, 1, scale: 0.01), x, default, new GradientFlowOptions { MaxLag = 5 });
        Assert.True(big.Layers[0].Saturation[0].Fraction > 0.5, $"{big.Layers[0].Saturation[0].Fraction}");
        Assert.Equal(0, small.Layers[0].Saturation[0].Fraction);
        var lstm = GradientFlow.Analyze<double>(Net(CellType.Lstm, 2, 4, 1), x, default, new GradientFlowOptions { MaxLag = 5 });
        Assert.Equal(["i", "f", "g", "o", "tanh(c)"], lstm.Layers[0].Saturation.Select(s => s.Name));
        Assert.Equal(4, lstm.Layers[0].RecurrentSpectralRadius.Count);
        Assert.Equal(8, lstm.Layers[0].StateSize);
    }

    /// <summary>Bad arguments throw ArgumentException with a message.</summary>
    [Fact]
    public void BadInput_Throws()
    {
        var net = Net(CellType.Elman, 2, 4, 1);
        double[] x = Inputs(10, 2, 1);
        Assert.Throws<ArgumentException>(() => GradientFlow.Analyze<double>(net, x, default, new GradientFlowOptions { MaxLag = 10 }));
        Assert.Throws<ArgumentException>(() => GradientFlow.Analyze<double>(net, x, default, new GradientFlowOptions { MaxLag = 0 }));
        Assert.Throws<ArgumentException>(() => GradientFlow.Analyze<double>(net, x, default, new GradientFlowOptions { MaxLag = -3 }));
        Assert.Throws<ArgumentException>(() => GradientFlow.Analyze<double>(net, x.AsSpan(0, 19), default, null));
        Assert.Throws<ArgumentException>(() => GradientFlow.Analyze<double>(net, x, new double[9], new GradientFlowOptions { MaxLag = 3 }));
        Assert.Throws<ArgumentException>(() => GradientFlow.Analyze<double>(net, x, default, new GradientFlowOptions { MaxLag = 3, PowerIterations = 0 }));
        Assert.Throws<ArgumentException>(() => GradientFlow.Analyze<double>(net, x, default, new GradientFlowOptions { MaxLag = 3, SingularValueLags = [4] }));
        var ok = GradientFlow.Analyze<double>(net, x, default, new GradientFlowOptions { MaxLag = 9 });
        Assert.Equal(9, ok.GradientNorms.Count);
        Assert.Equal([1, 2, 4, 8, 9], ok.Layers[0].JacobianSingularValues.Select(s => s.Lag));
    }

    /// <summary>float networks are analysed in double from their parameters; a two-layer network reports both layers.</summary>
    [Fact]
    public void FloatTwoLayer_ReportsEveryLayer()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 2, [5, 3], 1), 7);
        float[] x = [.. Inputs(20, 2, 1).Select(v => (float)v)];
        var r = GradientFlow.Analyze<float>(net, x, default, new GradientFlowOptions { MaxLag = 10 });
        Assert.Equal(2, r.Layers.Count);
        Assert.Equal(3, r.Layers[1].Hidden);
        Assert.All(r.GradientNorms, g => Assert.True(g > 0 && double.IsFinite(g)));
    }
}
