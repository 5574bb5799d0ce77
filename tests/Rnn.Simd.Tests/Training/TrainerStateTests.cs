using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;
using Rnn.Simd.Training.Schedules;

namespace Rnn.Simd.Tests.Training;

/// <summary>
/// The trainer's state record within the training layer alone, no file involved (issue #10, item 4): the states
/// the <see cref="TrainerOptions.CheckpointCallback"/> receives are copies taken at epoch boundaries, a new trainer
/// resumed from one in memory reaches bitwise the uninterrupted run, and a state whose parts do not fit together is
/// refused with a message. (The file round trip is in Persistence/CheckpointTests.)
/// </summary>
public class TrainerStateTests
{
    private const int Epochs = 6;

    private static readonly NetworkArchitecture Arch = new(CellType.Gru, 2, [5], 1);

    private static TrainerOptions Options(Action<TrainerState>? callback = null, int every = 1) => new()
    {
        BatchSize = 3, Bptt = BpttSchedule.Create(8, 4), Optimizer = OptimizerKind.Adam, LearningRate = 0.02,
        Schedule = new StepDecayOnPlateau(0.02, factor: 0.5, patience: 1, minDecrease: 0.05),
        Dropout = new DropoutOptions(Input: 0.1, Recurrent: 0.2, Seed: 11),
        ClipNorm = 1.0, Epochs = Epochs, Patience = 0, CheckpointCallback = callback, CheckpointEvery = every,
    };

