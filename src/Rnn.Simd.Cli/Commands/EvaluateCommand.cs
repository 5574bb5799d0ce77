using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Cli.Models;
using Rnn.Simd.Cli.Train;
using Rnn.Simd.Forecasting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>Options of <c>rnn-simd evaluate</c>.</summary>
public sealed class EvaluateSettings : DataSettings
{
    /// <summary>Model file.</summary>
    [CommandOption("--model <FILE>")]
    [Description("Model file written by train --out (required): .rnn, or .safetensors (PyTorch names; a PyTorch-written file needs a FILE.json sidecar, see README-cli.md).")]
    public string? Model { get; init; }

    /// <summary>Part of the split.</summary>
    [CommandOption("--part <PART>")]
    [Description("train, validation, test (default) or all: the part of the chronological 70 / 15 / 15 split whose targets are scored.")]
    public string? Part { get; init; }

    /// <summary>Seasons of the seasonal-naive baselines.</summary>
    [CommandOption("--seasons <LIST>")]
    [Description("Seasons (in time steps) of the seasonal-naive baselines, comma-separated (default 24,168); a season shorter than the horizon is skipped.")]
    public string? Seasons { get; init; }

    /// <summary>Print one JSON document.</summary>
    [CommandOption("--json")]
    [Description("Print one JSON document on stdout instead of a table.")]
    public bool Json { get; init; }

    /// <summary>No progress output.</summary>
    [CommandOption("-q|--quiet")]
    [Description("No progress output on stderr (errors are still reported).")]
    public bool Quiet { get; init; }

    /// <inheritdoc/>
    public override ValidationResult Validate() => TryParse(out _);

    /// <summary>The parsed options.</summary>
    public EvaluateRequest Options => TryParse(out EvaluateRequest? o).Successful ? o! : throw new CliUsageException("invalid options");

    private ValidationResult TryParse(out EvaluateRequest? options)
    {
        options = null;
        ValidationResult r;
        if (Model is null || OptionValues.IsMissing(Model)) return ValidationResult.Error("--model FILE is required: the model file written by train --out.");
        if (!(r = TryParseData(out DataOptions? data)).Successful) return r;
        if (Part is not null && OptionValues.IsMissing(Part)) return ValidationResult.Error("--part needs a value: train, validation, test or all.");
        string part = (Part ?? "test").Trim().ToLowerInvariant();
        if (part is not ("train" or "validation" or "test" or "all"))
            return ValidationResult.Error($"--part must be train, validation, test or all, got '{Part}'.");
        if (!(r = OptionValues.ParseIntList("--seasons", Seasons, 1, 1_000_000, 8, out int[]? seasons)).Successful) return r;
        options = new EvaluateRequest(Model, data!, part, seasons ?? [24, 168], Json, Quiet);
        return ValidationResult.Success();
    }
}

/// <summary>Parsed options of <c>rnn-simd evaluate</c>.</summary>
/// <param name="ModelPath">The model file.</param>
/// <param name="Data">Where the series comes from.</param>
/// <param name="Part">"train", "validation", "test" or "all".</param>
/// <param name="Seasons">Seasons of the seasonal-naive baselines.</param>
/// <param name="Json">One JSON document instead of a table.</param>
/// <param name="Quiet">No progress output.</param>
public sealed record EvaluateRequest(string ModelPath, DataOptions Data, string Part, IReadOnlyList<int> Seasons, bool Json, bool Quiet);

/// <summary>
/// <c>rnn-simd evaluate</c>: the metrics (NRMSE, RMSE, MAE, MAPE in original units) of a saved model on one part of the
/// series' chronological 70 / 15 / 15 split, with persistence and seasonal-naive baselines on the same targets. The
/// inputs are scaled with the model's scaler (never refitted), the embedded data's anomaly is masked, and the
/// predictions come from the same code as <c>train</c>'s test figures (the library's
/// <see cref="Forecaster.Predict(ForecastWindows)"/>), so evaluating a model on the data it was trained on repeats
/// train's test metrics exactly.
/// </summary>
public sealed class EvaluateCommand(CliOutput output) : Command<EvaluateSettings>
{
    /// <summary>JSON schema version of the document.</summary>
    public const int SchemaVersion = 1;

    /// <inheritdoc/>
    public override int Execute(CommandContext context, EvaluateSettings settings, CancellationToken cancellationToken)
    {
        EvaluateRequest o = settings.Options;
        Action<string> info = o.Quiet ? static _ => { } : output.Progress;
        SavedModel model = SavedModel.Load(o.ModelPath);
        info(model.Describe());
        LoadedSeries data = model.LoadSeries(o.Data, info);
        Forecaster forecaster = model.CreateForecaster();
        ForecastWindows windows = Windows(model, data, o.Part);
        info(string.Create(CultureInfo.InvariantCulture, $"{o.Part} part: targets {windows.TargetRange}, {windows.IncludedCount} scored"));
        float[] predictions = forecaster.Predict(windows);
        TrainEvaluation evaluation;
        try
        {
            evaluation = TrainEvaluation.Compute(windows, predictions, o.Seasons);
        }
        catch (EmptySeriesException e)
        {
            throw new CliException($"--part {o.Part}: {e.Message}", e);
        }
        if (o.Json) WriteJson(output.Out, model, data, o, windows, evaluation);
        else WriteTable(output, model, data, o, windows, evaluation);
        return ExitCodes.Success;
    }

