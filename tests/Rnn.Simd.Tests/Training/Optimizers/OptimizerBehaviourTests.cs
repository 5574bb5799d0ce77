using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Tests.Training.Optimizers;

/// <summary>Whole-run behaviour: descent on a least-squares problem, Nesterov's change of variable, zero allocation.</summary>
public class OptimizerBehaviourTests
{
    private const int Rows = 30, Cols = 12;

    /// <summary>A least-squares problem ½ ‖A w - b‖², A (30 x 12) with N(0, 1/30) entries: Hessian AᵀA with eigenvalues in about [0.13, 2.7].</summary>
    private sealed class LeastSquares
    {
        public readonly double[] A = new double[Rows * Cols], B = new double[Rows];
        public readonly double MinLoss;

        public LeastSquares(ulong seed)
        {
            var rng = new Rng(seed);
            for (int i = 0; i < A.Length; i++) A[i] = rng.NextNormal() / Math.Sqrt(Rows);
            for (int i = 0; i < B.Length; i++) B[i] = rng.NextNormal();
            MinLoss = Loss(Solve());
        }

        public double Loss(ReadOnlySpan<double> w)
        {
            double s = 0;
            for (int r = 0; r < Rows; r++)
            {
                double e = -B[r];
                for (int c = 0; c < Cols; c++) e += A[r * Cols + c] * w[c];
                s += e * e;
            }
            return 0.5 * s;
        }

        /// <summary>Gradient Aᵀ (A w - b), overwriting <paramref name="g"/>.</summary>
        public void Gradient(ReadOnlySpan<float> w, Span<float> g)
        {
            Span<double> e = stackalloc double[Rows];
            for (int r = 0; r < Rows; r++)
            {
                double s = -B[r];
                for (int c = 0; c < Cols; c++) s += A[r * Cols + c] * w[c];
                e[r] = s;
            }
            for (int c = 0; c < Cols; c++)
            {
                double s = 0;
                for (int r = 0; r < Rows; r++) s += A[r * Cols + c] * e[r];
                g[c] = (float)s;
            }
        }

        /// <summary>The minimiser from the normal equations AᵀA w = Aᵀb (Gaussian elimination with partial pivoting).</summary>
        private double[] Solve()
        {
            var m = new double[Cols, Cols + 1];
            for (int i = 0; i < Cols; i++)
            {
                for (int j = 0; j < Cols; j++)
                    for (int r = 0; r < Rows; r++) m[i, j] += A[r * Cols + i] * A[r * Cols + j];
                for (int r = 0; r < Rows; r++) m[i, Cols] += A[r * Cols + i] * B[r];
            }
            for (int k = 0; k < Cols; k++)
            {
                int piv = k;
                for (int i = k + 1; i < Cols; i++) if (Math.Abs(m[i, k]) > Math.Abs(m[piv, k])) piv = i;
                for (int j = 0; j <= Cols; j++) (m[k, j], m[piv, j]) = (m[piv, j], m[k, j]);
                for (int i = k + 1; i < Cols; i++)
                {
                    double f = m[i, k] / m[k, k];
                    for (int j = k; j <= Cols; j++) m[i, j] -= f * m[k, j];
                }
            }
            var w = new double[Cols];
            for (int i = Cols - 1; i >= 0; i--)
            {
                double s = m[i, Cols];
                for (int j = i + 1; j < Cols; j++) s -= m[i, j] * w[j];
                w[i] = s / m[i, i];
            }
            return w;
        }
    }

    public static IEnumerable<object[]> DescentCases() =>
    [
        [OptimizerKind.Sgd, 0.3, 400],
        [OptimizerKind.Momentum, 0.05, 400],
        [OptimizerKind.Nesterov, 0.05, 400],
        [OptimizerKind.Adagrad, 0.5, 1500],
        [OptimizerKind.RmsProp, 0.003, 1500],
        [OptimizerKind.RmsPropGains, 0.002, 1500],
        [OptimizerKind.Adam, 0.05, 1000],
        [OptimizerKind.AdamW, 0.05, 1000],
    ];

