using System.Numerics;
using FsCheck.Xunit;
using Rnn.Simd.Kernels;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Tests.Reference;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Tests.Training.Optimizers;

/// <summary>
/// Each optimiser step equals its formula (chapter Eq. 2.3 - 2.8 with the R_λ of Eq. 2.1 folded in), checked against
/// the independent double reference element by element, on every ISA path, for lengths around every vector edge.
/// </summary>
public class OptimizerStepTests
{
    private static readonly int[] OddLarge = [97, 131, 257, 1001];

    /// <summary>Maps any int onto 0 .. count-1.</summary>
    private static int Pick(int raw, int count) => (int)((uint)raw % (uint)count);

    [Theory]
    [MemberData(nameof(OptimizerHarness.KindData), MemberType = typeof(OptimizerHarness))]
    public void Step_MatchesReference_EveryLengthAroundVectorEdges_EveryPath(OptimizerKind kind)
    {
        for (int n = 0; n <= 70; n++)
        {
            OptimizerHarness.CheckAllPaths<float>(kind, n, (ulong)(1000 * (int)kind + n));
            OptimizerHarness.CheckAllPaths<double>(kind, n, (ulong)(2000 * (int)kind + n));
        }
        foreach (int n in OddLarge)
        {
            OptimizerHarness.CheckAllPaths<float>(kind, n, (ulong)(3000 * (int)kind + n));
            OptimizerHarness.CheckAllPaths<double>(kind, n, (ulong)(4000 * (int)kind + n));
        }
    }

    [Property(MaxTest = 120, Replay = "(271828182,3141593)")]
    public void Step_MatchesReference_RandomProblems(int kindRaw, int lengthRaw, int seed, bool useDouble, bool defaults)
    {
        OptimizerKind kind = OptimizerHarness.Kinds[Pick(kindRaw, OptimizerHarness.Kinds.Length)];
        int n = Pick(lengthRaw, 300);
        if (useDouble) OptimizerHarness.CheckAllPaths<double>(kind, n, (uint)seed, defaults);
        else OptimizerHarness.CheckAllPaths<float>(kind, n, (uint)seed, defaults);
    }

    /// <summary>
    /// The first steps from the initial (zero, unit-gain) state, where Adam's bias correction matters most: steps
    /// k = 1..6 each match the reference applied to the state the library reached.
    /// </summary>
    [Theory]
    [MemberData(nameof(OptimizerHarness.KindData), MemberType = typeof(OptimizerHarness))]
    public void FirstSteps_FromInitialState_MatchReference(OptimizerKind kind)
    {
        FirstSteps<float>(kind);
        FirstSteps<double>(kind);
    }

