using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Infrastructure;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Network;

/// <summary>
/// Stateful inference: <see cref="RecurrentNetwork{T}.Step"/> and <see cref="RecurrentNetwork{T}.Forward"/> over
/// caller-owned <see cref="NetworkState{T}"/>s, shared networks across threads, state semantics and shape errors.
/// </summary>
public class StatefulInferenceTests
{
    public static TheoryData<CellType, int, IsaPath> CellsLayersPaths()
    {
        var data = new TheoryData<CellType, int, IsaPath>();
        foreach (CellType c in AllCells)
            for (int layers = 1; layers <= 2; layers++)
                foreach (IsaPath p in TestPaths.All) data.Add(c, layers, p);
        return data;
    }

    private static NetworkArchitecture SmallArch(CellType cell, int layers, Activation act = Activation.Tanh) =>
        layers == 1 ? Arch(cell, 3, 2, act, 7) : Arch(cell, 3, 2, act, 7, 5);

    /// <summary>
    /// Four streams stepped as one batch give what each stream gives stepped alone with a batch-1 state. Bitwise in
    /// float, and in double for LSTM and GRU: every GEMM element is one dot product whose summation order depends only
    /// on K and the ISA path, not on M (the batch-1 one-row path included), and the gate math runs per batch row.
    /// Double Elman: within 1e-13 relative (see <see cref="Infrastructure.RecurrentTestKit.BatchIsBitwise{T}"/>).
    /// </summary>
    [Theory]
    [MemberData(nameof(CellsLayersPaths))]
    public void BatchStep_EqualsSteppingEachStreamSeparately(CellType cell, int layers, IsaPath path)
    {
        CheckBatchEqualsStreams<float>(cell, layers, path);
        CheckBatchEqualsStreams<double>(cell, layers, path);
    }

    internal static void CheckBatchEqualsStreams<T>(CellType cell, int layers, IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        const int streams = 4, steps = 12;
        var net = new RecurrentNetwork<T>(SmallArch(cell, layers), 301, path);
        int i = net.Architecture.InputSize, o = net.Architecture.OutputSize;
        T[] x = Convert<T>(Uniform(302, steps * streams * i));
        NetworkState<T> batch = net.CreateState(streams);
        var single = new NetworkState<T>[streams];
        for (int s = 0; s < streams; s++) single[s] = net.CreateState(1);
        var yb = new T[streams * o];
        var ys = new T[o];
        bool bitwise = BatchIsBitwise<T>(cell);
        for (int t = 0; t < steps; t++)
        {
            ReadOnlySpan<T> xt = x.AsSpan(t * streams * i, streams * i);
            net.Step(xt, yb, batch);
            for (int s = 0; s < streams; s++)
            {
                net.Step(xt.Slice(s * i, i), ys, single[s]);
                Assert.True(SameStreamValues<T>(yb.AsSpan(s * o, o), ys, bitwise), $"{typeof(T).Name} {cell} L={layers} {path}: step {t} stream {s}");
            }
        }
        for (int l = 0; l < layers; l++)
        {
            int h = net.Architecture.HiddenSizes[l];
            for (int s = 0; s < streams; s++)
            {
                Assert.True(SameStreamValues<T>(batch.Hidden(l).Slice(s * h, h), single[s].Hidden(l), bitwise));
                Assert.True(SameStreamValues<T>(cell == CellType.Lstm ? batch.Cell(l).Slice(s * h, h) : [], single[s].Cell(l), bitwise));
            }
        }
    }

    public static TheoryData<CellType, IsaPath> GatedCellsPaths()
    {
        var data = new TheoryData<CellType, IsaPath>();
        foreach (CellType c in new[] { CellType.Lstm, CellType.Gru })
            foreach (IsaPath p in TestPaths.All) data.Add(c, p);
        return data;
    }

    /// <summary>
    /// The batch-1 step of LSTM and GRU runs its own kernel (one pass per block of hidden units over [x; h]); it must
    /// equal the batched GEMM path bitwise at sizes with full blocks and a partial one on every path (H = 37 and
    /// 300 across panel widths 4 to 32), an input wider than one block, and H = 300 > 256 where the GEMM sums K in two
    /// blocks. Two layers, so the upper layer's input is the lower layer's new h.
    /// </summary>
    [Theory]
    [MemberData(nameof(GatedCellsPaths))]
    public void SingleStreamStep_EqualsBatchedRow_Bitwise_AtBlockAndKcEdges(CellType cell, IsaPath path)
    {
        CheckSingleEqualsBatch<float>(cell, path, Arch(cell, 40, 2, Activation.Tanh, 37, 300));
        CheckSingleEqualsBatch<double>(cell, path, Arch(cell, 5, 3, Activation.Tanh, 300, 37));
    }

