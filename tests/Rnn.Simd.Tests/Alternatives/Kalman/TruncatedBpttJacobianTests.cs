using Rnn.Simd.Alternatives.Kalman;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Kalman;

/// <summary>
/// The truncated-BPTT Jacobian against central finite differences of the network's own forward run (inference
/// steps from a zero state over the whole sequence): with h + s - 1 at least the sequence length nothing is
/// truncated, so every row ∂y_k/∂w must equal the numeric derivative of output k with respect to every weight.
/// </summary>
public class TruncatedBpttJacobianTests
{
    [Theory]
    [InlineData(CellType.Elman, 1, 1)]
    [InlineData(CellType.Lstm, 1, 2)]
    [InlineData(CellType.Gru, 2, 3)]
    [InlineData(CellType.Lstm, 3, 1)]
    public void Rows_EqualFiniteDifferencesOfTheForward(CellType cell, int steps, int outputs)
    {
        const int input = 3, instances = 3;
        var arch = new NetworkArchitecture(cell, input, [5, 4], outputs);
        var net = new RecurrentNetwork<double>(arch, 77);
        double[] x = Uniform(78, instances * steps * input);
        var jac = new TruncatedBpttJacobian<double>(net, instances * steps, steps);
        jac.Reset();
        var y = new double[steps * outputs];
        for (int i = 0; i < instances; i++) jac.Advance(x.AsSpan(i * steps * input, steps * input), y);

        int n = net.Parameters.Length;
        var row = new double[n];
        double worst = 0;
        for (int k = 0; k < steps * outputs; k++)
        {
            jac.Jacobian(k, row);
            int t = (instances - 1) * steps + k / outputs, o = k % outputs;
            for (int p = 0; p < n; p++)
            {
                double numeric = Numeric(net, x, input, t, o, p);
                worst = Math.Max(worst, Math.Abs(row[p] - numeric) / Math.Max(1e-3, Math.Abs(numeric)));
            }
        }
        Assert.True(worst < 1e-8, $"{cell}: worst relative error {worst:E2}");
    }

    /// <summary>(8(f(+h) - f(-h)) - (f(+2h) - f(-2h))) / 12h of output o at step t, by inference from a zero state.</summary>
    private static double Numeric(RecurrentNetwork<double> net, double[] x, int input, int t, int o, int p)
    {
        double original = net.Parameters[p], h = 1e-4;
        double F(double v)
        {
            net.Parameters[p] = v;
            net.MarkParametersChanged();
            NetworkState<double> state = net.CreateState();
            var y = new double[net.Architecture.OutputSize];
            for (int s = 0; s <= t; s++) net.Step(x.AsSpan(s * input, input), y, state);
            return y[o];
        }
        double d = (8 * (F(original + h) - F(original - h)) - (F(original + 2 * h) - F(original - 2 * h))) / (12 * h);
        net.Parameters[p] = original;
        net.MarkParametersChanged();
        return d;
    }

    [Fact]
    public void BadArguments_AreRefusedWithTheirNames()
    {
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [2], 1), 1);
        Assert.Equal("truncationDepth", Assert.Throws<ArgumentOutOfRangeException>(() => new TruncatedBpttJacobian<double>(net, 0)).ParamName);
        Assert.Equal("stepsPerInstance", Assert.Throws<ArgumentOutOfRangeException>(() => new TruncatedBpttJacobian<double>(net, 2, 0)).ParamName);
        var jac = new TruncatedBpttJacobian<double>(net, 2);
        jac.Reset();
        jac.Advance([0.5], new double[1]);
        Assert.Equal("measurement", Assert.Throws<ArgumentOutOfRangeException>(() => jac.Jacobian(1, new double[net.Parameters.Length])).ParamName);
    }
}