    private static void FirstSteps<T>(OptimizerKind kind) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        const int n = 45;
        foreach (IsaPath path in TestPaths.All)
        {
            var rng = new Rng(77 + (ulong)kind);
            OptimizerReference.Config c = OptimizerHarness.RandomConfig(kind, rng, defaults: true) with { Clip = double.PositiveInfinity, Scale = 1 };
            RegularizationPlan plan = OptimizerHarness.RandomPlan(n, c.L1, c.L2, rng);
            bool[] mask = OptimizerHarness.Mask(plan);
            Optimizer<T> o = OptimizerHarness.Create<T>(kind, n, c, plan, path);
            var p = new T[n];
            for (int i = 0; i < n; i++) p[i] = T.CreateTruncating(OptimizerHarness.Value(rng, 1));
            for (int k = 1; k <= 6; k++)
            {
                var g = new T[n];
                for (int i = 0; i < n; i++) g[i] = T.CreateTruncating(OptimizerHarness.Value(rng, 2));
                OptimizerReference.Config ck = c with { StepIndex = k, LearningRate = 0.01 * k };
                (Md[] pRef, Md[][] sRef) = OptimizerHarness.Reference(o, p, g, mask, ck);
                o.Step(p, g, T.CreateTruncating(ck.LearningRate));
                OptimizerHarness.AssertClose<T>(p, pRef, $"{kind} {typeof(T).Name} {path} step {k} parameters");
                for (int s = 0; s < o.StateCount; s++)
                    OptimizerHarness.AssertClose<T>(o.State(s), sRef[s], $"{kind} {typeof(T).Name} {path} step {k} {o.StateName(s)}");
            }
        }
    }

    [Fact]
    public void Adam_FirstStep_MovesEachWeightByLearningRate_AgainstGradientSign()
    {
        // With m = v = 0, bias correction makes the first Adam step -η g / (|g| + ε): a move of η against the sign.
        var adam = new Adam<double>(4);
        double[] p = [1, 1, 1, 1];
        double[] g = [3, -0.5, 1e-2, -100];
        adam.Step(p, g, 0.1);
        double[] expected = [1 - 0.1 * 3 / (3 + 1e-8), 1 + 0.1 * 0.5 / (0.5 + 1e-8), 1 - 0.1 * 1e-2 / (1e-2 + 1e-8), 1 + 0.1 * 100 / (100 + 1e-8)];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], p[i], 1e-14);
    }

    [Fact]
    public void RmsPropGains_FollowTheSignRule()
    {
        // δ_γ = 0.01: same sign grows by 0.01, a flip shrinks by 0.99, a zero (or the first step) leaves the gain.
        var o = new RmsProp<double>(4, adaptiveGains: true);
        double[] p = new double[4];
        o.Step(p, [1.0, -1.0, 2.0, 0.0], 0.01);
        Assert.Equal([1.0, 1.0, 1.0, 1.0], o.State(1).ToArray());
        o.Step(p, [0.5, 1.0, 0.0, 3.0], 0.01);
        Assert.Equal([1.01, 0.99, 1.0, 1.0], o.State(1).ToArray());
        o.Step(p, [0.25, 2.0, -1.0, -3.0], 0.01);
        Assert.Equal(1.02, o.State(1)[0], 15);
        Assert.Equal(1.0, o.State(1)[1], 15);
        Assert.Equal(1.0, o.State(1)[2]);
        Assert.Equal(0.99, o.State(1)[3], 15);
        Assert.Equal([0.25, 2.0, -1.0, -3.0], o.State(2).ToArray());
        o.Reset();
        Assert.Equal([1.0, 1.0, 1.0, 1.0], o.State(1).ToArray());
        Assert.Equal(0, o.StepCount);
    }

    [Fact]
    public void RmsPropGains_RespectMaxGain()
    {
        var o = new RmsProp<float>(3, adaptiveGains: true, gainStep: 0.2, maxGain: 1.5);
        float[] p = new float[3];
        for (int k = 0; k < 10; k++) o.Step(p, [1f, 2f, 3f], 0.001f);
        Assert.All(o.State(1).ToArray(), gain => Assert.Equal(1.5f, gain));
    }

    [Fact]
    public void Regularization_FromLayout_LeavesBiasesAlone_AndAdamWDecaysOnlyWeights()
    {
        var arch = Rnn.Simd.Network.NetworkArchitecture.Uniform(global::Rnn.Simd.Cells.CellType.Lstm, 3, 5, 2, 2);
        var layout = new Rnn.Simd.Network.ParameterLayout(arch);
        RegularizationPlan plan = new RegularizationOptions(L1: 0.01, L2: 0.02).Resolve(layout);
        int n = layout.TotalLength;
        var p = new double[n];
        for (int i = 0; i < n; i++) p[i] = 0.5;
        var zeroGrad = new double[n];
        var sgd = new Sgd<double>(n, plan);
        sgd.Step(p, zeroGrad, 0.1);
        var adamw = new AdamW<double>(n, weightDecay: 0.1, regularization: RegularizationOptions.None.Resolve(layout));
        var q = new double[n];
        Array.Fill(q, 0.5);
        adamw.Step(q, zeroGrad, 0.1);
        foreach (Rnn.Simd.Network.ParameterSlice s in layout.Slices)
        {
            for (int i = s.Offset; i < s.Offset + s.Length; i++)
            {
                // SGD on a zero data gradient: w - η (2 λ2 w + λ1) on weights only.
                Assert.Equal(s.IsWeight ? 0.5 - 0.1 * (2 * 0.02 * 0.5 + 0.01) : 0.5, p[i], 15);
                // AdamW on a zero gradient: only the decoupled decay (1 - η λ_wd) on weights.
                Assert.Equal(s.IsWeight ? 0.5 * (1 - 0.1 * 0.1) : 0.5, q[i], 15);
            }
        }
        RegularizationPlan withBiases = new RegularizationOptions(L2: 0.02, ApplyToBiases: true).Resolve(layout);
        Assert.Equal([(0, n)], withBiases.RegularizedRanges);
    }

    [Fact]
    public void FusedRegularization_EqualsAddGradientThenPlainStep()
    {
        // The fused pass must add exactly the gradient of R_λ that RegularizationPlan.AddGradient adds.
        const int n = 203;
        var rng = new Rng(5);
        RegularizationPlan plan = OptimizerHarness.RandomPlan(n, 0.03, 0.07, rng);
        var p = new double[n];
        var g = new double[n];
        for (int i = 0; i < n; i++) { p[i] = OptimizerHarness.Value(rng, 1); g[i] = OptimizerHarness.Value(rng, 1); }
        double[] q = (double[])p.Clone();
        double[] gq = (double[])g.Clone();
        new Momentum<double>(n, regularization: plan).Step(p, g, 0.05);
        plan.AddGradient<double>(q, gq);
        new Momentum<double>(n).Step(q, gq, 0.05);
        for (int i = 0; i < n; i++) Assert.Equal(q[i], p[i], 1e-15);
    }

    [Fact]
    public void ClipValue_IsFoldedIntoTheStep()
    {
        var o = new Sgd<float>(5) { ClipValue = 1 };
        float[] p = new float[5];
        o.Step(p, [-5f, -1f, 0.5f, 2f, float.PositiveInfinity], 1f, 0.5f);
        // clamp(0.5 g, ±1): -1, -0.5, 0.25, 1, 1
        Assert.Equal([1f, 0.5f, -0.25f, -1f, -1f], p);
    }

    [Theory]
    [MemberData(nameof(OptimizerHarness.KindData), MemberType = typeof(OptimizerHarness))]
    public void NaNGradient_Propagates_NeverHidden(OptimizerKind kind)
    {
        foreach (IsaPath path in TestPaths.All)
        {
            Optimizer<float> o = OptimizerFactory.Create<float>(kind, 37, RegularizationPlan.Uniform(37, 0.01, 0.01), path);
            o.ClipValue = 1;
            var p = new float[37];
            var g = new float[37];
            int[] at = [0, 3, 20, 36];
            foreach (int i in at) g[i] = float.NaN;
            o.Step(p, g, 0.1f);
            foreach (int i in at) Assert.True(float.IsNaN(p[i]), $"{kind} on {path} hid the NaN gradient at {i}");
        }
    }

    [Fact]
    public void Step_RejectsBadArguments_WithMessages()
    {
        var o = new Adam<float>(8);
        float[] p = new float[8], g = new float[8];
        Assert.Throws<ArgumentException>(() => o.Step(new float[7], g, 0.1f));
        Assert.Throws<ArgumentException>(() => o.Step(p, new float[9], 0.1f));
        Assert.Throws<ArgumentException>(() => o.Step(p, p, 0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => o.Step(p, g, -0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => o.Step(p, g, float.NaN));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => o.Step(p, g, 0.1f, GradientClipping.ScaleForMaxNorm<float>(double.NaN, 1)));
        Assert.Contains("diverged", e.Message);
        Assert.Equal(0, o.StepCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.ClipValue = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Momentum<float>(8, momentum: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam<float>(8, beta2: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp<float>(8, decay: 0));
        Assert.Throws<ArgumentException>(() => new Sgd<float>(8, RegularizationPlan.Uniform(9)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RegularizationPlan(10, 0.1, 0, [(5, 3), (4, 2)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RegularizationPlan(10, -1, 0, []));
    }

    [Fact]
    public void Metadata_StatesAndTraffic()
    {
        Assert.Equal(28, new Adam<float>(10).BytesPerParameter);
        Assert.Equal(12, new Sgd<float>(10).BytesPerParameter);
        Assert.Equal(36, new RmsProp<float>(10, adaptiveGains: true).BytesPerParameter);
        Assert.Equal(40L * 1000, new Momentum<double>(1000).BytesPerStep);
        var adam = new AdamW<float>(3);
        Assert.Equal(["m", "v"], new[] { adam.StateName(0), adam.StateName(1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.State(2));
        foreach (OptimizerKind kind in OptimizerFactory.AllKinds)
        {
            Optimizer<double> o = OptimizerFactory.Create<double>(kind, 16);
            Assert.Equal(16, o.ParameterCount);
            Assert.Equal(Isa.Best, o.Path);
        }
    }
}
