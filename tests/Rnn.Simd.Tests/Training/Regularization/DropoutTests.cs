using System.Numerics;
using System.Runtime.InteropServices;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Kernels;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;
using Rnn.Simd.Tests.Training.Bptt;

namespace Rnn.Simd.Tests.Training.Regularization;

/// <summary>
/// Dropout in truncated BPTT (issue #4): the gradient with a fixed (variational) mask against finite differences of
/// the same masked objective; variational masks identical at every step of a sequence, new after a reset, with the
/// requested keep rate; naive masks fresh at every step; inference unaffected; seeded reproducibility; option
/// validation; the trainer with dropout. Allocation tests are in <see cref="DropoutAllocationTests"/>.
/// </summary>
public class DropoutTests
{
    internal const double Tolerance = 1e-6;
    private const double Step = 1e-3;

    /// <summary>Which streams are dropped in a test case.</summary>
    public enum Streams { Input, Recurrent, Output, All }

    internal static DropoutOptions Options(Streams s, double p = 0.3, ulong seed = 17) => s switch
    {
        Streams.Input => new DropoutOptions(Input: p, Seed: seed),
        Streams.Recurrent => new DropoutOptions(Recurrent: p, Seed: seed),
        Streams.Output => new DropoutOptions(Output: p, Seed: seed),
        _ => new DropoutOptions(p, p, p, Seed: seed),
    };

    // ============================================================================================ internals access

