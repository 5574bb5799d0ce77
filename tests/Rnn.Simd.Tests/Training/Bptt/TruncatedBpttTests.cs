using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Reference;
using Rnn.Simd.Training.Bptt;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Training.Bptt;

/// <summary>
/// Invariants of <see cref="TruncatedBptt{T}"/>: ring wrap-around changes nothing, the state carries across windows,
/// float agrees with double on every ISA path, gradients accumulate, threads change no bit, and bad input throws.
/// </summary>
public class TruncatedBpttTests
{
    private static NetworkArchitecture SmallArch(CellType cell, int layers) => TruncatedBpttReferenceTests.SmallArch(cell, layers);

    public static TheoryData<CellType, int> CellsLayers() => TruncatedBpttReferenceTests.CellsLayers();

    private sealed record RunResult(double[] Losses, double[] Outputs, double[] Gradients, double[] FinalH);

    private static RunResult Run(RecurrentNetwork<double> net, BpttSchedule schedule, int batch, double[] x, double[] target, int ringOffset, NetworkState<double>? init = null)
    {
        var engine = new TruncatedBptt<double>(net, batch, schedule);
        engine.Reset(init);
        engine.SetRingOffset(ringOffset);
        net.ZeroGradients();
        var y = new double[target.Length];
        double[] losses = RunWindows(engine, x, target, y);
        var h = new List<double>();
        for (int l = 0; l < net.Architecture.NumLayers; l++) { h.AddRange(engine.State.Hidden(l).ToArray()); h.AddRange(engine.State.Cell(l).ToArray()); }
        return new RunResult(losses, y, net.Gradients.ToArray(), h.ToArray());
    }

    // ------------------------------------------------------------------------------------------ ring buffer

    public static TheoryData<CellType, int, int, int> RingCases()
    {
        var data = new TheoryData<CellType, int, int, int>();
        foreach (CellType c in AllCells)
            for (int layers = 1; layers <= 2; layers++)
            {
                data.Add(c, layers, 5, 3);  // windows straddle the wrap (τb not a multiple of τf)
                data.Add(c, layers, 4, 4);  // epochwise: every window fills the ring exactly
                data.Add(c, layers, 6, 1);  // true BPTT: one step per window
            }
        return data;
    }

    /// <summary>
    /// The same 150-step sequence (the ring wraps 25..150 times) started at every ring slot gives the same losses,
    /// outputs, final state and gradients as slot 0, and the reference's truncated gradient. Tolerance 1e-12 relative
    /// (floor 1e-4): the forward and the readout compute every element in the same order whatever the slot (the
    /// per-element GEMM order depends only on K and the path), but the weight-gradient GEMM sums the τb slots in ring
    /// order, so a shifted ring rounds those sums differently, by a few ulps.
    /// </summary>
    [Theory]
    [MemberData(nameof(RingCases))]
    public void RingOffset_AnyNumberOfWraps_ChangesNothing(CellType cell, int layers, int tb, int tf)
    {
        const int batch = 2;
        int steps = 150 - 150 % tf;
        var net = new RecurrentNetwork<double>(SmallArch(cell, layers), 61, IsaPath.Auto);
        double[] x = Uniform(62, steps * batch * 3), target = Uniform(63, steps * batch * 2);
        NetworkState<double> init = TruncatedBpttReferenceTests.RandomState(net, batch, 64);
        var schedule = BpttSchedule.Create(tb, tf);

        RunResult baseline = Run(net, schedule, batch, x, target, 0, init);
        var reference = RecurrentReference.FromNetwork(net);
        RecurrentReference.Gradient expected = reference.TruncatedGradient(x, target, batch, tb, tf, RecurrentReference.State.From(reference, init));
        string what = $"{cell} L={layers} {schedule}";
        AssertClose(expected.WindowLosses, baseline.Losses, 1e-12, 1e-4, $"losses vs reference {what}");
        AssertClose(expected.ToFlat(net.Layout), baseline.Gradients, 1e-10, 1e-4, $"gradient vs reference {what}", net.Layout);

        for (int offset = 1; offset < tb; offset++)
        {
            RunResult shifted = Run(net, schedule, batch, x, target, offset, init);
            string w = $"{what} ring offset {offset}";
            AssertClose(baseline.Losses, shifted.Losses, 1e-12, 1e-4, $"losses {w}");
            AssertClose(baseline.Outputs, shifted.Outputs, 1e-12, 1e-4, $"outputs {w}");
            AssertClose(baseline.FinalH, shifted.FinalH, 1e-12, 1e-4, $"final state {w}");
            AssertClose(baseline.Gradients, shifted.Gradients, 1e-12, 1e-4, $"gradients {w}", net.Layout);
        }
    }

