using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Training.Bptt;

namespace Rnn.Simd.Tests.Cells;

/// <summary>
/// Pins the formulation of each cell with one step of a tiny network (I = 1, H = 2, O = 1) whose weights are set by
/// hand: the pre-activations below were summed by hand from those weights, and the expected h, c and y are computed
/// from them with Math.Tanh / Math.Exp in the test. That fixes the gate order (LSTM i, f, g, o; GRU r, z, n), where
/// each bias goes, and that GRU's reset gate multiplies the whole hidden part W_hn h + b_hn. Every ISA path, float and
/// double.
/// </summary>
/// <remarks>
/// Tolerances: double 1e-14 absolute (the library's vector double tanh is (1 - e)/(1 + e), e = exp(-2|x|), within a
/// few ulps of Math.Tanh); float 3e-6 absolute (the float tanh / sigmoid are rational approximations within 1e-6,
/// composed twice in an LSTM's h = o·tanh(c), plus float rounding of the inputs).
/// </remarks>
public class CellFormulationTests
{
    private static double Sigmoid(double a) => 1 / (1 + Math.Exp(-a));

    public static TheoryData<IsaPath> Paths()
    {
        var data = new TheoryData<IsaPath>();
        foreach (IsaPath p in TestPaths.All) data.Add(p);
        return data;
    }

    private static void Set<T>(RecurrentNetwork<T> net, string name, params double[] values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Span<T> p = net.Parameter(name);
        Assert.Equal(values.Length, p.Length);
        for (int i = 0; i < values.Length; i++) p[i] = T.CreateTruncating(values[i]);
    }

