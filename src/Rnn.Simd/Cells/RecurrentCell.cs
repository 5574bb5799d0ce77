using System.Numerics;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Cells;

/// <summary>
/// What a kind of cell is, independent of the element type: how many gate blocks its weights have, how its biases
/// fold, which state it carries besides h, which tensors a training window stores for its backward, and whether it has
/// a batch-1 step. One instance per <see cref="CellType"/>, held by <see cref="CellRegistry"/>; <see cref="Create{T}"/>
/// builds the cell of one layer, which owns that layer's packed weights and its numerics.
/// </summary>
/// <remarks>
/// <para>
/// Every cell shares the layer shape of <c>Network.ParameterLayout</c>: weight_ih (G·H) x I, weight_hh (G·H) x H,
/// bias_ih and bias_hh of G·H, gate blocks of H rows stacked in the cell's gate order. Its step splits in two: the input
/// projection b + x·W_ihᵀ, which does not depend on h_(t-1) and so is one GEMM over all the steps of a window (done by
/// the caller, starting from <see cref="RecurrentCell{T}.InputBias"/>), and the recurrent part after it, which the cell
/// does per step (<see cref="RecurrentCell{T}.Step"/>, <see cref="RecurrentCell{T}.ForwardStep"/>,
/// <see cref="RecurrentCell{T}.BackwardStep"/>).
/// </para>
/// <para>
/// Adding a cell: one file with a sealed subclass of this type and one of <see cref="RecurrentCell{T}"/>, and one line
/// in <see cref="CellRegistry"/>.
/// </para>
/// </remarks>
internal abstract class RecurrentCell
{
    /// <summary>The enum value this definition is registered under.</summary>
    public abstract CellType Type { get; }

    /// <summary>G, the number of gate blocks: weight_ih is (G·H) x I, weight_hh (G·H) x H, each bias G·H.</summary>
    public abstract int GateCount { get; }

    /// <summary>
    /// True when b_hh enters the pre-activation as a plain sum, so the input projection starts from b_ih + b_hh
    /// (LSTM, Elman) and b_hh's gradient equals b_ih's; false when the recurrent bias is kept apart (GRU, where the
    /// reset gate multiplies W_hn h + b_hn), so the projection starts from b_ih alone.
    /// </summary>
    public abstract bool FoldsRecurrentBias { get; }

    /// <summary>True when the cell carries a state c besides h (LSTM): B x H per layer in the network state, its
    /// gradient carried through backward and reported as dL/dc_0.</summary>
    public virtual bool HasCellState => false;

    /// <summary>True when the architecture's <see cref="Activation"/> applies (Elman); gated cells have fixed activations.</summary>
    public virtual bool UsesActivation => false;

    /// <summary>The gate block of the forget gate (LSTM: 1, gate order i, f, g, o), or -1 when the cell has none.</summary>
    public virtual int ForgetGate => -1;

    /// <summary>True when the cell has a fused batch-1 step (<see cref="RecurrentCell{T}.StepBatchOne"/>); otherwise a
    /// single stream runs the batched step with B = 1.</summary>
    public virtual bool HasBatchOneStep => false;

    /// <summary>Elements per stream of the inference step's auxiliary array (the network state's per-layer scratch
    /// besides the G·H gates and the H-long scratch): GRU keeps its hidden-side pre-activations there (G·H).</summary>
    public virtual int StepAuxiliaryLength(int hidden) => 0;

    /// <summary>The tensors a training window stores for this cell beyond the ones every cell stores
    /// (<see cref="CellWindowBuffers{T}"/>); their index in this list is their index in
    /// <see cref="CellWindowBuffers{T}.Tensor"/>.</summary>
    public virtual IReadOnlyList<CellTensor> WindowTensors => [];

    /// <summary>Micro-layers per time step (a recurrent highway cell's recurrence depth; 1 for every other cell).</summary>
    public virtual int RecurrenceDepth => 1;

    /// <summary>The definition for recurrence depth <paramref name="depth"/>: this one for depth 1; a cell with
    /// micro-layers (<see cref="CellType.Highway"/>) returns its definition of that depth.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The depth is below 1, or above 1 for a cell without micro-layers.</exception>
    public virtual RecurrentCell WithDepth(int depth) => depth == 1 ? this
        : throw new ArgumentOutOfRangeException(nameof(depth), depth, $"{Type} cells have recurrence depth 1; only Highway cells take a depth above 1.");