    [Fact]
    public void RingOffset_PlacesTheFirstStepInThatSlot()
    {
        var net = new RecurrentNetwork<double>(SmallArch(CellType.Lstm, 1), 65);
        var engine = new TruncatedBptt<double>(net, 1, BpttSchedule.Create(5, 3));
        engine.SetRingOffset(3);
        double[] x = Uniform(66, 3 * 3), t = Uniform(67, 3 * 2);
        engine.Window(x, t);
        Assert.Equal(3, engine.StepsSinceReset);
        Assert.Equal(0, engine.SlotTime(3));
        Assert.Equal(1, engine.SlotTime(4));
        Assert.Equal(2, engine.SlotTime(0)); // wrapped
        engine.Window(x, t);
        Assert.Equal(6, engine.StepsSinceReset);
        Assert.Equal(3, engine.SlotTime(1));
        Assert.Equal(5, engine.SlotTime(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.SetRingOffset(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.SetRingOffset(-1));
    }

    // ---------------------------------------------------------------------------------------- state carry

    public static TheoryData<CellType, int, int, int> CarryCases()
    {
        var data = new TheoryData<CellType, int, int, int>();
        foreach (CellType c in AllCells)
            for (int layers = 1; layers <= 2; layers++)
            {
                data.Add(c, layers, 5, 5);   // epochwise, S/τf windows
                data.Add(c, layers, 10, 5);  // BPTT(2n, n)
                data.Add(c, layers, 7, 3);
                data.Add(c, layers, 30, 30); // one window of the whole series
            }
        return data;
    }

    /// <summary>
    /// S steps run as S/τf windows give the outputs of <see cref="RecurrentNetwork{T}.Forward"/> over the whole series
    /// from the same initial state, and the same final state. Both are double; they may differ in rounding only (the
    /// engine projects a window's inputs in one GEMM, Step one row block at a time), so 1e-12 with a 1e-2 floor.
    /// </summary>
    [Theory]
    [MemberData(nameof(CarryCases))]
    public void Windows_CarryTheState_OutputsEqualForwardOverTheWholeSeries(CellType cell, int layers, int tb, int tf)
    {
        const int batch = 3, steps = 30;
        var net = new RecurrentNetwork<double>(SmallArch(cell, layers), 71, IsaPath.Auto);
        double[] x = Uniform(72, steps * batch * 3), target = Uniform(73, steps * batch * 2);
        NetworkState<double> init = TruncatedBpttReferenceTests.RandomState(net, batch, 74);

        NetworkState<double> inference = init.Clone();
        var expected = new double[steps * batch * 2];
        net.Forward(x, expected, inference);

        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(tb, tf));
        engine.Reset(init);
        var y = new double[expected.Length];
        RunWindows(engine, x, target, y);

        string what = $"{cell} L={layers} BPTT({tb},{tf})";
        AssertClose(expected, y, 1e-12, 1e-2, $"outputs {what}");
        for (int l = 0; l < layers; l++)
        {
            AssertClose(inference.Hidden(l).ToArray(), engine.State.Hidden(l), 1e-12, 1e-2, $"final h layer {l} {what}");
            AssertClose(inference.Cell(l).ToArray(), engine.State.Cell(l), 1e-12, 1e-2, $"final c layer {l} {what}");
        }
    }

    [Theory]
    [MemberData(nameof(CellsLayers))]
    public void CarriedState_CopiedIntoAnInferenceState_ContinuesTheStream(CellType cell, int layers)
    {
        const int batch = 2, steps = 24, half = 12;
        var net = new RecurrentNetwork<double>(SmallArch(cell, layers), 75, IsaPath.Auto);
        double[] x = Uniform(76, steps * batch * 3), target = Uniform(77, steps * batch * 2);
        var expected = new double[steps * batch * 2];
        net.Forward(x, expected, net.CreateState(batch));

        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Default(4));
        RunWindows<double>(engine, x.AsSpan(0, half * batch * 3), target.AsSpan(0, half * batch * 2));
        NetworkState<double> s = net.CreateState(batch);
        s.CopyFrom(engine.State);
        var y = new double[(steps - half) * batch * 2];
        net.Forward(x.AsSpan(half * batch * 3), y, s);
        AssertClose(expected.AsSpan(half * batch * 2).ToArray(), y, 1e-12, 1e-2, $"second half {cell} L={layers}");
    }

    // ------------------------------------------------------------------------------------- float vs double

    public static TheoryData<CellType, int, IsaPath> CellsLayersPaths() => TruncatedBpttReferenceTests.CellsLayersPaths();

