using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Training;

namespace Rnn.Simd.Alternatives.Rtrl;

/// <summary>
/// Real-time recurrent learning (Williams and Zipser 1989, "A Learning Algorithm for Continually Running Fully
/// Recurrent Neural Networks", Neural Computation 1(2): their sensitivity recursion p^k_ij and its weight update;
/// named in the chapter's introduction as an alternative to BPTT): runs a <see cref="RecurrentNetwork{T}"/> one step at a time (batch 1) and
/// carries, beside its state s_t, the sensitivities P_t = ∂s_t/∂θ of that state with respect to every recurrent
/// parameter θ, so that the exact gradient of the loss of step t is available at step t, with no backward pass.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
/// <remarks>
/// <para>
/// <b>The recursion.</b> For a layer with pre-activations a_t = W_ih x_t + b_ih + W_hh h_(t-1) + b_hh (G gate blocks of
/// H rows in the library's gate order) the sensitivity of the pre-activations is
/// ∂a_t/∂θ = W_hh P^h_(t-1) + W_ih P^x_t + I_t, where P^x_t is the sensitivity of the layer's input (that of the
/// layer below for a stacked layer, zero for the network input) and I_t the immediate Jacobian, which is sparse: row
/// j of ∂a/∂θ touches only row j of W_ih (the values x_t), row j of W_hh (h_(t-1)), b_ih[j] and b_hh[j]. The cell's
/// local derivatives then give P_t (the D_t of the recursion P_t = D_t (A_t P_(t-1) + I_t)):
/// Elman h = act(a): P^h = act'(a) ⊙ ∂a/∂θ; LSTM (i, f, g, o): P^c = f ⊙ P^c_(t-1) + c_(t-1) f(1-f) ⊙ ∂a_f + g i(1-i)
/// ⊙ ∂a_i + i (1-g²) ⊙ ∂a_g and P^h = o(1-o) tanh c ⊙ ∂a_o + o (1 - tanh² c) ⊙ P^c; GRU (r, z, n) with its hidden-side
/// pre-activations kept apart: ∂r = r(1-r) ⊙ ∂a_r, ∂z = z(1-z) ⊙ ∂a_z, ∂n = (1-n²) ⊙ (∂gx_n + r ⊙ ∂gh_n + (W_hn h + b_hn) ⊙
/// ∂r), P^h = (1-z) ⊙ ∂n + (h_(t-1) - n) ⊙ ∂z + z ⊙ P^h_(t-1) (each ⊙ scales a row of the G·H x |θ| matrix).
/// </para>
/// <para>
/// <b>Cost.</b> The product W_hh P^h_(t-1) is a (G·H x H) by (H x |θ|) GEMM per step through the library's
/// <see cref="Gemm"/> (SIMD on every ISA path), with |θ| = G·H·(I + H + 2): O(G² H⁴) multiply-adds per step, the cost
/// the chapter's introduction alludes to and the reason RTRL is used for small networks only. The immediate term is a
/// scatter of x_t and h_(t-1) into contiguous ranges of each row and the cell factors are scaled row updates
/// (TensorPrimitives), O(G·H·|θ|). Memory: <see cref="SensitivityBytes"/>.
/// </para>
/// <para>
/// <b>Columns.</b> Column k of every sensitivity matrix is parameter k of <see cref="RecurrentNetwork{T}.Parameters"/>:
/// the network's layout puts each layer's four slices (weight_ih, weight_hh, bias_ih, bias_hh) before the next layer's
/// and the readout last, so layer l's sensitivities have <see cref="Columns"/>(l) columns (every parameter of layers
/// 0 .. l; the later ones cannot influence it) and the readout parameters have none: the readout's gradient is direct.
/// </para>
/// <para>
/// <b>Stacking.</b> Stacked layers are exact: layer l's input sensitivity is layer l-1's new P^h_t, so a layer's
/// sensitivities cover every lower layer's parameters too, and the cost of layer l grows with all the parameters
/// below it. Highway cells (micro-layers) are refused.
/// </para>
/// <para>
/// <b>Tangent products (for a Hessian-free optimiser).</b> The same recursion with the immediate Jacobian replaced by
/// its product with directions V (|θ| x K), I_t V = V_ih x_t + V_hh h_(t-1) + v_b, propagates K forward-mode tangents
/// ∂s_t/∂θ · V at the cost of K columns instead of |θ|: the Gauss-Newton product Jᵀ J v of issue #11 is then one
/// such tangent (K = 1) plus one backward pass. This type is the K = |θ| case with V = identity (so the scatter
/// above); it does not offer the directional variant yet.
/// </para>
/// <para>
/// The initial state is taken to be independent of θ (P_0 = 0): <see cref="Reset"/> zeroes both. Nothing allocates
/// after the first <see cref="Step"/> (which lets the GEMM allocate its per-thread packing buffers). The network's
/// weights are read at every step: after changing <see cref="RecurrentNetwork{T}.Parameters"/>, call
/// <see cref="RecurrentNetwork{T}.MarkParametersChanged"/> as always; the sensitivities then carry on from the old
/// weights (Williams and Zipser's online approximation, exact when the weights are frozen).
/// </para>
/// </remarks>
public sealed class RtrlGradient<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The default limit on <see cref="SensitivityBytes"/>: 4 GiB.</summary>
    public const long DefaultMaxSensitivityBytes = 4L << 30;

    private readonly RecurrentNetwork<T> _net;
    private readonly NetworkArchitecture _arch;
    private readonly NetworkState<T> _state;
    private readonly LayerBuffers[] _layers;
    private readonly T[] _output, _dOutput, _readoutError, _input;
    private readonly int _readoutWeightOffset, _readoutBiasOffset, _total, _threads;
    // readout.input_weight (O x I) of an InputToOutput architecture, else -1.
    private readonly int _readoutInputOffset;

    /// <summary>The per-layer sensitivities and scratch.</summary>
    private sealed class LayerBuffers
    {
        public int Input, Hidden, GateWidth, Columns, BelowColumns;
        public int InputWeightOffset, RecurrentWeightOffset, InputBiasOffset, RecurrentBiasOffset;
        public CellType Cell;
        public T[] P = [];          // H x Columns: ∂h_t/∂θ
        public T[] Pc = [];         // H x Columns: ∂c_t/∂θ (LSTM)
        public T[] A = [];          // G·H x Columns: ∂(pre-activations)/∂θ of the step being run
        public T[] InputN = [];     // H x BelowColumns: GRU's W_in P^x (stacked GRU layers only)
        public T[] HPrev = [], CPrev = [], Factor = [];
    }

    /// <summary>Allocates the sensitivities of a network (batch 1).</summary>
    /// <param name="network">An Elman, LSTM or GRU network, any number of layers.</param>
    /// <param name="maxSensitivityBytes">Refuse the network when <see cref="SensitivityBytes"/> exceeds this.</param>
    /// <param name="maxThreads">Threads of the sensitivity GEMMs (1 = the caller only, 0 = every core); results are
    /// bitwise the same for any value (<see cref="Gemm"/> never splits a sum across threads).</param>
    /// <exception cref="ArgumentException">The cell is not Elman, LSTM or GRU, or the sensitivities would need more than
    /// <paramref name="maxSensitivityBytes"/> (the message names the bytes needed).</exception>
    public RtrlGradient(RecurrentNetwork<T> network, long maxSensitivityBytes = DefaultMaxSensitivityBytes, int maxThreads = 1)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (maxSensitivityBytes < 1) throw new ArgumentOutOfRangeException(nameof(maxSensitivityBytes), maxSensitivityBytes, "The sensitivity memory limit must be positive.");
        if (maxThreads < 0) throw new ArgumentOutOfRangeException(nameof(maxThreads), maxThreads, "maxThreads must be 0 (every core) or positive.");
        _threads = maxThreads;
        NetworkArchitecture arch = network.Architecture;
        CheckSupported(arch, nameof(network));
        long bytes = SensitivityBytes(arch, Unsafe.SizeOf<T>());
        if (bytes > maxSensitivityBytes)
            throw new ArgumentException(
                $"RTRL for {arch} needs {bytes:N0} bytes ({bytes / (double)(1L << 30):F2} GiB) of {typeof(T).Name} sensitivities (state x |θ| x {Unsafe.SizeOf<T>()} bytes), more than the limit of {maxSensitivityBytes:N0} bytes (MaxSensitivityBytes); use a smaller hidden size.",
                nameof(network));
        _net = network;
        _arch = arch;
        _state = network.CreateState(1);
        _layers = new LayerBuffers[arch.NumLayers];
        int below = 0;
        for (int l = 0; l < arch.NumLayers; l++)
        {
            int h = arch.HiddenSizes[l], gh = arch.GateCount * h;
            var b = new LayerBuffers
            {
                Cell = arch.Cell, Input = arch.LayerInputSize(l), Hidden = h, GateWidth = gh, BelowColumns = below,
                InputWeightOffset = network.Layout.Get(l, ParameterKind.InputWeight).Offset,
                RecurrentWeightOffset = network.Layout.Get(l, ParameterKind.RecurrentWeight).Offset,
                InputBiasOffset = network.Layout.Get(l, ParameterKind.InputBias).Offset,
                RecurrentBiasOffset = network.Layout.Get(l, ParameterKind.RecurrentBias).Offset,
            };
            b.Columns = b.RecurrentBiasOffset + gh;
            b.P = Allocate(h, b.Columns, nameof(network));
            b.A = Allocate(gh, b.Columns, nameof(network));
            if (arch.Cell == CellType.Lstm) { b.Pc = Allocate(h, b.Columns, nameof(network)); b.CPrev = new T[h]; }
            if (arch.Cell == CellType.Gru && l > 0) b.InputN = Allocate(h, below, nameof(network));
            b.HPrev = new T[h];
            b.Factor = new T[5 * h];
            _layers[l] = b;
            below = b.Columns;
        }
        _readoutWeightOffset = network.Layout.Get(-1, ParameterKind.ReadoutWeight).Offset;
        _readoutBiasOffset = network.Layout.Get(-1, ParameterKind.ReadoutBias).Offset;
        _readoutInputOffset = arch.InputToOutput ? network.Layout.Get(-1, ParameterKind.ReadoutInputWeight).Offset : -1;
        _input = new T[arch.InputSize];
        _total = network.Layout.TotalLength;
        _output = new T[arch.OutputSize];
        _dOutput = new T[arch.OutputSize];
        _readoutError = new T[arch.TopHiddenSize];
    }

    /// <summary>
    /// Bytes of the sensitivities and their per-step work matrix for a network of <paramref name="architecture"/> with
    /// elements of <paramref name="elementSize"/> bytes: Σ over layers of (H [∂h/∂θ] + H [∂c/∂θ, LSTM] + G·H
    /// [∂a/∂θ]) x <see cref="Columns"/>(l) (+ H x the columns below for a stacked GRU layer) x elementSize.
    /// </summary>
    public static long SensitivityBytes(NetworkArchitecture architecture, int elementSize)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (elementSize < 1) throw new ArgumentOutOfRangeException(nameof(elementSize), elementSize, "Element size must be positive.");
        long total = 0, columns = 0;
        int g = architecture.GateCount;
        for (int l = 0; l < architecture.NumLayers; l++)
        {
            long h = architecture.HiddenSizes[l], i = architecture.LayerInputSize(l), below = columns;
            columns += g * h * (i + h + 2);
            long rows = h + g * h + (architecture.Cell == CellType.Lstm ? h : 0);
            total += rows * columns + (architecture.Cell == CellType.Gru && l > 0 ? h * below : 0);
        }
        return total * elementSize;
    }

    /// <summary>The network whose gradients this engine computes (its current weights are used at every step).</summary>
    public RecurrentNetwork<T> Network => _net;

    /// <summary>The network state after the last <see cref="Step"/> (h, and c for LSTM, of every layer).</summary>
    public NetworkState<T> State => _state;

    /// <summary>Bytes held by the sensitivities (<see cref="SensitivityBytes"/> of the network).</summary>
    public long Bytes => SensitivityBytes(_arch, Unsafe.SizeOf<T>());

    /// <summary>|θ| of layer <paramref name="layer"/>'s sensitivities: every parameter of layers 0 .. layer (they are
    /// the first Columns(layer) entries of <see cref="RecurrentNetwork{T}.Parameters"/>).</summary>
    public int Columns(int layer) => _layers[layer].Columns;

    /// <summary>∂h_t/∂θ of layer <paramref name="layer"/> after the last step: H x <see cref="Columns"/>(layer), row-major.</summary>
    public ReadOnlySpan<T> HiddenSensitivity(int layer) => _layers[layer].P;

    /// <summary>∂c_t/∂θ of an LSTM layer after the last step (H x <see cref="Columns"/>(layer)); empty for other cells.</summary>
    public ReadOnlySpan<T> CellSensitivity(int layer) => _layers[layer].Pc;

    /// <summary>Sets the state and every sensitivity to zero (the start of a sequence, P_0 = 0).</summary>
    public void Reset()
    {
        _state.Reset();
        foreach (LayerBuffers b in _layers)
        {
            Array.Clear(b.P);
            Array.Clear(b.Pc);
        }
    }

    /// <summary>
    /// One step with the network's current weights: reads <paramref name="input"/> (I values), advances the state and
    /// the sensitivities, writes y_t (O values) into <paramref name="output"/>. Allocates nothing after the first call.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than I or O.</exception>
    public void Step(ReadOnlySpan<T> input, Span<T> output)
    {
        int inSize = _arch.InputSize, o = _arch.OutputSize;
        if (input.Length < inSize) ThrowHelper.ThrowArgument(nameof(input), $"The input has {input.Length} values; the network takes {inSize}.");
        if (output.Length < o) ThrowHelper.ThrowDestinationTooShort(nameof(output), o, output.Length);
        _net.EnsurePacked();
        ReadOnlySpan<T> x = input[..inSize];
        x.CopyTo(_input);
        for (int l = 0; l < _layers.Length; l++)
        {
            LayerBuffers b = _layers[l];
            RecurrentCell<T> cell = _net.Packs(l);
            T[] h = _state.H[l], gates = _state.Gates[l];
            h.AsSpan().CopyTo(b.HPrev);
            _state.C[l].AsSpan().CopyTo(b.CPrev);
            // The cell's own inference step (the network's batched path with B = 1), so the values are the network's:
            // gates = b + x·W_ihᵀ, then the cell leaves what the derivatives need in gates / scratch.
            cell.InputBias.AsSpan().CopyTo(gates);
            Gemm.Multiply(Transpose.None, 1, T.One, x, b.Input, cell.InputWeightT, T.One, gates, b.GateWidth);
            cell.Step(1, gates, b.HPrev, h, _state.C[l], _state.Aux[l], _state.Scratch[l]);
            UpdateSensitivities(l, x);
            x = h;
        }
        ReadOnlySpan<T> top = _state.H[^1], parameters = _net.Parameters;
        int ht = _arch.TopHiddenSize;
        for (int k = 0; k < o; k++) output[k] = VectorMath.Dot(top, parameters.Slice(_readoutWeightOffset + k * ht, ht)) + parameters[_readoutBiasOffset + k];
        // The input-to-output term W_xo x_t of an InputToOutput readout.
        if (_readoutInputOffset >= 0)
            for (int k = 0; k < o; k++) output[k] += VectorMath.Dot<T>(_input, parameters.Slice(_readoutInputOffset + k * inSize, inSize));
        GC.KeepAlive(_net);
    }

    /// <summary>
    /// Adds (dL/dy_t) · ∂y_t/∂θ to <paramref name="gradients"/> (the layout of <see cref="RecurrentNetwork{T}.Parameters"/>)
    /// for the state of the last step: the recurrent part (W_oᵀ dL/dy)ᵀ P^h_top (one GEMV) and the readout's direct
    /// part dL/dW_o = dL/dy h_topᵀ, dL/db_o = dL/dy (and dL/dW_xo = dL/dy x_tᵀ for an
    /// <see cref="NetworkArchitecture.InputToOutput"/> readout). Accumulates. Allocates nothing.
    /// </summary>
    /// <param name="dOutput">dL_t/dy_t, O values.</param>
    /// <param name="gradients">The flat gradient buffer (|θ| values), accumulated into.</param>
    public void AccumulateGradient(ReadOnlySpan<T> dOutput, Span<T> gradients)
    {
        int o = _arch.OutputSize, ht = _arch.TopHiddenSize;
        if (dOutput.Length < o) ThrowHelper.ThrowArgument(nameof(dOutput), $"dOutput has {dOutput.Length} values; the network gives {o}.");
        if (gradients.Length < _total) ThrowHelper.ThrowDestinationTooShort(nameof(gradients), _total, gradients.Length);
        ReadOnlySpan<T> parameters = _net.Parameters, top = _state.H[^1];
        Span<T> e = _readoutError;
        e.Clear();
        for (int k = 0; k < o; k++) VectorMath.Axpy(dOutput[k], parameters.Slice(_readoutWeightOffset + k * ht, ht), e);
        LayerBuffers t = _layers[^1];
        Gemm.Multiply(Transpose.None, Transpose.None, 1, t.Columns, ht, T.One, e, ht, t.P, t.Columns, T.One, gradients[..t.Columns], t.Columns, _threads, _net.Path);
        for (int k = 0; k < o; k++)
        {
            VectorMath.Axpy(dOutput[k], top, gradients.Slice(_readoutWeightOffset + k * ht, ht));
            gradients[_readoutBiasOffset + k] += dOutput[k];
            if (_readoutInputOffset >= 0) VectorMath.Axpy<T>(dOutput[k], _input, gradients.Slice(_readoutInputOffset + k * _input.Length, _input.Length));
        }
    }

    /// <summary>
    /// Writes the output Jacobian ∂y_t/∂θ of the last step, O x |θ| row-major (|θ| = every parameter of the network,
    /// its layout): W_o P^h_top in the recurrent columns (one GEMM), h_top in row k's readout.weight row k, 1 at
    /// readout.bias[k], x_t in readout.input_weight row k (an <see cref="NetworkArchitecture.InputToOutput"/> readout),
    /// 0 elsewhere. Overwrites. What an extended Kalman filter linearises the measurement with.
    /// </summary>
    /// <param name="jacobian">At least O·|θ| values.</param>
    public void OutputJacobian(Span<T> jacobian)
    {
        int o = _arch.OutputSize, ht = _arch.TopHiddenSize;
        if (jacobian.Length < o * _total) ThrowHelper.ThrowDestinationTooShort(nameof(jacobian), o * _total, jacobian.Length);
        LayerBuffers t = _layers[^1];
        ReadOnlySpan<T> parameters = _net.Parameters;
        Gemm.Multiply(Transpose.None, Transpose.None, o, t.Columns, ht, T.One, parameters.Slice(_readoutWeightOffset, o * ht), ht, t.P, t.Columns, T.Zero, jacobian, _total, path: _net.Path);
        for (int k = 0; k < o; k++)
        {
            Span<T> row = jacobian.Slice(k * _total, _total);
            row[t.Columns..].Clear();
            _state.H[^1].AsSpan().CopyTo(row.Slice(_readoutWeightOffset + k * ht, ht));
            row[_readoutBiasOffset + k] = T.One;
            if (_readoutInputOffset >= 0) _input.AsSpan().CopyTo(row.Slice(_readoutInputOffset + k * _input.Length, _input.Length));
        }
    }

    /// <summary>
    /// Runs a whole sequence from a zero state with the current (frozen) weights and adds the gradient of its
    /// weighted MSE, L = Σ_t Σ_k w_tk (y_tk - target_tk)² / Σ w (the loss of <see cref="SequenceLoss.WeightedMse"/>,
    /// and of full BPTT over the sequence), to <paramref name="gradients"/>: Σ_t (∂L/∂y_t) ∂y_t/∂θ, each term taken at
    /// its step (Williams and Zipser's weight change summed over the sequence). Returns L (0, adding nothing, when every weight is 0).
    /// </summary>
    /// <param name="data">The sequence; its shapes must match the network.</param>
    /// <param name="gradients">The flat gradient buffer, accumulated into.</param>
    public double AccumulateSequence(SequenceData<T> data, Span<T> gradients)
    {
        ArgumentNullException.ThrowIfNull(data);
        SequenceLoss.CheckShape(_net, data, nameof(data));
        int o = data.OutputSize, inSize = data.InputSize;
        double weightSum = data.Steps * (double)o;
        if (data.TargetWeights is { } tw)
        {
            weightSum = 0;
            foreach (T w in tw) weightSum += double.CreateTruncating(w);
        }
        Reset();
        if (weightSum == 0) return 0;
        T twoOverSum = T.CreateTruncating(2 / weightSum);
        double sum = 0;
        for (int t = 0; t < data.Steps; t++)
        {
            Step(data.Inputs.AsSpan(t * inSize, inSize), _output);
            for (int k = 0; k < o; k++)
            {
                T w = data.TargetWeights is null ? T.One : data.TargetWeights[t * o + k];
                T d = _output[k] - data.Targets[t * o + k];
                sum += double.CreateTruncating(w * d * d);
                _dOutput[k] = twoOverSum * w * d;
            }
            AccumulateGradient(_dOutput, gradients);
        }
        return sum / weightSum;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the cell when RTRL cannot train it.</summary>
    internal static void CheckSupported(NetworkArchitecture architecture, string name)
    {
        if (architecture.Cell is not (CellType.Elman or CellType.Lstm or CellType.Gru) || architecture.RecurrenceDepth != 1)
            throw new ArgumentException($"RTRL supports Elman, LSTM and GRU cells; the network's cell is {architecture.Cell}.", name);
    }

    private static T[] Allocate(int rows, int columns, string name)
    {
        long n = (long)rows * columns;
        if (n > Array.MaxLength)
            throw new ArgumentException($"An RTRL sensitivity matrix of {rows} x {columns} = {n:N0} values exceeds the largest array ({Array.MaxLength:N0}); use a smaller hidden size.", name);
        return new T[n];
    }

    /// <summary>Advances layer l's sensitivities by one step (see the remarks of the type): x is the layer's input.</summary>
    private void UpdateSensitivities(int l, ReadOnlySpan<T> x)
    {
        LayerBuffers b = _layers[l];
        int h = b.Hidden, gh = b.GateWidth, c = b.Columns, cb = b.BelowColumns, inSize = b.Input;
        ReadOnlySpan<T> parameters = _net.Parameters;
        ReadOnlySpan<T> whh = parameters.Slice(b.RecurrentWeightOffset, gh * h), wih = parameters.Slice(b.InputWeightOffset, gh * inSize);
        Span<T> a = b.A;
        IsaPath path = _net.Path;
        // ∂a/∂θ = W_hh · P^h_(t-1): (G·H x H) · (H x C), the O(H⁴) product of RTRL.
        Gemm.Multiply(Transpose.None, Transpose.None, gh, c, h, T.One, whh, h, b.P, c, T.Zero, a, c, _threads, path);
        bool gru = b.Cell == CellType.Gru;
        if (l > 0)
        {
            // + W_ih · P^x_t, the input's sensitivity (layer l-1's new P^h) over the columns below. GRU keeps n's input
            // side apart: r multiplies only its hidden side.
            ReadOnlySpan<T> pBelow = _layers[l - 1].P;
            int summed = gru ? 2 * h : gh;
            Gemm.Multiply(Transpose.None, Transpose.None, summed, cb, inSize, T.One, wih, inSize, pBelow, cb, T.One, a, c, _threads, path);
            if (gru) Gemm.Multiply(Transpose.None, Transpose.None, h, cb, inSize, T.One, wih.Slice(2 * h * inSize), inSize, pBelow, cb, T.Zero, b.InputN, cb, _threads, path);
        }
        // + the immediate Jacobian: row j gets x_t at weight_ih[j, :], h_(t-1) at weight_hh[j, :], 1 at both biases
        // (GRU's n rows: the hidden side only, the input side is added after r scales the row).
        ReadOnlySpan<T> hPrev = b.HPrev;
        for (int j = 0; j < gh; j++)
        {
            Span<T> row = a.Slice(j * c, c);
            Span<T> rh = row.Slice(b.RecurrentWeightOffset + j * h, h);
            VectorMath.Add<T>(rh, hPrev, rh);
            row[b.RecurrentBiasOffset + j] += T.One;
            if (gru && j >= 2 * h) continue;
            Span<T> rx = row.Slice(b.InputWeightOffset + j * inSize, inSize);
            VectorMath.Add<T>(rx, x, rx);
            row[b.InputBiasOffset + j] += T.One;
        }
        switch (b.Cell)
        {
            case CellType.Elman: ElmanFactors(b, l); break;
            case CellType.Lstm: LstmFactors(b, l); break;
            default: GruFactors(b, l, x); break;
        }
    }

    /// <summary>h = act(a): P^h = act'(a) ⊙ ∂a/∂θ, act' from h as the cell's backward takes it.</summary>
    private void ElmanFactors(LayerBuffers b, int l)
    {
        int h = b.Hidden, c = b.Columns;
        Span<T> d = b.Factor.AsSpan(0, h);
        switch (_arch.Activation)
        {
            case Activation.Relu: VectorMath.ReluDerivative<T>(_state.H[l], d, _net.Path); break;
            case Activation.Sigmoid: VectorMath.SigmoidDerivative<T>(_state.H[l], d, _net.Path); break;
            default: VectorMath.TanhDerivative<T>(_state.H[l], d, _net.Path); break;
        }
        for (int j = 0; j < h; j++) VectorMath.Scale(d[j], b.A.AsSpan(j * c, c), b.P.AsSpan(j * c, c));
    }

    /// <summary>
    /// c = f ⊙ c_(t-1) + i ⊙ g, h = o ⊙ tanh c (gates i, f, g, o):
    /// P^c = f P^c_(t-1) + g i(1-i) ∂a_i + c_(t-1) f(1-f) ∂a_f + i (1-g²) ∂a_g; P^h = o(1-o) tanh c ∂a_o + o (1 - tanh² c) P^c.
    /// </summary>
    private void LstmFactors(LayerBuffers b, int l)
    {
        int h = b.Hidden, c = b.Columns;
        ReadOnlySpan<T> gates = _state.Gates[l], tanhC = _state.Scratch[l], cPrev = b.CPrev;
        Span<T> a = b.A;
        for (int j = 0; j < h; j++)
        {
            T i = gates[j], f = gates[h + j], g = gates[2 * h + j], o = gates[3 * h + j], tc = tanhC[j];
            Span<T> pc = b.Pc.AsSpan(j * c, c), ph = b.P.AsSpan(j * c, c);
            VectorMath.Scale(f, pc, pc);
            VectorMath.Axpy(g * i * (T.One - i), a.Slice(j * c, c), pc);
            VectorMath.Axpy(cPrev[j] * f * (T.One - f), a.Slice((h + j) * c, c), pc);
            VectorMath.Axpy(i * (T.One - g * g), a.Slice((2 * h + j) * c, c), pc);
            VectorMath.Scale(o * (T.One - o) * tc, a.Slice((3 * h + j) * c, c), ph);
            VectorMath.Axpy(o * (T.One - tc * tc), pc, ph);
        }
    }

    /// <summary>
    /// r = σ(a_r), z = σ(a_z), n = tanh(gx_n + r ⊙ gh_n) with gh_n = W_hn h_(t-1) + b_hn, h = (1-z) ⊙ n + z ⊙ h_(t-1):
    /// ∂r = r(1-r) ∂a_r, ∂z = z(1-z) ∂a_z, ∂n = (1-n²)(∂gx_n + r ∂gh_n + gh_n ∂r), P^h = (1-z) ∂n + (h_(t-1) - n) ∂z + z P^h_(t-1).
    /// </summary>
    private void GruFactors(LayerBuffers b, int l, ReadOnlySpan<T> x)
    {
        int h = b.Hidden, c = b.Columns, cb = b.BelowColumns, inSize = b.Input;
        ReadOnlySpan<T> gates = _state.Gates[l], ghn = _state.Scratch[l], hPrev = b.HPrev;
        Span<T> a = b.A;
        for (int j = 0; j < h; j++)
        {
            T r = gates[j], z = gates[h + j], n = gates[2 * h + j];
            Span<T> ar = a.Slice(j * c, c), az = a.Slice((h + j) * c, c), an = a.Slice((2 * h + j) * c, c), ph = b.P.AsSpan(j * c, c);
            VectorMath.Scale(r * (T.One - r), ar, ar);
            VectorMath.Scale(z * (T.One - z), az, az);
            // ∂a_n = r ∂gh_n + gh_n ∂r + ∂gx_n, the input side: W_in P^x below, x_t at weight_ih row 2H + j, 1 at bias_ih.
            VectorMath.Scale(r, an, an);
            VectorMath.Axpy(ghn[j], ar, an);
            if (cb > 0)
            {
                Span<T> below = an[..cb];
                VectorMath.Add<T>(below, b.InputN.AsSpan(j * cb, cb), below);
            }
            Span<T> rx = an.Slice(b.InputWeightOffset + (2 * h + j) * inSize, inSize);
            VectorMath.Add(rx, x, rx);
            an[b.InputBiasOffset + 2 * h + j] += T.One;
            VectorMath.Scale(T.One - n * n, an, an);
            VectorMath.Scale(z, ph, ph);
            VectorMath.Axpy(T.One - z, an, ph);
            VectorMath.Axpy(hPrev[j] - n, az, ph);
        }
    }
}