    /// <summary>Builds the cell of one layer over the network's flat parameter buffer. Allocates its packed weights
    /// (not yet packed: call <see cref="RecurrentCell{T}.Pack"/>).</summary>
    /// <param name="parameters">The network's flat parameter buffer; the cell keeps a reference and reads its slices.</param>
    /// <param name="layout">Shape and slice offsets of the layer.</param>
    /// <param name="activation">The architecture's activation (read only when <see cref="UsesActivation"/>).</param>
    /// <param name="path">ISA path of every kernel the cell runs (a resolved path, not Auto).</param>
    public abstract RecurrentCell<T> Create<T>(T[] parameters, CellLayout layout, Activation activation, IsaPath path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>;

    /// <inheritdoc/>
    public override string ToString() => $"{Type} (G = {GateCount})";
}

/// <summary>Shape of one layer and where its four parameter slices start in the network's flat buffer.</summary>
/// <param name="InputSize">I of the layer (the network input, or the hidden size below).</param>
/// <param name="HiddenSize">H of the layer.</param>
/// <param name="InputWeightOffset">First element of weight_ih, (G·H) x I row-major.</param>
/// <param name="RecurrentWeightOffset">First element of weight_hh, (G·H) x H row-major.</param>
/// <param name="InputBiasOffset">First element of bias_ih, G·H.</param>
/// <param name="RecurrentBiasOffset">First element of bias_hh, G·H.</param>
/// <param name="MicroLayerOffset">First element of the extra micro-layer slices of a recurrent highway layer of depth
/// L &gt; 1 (micro-layers 1 .. L-1, each weight_hh_l{k}_d{m} (G·H) x H then bias_hh_l{k}_d{m} G·H, back to back);
/// -1 for every other layer.</param>
internal readonly record struct CellLayout(int InputSize, int HiddenSize, int InputWeightOffset, int RecurrentWeightOffset, int InputBiasOffset, int RecurrentBiasOffset, int MicroLayerOffset = -1);

/// <summary>How long a window tensor lives and how it is indexed.</summary>
internal enum CellTensorScope
{
    /// <summary>One entry per ring slot, written by the forward of that slot and read by its backward; zeroed when the ring is cleared.</summary>
    Slot,
    /// <summary>One entry per ring slot, written by the backward of that slot and read by the window's weight-gradient
    /// GEMMs over all slots; zeroed when the ring is cleared and before a window whose ring is not yet full.</summary>
    SlotGradient,
    /// <summary>B rows of backward scratch carried from one step to the next within a window (no slots).</summary>
    Stream,
}

/// <summary>A tensor a cell stores over a training window: <see cref="HiddenMultiple"/>·H elements per stream row, per
/// slot or once (<see cref="Scope"/>), allocated only under recurrent dropout when <see cref="RecurrentDropoutOnly"/>.</summary>
/// <param name="Name">What it holds, e.g. <c>c_prev</c> (for messages and tests).</param>
/// <param name="HiddenMultiple">Elements per row in units of H.</param>
/// <param name="Scope">Per slot, per-slot gradient, or per stream.</param>
/// <param name="RecurrentDropoutOnly">Allocated (non-empty) only when recurrent dropout is active.</param>
internal readonly record struct CellTensor(string Name, int HiddenMultiple, CellTensorScope Scope, bool RecurrentDropoutOnly = false)
{
    /// <summary>Elements per stream row for a layer of <paramref name="hidden"/> units.</summary>
    public int Width(int hidden) => HiddenMultiple * hidden;
}

/// <summary>
/// The cell of one layer for element type <typeparamref name="T"/>: its packed weights (batched and batch-1) and its
/// numerics over caller-owned buffers: the inference step, the training forward and backward of one ring slot, and
/// the batch-1 step. Shared by every thread running the network (it holds no per-step state); packing is the caller's
/// to serialise.
/// </summary>
/// <remarks>
/// Layout everywhere: row b of a gate array starts at b·G·H and holds the G gate blocks of H columns in the cell's
/// gate order; row b of a state array (h, c, dh) starts at b·H. A training slot q of B rows starts at q·B rows.
/// </remarks>
internal abstract unsafe class RecurrentCell<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T[] _parameters;
    private FusedLayerWeights<T>? _batchOne;

