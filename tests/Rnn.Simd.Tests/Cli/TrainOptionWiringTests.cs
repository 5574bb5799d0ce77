using System.Text.Json;
using Rnn.Simd.Cells;
using Rnn.Simd.Cli;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Cli.Train;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Initialization;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;
using Rnn.Simd.Training.Schedules;

namespace Rnn.Simd.Tests.Cli;

/// <summary>
/// Every trainer option of <c>rnn-simd train</c> (<c>--l1 --l2 --dropout-* --clip --optimizer --lr --schedule --decay
/// --init --bptt --batch</c>) reaches the library (issue #15, section 4): the command line is bound by Spectre to
/// <see cref="TrainSettings"/> exactly as the tool binds it (same attributes, strict parsing), parsed into
/// <see cref="TrainOptions"/>, and turned into the library's <see cref="TrainerOptions"/> by the one seam the run uses
/// (<see cref="TrainingRun.CreateTrainerOptions"/>); each test asserts the fields of the built options against the
/// values written on the command line, and that they differ from the default. <c>--init</c> acts on the network
/// through the ensemble trainer the run builds (<see cref="TrainingRun.CreateEnsembleTrainer"/>): its weights are
/// bitwise the library initialiser's with the scheme named. One in-process run shows the rates of --lr / --schedule /
/// --decay in the JSON history.
/// </summary>
public class TrainOptionWiringTests
{
    /// <summary>Binds <c>train ARGS</c> to TrainSettings with Spectre (validation included) and returns the parsed options.</summary>
    internal static TrainOptions Parse(params string[] args) => TrainCommandLine.Parse(args);

    /// <summary>The library options of ensemble member 0 (seed 1 by default) for <c>train ARGS</c>.</summary>
    private static TrainerOptions Build(params string[] args)
    {
        TrainOptions o = Parse(args);
        return TrainingRun.CreateTrainerOptions(o, 0, o.Seed);
    }

    private static readonly TrainerOptions Default = Build();

    [Fact]
    public void NoOptions_GiveThePresetTheReadmeMeasures()
    {
        TrainerOptions preset = ForecastPresets.AceaHourly.CreateTrainerOptions(1);
        Assert.Equal(preset.BatchSize, Default.BatchSize);
        Assert.Equal(preset.Bptt, Default.Bptt);
        Assert.Equal(preset.Optimizer, Default.Optimizer);
        Assert.Equal(preset.LearningRate, Default.LearningRate);
        Assert.Null(Default.Schedule);
        Assert.Equal(preset.ClipNorm, Default.ClipNorm);
        Assert.Equal(double.PositiveInfinity, Default.ClipValue);
        Assert.Equal(RegularizationOptions.None, Default.Regularization);
        Assert.False(Default.Dropout.IsActive);
        Assert.Equal(preset.Epochs, Default.Epochs);
        Assert.Equal(preset.Patience, Default.Patience);
        Assert.Equal(NesterovEvaluationPoint.Iterate, Default.NesterovEvaluation);
        Assert.Equal((96, 48), (Default.Bptt.BackwardSteps, Default.Bptt.ForwardSteps));
    }

    [Fact]
    public void L1_ReachesTheRegularization()
    {
        TrainerOptions t = Build("--l1", "0.003");
        Assert.Equal(new RegularizationOptions(L1: 0.003, L2: 0, ApplyToBiases: false), t.Regularization);
        Assert.NotEqual(Default.Regularization, t.Regularization);
    }

    [Fact]
    public void L2_ReachesTheRegularization()
    {
        TrainerOptions t = Build("--l2", "0.0125");
        Assert.Equal(new RegularizationOptions(L1: 0, L2: 0.0125, ApplyToBiases: false), t.Regularization);
        Assert.Equal(new RegularizationOptions(0.5, 0.25), Build("--l1", "0.5", "--l2", "0.25").Regularization);
    }

