using FsCheck.Xunit;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Tests.Reference;
using Rnn.Simd.Training.Bptt;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Properties;

/// <summary>
/// FsCheck properties of <see cref="TruncatedBptt{T}"/> and inference over random shapes, schedules and seeds
/// (<see cref="RecurrentCase"/>): agreement with the independent reference of the same truncated objective,
/// invariance under the ring buffer's starting slot over long series, float against double on every ISA path, and
/// batched streams against separate ones. None of these needs finite differences, so each runs 25-40 cases in a few
/// seconds. Replay pins FsCheck's generator; tolerances are those of the deterministic tests and are explained there.
/// </summary>
public class TruncatedBpttProperties
{
    private static CellType CellOf(int raw) => AllCells[RecurrentCase.Pick(raw, 3)];

    private static Activation ActivationOf(int raw) => (Activation)RecurrentCase.Pick(raw, 3);

    /// <summary>Losses, outputs, dJ/dθ and dJ/d(h0, c0) equal the scalar reference's (1e-12, 1e-12, 1e-10, 1e-10
    /// relative, floor 1e-4 as in <see cref="Training.Bptt.TruncatedBpttReferenceTests"/>) on every ISA path, so random
    /// hidden sizes exercise every split between vector bodies and scalar tails. Elman cells draw tanh, ReLU or sigmoid.</summary>
    [Property(MaxTest = 40, StartSize = 100, EndSize = 1000, Replay = "(246813579,1618033989)")]
    public void TruncatedBptt_MatchesTheReferenceOfTheSameObjective(int cell, int act, bool stacked, int input, int h1, int h2, int output, int batch, int mode, int n, int windows, int seed)
    {
        var c = RecurrentCase.Decode(CellOf(cell), stacked, input, h1, h2, output, batch, mode, n, windows, seed, ActivationOf(act));
        RecurrentNetwork<double> first = c.Network();
        double[] x = c.Inputs(), t = c.Targets();
        NetworkState<double> init = c.InitialState(first);
        var reference = RecurrentReference.FromNetwork(first);
        RecurrentReference.Gradient expected = reference.TruncatedGradient(x, t, c.Batch, c.Schedule.BackwardSteps, c.Schedule.ForwardSteps,
            RecurrentReference.State.From(reference, init));

        foreach (IsaPath path in TestPaths.All)
        {
            RecurrentNetwork<double> net = c.Network(path);
            var engine = new TruncatedBptt<double>(net, c.Batch, c.Schedule);
            engine.Reset(init);
            var y = new double[t.Length];
            double[] losses = RunWindows(engine, x, t, y);

            string what = $"{c} on {path}";
            AssertClose(expected.WindowLosses, losses, 1e-12, 1e-4, $"window losses {what}");
            AssertClose(expected.Outputs, y, 1e-12, 1e-4, $"outputs {what}");
            AssertClose(expected.ToFlat(net.Layout), net.Gradients, 1e-10, 1e-4, $"parameter gradient {what}", net.Layout);
            for (int l = 0; l < c.Arch.NumLayers; l++)
            {
                AssertClose(expected.DInitH[l], engine.InitialHiddenGradient(l), 1e-10, 1e-4, $"dJ/dh0 layer {l} {what}");
                AssertClose(expected.DInitC[l], engine.InitialCellGradient(l), 1e-10, 1e-4, $"dJ/dc0 layer {l} {what}");
            }
        }
    }

    /// <summary>
    /// Series of up to 200 steps (the ring of τb slots wraps up to 200 times) started at a random ring slot give the
    /// same losses, outputs and gradients as slot 0: within 1e-12 relative (floor 1e-4), because only the
    /// weight-gradient GEMM's sum over the τb slots changes order with the slot, which moves a few ulps.
    /// </summary>
    [Property(MaxTest = 30, StartSize = 100, EndSize = 1000, Replay = "(135792468,2236067977)")]
    public void RingOffset_DoesNotChangeResults(int cell, bool stacked, int input, int h1, int h2, int output, int batch, int mode, int n, int windows, int seed, int offsetRaw)
    {
        var c = RecurrentCase.Decode(CellOf(cell), stacked, input, h1, h2, output, batch, mode, n, windows, seed, maxSteps: 200);
        int offset = RecurrentCase.Pick(offsetRaw, c.Schedule.BackwardSteps);
        RecurrentNetwork<double> net = c.Network();
        double[] x = c.Inputs(), t = c.Targets();

        (double[] losses, double[] outputs, double[] grads) Run(int slot)
        {
            var engine = new TruncatedBptt<double>(net, c.Batch, c.Schedule);
            engine.SetRingOffset(slot);
            net.ZeroGradients();
            var y = new double[t.Length];
            double[] l = RunWindows(engine, x, t, y);
            return (l, y, net.Gradients.ToArray());
        }

        var a = Run(0);
        var b = Run(offset);
        string what = $"{c} offset {offset}";
        AssertClose(a.losses, b.losses, 1e-12, 1e-4, $"losses {what}");
        AssertClose(a.outputs, b.outputs, 1e-12, 1e-4, $"outputs {what}");
        AssertClose(a.grads, b.grads, 1e-12, 1e-4, $"gradients {what}", net.Layout);
    }

