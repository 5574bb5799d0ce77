using System.Globalization;
using Rnn.Simd.Persistence;

namespace Rnn.Simd.Cli.Export;

/// <summary>
/// <c>export --format safetensors</c>: the network (or every member of an ensemble, as an <c>nn.ModuleList</c> state
/// dict) under PyTorch's state-dict names, with the scaler, forecast options, column names and metadata in the file's
/// <c>__metadata__</c>, through the library's <see cref="SafeTensorsModel"/>.
/// </summary>
public sealed class SafeTensorsExporter : IModelExporter
{
    /// <inheritdoc/>
    public string Name => "safetensors";

    /// <inheritdoc/>
    public string Extension => ".safetensors";

    /// <inheritdoc/>
    public string? Validate(ExportRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.DType is not null && ParseDType(request.DType) is null)
            return $"--dtype must be f32, f64, f16 or bf16, got '{request.DType}'.";
        if (request.ReadoutPrefix is "") return "--readout-prefix cannot be empty: the readout's weight and bias need a module name (default readout.).";
        if ((request.RecurrentPrefix ?? SafeTensorsModel.DefaultRecurrentPrefix) == (request.ReadoutPrefix ?? SafeTensorsModel.DefaultReadoutPrefix))
            return "--prefix and --readout-prefix must differ.";
        return null;
    }

    /// <inheritdoc/>
    public string Export(LoadedModel model, ExportRequest request)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        var options = new SafeTensorsExportOptions
        {
            DType = request.DType is null ? null : ParseDType(request.DType),
            RecurrentPrefix = request.RecurrentPrefix ?? SafeTensorsModel.DefaultRecurrentPrefix,
            ReadoutPrefix = request.ReadoutPrefix ?? SafeTensorsModel.DefaultReadoutPrefix,
        };
        SafeTensorsFile file = model.ElementType == typeof(double)
            ? SafeTensorsModel.ToFile(model.GetMembers<double>(), model.Forecasting, model.Metadata, options)
            : SafeTensorsModel.ToFile(model.GetMembers<float>(), model.Forecasting, model.Metadata, options);
        file.Save(request.OutputPath);
        long bytes = new FileInfo(request.OutputPath).Length;
        string dtype = file.Tensors.Count > 0 ? file.Tensors[0].DType.ToString().ToUpperInvariant() : "?";
        return string.Create(CultureInfo.InvariantCulture,
            $"wrote {request.OutputPath}: safetensors, {file.Tensors.Count} tensors ({dtype}, names {options.RecurrentPrefix}weight_ih_l0 .. {options.ReadoutPrefix}bias{(model.MemberCount > 1 ? $", {model.MemberCount} members as 0. .. {model.MemberCount - 1}." : "")}), {bytes} bytes{(model.Forecasting is null ? "; no forecasting information (the source had none)" : "")}");
    }

    /// <summary>f32 / f64 / f16 / bf16 (case-insensitive), or null.</summary>
    public static SafeTensorsDType? ParseDType(string text) => text.Trim().ToLowerInvariant() switch
    {
        "f32" or "float32" or "float" => SafeTensorsDType.F32,
        "f64" or "float64" or "double" => SafeTensorsDType.F64,
        "f16" or "float16" or "half" => SafeTensorsDType.F16,
        "bf16" or "bfloat16" => SafeTensorsDType.BF16,
        _ => null,
    };
}