    /// <summary>
    /// The float engine on every path against the double engine with the very same (float-rounded) parameters and
    /// data, BPTT(10, 5) over 40 steps. Tolerances: losses within 1e-4 relative, gradients within 1e-3 in norm
    /// (‖g_f - g_d‖ / ‖g_d‖), outputs within 1e-4 absolute. Why: float carries ~6e-8 relative rounding and the float
    /// tanh / sigmoid are approximations within 1e-6 absolute (VectorMath docs); through 40 contracting steps the
    /// outputs keep ~1e-6 error, and each gradient sums a few hundred products, ~1e-5 relative in norm. The bounds
    /// leave a factor ~100 of margin while still catching any real disagreement (a wrong term is ≥ 1e-2).
    /// </summary>
    [Theory]
    [MemberData(nameof(CellsLayersPaths))]
    public void FloatPath_AgreesWithDouble(CellType cell, int layers, IsaPath path)
    {
        const int batch = 2, steps = 40;
        var net = new RecurrentNetwork<double>(SmallArch(cell, layers), 81, IsaPath.Auto);
        RoundParametersToFloat(net);
        RecurrentNetwork<float> netF = Copy<double, float>(net, path);
        double[] x = ToDouble<float>(Convert<float>(Uniform(82, steps * batch * 3)));
        double[] target = ToDouble<float>(Convert<float>(Uniform(83, steps * batch * 2)));
        var schedule = BpttSchedule.Default(5);

        RunResult d = Run(net, schedule, batch, x, target, 0);
        var engineF = new TruncatedBptt<float>(netF, batch, schedule);
        netF.ZeroGradients();
        var yF = new float[target.Length];
        double[] lossesF = RunWindows<float>(engineF, Convert<float>(x), Convert<float>(target), yF);

        string what = $"{cell} L={layers} float on {path}";
        AssertClose(d.Losses, lossesF, 1e-4, 1e-4, $"losses {what}");
        double[] outF = ToDouble<float>(yF);
        for (int i = 0; i < outF.Length; i++)
            Assert.True(Math.Abs(outF[i] - d.Outputs[i]) <= 1e-4, $"output [{i}] {what}: {outF[i]} vs {d.Outputs[i]}");
        double normErr = NormRelativeError(d.Gradients, ToDouble<float>(netF.Gradients));
        Assert.True(normErr <= 1e-3, $"gradient norm-relative error {normErr:E3} > 1e-3 ({what})");
    }

    // --------------------------------------------------------------------- accumulation, reset, threads

    [Theory]
    [MemberData(nameof(CellsLayers))]
    public void Window_AccumulatesIntoGradients_AndZeroGradientsClears(CellType cell, int layers)
    {
        const int batch = 2, steps = 8;
        var net = new RecurrentNetwork<double>(SmallArch(cell, layers), 91);
        double[] x = Uniform(92, steps * batch * 3), target = Uniform(93, steps * batch * 2);
        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Epochwise(steps));

        net.ZeroGradients();
        double loss1 = engine.Window(x, target);
        double[] once = net.Gradients.ToArray();
        Assert.Contains(once, v => v != 0);

        engine.Reset();
        double loss2 = engine.Window(x, target); // no ZeroGradients: must add
        Assert.Equal(loss1, loss2);
        var twice = new double[once.Length];
        for (int i = 0; i < once.Length; i++) twice[i] = 2 * once[i];
        AssertClose(twice, net.Gradients, 1e-12, 1e-4, $"accumulated {cell} L={layers}", net.Layout);

