using System.Globalization;

namespace Rnn.Simd.Onnx;

/// <summary>
/// The names of the graph inputs and outputs <see cref="OnnxExporter"/> writes, so that a caller feeding the model (ONNX
/// Runtime, say) need not spell them. States are per layer, each [1, B, H_l] (ONNX's [num_directions, batch, hidden]);
/// a seed ensemble of M &gt; 1 members has one set per member (the <c>member</c> argument), a single network
/// one set without a member index.
/// </summary>
public static class OnnxNames
{
    /// <summary>The input sequence, float [T, B, I] (time-major, the layout of <c>RecurrentNetwork.Forward</c>),
    /// with symbolic sizes "sequence" and "batch".</summary>
    public const string Input = "input";

    /// <summary>The predictions, float [T, B, O]: the readout of every step (for an ensemble, the element-wise mean
    /// of the members' readouts).</summary>
    public const string Output = "output";

    /// <summary>Initial hidden state h of a layer, float [1, B, H_l] (only with <see cref="OnnxExportOptions.StateInputs"/>):
    /// <c>initial_h_l{layer}</c>, or <c>initial_h_m{member}_l{layer}</c> in an ensemble.</summary>
    /// <param name="layer">Recurrent layer, bottom = 0.</param>
    /// <param name="member">Ensemble member, or -1 (the default) for a single network.</param>
    public static string InitialHidden(int layer, int member = -1) => Name("initial_h", layer, member);

    /// <summary>Initial cell state c of an LSTM layer, float [1, B, H_l]: <c>initial_c_l{layer}</c> (see <see cref="InitialHidden"/>).</summary>
    /// <param name="layer">Recurrent layer, bottom = 0.</param>
    /// <param name="member">Ensemble member, or -1 (the default) for a single network.</param>
    public static string InitialCell(int layer, int member = -1) => Name("initial_c", layer, member);

    /// <summary>Hidden state h of a layer after the last step, float [1, B, H_l]: <c>final_h_l{layer}</c>.</summary>
    /// <param name="layer">Recurrent layer, bottom = 0.</param>
    /// <param name="member">Ensemble member, or -1 (the default) for a single network.</param>
    public static string FinalHidden(int layer, int member = -1) => Name("final_h", layer, member);

    /// <summary>Cell state c of an LSTM layer after the last step, float [1, B, H_l]: <c>final_c_l{layer}</c>.</summary>
    /// <param name="layer">Recurrent layer, bottom = 0.</param>
    /// <param name="member">Ensemble member, or -1 (the default) for a single network.</param>
    public static string FinalCell(int layer, int member = -1) => Name("final_c", layer, member);

    private static string Name(string stem, int layer, int member)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfLessThan(member, -1);
        return member < 0
            ? string.Create(CultureInfo.InvariantCulture, $"{stem}_l{layer}")
            : string.Create(CultureInfo.InvariantCulture, $"{stem}_m{member}_l{layer}");
    }

    /// <summary>Prefix of a member's internal tensors (weights, intermediate values): "" for a single network.</summary>
    internal static string MemberPrefix(int member) =>
        member < 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"m{member}_");
}
