using Rnn.Simd.Persistence;

namespace Rnn.Simd.Cli.Export;

/// <summary>
/// One output format of <c>rnn-simd export</c>. A new format is one class implementing this and one line in
/// <see cref="ExportFormats.All"/>; <see cref="Commands.ExportCommand"/> does the rest (loading, messages, exit codes).
/// </summary>
public interface IModelExporter
{
    /// <summary>The <c>--format</c> value, lower case (e.g. <c>safetensors</c>).</summary>
    string Name { get; }

    /// <summary>The file extension that selects this format when <c>--format</c> is absent (e.g. <c>.safetensors</c>).</summary>
    string Extension { get; }

    /// <summary>Checks the format-specific options before anything is loaded; returns the problem, or null.</summary>
    string? Validate(ExportRequest request);

    /// <summary>Writes <paramref name="model"/> to <see cref="ExportRequest.OutputPath"/> (atomically) and returns one line saying what was written.</summary>
    string Export(LoadedModel model, ExportRequest request);
}

/// <summary>The formats of <c>rnn-simd export</c>.</summary>
public static class ExportFormats
{
    /// <summary>Every format, in the order the help lists them.</summary>
    public static IReadOnlyList<IModelExporter> All { get; } = [new SafeTensorsExporter(), new OnnxModelExporter()];

    /// <summary>The names, comma-separated, for messages.</summary>
    public static string Names => string.Join(", ", All.Select(f => f.Name));

    /// <summary>The format named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static IModelExporter? Find(string name) =>
        All.FirstOrDefault(f => string.Equals(f.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The format whose extension ends <paramref name="path"/>, or null.</summary>
    public static IModelExporter? FromExtension(string path) =>
        All.FirstOrDefault(f => path.EndsWith(f.Extension, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Parsed options of <c>rnn-simd export</c>.</summary>
/// <param name="ModelPath">The model to export (an Rnn.Simd model file or a safetensors file).</param>
/// <param name="Format">The output format.</param>
/// <param name="OutputPath">The file to write.</param>
/// <param name="DType">safetensors: the tensors' dtype text (f32, f64, f16, bf16), or null for the network's own type.</param>
/// <param name="RecurrentPrefix">safetensors: the prefix of the recurrent tensors, or null for <c>rnn.</c>.</param>
/// <param name="ReadoutPrefix">safetensors: the prefix of the readout tensors, or null for <c>readout.</c>.</param>
/// <param name="Quiet">No progress output.</param>
public sealed record ExportRequest(string ModelPath, IModelExporter Format, string OutputPath, string? DType, string? RecurrentPrefix, string? ReadoutPrefix, bool Quiet);
