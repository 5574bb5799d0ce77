using System.Numerics;
using System.Numerics.Tensors;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Recurrent;

namespace Rnn.Simd.Cells;

/// <summary>
/// The recurrent highway cell (chapter §2.4; Zilly et al. 2017, Recurrent Highway Networks, ICML, Sec. 3, the RHN
/// layer equations, with the coupled carry gate c = 1 - t they use in their experiments; cf. the authors' code
/// julian121266/RecurrentHighwayNetworks): L ≥ 1 micro-layers per time step (<see cref="RecurrenceDepth"/>), two gate
/// blocks (G = 2: the candidate h̃, then the transform gate t). With s_0 = h_(t-1), for m = 1 .. L:
/// h̃_m = tanh(W_H x_t·[m = 1] + R_(H,m) s_(m-1) + b_(H,m)), t_m = σ(W_T x_t·[m = 1] + R_(T,m) s_(m-1) + b_(T,m)),
/// s_m = h̃_m ⊙ t_m + s_(m-1) ⊙ (1 - t_m), and h_t = s_L. The input enters the first micro-layer only.
/// </summary>
/// <remarks>
/// <para>
/// Parameters of layer k (PyTorch has no such module, so the names are this library's): the four standard slices
/// carry micro-layer 1 (weight_ih_l{k} = [W_H; W_T], 2H x I; weight_hh_l{k} = R_1, 2H x H; bias_ih_l{k} and
/// bias_hh_l{k}, 2H each, summed into b_1 as LSTM's two biases are), followed by weight_hh_l{k}_d{m} (2H x H) and
/// bias_hh_l{k}_d{m} (2H) for micro-layers m = 1 .. L-1 (0-based; the m-th after the first). Depth 1 has exactly
/// the standard layout.
/// </para>
/// <para>
/// Dropout: input dropout masks x_t where it enters W (the first micro-layer only); recurrent dropout masks
/// s_0 = h_(t-1) where it enters R_1, while the carry term s_0 ⊙ (1 - t_1) takes the undropped state (as GRU's
/// z ⊙ h_(t-1)); the inner states s_1 .. s_(L-1) are not masked; output dropout masks h_t = s_L as for every cell.
/// The transform-gate bias starts at <see cref="DefaultTransformBias"/> (the paper uses about -2 to -4) so that each
/// micro-layer starts close to carrying its state through.
/// </para>
/// </remarks>
internal sealed class HighwayCell : RecurrentCell
{
    /// <summary>The initial transform-gate bias b_T of every micro-layer (negative: carry by default).</summary>
    public const double DefaultTransformBias = -2.0;

    /// <summary>Index of the undropped h_(t-1): S x B x H, only under recurrent dropout (else HPrev holds it).</summary>
    public const int HPrevUndropped = 0;

    /// <summary>Index of dL/ds of the micro-layer being back-propagated: B x H.</summary>
    public const int StateGradient = 1;

    /// <summary>Index of (dG_1 · R_1) of the step being back-propagated: B x H, only under recurrent dropout.</summary>
    public const int DhThroughWeights = 2;

    /// <summary>Index of the gates of micro-layers 2 .. L: [L-1][S][B][2H] (h̃, t after the forward); declared only for L &gt; 1.</summary>
    public const int MicroGates = 3;

    /// <summary>Index of the inner states s_1 .. s_(L-1): [L-1][S][B][H], the inputs of R_2 .. R_L; declared only for L &gt; 1.</summary>
    public const int MicroStates = 4;

    /// <summary>Index of dL/d(pre-activations) of micro-layers 2 .. L: [L-1][S][B][2H], read by their weight-gradient
    /// GEMMs; declared only for L &gt; 1.</summary>
    public const int MicroGateGradients = 5;

    private static readonly Dictionary<int, HighwayCell> s_byDepth = [];
    private readonly CellTensor[] _tensors;

