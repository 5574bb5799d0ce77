using System.Globalization;
using System.Text.Json;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Cli.Train.Trainers;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Spectre.Console;

namespace Rnn.Simd.Cli.Train;

/// <summary>
/// The result of <c>rnn-simd train</c> on stdout: a table (model and baselines, then timings), or with <c>--json</c>
/// one JSON document (schema in README-cli.md). <see cref="Extras"/> lets a later step (a model file, a checkpoint)
/// add its own fields without touching this class's internals.
/// </summary>
public sealed class TrainReport(TrainOptions options, TrainingOutcome outcome, TrainEvaluation evaluation)
{
    /// <summary>JSON schema version of the document; fields are only ever added within a version.</summary>
    public const int SchemaVersion = 1;

    /// <summary>Files written by the run (plots, later model files), reported under "files".</summary>
    public List<string> Files { get; } = [];

    /// <summary>The seasons of the baselines and the evidence for them (detected, given or assumed), or null.</summary>
    public SeasonChoice? Seasons { get; init; }

    /// <summary>Extra string fields for the JSON document (written after the standard ones) and the table footer.</summary>
    public Dictionary<string, string> Extras { get; } = new(StringComparer.Ordinal);

    /// <summary>Writes the table or the JSON document, as the options ask.</summary>
    public void Write(CliOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (options.Json) WriteJson(output.Out);
        else WriteTable(output.Console, output.Out);
    }

    private string ModeText => options.Mode == TargetMode.MultiOutput ? "multi" : "single";

