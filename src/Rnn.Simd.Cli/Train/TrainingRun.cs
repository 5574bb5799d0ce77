using System.Globalization;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using Rnn.Simd.Training;

namespace Rnn.Simd.Cli.Train;

/// <summary>
/// What a training run produced: the data protocol, the trained networks (a seed ensemble of one or more members, each
/// holding its best weights), the trainer's results, and the test-part outputs. Everything a later step needs
/// (evaluation, plots, a model file).
/// </summary>
/// <param name="Data">The loaded series and its mask.</param>
/// <param name="Dataset">Split, scaler and windows.</param>
/// <param name="Ensemble">The trained networks, member k trained from seed + k (best epoch's weights each), and each member's results.</param>
/// <param name="TestPredictions">Outputs on the test windows in original units (the members' mean), T x O aligned with <c>Dataset.Test</c>.</param>
public sealed record TrainingOutcome(LoadedSeries Data, ForecastDataset Dataset, EnsembleResult<float> Ensemble, float[] TestPredictions)
{
    /// <summary>The test windows (the default split always has a test part).</summary>
    public ForecastWindows Test => Dataset.Test!;

    /// <summary>The trained networks, member 0 first.</summary>
    public IReadOnlyList<RecurrentNetwork<float>> Members => Ensemble.Members;

    /// <summary>Each member's epochs, timings, history, and whether it was cancelled.</summary>
    public IReadOnlyList<TrainingResult> MemberResults => Ensemble.MemberResults;

    /// <summary>The first member.</summary>
    public RecurrentNetwork<float> Network => Members[0];

    /// <summary>The run as one result (<see cref="EnsembleResult{T}.Combined"/>).</summary>
    public TrainingResult Result => Ensemble.Combined;
}