    private static void CheckSingleEqualsBatch<T>(CellType cell, IsaPath path, NetworkArchitecture arch) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        const int streams = 3, steps = 4;
        var net = new RecurrentNetwork<T>(arch, 391, path);
        int i = arch.InputSize, o = arch.OutputSize;
        T[] x = Convert<T>(Uniform(392, steps * streams * i));
        NetworkState<T> batch = net.CreateState(streams);
        var single = new NetworkState<T>[streams];
        for (int s = 0; s < streams; s++) single[s] = net.CreateState(1);
        var yb = new T[streams * o];
        var ys = new T[o];
        for (int t = 0; t < steps; t++)
        {
            ReadOnlySpan<T> xt = x.AsSpan(t * streams * i, streams * i);
            net.Step(xt, yb, batch);
            for (int s = 0; s < streams; s++)
            {
                net.Step(xt.Slice(s * i, i), ys, single[s]);
                Assert.True(yb.AsSpan(s * o, o).SequenceEqual(ys), $"{typeof(T).Name} {cell} {path}: step {t} stream {s} output");
                for (int l = 0; l < arch.NumLayers; l++)
                {
                    int h = arch.HiddenSizes[l];
                    Assert.True(batch.Hidden(l).Slice(s * h, h).SequenceEqual(single[s].Hidden(l)), $"{typeof(T).Name} {cell} {path}: step {t} stream {s} h of layer {l}");
                    if (cell == CellType.Lstm) Assert.True(batch.Cell(l).Slice(s * h, h).SequenceEqual(single[s].Cell(l)), $"c of layer {l}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(CellsLayersPaths))]
    public void Forward_EqualsRepeatedStep(CellType cell, int layers, IsaPath path)
    {
        const int batch = 3, steps = 15;
        var net = new RecurrentNetwork<float>(SmallArch(cell, layers), 311, path);
        float[] x = Convert<float>(Uniform(312, steps * batch * 3));
        NetworkState<float> a = net.CreateState(batch), b = net.CreateState(batch);
        var y = new float[steps * batch * 2];
        net.Forward(x, y, a);
        var yt = new float[batch * 2];
        for (int t = 0; t < steps; t++)
        {
            net.Step(x.AsSpan(t * batch * 3, batch * 3), yt, b);
            Assert.True(yt.AsSpan().SequenceEqual(y.AsSpan(t * batch * 2, batch * 2)), $"step {t}");
        }
        for (int l = 0; l < layers; l++) Assert.True(a.Hidden(l).SequenceEqual(b.Hidden(l)));
    }

    [Fact]
    public void Forward_OfAnEmptySequence_DoesNothing()
    {
        var net = new RecurrentNetwork<float>(SmallArch(CellType.Gru, 1), 313);
        NetworkState<float> s = net.CreateState(2);
        s.Hidden(0).Fill(0.25f);
        net.Forward(ReadOnlySpan<float>.Empty, Span<float>.Empty, s);
        Assert.All(s.Hidden(0).ToArray(), v => Assert.Equal(0.25f, v));
    }

    // ------------------------------------------------------------------------------------------ state

    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void State_ResetCopyFromClone_Semantics(CellType cell)
    {
        var net = new RecurrentNetwork<double>(SmallArch(cell, 2), 321);
        double[] x = Uniform(322, 10 * 2 * 3);
        var y = new double[10 * 2 * 2];
        NetworkState<double> s = net.CreateState(2);
        Assert.Equal(2, s.BatchSize);
        Assert.Same(net.Architecture, s.Architecture);
        Assert.Equal(14, s.Hidden(0).Length);
        Assert.Equal(10, s.Hidden(1).Length);
        Assert.Equal(cell == CellType.Lstm ? 14 : 0, s.Cell(0).Length);
        Assert.All(s.Hidden(0).ToArray(), v => Assert.Equal(0.0, v));
        net.Forward(x, y, s);
        Assert.Contains(s.Hidden(1).ToArray(), v => v != 0);

        // Clone: same contents, independent storage.
        NetworkState<double> clone = s.Clone();
        Assert.Equal(s.Hidden(0).ToArray(), clone.Hidden(0).ToArray());
        Assert.Equal(s.Cell(1).ToArray(), clone.Cell(1).ToArray());
        double[] h1 = s.Hidden(1).ToArray();
        net.Forward(x, y, clone);
        Assert.Equal(h1, s.Hidden(1).ToArray());
        Assert.NotEqual(h1, clone.Hidden(1).ToArray());

        // CopyFrom: continuing from a copy gives the same outputs as continuing from the original.
        NetworkState<double> copy = net.CreateState(2);
        copy.CopyFrom(s);
        var y1 = new double[y.Length];
        var y2 = new double[y.Length];
        net.Forward(x, y1, s);
        net.Forward(x, y2, copy);
        Assert.Equal(y1, y2);

        // Reset: back to zero; the run after it equals the run of a fresh state.
        s.Reset();
        Assert.All(s.Hidden(0).ToArray(), v => Assert.Equal(0.0, v));
        Assert.All(s.Hidden(1).ToArray(), v => Assert.Equal(0.0, v));
        Assert.All(s.Cell(1).ToArray(), v => Assert.Equal(0.0, v));
        net.Forward(x, y1, s);
        net.Forward(x, y2, net.CreateState(2));
        Assert.Equal(y2, y1);
    }

    [Fact]
    public void State_Hidden_IsWritable_AndSetsTheInitialState()
    {
        var net = new RecurrentNetwork<double>(SmallArch(CellType.Lstm, 1), 331);
        double[] x = Uniform(332, 3);
        var y0 = new double[2];
        var y1 = new double[2];
        net.Step(x, y0, net.CreateState());
        NetworkState<double> s = net.CreateState();
        s.Hidden(0)[2] = 0.5;
        s.Cell(0)[4] = -0.5;
        net.Step(x, y1, s);
        Assert.NotEqual(y0, y1);
    }

    [Fact]
    public void State_CopyFrom_RejectsAnotherShape()
    {
        var net = new RecurrentNetwork<float>(SmallArch(CellType.Gru, 2), 341);
        var other = new RecurrentNetwork<float>(SmallArch(CellType.Lstm, 2), 341);
        NetworkState<float> s = net.CreateState(2);
        Assert.Equal("other", Assert.Throws<ArgumentException>(() => s.CopyFrom(net.CreateState(3))).ParamName);
        Assert.Equal("other", Assert.Throws<ArgumentException>(() => s.CopyFrom(other.CreateState(2))).ParamName);
        Assert.Throws<ArgumentNullException>(() => s.CopyFrom(null!));
        // Another network of an equal (not the same) architecture: accepted.
        var twin = new RecurrentNetwork<float>(SmallArch(CellType.Gru, 2), 999);
        s.CopyFrom(twin.CreateState(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.CreateState(0));
    }

    // ------------------------------------------------------------------------------------------ threads

    /// <summary>
    /// One network shared by 4 threads, each with its own state and its own stream, gives bitwise the outputs of a
    /// sequential run. The threads start together on a network whose packed weights are stale, so the lazy repack
    /// is raced too.
    /// </summary>
    [Theory]
    [InlineData(CellType.Elman, 2)]
    [InlineData(CellType.Lstm, 2)]
    [InlineData(CellType.Gru, 2)]
    [InlineData(CellType.Lstm, 1)] // batch 1 runs the fused step, whose packed weights are built lazily (raced here too)
    [InlineData(CellType.Gru, 1)]
    public void SharedNetwork_FourThreads_EachWithItsOwnState_MatchSequential(CellType cell, int batch)
    {
        const int threads = 4, steps = 300;
        var net = new RecurrentNetwork<float>(SmallArch(cell, 2), 351);
        var inputs = new float[threads][];
        var expected = new float[threads][];
        for (int k = 0; k < threads; k++)
        {
            inputs[k] = Convert<float>(Uniform(352 + (ulong)k, steps * batch * 3));
            expected[k] = new float[steps * batch * 2];
            net.Forward(inputs[k], expected[k], net.CreateState(batch));
        }

        net.MarkParametersChanged(); // the packs must be rebuilt by whichever thread gets there first
        var actual = new float[threads][];
        using var start = new Barrier(threads);
        var workers = new Thread[threads];
        var errors = new Exception?[threads];
        for (int k = 0; k < threads; k++)
        {
            int id = k;
            actual[id] = new float[steps * batch * 2];
            workers[id] = new Thread(() =>
            {
                try
                {
                    NetworkState<float> s = net.CreateState(batch);
                    var y = new float[batch * 2];
                    start.SignalAndWait();
                    for (int t = 0; t < steps; t++)
                    {
                        net.Step(inputs[id].AsSpan(t * batch * 3, batch * 3), y, s);
                        y.CopyTo(actual[id], t * batch * 2);
                    }
                }
                catch (Exception e) { errors[id] = e; }
            });
            workers[id].Start();
        }
        foreach (Thread w in workers) w.Join();
        for (int k = 0; k < threads; k++)
        {
            Assert.Null(errors[k]);
            Assert.Equal(expected[k], actual[k]);
        }
    }

    // ------------------------------------------------------------------------------------------ parameters

    [Fact]
    public void MarkParametersChanged_MakesTheNextStepUseTheNewWeights()
    {
        var net = new RecurrentNetwork<double>(SmallArch(CellType.Lstm, 2), 361);
        double[] x = Uniform(362, 3);
        var y0 = new double[2];
        var y1 = new double[2];
        net.Step(x, y0, net.CreateState());

        net.Parameter("readout.bias")[1] += 0.5;
        net.MarkParametersChanged();
        net.Step(x, y1, net.CreateState());
        Assert.Equal(y0[0], y1[0]);
        Assert.Equal(y0[1] + 0.5, y1[1], 1e-15);

        // A recurrent weight: the result now equals a fresh network holding the same parameters.
        net.Parameter("weight_ih_l1")[3] += 0.25;
        net.MarkParametersChanged();
        var twin = new RecurrentNetwork<double>(net.Architecture, 0);
        net.Parameters.CopyTo(twin.Parameters);
        twin.MarkParametersChanged();
        var y2 = new double[2];
        net.Step(x, y1, net.CreateState());
        twin.Step(x, y2, twin.CreateState());
        Assert.Equal(y2, y1);
    }

    // ------------------------------------------------------------------------------------------ bad input

    [Fact]
    public void Step_WrongShapes_ThrowArgumentException_NamingTheArgument()
    {
        var net = new RecurrentNetwork<float>(SmallArch(CellType.Elman, 1), 371);
        NetworkState<float> s = net.CreateState(2);
        var x = new float[2 * 3];
        var y = new float[2 * 2];

        var e = Assert.Throws<ArgumentException>(() => net.Step(x.AsSpan(1), y, s));
        Assert.Equal("input", e.ParamName);
        Assert.Contains("6", e.Message);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => net.Step(x, y.AsSpan(1), s)).ParamName);
        Assert.Throws<ArgumentNullException>(() => net.Step(x, y, null!));

        var other = new RecurrentNetwork<float>(SmallArch(CellType.Gru, 1), 371);
        e = Assert.Throws<ArgumentException>(() => net.Step(x, y, other.CreateState(2)));
        Assert.Equal("state", e.ParamName);
        var wider = new RecurrentNetwork<float>(Arch(CellType.Elman, 3, 2, Activation.Tanh, 8), 371);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => net.Step(x, y, wider.CreateState(2))).ParamName);
        var relu = new RecurrentNetwork<float>(SmallArch(CellType.Elman, 1, Activation.Relu), 371);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => net.Step(x, y, relu.CreateState(2))).ParamName);
        Assert.All(s.Hidden(0).ToArray(), v => Assert.Equal(0f, v)); // nothing ran

        // Longer spans are fine: only the first B x I / B x O elements are used.
        net.Step(new float[20], new float[20], s);
        // A state of an equal architecture from another network is accepted.
        net.Step(x, y, new RecurrentNetwork<float>(SmallArch(CellType.Elman, 1), 1).CreateState(2));
    }

    [Fact]
    public void Forward_WrongShapes_ThrowArgumentException_NamingTheArgument()
    {
        var net = new RecurrentNetwork<float>(SmallArch(CellType.Lstm, 2), 381);
        NetworkState<float> s = net.CreateState(2);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => net.Forward(new float[5 * 6 + 1], new float[5 * 4], s)).ParamName);
        Assert.Equal("outputs", Assert.Throws<ArgumentException>(() => net.Forward(new float[5 * 6], new float[5 * 4 - 1], s)).ParamName);
        Assert.Throws<ArgumentNullException>(() => net.Forward(new float[6], new float[4], null!));
        var other = new RecurrentNetwork<float>(SmallArch(CellType.Lstm, 1), 381);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => net.Forward(new float[6], new float[4], other.CreateState(2))).ParamName);
    }
}
