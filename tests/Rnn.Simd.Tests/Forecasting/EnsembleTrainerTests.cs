using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Initialization;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Tests.Forecasting;

/// <summary>
/// <see cref="EnsembleTrainer{T}"/>: member k is bitwise the single run of seed S + k (weights, dropout masks, the
/// re-initialisation hook), the combined result sums the members, the fit hook sees each member, and cancellation keeps
/// the members trained so far. Tiny budgets: H = 4, 3 epochs on a 600-step series.
/// </summary>
public class EnsembleTrainerTests
{
    private static readonly ForecastDataset Data = ForecastDataset.Create(
        new TimeSeries(Enumerable.Range(0, 600).Select(t => (float)(50 + 10 * Math.Sin(2 * Math.PI * t / 24))).ToArray()), new ForecastOptions(2));

    private static readonly NetworkArchitecture Arch = NetworkArchitecture.Uniform(CellType.Lstm, 1, 4, 1, 1);

    // Output dropout seeded per member, so that a wrong seed shows in the weights even with the same initial weights.
    private static TrainerOptions Options(ulong seed) => new()
    {
        BatchSize = 4, Bptt = BpttSchedule.Default(12), Epochs = 3, Patience = 0, LearningRate = 1e-2, ClipNorm = 5,
        Dropout = new DropoutOptions(Output: 0.1, Seed: seed),
    };

    private static void Glorot(RecurrentNetwork<float> network, ulong seed) =>
        Initializers.Initialize(network, new InitializationOptions { InputWeights = WeightInit.GlorotUniform, RecurrentWeights = WeightInit.GlorotUniform }, seed);

    [Fact]
    public void Members_AreTheSingleRunsOfConsecutiveSeeds_AndTheCombinedResultSumsThem()
    {
        SequenceData<float> train = Data.Train.ToSequenceData(), validation = Data.Validation!.ToSequenceData();
        var seen = new List<(int, ulong)>();
        var ensemble = new EnsembleTrainer<float>(Arch, (k, seed) => { seen.Add((k, seed)); return Options(seed); })
        {
            Members = 3, Seed = 41, Initialize = Glorot,
        };
        EnsembleResult<float> r = ensemble.Fit(train, validation);

        Assert.Equal([(0, 41UL), (1, 42UL), (2, 43UL)], seen);
        Assert.Equal(3, r.Members.Count);
        Assert.False(r.Cancelled);
        for (int k = 0; k < 3; k++)
        {
            var net = new RecurrentNetwork<float>(Arch, 41 + (ulong)k);
            Glorot(net, 41 + (ulong)k);
            TrainingResult single = new Trainer<float>(net, Options(41 + (ulong)k)).Fit(train, validation);
            Assert.Equal(net.Parameters.ToArray(), r.Members[k].Parameters.ToArray());
            Assert.Equal(single.BestEpoch, r.MemberResults[k].BestEpoch);
            Assert.Equal(single.BestLoss, r.MemberResults[k].BestLoss);
            Assert.Equal(single.History.Select(p => p.TrainLoss), r.MemberResults[k].History.Select(p => p.TrainLoss));
        }
        Assert.NotEqual(r.Members[0].Parameters.ToArray(), r.Members[1].Parameters.ToArray());
        TrainingResult c = r.Combined;
        Assert.Equal(r.MemberResults.Sum(m => m.EpochsRun), c.EpochsRun);
        Assert.Equal(r.MemberResults.Sum(m => m.Windows), c.Windows);
        Assert.Equal(r.MemberResults[0].BestEpoch, c.BestEpoch);
        Assert.Same(r.MemberResults[0].History, c.History);

        // An ensemble of one is the single run, result and all.
        EnsembleResult<float> one = new EnsembleTrainer<float>(Arch, (_, seed) => Options(seed)) { Seed = 41, Initialize = Glorot }.Fit(train, validation);
        Assert.Equal(r.Members[0].Parameters.ToArray(), one.Members[0].Parameters.ToArray());
        Assert.Same(one.MemberResults[0], one.Combined);
    }