/// <summary>
/// One training run of <c>rnn-simd train</c>: the dataset (chronological 70 / 15 / 15 split, z-scores fitted on the
/// training part, windows for the horizon and target mode), the network and its initialisation, the trainer with the
/// options, progress, cancellation, and the test predictions from a state run chronologically through the series.
/// </summary>
public static class TrainingRun
{
    /// <summary>Builds the dataset for the options, or throws a one-line error when the series cannot hold it.</summary>
    public static ForecastDataset CreateDataset(LoadedSeries data, TrainOptions o)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(o);
        ForecastDataset dataset;
        try
        {
            dataset = ForecastDataset.Create(data.Series, new ForecastOptions(o.Horizon, o.Mode, features: o.Features), data.Mask);
        }
        catch (SeriesTooShortException e)
        {
            string message = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
            throw new CliException($"--horizon {o.Horizon} does not fit the data: {message}", e);
        }
        CheckStreams(dataset.Train, o);
        if (dataset.Validation is null || dataset.Test is null) throw new CliException("The split left no validation or test part.");
        return dataset;
    }

    /// <summary>
    /// Trains the <c>--ensemble</c> members on <paramref name="dataset"/> with the library's
    /// <see cref="EnsembleTrainer{T}"/> (member k from seed + k, its weights and dropout masks, one after another;
    /// checkpoints in FILE for the first member and FILE.k for member k ≥ 2) and predicts the test part with their
    /// mean. Cancelling stops the run; the members trained so far form the ensemble (a member cancelled before its
    /// first epoch ended is left out unless it is the only one).
    /// </summary>
    public static TrainingOutcome Run(LoadedSeries data, ForecastDataset dataset, TrainOptions o, TrainProgress progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(progress);
        ForecastWindows train = dataset.Train, validation = dataset.Validation!;
        EnsembleTrainer<float> ensemble = CreateEnsembleTrainer(train, o, progress);
        EnsembleResult<float> result = ensemble.Fit(train.ToSequenceData(), validation.ToSequenceData(), cancellationToken);
        return new TrainingOutcome(data, dataset, result, PredictTest(result.Members, dataset));
    }

    /// <summary>
    /// The library's ensemble trainer for the options: the architecture of the --trainer's plan (by default --cell
    /// --hidden --layers, the data's input and output sizes), --ensemble members from --seed, --init through
    /// <see cref="TrainOptions.Initialize(RecurrentNetwork{float}, ulong)"/>, each member's trainer from the plan (for
    /// bptt, a <see cref="Trainer{T}"/> with <see cref="CreateTrainerOptions"/>), and progress / --resume per member.
    /// </summary>
    internal static EnsembleTrainer<float> CreateEnsembleTrainer(ForecastWindows train, TrainOptions o, TrainProgress progress) =>
        new(o.Plan.Architecture(o, train.InputSize, train.OutputSize), (network, member, seed) => o.Plan.Create(network, o, member, seed))
        {
            Members = o.Ensemble,
            Seed = o.Seed,
            Initialize = o.Initialize,
            FitMember = member => FitMember(member, o, progress),
        };

    /// <summary>The checkpoint file of ensemble member <paramref name="member"/> (0-based): FILE for the first, FILE.k for member k ≥ 2.</summary>
    public static string MemberCheckpoint(string path, int member) =>
        member == 0 ? path : path + "." + (member + 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The library's trainer options of ensemble member <paramref name="member"/> (seed <paramref name="seed"/>) from
    /// the parsed command line: every training option of <c>train</c> reaches the trainer here (--init acts on the
    /// network instead, through <see cref="TrainOptions.Initialize(RecurrentNetwork{float}, ulong)"/>). A fresh
    /// schedule per call, since a schedule is stateful.
    /// </summary>
    internal static TrainerOptions CreateTrainerOptions(TrainOptions o, int member, ulong seed) => new()
    {
        BatchSize = o.Batch, Bptt = o.Schedule, Optimizer = o.Optimizer, LearningRate = o.LearningRate, Schedule = o.CreateSchedule(),
        ClipNorm = o.Clip, Epochs = o.Epochs, Patience = o.Patience, MaxThreads = o.Threads,
        CheckpointCallback = o.CheckpointPath is null ? null : TrainingCheckpoint.ToFile(MemberCheckpoint(o.CheckpointPath, member)), CheckpointEvery = o.CheckpointEvery,
        Regularization = new Training.Regularization.RegularizationOptions(o.L1, o.L2),
        Dropout = new Training.Regularization.DropoutOptions(o.DropoutInput, o.DropoutRecurrent, o.DropoutOutput, Seed: seed),
    };

    // One member: its progress (a bar or lines per member), and a resume from its checkpoint when --resume is given.
    private static TrainingResult FitMember(EnsembleMember<float> member, TrainOptions o, TrainProgress progress)
    {
        if (member.Count > 1) progress.Info(string.Create(CultureInfo.InvariantCulture, $"ensemble member {member.Index + 1}/{member.Count} (seed {member.Seed})"));
        // Resuming an ensemble: a later member whose checkpoint was never written (the run stopped before it) starts afresh.
        string? resume = o.ResumePath is null ? null : MemberCheckpoint(o.ResumePath, member.Index);
        if (resume is not null && member.Index > 0 && !File.Exists(resume)) resume = null;
        INetworkTrainer<float> trainer = member.Trainer;
        return progress.Run(o.Plan.Epochs(o), onEpoch =>
        {
            trainer.EpochCompleted += onEpoch;
            // --resume is an option of --trainer bptt only (TrainerKinds.CheckOptions), so its trainer is BPTT's.
            try { return resume is null ? member.Fit() : Resume((Trainer<float>)trainer, member.Train, member.Validation!, resume, member.CancellationToken); }
            finally { trainer.EpochCompleted -= onEpoch; }
        });
    }

    /// <summary>
    /// The members' mean outputs on the test windows in original units, from the library's <see cref="Forecaster"/>
    /// (<see cref="Forecaster.Predict(ForecastWindows)"/>: a batch-1 state run over the whole series before the test
    /// part, then over its rows). <c>evaluate</c> calls the same method, so a saved model evaluated on the same data
    /// gives the same figures.
    /// </summary>
    public static float[] PredictTest(IReadOnlyList<RecurrentNetwork<float>> members, ForecastDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(dataset);
        return new Forecaster(members, dataset.Scaler, dataset.Options).Predict(dataset.Test!);
    }

    // Errors of the checkpoint (missing, damaged, written with other options or data) become one line naming the file.
    private static TrainingResult Resume(Trainer<float> trainer, SequenceData<float> train, SequenceData<float> validation, string path, CancellationToken cancellationToken)
    {
        TrainingCheckpoint checkpoint;
        try
        {
            checkpoint = TrainingCheckpoint.Load(path);
        }
        catch (FileNotFoundException e)
        {
            throw new CliException($"--resume {path}: the checkpoint does not exist.", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new CliException($"--resume {path}: the checkpoint does not exist.", e);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--resume {path}: {e.Message}", e);
        }
        try
        {
            return trainer.Fit(train, validation, checkpoint, cancellationToken);
        }
        catch (ArgumentException e) when (e.ParamName is null)
        {
            throw new CliException($"--resume {path}: cannot resume: {e.Message}", e);
        }
    }

    // The trainer cuts the training part into B streams and each epoch into windows of τf steps of every stream.
    private static void CheckStreams(ForecastWindows train, TrainOptions o)
    {
        int stream = train.Length / o.Batch, tf = o.Schedule.ForwardSteps;
        if (stream < tf)
            throw new CliException(string.Create(CultureInfo.InvariantCulture,
                $"The training part has {train.Length} steps, so --batch {o.Batch} streams of {stream} steps each are shorter than a window of τf = {tf} steps (--window / --bptt); lower --batch or --window, or use a longer series (B · τf = {o.Batch * tf} steps needed)."));
    }
}
