using Rnn.Simd.Alternatives.Kalman;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Kalman;

/// <summary>
/// The trainer's contract: loss of positive definiteness and NaN are detected with one message and the last good
/// weights kept; bad options are named; the node-decoupled blocks are the nodes; determinism; float networks train;
/// cancellation and early stopping.
/// </summary>
public class EkfTrainerTests
{
    private static SequenceData<T> Sines<T>(int start, int steps) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        static double F(int t) => 0.6 * Math.Sin(0.21 * t) + 0.3 * Math.Sin(0.63 * t + 1);
        var x = new T[steps];
        var y = new T[steps];
        for (int t = 0; t < steps; t++) { x[t] = T.CreateTruncating(F(start + t)); y[t] = T.CreateTruncating(F(start + t + 1)); }
        return new SequenceData<T>(x, y, 1, 1);
    }

    /// <summary>A Jacobian source that wraps the truncated-BPTT one and, from instance <c>From</c> on, replaces every
    /// row by <c>Row</c> (a fault to inject); it records the weights each instance ran with.</summary>
    private sealed class FaultyJacobian(RecurrentNetwork<double> net, int from, Func<int, double> row) : IOutputJacobian<double>
    {
        private readonly TruncatedBpttJacobian<double> _inner = new(net, 3);
        private int _instance = -1;
        public RecurrentNetwork<double> Network => net;
        public int StepsPerInstance => 1;
        public List<double[]> WeightsSeen { get; } = [];
        public void Reset() => _inner.Reset();
        public void Advance(ReadOnlySpan<double> inputs, Span<double> outputs)
        {
            _instance++;
            WeightsSeen.Add(net.Parameters.ToArray());
            _inner.Advance(inputs, outputs);
        }
        public void Jacobian(int measurement, Span<double> r)
        {
            _inner.Jacobian(measurement, r);
            if (_instance < from) return;
            for (int p = 0; p < r.Length; p++) r[p] = row(p);
        }
    }

    [Fact]
    public void NaNJacobian_StopsWithOneMessage_AndKeepsTheWeightsBeforeThatUpdate()
    {
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Gru, 1, [3], 1), 9);
        var fault = new FaultyJacobian(net, 5, p => p == 2 ? double.NaN : 0.1);
        var trainer = new EkfTrainer<double>(net, new EkfOptions { Variant = EkfVariant.Global, Epochs = 2 }, fault);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(Sines<double>(0, 50)));
        Assert.Contains("positive definite", e.Message, StringComparison.Ordinal);
        Assert.Contains("epoch 1 at step 5", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, e.Epoch);
        Assert.Equal(fault.WeightsSeen[5], net.Parameters.ToArray());
        Assert.NotEqual(fault.WeightsSeen[0], net.Parameters.ToArray()); // five updates were applied and kept
    }

    [Fact]
    public void CovarianceThatLosesDefiniteness_IsNamed_AndTheLastGoodWeightsKept()
    {
        // Without process noise, a measurement of one weight far more precise than its prior makes the filter's P
        // entry for it 0 in double (p0 - p0² h² / (R + p0 h²) with R ≪ p0 h²): the next pass must report it.
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [2], 1), 4);
        var fault = new FaultyJacobian(net, 0, p => p == 1 ? 1e10 : 0);
        var options = new EkfOptions { Variant = EkfVariant.Global, MeasurementNoise = 1e-20, FinalMeasurementNoise = 1e-20, ProcessNoise = 0, FinalProcessNoise = 0, InitialCovariance = 1 };
        var trainer = new EkfTrainer<double>(net, options, fault);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(Sines<double>(0, 20)));
        Assert.Contains("lost positive definiteness (its diagonal entry for ", e.Message, StringComparison.Ordinal);
        Assert.Contains(SliceName(net.Layout, trainer.Permutation[1]).Split(' ')[0], e.Message, StringComparison.Ordinal);
        Assert.Contains("step 1", e.Message, StringComparison.Ordinal);
        Assert.Equal(fault.WeightsSeen[1], net.Parameters.ToArray());
        Assert.True(net.Parameters.ToArray().All(double.IsFinite));
    }

    [Fact]
    public void RealNetwork_WithAnExtremelySmallR_LosesDefinitenessAndSaysSo()
    {
        // No fault injected: R = 1e-20 makes the first updates collapse P in double until a diagonal goes negative.
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [3], 1), 2);
        var options = new EkfOptions { Variant = EkfVariant.Global, MeasurementNoise = 1e-20, FinalMeasurementNoise = 1e-20, ProcessNoise = 0, FinalProcessNoise = 0, InitialCovariance = 1 };
        var e = Assert.Throws<TrainingDivergedException>(() => new EkfTrainer<double>(net, options).Fit(Sines<double>(0, 60)));
        Assert.Contains("positive definite", e.Message, StringComparison.Ordinal);
        Assert.Contains("the network keeps the weights from before this update", e.Message, StringComparison.Ordinal);
        Assert.True(net.Parameters.ToArray().All(double.IsFinite));
    }

    [Fact]
    public void AfterACompletedEpoch_AFailure_RestoresTheBestEpoch()
    {
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Lstm, 1, [3], 1), 9);
        var fault = new FaultyJacobian(net, 60, _ => double.PositiveInfinity); // instance 60 = epoch 2, step 20
        var trainer = new EkfTrainer<double>(net, new EkfOptions { Epochs = 3 }, fault);
        double[]? afterEpoch1 = null;
        trainer.EpochCompleted += p => { if (p.Epoch == 1) afterEpoch1 = net.Parameters.ToArray(); };
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(Sines<double>(0, 40)));
        Assert.Contains("weights of epoch 1", e.Message, StringComparison.Ordinal);
        Assert.Equal(afterEpoch1, net.Parameters.ToArray());
    }

    private static TheoryData<string, EkfOptions> BadOptionCases() => new()
    {
        { "MeasurementNoise", new EkfOptions { MeasurementNoise = 0 } },
        { "FinalMeasurementNoise", new EkfOptions { FinalMeasurementNoise = double.NaN } },
        { "ProcessNoise", new EkfOptions { ProcessNoise = -1e-3 } },
        { "FinalProcessNoise", new EkfOptions { FinalProcessNoise = double.PositiveInfinity } },
        { "InitialCovariance", new EkfOptions { InitialCovariance = -2 } },
        { "TruncationDepth", new EkfOptions { TruncationDepth = 0 } },
        { "UpdateEvery", new EkfOptions { UpdateEvery = 0 } },
        { "Epochs", new EkfOptions { Epochs = 0 } },
        { "Patience", new EkfOptions { Patience = -1 } },
        { "MaxCovarianceBytes", new EkfOptions { MaxCovarianceBytes = 0 } },
        { "Variant", new EkfOptions { Variant = (EkfVariant)7 } },
    };

    // Indices, not the records: xUnit enumerates (and the ARM64 runner counts) only serializable theory data at discovery.
    public static TheoryData<int> BadOptions() => new(Enumerable.Range(0, BadOptionCases().Count));

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadOption_IsRefusedNamingItAndItsValue(int index)
    {
        object[] row = BadOptionCases().ElementAt(index);
        string name = (string)row[0];
        var options = (EkfOptions)row[1];
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [2], 1), 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new EkfTrainer<double>(net, options));
        Assert.Equal(name, e.ParamName);
        Assert.Contains(name, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownOrEmptyTrainableParameters_AreRefused()
    {
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [2], 1), 1);
        var e = Assert.Throws<ArgumentException>(() => new EkfTrainer<double>(net, new EkfOptions { TrainableParameters = ["readout.weights"] }));
        Assert.Contains("'readout.weights'", e.Message, StringComparison.Ordinal);
        Assert.Contains("readout.weight,", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new EkfTrainer<double>(net, new EkfOptions { TrainableParameters = [] }));
    }

    [Fact]
    public void GlobalCovarianceOverTheMemoryBound_IsRefusedNamingTheBytes()
    {
        // The tool's default network: LSTM, H = 32, 4 inputs, 1 output, n = 4897 weights.
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 4, [32], 1), 1);
        long bytes = 4897L * 4898 / 2 * 8;
        var e = Assert.Throws<ArgumentException>(() => new EkfTrainer<float>(net, new EkfOptions { Variant = EkfVariant.Global, MaxCovarianceBytes = 50_000_000 }));
        Assert.Contains($"{bytes} bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("NodeDecoupled", e.Message, StringComparison.Ordinal);
        var decoupled = new EkfTrainer<float>(net, new EkfOptions { MaxCovarianceBytes = 50_000_000 });
        Assert.Equal(33, decoupled.Blocks);
        Assert.Equal(4897, decoupled.StateSize);
        Assert.Equal((32L * 152 * 153 / 2 + 33 * 34 / 2) * 8, decoupled.CovarianceBytes);
    }

    [Fact]
    public void NodeDecoupledBlocks_AreTheWeightsFeedingEachUnitAndEachOutput()
    {
        const int input = 3, h0 = 4, h1 = 5, outputs = 2;
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Lstm, input, [h0, h1], outputs), 1);
        var trainer = new EkfTrainer<double>(net, new EkfOptions());
        Assert.Equal(h0 + h1 + outputs, trainer.Blocks);
        ReadOnlySpan<int> perm = trainer.Permutation;
        Assert.Equal(net.Parameters.Length, perm.Length);
        // Expected block of each parameter, from the PyTorch layout: gate rows g·H + u of layer l belong to unit u.
        var expected = new List<HashSet<int>>();
        for (int l = 0; l < 2; l++)
        {
            int h = l == 0 ? h0 : h1, inSize = l == 0 ? input : h0;
            for (int u = 0; u < h; u++)
            {
                var set = new HashSet<int>();
                for (int g = 0; g < 4; g++)
                {
                    int row = g * h + u;
                    for (int c = 0; c < inSize; c++) set.Add(net.Layout[$"weight_ih_l{l}"].Offset + row * inSize + c);
                    for (int c = 0; c < h; c++) set.Add(net.Layout[$"weight_hh_l{l}"].Offset + row * h + c);
                    set.Add(net.Layout[$"bias_ih_l{l}"].Offset + row);
                    set.Add(net.Layout[$"bias_hh_l{l}"].Offset + row);
                }
                expected.Add(set);
            }
        }
        for (int o = 0; o < outputs; o++)
        {
            var set = new HashSet<int>();
            for (int c = 0; c < h1; c++) set.Add(net.Layout["readout.weight"].Offset + o * h1 + c);
            set.Add(net.Layout["readout.bias"].Offset + o);
            expected.Add(set);
        }
        int at = 0;
        foreach (HashSet<int> set in expected)
        {
            var actual = new HashSet<int>(perm.Slice(at, set.Count).ToArray());
            Assert.True(set.SetEquals(actual), $"block starting at {at}");
            // P0 is the identity scale inside the block and 0 across blocks.
            Assert.Equal(1, trainer.Covariance(at, at));
            if (at > 0) Assert.Equal(0, trainer.Covariance(at - 1, at));
            at += set.Count;
        }
    }

    [Fact]
    public void SameNetworkAndOptions_GiveBitwiseTheSameWeights()
    {
        double[] Run()
        {
            var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Gru, 1, [4], 1), 12);
            new EkfTrainer<double>(net, new EkfOptions { Epochs = 3, UpdateEvery = 2 }).Fit(Sines<double>(0, 120), Sines<double>(120, 40));
            return net.Parameters.ToArray();
        }
        Assert.Equal(Run(), Run());
    }

    [Theory]
    [InlineData(EkfVariant.Global)]
    [InlineData(EkfVariant.NodeDecoupled)]
    public void FloatNetwork_LowersTheValidationLoss(EkfVariant variant)
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [5], 1), 21);
        SequenceData<float> train = Sines<float>(0, 300), validation = Sines<float>(300, 100);
        double before = SequenceLoss.WeightedMse(net, net.CreateState(), new float[1], train, validation);
        TrainingResult r = new EkfTrainer<float>(net, new EkfOptions { Variant = variant, Epochs = 4, MeasurementNoise = 10, FinalMeasurementNoise = 1, InitialCovariance = 10, ProcessNoise = 1e-3 }).Fit(train, validation);
        double after = SequenceLoss.WeightedMse(net, net.CreateState(), new float[1], train, validation);
        Assert.Equal(r.BestLoss, after, 1e-6);
        Assert.True(after < before / 10, $"{variant}: validation MSE {before} -> {after}");
        Assert.Equal(4 * 300, r.Windows);
        Assert.All(r.History, p => Assert.True(double.IsNaN(p.ValidationLoss) == false && p.LearningRate > 0));
    }

    [Fact]
    public void Cancellation_ReturnsWithTheFlag_AndEarlyStoppingHonoursPatience()
    {
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [3], 1), 2);
        double[] initial = net.Parameters.ToArray();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        TrainingResult cancelled = new EkfTrainer<double>(net).Fit(Sines<double>(0, 30), null, cts.Token);
        Assert.True(cancelled.Cancelled);
        Assert.Equal(0, cancelled.EpochsRun);
        Assert.Equal(initial, net.Parameters.ToArray());

        // A validation series the network cannot improve on after the first epochs (constant targets far away):
        // patience 1 stops as soon as one epoch fails to improve.
        var constant = new SequenceData<double>(new double[20], Enumerable.Repeat(50.0, 20).ToArray(), 1, 1);
        TrainingResult r = new EkfTrainer<double>(net, new EkfOptions { Epochs = 30, Patience = 1 }).Fit(Sines<double>(0, 60), constant);
        Assert.True(r.StoppedEarly);
        Assert.Equal(r.BestEpoch + 1, r.EpochsRun);
    }

    [Fact]
    public void DataShorterThanAnInstanceOrWithoutTargets_IsRefused()
    {
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [3], 1), 2);
        Assert.Throws<ArgumentException>(() => new EkfTrainer<double>(net, new EkfOptions { UpdateEvery = 8 }).Fit(Sines<double>(0, 5)));
        var masked = new SequenceData<double>(new double[10], new double[10], 1, 1, new double[10]);
        Assert.Contains("nothing to train on", Assert.Throws<ArgumentException>(() => new EkfTrainer<double>(net).Fit(masked)).Message, StringComparison.Ordinal);
        var wide = new SequenceData<double>(new double[10], new double[10], 2, 2);
        Assert.Throws<ArgumentException>(() => new EkfTrainer<double>(net).Fit(wide));
    }
}
