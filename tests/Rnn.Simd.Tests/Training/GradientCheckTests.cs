using System.Text;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Reference;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;
using Rnn.Simd.Tests.Training.Bptt;

namespace Rnn.Simd.Tests.Training;

/// <summary>
/// Deterministic gradient checks (the cases the CLI <c>gradcheck</c> runs): the analytic gradient of truncated BPTT
/// against fourth-order central finite differences of the truncated objective, in double, for every cell x {1, 2}
/// layers x {BPTT(n,1), BPTT(n,n), BPTT(2n,n)}, every entry checked (no sampling); plus sigmoid and ReLU Elman cells.
/// The bound is <see cref="Tolerance"/> = 1e-6 on <see cref="GradientCheckReport.MaxRelativeError"/>, which covers
/// every parameter slice, dJ/dx and dJ/d(h0, c0).
/// </summary>
public class GradientCheckTests
{
    internal const double Tolerance = 1e-6;

    public static TheoryData<CellType, int, string> NamedCases()
    {
        var data = new TheoryData<CellType, int, string>();
        foreach (CellType c in AllCells)
            for (int layers = 1; layers <= 2; layers++)
                foreach (string mode in new[] { "n,1", "n,n", "2n,n" }) data.Add(c, layers, mode);
        return data;
    }

    internal static string Format(GradientCheckReport r)
    {
        var sb = new StringBuilder().Append(r.Schedule).Append(": max relative error ").Append(r.MaxRelativeError.ToString("E3"));
        foreach (GradientCheckEntry e in r.Parameters) Append(sb, e);
        Append(sb, r.Inputs);
        Append(sb, r.InitialState);
        return sb.ToString();

        static void Append(StringBuilder sb, GradientCheckEntry e) =>
            sb.Append("; ").Append(e.Name).Append(" n=").Append(e.Checked).Append(" rel=").Append(e.MaxRelativeError.ToString("E2")).Append(" abs=").Append(e.MaxAbsoluteError.ToString("E2"));
    }

    [Theory]
    [MemberData(nameof(NamedCases))]
    public void AnalyticGradient_EqualsFiniteDifferences(CellType cell, int layers, string mode)
    {
        // n = 3 and S = 12: four windows for BPTT(n,n) and BPTT(2n,n), twelve for BPTT(n,1), so the truncation cuts.
        const int batch = 2, steps = 12;
        BpttSchedule schedule = BpttSchedule.Parse(mode, 3);
        var arch = layers == 1 ? Arch(cell, 3, 2, Activation.Tanh, 4) : Arch(cell, 3, 2, Activation.Tanh, 4, 3);
        var net = new RecurrentNetwork<double>(arch, 201);
        double[] x = Uniform(202, steps * batch * 3), target = Uniform(203, steps * batch * 2);
        NetworkState<double> init = TruncatedBpttReferenceTests.RandomState(net, batch, 204);

        GradientCheckReport report = GradientCheck.Run(net, x, target, batch, schedule, init);

        Assert.True(report.MaxRelativeError <= Tolerance, $"{arch} {Format(report)}");
        Assert.Equal(net.Layout.Slices.Count, report.Parameters.Count);
        for (int s = 0; s < report.Parameters.Count; s++)
        {
            Assert.Equal(net.Layout.Slices[s].Name, report.Parameters[s].Name);
            Assert.Equal(net.Layout.Slices[s].Length, report.Parameters[s].Checked);
        }
        Assert.Equal(x.Length, report.Inputs.Checked);
        Assert.Equal(cell == CellType.Lstm ? 2 * batch * (layers == 1 ? 4 : 7) : batch * (layers == 1 ? 4 : 7), report.InitialState.Checked);
    }

    [Theory]
    [InlineData(1, "2n,n")]
    [InlineData(2, "n,1")]
    [InlineData(2, "5,2")]
    public void SigmoidElman_AnalyticGradient_EqualsFiniteDifferences(int layers, string mode)
    {
        const int batch = 2, steps = 12;
        BpttSchedule schedule = BpttSchedule.Parse(mode, 3);
        var arch = layers == 1 ? Arch(CellType.Elman, 3, 2, Activation.Sigmoid, 5) : Arch(CellType.Elman, 3, 2, Activation.Sigmoid, 5, 3);
        var net = new RecurrentNetwork<double>(arch, 211);
        double[] x = Uniform(212, steps * batch * 3), target = Uniform(213, steps * batch * 2);
        GradientCheckReport report = GradientCheck.Run(net, x, target, batch, schedule, TruncatedBpttReferenceTests.RandomState(net, batch, 214));
        Assert.True(report.MaxRelativeError <= Tolerance, $"{arch} {Format(report)}");
    }

