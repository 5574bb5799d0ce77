using Rnn.Simd.Alternatives.Rtrl;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Rtrl;

/// <summary>
/// <see cref="RtrlGradient{T}"/> against independent formulations: full BPTT (reverse mode, the library's
/// <see cref="TruncatedBptt{T}"/> with τb = τf = S and batch 1: a different algorithm over different code) of the same
/// sequence loss, central finite differences of the network's own forward (<see cref="SequenceLoss.WeightedMse"/>),
/// and finite differences of the outputs for the output Jacobian.
/// </summary>
/// <remarks>
/// Tolerances: RTRL and BPTT compute the same sums in another order (forward-mode products vs backward GEMMs over the
/// window); in double over 30 steps that leaves ~1e-14 absolute, so 1e-10 relative (the bound) with the
/// 1e-4 floor of <see cref="GradientCheck.RelativeErrorFloor"/> for entries that cancel to ~0. Finite differences use
/// the fourth-order stencil with h = 1e-3 (truncation O(h⁴) ~ 1e-12, round-off ~1e-13 / h), so 1e-7.
/// </remarks>
public class RtrlGradientTests
{
    private const int Steps = 30, Inputs = 3, Outputs = 2;

    public static TheoryData<CellType, Activation, int, bool> Cases()
    {
        var data = new TheoryData<CellType, Activation, int, bool>();
        foreach (bool weighted in new[] { false, true })
        {
            foreach (Activation act in new[] { Activation.Tanh, Activation.Relu, Activation.Sigmoid }) data.Add(CellType.Elman, act, 1, weighted);
            data.Add(CellType.Elman, Activation.Tanh, 2, weighted);
            data.Add(CellType.Lstm, Activation.Tanh, 1, weighted);
            data.Add(CellType.Lstm, Activation.Tanh, 2, weighted);
            data.Add(CellType.Gru, Activation.Tanh, 1, weighted);
            data.Add(CellType.Gru, Activation.Tanh, 2, weighted);
        }
        return data;
    }

    internal static NetworkArchitecture SmallArch(CellType cell, Activation act, int layers) =>
        layers == 1 ? Arch(cell, Inputs, Outputs, act, 5) : Arch(cell, Inputs, Outputs, act, 5, 4);

    /// <summary>A seeded sequence; with <paramref name="weighted"/> target weights in [0, 2) with about a third exactly 0.</summary>
    internal static SequenceData<double> Data(ulong seed, int steps, bool weighted)
    {
        double[] x = Uniform(seed, steps * Inputs), t = Uniform(seed + 1, steps * Outputs);
        double[]? w = null;
        if (weighted)
        {
            w = Uniform(seed + 2, steps * Outputs, -1, 2);
            for (int i = 0; i < w.Length; i++) w[i] = Math.Max(w[i], 0);
        }
        return new SequenceData<double>(x, t, Inputs, Outputs, w);
    }

