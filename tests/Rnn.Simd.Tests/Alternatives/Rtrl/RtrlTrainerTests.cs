using Rnn.Simd.Alternatives.Rtrl;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Rtrl;

/// <summary>
/// <see cref="RtrlTrainer{T}"/>: one update per epoch with plain SGD is exactly one full-BPTT gradient step (an
/// independent formulation: reverse mode over the library's TBPTT engine, and the SGD formula of Eq. 2.3 written out
/// here); online training lowers the loss of a small forecasting task; the network ends with the best weights;
/// options, cancellation, refusals.
/// </summary>
public class RtrlTrainerTests
{
    [Theory]
    [InlineData(CellType.Elman, false)]
    [InlineData(CellType.Lstm, true)]
    [InlineData(CellType.Gru, true)]
    public void OneUpdatePerEpoch_WithSgd_IsOneFullBpttGradientStep(CellType cell, bool weighted)
    {
        const double lr = 0.05;
        var net = new RecurrentNetwork<double>(RtrlGradientTests.SmallArch(cell, Activation.Tanh, 2), 71);
        SequenceData<double> data = RtrlGradientTests.Data(72, 25, weighted);
        double[] p0 = net.Parameters.ToArray();
        var engine = new TruncatedBptt<double>(net, 1, BpttSchedule.Create(data.Steps, data.Steps));
        engine.Reset();
        net.ZeroGradients();
        engine.Window(data.Inputs, data.Targets, default, data.TargetWeights);
        double[] g = net.Gradients.ToArray();
        var expected = new double[p0.Length];
        for (int i = 0; i < p0.Length; i++) expected[i] = p0[i] - lr * g[i];

        var trainer = new RtrlTrainer<double>(net, new RtrlOptions { UpdateEvery = data.Steps, Optimizer = OptimizerKind.Sgd, LearningRate = lr, Epochs = 1 });
        TrainingResult result = trainer.Fit(data);

        Assert.Equal(1, result.Windows);
        Assert.Equal(1, result.BestEpoch);
        // p0 - lr·g: the step's change is lr·g ~ 1e-2, so a 1e-12 bound (relative to the parameters, floor 1e-4) is
        // far below any mistake in the gradient and far above the ~1e-16 rounding of the two sums.
        AssertClose(expected, net.Parameters.ToArray(), 1e-12, 1e-4, $"SGD step {cell}", net.Layout);
        double change = NormRelativeError(p0, net.Parameters.ToArray());
        Assert.True(change > 1e-4, $"the step moved the parameters by only {change:E2}");
    }

