using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Tests.Training.Regularization;

/// <summary>
/// Issue #4: the regularised loss (Eq. 2.1, MSE + R_λ with L1, L2 or both, on weights, optionally biases) passes the
/// finite-difference gradient check at 1e-6 in double. Every weight is moved at least 0.01 away from 0 first, so no
/// L1 kink lies within the stencil's reach (2h = 2e-3).
/// </summary>
public sealed class RegularizedGradientCheckTests
{
    public static TheoryData<CellType, int, double, double, bool> Cases()
    {
        var data = new TheoryData<CellType, int, double, double, bool>();
        foreach (CellType cell in new[] { CellType.Elman, CellType.Lstm, CellType.Gru })
        {
            data.Add(cell, 1, 0, 0.05, false);
            data.Add(cell, 2, 0.02, 0, false);
            data.Add(cell, 2, 0.02, 0.05, true);
        }
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void RegularizedLoss_MatchesFiniteDifferences(CellType cell, int layers, double l1, double l2, bool biases)
    {
        var arch = new NetworkArchitecture(cell, 2, layers == 1 ? [4] : [4, 3], 2);
        var net = new RecurrentNetwork<double>(arch, 21);
        Span<double> p = net.Parameters;
        for (int i = 0; i < p.Length; i++) p[i] = Math.CopySign(Math.Abs(p[i]) + 0.01, p[i] == 0 ? 1 : p[i]);
        net.MarkParametersChanged();
        var rng = new Rng(3);
        const int b = 2, steps = 12;
        var x = new double[steps * b * 2];
        var y = new double[steps * b * 2];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextUniform(-1, 1);
        for (int i = 0; i < y.Length; i++) y[i] = rng.NextUniform(-1, 1);
        foreach (BpttSchedule schedule in new[] { BpttSchedule.Default(4), BpttSchedule.Create(12, 12) })
        {
            GradientCheckReport report = GradientCheck.Run(net, x, y, b, schedule, regularization: new RegularizationOptions(l1, l2, biases));
            Assert.True(report.MaxRelativeError <= 1e-6,
                $"{cell} L={layers} λ1={l1} λ2={l2} biases={biases} {schedule}: max relative error {report.MaxRelativeError:E2}");
        }
    }

    [Fact]
    public void Regularization_ChangesTheCheckedGradient()
    {
        // The check must see R_λ: the same network's analytic gradient differs with and without it.
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Lstm, 1, [3], 1), 4);
        double[] x = [0.1, -0.2, 0.3, 0.4], y = [0.5, 0.1, -0.3, 0.2];
        GradientCheck.Run(net, x, y, 1, BpttSchedule.Epochwise(4));
        double[] plain = net.Gradients.ToArray();
        GradientCheck.Run(net, x, y, 1, BpttSchedule.Epochwise(4), regularization: RegularizationOptions.Ridge(0.5));
        double[] ridge = net.Gradients.ToArray();
        ParameterSlice w = net.Layout["weight_hh_l0"];
        Assert.NotEqual(plain[w.Offset], ridge[w.Offset]);
        Assert.Equal(plain[w.Offset] + 2 * 0.5 * net.Parameters[w.Offset], ridge[w.Offset], 12);
    }
}
