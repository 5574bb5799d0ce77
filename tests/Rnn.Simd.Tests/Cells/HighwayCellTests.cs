using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Recurrent;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Tests.Reference;
using Rnn.Simd.Tests.Training;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Initialization;
using Rnn.Simd.Training.Regularization;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Cells;

/// <summary>
/// The recurrent highway cell (<see cref="CellType.Highway"/>): its fused micro-layer kernel on every ISA path against
/// scalar double formulas; the network's forward and its full-BPTT gradient against <see cref="HighwayReference"/>
/// (independent scalar double code); analytic TBPTT gradients against finite differences at depth 1 and 3, one and
/// two layers, every BPTT kind (≤ 1e-6); the parameter layout (existing cells unchanged, depth ≥ 1, the micro-layer
/// names); the transform-gate bias; zero allocation after warm-up; model-file and checkpoint round trips of the depth;
/// and the safetensors refusal.
/// </summary>
public unsafe class HighwayCellTests
{
    private static NetworkArchitecture Rhn(int depth, params int[] hidden) => new(CellType.Highway, 3, hidden, 2, Activation.Tanh, depth);

    public static TheoryData<IsaPath> Paths() => TestPaths.Data();

    // ------------------------------------------------------------------------------------------------ kernel

    [Theory]
    [MemberData(nameof(Paths))]
    public void Kernel_MatchesScalarFormulas_OnEveryPath(IsaPath path)
    {
        foreach (int h in new[] { 1, 3, 7, 8, 15, 16, 17, 33, 64, 70, 129 })
        {
            for (int batch = 1; batch <= 3; batch++)
            {
                KernelCase<double>(path, batch, h, 1e-12);
                KernelCase<float>(path, batch, h, 2e-6);
            }
        }
    }

