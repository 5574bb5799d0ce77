using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Cli.Models;
using Rnn.Simd.Cli.Train;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>Options of <c>rnn-simd forecast</c>.</summary>
public sealed class ForecastSettings : DataSettings
{
    /// <summary>Steps of a generative forecast when <c>--steps</c> is absent: a day of hourly steps.</summary>
    public const int DefaultGenerativeSteps = 24;

    /// <summary>Model file.</summary>
    [CommandOption("--model <FILE>")]
    [Description("Model file written by train --out (required): .rnn, or .safetensors (PyTorch names; a PyTorch-written file needs a FILE.json sidecar, see README-cli.md).")]
    public string? Model { get; init; }

    /// <summary>Generative mode.</summary>
    [CommandOption("--generative")]
    [Description("Feed each prediction back as the next value of the series (chapter's generative mode); needs a horizon-1 model that predicts every column it reads (lag and phase inputs are fine).")]
    public bool Generative { get; init; }

    /// <summary>Steps to forecast.</summary>
    [CommandOption("--steps <N>")]
    [Description("Values to forecast: one-shot, 1..h (default h, the model's horizon); generative, any number (default 24).")]
    public string? Steps { get; init; }

    /// <summary>Output format.</summary>
    [CommandOption("--format <FORMAT>")]
    [Description("csv (default: step,value rows) or json.")]
    public string? Format { get; init; }

    /// <summary>Same as --format json.</summary>
    [CommandOption("--json")]
    [Description("Same as --format json.")]
    public bool Json { get; init; }

    /// <summary>Output file.</summary>
    [CommandOption("-o|--output <FILE>")]
    [Description("Write the forecast to FILE instead of stdout.")]
    public string? Output { get; init; }

    /// <summary>No progress output.</summary>
    [CommandOption("-q|--quiet")]
    [Description("No progress output on stderr (errors are still reported).")]
    public bool Quiet { get; init; }

    /// <inheritdoc/>
    public override ValidationResult Validate() => TryParse(out _);

    /// <summary>The parsed options.</summary>
    public ForecastRequest Options => TryParse(out ForecastRequest? o).Successful ? o! : throw new CliUsageException("invalid options");