    /// <summary>The per-slot masks of a layer ("MaskX": input, "MaskH": recurrent) as the engine stored them:
    /// τb x B x width, slot-major.</summary>
    internal static T[] SlotMasks<T>(TruncatedBptt<T> engine, string field, int layer) where T : unmanaged, IBinaryFloatingPointIeee754<T> => field switch
    {
        "MaskX" => engine.SlotInputMasks(layer).ToArray(),
        "MaskH" => engine.SlotRecurrentMasks(layer).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, "MaskX or MaskH."),
    };

    /// <summary>The per-slot readout masks: τb x B x top.</summary>
    internal static T[] SlotOutputMasks<T>(TruncatedBptt<T> engine) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        engine.SlotOutputMasks.ToArray();

    private static T[] Slot<T>(T[] perSlot, int slot, int width) => perSlot.AsSpan(slot * width, width).ToArray();

    /// <summary>The engine's sequence masks as arrays, in the form <see cref="RecurrentNetwork{T}.StepMasked"/> takes.</summary>
    private static (T[][] X, T[][] H, T[] O) SequenceMaskArrays<T>(TruncatedBptt<T> engine, int layers) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var mx = new T[layers][];
        var mh = new T[layers][];
        for (int l = 0; l < layers; l++)
        {
            (ReadOnlyMemory<T> i, ReadOnlyMemory<T> r) = engine.SequenceMasks(l);
            mx[l] = i.ToArray();
            mh[l] = r.ToArray();
        }
        return (mx, mh, engine.SequenceOutputMask.ToArray());
    }

    private static string Describe(GradientCheckReport r) => GradientCheckTests.Format(r);

    // ============================================================================================ gradient check

    public static TheoryData<CellType, int, Streams, string> GradientCases()
    {
        var data = new TheoryData<CellType, int, Streams, string>();
        foreach (CellType c in AllCells)
            for (int layers = 1; layers <= 2; layers++)
                foreach (Streams s in Enum.GetValues<Streams>())
                    foreach (string mode in new[] { "n,1", "n,n", "2n,n", "S,n" }) data.Add(c, layers, s, mode);
        return data;
    }

    /// <summary>
    /// The analytic gradient of truncated BPTT with variational dropout equals fourth-order central finite differences
    /// of the same truncated objective with the same fixed masks (GradientCheck with <c>dropout</c>), in double, every
    /// entry checked, max relative error ≤ 1e-6: every cell x {1, 2} layers x {input, recurrent, output, all three}
    /// x {BPTT(n,1), BPTT(n,n), BPTT(2n,n), BPTT(S,n) (τb ≥ S: full BPTT, over several windows)}, n = 3, S = 12, B = 2, p = 0.3.
    /// The masks are checked to contain both dropped and kept units, so dropout is really exercised.
    /// </summary>
    [Theory]
    [MemberData(nameof(GradientCases))]
    public void VariationalDropout_AnalyticGradient_EqualsFiniteDifferences(CellType cell, int layers, Streams streams, string mode)
    {
        const int batch = 2, steps = 12, n = 3;
        BpttSchedule schedule = mode == "S,n" ? BpttSchedule.Create(steps, n) : BpttSchedule.Parse(mode, n);
        var arch = layers == 1 ? Arch(cell, 3, 2, Activation.Tanh, 4) : Arch(cell, 3, 2, Activation.Tanh, 4, 3);
        var net = new RecurrentNetwork<double>(arch, 301);
        double[] x = Uniform(302, steps * batch * 3), target = Uniform(303, steps * batch * 2);
        NetworkState<double> init = TruncatedBpttReferenceTests.RandomState(net, batch, 304);
        DropoutOptions dropout = ExercisingOptions(net, batch, schedule, streams);

        GradientCheckReport report = GradientCheck.Run(net, x, target, batch, schedule, init, step: Step, dropout: dropout);

        Assert.True(report.MaxRelativeError <= Tolerance, $"{arch} {streams} {Describe(report)}");
        Assert.Equal(net.Layout.Slices.Count, report.Parameters.Count);
        for (int s = 0; s < report.Parameters.Count; s++) Assert.Equal(net.Layout.Slices[s].Length, report.Parameters[s].Checked);
        Assert.Equal(x.Length, report.Inputs.Checked);
    }

    /// <summary>
    /// Options for the streams whose masks (the ones a fresh engine, hence GradientCheck, draws) drop some units and
    /// keep others in every dropped stream: the first such seed from 17 on (with masks of only 6 to 8 units, a
    /// seed may keep everything, which would not exercise dropout).
    /// </summary>
    internal static DropoutOptions ExercisingOptions(RecurrentNetwork<double> net, int batch, BpttSchedule schedule, Streams streams)
    {
        for (ulong seed = 17; seed < 117; seed++)
        {
            DropoutOptions d = Options(streams, seed: seed);
            var probe = new TruncatedBptt<double>(net, batch, schedule, 1, d);
            bool ok = true;
            for (int l = 0; l < net.Architecture.NumLayers; l++)
            {
                ok &= Mixed(probe.SequenceMasks(l).Input.Span) && Mixed(probe.SequenceMasks(l).Recurrent.Span);
            }
            ok &= Mixed(probe.SequenceOutputMask.Span);
            if (ok) return d;
        }
        throw new InvalidOperationException("no seed in 17..116 gives masks with dropped and kept units");

        static bool Mixed(ReadOnlySpan<double> m) => m.IsEmpty || (m.Contains(0.0) && m.Contains(1 / 0.7));
    }

    /// <summary>The dropout changes the gradient (the check above does not pass trivially because masks are ignored).</summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void VariationalDropout_ChangesTheGradient(CellType cell)
    {
        const int batch = 2, steps = 12;
        var arch = Arch(cell, 3, 2, Activation.Tanh, 4, 3);
        double[] x = Uniform(312, steps * batch * 3), target = Uniform(313, steps * batch * 2);
        foreach (Streams s in Enum.GetValues<Streams>())
        {
            var plain = new RecurrentNetwork<double>(arch, 311);
            var dropped = new RecurrentNetwork<double>(arch, 311);
            GradientCheck.Run(plain, x, target, batch, BpttSchedule.Default(3), step: Step, maxEntriesPerGroup: 1);
            GradientCheck.Run(dropped, x, target, batch, BpttSchedule.Default(3), step: Step, maxEntriesPerGroup: 1, dropout: Options(s));
            Assert.False(plain.Gradients.SequenceEqual(dropped.Gradients), $"{cell} {s}: the gradient with dropout equals the one without");
        }
    }

    /// <summary>GradientCheck refuses naive dropout (no fixed mask) and accepts inactive naive options.</summary>
    [Fact]
    public void GradientCheck_RejectsNaiveDropout()
    {
        var net = new RecurrentNetwork<double>(Arch(CellType.Lstm, 2, 1, Activation.Tanh, 3), 1);
        double[] x = Uniform(2, 6 * 2), y = Uniform(3, 6);
        var ex = Assert.Throws<ArgumentException>(() => GradientCheck.Run(net, x, y, 1, BpttSchedule.Default(3), dropout: new DropoutOptions(Input: 0.2, Variant: DropoutVariant.Naive)));
        Assert.Equal("dropout", ex.ParamName);
        GradientCheckReport r = GradientCheck.Run(net, x, y, 1, BpttSchedule.Default(3), step: Step, dropout: new DropoutOptions(Variant: DropoutVariant.Naive));
        Assert.True(r.MaxRelativeError <= Tolerance, Describe(r));
    }

    // ============================================================================================ variational masks

    public static TheoryData<CellType, int, Streams> CellsLayersStreams()
    {
        var data = new TheoryData<CellType, int, Streams>();
        foreach (CellType c in AllCells)
            for (int layers = 1; layers <= 2; layers++)
                foreach (Streams s in Enum.GetValues<Streams>()) data.Add(c, layers, s);
        return data;
    }

    /// <summary>
    /// The variational mask is the same at every step: after several windows (the ring wrapping), the engine's
    /// per-slot masks equal the sequence masks in every slot; the engine's outputs and final state equal the network
    /// stepped with the fixed sequence masks (<see cref="RecurrentNetwork{T}.StepMasked"/>) over the whole sequence.
    /// </summary>
    [Theory]
    [MemberData(nameof(CellsLayersStreams))]
    public void VariationalMask_IsTheSameAtEveryStep(CellType cell, int layers, Streams streams)
    {
        const int batch = 3, steps = 15, tf = 3;
        var arch = layers == 1 ? Arch(cell, 4, 2, Activation.Tanh, 5) : Arch(cell, 4, 2, Activation.Tanh, 5, 3);
        var net = new RecurrentNetwork<double>(arch, 321);
        double[] x = Uniform(322, steps * batch * 4), t = Uniform(323, steps * batch * 2);
        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(4, tf), 1, Options(streams));
        (double[][] mx, double[][] mh, double[] mo) = SequenceMaskArrays(engine, layers);
        var y = new double[steps * batch * 2];
        RunWindows(engine, x, t, y);

        // Per-slot masks equal the sequence masks in every slot (the ring of 4 slots has wrapped).
        for (int l = 0; l < layers; l++)
        {
            double[] sx = SlotMasks(engine, "MaskX", l), sh = SlotMasks(engine, "MaskH", l);
            for (int q = 0; q < 4; q++)
            {
                if (mx[l].Length > 0) Assert.Equal(mx[l], Slot(sx, q, mx[l].Length));
                if (mh[l].Length > 0) Assert.Equal(mh[l], Slot(sh, q, mh[l].Length));
            }
        }
        double[] so = SlotOutputMasks(engine);
        for (int q = 0; q < 4 && mo.Length > 0; q++) Assert.Equal(mo, Slot(so, q, mo.Length));
        Assert.Equal(streams is Streams.Input or Streams.All, mx[0].Length > 0);
        Assert.Equal(streams is Streams.Recurrent or Streams.All, mh[0].Length > 0);
        Assert.Equal(streams is Streams.Output or Streams.All, mo.Length > 0);

        // Behaviour: the same outputs as the network stepped with the fixed masks.
        NetworkState<double> s = net.CreateState(batch);
        var expected = new double[y.Length];
        for (int k = 0; k < steps; k++)
            net.StepMasked(x.AsSpan(k * batch * 4, batch * 4), expected.AsSpan(k * batch * 2, batch * 2), s, mx, mh, mo);
        AssertClose(expected, y, 1e-12, 1e-2, $"outputs {arch} {streams}");
        for (int l = 0; l < layers; l++)
        {
            AssertClose(s.Hidden(l).ToArray(), engine.State.Hidden(l), 1e-12, 1e-2, $"final h layer {l}");
            AssertClose(s.Cell(l).ToArray(), engine.State.Cell(l), 1e-12, 1e-2, $"final c layer {l}");
        }
    }

    /// <summary>
    /// Input dropout of a one-layer network, no recurrent or output dropout: the engine's outputs equal the plain
    /// inference <see cref="RecurrentNetwork{T}.Forward"/> of the inputs pre-multiplied by the one fixed mask.
    /// </summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void InputDropout_EqualsForwardOfPremaskedInputs(CellType cell)
    {
        const int batch = 4, steps = 20, inSize = 6;
        var arch = Arch(cell, inSize, 2, Activation.Tanh, 5);
        var net = new RecurrentNetwork<double>(arch, 331);
        double[] x = Uniform(332, steps * batch * inSize), t = Uniform(333, steps * batch * 2);
        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(10, 5), 1, new DropoutOptions(Input: 0.4, Seed: 5));
        double[] mask = engine.SequenceMasks(0).Input.ToArray();
        Assert.Equal(batch * inSize, mask.Length);
        Assert.Contains(0.0, mask);
        var y = new double[steps * batch * 2];
        RunWindows(engine, x, t, y);

        var premasked = new double[x.Length];
        for (int i = 0; i < x.Length; i++) premasked[i] = x[i] * mask[i % (batch * inSize)];
        var expected = new double[y.Length];
        net.Forward(premasked, expected, net.CreateState(batch));
        AssertClose(expected, y, 1e-12, 1e-2, $"outputs {cell}");
    }

    /// <summary>After Reset() every variational mask is redrawn: it differs from the previous sequence's, and so do the outputs.</summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void VariationalMask_ChangesBetweenSequences(CellType cell)
    {
        const int batch = 4, steps = 6;
        var arch = Arch(cell, 8, 2, Activation.Tanh, 10, 9);
        var net = new RecurrentNetwork<double>(arch, 341);
        double[] x = Uniform(342, steps * batch * 8), t = Uniform(343, steps * batch * 2);
        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(6, 3), 1, new DropoutOptions(0.3, 0.3, 0.3, Seed: 7));
        var previous = new List<(double[][] X, double[][] H, double[] O)>();
        var outputs = new List<double[]>();
        for (int sequence = 0; sequence < 4; sequence++)
        {
            if (sequence > 0) engine.Reset();
            (double[][] mx, double[][] mh, double[] mo) = SequenceMaskArrays(engine, 2);
            foreach ((double[][] px, double[][] ph, double[] po) in previous)
            {
                for (int l = 0; l < 2; l++)
                {
                    Assert.False(px[l].AsSpan().SequenceEqual(mx[l]), $"sequence {sequence}: input mask of layer {l} repeated");
                    Assert.False(ph[l].AsSpan().SequenceEqual(mh[l]), $"sequence {sequence}: recurrent mask of layer {l} repeated");
                }
                Assert.False(po.AsSpan().SequenceEqual(mo), $"sequence {sequence}: output mask repeated");
            }
            previous.Add((mx, mh, mo));
            var y = new double[steps * batch * 2];
            RunWindows(engine, x, t, y);
            foreach (double[] o in outputs) Assert.False(o.AsSpan().SequenceEqual(y), $"sequence {sequence}: the same outputs as an earlier sequence");
            outputs.Add(y);
            // The slots used in this sequence hold this sequence's masks.
            for (int q = 0; q < 6; q++) Assert.Equal(mx[1], Slot(SlotMasks(engine, "MaskX", 1), q, mx[1].Length));
        }
    }

    /// <summary>Counts kept units of a mask and checks that every value is 0 or exactly 1/(1 - p) as T.</summary>
    private static long CountKept<T>(ReadOnlySpan<T> mask, double p, string what) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T keep = T.CreateTruncating(1.0 / (1.0 - p));
        long kept = 0;
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i] == keep) kept++;
            else if (!(mask[i] == T.Zero && !T.IsNegative(mask[i]))) Assert.Fail($"{what}: mask[{i}] = {mask[i]}, neither +0 nor 1/(1-p) = {keep}");
        }
        return kept;
    }

    /// <summary>|kept - n(1-p)| ≤ 5 sqrt(n p (1-p)) (binomial, 5 sigma).</summary>
    private static void AssertKeepRate(long kept, long n, double p, string what)
    {
        double mean = n * (1 - p), sigma = Math.Sqrt(n * p * (1 - p));
        Assert.True(Math.Abs(kept - mean) <= 5 * sigma, $"{what}: kept {kept} of {n} (rate {(double)kept / n:F4}), expected {mean:F1} ± 5·{sigma:F1} for p = {p}");
    }

    private static void VariationalKeepRate<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        const int batch = 32, inSize = 64, sequences = 4;
        double pIn = 0.2, pRec = 0.35, pOut = 0.5;
        var arch = new NetworkArchitecture(CellType.Elman, inSize, [48, 40], 2);
        var net = new RecurrentNetwork<T>(arch, 351);
        var engine = new TruncatedBptt<T>(net, batch, BpttSchedule.Create(2, 1), 1, new DropoutOptions(pIn, pRec, pOut, Seed: 352));
        long keptIn = 0, nIn = 0, keptRec = 0, nRec = 0, keptOut = 0, nOut = 0;
        for (int s = 0; s < sequences; s++)
        {
            if (s > 0) engine.Reset();
            for (int l = 0; l < 2; l++)
            {
                (ReadOnlyMemory<T> mi, ReadOnlyMemory<T> mr) = engine.SequenceMasks(l);
                Assert.Equal(batch * arch.LayerInputSize(l), mi.Length);
                Assert.Equal(batch * arch.HiddenSizes[l], mr.Length);
                long ki = CountKept(mi.Span, pIn, $"input mask layer {l}"), kr = CountKept(mr.Span, pRec, $"recurrent mask layer {l}");
                AssertKeepRate(ki, mi.Length, pIn, $"{typeof(T).Name} input mask layer {l} sequence {s}");
                AssertKeepRate(kr, mr.Length, pRec, $"{typeof(T).Name} recurrent mask layer {l} sequence {s}");
                keptIn += ki; nIn += mi.Length; keptRec += kr; nRec += mr.Length;
                // Streams get their own masks: not every row equals the first.
                int w = arch.LayerInputSize(l);
                bool rowsDiffer = false;
                for (int r = 1; r < batch; r++) rowsDiffer |= !mi.Span.Slice(r * w, w).SequenceEqual(mi.Span.Slice(0, w));
                Assert.True(rowsDiffer, $"input mask layer {l}: every stream has the same mask");
            }
            ReadOnlyMemory<T> mo = engine.SequenceOutputMask;
            Assert.Equal(batch * 40, mo.Length);
            long ko = CountKept(mo.Span, pOut, "output mask");
            AssertKeepRate(ko, mo.Length, pOut, $"{typeof(T).Name} output mask sequence {s}");
            keptOut += ko; nOut += mo.Length;
        }
        AssertKeepRate(keptIn, nIn, pIn, $"{typeof(T).Name} input masks, all sequences");
        AssertKeepRate(keptRec, nRec, pRec, $"{typeof(T).Name} recurrent masks, all sequences");
        AssertKeepRate(keptOut, nOut, pOut, $"{typeof(T).Name} output masks, all sequences");
    }

    /// <summary>
    /// Variational keep rate: B = 32 streams, widths 64 / 48 (input), 48 / 40 (recurrent), 40 (readout), p = 0.2 / 0.35
    /// / 0.5, four sequences: each mask's kept count is within 5 binomial sigmas of n(1 - p), and every value is +0 or
    /// exactly 1/(1 - p) rounded to T.
    /// </summary>
    [Fact]
    public void VariationalMask_KeepRateAndScale_Double() => VariationalKeepRate<double>();

    [Fact]
    public void VariationalMask_KeepRateAndScale_Float() => VariationalKeepRate<float>();

    // ============================================================================================ naive

    /// <summary>
    /// Naive dropout: the per-slot masks of the input (every layer) and of the readout differ between the steps of a
    /// window and between windows, no recurrent mask exists, every value is 0 or 1/(1 - p), and the keep rate over
    /// all steps is within 5 binomial sigmas.
    /// </summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void NaiveMasks_AreFreshEveryStep_WithTheKeepRate(CellType cell)
    {
        const int batch = 16, inSize = 24, tb = 5, windows = 6;
        double pIn = 0.25, pOut = 0.4;
        var arch = new NetworkArchitecture(cell, inSize, [20, 16], 2);
        var net = new RecurrentNetwork<float>(arch, 361);
        var engine = new TruncatedBptt<float>(net, batch, BpttSchedule.Create(tb, tb), 1, new DropoutOptions(Input: pIn, Output: pOut, Variant: DropoutVariant.Naive, Seed: 362));
        float[] x = Convert<float>(Uniform(363, tb * batch * inSize)), t = Convert<float>(Uniform(364, tb * batch * 2));
        long keptIn = 0, nIn = 0, keptOut = 0, nOut = 0;
        var seen = new List<float[]>();
        for (int w = 0; w < windows; w++)
        {
            engine.Window(x, t);
            for (int l = 0; l < 2; l++)
            {
                Assert.Empty(SlotMasks(engine, "MaskH", l));
                int width = batch * arch.LayerInputSize(l);
                float[] mx = SlotMasks(engine, "MaskX", l);
                Assert.Equal(tb * width, mx.Length);
                for (int q = 0; q < tb; q++)
                {
                    float[] m = Slot(mx, q, width);
                    foreach (float[] other in seen) Assert.False(other.AsSpan().SequenceEqual(m), $"window {w} slot {q}: an input mask of layer {l} repeated");
                    if (l == 0) seen.Add(m);
                }
                keptIn += CountKept<float>(mx, pIn, $"input masks layer {l}");
                nIn += mx.Length;
            }
            float[] mo = SlotOutputMasks(engine);
            Assert.Equal(tb * batch * 16, mo.Length);
            for (int q = 1; q < tb; q++) Assert.False(Slot(mo, q, batch * 16).AsSpan().SequenceEqual(Slot(mo, 0, batch * 16)), $"window {w}: output mask of slot {q} equals slot 0");
            keptOut += CountKept<float>(mo, pOut, "output masks");
            nOut += mo.Length;
        }
        AssertKeepRate(keptIn, nIn, pIn, "naive input masks");
        AssertKeepRate(keptOut, nOut, pOut, "naive output masks");
    }

    /// <summary>Naive dropout applies each step's own mask: the engine's outputs equal the network stepped with the
    /// per-slot masks the engine stored (one window of S = τf = τb steps, so every step's mask is still in the ring).</summary>
    [Theory]
    [InlineData(CellType.Elman, 1)]
    [InlineData(CellType.Lstm, 2)]
    [InlineData(CellType.Gru, 2)]
    [InlineData(CellType.Elman, 2)]
    public void NaiveDropout_OutputsEqualStepMaskedWithEachStepsMask(CellType cell, int layers)
    {
        const int batch = 3, steps = 6;
        var arch = layers == 1 ? Arch(cell, 4, 2, Activation.Tanh, 5) : Arch(cell, 4, 2, Activation.Tanh, 5, 3);
        var net = new RecurrentNetwork<double>(arch, 371);
        double[] x = Uniform(372, steps * batch * 4), t = Uniform(373, steps * batch * 2);
        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Epochwise(steps), 1, new DropoutOptions(Input: 0.3, Output: 0.3, Variant: DropoutVariant.Naive, Seed: 374));
        var y = new double[steps * batch * 2];
        engine.Window(x, t, y);

        double[][] sx = new double[layers][];
        for (int l = 0; l < layers; l++) sx[l] = SlotMasks(engine, "MaskX", l);
        double[] so = SlotOutputMasks(engine);
        NetworkState<double> s = net.CreateState(batch);
        var expected = new double[y.Length];
        var noH = new double[layers][];
        for (int l = 0; l < layers; l++) noH[l] = [];
        for (int k = 0; k < steps; k++)
        {
            var mx = new double[layers][];
            for (int l = 0; l < layers; l++) mx[l] = Slot(sx[l], k, batch * arch.LayerInputSize(l));
            net.StepMasked(x.AsSpan(k * batch * 4, batch * 4), expected.AsSpan(k * batch * 2, batch * 2), s, mx, noH, Slot(so, k, batch * arch.TopHiddenSize));
        }
        AssertClose(expected, y, 1e-12, 1e-2, $"outputs {arch}");
    }

    /// <summary>
    /// The naive variant's gradient (which GradientCheck cannot check, having no fixed mask): one window over the
    /// whole sequence (τb = τf = S), then fourth-order central finite differences of the same objective, the network
    /// stepped with the per-step masks the engine stored; every parameter, max relative error ≤ 1e-6.
    /// </summary>
    [Theory]
    [InlineData(CellType.Elman, 1)]
    [InlineData(CellType.Elman, 2)]
    [InlineData(CellType.Lstm, 1)]
    [InlineData(CellType.Lstm, 2)]
    [InlineData(CellType.Gru, 1)]
    [InlineData(CellType.Gru, 2)]
    public void NaiveDropout_AnalyticGradient_EqualsFiniteDifferences(CellType cell, int layers)
    {
        const int batch = 2, steps = 6;
        var arch = layers == 1 ? Arch(cell, 3, 2, Activation.Tanh, 4) : Arch(cell, 3, 2, Activation.Tanh, 4, 3);
        var net = new RecurrentNetwork<double>(arch, 381);
        double[] x = Uniform(382, steps * batch * 3), t = Uniform(383, steps * batch * 2);
        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Epochwise(steps), 1, new DropoutOptions(Input: 0.3, Output: 0.3, Variant: DropoutVariant.Naive, Seed: 384));
        net.ZeroGradients();
        double loss = engine.Window(x, t);
        double[] analytic = net.Gradients.ToArray();

        var sx = new double[steps][][];
        var so = new double[steps][];
        double[][] allX = new double[layers][];
        for (int l = 0; l < layers; l++) allX[l] = SlotMasks(engine, "MaskX", l);
        double[] allO = SlotOutputMasks(engine);
        for (int k = 0; k < steps; k++)
        {
            sx[k] = new double[layers][];
            for (int l = 0; l < layers; l++) sx[k][l] = Slot(allX[l], k, batch * arch.LayerInputSize(l));
            so[k] = Slot(allO, k, batch * arch.TopHiddenSize);
        }
        Assert.Contains(0.0, allO);
        var noH = new double[layers][];
        for (int l = 0; l < layers; l++) noH[l] = [];
        var y = new double[batch * 2];
        double Objective()
        {
            net.MarkParametersChanged();
            NetworkState<double> s = net.CreateState(batch);
            double sum = 0;
            for (int k = 0; k < steps; k++)
            {
                net.StepMasked(x.AsSpan(k * batch * 3, batch * 3), y, s, sx[k], noH, so[k]);
                for (int i = 0; i < y.Length; i++) { double d = y[i] - t[k * batch * 2 + i]; sum += d * d; }
            }
            return sum / (steps * batch * 2);
        }
        Assert.True(RelativeError(Objective(), loss, 1e-4) <= 1e-12, $"loss {loss:R} vs masked objective {Objective():R}");

        double[] p = net.ParameterArray;
        var numeric = new double[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            double v = p[i];
            p[i] = v + Step; double p1 = Objective();
            p[i] = v - Step; double m1 = Objective();
            p[i] = v + 2 * Step; double p2 = Objective();
            p[i] = v - 2 * Step; double m2 = Objective();
            p[i] = v;
            numeric[i] = (8 * (p1 - m1) - (p2 - m2)) / (12 * Step);
        }
        net.MarkParametersChanged();
        AssertClose(numeric, analytic, Tolerance, GradientCheck.RelativeErrorFloor, $"naive gradient {arch}", net.Layout);
    }

    // ============================================================================================ scalar oracle

    /// <summary>
    /// An independent scalar forward pass with dropout masks, written from the equations of
    /// <see cref="Reference.RecurrentReference"/> (it reads only that reference's weight copies): x̃ = x ⊙ m_x[l] is the
    /// layer input, h̃ = h_(t-1) ⊙ m_h[l] enters W_hh (the GRU's z ⊙ h term takes the undropped h_(t-1)), and the readout
    /// reads h_top ⊙ m_o. masks(t) gives step t's masks (B x width row-major each; empty = no dropout).
    /// </summary>
    internal static double[] OracleForward(Reference.RecurrentReference r, double[] x, int batch, int steps, Func<int, (double[][] X, double[][] H, double[] O)> masks)
    {
        static double Sig(double a) => 1.0 / (1.0 + Math.Exp(-a));
        static double M(double[] m, int i) => m.Length == 0 ? 1.0 : m[i];
        var h = new double[r.Layers][];
        var c = new double[r.Layers][];
        for (int l = 0; l < r.Layers; l++) { h[l] = new double[batch * r.Hidden[l]]; c[l] = new double[batch * r.Hidden[l]]; }
        var y = new double[steps * batch * r.OutputSize];
        for (int t = 0; t < steps; t++)
        {
            (double[][] mx, double[][] mh, double[] mo) = masks(t);
            double[] input = x.AsSpan(t * batch * r.InputSize, batch * r.InputSize).ToArray();
            for (int l = 0; l < r.Layers; l++)
            {
                int H = r.Hidden[l], I = r.LayerInput(l);
                var hn = new double[batch * H];
                for (int b = 0; b < batch; b++)
                {
                    var xt = new double[I];
                    var ht = new double[H];
                    for (int k = 0; k < I; k++) xt[k] = input[b * I + k] * M(mx[l], b * I + k);
                    for (int k = 0; k < H; k++) ht[k] = h[l][b * H + k] * M(mh[l], b * H + k);
                    var gx = new double[r.Gates * H];
                    var gh = new double[r.Gates * H];
                    for (int row = 0; row < r.Gates * H; row++)
                    {
                        double sx = r.Bih[l][row], sh = r.Bhh[l][row];
                        for (int k = 0; k < I; k++) sx += r.Wih[l][row, k] * xt[k];
                        for (int k = 0; k < H; k++) sh += r.Whh[l][row, k] * ht[k];
                        gx[row] = sx; gh[row] = sh;
                    }
                    for (int j = 0; j < H; j++)
                    {
                        switch (r.Cell)
                        {
                            case CellType.Elman:
                                hn[b * H + j] = Math.Tanh(gx[j] + gh[j]);
                                break;
                            case CellType.Lstm:
                            {
                                double i = Sig(gx[j] + gh[j]), f = Sig(gx[H + j] + gh[H + j]), g = Math.Tanh(gx[2 * H + j] + gh[2 * H + j]), o = Sig(gx[3 * H + j] + gh[3 * H + j]);
                                c[l][b * H + j] = f * c[l][b * H + j] + i * g;
                                hn[b * H + j] = o * Math.Tanh(c[l][b * H + j]);
                                break;
                            }
                            default:
                            {
                                double rr = Sig(gx[j] + gh[j]), z = Sig(gx[H + j] + gh[H + j]), n = Math.Tanh(gx[2 * H + j] + rr * gh[2 * H + j]);
                                hn[b * H + j] = (1 - z) * n + z * h[l][b * H + j];
                                break;
                            }
                        }
                    }
                }
                h[l] = hn;
                input = hn;
            }
            int top = r.Hidden[^1];
            for (int b = 0; b < batch; b++)
                for (int o = 0; o < r.OutputSize; o++)
                {
                    double sum = r.Bout[o];
                    for (int k = 0; k < top; k++) sum += r.Wout[o, k] * input[b * top + k] * M(mo, b * top + k);
                    y[(t * batch + b) * r.OutputSize + o] = sum;
                }
        }
        return y;
    }

    /// <summary>
    /// The engine with variational dropout on every stream equals the scalar oracle run with the sequence's masks
    /// (fixed for all steps), over several windows with the ring wrapping: every cell, one and two layers.
    /// </summary>
    [Theory]
    [MemberData(nameof(CellsLayersStreams))]
    public void VariationalDropout_EqualsScalarOracle(CellType cell, int layers, Streams streams)
    {
        const int batch = 3, steps = 12;
        var arch = layers == 1 ? Arch(cell, 4, 3, Activation.Tanh, 5) : Arch(cell, 4, 3, Activation.Tanh, 5, 6);
        var net = new RecurrentNetwork<double>(arch, 501);
        double[] x = Uniform(502, steps * batch * 4), t = Uniform(503, steps * batch * 3);
        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(5, 2), 1, Options(streams, 0.4, 504));
        (double[][] mx, double[][] mh, double[] mo) = SequenceMaskArrays(engine, layers);
        var y = new double[steps * batch * 3];
        RunWindows(engine, x, t, y);
        double[] expected = OracleForward(Reference.RecurrentReference.FromNetwork(net), x, batch, steps, _ => (mx, mh, mo));
        AssertClose(expected, y, 1e-12, 1e-2, $"outputs vs oracle {arch} {streams}");
    }

    /// <summary>The engine with naive dropout equals the scalar oracle run with each step's own masks (read from the
    /// engine's slots right after the window that ran the step), over several windows with the ring wrapping.</summary>
    [Theory]
    [InlineData(CellType.Elman, 1)]
    [InlineData(CellType.Elman, 2)]
    [InlineData(CellType.Lstm, 1)]
    [InlineData(CellType.Lstm, 2)]
    [InlineData(CellType.Gru, 1)]
    [InlineData(CellType.Gru, 2)]
    public void NaiveDropout_EqualsScalarOracle(CellType cell, int layers)
    {
        const int batch = 3, steps = 12, tf = 2, tb = 5;
        var arch = layers == 1 ? Arch(cell, 4, 3, Activation.Tanh, 5) : Arch(cell, 4, 3, Activation.Tanh, 5, 6);
        var net = new RecurrentNetwork<double>(arch, 511);
        double[] x = Uniform(512, steps * batch * 4), t = Uniform(513, steps * batch * 3);
        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(tb, tf), 1, new DropoutOptions(Input: 0.4, Output: 0.4, Variant: DropoutVariant.Naive, Seed: 514));
        var y = new double[steps * batch * 3];
        List<(double[][] X, double[][] H, double[] O)> perStep = RunRecordingNaiveMasks(engine, x, t, y, arch);
        double[] expected = OracleForward(Reference.RecurrentReference.FromNetwork(net), x, batch, steps, k => perStep[k]);
        AssertClose(expected, y, 1e-12, 1e-2, $"outputs vs oracle {arch}");
    }

    /// <summary>Runs the windows of a sequence and records, per step, the masks the engine stored in its slot.</summary>
    private static List<(double[][] X, double[][] H, double[] O)> RunRecordingNaiveMasks(TruncatedBptt<double> engine, double[] x, double[] t, double[] y, NetworkArchitecture arch)
    {
        int batch = engine.BatchSize, tf = engine.Schedule.ForwardSteps, tb = engine.Schedule.BackwardSteps, layers = arch.NumLayers;
        int steps = x.Length / (batch * arch.InputSize);
        var perStep = new List<(double[][] X, double[][] H, double[] O)>();
        for (int w = 0; w < steps / tf; w++)
        {
            engine.Window(x.AsSpan(w * tf * batch * arch.InputSize, tf * batch * arch.InputSize), t.AsSpan(w * tf * batch * arch.OutputSize, tf * batch * arch.OutputSize),
                y.AsSpan(w * tf * batch * arch.OutputSize, tf * batch * arch.OutputSize));
            var sx = new double[layers][];
            for (int l = 0; l < layers; l++) sx[l] = SlotMasks(engine, "MaskX", l);
            double[] so = SlotOutputMasks(engine);
            for (int s = 0; s < tf; s++)
            {
                long step = (long)w * tf + s;
                int q = (int)(step % tb);
                Assert.Equal(step, engine.SlotTime(q));
                var mx = new double[layers][];
                var mh = new double[layers][];
                for (int l = 0; l < layers; l++) { mx[l] = sx[l].Length == 0 ? [] : Slot(sx[l], q, batch * arch.LayerInputSize(l)); mh[l] = []; }
                perStep.Add((mx, mh, so.Length == 0 ? [] : Slot(so, q, batch * arch.TopHiddenSize)));
            }
        }
        return perStep;
    }

    /// <summary>
    /// The naive variant's truncated-BPTT gradient over several windows (the ring wrapping, so backward must use the
    /// masks stored with each step, not the newest ones): fourth-order central differences of the truncated objective
    /// (each window's mean squared error over its τf new outputs, the state entering its τb-step span held fixed),
    /// the network stepped with each step's recorded masks; every parameter, max relative error ≤ 1e-6.
    /// </summary>
    [Theory]
    [InlineData(CellType.Elman, 2, 2, 5)]
    [InlineData(CellType.Lstm, 1, 3, 6)]
    [InlineData(CellType.Lstm, 2, 1, 4)]
    [InlineData(CellType.Gru, 1, 1, 3)]
    [InlineData(CellType.Gru, 2, 3, 6)]
    public void NaiveDropout_TruncatedGradientOverWindows_EqualsFiniteDifferences(CellType cell, int layers, int tf, int tb)
    {
        const int batch = 2, steps = 12;
        var arch = layers == 1 ? Arch(cell, 3, 2, Activation.Tanh, 4) : Arch(cell, 3, 2, Activation.Tanh, 4, 3);
        var net = new RecurrentNetwork<double>(arch, 521);
        double[] x = Uniform(522, steps * batch * 3), t = Uniform(523, steps * batch * 2);
        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(tb, tf), 1, new DropoutOptions(Input: 0.3, Output: 0.3, Variant: DropoutVariant.Naive, Seed: 524));
        net.ZeroGradients();
        var y = new double[t.Length];
        List<(double[][] X, double[][] H, double[] O)> masks = RunRecordingNaiveMasks(engine, x, t, y, arch);
        double[] analytic = net.Gradients.ToArray();

        int inStep = batch * 3, outStep = batch * 2;
        var outBuf = new double[outStep];
        void StepAt(int k, NetworkState<double> s) => net.StepMasked(x.AsSpan(k * inStep, inStep), outBuf, s, masks[k].X, masks[k].H, masks[k].O);
        // Detached states: the state entering each step with the unperturbed parameters.
        var detached = new NetworkState<double>[steps + 1];
        NetworkState<double> run = net.CreateState(batch);
        detached[0] = run.Clone();
        for (int k = 0; k < steps; k++) { StepAt(k, run); detached[k + 1] = run.Clone(); }
        NetworkState<double> work = net.CreateState(batch);
        double Objective()
        {
            net.MarkParametersChanged();
            double total = 0;
            for (int end = tf; end <= steps; end += tf)
            {
                int start = Math.Max(0, end - tb);
                work.CopyFrom(detached[start]);
                double sum = 0;
                for (int k = start; k < end; k++)
                {
                    StepAt(k, work);
                    if (k < end - tf) continue;
                    for (int i = 0; i < outStep; i++) { double d = outBuf[i] - t[k * outStep + i]; sum += d * d; }
                }
                total += sum / (tf * outStep);
            }
            return total;
        }

        double[] p = net.ParameterArray;
        var numeric = new double[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            double v = p[i];
            p[i] = v + Step; double p1 = Objective();
            p[i] = v - Step; double m1 = Objective();
            p[i] = v + 2 * Step; double p2 = Objective();
            p[i] = v - 2 * Step; double m2 = Objective();
            p[i] = v;
            numeric[i] = (8 * (p1 - m1) - (p2 - m2)) / (12 * Step);
        }
        net.MarkParametersChanged();
        AssertClose(numeric, analytic, Tolerance, GradientCheck.RelativeErrorFloor, $"naive truncated gradient {arch} BPTT({tb},{tf})", net.Layout);
    }

    // ============================================================================================ inference

    /// <summary>
    /// With p = 0 (the default options, or explicit zeros with a seed) the engine computes what inference computes:
    /// its outputs equal <see cref="RecurrentNetwork{T}.Forward"/>. With dropout on they differ.
    /// </summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void EngineWithZeroDropout_EqualsForward_AndWithDropoutDiffers(CellType cell)
    {
        const int batch = 3, steps = 12;
        var arch = Arch(cell, 4, 2, Activation.Tanh, 6, 5);
        var net = new RecurrentNetwork<double>(arch, 391);
        double[] x = Uniform(392, steps * batch * 4), t = Uniform(393, steps * batch * 2);
        var expected = new double[steps * batch * 2];
        net.Forward(x, expected, net.CreateState(batch));

        foreach (DropoutOptions? d in new[] { null, DropoutOptions.None, new DropoutOptions(Seed: 99), new DropoutOptions(Variant: DropoutVariant.Naive, Seed: 98) })
        {
            var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Default(3), 1, d);
            Assert.False(engine.Dropout.IsActive);
            var y = new double[expected.Length];
            RunWindows(engine, x, t, y);
            AssertClose(expected, y, 1e-12, 1e-2, $"{cell} outputs with {d?.ToString() ?? "null"}");
        }
        foreach (DropoutOptions d in new[] { Options(Streams.Input), Options(Streams.Recurrent), Options(Streams.Output), Options(Streams.All), new DropoutOptions(Input: 0.3, Output: 0.3, Variant: DropoutVariant.Naive) })
        {
            var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Default(3), 1, d);
            var y = new double[expected.Length];
            RunWindows(engine, x, t, y);
            double maxDiff = 0;
            for (int i = 0; i < y.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(y[i] - expected[i]));
            Assert.True(maxDiff > 1e-3, $"{cell} {d}: outputs with dropout equal Forward's (max difference {maxDiff:E2})");
        }
    }

    /// <summary>
    /// Forward never drops: running training windows with dropout (without changing the weights) leaves inference
    /// bitwise unchanged, and Step / Forward are deterministic and equal StepMasked with no masks.
    /// </summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void Forward_IsUnaffectedByTrainingWithDropout(CellType cell)
    {
        const int batch = 2, steps = 10;
        var arch = Arch(cell, 3, 2, Activation.Tanh, 5, 4);
        var net = new RecurrentNetwork<float>(arch, 401);
        float[] x = Convert<float>(Uniform(402, steps * batch * 3)), t = Convert<float>(Uniform(403, steps * batch * 2));
        var before = new float[steps * batch * 2];
        net.Forward(x, before, net.CreateState(batch));

        var engine = new TruncatedBptt<float>(net, batch, BpttSchedule.Create(4, 2), 1, new DropoutOptions(0.5, 0.5, 0.5, Seed: 404));
        RunWindows(engine, x, t);
        engine.Reset();
        RunWindows(engine, x, t);
        var naive = new TruncatedBptt<float>(net, batch, BpttSchedule.Create(4, 2), 1, new DropoutOptions(Input: 0.5, Output: 0.5, Variant: DropoutVariant.Naive, Seed: 405));
        RunWindows(naive, x, t);

        var after = new float[before.Length];
        net.Forward(x, after, net.CreateState(batch));
        Assert.True(before.AsSpan().SequenceEqual(after), $"{cell}: Forward changed after training windows with dropout");
        var again = new float[before.Length];
        NetworkState<float> s = net.CreateState(batch);
        for (int k = 0; k < steps; k++) net.Step(x.AsSpan(k * batch * 3, batch * 3), again.AsSpan(k * batch * 2, batch * 2), s);
        Assert.True(before.AsSpan().SequenceEqual(again), $"{cell}: Step differs from Forward");
        var unmasked = new float[before.Length];
        s = net.CreateState(batch);
        float[][] none = [[], []];
        for (int k = 0; k < steps; k++) net.StepMasked(x.AsSpan(k * batch * 3, batch * 3), unmasked.AsSpan(k * batch * 2, batch * 2), s, none, none, []);
        Assert.True(before.AsSpan().SequenceEqual(unmasked), $"{cell}: StepMasked with no masks differs from Forward");
    }

    // ============================================================================================ reproducibility

    private static (float[] Grad, float[] Out, float[] Masks) TrainWindows(CellType cell, DropoutOptions d, int threads, int resets = 2)
    {
        const int batch = 4, steps = 12;
        var arch = new NetworkArchitecture(cell, 5, [12, 9], 3);
        var net = new RecurrentNetwork<float>(arch, 411);
        float[] x = Convert<float>(Uniform(412, steps * batch * 5)), t = Convert<float>(Uniform(413, steps * batch * 3));
        var engine = new TruncatedBptt<float>(net, batch, BpttSchedule.Default(3), threads, d);
        var y = new float[t.Length];
        var outs = new List<float>();
        net.ZeroGradients();
        for (int r = 0; r <= resets; r++)
        {
            if (r > 0) engine.Reset();
            RunWindows(engine, x, t, y);
            outs.AddRange(y);
        }
        var masks = new List<float>();
        for (int l = 0; l < 2; l++) { masks.AddRange(SlotMasks(engine, "MaskX", l)); masks.AddRange(SlotMasks(engine, "MaskH", l)); }
        masks.AddRange(SlotOutputMasks(engine));
        return (net.Gradients.ToArray(), outs.ToArray(), masks.ToArray());
    }

    public static TheoryData<CellType, DropoutVariant> CellsVariants()
    {
        var data = new TheoryData<CellType, DropoutVariant>();
        foreach (CellType c in AllCells) { data.Add(c, DropoutVariant.Variational); data.Add(c, DropoutVariant.Naive); }
        return data;
    }

    private static DropoutOptions Active(DropoutVariant v, ulong seed) =>
        v == DropoutVariant.Naive ? new DropoutOptions(Input: 0.3, Output: 0.3, Variant: v, Seed: seed) : new DropoutOptions(0.3, 0.3, 0.3, v, seed);

    /// <summary>The same seed gives bitwise the same masks, outputs and gradients (also with 2 GEMM threads); another seed differs.</summary>
    [Theory]
    [MemberData(nameof(CellsVariants))]
    public void SameSeed_GivesBitwiseIdenticalGradients_OtherSeedDiffers(CellType cell, DropoutVariant variant)
    {
        var a = TrainWindows(cell, Active(variant, 1234), 1);
        var b = TrainWindows(cell, Active(variant, 1234), 1);
        var threaded = TrainWindows(cell, Active(variant, 1234), 2);
        var other = TrainWindows(cell, Active(variant, 1235), 1);
        Assert.True(MemoryMarshal.AsBytes(a.Grad.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(b.Grad.AsSpan())), "gradients differ for the same seed");
        Assert.True(MemoryMarshal.AsBytes(a.Out.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(b.Out.AsSpan())), "outputs differ for the same seed");
        Assert.True(a.Masks.AsSpan().SequenceEqual(b.Masks), "masks differ for the same seed");
        Assert.True(MemoryMarshal.AsBytes(a.Grad.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(threaded.Grad.AsSpan())), "gradients differ with 2 threads");
        Assert.True(MemoryMarshal.AsBytes(a.Out.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(threaded.Out.AsSpan())), "outputs differ with 2 threads");
        Assert.False(a.Masks.AsSpan().SequenceEqual(other.Masks), "another seed gives the same masks");
        Assert.False(a.Grad.AsSpan().SequenceEqual(other.Grad), "another seed gives the same gradients");
    }

    /// <summary>
    /// Where the ring starts changes nothing with dropout either (the masks follow the steps, not the slots): losses,
    /// outputs and gradients for every ring offset equal offset 0, variational on all three streams and naive.
    /// </summary>
    [Theory]
    [MemberData(nameof(CellsVariants))]
    public void RingOffset_ChangesNothing_WithDropout(CellType cell, DropoutVariant variant)
    {
        const int batch = 2, tb = 5, tf = 2, steps = 14;
        var arch = Arch(cell, 3, 2, Activation.Tanh, 4, 3);
        var net = new RecurrentNetwork<double>(arch, 531);
        double[] x = Uniform(532, steps * batch * 3), t = Uniform(533, steps * batch * 2);
        (double[] Losses, double[] Outputs, double[] Grad) Run(int offset)
        {
            var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(tb, tf), 1, Active(variant, 534));
            engine.SetRingOffset(offset);
            net.ZeroGradients();
            var y = new double[t.Length];
            double[] losses = RunWindows(engine, x, t, y);
            return (losses, y, net.Gradients.ToArray());
        }
        var baseline = Run(0);
        for (int offset = 1; offset < tb; offset++)
        {
            var shifted = Run(offset);
            string w = $"{cell} {variant} ring offset {offset}";
            AssertClose(baseline.Losses, shifted.Losses, 1e-12, 1e-4, $"losses {w}");
            AssertClose(baseline.Outputs, shifted.Outputs, 1e-12, 1e-4, $"outputs {w}");
            AssertClose(baseline.Grad, shifted.Grad, 1e-12, 1e-4, $"gradients {w}", net.Layout);
        }
    }

    /// <summary>Float and double engines with the same options draw the same mask pattern (the draws are in double), and
    /// their outputs agree to float accuracy.</summary>
    [Theory]
    [MemberData(nameof(CellsVariants))]
    public void FloatAndDouble_DrawTheSameMasks(CellType cell, DropoutVariant variant)
    {
        const int batch = 3, steps = 8;
        var arch = Arch(cell, 4, 2, Activation.Tanh, 6, 5);
        var d64 = new RecurrentNetwork<double>(arch, 541);
        RoundParametersToFloat(d64);
        RecurrentNetwork<float> f32 = Copy<double, float>(d64, IsaPath.Auto);
        double[] x = Uniform(542, steps * batch * 4), t = Uniform(543, steps * batch * 2);
        for (int i = 0; i < x.Length; i++) x[i] = (float)x[i];
        for (int i = 0; i < t.Length; i++) t[i] = (float)t[i];
        var ed = new TruncatedBptt<double>(d64, batch, BpttSchedule.Default(2), 1, Active(variant, 544));
        var ef = new TruncatedBptt<float>(f32, batch, BpttSchedule.Default(2), 1, Active(variant, 544));
        var yd = new double[t.Length];
        var yf = new float[t.Length];
        RunWindows(ed, x, t, yd);
        RunWindows(ef, Convert<float>(x), Convert<float>(t), yf);
        for (int l = 0; l < 2; l++)
        {
            foreach (string field in new[] { "MaskX", "MaskH" })
            {
                double[] md = SlotMasks(ed, field, l);
                float[] mf = SlotMasks(ef, field, l);
                Assert.Equal(md.Length, mf.Length);
                for (int i = 0; i < md.Length; i++) Assert.True((md[i] == 0) == (mf[i] == 0), $"{field} layer {l} [{i}]: double {md[i]}, float {mf[i]}");
            }
        }
        double[] od = SlotOutputMasks(ed);
        float[] of = SlotOutputMasks(ef);
        for (int i = 0; i < od.Length; i++) Assert.True((od[i] == 0) == (of[i] == 0), $"output mask [{i}]: double {od[i]}, float {of[i]}");
        double err = NormRelativeError(yd, ToDouble<float>(yf));
        Assert.True(err <= 1e-4, $"{cell} {variant}: float outputs differ from double by {err:E2} (norm-relative)");
    }

    /// <summary>Reset(initialState) redraws the variational masks too, and the engine starts from that state.</summary>
    [Fact]
    public void ResetWithState_RedrawsMasks()
    {
        var arch = Arch(CellType.Lstm, 6, 2, Activation.Tanh, 8);
        var net = new RecurrentNetwork<double>(arch, 551);
        var engine = new TruncatedBptt<double>(net, 4, BpttSchedule.Default(2), 1, new DropoutOptions(0.3, 0.3, 0.3, Seed: 552));
        double[] before = engine.SequenceMasks(0).Recurrent.ToArray(), beforeO = engine.SequenceOutputMask.ToArray();
        NetworkState<double> init = TruncatedBpttReferenceTests.RandomState(net, 4, 553);
        engine.Reset(init);
        Assert.False(before.AsSpan().SequenceEqual(engine.SequenceMasks(0).Recurrent.Span));
        Assert.False(beforeO.AsSpan().SequenceEqual(engine.SequenceOutputMask.Span));
        Assert.True(init.Hidden(0).SequenceEqual(engine.State.Hidden(0)));
    }

    /// <summary>The trainer with dropout gives bitwise the same weights with 1 or 2 GEMM threads.</summary>
    [Fact]
    public void Trainer_WithDropout_IsBitwiseTheSameOnTwoThreads()
    {
        SequenceData<float> train = Sine(0, 800), validation = Sine(800, 200);
        var d = new DropoutOptions(0.1, 0.2, 0.2, Seed: 33);
        var a = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 1, [8], 1), 45);
        var b = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 1, [8], 1), 45);
        new Trainer<float>(a, DropoutTrainer(d) with { Epochs = 3 }).Fit(train, validation);
        new Trainer<float>(b, DropoutTrainer(d) with { Epochs = 3, MaxThreads = 2 }).Fit(train, validation);
        Assert.True(MemoryMarshal.AsBytes(a.Parameters).SequenceEqual(MemoryMarshal.AsBytes(b.Parameters)));
    }

    // ============================================================================================ validation

    public static TheoryData<string, double> BadProbabilities()
    {
        var data = new TheoryData<string, double>();
        foreach (string name in new[] { "Input", "Recurrent", "Output" })
            foreach (double p in new[] { -1e-12, -0.5, 1.0, 1.5, double.NaN, double.PositiveInfinity, double.NegativeInfinity }) data.Add(name, p);
        return data;
    }

    private static DropoutOptions With(string name, double p, DropoutVariant v = DropoutVariant.Variational) => name switch
    {
        "Input" => new DropoutOptions(Input: p, Variant: v),
        "Recurrent" => new DropoutOptions(Recurrent: p, Variant: v),
        _ => new DropoutOptions(Output: p, Variant: v),
    };

    /// <summary>p outside [0, 1) throws ArgumentOutOfRangeException naming the property, from Validate, the engine and the trainer.</summary>
    [Theory]
    [MemberData(nameof(BadProbabilities))]
    public void ProbabilityOutsideUnitInterval_Throws_NamingTheProperty(string name, double p)
    {
        DropoutOptions d = With(name, p);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(d.Validate);
        Assert.Equal(name, ex.ParamName);
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 2, [3], 1), 1);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => new TruncatedBptt<float>(net, 2, BpttSchedule.Default(3), 1, d));
        Assert.Equal(name, ex.ParamName);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer<float>(net, new TrainerOptions { Dropout = d }));
        Assert.Equal(name, ex.ParamName);
        if (name != "Recurrent")
        {
            ex = Assert.Throws<ArgumentOutOfRangeException>(With(name, p, DropoutVariant.Naive).Validate);
            Assert.Equal(name, ex.ParamName);
        }
    }

    /// <summary>Probabilities in [0, 1) are accepted, including 0 and values just below 1.</summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-12)]
    [InlineData(0.5)]
    [InlineData(0.999999)]
    public void ProbabilityInUnitInterval_IsAccepted(double p)
    {
        new DropoutOptions(p, p, p).Validate();
        new DropoutOptions(Input: p, Output: p, Variant: DropoutVariant.Naive).Validate();
        Assert.Equal(p > 0, new DropoutOptions(p, p, p).IsActive);
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 2, [3], 1), 1);
        _ = new TruncatedBptt<float>(net, 2, BpttSchedule.Default(3), 1, new DropoutOptions(p, p, p));
    }

    /// <summary>Naive with Recurrent > 0 throws ArgumentException naming Recurrent (not out-of-range: the value is valid for the variational variant).</summary>
    [Theory]
    [InlineData(1e-9)]
    [InlineData(0.3)]
    public void NaiveWithRecurrentDropout_Throws(double p)
    {
        var d = new DropoutOptions(Recurrent: p, Variant: DropoutVariant.Naive);
        var ex = Assert.Throws<ArgumentException>(d.Validate);
        Assert.Equal("Recurrent", ex.ParamName);
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 2, [3], 1), 1);
        Assert.Throws<ArgumentException>(() => new TruncatedBptt<float>(net, 2, BpttSchedule.Default(3), 1, d));
        Assert.Throws<ArgumentException>(() => new Trainer<float>(net, new TrainerOptions { Dropout = d }));
        Assert.Throws<ArgumentException>(() => new TrainerOptions { Dropout = d }.Validate());
        (d with { Variant = DropoutVariant.Variational }).Validate();
    }

    [Fact]
    public void UnknownVariant_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(new DropoutOptions(Input: 0.1, Variant: (DropoutVariant)7).Validate);
        Assert.Equal("Variant", ex.ParamName);
    }

    [Fact]
    public void Defaults_AreInactiveVariational()
    {
        Assert.False(DropoutOptions.None.IsActive);
        Assert.Equal(DropoutVariant.Variational, new DropoutOptions().Variant);
        Assert.Equal(DropoutOptions.None, new TrainerOptions().Dropout);
        Assert.Throws<ArgumentNullException>(() => new TrainerOptions { Dropout = null! }.Validate());
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 2, [3], 1), 1);
        Assert.Equal(DropoutOptions.None, new TruncatedBptt<float>(net, 1, BpttSchedule.Default(2)).Dropout);
    }

    // ============================================================================================ trainer

    private const int Period = 25;

    private static SequenceData<float> Sine(int start, int steps)
    {
        var x = new float[steps];
        var y = new float[steps];
        for (int i = 0; i < steps; i++)
        {
            x[i] = (float)Math.Sin(2 * Math.PI * (start + i) / Period);
            y[i] = (float)Math.Sin(2 * Math.PI * (start + i + 1) / Period);
        }
        return new SequenceData<float>(x, y, 1, 1);
    }

    private static TrainerOptions DropoutTrainer(DropoutOptions d) => new()
    {
        BatchSize = 8, Bptt = BpttSchedule.Create(20, 10), Optimizer = OptimizerKind.Adam, LearningRate = 1e-2, Epochs = 8, Patience = 0, Dropout = d,
    };

    /// <summary>
    /// An LSTM (H = 8) trained on a sine with variational dropout on all three streams still learns: the best
    /// validation loss is well below the untrained one (not a performance bound). The same options give bitwise the
    /// same weights and history; another dropout seed gives other weights.
    /// </summary>
    [Theory]
    [InlineData(DropoutVariant.Variational)]
    [InlineData(DropoutVariant.Naive)]
    public void Trainer_WithDropout_LearnsTheSine_AndIsDeterministic(DropoutVariant variant)
    {
        SequenceData<float> train = Sine(0, 800), validation = Sine(800, 200);
        DropoutOptions d = variant == DropoutVariant.Naive ? new DropoutOptions(Input: 0.1, Output: 0.2, Variant: variant, Seed: 31) : new DropoutOptions(0.1, 0.2, 0.2, variant, 31);
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [8], 1), 42);
        var trainer = new Trainer<float>(net, DropoutTrainer(d));
        double initial = trainer.Evaluate(train, validation);
        TrainingResult r = trainer.Fit(train, validation);
        Assert.True(r.BestLoss < 0.25 * initial, $"best validation MSE {r.BestLoss:E3} (epoch {r.BestEpoch}), untrained {initial:E3}");
        Assert.True(double.IsFinite(r.BestLoss));

        var net2 = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [8], 1), 42);
        TrainingResult r2 = new Trainer<float>(net2, DropoutTrainer(d)).Fit(train, validation);
        Assert.True(MemoryMarshal.AsBytes(net.Parameters).SequenceEqual(MemoryMarshal.AsBytes(net2.Parameters)), "the same seed gave other weights");
        Assert.Equal(r.History.Select(h => h.TrainLoss), r2.History.Select(h => h.TrainLoss));
        Assert.Equal(r.History.Select(h => h.ValidationLoss), r2.History.Select(h => h.ValidationLoss));

        var net3 = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [8], 1), 42);
        new Trainer<float>(net3, DropoutTrainer(d with { Seed = 32 })).Fit(train, validation);
        Assert.False(net.Parameters.SequenceEqual(net3.Parameters), "another dropout seed gave the same weights");

        var net4 = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [8], 1), 42);
        TrainingResult r4 = new Trainer<float>(net4, DropoutTrainer(DropoutOptions.None)).Fit(train, validation);
        Assert.False(net.Parameters.SequenceEqual(net4.Parameters), "dropout did not change training");
        Assert.NotEqual(r.History[0].TrainLoss, r4.History[0].TrainLoss);
    }

    /// <summary>Zero probabilities (with any seed) train bitwise the same as no dropout.</summary>
    [Fact]
    public void Trainer_WithZeroDropout_EqualsNoDropout()
    {
        SequenceData<float> train = Sine(0, 800), validation = Sine(800, 200);
        var a = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 1, [6], 1), 43);
        var b = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 1, [6], 1), 43);
        new Trainer<float>(a, DropoutTrainer(DropoutOptions.None) with { Epochs = 3 }).Fit(train, validation);
        new Trainer<float>(b, DropoutTrainer(new DropoutOptions(Seed: 77)) with { Epochs = 3 }).Fit(train, validation);
        Assert.True(MemoryMarshal.AsBytes(a.Parameters).SequenceEqual(MemoryMarshal.AsBytes(b.Parameters)));
    }

    /// <summary>
    /// The trainer draws new variational masks every epoch (it resets the engine each epoch): with dropout on the
    /// readout only and a learning rate of 1e-30 (SGD: below half an ulp of every weight), the weights never change, yet the per-epoch training losses differ.
    /// </summary>
    [Fact]
    public void Trainer_DrawsNewMasksEveryEpoch()
    {
        SequenceData<float> train = Sine(0, 800);
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [8], 1), 44);
        TrainingResult r = new Trainer<float>(net, DropoutTrainer(new DropoutOptions(Output: 0.5, Seed: 3)) with { LearningRate = 1e-30, Epochs = 3, Optimizer = OptimizerKind.Sgd }).Fit(train);
        Assert.Equal(3, r.History.Count);
        Assert.True(net.Parameters.SequenceEqual(new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [8], 1), 44).Parameters), "the weights moved");
        Assert.NotEqual(r.History[0].TrainLoss, r.History[1].TrainLoss);
        Assert.NotEqual(r.History[1].TrainLoss, r.History[2].TrainLoss);
        var none = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [8], 1), 44);
        TrainingResult r0 = new Trainer<float>(none, DropoutTrainer(DropoutOptions.None) with { LearningRate = 1e-30, Epochs = 2, Optimizer = OptimizerKind.Sgd }).Fit(train);
        Assert.Equal(r0.History[0].TrainLoss, r0.History[1].TrainLoss);
    }
}