    private static void KernelCase<T>(IsaPath path, int batch, int h, double tol) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ulong seed = (ulong)(batch * 1000 + h);
        double[] a = Uniform(seed, batch * 2 * h, -3, 3), sp = Uniform(seed + 1, batch * h), ds = Uniform(seed + 2, batch * h);
        T[] gates = Convert<T>(a), sPrev = Convert<T>(sp), s = new T[batch * h], dG = new T[batch * 2 * h], dsp = new T[batch * h], dsv = Convert<T>(ds);
        Array.Fill(s, T.NaN); Array.Fill(dG, T.NaN); Array.Fill(dsp, T.NaN);
        fixed (T* pg = gates, pp = sPrev, ps = s, pdg = dG, pdsp = dsp, pds = dsv)
        {
            HighwayKernels.Forward(path, batch, h, pg, pp, ps);
            HighwayKernels.Backward(path, batch, h, pg, pp, pds, pdg, pdsp);
        }
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < h; j++)
            {
                // Rounded inputs, so float is compared with the formulas of the values it actually saw.
                double aH = double.CreateTruncating(T.CreateTruncating(a[b * 2 * h + j])), aT = double.CreateTruncating(T.CreateTruncating(a[b * 2 * h + h + j]));
                double p = double.CreateTruncating(sPrev[b * h + j]), d = double.CreateTruncating(dsv[b * h + j]);
                double hc = Math.Tanh(aH), t = 1 / (1 + Math.Exp(-aT)), sv = hc * t + p * (1 - t);
                string at = $"{typeof(T).Name} {path} B={batch} H={h} b={b} j={j}";
                Near(hc, gates[b * 2 * h + j], tol, "h̃ " + at);
                Near(t, gates[b * 2 * h + h + j], tol, "t " + at);
                Near(sv, s[b * h + j], 2 * tol, "s " + at);
                Near(d * t * (1 - hc * hc), dG[b * 2 * h + j], 4 * tol, "da_H " + at);
                Near(d * (hc - p) * t * (1 - t), dG[b * 2 * h + h + j], 4 * tol, "da_T " + at);
                Near(d * (1 - t), dsp[b * h + j], 4 * tol, "ds_prev " + at);
            }
        }
    }

    private static void Near<T>(double expected, T actual, double tol, string what) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double v = double.CreateTruncating(actual);
        Assert.True(Math.Abs(v - expected) <= tol * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected:R}, got {v:R}");
    }

    // ------------------------------------------------------------------------------------------------ reference

    private static HighwayReference ReferenceOf(RecurrentNetwork<double> net)
    {
        NetworkArchitecture a = net.Architecture;
        var r = new HighwayReference(a.InputSize, [.. a.HiddenSizes], a.OutputSize, a.RecurrenceDepth);
        for (int l = 0; l < a.NumLayers; l++)
        {
            int h = a.HiddenSizes[l], i = a.LayerInputSize(l);
            Span<double> w = net.Parameter($"weight_ih_l{l}");
            for (int row = 0; row < 2 * h; row++) for (int k = 0; k < i; k++) r.W[l][row, k] = w[row * i + k];
            for (int m = 0; m < a.RecurrenceDepth; m++)
            {
                Span<double> rr = net.Parameter(m == 0 ? $"weight_hh_l{l}" : $"weight_hh_l{l}_d{m}");
                for (int row = 0; row < 2 * h; row++) for (int k = 0; k < h; k++) r.R[l][m][row, k] = rr[row * h + k];
                for (int row = 0; row < 2 * h; row++)
                    r.B[l][m][row] = m == 0 ? net.Parameter($"bias_ih_l{l}")[row] + net.Parameter($"bias_hh_l{l}")[row] : net.Parameter($"bias_hh_l{l}_d{m}")[row];
            }
        }
        Span<double> wo = net.Parameter("readout.weight");
        for (int o = 0; o < a.OutputSize; o++) for (int k = 0; k < a.TopHiddenSize; k++) r.Wout[o, k] = wo[o * a.TopHiddenSize + k];
        for (int o = 0; o < a.OutputSize; o++) r.Bout[o] = net.Parameter("readout.bias")[o];
        return r;
    }

    private static double[][][] Shape(double[] flat, int steps, int batch, int n)
    {
        var r = new double[steps][][];
        for (int t = 0; t < steps; t++)
        {
            r[t] = new double[batch][];
            for (int b = 0; b < batch; b++) r[t][b] = flat.AsSpan((t * batch + b) * n, n).ToArray();
        }
        return r;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(1, 2)]
    [InlineData(3, 2)]
    public void Forward_MatchesScalarReference_OnEveryPath(int depth, int layers)
    {
        const int steps = 6, batch = 2;
        NetworkArchitecture arch = layers == 1 ? Rhn(depth, 9) : Rhn(depth, 9, 5);
        double[] x = Uniform(11, steps * batch * 3);
        foreach (IsaPath path in TestPaths.All)
        {
            var net = new RecurrentNetwork<double>(arch, 7, path);
            HighwayReference.Trace tr = ReferenceOf(net).Forward(Shape(x, steps, batch, 3));
            var y = new double[steps * batch * 2];
            net.Forward(x, y, net.CreateState(batch));
            var yf = new float[y.Length];
            RecurrentNetwork<float> f = Copy<double, float>(net, path);
            f.Forward(Convert<float>(x), yf, f.CreateState(batch));
            for (int t = 0; t < steps; t++)
                for (int b = 0; b < batch; b++)
                    for (int o = 0; o < 2; o++)
                    {
                        double e = tr.Y[t][b][o];
                        Assert.True(Math.Abs(y[(t * batch + b) * 2 + o] - e) <= 1e-12, $"{path} L={depth} t={t} b={b} o={o}: {y[(t * batch + b) * 2 + o]:R} vs {e:R}");
                        Assert.True(Math.Abs(yf[(t * batch + b) * 2 + o] - e) <= 2e-5, $"float {path} L={depth} t={t}: {yf[(t * batch + b) * 2 + o]:R} vs {e:R}");
                    }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(3, 2)]
    public void FullBpttGradient_MatchesScalarReference(int depth, int layers)
    {
        // One window of BPTT(n, n) from the zero state is full BPTT of that window's loss: its gradient is the
        // reference's gradient of J = Σ p·y with p = dLoss/dy, proportional to (y - target); the loss's constant factor
        // is read off readout.bias and must then fit every other parameter.
        const int steps = 5, batch = 2;
        NetworkArchitecture arch = layers == 1 ? Rhn(depth, 6) : Rhn(depth, 6, 4);
        var net = new RecurrentNetwork<double>(arch, 21);
        double[] x = Uniform(22, steps * batch * 3), target = Uniform(23, steps * batch * 2);
        var y = new double[target.Length];
        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Epochwise(steps), maxThreads: 1);
        net.ZeroGradients();
        engine.Window(x, target, y);
        HighwayReference r = ReferenceOf(net);
        HighwayReference.Trace tr = r.Forward(Shape(x, steps, batch, 3));
        var p = new double[y.Length];
        for (int i = 0; i < p.Length; i++) p[i] = tr.Y[i / (batch * 2)][i / 2 % batch][i % 2] - target[i];
        HighwayReference.Grad g = r.Backward(tr, Shape(p, steps, batch, 2));
        double k = net.Gradient("readout.bias")[0] / g.Bout[0];
        Assert.True(k > 0 && double.IsFinite(k));
        void Expect(string name, double expected, int index)
        {
            double actual = net.Gradient(name)[index];
            Assert.True(Math.Abs(actual - k * expected) <= 1e-10 * Math.Max(1e-3, Math.Abs(k * expected)) + 1e-14, $"{name}[{index}]: {actual:R} vs {k * expected:R}");
        }
        for (int l = 0; l < arch.NumLayers; l++)
        {
            int h = arch.HiddenSizes[l], i = arch.LayerInputSize(l);
            for (int row = 0; row < 2 * h; row++)
            {
                for (int c = 0; c < i; c++) Expect($"weight_ih_l{l}", g.W[l][row, c], row * i + c);
                Expect($"bias_ih_l{l}", g.B[l][0][row], row);
                Expect($"bias_hh_l{l}", g.B[l][0][row], row);
                for (int m = 0; m < depth; m++)
                {
                    for (int c = 0; c < h; c++) Expect(m == 0 ? $"weight_hh_l{l}" : $"weight_hh_l{l}_d{m}", g.R[l][m][row, c], row * h + c);
                    if (m > 0) Expect($"bias_hh_l{l}_d{m}", g.B[l][m][row], row);
                }
            }
        }
        for (int o = 0; o < 2; o++)
            for (int c = 0; c < arch.TopHiddenSize; c++) Expect("readout.weight", g.Wout[o, c], o * arch.TopHiddenSize + c);
    }

    // ------------------------------------------------------------------------------------------------ finite differences

    public static TheoryData<int, int, string> GradientCases()
    {
        var data = new TheoryData<int, int, string>();
        foreach (int depth in new[] { 1, 3 })
            for (int layers = 1; layers <= 2; layers++)
                foreach (string mode in new[] { "n,1", "n,n", "2n,n", "5,2" }) data.Add(depth, layers, mode);
        return data;
    }

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void AnalyticGradient_EqualsFiniteDifferences(int depth, int layers, string mode)
    {
        const int batch = 2, steps = 12;
        BpttSchedule schedule = BpttSchedule.Parse(mode, 3);
        NetworkArchitecture arch = layers == 1 ? Rhn(depth, 4) : Rhn(depth, 4, 3);
        var net = new RecurrentNetwork<double>(arch, 201);
        double[] x = Uniform(202, steps * batch * 3), target = Uniform(203, steps * batch * 2);
        NetworkState<double> init = Rnn.Simd.Tests.Training.Bptt.TruncatedBpttReferenceTests.RandomState(net, batch, 204);
        GradientCheckReport report = GradientCheck.Run(net, x, target, batch, schedule, init);
        Assert.True(report.MaxRelativeError <= GradientCheckTests.Tolerance, $"{arch} {GradientCheckTests.Format(report)}");
        Assert.Equal(net.Layout.Slices.Count, report.Parameters.Count);
        Assert.Equal(x.Length, report.Inputs.Checked);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void AnalyticGradient_WithDropout_MatchesFiniteDifferencesOfTheMaskedObjective(int depth)
    {
        // Variational masks are fixed per sequence: with input (x of micro-layer 1), recurrent (s_0 where it enters R_1)
        // and output dropout on, the gradient is that of a fixed function.
        const int batch = 2, steps = 9;
        var net = new RecurrentNetwork<double>(Rhn(depth, 5, 3), 301);
        double[] x = Uniform(302, steps * batch * 3), target = Uniform(303, steps * batch * 2);
        var dropout = new DropoutOptions(0.2, 0.3, 0.2, DropoutVariant.Variational, 5);
        GradientCheckReport report = GradientCheck.Run(net, x, target, batch, BpttSchedule.Default(3), null, dropout: dropout);
        Assert.True(report.MaxRelativeError <= GradientCheckTests.Tolerance, GradientCheckTests.Format(report));
    }

    // ------------------------------------------------------------------------------------------------ layout

    [Fact]
    public void Layout_DeclaresTheMicroLayerSlices_AndKeepsEveryOtherCellUnchanged()
    {
        var net = new RecurrentNetwork<double>(Rhn(3, 4, 3), 1);
        string[] names = [.. net.Layout.Slices.Select(s => s.Name)];
        Assert.Equal(
        [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hh_l0_d1", "bias_hh_l0_d1", "weight_hh_l0_d2", "bias_hh_l0_d2",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1", "weight_hh_l1_d1", "bias_hh_l1_d1", "weight_hh_l1_d2", "bias_hh_l1_d2",
            "readout.weight", "readout.bias",
        ], names);
        Assert.Equal((8, 3), (net.Layout["weight_ih_l0"].Rows, net.Layout["weight_ih_l0"].Columns));
        Assert.Equal((8, 4), (net.Layout["weight_hh_l0_d2"].Rows, net.Layout["weight_hh_l0_d2"].Columns));
        Assert.Equal((6, 4), (net.Layout["weight_ih_l1"].Rows, net.Layout["weight_ih_l1"].Columns));
        Assert.Equal(8 * 3 + 3 * (8 * 4 + 8) + 8 + 6 * 4 + 3 * (6 * 3 + 6) + 6 + 2 * 3 + 2, net.Layout.TotalLength);
        // Depth 1 is the standard four-slice layout, like every other cell's.
        Assert.Equal(6, new ParameterLayout(Rhn(1, 4)).Slices.Count);
        foreach (CellType c in AllCells) Assert.Equal(10, new ParameterLayout(new NetworkArchitecture(c, 3, [4, 3], 2)).Slices.Count);
    }

    [Fact]
    public void Depth_IsValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Rhn(0, 4));
        foreach (CellType c in AllCells) Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkArchitecture(c, 3, [4], 2, Activation.Tanh, 2));
        Assert.Equal(1, new NetworkArchitecture(CellType.Lstm, 3, [4], 2).RecurrenceDepth);
        Assert.NotEqual(Rhn(2, 4), Rhn(3, 4));
        Assert.Equal(Rhn(3, 4), Rhn(3, 4));
    }

    [Fact]
    public void TransformBias_StartsNegative_AndIsAnOption()
    {
        var net = new RecurrentNetwork<double>(Rhn(2, 4), 5);
        Assert.All(net.Parameter("bias_ih_l0")[4..].ToArray(), v => Assert.Equal(-2.0, v));
        Assert.All(net.Parameter("bias_hh_l0")[4..].ToArray(), v => Assert.Equal(0.0, v));
        Assert.All(net.Parameter("bias_hh_l0_d1")[4..].ToArray(), v => Assert.Equal(-2.0, v));
        Initializers.Initialize(net, new InitializationOptions { HighwayTransformBias = -3.5 }, 9);
        Assert.All(net.Parameter("bias_ih_l0")[4..].ToArray(), v => Assert.Equal(-3.5, v));
        Assert.All(net.Parameter("bias_hh_l0_d1")[4..].ToArray(), v => Assert.Equal(-3.5, v));
        Assert.All(net.Parameter("bias_hh_l0_d1")[..4].ToArray(), v => Assert.Equal(0.0, v));
    }

    // ------------------------------------------------------------------------------------------------ persistence

    [Fact]
    public void ModelFile_RoundTripsTheDepth_AndSafeTensorsRefusesHighway()
    {
        var net = new RecurrentNetwork<float>(Rhn(3, 5, 4), 31);
        string path = Path.Combine(Path.GetTempPath(), $"rhn-{Environment.ProcessId}-{Guid.NewGuid():N}.rnn");
        try
        {
            ModelFile.Save(path, net);
            RecurrentNetwork<float> back = ModelFile.Load(path).FloatNetwork!;
            Assert.Equal(net.Architecture, back.Architecture);
            Assert.Equal(3, back.Architecture.RecurrenceDepth);
            Assert.Equal(net.Parameters.ToArray(), back.Parameters.ToArray());
            float[] x = Convert<float>(Uniform(32, 4 * 3));
            float[] y1 = new float[4 * 2], y2 = new float[4 * 2];
            net.Forward(x, y1, net.CreateState(1));
            back.Forward(x, y2, back.CreateState(1));
            Assert.Equal(y1, y2);
            var e = Assert.Throws<NotSupportedException>(() => SafeTensorsModel.ToFile<float>([net]));
            Assert.Contains("highway", e.Message, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // ------------------------------------------------------------------------------------------------ allocation

    [Fact]
    public void TrainingAndInference_AllocateNothingAfterWarmUp()
    {
        RhnAllocation.Run();
    }
}

/// <summary>Zero-allocation check of RHN (training window with recurrent dropout off, inference step), run in the
/// allocation collection.</summary>
[Collection(Rnn.Simd.Tests.Kernels.AllocationCollection.Name)]
public class RhnAllocationTests
{
    [Fact]
    public void TrainingWindowAndStep_AllocateNothingAfterWarmUp() => RhnAllocation.Run();
}

internal static class RhnAllocation
{
    public static void Run()
    {
        const int batch = 4, tf = 5;
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Highway, 5, [16, 11], 3, Activation.Tanh, 3), 401);
        var engine = new TruncatedBptt<float>(net, batch, BpttSchedule.Default(tf), maxThreads: 1);
        float[] x = Convert<float>(Uniform(402, tf * batch * 5)), t = Convert<float>(Uniform(403, tf * batch * 3));
        var y = new float[t.Length];
        for (int i = 0; i < 3; i++) Train(net, engine, x, t, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) Train(net, engine, x, t, y);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"training: {allocated} bytes");

        NetworkState<float> s = net.CreateState(1);
        float[] xs = Convert<float>(Uniform(404, 5));
        var ys = new float[3];
        for (int i = 0; i < 3; i++) net.Step(xs, ys, s);
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 500; i++) net.Step(xs, ys, s);
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"inference: {allocated} bytes");
    }

    private static void Train(RecurrentNetwork<float> net, TruncatedBptt<float> engine, float[] x, float[] t, float[] y)
    {
        net.ZeroGradients();
        engine.Window(x, t, y);
        VectorMath.Axpy(-1e-3f, net.Gradients, net.Parameters);
        net.MarkParametersChanged();
    }
}