    private ValidationResult TryParse(out ForecastRequest? options)
    {
        options = null;
        ValidationResult r;
        if (Model is null || OptionValues.IsMissing(Model)) return ValidationResult.Error("--model FILE is required: the model file written by train --out.");
        if (!(r = TryParseData(out DataOptions? data)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--steps", Steps, 1, 1_000_000, out int? steps)).Successful) return r;
        if (Format is not null && OptionValues.IsMissing(Format)) return ValidationResult.Error("--format needs a value: csv or json.");
        string format = (Format ?? (Json ? "json" : "csv")).Trim().ToLowerInvariant();
        if (format is not ("csv" or "json")) return ValidationResult.Error($"--format must be csv or json, got '{Format}'.");
        if (Json && format != "json") return ValidationResult.Error("--json contradicts --format csv; give one of them.");
        if (Output is not null && OptionValues.IsMissing(Output)) return ValidationResult.Error("--output needs a file.");
        options = new ForecastRequest(Model, data!, Generative, steps, format == "json", Output, Quiet);
        return ValidationResult.Success();
    }
}

/// <summary>Parsed options of <c>rnn-simd forecast</c>.</summary>
/// <param name="ModelPath">The model file.</param>
/// <param name="Data">Where the series comes from.</param>
/// <param name="Generative">Feed predictions back.</param>
/// <param name="Steps">Values to forecast, or null for the default.</param>
/// <param name="Json">JSON instead of CSV.</param>
/// <param name="OutputPath">File to write, or null for stdout.</param>
/// <param name="Quiet">No progress output.</param>
public sealed record ForecastRequest(string ModelPath, DataOptions Data, bool Generative, int? Steps, bool Json, string? OutputPath, bool Quiet);

/// <summary>
/// <c>rnn-simd forecast</c>: loads a model file and writes the next values after the series end in original units,
/// from the library's <see cref="Forecaster"/> (a batch-1 state over the whole series, scaled with the model's scaler,
/// never refitted). One-shot (<see cref="Forecaster.ForecastPath(TimeSeries)"/>): a single-step model of horizon h
/// predicts y[t + h] at time t, so the outputs of the last h steps give y[T + 1 .. T + h] (1-based); a multi-output
/// model gives them all at the last step. Generative (<c>--generative</c>, <see cref="Forecaster.Generate(TimeSeries, int)"/>):
/// each prediction is fed back as the next value of the series (horizon-1 models that predict every column they read;
/// lag and phase inputs are computed from the history and the values generated so far).
/// </summary>
public sealed class ForecastCommand(CliOutput output) : Command<ForecastSettings>
{
    /// <summary>JSON schema version of the document.</summary>
    public const int SchemaVersion = 1;

    /// <inheritdoc/>
    public override int Execute(CommandContext context, ForecastSettings settings, CancellationToken cancellationToken)
    {
        ForecastRequest o = settings.Options;
        Action<string> info = o.Quiet ? static _ => { } : output.Progress;
        SavedModel model = SavedModel.Load(o.ModelPath);
        info(model.Describe());
        LoadedSeries data = model.LoadSeries(o.Data, info);
        Forecaster forecaster = model.CreateForecaster();
        int h = model.Options.Horizon;
        float[] values;
        int steps;
        try
        {
            if (o.Generative)
            {
                if (forecaster.GenerativeProblem is string why)
                    throw new CliException($"--generative does not apply to this model: {why}.");
                steps = o.Steps ?? ForecastSettings.DefaultGenerativeSteps;
                values = forecaster.Generate(data.Series, steps);
            }
            else
            {
                steps = o.Steps ?? h;
                if (steps > h)
                    throw new CliException(string.Create(CultureInfo.InvariantCulture,
                        $"--steps {steps} exceeds the model's horizon {h}: a one-shot forecast gives at most {h} values. Forecast generatively (--generative, a horizon-1 model) for more."));
                values = forecaster.ForecastPath(data.Series);
            }
        }
        catch (SeriesTooShortException e)
        {
            throw new CliException($"The series is too short for this model: {CliApp.WithoutParamName(e)}", e);
        }
        int ct = forecaster.TargetCount;
        string text = o.Json ? Json(model, data, o.Generative, steps, values, ct) : Csv(data, steps, values, ct);
        if (o.OutputPath is string path)
        {
            try { File.WriteAllText(path, text, new UTF8Encoding(false)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"--output {path}: {e.Message}", e);
            }
            info($"wrote {steps} forecast value(s) to {path}");
        }
        else
        {
            output.Out.Write(text);
            output.Out.Flush();
        }
        return ExitCodes.Success;
    }

    // One column (the tool loads one): "step,value"; several target columns (a library-made model): "step,column,value".
    private static string Csv(LoadedSeries data, int steps, float[] values, int ct)
    {
        var s = new StringBuilder(ct == 1 ? "step,value\n" : "step,column,value\n");
        for (int k = 0; k < steps; k++)
        {
            for (int j = 0; j < ct; j++)
            {
                s.Append((k + 1).ToString(CultureInfo.InvariantCulture)).Append(',');
                if (ct > 1) s.Append(data.Series.ColumnNames[j]).Append(',');
                s.Append(values[k * ct + j].ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }
        return s.ToString();
    }

    private static string Json(SavedModel model, LoadedSeries data, bool generative, int steps, float[] values, int ct)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", SchemaVersion);
            w.WriteString("tool", ToolInfo.Name);
            w.WriteString("version", ToolInfo.Version);
            WriteModel(w, model);
            WriteData(w, data);
            w.WriteString("method", generative ? "generative" : "one-shot");
            w.WriteNumber("steps", steps);
            w.WriteStartArray("forecast");
            for (int k = 0; k < steps; k++)
            {
                for (int j = 0; j < ct; j++)
                {
                    w.WriteStartObject();
                    w.WriteNumber("step", k + 1);
                    w.WriteNumber("index", data.Series.Length + k);
                    if (ct > 1) w.WriteString("column", data.Series.ColumnNames[j]);
                    w.WriteNumber("value", values[k * ct + j]);
                    w.WriteEndObject();
                }
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>The "model" object of the forecast and evaluate documents.</summary>
    internal static void WriteModel(Utf8JsonWriter w, SavedModel model)
    {
        NetworkArchitecture a = model.Architecture;
        w.WriteStartObject("model");
        w.WriteString("path", model.Path);
        w.WriteString("format", model.Model.Format);
        w.WriteNumber("formatVersion", model.Model.FormatVersion);
        w.WriteString("cell", a.Cell.ToString());
        w.WriteStartArray("hiddenSizes");
        foreach (int size in a.HiddenSizes) w.WriteNumberValue(size);
        w.WriteEndArray();
        w.WriteNumber("layers", a.NumLayers);
        w.WriteNumber("inputSize", a.InputSize);
        w.WriteNumber("outputSize", a.OutputSize);
        w.WriteNumber("horizon", model.Options.Horizon);
        w.WriteString("mode", model.ModeText);
        w.WriteStartArray("columns");
        foreach (string name in model.Forecasting.ColumnNames) w.WriteStringValue(name);
        w.WriteEndArray();
        w.WriteStartObject("metadata");
        foreach (KeyValuePair<string, string> kv in model.Model.Metadata) w.WriteString(kv.Key, kv.Value);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The "data" object of the forecast and evaluate documents.</summary>
    internal static void WriteData(Utf8JsonWriter w, LoadedSeries data)
    {
        w.WriteStartObject("data");
        w.WriteString("name", data.IsEmbedded ? "acea-rome-hourly" : data.Name);
        w.WriteString("column", data.Column);
        w.WriteNumber("aggregate", data.Aggregate);
        w.WriteNumber("length", data.Series.Length);
        w.WriteNumber("filledGaps", data.FilledGaps);
        w.WriteEndObject();
    }
}
