using Rnn.Simd.Alternatives.Kalman;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Kalman;

/// <summary>
/// On a model linear in its weights, the readout alone trained over fixed hidden states, the EKF with Q = 0 and a
/// constant R is recursive least squares (Haykin 2001, ch. 2): the tests run a plain RLS written here (scalar
/// measurements one at a time, x = [h_t; 1], g = P x / (R / w + xᵀ P x), θ += g (d - θᵀ x), P -= g xᵀ P, one RLS per
/// output) and require the same weights to 1e-9, for the global and the node-decoupled variant, one or several steps
/// per update (a batch of measurements equals the same measurements taken one by one), with target weights.
/// </summary>
public class EkfRlsTests
{
    private static readonly string[] Readout = ["readout.weight", "readout.bias"];

    [Theory]
    [InlineData(EkfVariant.Global, 1, 1, CellType.Lstm)]
    [InlineData(EkfVariant.Global, 3, 1, CellType.Gru)]
    [InlineData(EkfVariant.NodeDecoupled, 1, 2, CellType.Elman)]
    [InlineData(EkfVariant.NodeDecoupled, 4, 3, CellType.Lstm)]
    public void ReadoutOnly_WithoutProcessNoise_IsRecursiveLeastSquares(EkfVariant variant, int updateEvery, int outputs, CellType cell)
    {
        const int input = 2, hidden = 6, steps = 61, epochs = 2;
        const double r = 0.7, p0 = 5;
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(cell, input, [hidden], outputs), 5);
        double[] x = Uniform(6, steps * input), d = Uniform(7, steps * outputs, -2, 2), w = Uniform(8, steps * outputs, 0, 2);
        for (int i = 0; i < w.Length; i += 5) w[i] = 0; // some targets do not count
        var train = new SequenceData<double>(x, d, input, outputs, w);

        // The independent RLS, over the states the fixed hidden layer produces (an instance's measurements all see the
        // weights it started with only through their residuals, which sequential RLS reproduces exactly).
        int used = steps / updateEvery * updateEvery, top = hidden + 1;
        var theta = new double[outputs][];
        var p = new double[outputs][,];
        for (int o = 0; o < outputs; o++)
        {
            theta[o] = new double[top];
            for (int j = 0; j < hidden; j++) theta[o][j] = net.Parameter("readout.weight")[o * hidden + j];
            theta[o][hidden] = net.Parameter("readout.bias")[o];
            p[o] = new double[top, top];
            for (int j = 0; j < top; j++) p[o][j, j] = p0;
        }
        var states = new double[used][];
        NetworkState<double> state = net.CreateState();
        var scratch = new double[outputs];
        for (int t = 0; t < used; t++)
        {
            net.Step(x.AsSpan(t * input, input), scratch, state);
            states[t] = [.. state.Hidden(0), 1.0];
        }
        for (int e = 0; e < epochs; e++)
        {
            for (int t = 0; t < used; t++)
            {
                for (int o = 0; o < outputs; o++)
                {
                    double weight = w[t * outputs + o];
                    if (weight == 0) continue;
                    Rls(theta[o], p[o], states[t], d[t * outputs + o], r / weight);
                }
            }
        }

        var options = new EkfOptions
        {
            Variant = variant,
            MeasurementNoise = r,
            FinalMeasurementNoise = r,
            ProcessNoise = 0,
            FinalProcessNoise = 0,
            InitialCovariance = p0,
            UpdateEvery = updateEvery,
            TruncationDepth = 2,
            Epochs = epochs,
            Patience = 0,
            TrainableParameters = Readout,
        };
        var trainer = new EkfTrainer<double>(net, options);
        Assert.Equal(outputs * top, trainer.StateSize);
        Assert.Equal(variant == EkfVariant.Global ? 1 : outputs, trainer.Blocks);
        double[] hiddenBefore = net.Parameter("weight_hh_l0").ToArray();
        TrainingResult result = trainer.Fit(train);
        Assert.Equal(epochs, result.EpochsRun);

        double worst = 0;
        for (int o = 0; o < outputs; o++)
        {
            for (int j = 0; j < top; j++)
            {
                double ekf = j < hidden ? net.Parameter("readout.weight")[o * hidden + j] : net.Parameter("readout.bias")[o];
                worst = Math.Max(worst, Math.Abs(ekf - theta[o][j]) / Math.Max(1, Math.Abs(theta[o][j])));
            }
        }
        Assert.True(worst < 1e-9, $"{variant}, s = {updateEvery}: worst relative difference from RLS {worst:E2}");
        Assert.Equal(hiddenBefore, net.Parameter("weight_hh_l0").ToArray()); // frozen
    }

    /// <summary>One scalar RLS step with measurement noise rho.</summary>
    private static void Rls(double[] theta, double[,] p, double[] x, double target, double rho)
    {
        int n = theta.Length;
        var px = new double[n];
        double xpx = 0, prediction = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) px[i] += p[i, j] * x[j];
            xpx += x[i] * px[i];
            prediction += theta[i] * x[i];
        }
        double denominator = rho + xpx, error = target - prediction;
        for (int i = 0; i < n; i++) theta[i] += px[i] / denominator * error;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) p[i, j] -= px[i] * px[j] / denominator;
        }
    }
}