    private static SequenceData<T> Sine<T>(int start, int steps) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var x = new T[steps * 2];
        var y = new T[steps];
        for (int k = 0; k < steps; k++)
        {
            double phase = 2 * Math.PI * (start + k) / 17;
            x[2 * k] = T.CreateTruncating(Math.Sin(phase));
            x[2 * k + 1] = T.CreateTruncating(Math.Cos(phase));
            y[k] = T.CreateTruncating(Math.Sin(phase + 2 * Math.PI / 17));
        }
        return new SequenceData<T>(x, y, 2, 1);
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(true, 4)]
    public void ResumeInMemory_FromTheCallbacksState_IsBitwiseTheUninterruptedRun(bool useDouble, int k)
    {
        if (useDouble) ResumeEqualsStraight<double>(k);
        else ResumeEqualsStraight<float>(k);
    }

    private static void ResumeEqualsStraight<T>(int k) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        SequenceData<T> train = Sine<T>(0, 3 * 4 * 5), validation = Sine<T>(60, 20);
        var states = new List<TrainerState>();
        var straightNet = new RecurrentNetwork<T>(Arch, seed: 8);
        var straight = new Trainer<T>(straightNet, Options(states.Add, every: 2));
        TrainingResult expected = straight.Fit(train, validation);

        // Every 2nd epoch and the last; each a copy (later epochs did not change the earlier records).
        Assert.Equal([2, 4, 6], states.Select(s => s.CompletedEpochs));
        var typed = states.Cast<TrainerState<T>>().ToArray();
        Assert.False(typed[0].Parameters.Span.SequenceEqual(typed[1].Parameters.Span), "the records share their parameters");
        Assert.Equal(Arch, typed[0].Architecture);
        Assert.Equal(2, typed[0].OptimizerStates.Count);
        Assert.NotNull(typed[0].DropoutRngState);
        Assert.Equal(3, typed[0].ScheduleExtra.Count);
        Assert.Equal(typeof(T), typed[0].ElementType);

        // A new network (other seed) and trainer, resumed from the state at epoch k: every weight comes from the record.
        TrainerState<T> at = typed[k / 2 - 1];
        Assert.Equal(k, at.CompletedEpochs);
        var resumedNet = new RecurrentNetwork<T>(Arch, seed: 999);
        TrainingResult resumed = new Trainer<T>(resumedNet, Options()).Fit(train, validation, at);

        Assert.True(straightNet.Parameters.SequenceEqual(resumedNet.Parameters), "the resumed run's parameters differ from the uninterrupted run's");
        Assert.Equal(expected.EpochsRun, resumed.EpochsRun);
        Assert.Equal(expected.Windows, resumed.Windows);
        Assert.Equal(expected.BestEpoch, resumed.BestEpoch);
        Assert.Equal(expected.BestLoss, resumed.BestLoss);
        Assert.Equal(expected.History.Select(p => p with { Elapsed = default }), resumed.History.Select(p => p with { Elapsed = default }));
    }

    [Fact]
    public void CaptureState_OutsideAnEpochBoundary_Throws_AndFromAHandler_MatchesTheCallbacksState()
    {
        SequenceData<float> train = Sine<float>(0, 60), validation = Sine<float>(60, 20);
        TrainerState? fromCallback = null;
        TrainerState<float>? fromHandler = null;
        var trainer = new Trainer<float>(new RecurrentNetwork<float>(Arch, seed: 8), Options(s => fromCallback = s) with { Epochs = 2 });
        Assert.Throws<InvalidOperationException>(() => trainer.CaptureState());
        trainer.EpochCompleted += p => { if (p.Epoch == 2) fromHandler = trainer.CaptureState(); };
        trainer.Fit(train, validation);
        Assert.Throws<InvalidOperationException>(() => trainer.CaptureState());

        var a = Assert.IsType<TrainerState<float>>(fromCallback);
        Assert.NotNull(fromHandler);
        Assert.NotSame(a, fromHandler);
        Assert.True(a.Parameters.Span.SequenceEqual(fromHandler.Parameters.Span));
        Assert.True(a.BestParameters.Span.SequenceEqual(fromHandler.BestParameters.Span));
        Assert.True(a.DataHash.Span.SequenceEqual(fromHandler.DataHash.Span));
        Assert.Equal(a.DropoutRngState, fromHandler.DropoutRngState);
        Assert.Equal(a.Options, fromHandler.Options);
    }

    [Fact]
    public void AStateWhosePartsDoNotFit_IsRefusedWithWhatIsWrong()
    {
        SequenceData<float> train = Sine<float>(0, 60), validation = Sine<float>(60, 20);
        TrainerState? captured = null;
        new Trainer<float>(new RecurrentNetwork<float>(Arch, seed: 8), Options(s => captured = s) with { Epochs = 2 }).Fit(train, validation);
        var s = Assert.IsType<TrainerState<float>>(captured);

        string Refused(TrainerState<float> bad) =>
            Assert.Throws<ArgumentException>(() => new Trainer<float>(new RecurrentNetwork<float>(Arch), Options()).Fit(train, validation, bad)).Message;

        Assert.Contains("best parameters", Refused(Copy(s, bestParameters: s.BestParameters[..^1])));
        Assert.Contains("parameters for an architecture of", Refused(Copy(s, parameters: s.Parameters[1..])));
        Assert.Contains("optimiser state 'v'", Refused(Copy(s, optimizerStates: [s.OptimizerStates[0], s.OptimizerStates[1][..3]])));
        Assert.Contains("history entries", Refused(Copy(s, history: s.History.Take(1).ToArray())));
        Assert.Contains("dropout generator", Refused(Copy(s, rng: [0, 0, 0, 0])));
        Assert.Contains("data hash", Refused(Copy(s, dataHash: new byte[31])));
        Assert.Contains("data differ", Refused(Copy(s, dataHash: new byte[32])));
        Assert.Contains("Trainer<Single>", Assert.Throws<ArgumentException>(() =>
            new Trainer<double>(new RecurrentNetwork<double>(Arch), Options()).Fit(Sine<double>(0, 60), Sine<double>(60, 20), s)).Message);

        // The unchanged copy is accepted: the refusals above come from the one part changed.
        new Trainer<float>(new RecurrentNetwork<float>(Arch), Options() with { Epochs = 3 }).Fit(train, validation, Copy(s));
    }

    private static TrainerState<float> Copy(TrainerState<float> s, ReadOnlyMemory<float>? parameters = null, ReadOnlyMemory<float>? bestParameters = null,
        IReadOnlyList<ReadOnlyMemory<float>>? optimizerStates = null, IReadOnlyList<EpochProgress>? history = null, ulong[]? rng = null, byte[]? dataHash = null) => new()
    {
        Architecture = s.Architecture,
        Parameters = parameters ?? s.Parameters,
        BestParameters = bestParameters ?? s.BestParameters,
        OptimizerName = s.OptimizerName,
        OptimizerSteps = s.OptimizerSteps,
        OptimizerStateNames = s.OptimizerStateNames,
        OptimizerStates = optimizerStates ?? s.OptimizerStates,
        ScheduleType = s.ScheduleType,
        ScheduleEpoch = s.ScheduleEpoch,
        ScheduleRate = s.ScheduleRate,
        ScheduleExtra = s.ScheduleExtra,
        DropoutRngState = rng ?? s.DropoutRngState,
        CompletedEpochs = s.CompletedEpochs,
        BestEpoch = s.BestEpoch,
        BestLoss = s.BestLoss,
        EpochsSinceBest = s.EpochsSinceBest,
        Windows = s.Windows,
        Elapsed = s.Elapsed,
        History = history ?? s.History,
        Options = s.Options,
        DataHash = dataHash ?? s.DataHash,
    };
}
