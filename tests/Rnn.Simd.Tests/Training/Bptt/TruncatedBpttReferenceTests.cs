using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Tests.Reference;
using Rnn.Simd.Training.Bptt;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Training.Bptt;

/// <summary>
/// <see cref="TruncatedBptt{T}"/> in double against <see cref="RecurrentReference"/>, an unrolled scalar implementation
/// of the same truncated objective written in the tests from the equations.
/// </summary>
/// <remarks>
/// Tolerances. Both sides compute in double; they differ only in summation order (the library sums a whole window's
/// gate gradients in one GEMM, the reference step by step) and in tanh / exp (the library's vector double tanh is
/// (1 - e)/(1 + e) with e = exp(-2|x|), absolute error ~1e-16). Over tens of steps that leaves ~1e-14 absolute
/// differences, so gradients must agree to 1e-10 relative and losses to 1e-12 relative. Entries below a floor of
/// 1e-4 (the <see cref="Rnn.Simd.Training.GradientCheck.RelativeErrorFloor"/> convention) are compared by absolute
/// error divided by the floor: such entries are sums of O(1) terms that cancel, so their rounding is absolute.
/// </remarks>
public class TruncatedBpttReferenceTests
{
    private const double GradientTolerance = 1e-10;
    private const double LossTolerance = 1e-12;
    private const double Floor = 1e-4;

    public static TheoryData<CellType, int, IsaPath> CellsLayersPaths()
    {
        var data = new TheoryData<CellType, int, IsaPath>();
        foreach (CellType c in AllCells)
            for (int layers = 1; layers <= 2; layers++)
                foreach (IsaPath p in TestPaths.All) data.Add(c, layers, p);
        return data;
    }

    public static TheoryData<CellType, int> CellsLayers()
    {
        var data = new TheoryData<CellType, int>();
        foreach (CellType c in AllCells)
            for (int layers = 1; layers <= 2; layers++) data.Add(c, layers);
        return data;
    }

    internal static NetworkArchitecture SmallArch(CellType cell, int layers, Activation act = Activation.Tanh) =>
        layers == 1 ? Arch(cell, 3, 2, act, 5) : Arch(cell, 3, 2, act, 5, 4);

    /// <summary>A random, non-zero initial state (h, and c for LSTM) for the network and the reference.</summary>
    internal static NetworkState<double> RandomState(RecurrentNetwork<double> net, int batch, ulong seed)
    {
        NetworkState<double> s = net.CreateState(batch);
        for (int l = 0; l < net.Architecture.NumLayers; l++)
        {
            Uniform(seed + (ulong)l, s.Hidden(l).Length, -0.5, 0.5).CopyTo(s.Hidden(l));
            Uniform(seed + 100 + (ulong)l, s.Cell(l).Length, -0.5, 0.5).CopyTo(s.Cell(l));
        }
        return s;
    }

    [Theory]
    [MemberData(nameof(CellsLayersPaths))]
    public void ReferenceForward_MatchesNetworkForward(CellType cell, int layers, IsaPath path)
    {
        const int batch = 3, steps = 25;
        var net = new RecurrentNetwork<double>(SmallArch(cell, layers), 11, path);
        double[] x = Uniform(12, steps * batch * 3);
        NetworkState<double> state = RandomState(net, batch, 13);
        var reference = RecurrentReference.FromNetwork(net);
        RecurrentReference.State refState = RecurrentReference.State.From(reference, state);

        var y = new double[steps * batch * 2];
        net.Forward(x, y, state);
        double[] expected = reference.Forward(x, batch, refState);

        // Outputs are O(1); |Δ| ≤ 1e-12 · max(|y|, 1e-2).
        AssertClose(expected, y, 1e-12, 1e-2, $"outputs {cell} L={layers} {path}");
        for (int l = 0; l < layers; l++)
        {
            AssertClose(Flatten(refState.H[l]), state.Hidden(l), 1e-12, 1e-2, $"final h of layer {l}");
            if (cell == CellType.Lstm) AssertClose(Flatten(refState.C[l]), state.Cell(l), 1e-12, 1e-2, $"final c of layer {l}");
        }
    }