    /// <summary>
    /// A two-layer ReLU Elman network built so that no pre-activation comes near the kink at 0: "on" units have
    /// bias +1.1, "off" units -1.1, input weights within ±0.1 and recurrent weights within ±0.05, inputs within ±1.
    /// Then |W_ih x| + |W_hh h| stays below ~1 (h is bounded by (1.1 + 0.65) / (1 - 0.15) in the top layer), so every
    /// |a| ≥ 0.1, checked below with the reference; a finite-difference stencil of h = 1e-4 moves a pre-activation by
    /// far less, so the objective is smooth where it is sampled. Both on and off units occur, so the mask matters.
    /// </summary>
    [Theory]
    [InlineData("n,1")]
    [InlineData("n,n")]
    [InlineData("2n,n")]
    public void ReluElman_AwayFromTheKink_AnalyticGradient_EqualsFiniteDifferences(string mode)
    {
        const int batch = 2, steps = 12;
        var arch = Arch(CellType.Elman, 2, 2, Activation.Relu, 4, 3);
        var net = new RecurrentNetwork<double>(arch, 221);
        var rng = new Rng(222);
        for (int l = 0; l < 2; l++)
        {
            Span<double> wih = net.Parameter($"weight_ih_l{l}"), whh = net.Parameter($"weight_hh_l{l}");
            Span<double> bih = net.Parameter($"bias_ih_l{l}"), bhh = net.Parameter($"bias_hh_l{l}");
            for (int i = 0; i < wih.Length; i++) wih[i] = rng.NextUniform(-0.1, 0.1);
            for (int i = 0; i < whh.Length; i++) whh[i] = rng.NextUniform(-0.05, 0.05);
            for (int j = 0; j < bih.Length; j++) { bih[j] = j % 2 == 0 ? 1.0 : -1.2; bhh[j] = 0.1; }
        }
        net.MarkParametersChanged();
        double[] x = Uniform(223, steps * batch * 2), target = Uniform(224, steps * batch * 2);

        var reference = RecurrentReference.FromNetwork(net);
        List<double> pre = reference.ElmanPreActivations(x, batch, new RecurrentReference.State(reference, batch));
        Assert.All(pre, a => Assert.True(Math.Abs(a) >= 0.1, $"pre-activation {a} near the kink"));
        Assert.Contains(pre, a => a > 0);
        Assert.Contains(pre, a => a < 0);

        GradientCheckReport report = GradientCheck.Run(net, x, target, batch, BpttSchedule.Parse(mode, 3));
        Assert.True(report.MaxRelativeError <= Tolerance, $"{arch} {Format(report)}");
    }

    [Fact]
    public void Run_RestoresParameters_AndLeavesTheAnalyticGradient()
    {
        const int batch = 2, steps = 8;
        var net = new RecurrentNetwork<double>(Arch(CellType.Gru, 2, 3, Activation.Tanh, 5), 231);
        double[] before = net.Parameters.ToArray();
        int version = net.ParametersVersion;
        double[] x = Uniform(232, steps * batch * 2), target = Uniform(233, steps * batch * 3);

        GradientCheckReport report = GradientCheck.Run(net, x, target, batch, BpttSchedule.Default(2), maxEntriesPerGroup: 4, seed: 9);

        Assert.Equal(before, net.Parameters.ToArray());
        Assert.True(net.ParametersVersion != version); // marked changed, so packs are rebuilt from the restored values
        double[] analytic = net.Gradients.ToArray();
        net.ZeroGradients();
        RunWindows(new TruncatedBptt<double>(net, batch, BpttSchedule.Default(2)), x, target);
        Assert.Equal(net.Gradients.ToArray(), analytic);

        // Sampling: at most 4 entries per group.
        Assert.All(report.Parameters, e => Assert.Equal(Math.Min(4, net.Layout[e.Name].Length), e.Checked));
        Assert.Equal(4, report.Inputs.Checked);
        Assert.True(report.MaxRelativeError <= Tolerance, Format(report));
    }

    [Fact]
    public void Run_RejectsBadShapes()
    {
        var net = new RecurrentNetwork<double>(Arch(CellType.Elman, 2, 1, Activation.Tanh, 3), 241);
        double[] x = new double[6 * 2], t = new double[6];
        Assert.Throws<ArgumentException>(() => GradientCheck.Run(net, x, t, 1, BpttSchedule.Create(4, 4)));      // S = 6 not a multiple of τf
        Assert.Throws<ArgumentException>(() => GradientCheck.Run(net, x.AsSpan(1), t, 1, BpttSchedule.True(2)));  // not a multiple of B·I
        Assert.Throws<ArgumentException>(() => GradientCheck.Run(net, x, t.AsSpan(1), 1, BpttSchedule.True(2)));
        Assert.Throws<ArgumentException>(() => GradientCheck.Run(net, ReadOnlySpan<double>.Empty, t, 1, BpttSchedule.True(2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientCheck.Run(net, x, t, 1, new BpttSchedule(1, 2)));
        Assert.Throws<ArgumentException>(() => GradientCheck.Run(net, x, t, 1, BpttSchedule.True(2), net.CreateState(2))); // initial state of another batch
    }
}
