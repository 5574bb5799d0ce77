using Rnn.Simd.Cells;

namespace Rnn.Simd.Network;

/// <summary>
/// The shape of a recurrent network: a stack of recurrent layers of one cell type (the chapter's stacked RNN,
/// section 2.4) followed by a linear readout from the top hidden state to the outputs. Immutable.
/// </summary>
public sealed class NetworkArchitecture : IEquatable<NetworkArchitecture>
{
    private readonly int[] _hiddenSizes;

    /// <summary>Creates and validates an architecture.</summary>
    /// <param name="cell">Cell type of every layer.</param>
    /// <param name="inputSize">Features per time step (I ≥ 1).</param>
    /// <param name="hiddenSizes">Hidden size of each layer, bottom first (at least one layer; each ≥ 1).</param>
    /// <param name="outputSize">Outputs of the readout (O ≥ 1).</param>
    /// <param name="activation">Activation of Elman cells (ignored by LSTM and GRU).</param>
    /// <param name="recurrenceDepth">Micro-layers per time step of a <see cref="CellType.Highway"/> cell (L ≥ 1); must
    /// be 1 for the other cells.</param>
    /// <param name="inputToOutput">Whether the readout also reads the network's input (<see cref="InputToOutput"/>).</param>
    /// <exception cref="ArgumentException">A size is not positive, there is no layer, or the depth is out of range.</exception>
    public NetworkArchitecture(CellType cell, int inputSize, IReadOnlyList<int> hiddenSizes, int outputSize, Activation activation = Activation.Tanh, int recurrenceDepth = 1, bool inputToOutput = false)
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        if (!Enum.IsDefined(cell)) throw new ArgumentOutOfRangeException(nameof(cell), cell, "Unknown cell type.");
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        if (inputSize < 1) throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "Input size must be at least 1.");
        if (outputSize < 1) throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, "Output size must be at least 1.");
        if (hiddenSizes.Count == 0) throw new ArgumentException("At least one recurrent layer is required.", nameof(hiddenSizes));
        _hiddenSizes = new int[hiddenSizes.Count];
        for (int l = 0; l < hiddenSizes.Count; l++)
        {
            if (hiddenSizes[l] < 1) throw new ArgumentOutOfRangeException(nameof(hiddenSizes), hiddenSizes[l], $"Hidden size of layer {l} must be at least 1.");
            _hiddenSizes[l] = hiddenSizes[l];
        }
        Cell = cell;
        if (recurrenceDepth < 1) throw new ArgumentOutOfRangeException(nameof(recurrenceDepth), recurrenceDepth, "The recurrence depth must be at least 1.");
        CellDefinition = CellRegistry.Get(cell).WithDepth(recurrenceDepth);
        RecurrenceDepth = recurrenceDepth;
        InputSize = inputSize;
        OutputSize = outputSize;
        Activation = activation;
        InputToOutput = inputToOutput;
    }

    /// <summary>Creates an architecture of <paramref name="numLayers"/> layers of the same hidden size.</summary>
    public static NetworkArchitecture Uniform(CellType cell, int inputSize, int hiddenSize, int numLayers, int outputSize, Activation activation = Activation.Tanh, int recurrenceDepth = 1, bool inputToOutput = false)
    {
        if (numLayers < 1) throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers, "At least one layer is required.");
        var sizes = new int[numLayers];
        Array.Fill(sizes, hiddenSize);
        return new NetworkArchitecture(cell, inputSize, sizes, outputSize, activation, recurrenceDepth, inputToOutput);
    }

    /// <summary>This architecture with <see cref="InputToOutput"/> set to <paramref name="value"/>.</summary>
    public NetworkArchitecture WithInputToOutput(bool value) =>
        value == InputToOutput ? this : new NetworkArchitecture(Cell, InputSize, _hiddenSizes, OutputSize, Activation, RecurrenceDepth, value);

    /// <summary>Cell type of every layer.</summary>
    public CellType Cell { get; }

    /// <summary>The definition of <see cref="Cell"/> (gate count, bias folding, state, window tensors), from the registry.</summary>
    internal RecurrentCell CellDefinition { get; }

    /// <summary>Micro-layers per time step (L of a <see cref="CellType.Highway"/> cell; 1 for every other cell).</summary>
    public int RecurrenceDepth { get; }

    /// <summary>Activation of Elman cells.</summary>
    public Activation Activation { get; }

    /// <summary>
    /// Whether the readout also reads the network's input x_t directly: y_t = W_out h_top,t + W_xo x_t + b_out, with
    /// W_xo the O x I slice <c>readout.input_weight</c> (after readout.bias in the flat buffer). It is the readout of
    /// an echo state network over [state; input; 1] (Jaeger 2001; Lukoševičius 2012, "A Practical Guide to Applying
    /// Echo State Networks", Sec. 3.1, y = W_out [1; u; x]) and a linear autoregressive skip for every other trainer;
    /// BPTT trains W_xo like readout.weight. False (the default): the readout reads h_top only, as in the chapter.
    /// </summary>
    public bool InputToOutput { get; }

    /// <summary>Features per time step (I).</summary>
    public int InputSize { get; }

    /// <summary>Outputs per time step (O).</summary>
    public int OutputSize { get; }

    /// <summary>Number of recurrent layers (L).</summary>
    public int NumLayers => _hiddenSizes.Length;

    /// <summary>Hidden size of each layer, bottom first.</summary>
    public IReadOnlyList<int> HiddenSizes => _hiddenSizes;

    /// <summary>Gate blocks per layer (G: 1 Elman, 4 LSTM, 3 GRU, 2 Highway per micro-layer).</summary>
    public int GateCount => CellDefinition.GateCount;

    /// <summary>Input size of layer <paramref name="layer"/>: I for the bottom layer, the hidden size below otherwise.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : _hiddenSizes[layer - 1];

    /// <summary>Hidden size of the top layer (the readout's input).</summary>
    public int TopHiddenSize => _hiddenSizes[^1];

    /// <inheritdoc/>
    public bool Equals(NetworkArchitecture? other) =>
        other is not null && Cell == other.Cell && RecurrenceDepth == other.RecurrenceDepth && Activation == other.Activation && InputSize == other.InputSize
        && OutputSize == other.OutputSize && InputToOutput == other.InputToOutput && _hiddenSizes.AsSpan().SequenceEqual(other._hiddenSizes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as NetworkArchitecture);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Cell, Activation, RecurrenceDepth, InputSize, OutputSize, InputToOutput, _hiddenSizes.Length, _hiddenSizes[0]);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Cell}{(CellDefinition.UsesActivation ? "(" + Activation + ")" : "")}{(RecurrenceDepth != 1 ? "(L=" + RecurrenceDepth + ")" : "")} I={InputSize} H=[{string.Join(",", _hiddenSizes)}] O={OutputSize}{(InputToOutput ? " +x->y" : "")}";
}
