using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Cli.Models;
using Rnn.Simd.Cli.Train;
using Rnn.Simd.Forecasting;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>
/// <c>rnn-simd train</c>: a pipeline of four steps, each in its own file of Train/ so that other commands
/// (forecast, evaluate) and later options (a model file, checkpoints) can reuse or extend one without the others:
/// <list type="number">
/// <item><see cref="SeriesSource"/>: the embedded ACEA Rome load (hourly means of the 10-minute series, its anomaly
///   masked) or one column of a user CSV (<see cref="CsvColumnReader"/>, Sep), averaged over <c>--aggregate</c> rows.</item>
/// <item><see cref="TrainingRun"/>: chronological 70 / 15 / 15 split, z-scores fitted on training, windows for
///   <c>--horizon</c> and <c>--mode</c>, the network and trainer, <see cref="TrainProgress"/>, Ctrl+C, test predictions.</item>
/// <item><see cref="TrainEvaluation"/> and <see cref="TrainReport"/>: test NRMSE / RMSE / MAE / MAPE in original units
///   against persistence and seasonal-naive baselines on the same targets, as a table or one JSON document.</item>
/// <item><see cref="TrainPlots"/>: forecast.png and loss.png with <c>--plot DIR</c>.</item>
/// <item><see cref="TrainedModelFile"/>: the model file with <c>--out FILE</c>; checkpoints with <c>--checkpoint</c> / <c>--resume</c>.</item>
/// </list>
/// Returns 0, or <see cref="ExitCodes.Cancelled"/> after a Ctrl+C (the best model so far is still reported).
/// </summary>
public sealed class TrainCommand(CliOutput output) : Command<TrainSettings>
{
    /// <summary>Embedded resource name of the default data.</summary>
    public const string DataResource = SeriesSource.DataResource;

    /// <summary>The anomaly of the default series, in hourly indices [start, end).</summary>
    public static readonly TimeRange Anomaly = SeriesSource.EmbeddedAnomaly.Aggregate(SeriesSource.EmbeddedAggregate);

    /// <inheritdoc/>
    public override int Execute(CommandContext context, TrainSettings settings, CancellationToken cancellationToken)
    {
        TrainOptions o = settings.Options;
        var progress = new TrainProgress(output, o.Quiet);

        LoadedSeries data = SeriesSource.Load(o);
        // With timestamps, a phase feature of a calendar cycle (day, week, ...) reads the real calendar instead of the index.
        if (data.Series.Time is { } time) o = o with { Features = o.Features.WithCalendarPhases(time.Period) };
        else if (o.Features.HasCalendar)
            throw new CliException($"--features {o.Features}: calendar features read timestamps, and {(data.IsEmbedded ? "the embedded data has none" : $"{data.Name} has no time column")}; use day, week or phaseP instead.");
        ForecastDataset dataset = TrainingRun.CreateDataset(data, o);
        progress.Info(data.Describe());
        progress.Info(FormattableString.Invariant(
            $"horizon {o.Horizon} ({(o.Mode == TargetMode.MultiOutput ? "multi-output" : "single step")}; inputs {o.Features}); split {dataset.Train.Length} / {dataset.Validation!.Length} / {dataset.Test!.Length} rows"));

        // Before training: a --seasons too long for the training part is an error, and the seasons are reported up front.
        SeasonChoice seasons = TrainSeasons.Choose(data, dataset, o);
        progress.Info(seasons.Describe());

        // Fail now rather than after training when a file cannot be written there.
        CheckDirectory("--out", o.ModelPath);
        CheckDirectory("--checkpoint", o.CheckpointPath);
        if (o.ResumePath is not null) progress.Info($"resuming the run checkpointed in {o.ResumePath}");

        TrainingOutcome outcome;
        using (var cancel = new ConsoleCancellation(o.Quiet ? null : output.Progress, output.Cancellation, cancellationToken))
        {
            outcome = TrainingRun.Run(data, dataset, o, progress, cancel.Token);
        }
        if (outcome.Result.Cancelled)
            output.Progress(FormattableString.Invariant(
                $"cancelled after {outcome.Result.EpochsRun} complete epoch(s); reporting the best model so far (epoch {outcome.Result.BestEpoch}{(outcome.Result.BestEpoch == 0 ? ": the initial weights" : "")})"));

        var evaluation = TrainEvaluation.Compute(outcome, seasons.Periods);
        var report = new TrainReport(o, outcome, evaluation) { Seasons = seasons };
        if (o.ModelPath is string modelPath)
        {
            // Before the report, so that a failed save is one error line and nothing on stdout.
            TrainedModelFile.Save(modelPath, o, outcome, evaluation);
            report.Extras["model"] = modelPath;
        }
        if (o.CheckpointPath is string checkpointPath) report.Extras["checkpoint"] = checkpointPath;
        if (o.ResumePath is string resumePath) report.Extras["resumedFrom"] = resumePath;
        if (o.PlotDirectory is string dir) report.Files.AddRange(TrainPlots.Write(dir, outcome));
        report.Write(output);
        return outcome.Result.Cancelled ? ExitCodes.Cancelled : ExitCodes.Success;
    }

    private static void CheckDirectory(string option, string? path)
    {
        if (path is null) return;
        if (Directory.Exists(path)) throw new CliException($"{option} {path} is a directory; give a file name.");
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
            throw new CliException($"{option} {path}: the directory {directory} does not exist.");
    }
}
