using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;
using Rnn.Simd.Training.Schedules;
using static Rnn.Simd.Tests.Persistence.PersistenceTestKit;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>
/// Training checkpoints (issue #5, item 6): training N epochs straight and training k epochs, checkpointing, building a
/// new network and trainer and resuming for the rest give bitwise the same parameters and the same history, with
/// dropout, a plateau schedule, L2 and clipping on, for several optimisers and both element types; a resume under other
/// options, data or architecture is refused; damaged checkpoints are <see cref="InvalidDataException"/>s.
/// </summary>
public class CheckpointTests
{
    private const int Epochs = 7;

    private static readonly NetworkArchitecture Arch = new(CellType.Lstm, 2, [6, 5], 1);

    /// <summary>Options with every stateful part active: dropout masks (RNG), a plateau schedule that reduces the rate
    /// within the run (patience 1 and a 0.05 margin, so any epoch that does not beat the best by 0.05 halves it), optimiser moments, plus L2 and clipping.</summary>
    private static TrainerOptions Options(OptimizerKind optimizer, double lr = 0.02) => new()
    {
        BatchSize = 4, Bptt = BpttSchedule.Create(10, 5), Optimizer = optimizer, LearningRate = lr,
        Schedule = new StepDecayOnPlateau(lr, factor: 0.5, patience: 1, minDecrease: 0.05),
        Dropout = new DropoutOptions(Input: 0.1, Recurrent: 0.2, Output: 0.15, Seed: 99),
        Regularization = RegularizationOptions.Ridge(1e-4), ClipNorm = 1.0, Epochs = Epochs, Patience = 0,
    };

    private static (SequenceData<T> Train, SequenceData<T> Validation) Data<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        (Sine<T>(0, 4 * 5 * 6), Sine<T>(4 * 5 * 6, 40));