/// <summary>
/// Training windows with dropout allocate nothing after warm-up (float, maxThreads 1, every cell, variational with
/// all three p > 0 and naive with input and readout dropout): ZeroGradients, one window, an SGD update and
/// MarkParametersChanged, and for the variational variant a Reset() (which redraws the masks) every 10 windows. Runs in
/// the non-parallel allocation collection; a measurement interrupted by any GC is void and repeated (see
/// <see cref="AllocationTests"/>), and an uninterrupted one must show exactly 0 bytes.
/// </summary>
[Collection(AllocationCollection.Name)]
public class DropoutAllocationTests
{
    private const int WarmUp = 3, Windows = 50, MaxAttempts = 20;

    public static TheoryData<CellType, DropoutVariant> Cases() => DropoutTests.CellsVariants();

    [Theory]
    [MemberData(nameof(Cases))]
    public void TrainingWindowWithDropout_AllocatesNothingAfterWarmUp(CellType cell, DropoutVariant variant)
    {
        const int batch = 4, tf = 5;
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(cell, 5, [16, 11], 3), 421);
        DropoutOptions d = variant == DropoutVariant.Naive
            ? new DropoutOptions(Input: 0.2, Output: 0.3, Variant: variant, Seed: 422)
            : new DropoutOptions(0.2, 0.25, 0.3, variant, 422);
        var engine = new TruncatedBptt<float>(net, batch, BpttSchedule.Default(tf), maxThreads: 1, dropout: d);
        float[] x = Convert<float>(Uniform(423, tf * batch * 5)), t = Convert<float>(Uniform(424, tf * batch * 3));
        var y = new float[t.Length];
        bool resets = variant == DropoutVariant.Variational;

        for (int i = 0; i < WarmUp; i++) TrainStep(net, engine, x, t, y, resets && i == 1);
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            (long, int, TimeSpan) gc = GcState();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Windows; i++) TrainStep(net, engine, x, t, y, resets && i % 10 == 9);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (GcState() != gc) continue;
            Assert.True(allocated == 0, $"{cell} {variant}: {allocated} bytes allocated over {Windows} windows with dropout after warm-up");
            Assert.True(float.IsFinite(net.Parameters[0]));
            return;
        }
        Assert.Fail($"{cell} {variant}: every one of {MaxAttempts} measurements was interrupted by a garbage collection; inconclusive.");
    }

    private static void TrainStep(RecurrentNetwork<float> net, TruncatedBptt<float> engine, float[] x, float[] t, float[] y, bool reset)
    {
        if (reset) engine.Reset();
        net.ZeroGradients();
        engine.Window(x, t, y);
        VectorMath.Axpy(-1e-3f, net.Gradients, net.Parameters);
        net.MarkParametersChanged();
    }

    private static (long, int, TimeSpan) GcState() =>
        (GC.GetGCMemoryInfo(GCKind.Any).Index, GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2), GC.GetTotalPauseDuration());
}
