using System.Globalization;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Onnx;
using Rnn.Simd.Persistence;

namespace Rnn.Simd.Cli.Export;

/// <summary>
/// <c>export --format onnx</c>: the model's network (a seed ensemble as one graph whose output is the mean of its
/// members) as an ONNX model of standard operators, through <see cref="OnnxExporter"/> with its defaults (opset 17,
/// initial states as inputs). The forecasting information that ONNX has no place for (scaler, horizon, features,
/// columns) and the model file's own metadata go into the model's <c>metadata_props</c>; the graph itself computes in
/// scaled units, as the network does.
/// </summary>
internal static class OnnxExport
{
    /// <summary>The <c>--format</c> value.</summary>
    public const string Name = "onnx";

    /// <summary>The extension that selects this format when <c>--format</c> is absent.</summary>
    public const string Extension = ".onnx";

    /// <summary>Writes <paramref name="model"/> to <paramref name="outputPath"/> atomically; returns one line saying what was written.</summary>
    /// <exception cref="ArgumentException">A parameter is NaN, infinite or beyond float's range (the message names it).</exception>
    /// <exception cref="NotSupportedException">The cell has no standard ONNX operator.</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static string Export(LoadedModel model, string outputPath)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        var options = new OnnxExportOptions { Metadata = Metadata(model) };
        if (model.ElementType == typeof(double))
            OnnxExporter.Export(model.GetMembers<double>(), outputPath, options);
        else
            OnnxExporter.Export(model.GetMembers<float>(), outputPath, options);

        NetworkArchitecture arch = model.Architecture;
        long bytes = new FileInfo(outputPath).Length;
        string op = arch.Cell switch { CellType.Elman => "RNN", CellType.Lstm => "LSTM", _ => "GRU" };
        string states = arch.Cell == CellType.Lstm ? "initial_h_l*/initial_c_l*" : "initial_h_l*";
        return string.Create(CultureInfo.InvariantCulture,
            $"wrote {outputPath}: ONNX opset {options.Opset}, {arch.NumLayers} x {op}{(model.MemberCount > 1 ? $", mean of {model.MemberCount} members" : "")}, " +
            $"inputs input [T, B, {arch.InputSize}] + {states}, output [T, B, {arch.OutputSize}] + final states, float32" +
            $"{(model.ElementType == typeof(double) ? " (rounded from float64)" : "")}, {bytes} bytes" +
            $"{(model.Forecasting is null ? "" : "; inputs and outputs are in scaled units (scaler in the metadata)")}");
    }

    /// <summary>The model file's metadata under <c>model.</c>, and the forecasting information under <c>rnn_simd.forecasting.</c>.</summary>
    internal static Dictionary<string, string> Metadata(LoadedModel model)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string key, string value) in model.Metadata) meta["model." + key] = value;
        if (model.Forecasting is { } f)
        {
            const string p = "rnn_simd.forecasting.";
            meta[p + "horizon"] = f.Options.Horizon.ToString(CultureInfo.InvariantCulture);
            meta[p + "mode"] = f.Options.Mode == TargetMode.MultiOutput ? "multi" : "single";
            meta[p + "features"] = f.Options.Features.ToString();
            meta[p + "columns"] = string.Join(",", f.ColumnNames);
            if (f.Options.InputColumns is { } inputs) meta[p + "input_columns"] = string.Join(",", inputs);
            if (f.Options.TargetColumns is { } targets) meta[p + "target_columns"] = string.Join(",", targets);
            meta[p + "scaler_mean"] = Join(f.Scaler.Mean);
            meta[p + "scaler_std"] = Join(f.Scaler.Std);
            meta[p + "units"] = "input and output are z-scores: (value - scaler_mean[column]) / scaler_std[column]";
        }
        return meta;
    }

    private static string Join(ReadOnlySpan<double> values)
    {
        var parts = new string[values.Length];
        for (int i = 0; i < values.Length; i++) parts[i] = values[i].ToString("R", CultureInfo.InvariantCulture);
        return string.Join(",", parts);
    }
}

/// <summary>
/// <c>export --format onnx</c> as one of <see cref="ExportFormats.All"/>: checks that no safetensors-only option is
/// given, then <see cref="OnnxExport.Export"/>.
/// </summary>
public sealed class OnnxModelExporter : IModelExporter
{
    /// <inheritdoc/>
    public string Name => OnnxExport.Name;

    /// <inheritdoc/>
    public string Extension => OnnxExport.Extension;

    /// <inheritdoc/>
    public string? Validate(ExportRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.DType is not null) return "--dtype applies to safetensors only; an ONNX export is always float32.";
        if (request.RecurrentPrefix is not null || request.ReadoutPrefix is not null)
            return "--prefix and --readout-prefix apply to safetensors only; ONNX tensor names are fixed (see README-cli.md).";
        return null;
    }

    /// <inheritdoc/>
    public string Export(LoadedModel model, ExportRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return OnnxExport.Export(model, request.OutputPath);
    }
}
