using Rnn.Simd.Alternatives.Reservoir;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Alternatives.Readout;
using Rnn.Simd.Training;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Reservoir;

/// <summary>
/// <see cref="EsnTrainer{T}"/> against an independent pipeline: states from the scalar leaky-ESN recurrence
/// (<see cref="ScalarEsn"/>), the washout and zero-weight steps dropped by hand, and the weighted ridge solution by
/// naive accumulation and Gauss-Jordan (<see cref="RidgeReadoutTests.NaiveRidge"/>).
/// </summary>
public class EsnTrainerTests
{
    /// <summary>A noisy two-tone signal: input the value at t, target the value at t + 3 (two outputs: it and its square).</summary>
    private static SequenceData<T> Task<T>(int steps, int offset, bool weights, int outputs = 2) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        double[] noise = Uniform((ulong)(offset + 1), steps + 3, -0.05, 0.05);
        double Signal(int t) => Math.Sin((t + offset) * 0.31) + 0.5 * Math.Sin((t + offset) * 0.071) + noise[t];
        var x = new T[steps];
        var y = new T[steps * outputs];
        T[]? w = weights ? new T[steps * outputs] : null;
        for (int t = 0; t < steps; t++)
        {
            x[t] = T.CreateTruncating(Signal(t));
            double target = Signal(t + 3);
            y[t * outputs] = T.CreateTruncating(target);
            if (outputs > 1) y[t * outputs + 1] = T.CreateTruncating(target * target);
            if (w is not null)
                for (int j = 0; j < outputs; j++) w[t * outputs + j] = T.CreateTruncating(t % 7 == 0 ? 0.0 : t % 5 == 0 ? 2.5 : 1.0);
        }
        return new SequenceData<T>(x, y, 1, outputs, w);
    }

    [Theory]
    [InlineData(1.0, false, false)]
    [InlineData(0.5, true, false)]
    [InlineData(1.0, false, true)]
    [InlineData(0.5, true, true)]
    public void Fit_ReadoutEqualsNaiveRidgeOverScalarStates(double leak, bool weights, bool direct)
    {
        const int units = 25, steps = 400, washout = 30, o = 2;
        const double lambda = 0.05;
        var options = new EsnOptions { Units = units, Density = 0.2, LeakRate = leak, Ridge = lambda, Washout = washout, Seed = 8, InputScaling = 0.8, DirectInputReadout = direct };
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(options, 1, o);
        SequenceData<double> train = Task<double>(steps, 0, weights);
        var trainer = new EsnTrainer<double>(net, options);
        TrainingResult result = trainer.Fit(train);
        Assert.Equal(1, result.EpochsRun);
        Assert.Equal(lambda, trainer.SelectedRidge);

        (double[] win, double[] w, double[] b) = ScalarEsn.Read(net);
        var state = new double[units];
        var rows = new List<double>();
        var targets = new List<double>();
        var rowWeights = new List<double>();
        for (int t = 0; t < steps; t++)
        {
            ScalarEsn.Step(win, w, b, units, 1, leak, train.Inputs.AsSpan(t, 1), state);
            if (t < washout) continue;
            rows.AddRange(state);
            if (direct) rows.Add(train.Inputs[t]); // [h; u; 1] (Lukoševičius 2012 Eq. 4)
            rows.Add(1);
            targets.Add(train.Targets[t * o]);
            targets.Add(train.Targets[t * o + 1]);
            rowWeights.Add(train.TargetWeights is null ? 1 : train.TargetWeights[t * o]);
        }
        int d = units + (direct ? 1 : 0) + 1;
        double[] expected = RidgeReadoutTests.NaiveRidge([.. rows], [.. targets], [.. rowWeights], rowWeights.Count, d, o, lambda, biasLast: true);
        Span<double> wo = net.Parameter("readout.weight"), bo = net.Parameter("readout.bias");
        Assert.Equal(direct, net.Architecture.InputToOutput);
        double scale = expected.Max(Math.Abs), worst = 0;
        for (int j = 0; j < o; j++)
        {
            for (int r = 0; r < units; r++) worst = Math.Max(worst, Math.Abs(wo[j * units + r] - expected[j * d + r]));
            if (direct) worst = Math.Max(worst, Math.Abs(net.Parameter(ParameterLayout.InputToOutputName)[j] - expected[j * d + units]));
            worst = Math.Max(worst, Math.Abs(bo[j] - expected[j * d + d - 1]));
        }
        Assert.True(worst <= 1e-9 * scale, $"readout differs from the naive ridge by {worst:E3} (scale {scale:E2})");

        // The reported training loss is the weighted MSE of the fitted network over the post-washout steps.
        double sse = 0, sw = 0;
        for (int k = 0; k < rowWeights.Count; k++)
            for (int j = 0; j < o; j++)
            {
                double pred = 0;
                for (int r = 0; r < d; r++) pred += expected[j * d + r] * rows[k * d + r];
                double e = pred - targets[k * o + j];
                sse += rowWeights[k] * e * e;
                sw += rowWeights[k];
            }
        Assert.Equal(sse / sw, result.History[0].TrainLoss, 1e-9);
    }

    [Fact]
    public void Fit_TargetWeightsThatDifferBetweenOutputs_FitEachOutputWithItsOwnWeights()
    {
        const int units = 15, steps = 300, washout = 10, o = 2;
        const double lambda = 0.02;
        var options = new EsnOptions { Units = units, Density = 0.3, Ridge = lambda, Washout = washout, Seed = 12 };
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(options, 1, o);
        SequenceData<double> plain = Task<double>(steps, 0, false);
        var w = new double[steps * o];
        for (int t = 0; t < steps; t++)
        {
            w[t * o] = t % 3 == 0 ? 0 : 1;       // output 0: every third target missing
            w[t * o + 1] = t < 150 ? 0.5 : 2;    // output 1: weighted by era
        }
        var train = new SequenceData<double>(plain.Inputs, plain.Targets, 1, o, w);
        new EsnTrainer<double>(net, options).Fit(train);

        (double[] win, double[] wr, double[] b) = ScalarEsn.Read(net);
        var state = new double[units];
        var rows = new List<double>();
        for (int t = 0; t < steps; t++)
        {
            ScalarEsn.Step(win, wr, b, units, 1, 1.0, train.Inputs.AsSpan(t, 1), state);
            if (t < washout) continue;
            rows.AddRange(state);
            rows.Add(1);
        }
        int n = steps - washout;
        for (int j = 0; j < o; j++)
        {
            var y = new double[n];
            var wj = new double[n];
            for (int k = 0; k < n; k++)
            {
                y[k] = train.Targets[(k + washout) * o + j];
                wj[k] = w[(k + washout) * o + j];
            }
            double[] expected = RidgeReadoutTests.NaiveRidge([.. rows], y, wj, n, units + 1, 1, lambda, biasLast: true);
            for (int r = 0; r < units; r++) Assert.Equal(expected[r], net.Parameter("readout.weight")[j * units + r], 1e-9);
            Assert.Equal(expected[units], net.Parameter("readout.bias")[j], 1e-9);
        }
    }

    [Fact]
    public void Fit_WithValidation_KeepsTheValidationBestLambda_AndItsLossIsTheNetworks()
    {
        var options = new EsnOptions { Units = 60, Density = 0.1, Washout = 20, Ridge = 1e3, RidgeCandidates = [1e-8, 1e-4, 1e-2, 1, 10], Seed = 4 };
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(options, 1, 1);
        SequenceData<double> train = Task<double>(600, 0, false, 1), validation = Task<double>(200, 600, false, 1);
        var trainer = new EsnTrainer<double>(net, options);
        var seen = new List<EpochProgress>();
        trainer.EpochCompleted += seen.Add;
        TrainingResult result = trainer.Fit(train, validation);

        Assert.Equal(6, result.EpochsRun);
        Assert.Equal(6, seen.Count);
        double min = seen.Min(p => p.ValidationLoss);
        Assert.Equal(min, result.BestLoss);
        Assert.Equal(min, seen[result.BestEpoch - 1].ValidationLoss);
        Assert.True(seen[result.BestEpoch - 1].IsBest);
        Assert.NotEqual(1e3, trainer.SelectedRidge); // the huge default λ is not the best here
        Assert.True(double.IsNaN(seen[0].LearningRate) && double.IsNaN(seen[0].GradientNorm));

        // The selected network, run densely by its own Step after a warm-up over train, gives that loss.
        double networkLoss = SequenceLoss.WeightedMse(net, net.CreateState(), new double[1], train, validation);
        Assert.Equal(networkLoss, result.BestLoss, 1e-10);
        Assert.True(networkLoss < 0.01, $"validation MSE {networkLoss}");
    }

    [Fact]
    public void Fit_Float_LearnsTheTask()
    {
        var options = new EsnOptions { Units = 100, Density = 0.1, Washout = 50, Ridge = 1e-3 };
        RecurrentNetwork<float> net = EchoStateNetwork.CreateNetwork<float>(options, 1, 1);
        SequenceData<float> train = Task<float>(1000, 0, true, 1), validation = Task<float>(300, 1000, false, 1);
        TrainingResult result = new EsnTrainer<float>(net, options).Fit(train, validation);
        double variance = 0, mean = validation.Targets.Average(v => (double)v);
        foreach (float v in validation.Targets) variance += (v - mean) * (v - mean) / validation.Steps;
        Assert.True(result.BestLoss < 0.02 * variance, $"validation MSE {result.BestLoss} vs variance {variance}");
        Assert.Equal(result.BestLoss, SequenceLoss.WeightedMse(net, net.CreateState(), new float[1], train, validation), 1e-4);
    }

    [Fact]
    public void OutputFeedback_TeacherForcedThenGenerative_ContinuesASine()
    {
        // Jaeger 2001's sine generator: no real input (a constant 0 here), the output fed back.
        const int trainSteps = 1500, freeSteps = 300;
        static double Sine(int t) => 0.5 * Math.Sin(t * 0.2);
        var options = new EsnOptions { Units = 80, Density = 0.2, SpectralRadius = 0.8, OutputFeedback = true, FeedbackScaling = 1.0, InputScaling = 0, BiasScaling = 0.2, Ridge = 1e-9, Washout = 100, Seed = 21 };
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(options, 1, 1);
        Assert.Equal(2, net.Architecture.InputSize);
        var x = new double[trainSteps];
        var y = new double[trainSteps];
        for (int t = 0; t < trainSteps; t++) y[t] = Sine(t); // target at t is the signal at t; the feedback at t is y(t-1)
        new EsnTrainer<double>(net, options).Fit(new SequenceData<double>(x, y, 1, 1));

        // Teacher-forced warm-up through the network itself, then a free run.
        NetworkState<double> state = net.CreateState();
        var output = new double[1];
        double previous = 0;
        for (int t = 0; t < trainSteps; t++)
        {
            net.Step([0, previous], output, state);
            previous = y[t];
        }
        var generated = new double[freeSteps];
        EchoStateNetwork.RunGenerative<double>(net, state, new double[freeSteps], [y[^1]], generated);
        double worst = 0;
        for (int t = 0; t < freeSteps; t++) worst = Math.Max(worst, Math.Abs(generated[t] - Sine(trainSteps + t)));
        Assert.True(worst < 0.02, $"free-run error {worst} over {freeSteps} steps");
    }

    [Fact]
    public void TrainMembers_EachMemberIsTheSingleTrainerOfItsSeed()
    {
        var options = new EsnOptions { Units = 20, Members = 3, Seed = 30, Washout = 10 };
        SequenceData<double> train = Task<double>(200, 0, false, 1), validation = Task<double>(50, 200, false, 1);
        (RecurrentNetwork<double>[] nets, TrainingResult[] results) = EchoStateNetwork.TrainMembers(options, train, validation);
        Assert.Equal(3, nets.Length);
        Assert.Equal(3, results.Length);
        for (int k = 0; k < 3; k++)
        {
            RecurrentNetwork<double> single = EchoStateNetwork.CreateNetwork<double>(options.ForMember(k), 1, 1);
            new EsnTrainer<double>(single, options.ForMember(k)).Fit(train, validation);
            Assert.True(single.Parameters.SequenceEqual(nets[k].Parameters), $"member {k}");
        }
        Assert.False(nets[0].Parameters.SequenceEqual(nets[1].Parameters));
    }

    [Fact]
    public void DirectInputReadout_NeedsTheInputToOutputTerm()
    {
        var options = new EsnOptions { Units = 10, DirectInputReadout = true };
        var plain = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [10], 1));
        Assert.Contains("input-to-output readout term", Assert.Throws<ArgumentException>(() => new EsnTrainer<double>(plain, options)).Message, StringComparison.Ordinal);
        RecurrentNetwork<double> direct = EchoStateNetwork.CreateNetwork<double>(options, 1, 1);
        Assert.True(direct.Architecture.InputToOutput);
        Assert.Throws<ArgumentException>(() => new EsnTrainer<double>(direct, options with { DirectInputReadout = false }));
    }

    [Fact]
    public void WrongNetwork_IsRefused()
    {
        var options = new EsnOptions { Units = 10 };
        var lstm = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Lstm, 1, [10], 1));
        Assert.Contains("Elman", Assert.Throws<ArgumentException>(() => new EsnTrainer<double>(lstm, options)).Message, StringComparison.Ordinal);
        var wrongSize = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [12], 1));
        Assert.Contains("Units = 10", Assert.Throws<ArgumentException>(() => new EsnTrainer<double>(wrongSize, options)).Message, StringComparison.Ordinal);
        var stacked = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [10, 10], 1));
        Assert.Throws<ArgumentException>(() => new EsnTrainer<double>(stacked, options));
        var elman = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [10], 1));
        Assert.Contains("highway", Assert.Throws<ArgumentException>(() => new EsnTrainer<double>(elman, options with { LeakRate = 0.5 })).Message, StringComparison.Ordinal);

        var trainer = new EsnTrainer<double>(elman, options);
        Assert.Throws<ArgumentException>(() => trainer.Fit(Task<double>(50, 0, false, 2)));
    }

    [Fact]
    public void AnyNetworkOfTheRightShape_GetsTheReservoirOfTheSeed()
    {
        var options = new EsnOptions { Units = 12, Seed = 77 };
        var plain = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Elman, 1, [12], 1), seed: 1234);
        _ = new EsnTrainer<double>(plain, options);
        RecurrentNetwork<double> reference = EchoStateNetwork.CreateNetwork<double>(options, 1, 1);
        Assert.True(plain.Parameters.SequenceEqual(reference.Parameters));
    }

    [Fact]
    public void LambdaZero_CollinearStates_ThrowsInvalidOperation()
    {
        // A reservoir driven by a constant input settles to a fixed point: after the washout every state row is the
        // same vector, so [h; 1] has rank 1 and λ = 0 cannot be solved.
        var options = new EsnOptions { Units = 8, Density = 0.5, Ridge = 0, Washout = 200, SpectralRadius = 0.5 };
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(options, 1, 1);
        var x = new double[400];
        Array.Fill(x, 0.3);
        var ex = Assert.Throws<InvalidOperationException>(() => new EsnTrainer<double>(net, options).Fit(new SequenceData<double>(x, Uniform(3, 400), 1, 1)));
        Assert.Contains("not positive definite", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancelled_BeforeFit_LeavesTheReadoutUntouched()
    {
        var options = new EsnOptions { Units = 20 };
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(options, 1, 1);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        TrainingResult result = new EsnTrainer<double>(net, options).Fit(Task<double>(300, 0, false, 1), null, cts.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(0, result.EpochsRun);
        foreach (double v in net.Parameter("readout.weight")) Assert.Equal(0.0, v);
    }

    [Fact]
    public void WashoutLongerThanTheData_IsAClearError()
    {
        var options = new EsnOptions { Units = 10, Washout = 500 };
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(options, 1, 1);
        var ex = Assert.Throws<ArgumentException>(() => new EsnTrainer<double>(net, options).Fit(Task<double>(100, 0, false, 1)));
        Assert.Contains("washout", ex.Message, StringComparison.Ordinal);
    }
}

/// <summary>The harvesting step (sparse reservoir step, feature row, readout accumulation) allocates nothing.</summary>
[Collection(Rnn.Simd.Tests.Kernels.AllocationCollection.Name)]
public class EsnAllocationTests
{
    [Fact]
    public void ReservoirStepAndReadoutAdd_AllocateNothingAfterWarmUp()
    {
        var options = new EsnOptions { Units = 200, Density = 0.05, LeakRate = 0.7 };
        RecurrentNetwork<float> net = EchoStateNetwork.CreateNetwork<float>(options, 3, 1);
        var runner = new ReservoirRunner<float>(net);
        var readout = new Rnn.Simd.Alternatives.Readout.RidgeReadout(options.Units + 1, 1, lastFeatureIsBias: true);
        var h = new float[options.Units];
        var z = new float[options.Units + 1];
        float[] x = Convert<float>(Uniform(1, 3)), y = [0.5f];
        z[^1] = 1;
        for (int t = 0; t < 600; t++) Harvest(runner, readout, x, h, z, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 1000; t++) Harvest(runner, readout, x, h, z, y);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated over 1000 harvesting steps");
    }

    private static void Harvest(ReservoirRunner<float> runner, Rnn.Simd.Alternatives.Readout.RidgeReadout readout, float[] x, float[] h, float[] z, float[] y)
    {
        runner.Step(x, h);
        h.CopyTo(z, 0);
        readout.Add<float>(z, y, 1.0);
    }
}