    private static double[] BpttGradient(RecurrentNetwork<double> net, SequenceData<double> data, out double loss)
    {
        var engine = new TruncatedBptt<double>(net, 1, BpttSchedule.Create(data.Steps, data.Steps));
        engine.Reset();
        net.ZeroGradients();
        loss = engine.Window(data.Inputs, data.Targets, default, data.TargetWeights);
        return net.Gradients.ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FrozenWeights_AccumulatedGradient_EqualsFullBptt(CellType cell, Activation act, int layers, bool weighted)
    {
        foreach (IsaPath path in TestPaths.All)
        {
            var net = new RecurrentNetwork<double>(SmallArch(cell, act, layers), 31, path);
            SequenceData<double> data = Data(32, Steps, weighted);
            double[] expected = BpttGradient(net, data, out double bpttLoss);

            var rtrl = new RtrlGradient<double>(net);
            var g = new double[net.Parameters.Length];
            double loss = rtrl.AccumulateSequence(data, g);

            Assert.True(Math.Abs(loss - bpttLoss) <= 1e-12 * bpttLoss, $"loss {loss:R} vs BPTT {bpttLoss:R}");
            AssertClose(expected, g, 1e-10, 1e-4, $"RTRL vs BPTT {cell}({act}) L={layers} weighted={weighted} {path}", net.Layout);
            Assert.True(NormRelativeError(expected, g) <= 1e-12, $"norm-relative error {NormRelativeError(expected, g):E2}");
        }
    }

    [Theory]
    [InlineData(CellType.Elman, 1)]
    [InlineData(CellType.Lstm, 1)]
    [InlineData(CellType.Gru, 1)]
    [InlineData(CellType.Lstm, 2)]
    [InlineData(CellType.Gru, 2)]
    public void Gradient_MatchesFiniteDifferencesOfTheNetworkForward(CellType cell, int layers)
    {
        var net = new RecurrentNetwork<double>(SmallArch(cell, Activation.Tanh, layers), 41);
        SequenceData<double> data = Data(42, 20, weighted: true);
        var g = new double[net.Parameters.Length];
        new RtrlGradient<double>(net).AccumulateSequence(data, g);

        NetworkState<double> state = net.CreateState(1);
        var y = new double[Outputs];
        double Loss() => SequenceLoss.WeightedMse(net, state, y, null, data);
        const double h = 1e-3;
        var numeric = new double[g.Length];
        for (int i = 0; i < g.Length; i++)
        {
            double p = net.Parameters[i];
            double F(double d) { net.Parameters[i] = p + d; net.MarkParametersChanged(); return Loss(); }
            numeric[i] = (8 * (F(h) - F(-h)) - (F(2 * h) - F(-2 * h))) / (12 * h);
            net.Parameters[i] = p;
            net.MarkParametersChanged();
        }
        AssertClose(numeric, g, 1e-7, 1e-4, $"RTRL vs finite differences {cell} L={layers}", net.Layout);
    }

    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void OutputJacobian_MatchesFiniteDifferencesOfTheOutput(CellType cell)
    {
        var net = new RecurrentNetwork<double>(SmallArch(cell, Activation.Tanh, 2), 51);
        SequenceData<double> data = Data(52, 12, weighted: false);
        var rtrl = new RtrlGradient<double>(net);
        int n = net.Parameters.Length, steps = data.Steps;
        var y = new double[Outputs];
        rtrl.Reset();
        for (int t = 0; t < steps; t++) rtrl.Step(data.Inputs.AsSpan(t * Inputs, Inputs), y);
        var jacobian = new double[Outputs * n];
        jacobian.AsSpan().Fill(double.NaN); // every element must be written
        rtrl.OutputJacobian(jacobian);

        // The last step's outputs as a function of each parameter, by the network's own forward.
        NetworkState<double> state = net.CreateState(1);
        var all = new double[steps * Outputs];
        double LastOutput(int k) { state.Reset(); net.Forward(data.Inputs, all, state); return all[(steps - 1) * Outputs + k]; }
        const double h = 1e-3;
        var numeric = new double[Outputs * n];
        for (int i = 0; i < n; i++)
        {
            double p = net.Parameters[i];
            for (int k = 0; k < Outputs; k++)
            {
                double F(double d) { net.Parameters[i] = p + d; net.MarkParametersChanged(); return LastOutput(k); }
                numeric[k * n + i] = (8 * (F(h) - F(-h)) - (F(2 * h) - F(-2 * h))) / (12 * h);
            }
            net.Parameters[i] = p;
            net.MarkParametersChanged();
        }
        AssertClose(numeric, jacobian, 1e-7, 1e-4, $"output Jacobian {cell}");
    }

    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void Step_OutputsEqualTheNetworksForward(CellType cell)
    {
        var net = new RecurrentNetwork<double>(SmallArch(cell, Activation.Tanh, 2), 61);
        SequenceData<double> data = Data(62, 25, weighted: false);
        var expected = new double[data.Targets.Length];
        net.Forward(data.Inputs, expected, net.CreateState(1));
        var rtrl = new RtrlGradient<double>(net);
        var y = new double[data.Targets.Length];
        for (int t = 0; t < data.Steps; t++) rtrl.Step(data.Inputs.AsSpan(t * Inputs, Inputs), y.AsSpan(t * Outputs, Outputs));
        AssertClose(expected, y, 1e-13, 1e-2, $"outputs {cell}");
    }

    /// <summary>
    /// An input-to-output readout (y = W_o h + b + W_xo x, <see cref="NetworkArchitecture.InputToOutput"/>) with a
    /// random, non-zero W_xo: outputs equal the network's forward, the gradient equals full BPTT's (which trains W_xo
    /// like readout.weight) and the output Jacobian's finite differences, for every cell.
    /// </summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void InputToOutputReadout_IsPartOfTheGradientAndTheJacobian(CellType cell)
    {
        var net = new RecurrentNetwork<double>(SmallArch(cell, Activation.Tanh, 2).WithInputToOutput(true), 81);
        Uniform(82, Outputs * Inputs, -0.9, 0.9).CopyTo(net.Parameter(ParameterLayout.InputToOutputName));
        net.MarkParametersChanged();
        SequenceData<double> data = Data(83, 20, weighted: true);
        double[] expected = BpttGradient(net, data, out double bpttLoss);
        var rtrl = new RtrlGradient<double>(net);
        var g = new double[net.Parameters.Length];
        double loss = rtrl.AccumulateSequence(data, g);
        Assert.True(Math.Abs(loss - bpttLoss) <= 1e-12 * bpttLoss, $"loss {loss:R} vs BPTT {bpttLoss:R}");
        AssertClose(expected, g, 1e-10, 1e-4, $"RTRL vs BPTT {cell} with input-to-output", net.Layout);
        ParameterSlice xo = net.Layout[ParameterLayout.InputToOutputName];
        Assert.True(NormRelativeError(new double[xo.Length], g.AsSpan(xo.Offset, xo.Length)) > 0, "readout.input_weight got no gradient");

        // Output Jacobian of the last step against central differences of the network's own forward.
        int n = net.Parameters.Length;
        var y = new double[Outputs];
        rtrl.Reset();
        for (int t = 0; t < data.Steps; t++) rtrl.Step(data.Inputs.AsSpan(t * Inputs, Inputs), y);
        var jacobian = new double[Outputs * n];
        rtrl.OutputJacobian(jacobian);
        NetworkState<double> state = net.CreateState(1);
        var all = new double[data.Steps * Outputs];
        var numeric = new double[Outputs * n];
        const double h = 1e-3;
        for (int i = 0; i < n; i++)
        {
            double p = net.Parameters[i];
            for (int k = 0; k < Outputs; k++)
            {
                double F(double d)
                {
                    net.Parameters[i] = p + d;
                    net.MarkParametersChanged();
                    state.Reset();
                    net.Forward(data.Inputs, all, state);
                    return all[(data.Steps - 1) * Outputs + k];
                }
                numeric[k * n + i] = (8 * (F(h) - F(-h)) - (F(2 * h) - F(-2 * h))) / (12 * h);
            }
            net.Parameters[i] = p;
            net.MarkParametersChanged();
        }
        AssertClose(numeric, jacobian, 1e-7, 1e-4, $"output Jacobian {cell} with input-to-output", net.Layout);
    }

    [Fact]
    public void SensitivityBytes_IsStateTimesParametersTimesElementSize()
    {
        // LSTM I = 3, H = 5: |θ| = 4·5·(3 + 5 + 2) = 200; rows h (5) + c (5) + pre-activations (20) = 30.
        var arch = Arch(CellType.Lstm, 3, 2, Activation.Tanh, 5);
        Assert.Equal(30L * 200 * 8, RtrlGradient<double>.SensitivityBytes(arch, 8));
        Assert.Equal(30L * 200 * 8, new RtrlGradient<double>(new RecurrentNetwork<double>(arch, 1)).Bytes);
        // A second GRU layer of 4 over 5: columns 3·5·(3+5+2) + 3·4·(5+4+2) = 150 + 132 = 282, rows 4 + 12, plus 4 x 150.
        var gru = Arch(CellType.Gru, 3, 2, Activation.Tanh, 5, 4);
        Assert.Equal(((5 + 15) * 150L + (4 + 12) * 282L + 4 * 150L) * 4, RtrlGradient<float>.SensitivityBytes(gru, 4));
    }

    [Fact]
    public void TooLargeNetwork_IsRefusedNamingTheBytesNeeded()
    {
        var arch = Arch(CellType.Lstm, 3, 1, Activation.Tanh, 64);
        long need = RtrlGradient<float>.SensitivityBytes(arch, 4);
        var net = new RecurrentNetwork<float>(arch, 1);
        var e = Assert.Throws<ArgumentException>(() => new RtrlGradient<float>(net, need - 1));
        Assert.Contains(need.ToString("N0", System.Globalization.CultureInfo.CurrentCulture), e.Message);
        Assert.Contains("MaxSensitivityBytes", e.Message);
        Assert.NotNull(new RtrlGradient<float>(net, need)); // exactly enough is enough
    }

    [Fact]
    public void HighwayCell_IsRefusedNamingTheCell()
    {
        var net = new RecurrentNetwork<double>(Arch(CellType.Highway, 3, 1, Activation.Tanh, 4), 1);
        var e = Assert.Throws<ArgumentException>(() => new RtrlGradient<double>(net));
        Assert.Contains("Highway", e.Message);
    }
}
