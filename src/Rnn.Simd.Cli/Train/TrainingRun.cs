using System.Globalization;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using Rnn.Simd.Training;

namespace Rnn.Simd.Cli.Train;

/// <summary>
/// What a training run produced: the data protocol, the trained network (holding the best weights), the trainer's
/// result, and the network's test-part outputs. Everything a later step needs (evaluation, plots, a model file).
/// </summary>
/// <param name="Data">The loaded series and its mask.</param>
/// <param name="Dataset">Split, scaler and windows.</param>
/// <param name="Network">The trained network (best epoch's weights).</param>
/// <param name="Result">Epochs, timings, history, whether it was cancelled.</param>
/// <param name="TestPredictions">Network outputs on the test windows in original units, T x O aligned with <c>Dataset.Test</c>.</param>
public sealed record TrainingOutcome(LoadedSeries Data, ForecastDataset Dataset, RecurrentNetwork<float> Network, TrainingResult Result, float[] TestPredictions)
{
    /// <summary>The test windows (the default split always has a test part).</summary>
    public ForecastWindows Test => Dataset.Test!;
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

    /// <summary>Trains a network on <paramref name="dataset"/> and predicts its test part.</summary>
    public static TrainingOutcome Run(LoadedSeries data, ForecastDataset dataset, TrainOptions o, TrainProgress progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(progress);
        ForecastWindows train = dataset.Train, validation = dataset.Validation!, test = dataset.Test!;
        var arch = NetworkArchitecture.Uniform(o.Cell, train.InputSize, o.Hidden, o.Layers, train.OutputSize);
        var network = new RecurrentNetwork<float>(arch, o.Seed);
        o.Initialize(network);
        var trainer = new Trainer<float>(network, new TrainerOptions
        {
            BatchSize = o.Batch, Bptt = o.Schedule, Optimizer = o.Optimizer, LearningRate = o.LearningRate, Schedule = o.CreateSchedule(),
            ClipNorm = o.Clip, Epochs = o.Epochs, Patience = o.Patience, MaxThreads = o.Threads,
            CheckpointPath = o.CheckpointPath, CheckpointEvery = o.CheckpointEvery,
            Regularization = new Training.Regularization.RegularizationOptions(o.L1, o.L2),
            Dropout = new Training.Regularization.DropoutOptions(o.DropoutInput, o.DropoutRecurrent, o.DropoutOutput, Seed: o.Seed),
        });
        SequenceData<float> trainData = Sequence(train), validationData = Sequence(validation);
        TrainingResult result = progress.Run(o.Epochs, onEpoch =>
        {
            trainer.EpochCompleted += onEpoch;
            try { return o.ResumePath is null ? trainer.Fit(trainData, validationData, cancellationToken) : Resume(trainer, trainData, validationData, o.ResumePath, cancellationToken); }
            finally { trainer.EpochCompleted -= onEpoch; }
        });
        float[] predictions = PredictTest(network, dataset);
        return new TrainingOutcome(data, dataset, network, result, predictions);
    }

    /// <summary>
    /// The network's outputs on the test windows in original units: a batch-1 state is run over the inputs of every
    /// time before the test part's first input, then over the test rows. The same code path as <c>evaluate</c>
    /// (<see cref="Models.ModelRunner"/>), so a saved model evaluated on the same data gives the same figures.
    /// </summary>
    public static float[] PredictTest(RecurrentNetwork<float> network, ForecastDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(dataset);
        Models.ModelInputs inputs = Models.ModelRunner.SeriesInputs(dataset.Series, dataset.Scaler, dataset.Options, dataset.Mask);
        return Models.ModelRunner.PredictPart(Models.ModelStepper.For(network), inputs, dataset.Test!);
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

    private static SequenceData<float> Sequence(ForecastWindows w) =>
        new(w.Inputs.ToArray(), w.Targets.ToArray(), w.InputSize, w.OutputSize, w.Weights.ToArray());
}