    /// <summary>Each dropout probability reaches its own field, variational, seeded with the member's seed.</summary>
    [Theory]
    [InlineData("--dropout-input", 0.1, 0.0, 0.0)]
    [InlineData("--dropout-recurrent", 0.0, 0.2, 0.0)]
    [InlineData("--dropout-output", 0.0, 0.0, 0.35)]
    public void Dropout_EachProbabilityReachesItsField(string option, double input, double recurrent, double output)
    {
        double p = input + recurrent + output;
        TrainOptions o = Parse(option, p.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed", "40");
        TrainerOptions member2 = TrainingRun.CreateTrainerOptions(o, 2, 42);
        Assert.Equal(new DropoutOptions(input, recurrent, output, DropoutVariant.Variational, Seed: 42), member2.Dropout);
        Assert.True(member2.Dropout.IsActive);
        Assert.Equal(new DropoutOptions(0.1, 0.2, 0.3, Seed: 1),
            Build("--dropout-input", "0.1", "--dropout-recurrent", "0.2", "--dropout-output", "0.3").Dropout);
    }

    [Fact]
    public void Clip_ReachesTheGlobalNormClip()
    {
        TrainerOptions t = Build("--clip", "0.75");
        Assert.Equal(0.75, t.ClipNorm);
        Assert.NotEqual(Default.ClipNorm, t.ClipNorm);
        Assert.Equal(double.PositiveInfinity, t.ClipValue);
    }

    public static TheoryData<string, OptimizerKind, string> Optimizers() => new()
    {
        { "sgd", OptimizerKind.Sgd, "SGD" },
        { "momentum", OptimizerKind.Momentum, "Momentum" },
        { "nesterov", OptimizerKind.Nesterov, "Nesterov" },
        { "adagrad", OptimizerKind.Adagrad, "Adagrad" },
        { "rmsprop", OptimizerKind.RmsProp, "RMSprop" },
        { "rmspropgains", OptimizerKind.RmsPropGains, "RMSprop+gains" },
        { "adam", OptimizerKind.Adam, "Adam" },
        { "adamw", OptimizerKind.AdamW, "AdamW" },
    };

    /// <summary>Each name reaches TrainerOptions.Optimizer, and a trainer built from the options runs that optimiser.</summary>
    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Optimizer_ReachesTheTrainersOptimizer(string name, OptimizerKind kind, string optimizerName)
    {
        TrainerOptions t = Build("--optimizer", name);
        Assert.Equal(kind, t.Optimizer);
        var trainer = new Trainer<float>(new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 4, [3], 1), 1), t);
        Assert.Equal(optimizerName, trainer.Optimizer.Name);
    }

    [Fact]
    public void Lr_ReachesTheRate_AndTheSchedulesStart()
    {
        TrainerOptions t = Build("--lr", "0.03");
        Assert.Equal(0.03, t.LearningRate);
        Assert.NotEqual(Default.LearningRate, t.LearningRate);
        Assert.Null(t.Schedule);
        Assert.Equal(0.03, Build("--lr", "0.03", "--schedule", "exp").Schedule!.InitialRate);
    }

    public static TheoryData<string[], Type, double, int> Schedules() => new()
    {
        // --schedule NAME [--decay α] [--decay-every N] -> the schedule type, its α (factor or decay) and its interval / patience (0: none).
        { new[] { "--schedule", "plateau" }, typeof(StepDecayOnPlateau), 0.5, 5 },
        { new[] { "--schedule", "plateau", "--decay", "0.3", "--decay-every", "7" }, typeof(StepDecayOnPlateau), 0.3, 7 },
        { new[] { "--schedule", "step" }, typeof(FixedStepDecaySchedule), 0.5, 10 },
        { new[] { "--schedule", "step", "--decay", "0.8", "--decay-every", "3" }, typeof(FixedStepDecaySchedule), 0.8, 3 },
        { new[] { "--schedule", "exp" }, typeof(ExponentialDecaySchedule), 0.05, 0 },
        { new[] { "--schedule", "exp", "--decay", "0.2" }, typeof(ExponentialDecaySchedule), 0.2, 0 },
        { new[] { "--schedule", "frac" }, typeof(FractionalDecaySchedule), 0.1, 0 },
        { new[] { "--schedule", "frac", "--decay", "0.7" }, typeof(FractionalDecaySchedule), 0.7, 0 },
    };

    /// <summary>--schedule picks the library schedule, --decay its α (factor of step / plateau, decay of exp / frac).</summary>
    [Theory]
    [MemberData(nameof(Schedules))]
    public void ScheduleAndDecay_ReachTheSchedule(string[] args, Type type, double alpha, int every)
    {
        TrainerOptions t = Build([.. args, "--lr", "0.004"]);
        LearningRateSchedule s = t.Schedule!;
        Assert.IsType(type, s);
        Assert.Equal(0.004, s.InitialRate);
        (double a, int n) = s switch
        {
            StepDecayOnPlateau p => (p.Factor, p.Patience),
            FixedStepDecaySchedule f => (f.Factor, f.Interval),
            ExponentialDecaySchedule e => (e.Alpha, 0),
            FractionalDecaySchedule f => (f.Alpha, 0),
            _ => throw new InvalidOperationException(s.GetType().Name),
        };
        Assert.Equal(alpha, a);
        Assert.Equal(every, n);
        Assert.Null(Build("--schedule", "constant").Schedule);
        // Each member gets a fresh schedule (a schedule is stateful).
        TrainOptions o = Parse(args);
        Assert.NotSame(TrainingRun.CreateTrainerOptions(o, 0, 1).Schedule, TrainingRun.CreateTrainerOptions(o, 1, 2).Schedule);
    }

    public static TheoryData<string[], int, int> Schedulings() => new()
    {
        { new[] { "--bptt", "2n,n", "--window", "10" }, 20, 10 },
        { new[] { "--bptt", "n,1", "--window", "10" }, 10, 1 },
        { new[] { "--bptt", "n,n", "--window", "10" }, 10, 10 },
        { new[] { "--bptt", "n,n" }, 48, 48 },
        { new[] { "--bptt", "30,7" }, 30, 7 },
    };

    [Theory]
    [MemberData(nameof(Schedulings))]
    public void Bptt_ReachesTheTruncation(string[] args, int backward, int forward)
    {
        TrainerOptions t = Build(args);
        Assert.Equal((backward, forward), (t.Bptt.BackwardSteps, t.Bptt.ForwardSteps));
        Assert.NotEqual(Default.Bptt, t.Bptt);
    }

    [Fact]
    public void Batch_ReachesTheStreams()
    {
        TrainerOptions t = Build("--batch", "7");
        Assert.Equal(7, t.BatchSize);
        Assert.NotEqual(Default.BatchSize, t.BatchSize);
    }

    private static readonly Lazy<ForecastDataset> Embedded = new(() =>
    {
        TrainOptions o = Parse();
        return TrainingRun.CreateDataset(SeriesSource.Load(o), o);
    });

    public static TheoryData<string, int> Inits() => new()
    {
        // The scheme, as a number: 0 none (the constructor's PyTorch default), 1 Glorot, 2 He, 3 chapter, 4 orthogonal.
        { "pytorch", 0 }, { "glorot", 1 }, { "he", 2 }, { "chapter", 3 }, { "orthogonal", 4 },
    };

    /// <summary>
    /// --init reaches the network through the ensemble trainer the run builds: member k's initialiser gives bitwise the
    /// weights of the library's <see cref="Initializers.Initialize{T}"/> with the scheme named (weights, recurrent
    /// weights and readout alike, forget bias 0; orthogonal: the library's default options), with member k's seed;
    /// pytorch keeps the constructor's weights. The ensemble's members, seed and architecture come from the options too.
    /// </summary>
    [Theory]
    [MemberData(nameof(Inits))]
    public void Init_ReachesTheNetworksOfTheEnsemble(string name, int scheme)
    {
        TrainOptions o = Parse("--init", name, "--seed", "10", "--ensemble", "3", "--hidden", "5", "--layers", "2", "--cell", "gru");
        var progress = new TrainProgress(new CliOutput(TextWriter.Null, TextWriter.Null), quiet: true);
        EnsembleTrainer<float> ensemble = TrainingRun.CreateEnsembleTrainer(Embedded.Value.Train, o, progress);
        Assert.Equal(3, ensemble.Members);
        Assert.Equal(10UL, ensemble.Seed);
        Assert.Equal(new NetworkArchitecture(CellType.Gru, Embedded.Value.Train.InputSize, [5, 5], 1), ensemble.Architecture);

        const ulong seed = 12; // member 2
        var net = new RecurrentNetwork<float>(ensemble.Architecture, seed);
        ensemble.Initialize!(net, seed);
        var expected = new RecurrentNetwork<float>(ensemble.Architecture, seed);
        WeightInit? all = scheme switch { 1 => WeightInit.GlorotUniform, 2 => WeightInit.HeUniform, 3 => WeightInit.UniformRescaled, _ => null };
        if (scheme == 4) Initializers.Initialize(expected, new InitializationOptions(), seed);
        else if (all is { } kind)
            Initializers.Initialize(expected, new InitializationOptions { InputWeights = kind, RecurrentWeights = kind, ReadoutWeights = kind, LstmForgetGateBias = 0 }, seed);
        Assert.Equal(expected.Parameters.ToArray(), net.Parameters.ToArray());
        bool changed = !net.Parameters.SequenceEqual(new RecurrentNetwork<float>(ensemble.Architecture, seed).Parameters);
        Assert.Equal(scheme != 0, changed);
    }

    /// <summary>
    /// A run of the tool (2 epochs, H = 2, one member): the history's rates are η0 = --lr and η0·e^(-α) with
    /// --schedule exp --decay α, so the options reach the trainer the run drives, not only its seam.
    /// </summary>
    [Fact]
    public void Run_TheHistorysRates_AreThoseOfLrScheduleAndDecay()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(["train", "--json", "--quiet", "--epochs", "2", "--patience", "0", "--hidden", "2", "--ensemble", "1",
            "--lr", "0.01", "--schedule", "exp", "--decay", "0.5"], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        using JsonDocument doc = JsonDocument.Parse(stdout.ToString());
        double[] rates = doc.RootElement.GetProperty("history").EnumerateArray().Select(e => e.GetProperty("learningRate").GetDouble()).ToArray();
        Assert.Equal([0.01, Math.Round(0.01 * Math.Exp(-0.5), 6)], rates);
    }
}