    [Theory]
    [MemberData(nameof(DescentCases))]
    public void EachOptimizer_LowersALeastSquaresLoss(OptimizerKind kind, double learningRate, int steps)
    {
        var problem = new LeastSquares(11);
        foreach (IsaPath path in TestPaths.All)
        {
            Optimizer<float> o = OptimizerFactory.Create<float>(kind, Cols, path: path);
            var w = new float[Cols];
            var g = new float[Cols];
            var wd = new double[Cols];
            double initialExcess = problem.Loss(wd) - problem.MinLoss;
            for (int k = 0; k < steps; k++)
            {
                problem.Gradient(w, g);
                o.Step(w, g, (float)learningRate);
            }
            // Nesterov holds the look-ahead point; evaluate the iterate W of Eq. 2.5.
            var final = new float[Cols];
            if (o is Nesterov<float> nesterov) nesterov.CopyWeights(w, final);
            else w.CopyTo(final, 0);
            for (int i = 0; i < Cols; i++) wd[i] = final[i];
            double excess = problem.Loss(wd) - problem.MinLoss;
            Assert.True(initialExcess > 1, "the problem should start far from its minimum");
            Assert.True(excess < 0.01 * initialExcess, $"{kind} on {path}: excess loss {excess:G3} after {steps} steps, started at {initialExcess:G3}");
        }
    }

    [Fact]
    public void Nesterov_TracksTheLiteralEq25Iterates()
    {
        // Eq. 2.5 literally, in double: V_k = μ V_(k-1) - η ∇f(W_k + μ V_(k-1)); W_(k+1) = W_k + V_k, on f = ½ wᵀHw - bᵀw.
        const int n = 9;
        const double mu = 0.85, eta = 0.07;
        var rng = new Rng(3);
        var h = new double[n * n];
        var b = new double[n];
        for (int i = 0; i < n; i++)
        {
            b[i] = rng.NextNormal();
            h[i * n + i] = 0.2 + 2 * rng.NextDouble();
        }
        void Grad(ReadOnlySpan<double> x, Span<double> g)
        {
            for (int i = 0; i < n; i++)
            {
                double s = -b[i];
                for (int j = 0; j < n; j++) s += h[i * n + j] * x[j];
                g[i] = s;
            }
        }
        var w = new double[n];
        var v = new double[n];
        var theta = new double[n];
        var look = new double[n];
        var g = new double[n];
        var weights = new double[n];
        var o = new Nesterov<double>(n, mu);
        for (int k = 0; k < 60; k++)
        {
            // Library: gradient at the look-ahead parameters it holds.
            Grad(theta, g);
            o.Step(theta, g, eta);
            // Literal Eq. 2.5.
            for (int i = 0; i < n; i++) look[i] = w[i] + mu * v[i];
            Grad(look, g);
            for (int i = 0; i < n; i++)
            {
                v[i] = mu * v[i] - eta * g[i];
                w[i] += v[i];
            }
            o.CopyWeights(theta, weights);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(w[i] + mu * v[i], theta[i], 1e-12);
                Assert.Equal(w[i], weights[i], 1e-12);
                Assert.Equal(v[i], o.State(0)[i], 1e-12);
            }
        }
    }
}

/// <summary>
/// Each optimiser step (with clipping by value, a clip scale and a regularisation plan) allocates nothing after
/// warm-up. Runs in the non-parallel allocation collection with the GC-aware measurement of
/// <see cref="Kernels.AllocationTests"/>: a GC caused by another thread moves this thread's counter by an allocation
/// quantum although nothing was allocated here (seen as a flaky "8000 bytes"), so such measurements are repeated.
/// </summary>
[Collection(Kernels.AllocationCollection.Name)]
public class OptimizerAllocationTests
{
    [Fact]
    public void Step_AllocatesNothing_AfterWarmUp()
    {
        var arch = NetworkArchitecture.Uniform(global::Rnn.Simd.Cells.CellType.Gru, 4, 24, 2, 3);
        var layout = new ParameterLayout(arch);
        int n = layout.TotalLength;
        RegularizationPlan plan = new RegularizationOptions(L1: 1e-4, L2: 1e-3).Resolve(layout);
        var p = new float[n];
        var g = new float[n];
        var rng = new Rng(9);
        for (int i = 0; i < n; i++) { p[i] = (float)rng.NextUniform(-1, 1); g[i] = (float)rng.NextUniform(-1, 1); }
        foreach (OptimizerKind kind in OptimizerFactory.AllKinds)
        {
            foreach (IsaPath path in TestPaths.All)
            {
                Optimizer<float> o = OptimizerFactory.Create<float>(kind, n, plan, path);
                o.ClipValue = 0.5;
                Kernels.AllocationTests.AssertNoAllocation((o, p, g, plan), static s =>
                {
                    float scale = GradientClipping.ScaleForMaxNorm<float>(s.g, 1.0, out double _, s.o.Path);
                    s.o.Step(s.p, s.g, 1e-3f, scale);
                    _ = s.plan.Penalty<float>(s.p, s.o.Path);
                }, $"{kind} on {path}");
            }
        }
    }
}
