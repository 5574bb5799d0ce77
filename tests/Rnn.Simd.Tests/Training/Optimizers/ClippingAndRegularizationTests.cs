using System.Numerics;
using FsCheck.Xunit;
using Rnn.Simd.Kernels;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Tests.Reference;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Tests.Training.Optimizers;

/// <summary>Gradient clipping (global norm, value) and the regulariser R_λ: values, gradients, every path.</summary>
public class ClippingAndRegularizationTests
{
    private static int Pick(int raw, int count) => (int)((uint)raw % (uint)count);

    private static T[] RandomVector<T>(int n, Rng rng, double range = 2) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var x = new T[n];
        for (int i = 0; i < n; i++) x[i] = T.CreateTruncating(OptimizerHarness.Value(rng, range));
        return x;
    }

    private static double ReferenceNorm<T>(ReadOnlySpan<T> x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double s = 0;
        foreach (T v in x) s += double.CreateTruncating(v) * double.CreateTruncating(v);
        return Math.Sqrt(s);
    }

    [Fact]
    public void GlobalNorm_MatchesReference_EveryLength_EveryPath()
    {
        var lengths = Enumerable.Range(0, 71).Concat([97, 131, 257, 1001, 4099]);
        foreach (int n in lengths)
        {
            var rng = new Rng((ulong)n);
            float[] f = RandomVector<float>(n, rng);
            double[] d = RandomVector<double>(n, rng);
            double fRef = ReferenceNorm<float>(f), dRef = ReferenceNorm<double>(d);
            foreach (IsaPath path in TestPaths.All)
            {
                // Accumulated in double on every path: only the summation order differs from the reference.
                Assert.Equal(fRef, GradientClipping.GlobalNorm<float>(f, path), 1e-13 * (1 + fRef));
                Assert.Equal(dRef, GradientClipping.GlobalNorm<double>(d, path), 1e-13 * (1 + dRef));
            }
        }
    }

    [Fact]
    public void GlobalNorm_OfHugeFloatGradients_DoesNotOverflow()
    {
        float[] g = new float[100];
        Array.Fill(g, 1e30f);
        foreach (IsaPath path in TestPaths.All)
            Assert.Equal(1e31, GradientClipping.GlobalNorm<float>(g, path), 1e31 * 1e-6);
        g[57] = float.NaN;
        Assert.True(double.IsNaN(GradientClipping.GlobalNorm<float>(g)));
        Assert.True(float.IsNaN(GradientClipping.ScaleForMaxNorm<float>(g, 1.0, out double norm)));
        Assert.True(double.IsNaN(norm));
        Assert.True(float.IsNaN(GradientClipping.ScaleForMaxNorm<float>(double.PositiveInfinity, 1.0)));
    }

    [Property(MaxTest = 100, Replay = "(161803398,8874989)")]
    public void ClippingByGlobalNorm_BoundsTheNorm_AndPreservesDirection(int lengthRaw, int seed, int maxNormRaw)
    {
        int n = 1 + Pick(lengthRaw, 400);
        double maxNorm = 0.01 + Pick(maxNormRaw, 1000) / 50.0;
        var rng = new Rng((uint)seed);
        float[] g = RandomVector<float>(n, rng, 10);
        foreach (IsaPath path in TestPaths.All)
        {
            float scale = GradientClipping.ScaleForMaxNorm<float>(g, maxNorm, out double norm, path);
            Assert.InRange(scale, 0f, 1f);
            // The clipped update of SGD with η = 1 from zero parameters is exactly -scale · g.
            var p = new float[n];
            new Sgd<float>(n, path: path).Step(p, g, 1f, scale);
            double clippedNorm = GradientClipping.GlobalNorm<float>(p, path);
            double u = OptimizerHarness.U<float>();
            Assert.True(clippedNorm <= maxNorm * (1 + 4 * u), $"norm {clippedNorm} after clipping to {maxNorm}");
            if (norm <= maxNorm) Assert.Equal(1f, scale);
            else Assert.Equal(maxNorm, clippedNorm, maxNorm * 4 * u);
            // Direction: p is a positive multiple of -g, element by element (cosine 1).
            double dot = 0;
            for (int i = 0; i < n; i++) dot -= (double)p[i] * g[i];
            if (norm > 0) Assert.Equal(1.0, dot / (clippedNorm * norm), 1e-6);
        }
    }

    [Fact]
    public void ClipByValue_ClampsEveryElement_EveryLength_EveryPath()
    {
        foreach (int n in Enumerable.Range(0, 71).Concat([131, 1001]))
        {
            var rng = new Rng(100 + (ulong)n);
            double[] source = RandomVector<double>(n, rng, 5);
            foreach (IsaPath path in TestPaths.All)
            {
                double[] d = (double[])source.Clone();
                float[] f = source.Select(x => (float)x).ToArray();
                GradientClipping.ClipByValue<double>(d, 1.25, path);
                GradientClipping.ClipByValue<float>(f, 1.25f, path);
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal(Math.Clamp(source[i], -1.25, 1.25), d[i]);
                    Assert.Equal(Math.Clamp((float)source[i], -1.25f, 1.25f), f[i]);
                }
            }
        }
        foreach (IsaPath path in TestPaths.All)
        {
            // NaN survives clamping in every lane position, in the main loop and in the overlapping last vector.
            for (int at = 0; at < 37; at += 5)
            {
                float[] x = Enumerable.Range(0, 37).Select(i => i % 3 == 0 ? 3f : i % 3 == 1 ? float.NegativeInfinity : 0.5f).ToArray();
                x[at] = float.NaN;
                GradientClipping.ClipByValue<float>(x, 1f, path);
                for (int i = 0; i < 37; i++)
                {
                    if (i == at) Assert.True(float.IsNaN(x[i]), $"NaN at {i} lost on {path}");
                    else Assert.Equal(i % 3 == 0 ? 1f : i % 3 == 1 ? -1f : 0.5f, x[i]);
                }
            }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByValue<float>(new float[3], 0f));
    }

    [Fact]
    public void Penalty_MatchesReference_EveryPath()
    {
        foreach (int n in new[] { 0, 1, 7, 8, 9, 31, 64, 65, 250, 1001 })
        {
            var rng = new Rng(200 + (ulong)n);
            RegularizationPlan plan = OptimizerHarness.RandomPlan(n, 0.03, 0.2, rng);
            bool[] mask = OptimizerHarness.Mask(plan);
            float[] f = RandomVector<float>(n, rng);
            double[] d = f.Select(x => (double)x).ToArray();
            double expected = OptimizerReference.Penalty(d, mask, 0.03, 0.2);
            foreach (IsaPath path in TestPaths.All)
            {
                Assert.Equal(expected, plan.Penalty<float>(f, path), 1e-12 * (1 + expected));
                Assert.Equal(expected, plan.Penalty<double>(d, path), 1e-12 * (1 + expected));
            }
        }
    }

    [Property(MaxTest = 60, Replay = "(141421356,2373095)")]
    public void AddGradient_IsTheExactGradientOfPenalty(int lengthRaw, int seed)
    {
        // Central differences in double; R is quadratic plus |w|, so away from w = 0 the difference is exact up to rounding.
        int n = 1 + Pick(lengthRaw, 60);
        var rng = new Rng((uint)seed);
        RegularizationPlan plan = OptimizerHarness.RandomPlan(n, 0.07, 0.3, rng);
        double[] w = RandomVector<double>(n, rng);
        var grad = new double[n];
        plan.AddGradient<double>(w, grad);
        const double h = 1e-5;
        for (int i = 0; i < n; i++)
        {
            if (w[i] == 0)
            {
                // The chosen subgradient at the kink: sign(0) = 0, so only the (zero) L2 term remains.
                Assert.Equal(0.0, grad[i]);
                continue;
            }
            double saved = w[i];
            w[i] = saved + h;
            double plus = plan.Penalty<double>(w);
            w[i] = saved - h;
            double minus = plan.Penalty<double>(w);
            w[i] = saved;
            Assert.Equal((plus - minus) / (2 * h), grad[i], 1e-7);
        }
    }

    [Fact]
    public void Plan_Resolution_MergesAdjacentWeightSlices()
    {
        var arch = Rnn.Simd.Network.NetworkArchitecture.Uniform(global::Rnn.Simd.Cells.CellType.Elman, 2, 3, 2, 1);
        var layout = new Rnn.Simd.Network.ParameterLayout(arch);
        RegularizationPlan plan = RegularizationOptions.Ridge(0.1).Resolve(layout);
        // Per layer: weight_ih + weight_hh adjacent (merged), biases skipped; then readout.weight.
        var expected = new List<(int, int)>();
        foreach (Rnn.Simd.Network.ParameterSlice s in layout.Slices)
        {
            if (!s.IsWeight) continue;
            if (expected.Count > 0 && expected[^1].Item1 + expected[^1].Item2 == s.Offset) expected[^1] = (expected[^1].Item1, expected[^1].Item2 + s.Length);
            else expected.Add((s.Offset, s.Length));
        }
        Assert.Equal(expected, plan.RegularizedRanges);
        Assert.Equal(3, plan.RegularizedRanges.Count);
        Assert.True(plan.IsActive);
        Assert.False(RegularizationOptions.None.Resolve(layout).IsActive);
        Assert.Equal(0.0, RegularizationOptions.None.Resolve(layout).Penalty<float>(new float[layout.TotalLength]));
    }
}