    /// <summary>
    /// x_t = sin(0.3 t) + 0.5 sin(0.11 t), target x_(t+3): a forecasting task that needs memory (the phase of each
    /// tone is not in one input) and that a linear recurrence of order 4 solves exactly.
    /// </summary>
    private static (SequenceData<T> Train, SequenceData<T> Validation) SineTask<T>(int train, int validation)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        static double X(double t) => Math.Sin(0.3 * t) + 0.5 * Math.Sin(0.11 * t);
        SequenceData<T> Make(int start, int n)
        {
            var x = new T[n];
            var y = new T[n];
            for (int i = 0; i < n; i++)
            {
                x[i] = T.CreateTruncating(X(start + i));
                y[i] = T.CreateTruncating(X(start + i + 3));
            }
            return new SequenceData<T>(x, y, 1, 1);
        }
        return (Make(0, train), Make(train, validation));
    }

    [Theory]
    [InlineData(CellType.Elman, 1)]
    [InlineData(CellType.Lstm, 1)]
    [InlineData(CellType.Gru, 1)]
    [InlineData(CellType.Lstm, 3)]
    public void OnlineTraining_LowersTheValidationLoss_AndKeepsTheBestWeights(CellType cell, int updateEvery)
    {
        (SequenceData<float> train, SequenceData<float> validation) = SineTask<float>(400, 150);
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(cell, 1, [8], 1), 81);
        NetworkState<float> state = net.CreateState(1);
        var y = new float[1];
        double before = SequenceLoss.WeightedMse(net, state, y, train, validation);

        var trainer = new RtrlTrainer<float>(net, new RtrlOptions { UpdateEvery = updateEvery, LearningRate = 3e-3, Epochs = 10, Patience = 0 });
        var seen = new List<EpochProgress>();
        trainer.EpochCompleted += seen.Add;
        TrainingResult result = trainer.Fit(train, validation);

        Assert.Equal(10, result.EpochsRun);
        Assert.Equal(10, seen.Count);
        Assert.Equal((400 + updateEvery - 1) / updateEvery * 10L, result.Windows);
        double after = SequenceLoss.WeightedMse(net, state, y, train, validation);
        Assert.True(after < 0.1 * before, $"{cell} k={updateEvery}: validation MSE {before:G4} -> {after:G4}");
        // The network holds the weights of the best epoch: their validation loss is the reported best, bit for bit.
        Assert.Equal(result.BestLoss, after);
        double minimum = double.PositiveInfinity;
        foreach (EpochProgress p in result.History) minimum = Math.Min(minimum, p.ValidationLoss);
        Assert.Equal(minimum, result.BestLoss);
        Assert.True(result.History[result.BestEpoch - 1].IsBest);
    }

    [Fact]
    public void SameSeedAndOptions_GiveBitwiseTheSameWeights()
    {
        (SequenceData<float> train, _) = SineTask<float>(120, 1);
        float[] Run()
        {
            var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 1, [6], 1), 91);
            new RtrlTrainer<float>(net, new RtrlOptions { Epochs = 2, UpdateEvery = 2 }).Fit(train);
            return net.Parameters.ToArray();
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void TwoThreads_GiveBitwiseTheSameWeightsAsOne()
    {
        // LSTM H = 16 over 1 input: the sensitivity GEMM is 64 x 1216 x 16 ≈ 1.2M multiply-adds, above Gemm's 2^18
        // threshold, so two threads really split it.
        (SequenceData<double> train, _) = SineTask<double>(60, 1);
        double[] Run(int threads)
        {
            var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Lstm, 1, [16], 1), 95);
            new RtrlTrainer<double>(net, new RtrlOptions { Epochs = 1, MaxThreads = threads }).Fit(train);
            return net.Parameters.ToArray();
        }
        Assert.Equal(Run(1), Run(2));
    }

    [Fact]
    public void CancelledBeforeTheFirstStep_LeavesTheWeightsAndReportsCancelled()
    {
        (SequenceData<double> train, SequenceData<double> validation) = SineTask<double>(50, 20);
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Lstm, 1, [4], 1), 101);
        double[] p0 = net.Parameters.ToArray();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        TrainingResult result = new RtrlTrainer<double>(net).Fit(train, validation, cts.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(0, result.EpochsRun);
        Assert.Equal(p0, net.Parameters.ToArray());
    }

    [Fact]
    public void Divergence_IsReported_AndTheStartingWeightsRestored()
    {
        // ReLU Elman with SGD at a rate far too high: the weights blow up to ∞ / NaN within the first epoch.
        (SequenceData<double> train, _) = SineTask<double>(200, 1);
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [6], 1, Activation.Relu), 111);
        double[] p0 = net.Parameters.ToArray();
        var trainer = new RtrlTrainer<double>(net, new RtrlOptions { Optimizer = OptimizerKind.Sgd, LearningRate = 1e6 });
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(train));
        Assert.Contains("diverged", e.Message);
        Assert.Equal(p0, net.Parameters.ToArray());
    }

    private static TheoryData<RtrlOptions, string> BadOptionCases() => new()
    {
        { new RtrlOptions { UpdateEvery = 0 }, nameof(RtrlOptions.UpdateEvery) },
        { new RtrlOptions { LearningRate = 0 }, nameof(RtrlOptions.LearningRate) },
        { new RtrlOptions { LearningRate = double.NaN }, nameof(RtrlOptions.LearningRate) },
        { new RtrlOptions { ClipNorm = 0 }, nameof(RtrlOptions.ClipNorm) },
        { new RtrlOptions { ClipValue = -1 }, nameof(RtrlOptions.ClipValue) },
        { new RtrlOptions { Epochs = 0 }, nameof(RtrlOptions.Epochs) },
        { new RtrlOptions { Patience = -1 }, nameof(RtrlOptions.Patience) },
        { new RtrlOptions { MaxSensitivityBytes = 0 }, nameof(RtrlOptions.MaxSensitivityBytes) },
        { new RtrlOptions { MaxThreads = -1 }, nameof(RtrlOptions.MaxThreads) },
        { new RtrlOptions { Optimizer = (OptimizerKind)99 }, nameof(RtrlOptions.Optimizer) },
    };

    // Indices, not the records: xUnit enumerates (and the ARM64 runner counts) only serializable theory data at discovery.
    public static TheoryData<int> BadOptions() => new(Enumerable.Range(0, BadOptionCases().Count));

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadOption_IsRefusedNamingTheOption(int index)
    {
        object[] row = BadOptionCases().ElementAt(index);
        var options = (RtrlOptions)row[0];
        string name = (string)row[1];
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 2, [3], 1), 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RtrlTrainer<float>(net, options));
        Assert.Equal(name, e.ParamName);
    }

    [Fact]
    public void TooLargeForTheMemoryLimit_IsRefusedByTheConstructorNamingTheBytes()
    {
        var arch = new NetworkArchitecture(CellType.Gru, 4, [32], 1);
        long need = RtrlGradient<float>.SensitivityBytes(arch, sizeof(float));
        var net = new RecurrentNetwork<float>(arch, 1);
        var e = Assert.Throws<ArgumentException>(() => new RtrlTrainer<float>(net, new RtrlOptions { MaxSensitivityBytes = 1 << 20 }));
        Assert.Contains(need.ToString("N0", System.Globalization.CultureInfo.CurrentCulture) + " bytes", e.Message);
    }

    [Fact]
    public void AllMaskedTargets_AreRefused()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 2, [3], 1), 1);
        var data = new SequenceData<float>(new float[20], new float[10], 2, 1, new float[10]);
        var e = Assert.Throws<ArgumentException>(() => new RtrlTrainer<float>(net).Fit(data));
        Assert.Contains("target weight", e.Message);
    }
}