    /// <summary>Allocates the batched packed weights of a layer (<see cref="Pack"/> fills them).</summary>
    protected RecurrentCell(RecurrentCell definition, T[] parameters, CellLayout layout, IsaPath path)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(parameters);
        Definition = definition;
        _parameters = parameters;
        Layout = layout;
        Path = path;
        InputSize = layout.InputSize;
        Hidden = layout.HiddenSize;
        GateWidth = definition.GateCount * layout.HiddenSize;
        InputWeightT = new PackedMatrix<T>(InputSize, GateWidth, path);
        RecurrentWeightT = new PackedMatrix<T>(Hidden, GateWidth, path);
        RecurrentWeight = new PackedMatrix<T>(GateWidth, Hidden, path);
        InputBias = new T[GateWidth];
    }

    /// <summary>The kind of cell.</summary>
    public RecurrentCell Definition { get; }

    /// <summary>Shape and parameter offsets of the layer.</summary>
    public CellLayout Layout { get; }

    /// <summary>ISA path of the cell's kernels.</summary>
    public IsaPath Path { get; }

    /// <summary>I, inputs per stream.</summary>
    public int InputSize { get; }

    /// <summary>H, hidden units.</summary>
    public int Hidden { get; }

    /// <summary>G·H, columns of a gate row.</summary>
    public int GateWidth { get; }

    /// <summary>W_ihᵀ packed (I x G·H), the right operand of the batched input projection gates = b + x·W_ihᵀ.</summary>
    public PackedMatrix<T> InputWeightT { get; }

    /// <summary>The G·H bias row the input projection starts from: b_ih + b_hh when
    /// <see cref="RecurrentCell.FoldsRecurrentBias"/>, else b_ih. Written by <see cref="Pack"/>.</summary>
    public T[] InputBias { get; }

    /// <summary>W_hhᵀ packed (H x G·H): the per-step recurrent product h_(t-1)·W_hhᵀ.</summary>
    public PackedMatrix<T> RecurrentWeightT { get; }

    /// <summary>W_hh packed as stored ((G·H) x H): the backward product dh_(t-1) = dG · W_hh.</summary>
    public PackedMatrix<T> RecurrentWeight { get; }

    /// <summary>weight_ih as stored, (G·H) x I row-major, read live from the flat buffer (the dx GEMM of backward).</summary>
    public ReadOnlySpan<T> InputWeight => _parameters.AsSpan(Layout.InputWeightOffset, GateWidth * InputSize);

    /// <summary>weight_hh as stored, (G·H) x H row-major.</summary>
    protected ReadOnlySpan<T> RecurrentWeightValues => _parameters.AsSpan(Layout.RecurrentWeightOffset, GateWidth * Hidden);

    /// <summary>bias_hh, G·H, read live from the flat buffer (GRU's r ⊙ (W_hn h + b_hn) reads it every step).</summary>
    protected ReadOnlySpan<T> RecurrentBias => _parameters.AsSpan(Layout.RecurrentBiasOffset, GateWidth);

    /// <summary>The batch-1 packed weights (after <see cref="PackBatchOne"/>).</summary>
    protected FusedLayerWeights<T> BatchOneWeights => _batchOne!;

    /// <summary>
    /// Packs W_ihᵀ, W_hhᵀ and W_hh from the flat buffer and writes <see cref="InputBias"/> (b_ih, plus b_hh when the
    /// cell folds it: the same float sum the batch-1 packing copies). Allocates nothing; the caller serialises it
    /// against running steps.
    /// </summary>
    public virtual void Pack()
    {
        ReadOnlySpan<T> wih = InputWeight, whh = RecurrentWeightValues;
        InputWeightT.Pack(Transpose.Transposed, wih, InputSize);
        RecurrentWeightT.Pack(Transpose.Transposed, whh, Hidden);
        RecurrentWeight.Pack(Transpose.None, whh, Hidden);
        _parameters.AsSpan(Layout.InputBiasOffset, GateWidth).CopyTo(InputBias);
        if (Definition.FoldsRecurrentBias) VectorMath.Add<T>(InputBias, RecurrentBias, InputBias);
    }

    /// <summary>
    /// Packs the batch-1 weights (<see cref="FusedLayerWeights{T}"/>) from the flat buffer and <see cref="InputBias"/>,
    /// so call it after <see cref="Pack"/>. The first call allocates them; later calls allocate nothing.
    /// </summary>
    /// <exception cref="NotSupportedException">The cell has no batch-1 step.</exception>
    public void PackBatchOne()
    {
        if (!Definition.HasBatchOneStep) throw new NotSupportedException($"{Definition.Type} cells have no batch-1 step; run the batched step with B = 1.");
        _batchOne ??= new FusedLayerWeights<T>(Definition.GateCount, InputSize, Hidden, !Definition.FoldsRecurrentBias, Path);
        _batchOne.Pack(InputWeight, RecurrentWeightValues, InputBias, RecurrentBias);
    }

    /// <summary>
    /// The inference step of B streams after the input projection. Overwrites <paramref name="gates"/> and writes h_t
    /// over h_(t-1) in <paramref name="h"/> (and c_t over c_(t-1)). Allocates nothing.
    /// </summary>
    /// <param name="batch">B, streams.</param>
    /// <param name="gates">B x G·H: b + x·W_ihᵀ on entry (from <see cref="InputBias"/>); scratch after.</param>
    /// <param name="hIn">B x H: h_(t-1) as it enters W_hh, <paramref name="h"/> itself or a dropout-masked copy.</param>
    /// <param name="h">B x H: h_(t-1) in (the undropped state), h_t out.</param>
    /// <param name="c">B x H cell state, c_(t-1) in, c_t out; empty for cells without one.</param>
    /// <param name="aux">B x <see cref="RecurrentCell.StepAuxiliaryLength"/>: the cell's scratch.</param>
    /// <param name="scratch">B x H scratch.</param>
    public abstract void Step(int batch, Span<T> gates, ReadOnlySpan<T> hIn, Span<T> h, Span<T> c, Span<T> aux, Span<T> scratch);

    /// <summary>
    /// The training forward of ring slot <paramref name="slot"/> after the window's input projection. On entry
    /// <c>w.Gates</c> of the slot holds b + x·W_ihᵀ and <c>w.HPrev</c> of the slot holds h_(t-1) as it enters W_hh
    /// (masked under recurrent dropout). Writes h_t into <c>w.H</c> of the slot, overwrites the slot's gates with what
    /// <see cref="BackwardStep"/> reads, fills the cell's own slot tensors, and advances <paramref name="c"/> in place.
    /// The caller copies h_t into the carried state afterwards.
    /// </summary>
    /// <param name="w">The layer's window buffers.</param>
    /// <param name="slot">Ring slot q of this step.</param>
    /// <param name="h">B x H: the carried (undropped) h_(t-1); read only.</param>
    /// <param name="c">B x H carried cell state, c_(t-1) in, c_t out; empty for cells without one.</param>
    /// <param name="threads">Threads of each GEMM (results are bitwise the same for any value).</param>
    public abstract void ForwardStep(CellWindowBuffers<T> w, int slot, ReadOnlySpan<T> h, Span<T> c, int threads);

    /// <summary>
    /// The backward of ring slot <paramref name="slot"/> (chapter Eq. 2.9-2.10: one factor ∂h_t/∂h_(t-1) of the
    /// product, applied as a vector-Jacobian product). On entry <c>w.DhTotal</c> holds dL/dh_t (B x H) and, for a cell
    /// with state, <c>w.CellStateGradient</c> dL/dc_t. Overwrites the slot's <c>w.GateGradients</c> (dL/d pre-activation,
    /// B x G·H) and the cell's per-slot gradient tensors, overwrites <c>w.DhRecurrent</c> with dL/dh_(t-1) (the part
    /// through W_hh times the recurrent mask), and <c>w.CellStateGradient</c> with dL/dc_(t-1).
    /// </summary>
    /// <param name="w">The layer's window buffers.</param>
    /// <param name="slot">Ring slot q.</param>
    /// <param name="recurrentMask">B x H recurrent dropout mask of the slot (the one its forward applied to h_(t-1)
    /// where it enters W_hh); empty without recurrent dropout.</param>
    /// <param name="threads">Threads of each GEMM.</param>
    public abstract void BackwardStep(CellWindowBuffers<T> w, int slot, ReadOnlySpan<T> recurrentMask, int threads);

    /// <summary>
    /// What the window's W_hh and b_hh gradient GEMMs read: S·B x G·H gradients w.r.t. the hidden-side
    /// pre-activations, one row per stored step (dW_hh += this ᵀ · HPrev, db_hh += 1ᵀ · this). The gate gradients
    /// themselves for cells whose W_hh h enters the pre-activation as a sum; GRU's own hidden-side gradients.
    /// </summary>
    public virtual ReadOnlySpan<T> RecurrentGateGradients(CellWindowBuffers<T> w) => w.GateGradients.Span;

    /// <summary>
    /// Accumulates (adds) the window's gradients of parameters beyond the layer's four standard slices into
    /// <paramref name="gradient"/> (the network's flat gradient buffer), after every slot's <see cref="BackwardStep"/>:
    /// a recurrent highway layer's micro-layers 1 .. L-1. Nothing for the other cells.
    /// </summary>
    /// <param name="w">The layer's window buffers.</param>
    /// <param name="gradient">The flat gradient buffer (the layout of the parameters).</param>
    /// <param name="ones">At least S·B ones (the bias-gradient GEMMs' left operand).</param>
    /// <param name="threads">Threads of each GEMM.</param>
    public virtual void AccumulateExtraGradients(CellWindowBuffers<T> w, Span<T> gradient, ReadOnlySpan<T> ones, int threads)
    {
    }

    /// <summary>
    /// One step of one stream over the batch-1 packed weights (after <see cref="PackBatchOne"/>), bitwise equal to row
    /// 0 of <see cref="Step"/> with B = 1. Allocates nothing (stack scratch only).
    /// </summary>
    /// <param name="x">I inputs.</param>
    /// <param name="hPrev">A copy of h_(t-1) (H); not written.</param>
    /// <param name="c">Cell state (H), c_(t-1) in, c_t out; null for cells without one.</param>
    /// <param name="h">H: h_t out (may hold h_(t-1) on entry; it is not read).</param>
    public virtual void StepBatchOne(T* x, T* hPrev, T* c, T* h) =>
        throw new NotSupportedException($"{Definition.Type} cells have no batch-1 step.");
}