    /// <summary>The definition of depth <paramref name="depth"/> (the registry holds depth 1; <see cref="WithDepth"/> the others).</summary>
    public HighwayCell(int depth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        RecurrenceDepth = depth;
        int inner = depth - 1;
        CellTensor[] always =
        [
            new("h_prev_undropped", 1, CellTensorScope.Slot, RecurrentDropoutOnly: true),
            new("ds", 1, CellTensorScope.Stream),
            new("dh_through_r1", 1, CellTensorScope.Stream, RecurrentDropoutOnly: true),
        ];
        _tensors = inner == 0 ? always :
        [
            .. always,
            new("micro_gates", 2 * inner, CellTensorScope.Slot),
            new("micro_states", inner, CellTensorScope.Slot),
            new("d_micro_gates", 2 * inner, CellTensorScope.SlotGradient),
        ];
    }

    /// <inheritdoc/>
    public override CellType Type => CellType.Highway;

    /// <inheritdoc/>
    public override int GateCount => 2;

    /// <inheritdoc/>
    public override bool FoldsRecurrentBias => true;

    /// <inheritdoc/>
    public override int RecurrenceDepth { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<CellTensor> WindowTensors => _tensors;

    /// <inheritdoc/>
    public override RecurrentCell WithDepth(int depth)
    {
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), depth, "The recurrence depth must be at least 1.");
        if (depth == RecurrenceDepth) return this;
        lock (s_byDepth)
        {
            if (!s_byDepth.TryGetValue(depth, out HighwayCell? d)) s_byDepth[depth] = d = new HighwayCell(depth);
            return d;
        }
    }

    /// <inheritdoc/>
    public override RecurrentCell<T> Create<T>(T[] parameters, CellLayout layout, Activation activation, IsaPath path) =>
        new HighwayCell<T>(this, parameters, layout, path);

    /// <inheritdoc/>
    public override string ToString() => $"{Type} (G = {GateCount}, L = {RecurrenceDepth})";
}

