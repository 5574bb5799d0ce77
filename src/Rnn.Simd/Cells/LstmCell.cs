using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Recurrent;

namespace Rnn.Simd.Cells;

/// <summary>
/// The LSTM cell in PyTorch's formulation and gate order (i, f, g, o; G = 4), with a = W_ih x_t + b_ih + W_hh h_(t-1) + b_hh
/// (both biases folded into the input projection):
/// i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o), c_t = f ⊙ c_(t-1) + i ⊙ g, h_t = o ⊙ tanh(c_t).
/// The cell state c is carried besides h; the chapter (section 2.4) cites gated cells as the remedy for the vanishing
/// product of Eq. 2.10, which the additive path through c avoids.
/// </summary>
internal sealed class LstmCell : RecurrentCell
{
    /// <summary>Index of c_(t-1) in <see cref="WindowTensors"/>: S x B x H, the cell state each step started from.</summary>
    public const int CPrev = 0;

    /// <summary>Index of tanh(c_t): S x B x H.</summary>
    public const int TanhC = 1;

    private static readonly CellTensor[] s_tensors =
    [
        new("c_prev", 1, CellTensorScope.Slot),
        new("tanh_c", 1, CellTensorScope.Slot),
    ];

    /// <inheritdoc/>
    public override CellType Type => CellType.Lstm;

    /// <inheritdoc/>
    public override int GateCount => 4;

    /// <inheritdoc/>
    public override bool FoldsRecurrentBias => true;

    /// <inheritdoc/>
    public override bool HasCellState => true;

    /// <inheritdoc/>
    public override int ForgetGate => 1;

    /// <inheritdoc/>
    public override bool HasBatchOneStep => true;

    /// <inheritdoc/>
    public override IReadOnlyList<CellTensor> WindowTensors => s_tensors;

    /// <inheritdoc/>
    public override RecurrentCell<T> Create<T>(T[] parameters, CellLayout layout, Activation activation, IsaPath path) =>
        new LstmCell<T>(this, parameters, layout, path);
}

/// <summary>
/// The numerics of one LSTM layer (see <see cref="LstmCell"/>). Gate rows are B x 4H (i, f, g, o blocks of H): the
/// pre-activations before the gate math, the activations after it (what backward reads).
/// </summary>
internal sealed unsafe class LstmCell<T> : RecurrentCell<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public LstmCell(LstmCell definition, T[] parameters, CellLayout layout, IsaPath path)
        : base(definition, parameters, layout, path)
    {
    }

    /// <summary>a (+)= h_(t-1) · W_hhᵀ, then the gate math; tanh(c_t) goes to <paramref name="scratch"/> (inference discards it).</summary>
    public override void Step(int batch, Span<T> gates, ReadOnlySpan<T> hIn, Span<T> h, Span<T> c, Span<T> aux, Span<T> scratch)
    {
        Gemm.Multiply(Transpose.None, batch, T.One, hIn, Hidden, RecurrentWeightT, T.One, gates, GateWidth);
        // h_(t-1) has been consumed by the product above, so h_t and c_t overwrite the state in place (the gate pass
        // reads column j of c_(t-1) before it writes column j of c_t).
        fixed (T* pg = gates, pc = c, ptc = scratch, ph = h)
            GateKernels.LstmForward(Path, batch, Hidden, pg, pc, pc, ptc, ph);
    }

    /// <summary>Slot q: c_prev(q) = c_(t-1); a = gates(q) + HPrev(q) · W_hhᵀ; the gate math leaves i, f, g, o in the
    /// gates, tanh(c_t) in tanh_c(q), h_t in H(q) and c_t in <paramref name="c"/>.</summary>
    public override void ForwardStep(CellWindowBuffers<T> w, int slot, ReadOnlySpan<T> h, Span<T> c, int threads)
    {
        int b = w.Batch, bh = b * Hidden;
        T* gq = w.At(w.Gates, slot), cp = w.At(w.Tensor(LstmCell.CPrev), slot);
        c.CopyTo(new Span<T>(cp, bh));
        Gemm.Multiply(Transpose.None, b, T.One, new ReadOnlySpan<T>(w.At(w.HPrev, slot), bh), Hidden, RecurrentWeightT, T.One, new Span<T>(gq, b * GateWidth), GateWidth, threads);
        fixed (T* cs = c) GateKernels.LstmForward(Path, b, Hidden, gq, cp, cs, w.At(w.Tensor(LstmCell.TanhC), slot), w.At(w.H, slot));
    }

    /// <summary>
    /// h_t = o ⊙ tanh(c_t), c_t = f ⊙ c_(t-1) + i ⊙ g  =>  dc = dh ⊙ o ⊙ (1 - tanh² c_t) + dc_(t+1 → t);
    /// da_o = dh ⊙ tanh c_t ⊙ o(1 - o), da_i = dc ⊙ g ⊙ i(1 - i), da_g = dc ⊙ i ⊙ (1 - g²), da_f = dc ⊙ c_(t-1) ⊙ f(1 - f);
    /// dc_(t-1) = dc ⊙ f (into <c>w.CellStateGradient</c>); dh_(t-1) = (da · W_hh) ⊙ m.
    /// </summary>
    public override void BackwardStep(CellWindowBuffers<T> w, int slot, ReadOnlySpan<T> recurrentMask, int threads)
    {
        int b = w.Batch;
        T* dgq = w.At(w.GateGradients, slot);
        GateKernels.LstmBackward(Path, b, Hidden, w.At(w.Gates, slot), w.At(w.Tensor(LstmCell.CPrev), slot), w.At(w.Tensor(LstmCell.TanhC), slot),
            w.DhTotal.Ptr, w.CellStateGradient.Ptr, dgq);
        Gemm.Multiply(Transpose.None, b, T.One, new ReadOnlySpan<T>(dgq, b * GateWidth), GateWidth, RecurrentWeight, T.Zero, w.DhRecurrent.Span, Hidden, threads);
        if (!recurrentMask.IsEmpty) VectorMath.Multiply<T>(w.DhRecurrent.Span, recurrentMask, w.DhRecurrent.Span);
    }

    /// <summary>
    /// Per block of NR hidden units: the block's 4·NR pre-activations over [x; h_(t-1)] (input part added to the bias
    /// row, then the recurrent part: the blocked GEMM's order), then the same gate math as the batched path on those
    /// columns, c and h written in place. Bitwise equal to row 0 of the batched step.
    /// </summary>
    public override void StepBatchOne(T* x, T* hPrev, T* c, T* h)
    {
        FusedLayerWeights<T> w = BatchOneWeights;
        int nr = w.Nr;
        T* pre = stackalloc T[FusedLayerWeights<T>.MaxBlock];
        T* compact = stackalloc T[FusedLayerWeights<T>.MaxBlock];
        T* discard = stackalloc T[FusedLayerWeights<T>.MaxBlock]; // tanh(c_t), which only training keeps
        for (int b = 0; b < w.Blocks; b++)
        {
            w.BlockPreActivations(b, x, hPrev, pre, null);
            int j0 = b * nr, valid = Math.Min(nr, Hidden - j0);
            T* gates = pre;
            if (valid < nr) { FusedLayerWeights<T>.Compact(pre, compact, 4, nr, valid); gates = compact; }
            GateKernels.LstmForward(Path, 1, valid, gates, c + j0, c + j0, discard, h + j0);
        }
    }
}