    private static void AssertSameHistory(IReadOnlyList<EpochProgress> expected, IReadOnlyList<EpochProgress> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            // Elapsed is wall time; everything else must be identical.
            EpochProgress e = expected[i] with { Elapsed = default }, a = actual[i] with { Elapsed = default };
            Assert.True(e.Equals(a), $"epoch {i + 1}: expected {e}, actual {a}");
        }
    }

    [Theory]
    [InlineData(OptimizerKind.Adam, false, 3)]
    [InlineData(OptimizerKind.Adam, true, 2)]
    [InlineData(OptimizerKind.Momentum, false, 4)]
    [InlineData(OptimizerKind.RmsProp, false, 1)]
    [InlineData(OptimizerKind.RmsPropGains, true, 5)]
    public void Resume_FromEpochK_IsBitwiseTheUninterruptedRun(OptimizerKind optimizer, bool useDouble, int k)
    {
        if (useDouble) ResumeEqualsStraight<double>(optimizer, k);
        else ResumeEqualsStraight<float>(optimizer, k);
    }

    /// <summary>A recurrent highway network of depth 3 (its cell_options section and micro-layer slices) resumes bitwise too.</summary>
    [Fact]
    public void Resume_OfARecurrentHighwayNetwork_IsBitwiseTheUninterruptedRun()
        => ResumeEqualsStraight<float>(OptimizerKind.Adam, 3, new NetworkArchitecture(CellType.Highway, 2, [6, 5], 1, Activation.Tanh, 3));

    private static void ResumeEqualsStraight<T>(OptimizerKind optimizer, int k, NetworkArchitecture? architecture = null) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        NetworkArchitecture Arch = architecture ?? CheckpointTests.Arch;
        var (train, validation) = Data<T>();
        using var dir = new TempDir();
        string path = dir.File("run.ckpt");

        // Straight: N epochs.
        var straightNet = new RecurrentNetwork<T>(Arch, seed: 5);
        TrainingResult straight = new Trainer<T>(straightNet, Options(optimizer)).Fit(train, validation);
        Assert.Equal(Epochs, straight.EpochsRun);
        // The run exercises what the checkpoint must carry: the plateau schedule reduced the rate at least once.
        Assert.Contains(straight.History, p => p.LearningRate < straight.History[0].LearningRate);

        // Interrupted: k epochs, a checkpoint from EpochCompleted, then the process "dies" (cancellation).
        var firstNet = new RecurrentNetwork<T>(Arch, seed: 5);
        var first = new Trainer<T>(firstNet, Options(optimizer));
        using var cts = new CancellationTokenSource();
        first.EpochCompleted += p =>
        {
            if (p.Epoch != k) return;
            first.SaveCheckpoint(path);
            cts.Cancel();
        };
        TrainingResult partial = first.Fit(train, validation, cts.Token);
        Assert.True(partial.Cancelled);
        Assert.Equal(k, partial.EpochsRun);

        // Resumed: a new network (other seed, so every weight must come from the checkpoint) and a new trainer.
        TrainingCheckpoint cp = TrainingCheckpoint.Load(path);
        Assert.Equal(k, cp.CompletedEpochs);
        Assert.Equal(typeof(T), cp.ElementType);
        Assert.Equal(Arch, cp.State.Architecture);
        var resumedNet = new RecurrentNetwork<T>(Arch, seed: 1234);
        TrainingResult resumed = new Trainer<T>(resumedNet, Options(optimizer)).Fit(train, validation, resumeFrom: path);

        AssertBitwiseEqual<T>(straightNet.Parameters, resumedNet.Parameters, "final (best) parameters");
        AssertSameHistory(straight.History, resumed.History);
        Assert.Equal(straight.BestEpoch, resumed.BestEpoch);
        Assert.Equal(straight.BestLoss, resumed.BestLoss);
        Assert.Equal(straight.Windows, resumed.Windows);
        Assert.Equal(straight.EpochsRun, resumed.EpochsRun);
        Assert.False(resumed.Cancelled);

        // Control: the checkpoint's parameters alone (fresh optimiser, schedule and dropout generator) do not reproduce
        // the run, so the equality above depends on the restored state.
        RecurrentNetwork<T> naiveNet = cp.CreateNetwork<T>();
        new Trainer<T>(naiveNet, Options(optimizer) with { Epochs = Epochs - k }).Fit(train, validation);
        Assert.False(naiveNet.Parameters.SequenceEqual(straightNet.Parameters), "restarting from the parameters alone reproduced the run: the test cannot tell");
    }

    [Fact]
    public void CheckpointCallback_WritesEveryNEpochsAndTheLast_AndResumingAFinishedRunChangesNothing()
    {
        var (train, validation) = Data<float>();
        using var dir = new TempDir();
        string path = dir.File("auto.ckpt");
        var seen = new List<int>();
        var net = new RecurrentNetwork<float>(Arch, seed: 5);
        var trainer = new Trainer<float>(net, Options(OptimizerKind.Adam) with { CheckpointCallback = TrainingCheckpoint.ToFile(path), CheckpointEvery = 3 });
        trainer.EpochCompleted += p => seen.Add(File.Exists(path) ? TrainingCheckpoint.Load(path).CompletedEpochs : 0);
        TrainingResult result = trainer.Fit(train, validation);
        // Written at epochs 3 and 6, and at the last epoch 7; the handler runs after the write.
        Assert.Equal([0, 0, 3, 3, 3, 6, 7], seen);
        Assert.Equal([path], Directory.GetFiles(dir.Path));

        TrainingCheckpoint cp = TrainingCheckpoint.Load(path);
        AssertSameHistory(result.History, cp.History);
        Assert.Equal(result.BestEpoch, cp.BestEpoch);
        AssertBitwiseEqual<float>(net.Parameters, cp.CreateBestNetwork<float>().Parameters, "best parameters");

        var again = new RecurrentNetwork<float>(Arch, seed: 77);
        TrainingResult r = new Trainer<float>(again, Options(OptimizerKind.Adam)).Fit(train, validation, cp);
        Assert.Equal(Epochs, r.EpochsRun);
        Assert.Equal(result.Windows, r.Windows);
        AssertBitwiseEqual<float>(net.Parameters, again.Parameters, "parameters after resuming a finished run");
    }

    [Fact]
    public void EarlyStopping_IsCheckpointed_AndAResumeStopsAtOnceWithTheSameWeights()
    {
        // Negated validation targets: validation gets worse as training fits the training series, so patience 2 ends
        // the run early, and the last checkpoint is the one written at the stop.
        var (train, validation) = Data<float>();
        var negated = new SequenceData<float>(validation.Inputs, Array.ConvertAll(validation.Targets, v => -v), 2, 1);
        using var dir = new TempDir();
        string path = dir.File("stop.ckpt");
        var net = new RecurrentNetwork<float>(Arch, seed: 5);
        TrainerOptions options = Options(OptimizerKind.Adam) with { Patience = 2, Epochs = 30, CheckpointCallback = TrainingCheckpoint.ToFile(path), CheckpointEvery = 10 };
        TrainingResult result = new Trainer<float>(net, options).Fit(train, negated);
        Assert.True(result.StoppedEarly);
        Assert.True(result.EpochsRun < 10, $"ran {result.EpochsRun} epochs");
        Assert.Equal(result.EpochsRun, TrainingCheckpoint.Load(path).CompletedEpochs);

        var again = new RecurrentNetwork<float>(Arch, seed: 6);
        TrainingResult resumed = new Trainer<float>(again, options with { CheckpointCallback = null }).Fit(train, negated, resumeFrom: path);
        Assert.True(resumed.StoppedEarly);
        Assert.Equal(result.EpochsRun, resumed.EpochsRun);
        AssertBitwiseEqual<float>(net.Parameters, again.Parameters, "best parameters");
    }

    [Fact]
    public void CheckpointOptions_AreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { CheckpointEvery = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => TrainingCheckpoint.ToFile(""));
    }

    [Fact]
    public void Resume_WithMoreEpochs_ContinuesTraining()
    {
        var (train, validation) = Data<float>();
        using var dir = new TempDir();
        string path = dir.File("extend.ckpt");
        new Trainer<float>(new RecurrentNetwork<float>(Arch, seed: 5), Options(OptimizerKind.Adam) with { CheckpointCallback = TrainingCheckpoint.ToFile(path) }).Fit(train, validation);
        TrainingResult r = new Trainer<float>(new RecurrentNetwork<float>(Arch, seed: 5), Options(OptimizerKind.Adam) with { Epochs = Epochs + 2 })
            .Fit(train, validation, resumeFrom: path);
        Assert.Equal(Epochs + 2, r.EpochsRun);
        Assert.Equal(Epochs + 2, r.History[^1].Epoch);
    }

    [Fact]
    public void Resume_UnderDifferentConditions_IsRefusedWithWhatDiffers()
    {
        var (train, validation) = Data<float>();
        using var dir = new TempDir();
        string path = dir.File("ref.ckpt");
        new Trainer<float>(new RecurrentNetwork<float>(Arch, seed: 5), Options(OptimizerKind.Adam) with { Epochs = 2, CheckpointCallback = TrainingCheckpoint.ToFile(path) }).Fit(train, validation);

        ArgumentException Refused(TrainerOptions o, NetworkArchitecture? a = null, SequenceData<float>? t = null, SequenceData<float>? v = null) =>
            Assert.Throws<ArgumentException>(() => new Trainer<float>(new RecurrentNetwork<float>(a ?? Arch, seed: 5), o).Fit(t ?? train, v ?? validation, resumeFrom: path));

        string m = Refused(Options(OptimizerKind.Adam, lr: 0.01)).Message;
        Assert.Contains("LearningRate = 0.02 in the checkpoint, 0.01 now", m);
        Assert.Contains("Schedule = Plateau(0.02,", m);
        Assert.Contains("Optimizer = Adam in the checkpoint, Momentum now", Refused(Options(OptimizerKind.Momentum)).Message);
        Assert.Contains("Dropout = ", Refused(Options(OptimizerKind.Adam) with { Dropout = new DropoutOptions(0.1, 0.2, 0.15, Seed: 100) }).Message);
        Assert.Contains("BatchSize = 4 in the checkpoint, 2 now", Refused(Options(OptimizerKind.Adam) with { BatchSize = 2 }).Message);
        Assert.Contains("The checkpoint's network is LSTM", Refused(Options(OptimizerKind.Adam), new NetworkArchitecture(CellType.Lstm, 2, [6, 4], 1)).Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("data differ", Refused(Options(OptimizerKind.Adam), t: Sine<float>(1, 120)).Message);
        Assert.Contains("data differ", Refused(Options(OptimizerKind.Adam), v: Sine<float>(120, 41)).Message);
        var e = Assert.Throws<ArgumentException>(() => new Trainer<double>(new RecurrentNetwork<double>(Arch), Options(OptimizerKind.Adam)).Fit(Sine<double>(0, 120), Sine<double>(120, 40), resumeFrom: path));
        Assert.Contains("Trainer<Single>", e.Message);
        // What may differ: the thread count and the epoch budget.
        new Trainer<float>(new RecurrentNetwork<float>(Arch), Options(OptimizerKind.Adam) with { Epochs = 3, MaxThreads = 2 }).Fit(train, validation, resumeFrom: path);
        Assert.Throws<FileNotFoundException>(() => new Trainer<float>(new RecurrentNetwork<float>(Arch), Options(OptimizerKind.Adam)).Fit(train, validation, resumeFrom: dir.File("none.ckpt")));
    }

    [Fact]
    public void SaveCheckpoint_OutsideAnEpochBoundary_Throws()
    {
        var (train, validation) = Data<float>();
        var trainer = new Trainer<float>(new RecurrentNetwork<float>(Arch), Options(OptimizerKind.Adam) with { Epochs = 1 });
        var ms = new MemoryStream();
        Assert.Throws<InvalidOperationException>(() => trainer.SaveCheckpoint(ms));
        trainer.Fit(train, validation);
        Assert.Throws<InvalidOperationException>(() => trainer.SaveCheckpoint(ms));
        Assert.Equal(0, ms.Length);
    }

    [Fact]
    public void UserDefinedSchedule_CannotBeCheckpointed()
    {
        var (train, validation) = Data<float>();
        var trainer = new Trainer<float>(new RecurrentNetwork<float>(Arch), Options(OptimizerKind.Adam) with { Epochs = 1, Schedule = new HalvingSchedule() });
        Exception? error = null;
        trainer.EpochCompleted += _ => error = Record.Exception(() => trainer.SaveCheckpoint(new MemoryStream()));
        trainer.Fit(train, validation);
        Assert.Contains("user-defined schedule", Assert.IsType<NotSupportedException>(error).Message);
    }

    private sealed class HalvingSchedule() : LearningRateSchedule(0.01)
    {
        protected override double NextRate(int endedEpoch, double validationLoss) => CurrentRate / 2;
    }

    [Fact]
    public void DamagedCheckpoint_TruncatedAtEveryOffsetOrAnyByteFlipped_IsInvalidData()
    {
        var arch = new NetworkArchitecture(CellType.Elman, 2, [2], 1);
        var trainer = new Trainer<float>(new RecurrentNetwork<float>(arch, seed: 2), new TrainerOptions
        {
            BatchSize = 2, Bptt = BpttSchedule.Create(4, 2), Epochs = 2, Patience = 0, Dropout = new DropoutOptions(Recurrent: 0.1, Seed: 1),
        });
        var ms = new MemoryStream();
        trainer.EpochCompleted += p => { if (p.Epoch == 2) trainer.SaveCheckpoint(ms); };
        trainer.Fit(Sine<float>(0, 40), Sine<float>(40, 10));
        byte[] bytes = ms.ToArray();
        TrainingCheckpoint ok = TrainingCheckpoint.Load(new MemoryStream(bytes));
        Assert.Equal(2, ok.CompletedEpochs);
        Assert.Equal(2, ok.History.Count);
        for (int n = 0; n < bytes.Length; n++)
            Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(new MemoryStream(bytes, 0, n)));
        for (int i = 0; i < bytes.Length; i++)
        {
            byte[] copy = (byte[])bytes.Clone();
            copy[i] ^= (byte)(1 << (i % 8));
            Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(new MemoryStream(copy)));
        }
    }

    /// <summary>
    /// A checkpoint written by the code before the trainer state moved into the training layer (Elman I = 2, H = [2],
    /// O = 1, float, Adam, plateau schedule, input and recurrent dropout, 2 epochs of <see cref="PersistenceTestKit.Sine{T}"/>).
    /// </summary>
    private const string GoldenCheckpointV1 =
        "Uk5OU0lNRAABAAIAAAAAAHAEAAAAAAAAAQABABgAAAAAAAAAAAAAAAAAAAACAAAAAQAAAAEAAAACAAAAAgABAEgAAAAAAAAAAQAAAA8AAAAA" +
        "AAAApMHbPvIPWT4Q+Xu+pLtkPRN6B75WjUu+14H0vnAKgj6lrxI/VlYGv+7VCz87rSQ+Cr1iPphgfT5iLYM+EAABAEgAAAAAAAAAAQAAAA8A" +
        "AAAAAAAApMHbPvIPWT4Q+Xu+pLtkPRN6B75WjUu+14H0vnAKgj6lrxI/VlYGv+7VCz87rSQ+Cr1iPphgfT5iLYM+EQABAK4AAAAAAAAABAAA" +
        "AEFkYW0UAAAAAAAAAAIAAAABAAAAbQEAAAAPAAAAAAAAAKFKN71pJo+8H5wWvpmVab2QXqo8ep6HvBgFij3IyzO9RqUHPZL75D1GpQc9kvvk" +
        "PVVQtD2byXW6OUaNPgEAAAB2AQAAAA8AAAAAAAAA4CBsOC5xgzcA1Ik6BMqrOR/kDjitVMY3EDwOOna4mDnJIIo4rfCVOskgijit8JU6o8dj" +
        "PCxOGzyzH8A8EgABAFoAAAAAAAAALgAAAFJubi5TaW1kLlRyYWluaW5nLlNjaGVkdWxlcy5TdGVwRGVjYXlPblBsYXRlYXUCAAAAexSuR+F6" +
        "hD8DAAAA4hCf8HoD8D8AAAAAAAAAAAAAAAAAAAAAEwABACEAAAAAAAAAAdUM92+3yzPOJS3AhoepKqREX+DDPRUYqgY/arhbpqiZFAABAIoA" +
        "AAAAAAAAAgAAAOIQn/B6A/A/AgAAAAAAAAAUAAAAAAAAAGORBwAAAAAAAgAAAAEAAAACAAAAzczMhM8I4j9OkKEoBmnxP3sUrkfheoQ/jBcw" +
        "q3H+BkCxSgcAAAAAAAECAAAAAgAAAAAAAIBX9d8/4hCf8HoD8D97FK5H4XqEP9Bl4+hasgVA7WMHAAAAAAABFQABAH0BAAAAAAAACgAAAAkA" +
        "AABCYXRjaFNpemUBAAAAMgQAAABCcHR0AwAAADQsMgkAAABPcHRpbWl6ZXIEAAAAQWRhbQwAAABMZWFybmluZ1JhdGUFAAAAMC4wMDEIAAAA" +
        "U2NoZWR1bGU7AAAAUGxhdGVhdSgwLjAxLGZhY3Rvcj0wLjUscGF0aWVuY2U9MSxtaW5EZWNyZWFzZT0wLG1pblJhdGU9MCkOAAAAUmVndWxh" +
        "cml6YXRpb24dAAAATDE9MCxMMj0wLEFwcGx5VG9CaWFzZXM9RmFsc2UHAAAARHJvcG91dDsAAABJbnB1dD0wLjEsUmVjdXJyZW50PTAuMSxP" +
        "dXRwdXQ9MCxWYXJpYW50PVZhcmlhdGlvbmFsLFNlZWQ9NwgAAABDbGlwTm9ybQgAAABJbmZpbml0eQkAAABDbGlwVmFsdWUIAAAASW5maW5p" +
        "dHkIAAAAUGF0aWVuY2UBAAAAMDzP5hh7fDVvUe/HNfGJzI6axWlyqFusW5DWd6I2SzlGtuRbtvEyihibGVwtZHqgyr3Vo6xXVWtqg6+Cg1nO" +
        "YJU=";

    [Fact]
    public void GoldenCheckpoint_FromBeforeTheTrainerStateRecord_ReadsAndRewritesToTheSameBytes()
    {
        byte[] golden = Convert.FromBase64String(GoldenCheckpointV1);
        TrainingCheckpoint cp = TrainingCheckpoint.Load(new MemoryStream(golden));
        var state = Assert.IsType<TrainerState<float>>(cp.State);
        Assert.Equal(2, state.CompletedEpochs);
        Assert.Equal(2, state.History.Count);
        Assert.Equal("Adam", state.OptimizerName);
        Assert.Equal(["m", "v"], state.OptimizerStateNames);
        Assert.Equal(typeof(StepDecayOnPlateau).FullName, state.ScheduleType);
        Assert.Equal(3, state.ScheduleExtra.Count);
        Assert.NotNull(state.DropoutRngState);
        Assert.Equal(new ParameterLayout(state.Architecture).TotalLength, state.Parameters.Length);

        // Decoding then encoding the record loses nothing and changes no byte: the format is the one before.
        var again = new MemoryStream();
        new TrainingCheckpoint(state).Save(again);
        Assert.True(golden.AsSpan().SequenceEqual(again.ToArray()), "re-encoding the golden checkpoint changed its bytes");

        // A trainer with the options it was written with resumes from it.
        var arch = new NetworkArchitecture(CellType.Elman, 2, [2], 1);
        var trainer = new Trainer<float>(new RecurrentNetwork<float>(arch, seed: 3), new TrainerOptions
        {
            BatchSize = 2, Bptt = BpttSchedule.Create(4, 2), Epochs = 3, Patience = 0, Optimizer = OptimizerKind.Adam,
            Schedule = new StepDecayOnPlateau(0.01, factor: 0.5, patience: 1), Dropout = new DropoutOptions(Input: 0.1, Recurrent: 0.1, Seed: 7),
        });
        TrainingResult r = trainer.Fit(Sine<float>(0, 40), Sine<float>(40, 10), cp);
        Assert.Equal(3, r.EpochsRun);
    }
}