    /// <summary>
    /// float on every supported path against double with the same float-rounded parameters and data: losses within
    /// 1e-4 relative, gradients within 1e-3 norm-relative (justified in
    /// <see cref="Training.Bptt.TruncatedBpttTests.FloatPath_AgreesWithDouble"/>). tanh Elman, LSTM and GRU.
    /// </summary>
    [Property(MaxTest = 25, StartSize = 100, EndSize = 1000, Replay = "(975318642,2645751311)")]
    public void FloatAgreesWithDouble_OnEveryPath(int cell, bool stacked, int input, int h1, int h2, int output, int batch, int mode, int n, int windows, int seed)
    {
        var c = RecurrentCase.Decode(CellOf(cell), stacked, input, h1, h2, output, batch, mode, n, windows, seed);
        RecurrentNetwork<double> net = c.Network();
        RoundParametersToFloat(net);
        float[] xf = Convert<float>(c.Inputs()), tf = Convert<float>(c.Targets());
        var engine = new TruncatedBptt<double>(net, c.Batch, c.Schedule);
        net.ZeroGradients();
        double[] losses = RunWindows<double>(engine, ToDouble<float>(xf), ToDouble<float>(tf));
        double[] grads = net.Gradients.ToArray();

        foreach (IsaPath path in TestPaths.All)
        {
            RecurrentNetwork<float> netF = Copy<double, float>(net, path);
            var engineF = new TruncatedBptt<float>(netF, c.Batch, c.Schedule);
            double[] lossesF = RunWindows<float>(engineF, xf, tf);
            string what = $"{c} float on {path}";
            AssertClose(losses, lossesF, 1e-4, 1e-4, $"losses {what}");
            double err = NormRelativeError(grads, ToDouble<float>(netF.Gradients));
            Assert.True(err <= 1e-3, $"gradient norm-relative error {err:E3} > 1e-3: {what}");
        }
    }

    /// <summary>Streams stepped as one batch equal each stream stepped alone, in float and double on every path:
    /// bitwise except for double Elman cells, which agree to 1e-13 (see <see cref="Infrastructure.RecurrentTestKit.BatchIsBitwise{T}"/>).</summary>
    [Property(MaxTest = 25, StartSize = 100, EndSize = 1000, Replay = "(864209753,3316624791)")]
    public void BatchedStreams_EqualSeparateStreams(int cell, int act, int input, int h1, int h2, int output, int streams, int steps, int seed)
    {
        var c = RecurrentCase.Decode(CellOf(cell), true, input, h1, h2, output, streams, 0, 0, steps, seed, ActivationOf(act));
        foreach (IsaPath path in TestPaths.All)
        {
            CheckStreams<float>(c, path);
            CheckStreams<double>(c, path);
        }
    }

    private static void CheckStreams<T>(RecurrentCase c, IsaPath path) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        int streams = c.Batch + 1, i = c.Arch.InputSize, o = c.Arch.OutputSize; // 2..4 streams
        var net = new RecurrentNetwork<T>(c.Arch, c.Seed, path);
        T[] x = Convert<T>(Uniform(c.Seed + 7, c.Steps * streams * i));
        NetworkState<T> batch = net.CreateState(streams);
        var single = new NetworkState<T>[streams];
        for (int s = 0; s < streams; s++) single[s] = net.CreateState();
        var yb = new T[streams * o];
        var ys = new T[o];
        bool bitwise = BatchIsBitwise<T>(c.Arch.Cell);
        for (int t = 0; t < c.Steps; t++)
        {
            net.Step(x.AsSpan(t * streams * i, streams * i), yb, batch);
            for (int s = 0; s < streams; s++)
            {
                net.Step(x.AsSpan((t * streams + s) * i, i), ys, single[s]);
                Assert.True(SameStreamValues<T>(yb.AsSpan(s * o, o), ys, bitwise), $"{typeof(T).Name} {c.Arch} {path}: step {t} stream {s}");
            }
        }
    }
}
