using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Operators;

namespace Rnn.Simd.Network;

/// <summary>
/// A stack of recurrent layers with a linear readout, all parameters in one flat buffer (<see cref="Parameters"/>)
/// laid out by <see cref="Layout"/>, with gradients in the same layout (<see cref="Gradients"/>).
/// </summary>
/// <typeparam name="T">float for production, double for gradient checks; the same code runs both.</typeparam>
/// <remarks>
/// <para>
/// Inference: <see cref="Step"/> advances a caller-owned <see cref="NetworkState{T}"/> by one time step for its B
/// streams; <see cref="Forward"/> runs a sequence. One network can be shared by many threads, each with its own
/// state. After warm-up a step allocates nothing.
/// </para>
/// <para>
/// The recurrent products use weights packed once (<see cref="PackedMatrix{T}"/>) and repacked lazily when
/// <see cref="ParametersVersion"/> changes: after writing <see cref="Parameters"/> directly, call
/// <see cref="MarkParametersChanged"/>. Do not change parameters while other threads run inference.
/// </para>
/// </remarks>
public sealed class RecurrentNetwork<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T[] _parameters;
    private readonly T[] _gradients;
    private readonly object _packLock = new();
    // One cell per layer: its packed weights (batched and batch-1) and its step numerics.
    private readonly RecurrentCell<T>[] _cells;
    private readonly bool _batchOneStep;
    private readonly PackedMatrix<T> _readoutT;
    private readonly int _readoutBiasOffset;
    private volatile int _version;
    private volatile int _packedVersion = -1;
    private volatile int _fusedVersion = -1;
    private readonly int _readoutWeightOffset;
    // readout.input_weight (O x I) when the architecture has InputToOutput, else -1.
    private readonly int _readoutInputOffset;

    /// <summary>Creates a network with PyTorch's default initialisation (every weight and bias uniform in ±1/√H of
    /// its layer; the readout uniform in ±1/√H_top), from <paramref name="seed"/>.</summary>
    /// <param name="architecture">Shapes of the network.</param>
    /// <param name="seed">Seed of the initialisation; the same seed gives bitwise the same weights.</param>
    /// <param name="path">ISA path of every kernel this network runs; <see cref="IsaPath.Auto"/> is the widest.</param>
    public RecurrentNetwork(NetworkArchitecture architecture, ulong seed = 0, IsaPath path = IsaPath.Auto)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        VectorHelpers.EnsureSupported<T>();
        Architecture = architecture;
        Layout = new ParameterLayout(architecture);
        Path = Isa.Resolve(path);
        _parameters = new T[Layout.TotalLength];
        _gradients = new T[Layout.TotalLength];
        RecurrentCell definition = architecture.CellDefinition;
        _batchOneStep = definition.HasBatchOneStep;
        _cells = new RecurrentCell<T>[architecture.NumLayers];
        for (int l = 0; l < architecture.NumLayers; l++)
        {
            var layout = new CellLayout(architecture.LayerInputSize(l), architecture.HiddenSizes[l],
                Layout.Get(l, ParameterKind.InputWeight).Offset, Layout.Get(l, ParameterKind.RecurrentWeight).Offset,
                Layout.Get(l, ParameterKind.InputBias).Offset, Layout.Get(l, ParameterKind.RecurrentBias).Offset,
                architecture.RecurrenceDepth > 1 ? Layout[$"weight_hh_l{l}_d1"].Offset : -1);
            _cells[l] = definition.Create(_parameters, layout, architecture.Activation, Path);
        }
        _readoutT = new PackedMatrix<T>(architecture.TopHiddenSize, architecture.OutputSize, Path);
        _readoutBiasOffset = Layout.Get(-1, ParameterKind.ReadoutBias).Offset;
        _readoutWeightOffset = Layout.Get(-1, ParameterKind.ReadoutWeight).Offset;
        _readoutInputOffset = architecture.InputToOutput ? Layout.Get(-1, ParameterKind.ReadoutInputWeight).Offset : -1;
        ResetParameters(seed);
    }

    /// <summary>The shapes of this network.</summary>
    public NetworkArchitecture Architecture { get; }

    /// <summary>Where each named parameter lives in <see cref="Parameters"/> and <see cref="Gradients"/>.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>The ISA path of this network's kernels.</summary>
    public IsaPath Path { get; }

    /// <summary>Every parameter, in <see cref="Layout"/> order. Call <see cref="MarkParametersChanged"/> after writing.</summary>
    public Span<T> Parameters => _parameters;

    /// <summary>Gradients of the loss w.r.t. <see cref="Parameters"/>, same layout. Backward passes accumulate into it; clear it with <see cref="ZeroGradients"/>.</summary>
    public Span<T> Gradients => _gradients;

    /// <summary>Incremented by <see cref="MarkParametersChanged"/>; packed weights are rebuilt when it moves.</summary>
    public int ParametersVersion => _version;

    /// <summary>Declares that <see cref="Parameters"/> were written, so packed copies must be rebuilt before the next product.</summary>
    public void MarkParametersChanged() => Interlocked.Increment(ref _version);

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Array.Clear(_gradients);

    /// <summary>The parameters of one named slice (e.g. <c>weight_hh_l0</c>), row-major.</summary>
    public Span<T> Parameter(string name) { ParameterSlice s = Layout[name]; return _parameters.AsSpan(s.Offset, s.Length); }

    /// <summary>The gradient of one named slice.</summary>
    public Span<T> Gradient(string name) { ParameterSlice s = Layout[name]; return _gradients.AsSpan(s.Offset, s.Length); }

    internal T[] ParameterArray => _parameters;
    internal T[] GradientArray => _gradients;

    /// <summary>Re-initialises with PyTorch's default scheme from a seed (see the constructor) and marks the parameters
    /// changed; a recurrent highway network's transform-gate biases then start at -2 (carry by default), and
    /// readout.input_weight (<see cref="NetworkArchitecture.InputToOutput"/>) at zero.</summary>
    public void ResetParameters(ulong seed)
    {
        var rng = new Rng(seed);
        foreach (ParameterSlice s in Layout.Slices)
        {
            int fan = s.Layer >= 0 ? Architecture.HiddenSizes[s.Layer] : Architecture.TopHiddenSize;
            double bound = 1.0 / Math.Sqrt(fan);
            Span<T> p = _parameters.AsSpan(s.Offset, s.Length);
            for (int i = 0; i < p.Length; i++) p[i] = T.CreateTruncating(rng.NextUniform(-bound, bound));
        }
        if (Architecture.Cell == CellType.Highway) SetTransformBias(HighwayCell.DefaultTransformBias);
        // The input-to-output readout starts at zero: the network starts as the one without it.
        if (_readoutInputOffset >= 0) _parameters.AsSpan(_readoutInputOffset, Architecture.OutputSize * Architecture.InputSize).Clear();
        MarkParametersChanged();
    }

    /// <summary>
    /// Sets the transform-gate block (rows [H, 2H)) of every micro-layer's bias of a recurrent highway network to
    /// <paramref name="value"/>: bias_ih_l{k} (with bias_hh_l{k}'s block zeroed, so b_1 = value) and each
    /// bias_hh_l{k}_d{m}. Does not mark the parameters changed. No-op for other cells.
    /// </summary>
    internal void SetTransformBias(double value)
    {
        if (Architecture.Cell != CellType.Highway) return;
        T v = T.CreateTruncating(value);
        for (int l = 0; l < Architecture.NumLayers; l++)
        {
            int h = Architecture.HiddenSizes[l];
            _parameters.AsSpan(Layout.Get(l, ParameterKind.InputBias).Offset + h, h).Fill(v);
            _parameters.AsSpan(Layout.Get(l, ParameterKind.RecurrentBias).Offset + h, h).Clear();
            for (int m = 1; m < Architecture.RecurrenceDepth; m++) _parameters.AsSpan(Layout[$"bias_hh_l{l}_d{m}"].Offset + h, h).Fill(v);
        }
    }

    /// <summary>A new zero state for <paramref name="batchSize"/> streams (allocates; reuse it).</summary>
    public NetworkState<T> CreateState(int batchSize = 1) => new(Architecture, batchSize);

    /// <summary>
    /// One time step for the state's B streams: reads input (B x I row-major), advances the state, writes output
    /// (B x O row-major). Allocates nothing after the first call.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than its shape, or the state belongs to another architecture.</exception>
    public void Step(ReadOnlySpan<T> input, Span<T> output, NetworkState<T> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!ReferenceEquals(state.Architecture, Architecture) && !state.Architecture.Equals(Architecture))
            ThrowHelper.ThrowArgument(nameof(state), "The state was created for another architecture.");
        int b = state.BatchSize, inSize = Architecture.InputSize, outSize = Architecture.OutputSize;
        if (input.Length < b * inSize) ThrowHelper.ThrowArgument(nameof(input), $"Input has {input.Length} elements; a step of {b} stream(s) x {inSize} inputs needs {b * inSize}.");
        if (output.Length < b * outSize) ThrowHelper.ThrowDestinationTooShort(nameof(output), b * outSize, output.Length);
        if (b == 1 && _batchOneStep)
        {
            EnsureFusedPacked();
            StepSingle(input, output, state);
        }
        else
        {
            EnsurePacked();
            StepCore(input, output, state);
        }
        // The kernels read the packed weights through raw pointers into pinned arrays that this network roots; keep it
        // alive until they are done (pinned is not rooted, and the JIT may end this's lifetime at its last field use).
        GC.KeepAlive(this);
    }

    /// <summary>
    /// One step of one stream for cells with a batch-1 step (<see cref="RecurrentCell{T}.StepBatchOne"/>: one pass over
    /// [x; h_(t-1)] per block of hidden units, no separate input product, bias copy or gate array round trip), bitwise
    /// equal to the batched <see cref="StepCore"/> (same summation order, same gate math).
    /// </summary>
    private unsafe void StepSingle(ReadOnlySpan<T> input, Span<T> output, NetworkState<T> s)
    {
        for (int l = 0; l < _cells.Length; l++)
        {
            T[] h = s.H[l], hPrev = s.Scratch[l];
            h.AsSpan().CopyTo(hPrev);
            // The layer's input: the step's input, or the new h of the layer below.
            fixed (T* px = l == 0 ? input : s.H[l - 1])
            fixed (T* ph = h, php = hPrev, pc = s.C[l])
                _cells[l].StepBatchOne(px, php, pc, ph);
        }
        Readout(s.H[^1], output, 1);
        ReadoutInput(input, output, 1);
    }

    /// <summary>y = b_out + h_top · W_outᵀ for B rows. Few outputs (the usual forecasting readout has one): one
    /// multi-accumulator dot product per output instead of a GEMM whose single column is one latency-bound chain.</summary>
    private void Readout(ReadOnlySpan<T> x, Span<T> output, int b)
    {
        int top = Architecture.TopHiddenSize, o = Architecture.OutputSize;
        if (o <= DotReadoutMaxOutputs)
        {
            ReadOnlySpan<T> w = _parameters.AsSpan(_readoutWeightOffset, o * top), bias = _parameters.AsSpan(_readoutBiasOffset, o);
            for (int r = 0; r < b; r++)
            {
                ReadOnlySpan<T> xr = x.Slice(r * top, top);
                for (int k = 0; k < o; k++) output[r * o + k] = VectorMath.Dot(xr, w.Slice(k * top, top)) + bias[k];
            }
            return;
        }
        Span<T> y = output.Slice(0, b * o);
        for (int r = 0; r < b; r++) _parameters.AsSpan(_readoutBiasOffset, o).CopyTo(y.Slice(r * o, o));
        Gemm.Multiply(Transpose.None, b, T.One, x, top, _readoutT, T.One, y, o);
    }

    /// <summary>y += W_xo x for B rows when the architecture has <see cref="NetworkArchitecture.InputToOutput"/> (O·B dot products of length I).</summary>
    private void ReadoutInput(ReadOnlySpan<T> input, Span<T> output, int b)
    {
        if (_readoutInputOffset < 0) return;
        int i = Architecture.InputSize, o = Architecture.OutputSize;
        ReadOnlySpan<T> w = _parameters.AsSpan(_readoutInputOffset, o * i);
        for (int r = 0; r < b; r++)
        {
            ReadOnlySpan<T> xr = input.Slice(r * i, i);
            for (int k = 0; k < o; k++) output[r * o + k] += VectorMath.Dot(xr, w.Slice(k * i, i));
        }
    }

    /// <summary>Up to this many outputs the readout is a dot product per output (see <see cref="Readout"/>).</summary>
    private const int DotReadoutMaxOutputs = 4;

    /// <summary>
    /// Runs a sequence: inputs is T x B x I (time-major, B = the state's batch size), outputs T x B x O. The state
    /// carries over from before and holds the final state after.
    /// </summary>
    public void Forward(ReadOnlySpan<T> inputs, Span<T> outputs, NetworkState<T> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        int inStep = state.BatchSize * Architecture.InputSize, outStep = state.BatchSize * Architecture.OutputSize;
        if (inputs.Length % inStep != 0) ThrowHelper.ThrowArgument(nameof(inputs), $"Input length {inputs.Length} is not a multiple of B x I = {inStep}.");
        int steps = inputs.Length / inStep;
        if (outputs.Length < steps * outStep) ThrowHelper.ThrowDestinationTooShort(nameof(outputs), steps * outStep, outputs.Length);
        for (int t = 0; t < steps; t++) Step(inputs.Slice(t * inStep, inStep), outputs.Slice(t * outStep, outStep), state);
    }

    /// <summary>
    /// A training-mode step with fixed dropout masks (B x width each, inverted scaling already in the values): layer
    /// inputs ⊙ maskX[l], h_(t-1) ⊙ maskH[l] where it enters W_hh, readout input ⊙ maskO. Empty masks mean none.
    /// Allocates; it serves gradient checks of dropout, not production.
    /// </summary>
    internal void StepMasked(ReadOnlySpan<T> input, Span<T> output, NetworkState<T> state, T[][] maskX, T[][] maskH, T[] maskO)
    {
        EnsurePacked();
        StepCore(input, output, state, new DropoutMasks(maskX, maskH, maskO));
    }

    internal sealed record DropoutMasks(T[][] X, T[][] H, T[] O);

    private void StepCore(ReadOnlySpan<T> input, Span<T> output, NetworkState<T> s, DropoutMasks? masks = null)
    {
        int b = s.BatchSize;
        ReadOnlySpan<T> x = input.Slice(0, b * Architecture.InputSize), networkInput = x;
        for (int l = 0; l < Architecture.NumLayers; l++)
        {
            RecurrentCell<T> cell = _cells[l];
            int h = cell.Hidden, inSize = cell.InputSize, gh = cell.GateWidth;
            ReadOnlySpan<T> hIn = s.H[l];
            if (masks is not null)
            {
                if (masks.X[l].Length > 0) { var xm = new T[b * inSize]; VectorMath.Multiply(x, masks.X[l], xm); x = xm; }
                if (masks.H[l].Length > 0) { var hm = new T[b * h]; VectorMath.Multiply<T>(s.H[l], masks.H[l], hm); hIn = hm; }
            }
            // The input-to-output readout reads what the first layer reads (x ⊙ m_x under input dropout).
            if (l == 0) networkInput = x;
            Span<T> gates = s.Gates[l];
            for (int r = 0; r < b; r++) cell.InputBias.AsSpan().CopyTo(gates.Slice(r * gh, gh));
            Gemm.Multiply(Transpose.None, b, T.One, x, inSize, cell.InputWeightT, T.One, gates, gh);
            cell.Step(b, gates, hIn, s.H[l], s.C[l], s.Aux[l], s.Scratch[l]);
            x = s.H[l];
        }
        if (masks is not null && masks.O.Length > 0) { var xm = new T[b * Architecture.TopHiddenSize]; VectorMath.Multiply(x, masks.O, xm); x = xm; }
        Readout(x, output, b);
        ReadoutInput(networkInput, output, b);
    }

    /// <summary>Builds (first call) or rebuilds the batch-1 packed weights of <see cref="StepSingle"/> if the parameters changed.</summary>
    private void EnsureFusedPacked()
    {
        if (_fusedVersion == _version) return;
        lock (_packLock)
        {
            int version = _version;
            if (_fusedVersion == version) return;
            EnsurePacked();
            // The first packing allocates each layer's batch-1 weights; later ones only rewrite them.
            foreach (RecurrentCell<T> cell in _cells) cell.PackBatchOne();
            _fusedVersion = version;
        }
    }

    /// <summary>Rebuilds the packed weights if the parameters changed since the last packing.</summary>
    internal void EnsurePacked()
    {
        if (_packedVersion == _version) return;
        lock (_packLock)
        {
            int version = _version;
            if (_packedVersion == version) return;
            // Each cell packs W_ihᵀ, W_hhᵀ and W_hh and folds its biases as its definition says.
            foreach (RecurrentCell<T> cell in _cells) cell.Pack();
            ParameterSlice rw = Layout.Get(-1, ParameterKind.ReadoutWeight);
            _readoutT.Pack(Transpose.Transposed, _parameters.AsSpan(rw.Offset, rw.Length), Architecture.TopHiddenSize);
            _packedVersion = version;
        }
    }

    /// <summary>The cell of layer <paramref name="layer"/>: its packed weights (valid after <see cref="EnsurePacked"/>;
    /// <see cref="RecurrentCell{T}.InputBias"/> is b_ih + b_hh where the cell folds them, else b_ih) and its numerics.</summary>
    internal RecurrentCell<T> Packs(int layer) => _cells[layer];
}