        net.ZeroGradients();
        Assert.All(net.Gradients.ToArray(), v => Assert.Equal(0.0, v));
        engine.Reset();
        engine.Window(x, target);
        Assert.Equal(once, net.Gradients.ToArray()); // after Reset the same window gives bitwise the same gradient
    }

    [Fact]
    public void Reset_WithInitialState_CopiesIt_AndStartsAnEmptyRing()
    {
        var net = new RecurrentNetwork<double>(SmallArch(CellType.Lstm, 2), 94);
        NetworkState<double> init = TruncatedBpttReferenceTests.RandomState(net, 2, 95);
        NetworkState<double> snapshot = init.Clone();
        var engine = new TruncatedBptt<double>(net, 2, BpttSchedule.Default(3));
        double[] x = Uniform(96, 9 * 2 * 3), t = Uniform(97, 9 * 2 * 2);

        engine.Reset(init);
        double[] first = RunWindows(engine, x, t);
        Assert.Equal(9, engine.StepsSinceReset);
        Assert.Equal(snapshot.Hidden(1).ToArray(), init.Hidden(1).ToArray()); // the argument is not modified
        engine.Reset(init);
        Assert.Equal(0, engine.StepsSinceReset);
        Assert.Equal(init.Hidden(0).ToArray(), engine.State.Hidden(0).ToArray());
        Assert.Equal(init.Cell(1).ToArray(), engine.State.Cell(1).ToArray());
        Assert.Equal(first, RunWindows(engine, x, t));
        engine.Reset();
        Assert.All(engine.State.Hidden(0).ToArray(), v => Assert.Equal(0.0, v));
        Assert.Throws<ArgumentException>(() => engine.Reset(net.CreateState(3))); // another batch size
    }

    /// <summary>After an SGD update and <see cref="RecurrentNetwork{T}.MarkParametersChanged"/>, the next window runs
    /// with the new weights: its outputs equal inference with the updated network from the carried state.</summary>
    [Theory]
    [MemberData(nameof(CellsLayers))]
    public void Window_AfterAParameterUpdate_RunsTheNewWeights(CellType cell, int layers)
    {
        const int batch = 2, tf = 4;
        var net = new RecurrentNetwork<double>(SmallArch(cell, layers), 98);
        double[] x = Uniform(99, 3 * tf * batch * 3), t = Uniform(100, 3 * tf * batch * 2);
        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Default(tf));
        var y = new double[tf * batch * 2];
        var expected = new double[y.Length];
        for (int w = 0; w < 3; w++)
        {
            NetworkState<double> s = net.CreateState(batch);
            s.CopyFrom(engine.State);
            net.ZeroGradients();
            // The window first, so that it is the one that must notice the change and repack.
            engine.Window(x.AsSpan(w * tf * batch * 3, tf * batch * 3), t.AsSpan(w * tf * batch * 2, tf * batch * 2), y);
            net.Forward(x.AsSpan(w * tf * batch * 3, tf * batch * 3), expected, s);
            AssertClose(expected, y, 1e-12, 1e-2, $"window {w} outputs {cell} L={layers}");
            VectorMath.Axpy(-0.5, net.Gradients, net.Parameters);
            net.MarkParametersChanged();
        }
    }

    /// <summary>maxThreads only splits GEMM output blocks, never a sum: 1, 2 and 0 (automatic) give the same bits.
    /// Sizes are large enough (H = 48, B = 8) for the automatic mode to use the workers.</summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void MaxThreads_DoesNotChangeABit(CellType cell)
    {
        const int batch = 8, steps = 20;
        var arch = new NetworkArchitecture(cell, 24, [48, 40], 5);
        float[] x = Convert<float>(Uniform(101, steps * batch * 24)), t = Convert<float>(Uniform(102, steps * batch * 5));
        float[]? losses0 = null, grads0 = null;
        foreach (int threads in new[] { 1, 2, 0 })
        {
            var net = new RecurrentNetwork<float>(arch, 103);
            var engine = new TruncatedBptt<float>(net, batch, BpttSchedule.Default(5), threads);
            var losses = new float[steps / 5];
            for (int w = 0; w < losses.Length; w++)
                losses[w] = engine.Window(x.AsSpan(w * 5 * batch * 24, 5 * batch * 24), t.AsSpan(w * 5 * batch * 5, 5 * batch * 5));
            float[] g = net.Gradients.ToArray();
            if (losses0 is null) { losses0 = losses; grads0 = g; continue; }
            Assert.Equal(losses0, losses);
            Assert.Equal(grads0, g);
        }
    }

    // ------------------------------------------------------------------------------------------ bad input

    [Fact]
    public void Window_ShortSpans_ThrowArgumentException_NamingTheArgument()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 3, [4], 2), 1);
        var engine = new TruncatedBptt<float>(net, 2, BpttSchedule.Create(5, 3));
        var x = new float[3 * 2 * 3];
        var t = new float[3 * 2 * 2];

        var e1 = Assert.Throws<ArgumentException>(() => engine.Window(x.AsSpan(1), t));
        Assert.Equal("inputs", e1.ParamName);
        Assert.Contains("18", e1.Message); // states what is needed
        var e2 = Assert.Throws<ArgumentException>(() => engine.Window(x, t.AsSpan(1)));
        Assert.Equal("targets", e2.ParamName);
        var e3 = Assert.Throws<ArgumentException>(() => engine.Window(x, t, new float[5]));
        Assert.Equal("outputs", e3.ParamName);
        Assert.Equal(0, engine.StepsSinceReset); // nothing ran
        Assert.All(net.Gradients.ToArray(), v => Assert.Equal(0f, v));
        engine.Window(x, t, new float[12]); // exact lengths are fine
    }

    [Fact]
    public void Constructor_RejectsBadArguments()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 1, [1], 1), 1);
        Assert.Throws<ArgumentNullException>(() => new TruncatedBptt<float>(null!, 1, BpttSchedule.True(2)));
        Assert.Equal("batchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new TruncatedBptt<float>(net, 0, BpttSchedule.True(2))).ParamName);
        Assert.Equal("maxThreads", Assert.Throws<ArgumentOutOfRangeException>(() => new TruncatedBptt<float>(net, 1, BpttSchedule.True(2), -1)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TruncatedBptt<float>(net, 1, new BpttSchedule(2, 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TruncatedBptt<float>(net, 1, default));
    }
}