    // The part's windows with the model's scaler and options; the split is the one train used (default fractions).
    private static ForecastWindows Windows(SavedModel model, LoadedSeries data, string part)
    {
        int n = data.Series.Length;
        TimeRange range;
        try
        {
            ChronologicalSplit split = ChronologicalSplit.Create(n);
            range = part switch
            {
                "train" => split.Train,
                "validation" => split.Validation,
                "test" => split.Test,
                _ => new TimeRange(0, n),
            };
        }
        catch (InvalidSplitException e)
        {
            throw new CliException($"The series has {n} steps, too few for the 70 / 15 / 15 split: {e.Message}", e);
        }
        try
        {
            return ForecastWindows.Create(data.Series, model.Scaler, range, model.Options, data.Mask);
        }
        catch (Exception e) when (e is SeriesTooShortException or EmptySeriesException)
        {
            string message = e is ArgumentException { ParamName: not null } ae ? ae.Message.Replace($" (Parameter '{ae.ParamName}')", "", StringComparison.Ordinal) : e.Message;
            throw new CliException(string.Create(CultureInfo.InvariantCulture,
                $"The series has {n} steps, too few for this model (horizon {model.Options.Horizon}) on the {part} part: {message}"), e);
        }
    }

    private static void WriteTable(CliOutput output, SavedModel model, LoadedSeries data, EvaluateRequest o, ForecastWindows windows, TrainEvaluation evaluation)
    {
        bool multi = model.Options.Mode == TargetMode.MultiOutput;
        int h = model.Options.Horizon;
        string title = string.Create(CultureInfo.InvariantCulture,
            $"{o.Part} part {windows.TargetRange}, horizon {h} steps{(multi ? $", all of y[t+1..t+{h}]" : "")} ({evaluation.Model.All.Count} targets)");
        var table = new Table().Title(Markup.Escape(title)).AddColumn("Forecast");
        foreach (string m in new[] { "NRMSE", "RMSE", "MAE", "MAPE %" }) table.AddColumn(new TableColumn(m).RightAligned());
        if (multi) table.AddColumn(new TableColumn("NRMSE step h").RightAligned());
        var a = model.Architecture;
        foreach (ForecastScore s in new[] { evaluation.Model }.Concat(evaluation.Baselines))
        {
            string name = s.Name switch
            {
                "model" => string.Create(CultureInfo.InvariantCulture, $"{a.Cell} H={string.Join(",", a.HiddenSizes)} x{a.NumLayers}"),
                "persistence" => string.Create(CultureInfo.InvariantCulture, $"persistence (lag {s.Lag})"),
                _ => string.Create(CultureInfo.InvariantCulture, $"seasonal naive (lag {s.Lag})"),
            };
            var cells = new List<string> { Markup.Escape(name), TrainReport.F(s.All.Nrmse), TrainReport.F(s.All.Rmse), TrainReport.F(s.All.Mae), TrainReport.F(s.All.Mape) };
            if (multi) cells.Add(TrainReport.F(s.LastStep.Nrmse));
            table.AddRow(cells.ToArray());
        }
        output.Console.Write(table);
        TextWriter text = output.Out;
        text.Flush();
        text.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model {model.Path}; data {data.Name} column '{data.Column}', {data.Series.Length} steps; scaled with the model's scaler."));
        if (!data.Mask.IsEmpty) text.WriteLine($"Steps {data.Mask} masked out of the metrics.");
        if (evaluation.SkippedSeasons.Count > 0)
            text.WriteLine($"Seasonal naive skipped for season(s) {string.Join(", ", evaluation.SkippedSeasons)}: shorter than the horizon or than the history.");
        text.Flush();
    }

    private static void WriteJson(TextWriter writer, SavedModel model, LoadedSeries data, EvaluateRequest o, ForecastWindows windows, TrainEvaluation evaluation)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", SchemaVersion);
            w.WriteString("tool", ToolInfo.Name);
            w.WriteString("version", ToolInfo.Version);
            ForecastCommand.WriteModel(w, model);
            ForecastCommand.WriteData(w, data);
            w.WriteString("part", o.Part);
            w.WriteStartArray("targetRange");
            w.WriteNumberValue(windows.TargetRange.Start);
            w.WriteNumberValue(windows.TargetRange.End);
            w.WriteEndArray();
            w.WriteStartArray("maskedRanges");
            foreach (TimeRange range in data.Mask.Excluded)
            {
                w.WriteStartArray();
                w.WriteNumberValue(range.Start);
                w.WriteNumberValue(range.End);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteStartObject("metrics");
            TrainReport.Metrics(w, evaluation.Model.All);
            w.WriteEndObject();
            w.WriteStartObject("metricsLastStep");
            TrainReport.Metrics(w, evaluation.Model.LastStep);
            w.WriteEndObject();
            w.WriteStartArray("baselines");
            foreach (ForecastScore b in evaluation.Baselines)
            {
                w.WriteStartObject();
                w.WriteString("name", b.Name);
                w.WriteNumber("lag", b.Lag);
                TrainReport.Metrics(w, b.All);
                w.WriteStartObject("lastStep");
                TrainReport.Metrics(w, b.LastStep);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("skippedSeasons");
            foreach (int s in evaluation.SkippedSeasons) w.WriteNumberValue(s);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        writer.Write(Encoding.UTF8.GetString(stream.ToArray()));
        writer.WriteLine();
        writer.Flush();
    }
}