/// <summary>
/// The numerics of one recurrent highway layer (see <see cref="HighwayCell"/>). Gate rows are B x 2H (h̃ block, t
/// block): pre-activations before the micro-layer's kernel, h̃ and t after it. Per step: the window's input projection
/// (b_1 + x W_1ᵀ, batched over the window by the caller), then per micro-layer one s·Rᵀ GEMM and one fused kernel.
/// </summary>
internal sealed unsafe class HighwayCell<T> : RecurrentCell<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T[] _parameters;
    private readonly int _depth;
    private readonly PackedMatrix<T>[] _microWeightT, _microWeight; // micro-layers 2 .. L: Rᵀ (H x 2H), R (2H x H)

    public HighwayCell(HighwayCell definition, T[] parameters, CellLayout layout, IsaPath path)
        : base(definition, parameters, layout, path)
    {
        _parameters = parameters;
        _depth = definition.RecurrenceDepth;
        if (_depth > 1 && layout.MicroLayerOffset < 0) throw new ArgumentException("A recurrent highway layer of depth above 1 needs its micro-layer slices.", nameof(layout));
        _microWeightT = new PackedMatrix<T>[_depth - 1];
        _microWeight = new PackedMatrix<T>[_depth - 1];
        for (int m = 0; m < _depth - 1; m++)
        {
            _microWeightT[m] = new PackedMatrix<T>(Hidden, GateWidth, path);
            _microWeight[m] = new PackedMatrix<T>(GateWidth, Hidden, path);
        }
    }

    private int MicroStride => GateWidth * Hidden + GateWidth;

    /// <summary>R of micro-layer m + 2 (m = 0 .. L-2), 2H x H row-major, live from the flat buffer.</summary>
    private ReadOnlySpan<T> MicroWeight(int m) => _parameters.AsSpan(Layout.MicroLayerOffset + m * MicroStride, GateWidth * Hidden);

    /// <summary>b of micro-layer m + 2, 2H.</summary>
    private ReadOnlySpan<T> MicroBias(int m) => _parameters.AsSpan(Layout.MicroLayerOffset + m * MicroStride + GateWidth * Hidden, GateWidth);

    /// <inheritdoc/>
    public override void Pack()
    {
        base.Pack();
        for (int m = 0; m < _depth - 1; m++)
        {
            ReadOnlySpan<T> r = MicroWeight(m);
            _microWeightT[m].Pack(Transpose.Transposed, r, Hidden);
            _microWeight[m].Pack(Transpose.None, r, Hidden);
        }
    }

    /// <summary>Every row of <paramref name="gates"/> (B x 2H) := b of micro-layer m + 2, the start of its GEMM.</summary>
    private void FillBias(int m, int batch, T* gates)
    {
        ReadOnlySpan<T> bias = MicroBias(m);
        for (int b = 0; b < batch; b++) bias.CopyTo(new Span<T>(gates + (nint)b * GateWidth, GateWidth));
    }

    /// <summary>Micro-layer 1: gates += hIn·R_1ᵀ, then the kernel with s_0 = h (undropped); micro-layers 2 .. L reuse
    /// the gates as scratch (bias rows, + s·Rᵀ). s overwrites h in place.</summary>
    public override void Step(int batch, Span<T> gates, ReadOnlySpan<T> hIn, Span<T> h, Span<T> c, Span<T> aux, Span<T> scratch)
    {
        Gemm.Multiply(Transpose.None, batch, T.One, hIn, Hidden, RecurrentWeightT, T.One, gates, GateWidth);
        fixed (T* pg = gates, ph = h)
        {
            HighwayKernels.Forward(Path, batch, Hidden, pg, ph, ph);
            for (int m = 0; m < _depth - 1; m++)
            {
                FillBias(m, batch, pg);
                Gemm.Multiply(Transpose.None, batch, T.One, new ReadOnlySpan<T>(ph, batch * Hidden), Hidden, _microWeightT[m], T.One, new Span<T>(pg, batch * GateWidth), GateWidth);
                HighwayKernels.Forward(Path, batch, Hidden, pg, ph, ph);
            }
        }
    }

    private static T* MicroAt(CellWindowBuffers<T> w, int tensor, int m, int slot, int width) =>
        w.Tensor(tensor).Ptr + ((nint)m * w.Slots + slot) * w.Batch * width;

    /// <summary>
    /// Slot q: a_1 = gates(q) + HPrev(q)·R_1ᵀ, micro-layer 1's kernel over s_0 (the undropped h_(t-1)), then per
    /// micro-layer m ≥ 2: a_m = b_m + s_(m-1)·R_mᵀ into its slot tensor, its kernel; s_1 .. s_(L-1) are kept, s_L = h_t
    /// goes to H(q).
    /// </summary>
    public override void ForwardStep(CellWindowBuffers<T> w, int slot, ReadOnlySpan<T> h, Span<T> c, int threads)
    {
        int b = w.Batch, bh = b * Hidden, bg = b * GateWidth;
        T* gq = w.At(w.Gates, slot), hp = w.At(w.HPrev, slot), sPrev = hp;
        if (w.RecurrentDropout)
        {
            sPrev = w.At(w.Tensor(HighwayCell.HPrevUndropped), slot);
            h.CopyTo(new Span<T>(sPrev, bh));
        }
        Gemm.Multiply(Transpose.None, b, T.One, new ReadOnlySpan<T>(hp, bh), Hidden, RecurrentWeightT, T.One, new Span<T>(gq, bg), GateWidth, threads);
        for (int m = 0; m < _depth; m++)
        {
            T* a = gq;
            if (m > 0)
            {
                a = MicroAt(w, HighwayCell.MicroGates, m - 1, slot, GateWidth);
                FillBias(m - 1, b, a);
                Gemm.Multiply(Transpose.None, b, T.One, new ReadOnlySpan<T>(sPrev, bh), Hidden, _microWeightT[m - 1], T.One, new Span<T>(a, bg), GateWidth, threads);
            }
            T* s = m == _depth - 1 ? w.At(w.H, slot) : MicroAt(w, HighwayCell.MicroStates, m, slot, Hidden);
            HighwayKernels.Forward(Path, b, Hidden, a, sPrev, s);
            sPrev = s;
        }
    }

    /// <summary>
    /// From dL/ds_L = dL/dh_t down the micro-layers: s_m = h̃ ⊙ t + s_(m-1) ⊙ (1 - t)  =>  da_H = ds ⊙ t ⊙ (1 - h̃²),
    /// da_T = ds ⊙ (h̃ - s_(m-1)) ⊙ t(1 - t), ds_(m-1) = ds ⊙ (1 - t) + da · R_m; for m = 1 the R_1 part is times the
    /// recurrent mask (s_0 entered R_1 masked) and ds_0 = dL/dh_(t-1) goes to DhRecurrent. da_1 is the slot's gate
    /// gradient (read by the W, b_ih, R_1, b_hh GEMMs and dx), da_m (m ≥ 2) its slot tensor.
    /// </summary>
    public override void BackwardStep(CellWindowBuffers<T> w, int slot, ReadOnlySpan<T> recurrentMask, int threads)
    {
        int b = w.Batch, bh = b * Hidden, bg = b * GateWidth;
        T* ds = w.DhTotal.Ptr, scratch = w.Tensor(HighwayCell.StateGradient).Ptr;
        T* s0 = w.RecurrentDropout ? w.At(w.Tensor(HighwayCell.HPrevUndropped), slot) : w.At(w.HPrev, slot);
        for (int m = _depth - 1; m >= 1; m--)
        {
            T* a = MicroAt(w, HighwayCell.MicroGates, m - 1, slot, GateWidth);
            T* da = MicroAt(w, HighwayCell.MicroGateGradients, m - 1, slot, GateWidth);
            T* sPrev = MicroAt(w, HighwayCell.MicroStates, m - 1, slot, Hidden);
            HighwayKernels.Backward(Path, b, Hidden, a, sPrev, ds, da, scratch);
            Gemm.Multiply(Transpose.None, b, T.One, new ReadOnlySpan<T>(da, bg), GateWidth, _microWeight[m - 1], T.One, new Span<T>(scratch, bh), Hidden, threads);
            ds = scratch;
        }
        T* dg = w.At(w.GateGradients, slot);
        HighwayKernels.Backward(Path, b, Hidden, w.At(w.Gates, slot), s0, ds, dg, w.DhRecurrent.Ptr);
        ReadOnlySpan<T> dG = new(dg, bg);
        if (!recurrentMask.IsEmpty)
        {
            Span<T> viaWeights = w.Tensor(HighwayCell.DhThroughWeights).Span;
            Gemm.Multiply(Transpose.None, b, T.One, dG, GateWidth, RecurrentWeight, T.Zero, viaWeights, Hidden, threads);
            TensorPrimitives.MultiplyAdd<T>(viaWeights, recurrentMask.Slice(0, bh), w.DhRecurrent.Span, w.DhRecurrent.Span);
        }
        else
        {
            Gemm.Multiply(Transpose.None, b, T.One, dG, GateWidth, RecurrentWeight, T.One, w.DhRecurrent.Span, Hidden, threads);
        }
    }

    /// <summary>Micro-layers 2 .. L over all S slots: dR_m += da_mᵀ · s_(m-1), db_m += 1ᵀ · da_m (one GEMM each).</summary>
    public override void AccumulateExtraGradients(CellWindowBuffers<T> w, Span<T> gradient, ReadOnlySpan<T> ones, int threads)
    {
        int rows = w.Slots * w.Batch;
        for (int m = 0; m < _depth - 1; m++)
        {
            ReadOnlySpan<T> da = new(MicroAt(w, HighwayCell.MicroGateGradients, m, 0, GateWidth), rows * GateWidth);
            ReadOnlySpan<T> s = new(MicroAt(w, HighwayCell.MicroStates, m, 0, Hidden), rows * Hidden);
            int off = Layout.MicroLayerOffset + m * MicroStride;
            Gemm.Multiply(Transpose.Transposed, Transpose.None, GateWidth, Hidden, rows, T.One, da, GateWidth, s, Hidden, T.One, gradient.Slice(off, GateWidth * Hidden), Hidden, threads, Path);
            Gemm.Multiply(Transpose.None, Transpose.None, 1, GateWidth, rows, T.One, ones.Slice(0, rows), rows, da, GateWidth, T.One, gradient.Slice(off + GateWidth * Hidden, GateWidth), GateWidth, 1, Path);
        }
    }
}
