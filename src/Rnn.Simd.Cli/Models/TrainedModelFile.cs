using System.Globalization;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Cli.Train;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Persistence;

namespace Rnn.Simd.Cli.Models;

/// <summary>
/// The metadata keys <c>rnn-simd train --out</c> writes into a model file (string pairs of the file's metadata
/// section; README-cli.md lists them). <c>forecast</c> and <c>evaluate</c> read the data keys to load a series the way the
/// model was trained on it; every other key is informational.
/// </summary>
public static class ModelMetadata
{
    /// <summary>"rnn-simd".</summary>
    public const string Tool = "tool";

    /// <summary>The tool version that wrote the file.</summary>
    public const string ToolVersion = "toolVersion";

    /// <summary>UTC time of the save, ISO 8601.</summary>
    public const string Created = "created";

    /// <summary>"embedded" (the ACEA data) or "file".</summary>
    public const string DataSource = "data.source";

    /// <summary>"acea-rome-hourly" or the file name.</summary>
    public const string DataName = "data.name";

    /// <summary>The column trained on.</summary>
    public const string DataColumn = "data.column";

    /// <summary>Rows averaged into one time step.</summary>
    public const string DataAggregate = "data.aggregate";

    /// <summary>Time steps of the series trained on.</summary>
    public const string DataLength = "data.length";

    /// <summary>"single" or "multi".</summary>
    public const string Mode = "forecast.mode";

    /// <summary>h.</summary>
    public const string Horizon = "forecast.horizon";

    /// <summary>Members of the seed ensemble (member k trained with seed + k - 1).</summary>
    public const string Ensemble = "train.ensemble";

    /// <summary>The input features (<c>--features</c>; the model's forecasting section holds them too).</summary>
    public const string Features = "forecast.features";

    /// <summary>Epochs run, best epoch, seed, whether training stopped early or was cancelled.</summary>
    public const string Epochs = "train.epochs", BestEpoch = "train.bestEpoch", Seed = "train.seed", StoppedEarly = "train.stoppedEarly", Cancelled = "train.cancelled";

    /// <summary>The <c>--trainer</c> that set the weights (bptt, rtrl, ekf, cmaes, evolino, esn); its own settings follow as "train.NAME.KEY".</summary>
    public const string Trainer = "train.trainer";

    /// <summary>Optimiser, learning rate, BPTT schedule (τb,τf), batch (of --trainer bptt).</summary>
    public const string Optimizer = "train.optimizer", LearningRate = "train.lr", Bptt = "train.bptt", Batch = "train.batch";

    /// <summary>Test metrics (original units) as the train command reported them (round-trip precision).</summary>
    public const string TestNrmse = "test.nrmse", TestRmse = "test.rmse", TestMae = "test.mae", TestMape = "test.mape";

    /// <summary>Value of <see cref="DataSource"/> for the embedded data.</summary>
    public const string EmbeddedSource = "embedded";

    /// <summary>Value of <see cref="DataSource"/> for a CSV file.</summary>
    public const string FileSource = "file";
}

/// <summary>Writes the model file of <c>rnn-simd train --out FILE</c>.</summary>
public static class TrainedModelFile
{
    /// <summary>
    /// Saves the trained network (its best weights) with the forecasting information (the scaler fitted on the training
    /// part, the forecast options, the column names) and the metadata of <see cref="ModelMetadata"/>, as an Rnn.Simd model
    /// file or, for a name ending in <c>.safetensors</c>, as safetensors (<see cref="SafeTensorsModel"/>). Atomic: the library
    /// writes a temporary file and renames it, so a failed save leaves an existing file untouched.
    /// </summary>
    /// <exception cref="CliException">The file could not be written (the message names it).</exception>
    public static void Save(string path, TrainOptions options, TrainingOutcome outcome, TrainEvaluation evaluation)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(evaluation);
        ForecastDataset d = outcome.Dataset;
        var info = new ForecastingInfo { Scaler = d.Scaler, Options = d.Options, ColumnNames = d.Series.ColumnNames };
        try
        {
            // A .safetensors name: PyTorch's state-dict names, the forecasting information in __metadata__.
            if (ModelFiles.IsSafeTensorsName(path)) SafeTensorsModel.Save(path, outcome.Members, info, Metadata(options, outcome, evaluation));
            else ModelFile.Save(path, outcome.Members, info, Metadata(options, outcome, evaluation));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--out {path}: the model could not be saved: {e.Message}", e);
        }
    }

    /// <summary>The metadata pairs of a training run.</summary>
    public static Dictionary<string, string> Metadata(TrainOptions o, TrainingOutcome outcome, TrainEvaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(evaluation);
        LoadedSeries data = outcome.Data;
        var r = outcome.Result;
        ForecastMetrics test = evaluation.Model.All;
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ModelMetadata.Tool] = ToolInfo.Name,
            [ModelMetadata.ToolVersion] = ToolInfo.Version,
            [ModelMetadata.Created] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            [ModelMetadata.DataSource] = data.IsEmbedded ? ModelMetadata.EmbeddedSource : ModelMetadata.FileSource,
            [ModelMetadata.DataName] = data.IsEmbedded ? "acea-rome-hourly" : data.Name,
            [ModelMetadata.DataColumn] = data.Column,
            [ModelMetadata.DataAggregate] = I(data.Aggregate),
            [ModelMetadata.DataLength] = I(data.Series.Length),
            [ModelMetadata.Mode] = o.Mode == TargetMode.MultiOutput ? "multi" : "single",
            [ModelMetadata.Horizon] = I(o.Horizon),
            [ModelMetadata.Epochs] = I(r.EpochsRun),
            [ModelMetadata.BestEpoch] = I(r.BestEpoch),
            [ModelMetadata.Seed] = o.Seed.ToString(CultureInfo.InvariantCulture),
            [ModelMetadata.Ensemble] = I(outcome.Members.Count),
            [ModelMetadata.Features] = o.Features.ToString(),
            [ModelMetadata.StoppedEarly] = r.StoppedEarly ? "true" : "false",
            [ModelMetadata.Cancelled] = r.Cancelled ? "true" : "false",
            [ModelMetadata.Optimizer] = o.Optimizer.ToString(),
            [ModelMetadata.LearningRate] = D(o.LearningRate),
            [ModelMetadata.Bptt] = I(o.Schedule.BackwardSteps) + "," + I(o.Schedule.ForwardSteps),
            [ModelMetadata.Batch] = I(o.Batch),
            [ModelMetadata.TestNrmse] = test.Nrmse is { } n ? D(n) : "",
            [ModelMetadata.TestRmse] = D(test.Rmse),
            [ModelMetadata.TestMae] = D(test.Mae),
            [ModelMetadata.TestMape] = test.Mape is { } m ? D(m) : "",
            [ModelMetadata.Trainer] = o.TrainerName,
        };
        foreach ((string key, string value) in o.Plan.Describe(o)) pairs[ModelMetadata.Trainer.Replace("trainer", o.TrainerName, StringComparison.Ordinal) + "." + key] = value;
        return pairs;
    }

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