    [Fact]
    public void FitMember_SeesEveryMember_AndWhatItReturnsIsKept()
    {
        SequenceData<float> train = Data.Train.ToSequenceData();
        var calls = new List<string>();
        var networks = new List<RecurrentNetwork<float>>();
        var returned = new List<TrainingResult>();
        var ensemble = new EnsembleTrainer<float>(Arch, (_, seed) => Options(seed) with { Epochs = 1 })
        {
            Members = 2, Seed = ulong.MaxValue, // member 1 wraps to seed 0
            FitMember = m =>
            {
                calls.Add($"{m.Index}/{m.Count} seed {m.Seed}");
                Assert.Same(train, m.Train);
                Assert.Null(m.Validation);
                networks.Add(m.Network);
                TrainingResult result = m.Fit();
                returned.Add(result);
                return result;
            },
        };
        EnsembleResult<float> r = ensemble.Fit(train);

        Assert.Equal([$"0/2 seed {ulong.MaxValue}", "1/2 seed 0"], calls);
        Assert.Equal(networks, r.Members);
        Assert.Equal(returned, r.MemberResults);
        var wrapped = new RecurrentNetwork<float>(Arch, 0);
        new Trainer<float>(wrapped, Options(0) with { Epochs = 1 }).Fit(train);
        Assert.Equal(wrapped.Parameters.ToArray(), r.Members[1].Parameters.ToArray());
    }

    [Fact]
    public void Cancellation_KeepsTheMembersTrainedSoFar_AndSaysSo()
    {
        SequenceData<float> train = Data.Train.ToSequenceData(), validation = Data.Validation!.ToSequenceData();
        using var cts = new CancellationTokenSource();
        // Cancelled as member 1 starts: it returns before its first epoch ends, so it is left out; the run is cancelled.
        var ensemble = new EnsembleTrainer<float>(Arch, (_, seed) => Options(seed))
        {
            Members = 3, Seed = 5,
            FitMember = m =>
            {
                if (m.Index == 1) cts.Cancel();
                return m.Fit();
            },
        };
        EnsembleResult<float> r = ensemble.Fit(train, validation, cts.Token);
        Assert.Single(r.Members);
        Assert.False(r.MemberResults[0].Cancelled);
        Assert.True(r.Cancelled);
        Assert.Equal(r.MemberResults[0].EpochsRun, r.Combined.EpochsRun);

        // Cancelled from the start: the only member is kept with its initial weights.
        using var before = new CancellationTokenSource();
        before.Cancel();
        EnsembleResult<float> none = new EnsembleTrainer<float>(Arch, (_, seed) => Options(seed)) { Members = 3, Seed = 5 }.Fit(train, validation, before.Token);
        Assert.Single(none.Members);
        Assert.True(none.Cancelled);
        Assert.Equal(0, none.Combined.BestEpoch);
        Assert.Equal(new RecurrentNetwork<float>(Arch, 5).Parameters.ToArray(), none.Members[0].Parameters.ToArray());
    }

    [Fact]
    public void BadArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => new EnsembleTrainer<float>(null!, (_, _) => new TrainerOptions()));
        Assert.Throws<ArgumentNullException>(() => new EnsembleTrainer<float>(Arch, (Func<int, ulong, TrainerOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => new EnsembleTrainer<float>(Arch, (Func<RecurrentNetwork<float>, int, ulong, INetworkTrainer<float>>)null!));
        // A factory whose trainer trains another network than the member's.
        var stray = new EnsembleTrainer<float>(Arch, (_, _, seed) => new Trainer<float>(new RecurrentNetwork<float>(Arch, seed), Options(seed)));
        Assert.Contains("another network", Assert.Throws<InvalidOperationException>(() => stray.Fit(Data.Train.ToSequenceData())).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EnsembleTrainer<float>(Arch, (_, _) => new TrainerOptions()) { Members = 0 });
        // Data of another shape: the trainer's own message.
        var wide = new EnsembleTrainer<float>(NetworkArchitecture.Uniform(CellType.Gru, 3, 4, 1, 1), (_, seed) => Options(seed));
        Assert.Throws<ArgumentException>(() => wide.Fit(Data.Train.ToSequenceData()));
    }
}