    [Theory]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Sigmoid)]
    public void ReferenceForward_MatchesNetworkForward_EveryElmanActivation(Activation act)
    {
        const int batch = 2, steps = 20;
        foreach (IsaPath path in TestPaths.All)
        {
            var net = new RecurrentNetwork<double>(SmallArch(CellType.Elman, 2, act), 21, path);
            double[] x = Uniform(22, steps * batch * 3);
            var reference = RecurrentReference.FromNetwork(net);
            var y = new double[steps * batch * 2];
            net.Forward(x, y, net.CreateState(batch));
            AssertClose(reference.Forward(x, batch, new RecurrentReference.State(reference, batch)), y, 1e-12, 1e-2, $"outputs Elman({act}) {path}");
        }
    }

    [Theory]
    [MemberData(nameof(CellsLayersPaths))]
    public void FullBptt_OneWindowOfTheWholeSeries_MatchesReference(CellType cell, int layers, IsaPath path)
    {
        const int batch = 2, steps = 20;
        var net = new RecurrentNetwork<double>(SmallArch(cell, layers), 31, path);
        double[] x = Uniform(32, steps * batch * 3), target = Uniform(33, steps * batch * 2);
        NetworkState<double> init = RandomState(net, batch, 34);
        var reference = RecurrentReference.FromNetwork(net);
        RecurrentReference.Gradient expected = reference.TruncatedGradient(x, target, batch, steps, steps, RecurrentReference.State.From(reference, init));

        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Epochwise(steps)) { ComputeInputGradients = true };
        engine.Reset(init);
        net.ZeroGradients();
        var y = new double[steps * batch * 2];
        double loss = engine.Window(x, target, y);

        string what = $"{cell} L={layers} {path}";
        AssertClose([expected.Loss], [loss], LossTolerance, Floor, $"loss {what}");
        AssertClose(expected.Outputs, y, 1e-12, 1e-2, $"outputs {what}");
        AssertClose(expected.ToFlat(net.Layout), net.Gradients, GradientTolerance, Floor, $"parameter gradient {what}", net.Layout);

        // dJ/dx: slot q holds stream step SlotTime(q).
        var dx = new double[x.Length];
        for (int q = 0; q < steps; q++)
        {
            long t = engine.SlotTime(q);
            engine.InputGradient(q).CopyTo(dx.AsSpan((int)t * batch * 3, batch * 3));
        }
        AssertClose(expected.DInputs, dx, GradientTolerance, Floor, $"input gradient {what}");
        for (int l = 0; l < layers; l++)
        {
            AssertClose(expected.DInitH[l], engine.InitialHiddenGradient(l), GradientTolerance, Floor, $"dJ/dh0 of layer {l} {what}");
            AssertClose(expected.DInitC[l], engine.InitialCellGradient(l), GradientTolerance, Floor, $"dJ/dc0 of layer {l} {what}");
        }
    }

    public static TheoryData<CellType, int, int, int> CellsLayersSchedules()
    {
        var data = new TheoryData<CellType, int, int, int>();
        foreach (CellType c in AllCells)
            for (int layers = 1; layers <= 2; layers++)
            {
                data.Add(c, layers, 4, 1);  // BPTT(n, 1), true BPTT
                data.Add(c, layers, 4, 4);  // BPTT(n, n), epochwise
                data.Add(c, layers, 8, 4);  // BPTT(2n, n), the default
                data.Add(c, layers, 7, 3);  // general: τb not a multiple of τf, so windows straddle the ring's wrap
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(CellsLayersSchedules))]
    public void TruncatedSchedules_MatchReferenceOfTheSameTruncatedObjective(CellType cell, int layers, int tb, int tf)
    {
        const int batch = 2, steps = 24; // a multiple of every τf above; 24 > τb, so the truncation cuts
        var net = new RecurrentNetwork<double>(SmallArch(cell, layers), 41, IsaPath.Auto);
        double[] x = Uniform(42, steps * batch * 3), target = Uniform(43, steps * batch * 2);
        NetworkState<double> init = RandomState(net, batch, 44);
        var reference = RecurrentReference.FromNetwork(net);
        RecurrentReference.Gradient expected = reference.TruncatedGradient(x, target, batch, tb, tf, RecurrentReference.State.From(reference, init));

        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(tb, tf)) { ComputeInputGradients = true };
        engine.Reset(init);
        net.ZeroGradients();
        var y = new double[x.Length / 3 * 2];
        var losses = new double[steps / tf];
        var dx = new double[x.Length];
        int inW = tf * batch * 3, outW = tf * batch * 2;
        for (int w = 0; w < losses.Length; w++)
        {
            losses[w] = engine.Window(x.AsSpan(w * inW, inW), target.AsSpan(w * outW, outW), y.AsSpan(w * outW, outW));
            // This window's dJ/dx reaches the min(τb, steps so far) newest steps; slot q holds step SlotTime(q).
            long now = engine.StepsSinceReset, oldest = now - Math.Min(now, tb);
            for (int q = 0; q < tb; q++)
            {
                long st = engine.SlotTime(q);
                if (st < oldest || st >= now) continue;
                ReadOnlySpan<double> g = engine.InputGradient(q);
                for (int k = 0; k < batch * 3; k++) dx[st * batch * 3 + k] += g[k];
            }
        }

        string what = $"{cell} L={layers} BPTT({tb},{tf})";
        AssertClose(expected.WindowLosses, losses, LossTolerance, Floor, $"window losses {what}");
        AssertClose(expected.Outputs, y, 1e-12, 1e-2, $"outputs {what}");
        AssertClose(expected.ToFlat(net.Layout), net.Gradients, GradientTolerance, Floor, $"parameter gradient {what}", net.Layout);
        AssertClose(expected.DInputs, dx, GradientTolerance, Floor, $"input gradient {what}");
        for (int l = 0; l < layers; l++)
        {
            AssertClose(expected.DInitH[l], engine.InitialHiddenGradient(l), GradientTolerance, Floor, $"dJ/dh0 of layer {l} {what}");
            AssertClose(expected.DInitC[l], engine.InitialCellGradient(l), GradientTolerance, Floor, $"dJ/dc0 of layer {l} {what}");
        }
    }

    /// <summary>
    /// With τb ≥ S nothing is truncated: every window back-propagates to step 0, so the summed window losses are the
    /// plain loss of the series, Σ_w mean_w = (S/τf) · mean over all S steps, and the gradient of BPTT(τb ≥ S, τf) is
    /// S/τf times the gradient of one window of the whole series (full BPTT), for every τf.
    /// </summary>
    [Theory]
    [MemberData(nameof(CellsLayers))]
    public void BackwardSpanCoveringTheSeries_EqualsFullBptt(CellType cell, int layers)
    {
        const int batch = 2, steps = 24;
        var net = new RecurrentNetwork<double>(SmallArch(cell, layers), 51, IsaPath.Auto);
        double[] x = Uniform(52, steps * batch * 3), target = Uniform(53, steps * batch * 2);
        var reference = RecurrentReference.FromNetwork(net);
        double[] full = reference.TruncatedGradient(x, target, batch, steps, steps).ToFlat(net.Layout);

        foreach ((int tb, int tf) in new[] { (24, 1), (24, 4), (24, 6), (24, 24), (30, 6), (100, 3) })
        {
            var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(tb, tf));
            net.ZeroGradients();
            RunWindows(engine, x, target);
            double scale = (double)steps / tf;
            var expected = new double[full.Length];
            for (int i = 0; i < full.Length; i++) expected[i] = scale * full[i];
            AssertClose(expected, net.Gradients, GradientTolerance, Floor, $"{cell} L={layers} BPTT({tb},{tf}) vs (S/τf)·full BPTT", net.Layout);
        }
    }

    /// <summary>
    /// Shapes past the GEMM's cache blocks: the weight-gradient GEMMs sum over τb·B = 300 ring rows (more than one
    /// KC = 256 block), LSTM's G·H = 160 gate rows exceed one MC = 144 block, on every path, and the windows straddle
    /// the ring's wrap (τb = 100, τf = 30).
    /// </summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void LargeShapes_AcrossGemmBlocks_MatchReference(CellType cell)
    {
        const int batch = 3, steps = 150, tb = 100, tf = 30;
        var arch = new NetworkArchitecture(cell, 20, [40], 3);
        double[] x = Uniform(57, steps * batch * 20), target = Uniform(58, steps * batch * 3);
        RecurrentReference.Gradient? expected = null;
        foreach (IsaPath path in TestPaths.All)
        {
            var net = new RecurrentNetwork<double>(arch, 56, path);
            if (expected is null)
            {
                var reference = RecurrentReference.FromNetwork(net);
                expected = reference.TruncatedGradient(x, target, batch, tb, tf);
            }
            var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(tb, tf));
            double[] losses = RunWindows(engine, x, target);
            string what = $"{arch} BPTT({tb},{tf}) on {path}";
            AssertClose(expected.WindowLosses, losses, LossTolerance, Floor, $"window losses {what}");
            AssertClose(expected.ToFlat(net.Layout), net.Gradients, GradientTolerance, Floor, $"parameter gradient {what}", net.Layout);
        }
    }

    internal static double[] Flatten(double[][] rows)
    {
        var r = new List<double>();
        foreach (double[] row in rows) r.AddRange(row);
        return r.ToArray();
    }
}
