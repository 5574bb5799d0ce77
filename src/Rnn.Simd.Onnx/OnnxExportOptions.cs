namespace Rnn.Simd.Onnx;

/// <summary>Options of <see cref="OnnxExporter"/>. Every property has a default; <c>new OnnxExportOptions()</c> is the usual choice.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>
    /// The ai.onnx operator set the model declares, <see cref="OnnxExporter.MinOpset"/> to
    /// <see cref="OnnxExporter.MaxOpset"/>; default <see cref="OnnxExporter.DefaultOpset"/> (17). The graph means the
    /// same at every one of them (LSTM, GRU and RNN have had these semantics since opset 14, Squeeze takes its axes as
    /// an input since opset 13); a lower opset only lets an older runtime load the file. The IR version written
    /// follows the opset (8 up to opset 18, 9 for 19-20, 10 for 21-22).
    /// </summary>
    public int Opset { get; init; } = OnnxExporter.DefaultOpset;

    /// <summary>
    /// When true (the default), every layer's initial state is a graph input (<see cref="OnnxNames.InitialHidden"/>,
    /// and <see cref="OnnxNames.InitialCell"/> for LSTM, each [1, B, H]) that the caller must feed, zeros for a fresh
    /// sequence, or the final state of the previous call to carry a stream on (stateful inference one step at a time,
    /// as <c>RecurrentNetwork.Step</c> does). When false the only input is the sequence and every run starts from zero
    /// state, as <c>RecurrentNetwork.Forward</c> with a fresh state does. The final states are outputs either way.
    /// </summary>
    public bool StateInputs { get; init; } = true;

    /// <summary>Name of the ONNX graph (default "rnn_simd").</summary>
    public string GraphName { get; init; } = "rnn_simd";

    /// <summary>Free-form key/value pairs written to the model's <c>metadata_props</c> after the exporter's own
    /// <c>rnn_simd.*</c> keys (a key of the same name replaces the exporter's). Keys must be non-empty; null for none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
