namespace Rnn.Simd.Network;

/// <summary>The kind of a parameter slice.</summary>
public enum ParameterKind
{
    /// <summary>Input-to-hidden weights (weight_ih_l*), (G·H) x I.</summary>
    InputWeight,
    /// <summary>Hidden-to-hidden (recurrent) weights (weight_hh_l*), (G·H) x H.</summary>
    RecurrentWeight,
    /// <summary>Input-side bias (bias_ih_l*), G·H.</summary>
    InputBias,
    /// <summary>Hidden-side bias (bias_hh_l*), G·H.</summary>
    RecurrentBias,
    /// <summary>Readout weights (readout.weight), O x H_top.</summary>
    ReadoutWeight,
    /// <summary>Readout bias (readout.bias), O.</summary>
    ReadoutBias,
    /// <summary>Input-to-output readout weights (readout.input_weight), O x I; only with <see cref="NetworkArchitecture.InputToOutput"/>.</summary>
    ReadoutInputWeight,
}

/// <summary>
/// One named slice of the flat parameter buffer: a row-major Rows x Columns matrix (a bias has Columns = 1) at
/// [Offset, Offset + Length). Names and shapes follow PyTorch's state dict, so weights map one to one.
/// </summary>
/// <param name="Name">PyTorch-style name, e.g. <c>weight_hh_l0</c> or <c>readout.bias</c>.</param>
/// <param name="Kind">What the slice holds.</param>
/// <param name="Layer">Recurrent layer index, or -1 for the readout.</param>
/// <param name="Offset">First element in the flat buffer.</param>
/// <param name="Rows">Rows of the matrix.</param>
/// <param name="Columns">Columns of the matrix (1 for a bias).</param>
public readonly record struct ParameterSlice(string Name, ParameterKind Kind, int Layer, int Offset, int Rows, int Columns)
{
    /// <summary>Elements in the slice.</summary>
    public int Length => Rows * Columns;

    /// <summary>True for weight matrices (not biases): the ones regularisation applies to by default.</summary>
    public bool IsWeight => Kind is ParameterKind.InputWeight or ParameterKind.RecurrentWeight or ParameterKind.ReadoutWeight or ParameterKind.ReadoutInputWeight;
}

/// <summary>
/// The layout of every parameter of a network in one flat buffer: per layer weight_ih, weight_hh, bias_ih, bias_hh,
/// (a recurrent highway layer of depth L &gt; 1 adds weight_hh_l{k}_d{m} and bias_hh_l{k}_d{m}, m = 1 .. L-1, after
/// its four: see <see cref="RecurrentDepthSlices"/>), then readout.weight and readout.bias (and readout.input_weight,
/// O x I, when the architecture has <see cref="NetworkArchitecture.InputToOutput"/>). Gradients and every optimiser state use the identical layout, so an
/// optimiser step is one pass over one span.
/// </summary>
public sealed class ParameterLayout
{
    private readonly ParameterSlice[] _slices;
    private readonly Dictionary<string, int> _byName;

    /// <summary>Builds the layout of an architecture.</summary>
    public ParameterLayout(NetworkArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        var slices = new List<ParameterSlice>(4 * architecture.NumLayers + 2);
        int offset = 0;
        int g = architecture.GateCount;
        void Add(string name, ParameterKind kind, int layer, int rows, int cols)
        {
            slices.Add(new ParameterSlice(name, kind, layer, offset, rows, cols));
            offset = checked(offset + rows * cols);
        }
        for (int l = 0; l < architecture.NumLayers; l++)
        {
            int h = architecture.HiddenSizes[l], i = architecture.LayerInputSize(l);
            Add($"weight_ih_l{l}", ParameterKind.InputWeight, l, g * h, i);
            Add($"weight_hh_l{l}", ParameterKind.RecurrentWeight, l, g * h, h);
            Add($"bias_ih_l{l}", ParameterKind.InputBias, l, g * h, 1);
            Add($"bias_hh_l{l}", ParameterKind.RecurrentBias, l, g * h, 1);
            for (int m = 1; m < architecture.RecurrenceDepth; m++)
            {
                Add($"weight_hh_l{l}_d{m}", ParameterKind.RecurrentWeight, l, g * h, h);
                Add($"bias_hh_l{l}_d{m}", ParameterKind.RecurrentBias, l, g * h, 1);
            }
        }
        Add("readout.weight", ParameterKind.ReadoutWeight, -1, architecture.OutputSize, architecture.TopHiddenSize);
        Add("readout.bias", ParameterKind.ReadoutBias, -1, architecture.OutputSize, 1);
        if (architecture.InputToOutput) Add(InputToOutputName, ParameterKind.ReadoutInputWeight, -1, architecture.OutputSize, architecture.InputSize);
        _slices = slices.ToArray();
        _byName = new Dictionary<string, int>(_slices.Length, StringComparer.Ordinal);
        for (int s = 0; s < _slices.Length; s++) _byName[_slices[s].Name] = s;
        TotalLength = offset;
    }

    /// <summary>
    /// How a recurrent highway layer's micro-layers are named (PyTorch has no such module, so the names are this
    /// library's): micro-layer 1 lives in the four standard slices (weight_ih_l{k} 2H x I, weight_hh_l{k} 2H x H,
    /// bias_ih_l{k} and bias_hh_l{k} 2H, the two biases summed as in LSTM); micro-layer m + 1 (m = 1 .. L-1) in
    /// weight_hh_l{k}_d{m} (2H x H, kind <see cref="ParameterKind.RecurrentWeight"/>) and bias_hh_l{k}_d{m} (2H, kind
    /// <see cref="ParameterKind.RecurrentBias"/>), right after layer k's four. Every other cell, and depth 1, has the
    /// four slices only, so their layout is unchanged. <see cref="Get"/> returns the standard slice of a kind.
    /// </summary>
    public const string RecurrentDepthSlices = "weight_hh_l{k}_d{m}, bias_hh_l{k}_d{m}";

    /// <summary>Name of the O x I input-to-output readout slice (<see cref="NetworkArchitecture.InputToOutput"/>).</summary>
    public const string InputToOutputName = "readout.input_weight";

    /// <summary>All slices in buffer order.</summary>
    public IReadOnlyList<ParameterSlice> Slices => _slices;

    /// <summary>Total number of parameters.</summary>
    public int TotalLength { get; }

    /// <summary>The slice with the given name.</summary>
    /// <exception cref="KeyNotFoundException">No slice has that name.</exception>
    public ParameterSlice this[string name] =>
        _byName.TryGetValue(name, out int s) ? _slices[s] : throw new KeyNotFoundException($"No parameter named '{name}'. Known: {string.Join(", ", _byName.Keys)}.");

    /// <summary>The slice of a layer and kind (layer ignored for the readout kinds).</summary>
    public ParameterSlice Get(int layer, ParameterKind kind)
    {
        foreach (ParameterSlice s in _slices)
        {
            if (s.Kind == kind && (s.Layer == layer || s.Layer < 0)) return s;
        }
        throw new ArgumentOutOfRangeException(nameof(layer), layer, $"No {kind} parameter for layer {layer}.");
    }
}
