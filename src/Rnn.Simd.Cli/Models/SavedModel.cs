using System.Globalization;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Cli.Train;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;

namespace Rnn.Simd.Cli.Models;

/// <summary>
/// A model file opened by <c>forecast</c> or <c>evaluate</c>: the network, its forecasting information (scaler,
/// forecast options, column names) and metadata, plus the checks that a series fits it.
/// </summary>
public sealed class SavedModel
{
    private SavedModel(string path, LoadedModel model, ForecastingInfo forecasting)
    {
        Path = path;
        Model = model;
        Forecasting = forecasting;
    }

    /// <summary>The file it was read from.</summary>
    public string Path { get; }

    /// <summary>The loaded model.</summary>
    public LoadedModel Model { get; }

    /// <summary>Scaler, forecast options and column names.</summary>
    public ForecastingInfo Forecasting { get; }

    /// <summary>The network's shapes.</summary>
    public NetworkArchitecture Architecture => Model.Architecture;

    /// <summary>The forecast options the model was trained with.</summary>
    public ForecastOptions Options => Forecasting.Options;

    /// <summary>The model's scaler (fitted on its training part; never refitted).</summary>
    public StandardScaler Scaler => Forecasting.Scaler;

    /// <summary>Where a safetensors model's description came from: its sidecar's path, "metadata", or "" for an Rnn.Simd file.</summary>
    public string DescriptionSource { get; private init; } = "";

    /// <summary>Reads a model file: an Rnn.Simd model file or a safetensors file (see <see cref="ModelFiles"/>).</summary>
    /// <exception cref="CliException">The file does not exist, or it holds no forecasting information (the message says what is missing and how to supply it).</exception>
    /// <exception cref="InvalidDataException">The file is damaged or not a model file; the message starts with the path.</exception>
    public static SavedModel Load(string path)
    {
        LoadedModel model = ModelFiles.Open("--model", path, out string source);
        if (model.Forecasting is null)
        {
            if (model.Format == LoadedModel.SafeTensorsFormat)
                throw new CliException(
                    $"--model {path} holds PyTorch weights ({model.Architecture}) but no forecasting information: the scaler (mean and std per column), the column names, the horizon and the input features are missing. " +
                    $"Write them to {SafeTensorsModel.SidecarPath(path)} (README-cli.md, \"safetensors models\"), or export the model from an .rnn file with rnn-simd export.");
            throw new CliException($"--model {path} holds a network but no forecasting section (scaler, horizon, columns); save it with rnn-simd train --out or ModelFile.Save with a ForecastingInfo.");
        }
        return new SavedModel(path, model, model.Forecasting) { DescriptionSource = source };
    }

    /// <summary>A metadata value, or null.</summary>
    public string? Meta(string key) => Model.Metadata.TryGetValue(key, out string? v) && v.Length > 0 ? v : null;

    /// <summary>
    /// The library's <see cref="Forecaster"/> over the model's members (float or double networks), bound to the model's
    /// scaler and options: the one code path of <c>forecast</c>, <c>evaluate</c> and <c>train</c>'s test figures.
    /// </summary>
    /// <exception cref="CliException">The network's element type is neither float nor double, or it does not fit the options.</exception>
    public Forecaster CreateForecaster()
    {
        try
        {
            if (Model.ElementType == typeof(float)) return new Forecaster(Model.GetMembers<float>(), Scaler, Options);
            if (Model.ElementType == typeof(double)) return new Forecaster(Model.GetMembers<double>(), Scaler, Options);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"--model {Path}: {CliApp.WithoutParamName(e)}", e);
        }
        throw new CliException($"--model {Path}: unsupported element type {Model.ElementType.Name}.");
    }

    /// <summary>
    /// The data options with the aggregation defaulted from the model: when <c>--aggregate</c> is absent and the data
    /// comes from the same kind of source the model was trained on (the embedded data, or a file), the model's
    /// aggregation; otherwise the usual default (6 for the embedded data, 1 for a file).
    /// </summary>
    public DataOptions ResolveData(DataOptions given, out string aggregateNote)
    {
        ArgumentNullException.ThrowIfNull(given);
        if (given.Aggregate is int k)
        {
            aggregateNote = "";
            return given;
        }
        string wanted = given.Data is null ? ModelMetadata.EmbeddedSource : ModelMetadata.FileSource;
        if (Meta(ModelMetadata.DataSource) == wanted
            && int.TryParse(Meta(ModelMetadata.DataAggregate), NumberStyles.None, CultureInfo.InvariantCulture, out int aggregate) && aggregate >= 1)
        {
            aggregateNote = string.Create(CultureInfo.InvariantCulture, $"aggregate {aggregate} as the model was trained");
            return given with { Aggregate = aggregate };
        }
        aggregateNote = "";
        return given;
    }

    /// <summary>Checks that a series has the columns the model was trained on (this tool loads one).</summary>
    /// <exception cref="CliException">It does not; the message says how.</exception>
    public void CheckColumns(LoadedSeries data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int c = Scaler.ColumnCount;
        if (data.Series.ColumnCount != c)
            throw new CliException(string.Create(CultureInfo.InvariantCulture,
                $"--model {Path} was trained on {c} column(s) ({string.Join(", ", Forecasting.ColumnNames.Select(n => $"'{n}'"))}); the data has {data.Series.ColumnCount} ('{string.Join("', '", data.Series.ColumnNames)}'). This tool reads one column, so it serves one-column models."));
        if (Options.Features.HasCalendar && data.Series.Time is null)
            throw new CliException($"--model {Path} reads calendar features ({Options.Features}), which need timestamps; the data has no time column (give --data with one, or --time-column).");
    }

    /// <summary>Loads the series the data options ask for (aggregation defaulted from the model) and checks its columns.</summary>
    public LoadedSeries LoadSeries(DataOptions given, Action<string> info)
    {
        ArgumentNullException.ThrowIfNull(info);
        DataOptions resolved = ResolveData(given, out string note);
        LoadedSeries data = SeriesSource.Load(resolved);
        info(data.Describe() + (note.Length > 0 ? $" ({note})" : ""));
        CheckColumns(data);
        if (data.Series.ColumnCount == 1 && !string.Equals(data.Series.ColumnNames[0], Forecasting.ColumnNames[0], StringComparison.Ordinal))
            info($"note: the model was trained on column '{Forecasting.ColumnNames[0]}'; this series is column '{data.Series.ColumnNames[0]}'");
        return data;
    }

    /// <summary>One line about the model for progress output.</summary>
    public string Describe()
    {
        NetworkArchitecture a = Architecture;
        string trained = Meta(ModelMetadata.DataName) is { } name
            ? $", trained on {name} column '{Meta(ModelMetadata.DataColumn) ?? "?"}'"
            : "";
        string format = Model.Format == LoadedModel.SafeTensorsFormat
            ? $" (safetensors, description from {(DescriptionSource == "metadata" ? "its metadata" : DescriptionSource)})"
            : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"model {Path}{format}: {a.Cell} H={string.Join(",", a.HiddenSizes)} x{a.NumLayers}, {a.InputSize} -> {a.OutputSize}, horizon {Options.Horizon} ({ModeText}){trained}");
    }

    /// <summary>"single" or "multi".</summary>
    public string ModeText => Options.Mode == TargetMode.MultiOutput ? "multi" : "single";
}