    /// <summary>Writes the table through <paramref name="console"/> and the lines under it to <paramref name="text"/> (unwrapped).</summary>
    public void WriteTable(IAnsiConsole console, TextWriter text)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(text);
        ForecastWindows test = outcome.Test;
        bool multi = options.Mode == TargetMode.MultiOutput;
        string title = multi
            ? Invariant($"Test set, horizon {options.Horizon} steps, all of y[t+1..t+{options.Horizon}] ({evaluation.Model.All.Count} targets; step h: {evaluation.Model.LastStep.Count})")
            : Invariant($"Test set, horizon {options.Horizon} steps ({evaluation.Model.All.Count} targets)");
        var table = new Table().Title(Markup.Escape(title)).AddColumn("Forecast");
        string[] metrics = ["NRMSE", "RMSE", "MAE", "MAPE %"];
        foreach (string m in metrics) table.AddColumn(new TableColumn(m).RightAligned());
        if (multi) table.AddColumn(new TableColumn("NRMSE step h").RightAligned());
        foreach (ForecastScore s in Rows())
        {
            string name = s.Name switch
            {
                "model" => ModelName(options, outcome),
                _ => s.Label + (ReferenceEquals(s, evaluation.Best) ? " *" : ""),
            };
            var cells = new List<string> { Markup.Escape(name), F(s.All.Nrmse), F(s.All.Rmse), F(s.All.Mae), F(s.All.Mape) };
            if (multi) cells.Add(F(s.LastStep.Nrmse));
            table.AddRow(cells.ToArray());
        }
        console.Write(table);
        text.Flush();
        var r = outcome.Result;
        string stop = r.Cancelled ? ", cancelled" : r.StoppedEarly ? ", stopped early" : "";
        string epochs = outcome.MemberResults.Count == 1
            ? Invariant($"{r.EpochsRun} epochs (best {r.BestEpoch}{stop})")
            : Invariant($"{outcome.MemberResults.Count} members, {r.EpochsRun} epochs in all (best {string.Join(", ", outcome.MemberResults.Select(m => m.BestEpoch))}{stop})");
        text.WriteLine(Invariant(
            $"{epochs}, {r.Elapsed.TotalSeconds:F1} s, {r.WindowsPerSecond:F0} windows/s; inputs {options.Features}; data {outcome.Data.Name} column '{outcome.Data.Column}', {test.Series.Length} steps."));
        if (!outcome.Data.Mask.IsEmpty) text.WriteLine(Invariant($"Steps {outcome.Data.Mask} masked out of losses and metrics."));
        if (Seasons is not null) text.WriteLine(Seasons.Describe());
        if (outcome.Data.Period is { } period)
            text.WriteLine(Invariant($"Sampling period {period}{(outcome.Data.Time is { } time ? $", from {time.Start:yyyy-MM-dd HH:mm} (time column '{outcome.Data.TimeColumn}')" : "")}{(outcome.Data.FilledTimeSteps > 0 ? $"; {outcome.Data.FilledTimeSteps} missing time step(s) filled by linear interpolation" : "")}."));
        if (evaluation.Best is { } best)
            text.WriteLine(Invariant(
                $"* best baseline on validation: {best.Label} (validation NRMSE {F(best.ValidationNrmse)}, test {F(best.All.Nrmse)}); skill of the model 1 - NRMSE_model / NRMSE_best = {F(evaluation.Skill)}."));
        foreach (string note in evaluation.EtsNotes) text.WriteLine(note);
        if (evaluation.SkippedSeasons.Count > 0)
            text.WriteLine(Invariant($"Seasonal naive skipped for season(s) {string.Join(", ", evaluation.SkippedSeasons)}: shorter than the horizon or than the history."));
        foreach (string file in Files) text.WriteLine($"Wrote {file}");
        foreach (KeyValuePair<string, string> e in Extras) text.WriteLine($"{e.Key}: {e.Value}");
        text.Flush();
    }

    private IEnumerable<ForecastScore> Rows()
    {
        yield return evaluation.Model;
        foreach (ForecastScore b in evaluation.Baselines) yield return b;
        foreach (ForecastScore b in evaluation.Ets) yield return b;
    }

    /// <summary>Writes the JSON document followed by a newline.</summary>
    public void WriteJson(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ForecastDataset d = outcome.Dataset;
        var r = outcome.Result;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", SchemaVersion);
            w.WriteString("tool", ToolInfo.Name);
            w.WriteString("version", ToolInfo.Version);
            w.WriteString("data", outcome.Data.IsEmbedded ? "acea-rome-hourly" : outcome.Data.Name);
            w.WriteString("column", outcome.Data.Column);
            w.WriteNumber("aggregate", outcome.Data.Aggregate);
            w.WriteNumber("length", d.Series.Length);
            w.WriteNumber("filledGaps", outcome.Data.FilledGaps);
            w.WriteStartObject("split");
            w.WriteNumber("train", d.Split.Train.Length);
            w.WriteNumber("validation", d.Split.Validation.Length);
            w.WriteNumber("test", d.Split.Test.Length);
            w.WriteEndObject();
            w.WriteString("mode", ModeText);
            w.WriteNumber("horizon", options.Horizon);
            w.WriteString("features", options.Features.ToString());
            w.WriteString("trainer", options.TrainerName);
            IReadOnlyList<KeyValuePair<string, string>> settings = options.Plan.Describe(options);
            if (settings.Count > 0)
            {
                w.WriteStartObject("trainerOptions");
                foreach ((string key, string value) in settings) w.WriteString(key, value);
                w.WriteEndObject();
            }
            NetworkArchitecture arch = outcome.Network.Architecture;
            w.WriteString("cell", arch.Cell.ToString());
            w.WriteNumber("hidden", arch.HiddenSizes[0]);
            w.WriteNumber("layers", arch.NumLayers);
            w.WriteNumber("ensemble", outcome.Members.Count);
            if (outcome.Data.IsEmbedded && outcome.Data.Aggregate == SeriesSource.EmbeddedAggregate && outcome.Data.Mask.Excluded.Count == 1)
            {
                // The field of the first version of the schema, kept for its readers.
                w.WriteStartArray("maskedHours");
                w.WriteNumberValue(outcome.Data.Mask.Excluded[0].Start);
                w.WriteNumberValue(outcome.Data.Mask.Excluded[0].End);
                w.WriteEndArray();
            }
            w.WriteStartArray("maskedRanges");
            foreach (TimeRange range in outcome.Data.Mask.Excluded)
            {
                w.WriteStartArray();
                w.WriteNumberValue(range.Start);
                w.WriteNumberValue(range.End);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteStartObject("test");
            Metrics(w, evaluation.Model.All);
            w.WriteEndObject();
            w.WriteStartObject("testLastStep");
            Metrics(w, evaluation.Model.LastStep);
            w.WriteEndObject();
            w.WriteStartArray("baselines");
            foreach (ForecastScore b in evaluation.Baselines)
            {
                w.WriteStartObject();
                w.WriteString("name", b.Name);
                w.WriteNumber("lag", b.Lag);
                Metrics(w, b.All);
                w.WriteStartObject("lastStep");
                Metrics(w, b.LastStep);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WriteSeasonsAndBest(w);
            w.WriteNumber("epochs", r.EpochsRun);
            w.WriteNumber("bestEpoch", r.BestEpoch);
            w.WriteBoolean("stoppedEarly", r.StoppedEarly);
            w.WriteBoolean("cancelled", r.Cancelled);
            w.WriteNumber("trainSeconds", Math.Round(r.Elapsed.TotalSeconds, 3));
            w.WriteNumber("windowsPerSecond", Math.Round(r.WindowsPerSecond, 1));
            w.WriteStartArray("members");
            for (int k = 0; k < outcome.MemberResults.Count; k++)
            {
                TrainingResult m = outcome.MemberResults[k];
                w.WriteStartObject();
                w.WriteNumber("seed", unchecked(options.Seed + (ulong)k));
                w.WriteNumber("epochs", m.EpochsRun);
                w.WriteNumber("bestEpoch", m.BestEpoch);
                Number(w, "bestValidationLoss", m.BestLoss);
                w.WriteNumber("trainSeconds", Math.Round(m.Elapsed.TotalSeconds, 3));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("history");
            foreach (var p in r.History)
            {
                w.WriteStartObject();
                w.WriteNumber("epoch", p.Epoch);
                Number(w, "trainLoss", p.TrainLoss);
                Number(w, "validationLoss", p.ValidationLoss);
                Number(w, "learningRate", p.LearningRate);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("files");
            foreach (string file in Files) w.WriteStringValue(file);
            w.WriteEndArray();
            foreach (KeyValuePair<string, string> e in Extras) w.WriteString(e.Key, e.Value);
            w.WriteEndObject();
        }
        writer.Write(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        writer.WriteLine();
        writer.Flush();
    }

    // The fields of issue 14: sampling period, time column, seasons and their evidence, ETS, validation figures, the best baseline and the skill.
    private void WriteSeasonsAndBest(Utf8JsonWriter w)
    {
        LoadedSeries data = outcome.Data;
        if (data.Period is { } period) w.WriteString("samplingPeriod", period.ToString());
        else w.WriteNull("samplingPeriod");
        if (data.TimeColumn is string timeColumn) w.WriteString("timeColumn", timeColumn);
        else w.WriteNull("timeColumn");
        if (data.Time is { } time) w.WriteString("start", time.Start.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
        else w.WriteNull("start");
        w.WriteNumber("filledTimeSteps", data.FilledTimeSteps);
        if (Seasons is not null)
        {
            w.WriteStartObject("seasons");
            w.WriteString("source", Seasons.Source);
            w.WriteStartArray("periods");
            foreach (int p in Seasons.Periods) w.WriteNumberValue(p);
            w.WriteEndArray();
            w.WriteStartArray("candidates");
            foreach (SeasonCandidate c in Seasons.Candidates)
            {
                w.WriteStartObject();
                w.WriteNumber("period", c.Period);
                w.WriteString("name", c.Name);
                Number(w, "acf", c.Acf);
                Number(w, "acfHalf", c.AcfHalf);
                w.WriteBoolean("confirmed", c.Confirmed);
                w.WriteString("reason", c.Reason);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteStartArray("ets");
        foreach (ForecastScore e in evaluation.Ets)
        {
            w.WriteStartObject();
            w.WriteString("name", e.Label);
            w.WriteNumber("season", e.Lag);
            if (e.Ets is { } p)
            {
                Number(w, "alpha", p.Alpha);
                Number(w, "beta", p.Beta);
                Number(w, "gamma", p.Gamma);
                Number(w, "phi", p.Phi);
            }
            Metrics(w, e.All);
            w.WriteStartObject("lastStep");
            Metrics(w, e.LastStep);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        // Validation NRMSE of every baseline (the figure that chooses the best), apart from "baselines" so that it keeps the test-only layout evaluate also prints.
        w.WriteStartArray("validationBaselines");
        foreach (ForecastScore b in evaluation.Baselines.Concat(evaluation.Ets))
        {
            w.WriteStartObject();
            w.WriteString("name", b.Name);
            w.WriteNumber("lag", b.Lag);
            Number(w, "nrmse", b.ValidationNrmse);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (evaluation.Best is { } best)
        {
            w.WriteStartObject("bestBaseline");
            w.WriteString("name", best.Name);
            w.WriteNumber("lag", best.Lag);
            w.WriteString("label", best.Label);
            Number(w, "validationNrmse", best.ValidationNrmse);
            Number(w, "nrmse", best.All.Nrmse);
            w.WriteEndObject();
        }
        else w.WriteNull("bestBaseline");
        Number(w, "skill", evaluation.Skill);
    }

    /// <summary>Writes nrmse, rmse, mae, mape (null when undefined) and count.</summary>
    internal static void Metrics(Utf8JsonWriter w, ForecastMetrics m)
    {
        Number(w, "nrmse", m.Nrmse);
        Number(w, "rmse", m.Rmse);
        Number(w, "mae", m.Mae);
        Number(w, "mape", m.Mape);
        w.WriteNumber("count", m.Count);
    }

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v)) w.WriteNumber(name, Math.Round(v, 6));
        else w.WriteNull(name);
    }

    /// <summary>A metric for a table: three decimals, "-" when undefined.</summary>
    internal static string F(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("0.000", CultureInfo.InvariantCulture) : "-";

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>The model row of the table: the trainer (when not BPTT), the cell (RHN with its depth), H and layers, and the ensemble size.</summary>
    private static string ModelName(TrainOptions options, TrainingOutcome outcome)
    {
        NetworkArchitecture a = outcome.Network.Architecture;
        string cell = a.Cell == Rnn.Simd.Cells.CellType.Highway ? Invariant($"RHN L={a.RecurrenceDepth}") : a.Cell.ToString();
        string trainer = options.TrainerName == TrainerKinds.Default.Name ? "" : options.TrainerName + " ";
        string members = outcome.Members.Count > 1 ? Invariant($", mean of {outcome.Members.Count}") : "";
        return Invariant($"{trainer}{cell} H={a.HiddenSizes[0]} x{a.NumLayers}{members}");
    }
}