    private static void SetState<T>(Span<T> s, params double[] values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++) s[i] = T.CreateTruncating(values[i]);
    }

    private static double Tol<T>() => typeof(T) == typeof(float) ? 3e-6 : 1e-14;

    private static void AssertNear<T>(double expected, T actual, string what) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double a = double.CreateTruncating(actual);
        Assert.True(Math.Abs(a - expected) <= Tol<T>(), $"{typeof(T).Name} {what}: {a:R}, expected {expected:R}");
    }

    // Readout of every case: y = 0.7 h0 - 0.6 h1 + 0.25.
    private static void SetReadout<T>(RecurrentNetwork<T> net) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Set(net, "readout.weight", 0.7, -0.6);
        Set(net, "readout.bias", 0.25);
    }

    // --------------------------------------------------------------------------------------- Elman

    [Theory]
    [MemberData(nameof(Paths))]
    public void Elman_OneStep_HandComputed(IsaPath path)
    {
        foreach (Activation act in new[] { Activation.Tanh, Activation.Relu, Activation.Sigmoid })
        {
            ElmanStep<float>(path, act);
            ElmanStep<double>(path, act);
        }
    }

    private static void ElmanStep<T>(IsaPath path, Activation act) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var net = new RecurrentNetwork<T>(new NetworkArchitecture(CellType.Elman, 1, [2], 1, act), 0, path);
        Set(net, "weight_ih_l0", 0.5, -0.3);               // (G·H) x I = 2 x 1
        Set(net, "weight_hh_l0", 0.1, 0.2, -0.4, 0.3);     // 2 x 2, row-major
        Set(net, "bias_ih_l0", 0.05, -0.1);
        Set(net, "bias_hh_l0", 0.2, 0.1);
        SetReadout(net);
        net.MarkParametersChanged();
        NetworkState<T> s = net.CreateState();
        SetState(s.Hidden(0), 0.3, -0.2);
        var y = new T[1];
        net.Step([T.CreateTruncating(0.8)], y, s);

        // x = 0.8, h = (0.3, -0.2):
        // a0 = 0.5·0.8 + 0.05 + 0.1·0.3 + 0.2·(-0.2) + 0.2   =  0.64
        // a1 = -0.3·0.8 - 0.1 - 0.4·0.3 + 0.3·(-0.2) + 0.1   = -0.42
        (double h0, double h1) = act switch
        {
            Activation.Tanh => (Math.Tanh(0.64), Math.Tanh(-0.42)),
            Activation.Relu => (0.64, 0.0),
            _ => (Sigmoid(0.64), Sigmoid(-0.42)),
        };
        string what = $"Elman({act}) {path}";
        AssertNear(h0, s.Hidden(0)[0], $"h0 {what}");
        AssertNear(h1, s.Hidden(0)[1], $"h1 {what}");
        AssertNear(0.7 * h0 - 0.6 * h1 + 0.25, y[0], $"y {what}");
    }

    // ---------------------------------------------------------------------------------------- LSTM

    [Theory]
    [MemberData(nameof(Paths))]
    public void Lstm_OneStep_HandComputed_GateOrderIFGO(IsaPath path)
    {
        LstmStep<float>(path);
        LstmStep<double>(path);
    }

    private static void LstmStep<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var net = new RecurrentNetwork<T>(new NetworkArchitecture(CellType.Lstm, 1, [2], 1), 0, path);
        // Rows 0-1 i, 2-3 f, 4-5 g, 6-7 o. W_hh row r = (0.05(r+1), -0.05(r+1)), so with h = (0.5, -0.5) W_hh h = 0.05(r+1).
        Set(net, "weight_ih_l0", 0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8);
        var whh = new double[16];
        for (int r = 0; r < 8; r++) { whh[2 * r] = 0.05 * (r + 1); whh[2 * r + 1] = -0.05 * (r + 1); }
        Set(net, "weight_hh_l0", whh);
        Set(net, "bias_ih_l0", 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08);
        Set(net, "bias_hh_l0", 0.1, 0, 0, 0, 0, 0, 0, -0.1);
        SetReadout(net);
        net.MarkParametersChanged();
        NetworkState<T> s = net.CreateState();
        SetState(s.Hidden(0), 0.5, -0.5);
        SetState(s.Cell(0), 0.2, -0.3);
        var y = new T[1];
        net.Step([T.CreateTruncating(0.5)], y, s);

        // x = 0.5: pre[r] = 0.5 W_ih[r] + b_ih[r] + 0.05 (r + 1) + b_hh[r]
        //   i: 0.05 + 0.01 + 0.05 + 0.1 = 0.21   -0.1 + 0.02 + 0.10 = 0.02
        //   f: 0.15 + 0.03 + 0.15       = 0.33   -0.2 + 0.04 + 0.20 = 0.04
        //   g: 0.25 + 0.05 + 0.25       = 0.55   -0.3 + 0.06 + 0.30 = 0.06
        //   o: 0.35 + 0.07 + 0.35       = 0.77   -0.4 + 0.08 + 0.40 - 0.1 = -0.02
        double[] i = [Sigmoid(0.21), Sigmoid(0.02)], f = [Sigmoid(0.33), Sigmoid(0.04)];
        double[] g = [Math.Tanh(0.55), Math.Tanh(0.06)], o = [Sigmoid(0.77), Sigmoid(-0.02)];
        double[] cPrev = [0.2, -0.3];
        var c = new double[2];
        var h = new double[2];
        for (int j = 0; j < 2; j++)
        {
            c[j] = f[j] * cPrev[j] + i[j] * g[j];
            h[j] = o[j] * Math.Tanh(c[j]);
        }
        for (int j = 0; j < 2; j++)
        {
            AssertNear(c[j], s.Cell(0)[j], $"LSTM c{j} {path}");
            AssertNear(h[j], s.Hidden(0)[j], $"LSTM h{j} {path}");
        }
        AssertNear(0.7 * h[0] - 0.6 * h[1] + 0.25, y[0], $"LSTM y {path}");
    }

    // ----------------------------------------------------------------------------------------- GRU

    [Theory]
    [MemberData(nameof(Paths))]
    public void Gru_OneStep_HandComputed_ResetGateMultipliesTheHiddenPartWithItsBias(IsaPath path)
    {
        GruStep<float>(path);
        GruStep<double>(path);
    }

    private static void GruStep<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var net = new RecurrentNetwork<T>(new NetworkArchitecture(CellType.Gru, 1, [2], 1), 0, path);
        // Rows 0-1 r, 2-3 z, 4-5 n. W_hh row r = (0.1(r+1), 0.05), so with h = (0.4, -0.2) W_hh h = 0.04(r+1) - 0.01.
        Set(net, "weight_ih_l0", 0.1, -0.2, 0.3, -0.4, 0.5, -0.6);
        var whh = new double[12];
        for (int row = 0; row < 6; row++) { whh[2 * row] = 0.1 * (row + 1); whh[2 * row + 1] = 0.05; }
        Set(net, "weight_hh_l0", whh);
        Set(net, "bias_ih_l0", 0.01, 0.02, 0.03, 0.04, 0.05, 0.06);
        Set(net, "bias_hh_l0", 0.02, -0.02, 0.03, -0.03, 0.15, -0.25);
        SetReadout(net);
        net.MarkParametersChanged();
        NetworkState<T> s = net.CreateState();
        SetState(s.Hidden(0), 0.4, -0.2);
        Assert.Equal(0, s.Cell(0).Length);
        var y = new T[1];
        net.Step([T.One], y, s);

        // x = 1:  gx = W_ih x + b_ih          = ( 0.11, -0.18 |  0.33, -0.36 |  0.55, -0.54)
        //         gh = W_hh h + b_hh          = ( 0.03 + 0.02, 0.07 - 0.02 | 0.11 + 0.03, 0.15 - 0.03 | 0.19 + 0.15, 0.23 - 0.25)
        //                                     = ( 0.05,  0.05 |  0.14,  0.12 |  0.34, -0.02)
        double[] r = [Sigmoid(0.11 + 0.05), Sigmoid(-0.18 + 0.05)];
        double[] z = [Sigmoid(0.33 + 0.14), Sigmoid(-0.36 + 0.12)];
        double[] n = [Math.Tanh(0.55 + r[0] * 0.34), Math.Tanh(-0.54 + r[1] * -0.02)];
        double[] hPrev = [0.4, -0.2];
        var h = new double[2];
        for (int j = 0; j < 2; j++) h[j] = (1 - z[j]) * n[j] + z[j] * hPrev[j];
        for (int j = 0; j < 2; j++) AssertNear(h[j], s.Hidden(0)[j], $"GRU h{j} {path}");
        AssertNear(0.7 * h[0] - 0.6 * h[1] + 0.25, y[0], $"GRU y {path}");

        // The pins discriminate: with b_hn outside r (n = tanh(gx_n + r (W_hn h) + b_hn)) h0 would differ by > 1e-2.
        double nAlt = Math.Tanh(0.55 + r[0] * 0.19 + 0.15);
        Assert.True(Math.Abs((1 - z[0]) * nAlt + z[0] * 0.4 - h[0]) > 1e-2);
    }

    // ------------------------------------------------------------------------------ training, one step

    /// <summary>One window of one step on the hand-set Elman network: loss = (y - t)², and the readout gradients
    /// dL/db_out = 2 (y - t), dL/dW_out = 2 (y - t) h, dL/db_hh = dL/db_ih = 2 (y - t) W_out ⊙ (1 - h²).</summary>
    [Fact]
    public void Elman_OneStepWindow_HandComputedLossAndGradients()
    {
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [2], 1), 0);
        Set(net, "weight_ih_l0", 0.5, -0.3);
        Set(net, "weight_hh_l0", 0.1, 0.2, -0.4, 0.3);
        Set(net, "bias_ih_l0", 0.05, -0.1);
        Set(net, "bias_hh_l0", 0.2, 0.1);
        SetReadout(net);
        net.MarkParametersChanged();
        var engine = new TruncatedBptt<double>(net, 1, BpttSchedule.Epochwise(1));
        NetworkState<double> init = net.CreateState();
        SetState(init.Hidden(0), 0.3, -0.2);
        engine.Reset(init);
        double loss = engine.Window([0.8], [1.0]);

        double h0 = Math.Tanh(0.64), h1 = Math.Tanh(-0.42), yv = 0.7 * h0 - 0.6 * h1 + 0.25, d = 2 * (yv - 1.0);
        Assert.Equal((yv - 1) * (yv - 1), loss, 1e-15);
        Assert.Equal(d, net.Gradient("readout.bias")[0], 1e-15);
        Assert.Equal(d * h0, net.Gradient("readout.weight")[0], 1e-15);
        Assert.Equal(d * h1, net.Gradient("readout.weight")[1], 1e-15);
        double da0 = d * 0.7 * (1 - h0 * h0), da1 = d * -0.6 * (1 - h1 * h1);
        Assert.Equal(da0, net.Gradient("bias_hh_l0")[0], 1e-15);
        Assert.Equal(da1, net.Gradient("bias_ih_l0")[1], 1e-15);
        Assert.Equal(da0 * 0.8, net.Gradient("weight_ih_l0")[0], 1e-15);
        Assert.Equal(da1 * 0.3, net.Gradient("weight_hh_l0")[2], 1e-15);   // row 1, column 0: h_prev0 = 0.3
        Assert.Equal(da0 * -0.2, net.Gradient("weight_hh_l0")[1], 1e-15);  // row 0, column 1: h_prev1 = -0.2
    }
}
