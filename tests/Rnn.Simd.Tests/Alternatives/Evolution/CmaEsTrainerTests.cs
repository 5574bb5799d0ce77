using Rnn.Simd.Alternatives.Evolution;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Xunit.Abstractions;

namespace Rnn.Simd.Tests.Alternatives.Evolution;

public class CmaEsTrainerTests(ITestOutputHelper output)
{
    /// <summary>x_t = (sin(0.3t), cos(0.3t)) → target sin(0.3(t + 3)); some targets masked (weight 0) and set to garbage.</summary>
    internal static SequenceData<T> SineData<T>(int steps, int offset = 0) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        var x = new T[steps * 2];
        var y = new T[steps];
        var w = new T[steps];
        for (int t = 0; t < steps; t++)
        {
            double s = t + offset;
            x[2 * t] = T.CreateTruncating(Math.Sin(0.3 * s));
            x[2 * t + 1] = T.CreateTruncating(Math.Cos(0.3 * s));
            bool masked = t % 7 == 3;
            y[t] = T.CreateTruncating(masked ? 1e3 : Math.Sin(0.3 * (s + 3)));
            w[t] = masked ? T.Zero : T.One;
        }
        return new SequenceData<T>(x, y, 2, 1, w);
    }

    private static RecurrentNetwork<T> Net<T>(CellType cell, int hidden = 4, ulong seed = 7) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T> =>
        new(NetworkArchitecture.Uniform(cell, 2, hidden, 1, 1), seed);

    [Theory]
    [InlineData(CellType.Lstm, CmaEsVariant.Full)]
    [InlineData(CellType.Gru, CmaEsVariant.Separable)]
    [InlineData(CellType.Elman, CmaEsVariant.Full)]
    public void OneAndTwoThreads_GiveBitwiseTheSameWeightsAndHistory(CellType cell, CmaEsVariant variant)
    {
        SequenceData<double> train = SineData<double>(120), validation = SineData<double>(40, 120);
        (double[] weights, TrainingResult result) Run(int threads)
        {
            RecurrentNetwork<double> net = Net<double>(cell);
            var trainer = new CmaEsTrainer<double>(net, new CmaEsTrainerOptions { MaxGenerations = 8, Threads = threads, Variant = variant, Seed = 11 });
            TrainingResult r = trainer.Fit(train, validation);
            return (net.Parameters.ToArray(), r);
        }
        var one = Run(1);
        var two = Run(2);
        Assert.Equal(one.weights, two.weights);
        Assert.Equal(one.result.History, two.result.History.Select((p, i) => p with { Elapsed = one.result.History[i].Elapsed }));
        Assert.Equal(one.result.BestEpoch, two.result.BestEpoch);
        Assert.Equal(one.result.BestLoss, two.result.BestLoss);
    }

    [Fact]
    public void Fit_KeepsTheValidationSelectedCandidate_AndLowersTheLoss()
    {
        SequenceData<double> train = SineData<double>(150), validation = SineData<double>(50, 150);
        RecurrentNetwork<double> net = Net<double>(CellType.Lstm);
        NetworkState<double> state = net.CreateState();
        var scratch = new double[1];
        double before = SequenceLoss.WeightedMse(net, state, scratch, train, validation);
        var trainer = new CmaEsTrainer<double>(net, new CmaEsTrainerOptions { MaxGenerations = 40, Seed = 3 });
        var seen = new List<EpochProgress>();
        trainer.EpochCompleted += seen.Add;
        TrainingResult result = trainer.Fit(train, validation);

        Assert.Equal(40, result.EpochsRun);
        Assert.Equal(seen, result.History);
        Assert.Equal(trainer.Strategy!.Evaluations, result.Windows);
        double bestValidation = result.History.Min(p => p.ValidationLoss);
        Assert.Equal(bestValidation, result.BestLoss);
        Assert.Equal(bestValidation, result.History[result.BestEpoch - 1].ValidationLoss);
        Assert.Equal(result.History.Count(p => p.IsBest), result.History.Select((p, i) => p.ValidationLoss < result.History.Take(i).Select(q => q.ValidationLoss).DefaultIfEmpty(double.PositiveInfinity).Min()).Count(b => b));
        // The network holds exactly the kept candidate: its validation loss, recomputed, is the best one.
        Assert.Equal(result.BestLoss, SequenceLoss.WeightedMse(net, state, scratch, train, validation));
        Assert.All(result.History, p => Assert.True(double.IsNaN(p.GradientNorm) && p.LearningRate > 0));
        output.WriteLine($"validation MSE {before:F4} -> {result.BestLoss:F4}");
        Assert.True(result.BestLoss < 0.5 * before, $"validation MSE {before} -> {result.BestLoss}");
        // The masked targets (1e3) never entered the loss.
        Assert.All(result.History, p => Assert.True(p.TrainLoss < 10));
    }

    [Fact]
    public void Fit_OnTheDefaultSeries_LowersTheLossOfASmallLstm()
    {
        // The tool's default task (embedded ACEA load, the acea-hourly features and horizon): an LSTM with H = 4 (165
        // parameters, so Auto picks sep-CMA-ES), fitness on the first 1500 training hours to keep the test short.
        TimeSeries hourly;
        using (Stream stream = typeof(Rnn.Simd.Cli.Program).Assembly.GetManifestResourceStream("Rnn.Simd.Cli.Data.acea-rome-10min.csv.gz")!)
            hourly = CsvSeriesReader.Read(stream).Aggregate(6);
        ForecastPreset preset = ForecastPresets.AceaHourly;
        var data = ForecastDataset.Create(hourly, preset.CreateOptions(), TimeMask.Exclude(16000, 17848));
        SequenceData<float> full = data.Train.ToSequenceData();
        int steps = 1500, inSize = full.InputSize;
        var train = new SequenceData<float>(full.Inputs[..(steps * inSize)], full.Targets[..steps], inSize, 1, full.TargetWeights![..steps]);
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Lstm, inSize, 4, 1, 1), 1);
        NetworkState<float> state = net.CreateState();
        var scratch = new float[1];
        double before = SequenceLoss.WeightedMse(net, state, scratch, null, train);
        var trainer = new CmaEsTrainer<float>(net, new CmaEsTrainerOptions { MaxGenerations = 25, Seed = 1 });
        TrainingResult result = trainer.Fit(train);
        double after = SequenceLoss.WeightedMse(net, state, scratch, null, train);
        output.WriteLine($"{trainer.Variant}, λ = {trainer.Strategy!.PopulationSize}: training MSE {before:F4} -> {after:F4} in {result.EpochsRun} generations, {result.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(CmaEsVariant.Separable, trainer.Variant);
        Assert.Equal(result.BestLoss, after);
        Assert.True(after < 0.8 * before, $"training MSE {before} -> {after}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Generations_AllocateNothingAfterWarmUp(int threads)
    {
        SequenceData<float> train = SineData<float>(60), validation = SineData<float>(20, 60);
        RecurrentNetwork<float> net = Net<float>(CellType.Lstm);
        var trainer = new CmaEsTrainer<float>(net, new CmaEsTrainerOptions { MaxGenerations = 30, Threads = threads, Variant = CmaEsVariant.Full });
        var allocated = new long[31];
        trainer.EpochCompleted += p => allocated[p.Epoch] = GC.GetAllocatedBytesForCurrentThread();
        trainer.Fit(train, validation);
        Assert.True(allocated[30] == allocated[3], $"{allocated[30] - allocated[3]} bytes allocated on the training thread over generations 4-30");
    }

    [Fact]
    public void Cancellation_StopsAtTheNextGeneration_WithTheBestSoFar()
    {
        SequenceData<double> train = SineData<double>(80);
        RecurrentNetwork<double> net = Net<double>(CellType.Gru);
        using var cts = new CancellationTokenSource();
        var trainer = new CmaEsTrainer<double>(net, new CmaEsTrainerOptions { MaxGenerations = 50 });
        trainer.EpochCompleted += p => { if (p.Epoch == 3) cts.Cancel(); };
        TrainingResult result = trainer.Fit(train, null, cts.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(3, result.EpochsRun);
        NetworkState<double> state = net.CreateState();
        Assert.Equal(result.BestLoss, SequenceLoss.WeightedMse(net, state, new double[1], null, train));
    }

    [Fact]
    public void Budget_Patience_AndTarget_StopTheRun()
    {
        SequenceData<double> train = SineData<double>(50);
        var byBudget = new CmaEsTrainer<double>(Net<double>(CellType.Elman), new CmaEsTrainerOptions { PopulationSize = 6, MaxEvaluations = 20 }).Fit(train);
        Assert.Equal(3, byBudget.EpochsRun);
        Assert.Equal(18, byBudget.Windows);
        var byTarget = new CmaEsTrainer<double>(Net<double>(CellType.Elman), new CmaEsTrainerOptions { TargetLoss = 1e9 }).Fit(train);
        Assert.Equal(1, byTarget.EpochsRun);
        Assert.True(byTarget.StoppedEarly);
    }

    [Fact]
    public void BadOptions_AreRefusedWithTheOptionNamed()
    {
        RecurrentNetwork<double> net = Net<double>(CellType.Lstm);
        Assert.Equal("PopulationSize", Assert.Throws<ArgumentOutOfRangeException>(() => new CmaEsTrainer<double>(net, new CmaEsTrainerOptions { PopulationSize = 1 })).ParamName);
        Assert.Equal("InitialSigma", Assert.Throws<ArgumentOutOfRangeException>(() => new CmaEsTrainer<double>(net, new CmaEsTrainerOptions { InitialSigma = -1 })).ParamName);
        Assert.Equal("MaxGenerations", Assert.Throws<ArgumentOutOfRangeException>(() => new CmaEsTrainer<double>(net, new CmaEsTrainerOptions { MaxGenerations = 0 })).ParamName);
        Assert.Equal("Threads", Assert.Throws<ArgumentOutOfRangeException>(() => new CmaEsTrainer<double>(net, new CmaEsTrainerOptions { Threads = -1 })).ParamName);
        Assert.Equal("Patience", Assert.Throws<ArgumentOutOfRangeException>(() => new CmaEsTrainer<double>(net, new CmaEsTrainerOptions { Patience = -2 })).ParamName);
        var big = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Lstm, 4, 64, 1, 1));
        var e = Assert.Throws<ArgumentException>(() => new CmaEsTrainer<float>(big, new CmaEsTrainerOptions { Variant = CmaEsVariant.Full }));
        Assert.Contains("bytes", e.Message, StringComparison.Ordinal);
        Assert.Equal(CmaEsVariant.Separable, new CmaEsTrainer<float>(big).Variant);
        var trainer = new CmaEsTrainer<double>(net);
        Assert.Throws<ArgumentException>(() => trainer.Fit(new SequenceData<double>(new double[6], new double[2], 3, 1)));
    }
}
