using System.Numerics;
using System.Numerics.Tensors;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Recurrent;

namespace Rnn.Simd.Cells;

/// <summary>
/// The GRU cell in PyTorch's formulation and gate order (r, z, n; G = 3):
/// r = σ(W_ir x + b_ir + W_hr h_(t-1) + b_hr), z = σ(W_iz x + b_iz + W_hz h_(t-1) + b_hz),
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h_(t-1) + b_hn)), h_t = (1 - z) ⊙ n + z ⊙ h_(t-1).
/// Because r multiplies the whole hidden part of n, b_hh is not folded into the input projection (which starts from
/// b_ih alone) and the hidden-side pre-activations W_hh h_(t-1) are kept apart from the input side. With recurrent
/// dropout h̃ = h ⊙ m enters W_hh while z ⊙ h_(t-1) takes the undropped state.
/// </summary>
internal sealed class GruCell : RecurrentCell
{
    /// <summary>Index of W_hh h̃_(t-1) (B x 3H, no bias) of the step being run: per-stream forward scratch.</summary>
    public const int HiddenGates = 0;

    /// <summary>Index of W_hn h̃_(t-1) + b_hn: S x B x H, the factor r multiplies, read by the backward of r.</summary>
    public const int HiddenNew = 1;

    /// <summary>Index of the undropped h_(t-1): S x B x H, only under recurrent dropout (else HPrev holds it).</summary>
    public const int HPrevUndropped = 2;

    /// <summary>Index of dL/d(hidden-side pre-activations): S x B x 3H (dr, dz, r ⊙ dn), read by the W_hh and b_hh gradient GEMMs.</summary>
    public const int HiddenGateGradients = 3;

    /// <summary>Index of (dG_h · W_hh) of the step being back-propagated: B x H, only under recurrent dropout.</summary>
    public const int DhThroughWeights = 4;

    private static readonly CellTensor[] s_tensors =
    [
        new("w_hh_h", 3, CellTensorScope.Stream),
        new("w_hn_h_plus_b_hn", 1, CellTensorScope.Slot),
        new("h_prev_undropped", 1, CellTensorScope.Slot, RecurrentDropoutOnly: true),
        new("d_hidden_gates", 3, CellTensorScope.SlotGradient),
        new("dh_through_w_hh", 1, CellTensorScope.Stream, RecurrentDropoutOnly: true),
    ];

    /// <inheritdoc/>
    public override CellType Type => CellType.Gru;

    /// <inheritdoc/>
    public override int GateCount => 3;

    /// <inheritdoc/>
    public override bool FoldsRecurrentBias => false;

    /// <inheritdoc/>
    public override bool HasBatchOneStep => true;

    /// <inheritdoc/>
    public override int StepAuxiliaryLength(int hidden) => 3 * hidden;

    /// <inheritdoc/>
    public override IReadOnlyList<CellTensor> WindowTensors => s_tensors;

    /// <inheritdoc/>
    public override RecurrentCell<T> Create<T>(T[] parameters, CellLayout layout, Activation activation, IsaPath path) =>
        new GruCell<T>(this, parameters, layout, path);
}

/// <summary>
/// The numerics of one GRU layer (see <see cref="GruCell"/>). Gate rows are B x 3H (r, z, n blocks of H): the
/// input-side pre-activations W_ih x + b_ih before the gate math, the activations r, z, n after it.
/// </summary>
internal sealed unsafe class GruCell<T> : RecurrentCell<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public GruCell(GruCell definition, T[] parameters, CellLayout layout, IsaPath path)
        : base(definition, parameters, layout, path)
    {
    }

    /// <summary>aux = h_(t-1) · W_hhᵀ (overwritten), then the gate math; h_t overwrites h in place (column j of h_(t-1)
    /// is read before column j of h_t is written); W_hn h + b_hn goes to <paramref name="scratch"/>.</summary>
    public override void Step(int batch, Span<T> gates, ReadOnlySpan<T> hIn, Span<T> h, Span<T> c, Span<T> aux, Span<T> scratch)
    {
        Gemm.Multiply(Transpose.None, batch, T.One, hIn, Hidden, RecurrentWeightT, T.Zero, aux, GateWidth);
        fixed (T* pgx = gates, pgh = aux, pb = RecurrentBias, ph = h, pn = scratch)
            GateKernels.GruForward(Path, batch, Hidden, pgx, pgh, pb, ph, pgx, pn, ph);
    }

    /// <summary>Slot q: W_hh h̃_(t-1) into the per-stream scratch, then the gate math: r, z, n over the gates,
    /// W_hn h̃ + b_hn into its slot tensor, h_t into H(q). Under recurrent dropout the undropped h_(t-1) is kept
    /// in its own slot tensor for the z ⊙ h_(t-1) term and its backward.</summary>
    public override void ForwardStep(CellWindowBuffers<T> w, int slot, ReadOnlySpan<T> h, Span<T> c, int threads)
    {
        int b = w.Batch, bh = b * Hidden;
        T* gq = w.At(w.Gates, slot), hp = w.At(w.HPrev, slot), hpTrue = hp;
        if (w.RecurrentDropout)
        {
            hpTrue = w.At(w.Tensor(GruCell.HPrevUndropped), slot);
            h.CopyTo(new Span<T>(hpTrue, bh));
        }
        T* ghq = w.Tensor(GruCell.HiddenGates).Ptr;
        Gemm.Multiply(Transpose.None, b, T.One, new ReadOnlySpan<T>(hp, bh), Hidden, RecurrentWeightT, T.Zero, new Span<T>(ghq, b * GateWidth), GateWidth, threads);
        fixed (T* pb = RecurrentBias)
            GateKernels.GruForward(Path, b, Hidden, gq, ghq, pb, hpTrue, gq, w.At(w.Tensor(GruCell.HiddenNew), slot), w.At(w.H, slot));
    }

    /// <summary>
    /// h_t = (1 - z) ⊙ n + z ⊙ h_(t-1), n = tanh(a_n + r ⊙ ĝ_n) with ĝ_n = W_hn h̃ + b_hn  =>
    /// da_n = dh ⊙ (1 - z) ⊙ (1 - n²), da_z = dh ⊙ (h_(t-1) - n) ⊙ z(1 - z), da_r = da_n ⊙ ĝ_n ⊙ r(1 - r);
    /// input side (dr, dz, dn) into the gate gradients, hidden side (dr, dz, r ⊙ dn) into its slot tensor;
    /// dh_(t-1) = dh ⊙ z + (dG_h · W_hh) ⊙ m.
    /// </summary>
    public override void BackwardStep(CellWindowBuffers<T> w, int slot, ReadOnlySpan<T> recurrentMask, int threads)
    {
        int b = w.Batch, bh = b * Hidden;
        T* dgq = w.At(w.GateGradients, slot), dghq = w.At(w.Tensor(GruCell.HiddenGateGradients), slot);
        T* hpTrue = w.RecurrentDropout ? w.At(w.Tensor(GruCell.HPrevUndropped), slot) : w.At(w.HPrev, slot);
        GateKernels.GruBackward(Path, b, Hidden, w.At(w.Gates, slot), w.At(w.Tensor(GruCell.HiddenNew), slot), hpTrue, w.DhTotal.Ptr, dgq, dghq, w.DhRecurrent.Ptr);
        ReadOnlySpan<T> dGh = new(dghq, b * GateWidth);
        if (!recurrentMask.IsEmpty)
        {
            Span<T> viaWeights = w.Tensor(GruCell.DhThroughWeights).Span;
            Gemm.Multiply(Transpose.None, b, T.One, dGh, GateWidth, RecurrentWeight, T.Zero, viaWeights, Hidden, threads);
            TensorPrimitives.MultiplyAdd<T>(viaWeights, recurrentMask.Slice(0, bh), w.DhRecurrent.Span, w.DhRecurrent.Span);
        }
        else
        {
            Gemm.Multiply(Transpose.None, b, T.One, dGh, GateWidth, RecurrentWeight, T.One, w.DhRecurrent.Span, Hidden, threads);
        }
    }

    /// <summary>The hidden-side gradients (dr, dz, r ⊙ dn): W_hh h̃ enters r and z as a sum but n through r ⊙ (W_hn h̃ + b_hn).</summary>
    public override ReadOnlySpan<T> RecurrentGateGradients(CellWindowBuffers<T> w) => w.Tensor(GruCell.HiddenGateGradients).Span;

    /// <summary>
    /// Per block of NR hidden units: the input-side 3·NR pre-activations (bias row b_ih, then x) and, apart, the
    /// hidden-side ones over h_(t-1), each in the blocked GEMM's order; then the batched path's gate math on those
    /// columns with the block's b_hh. Bitwise equal to row 0 of the batched step.
    /// </summary>
    public override void StepBatchOne(T* x, T* hPrev, T* c, T* h)
    {
        FusedLayerWeights<T> w = BatchOneWeights;
        int nr = w.Nr;
        T* pre = stackalloc T[FusedLayerWeights<T>.MaxBlock];
        T* preH = stackalloc T[FusedLayerWeights<T>.MaxBlock];
        T* compact = stackalloc T[3 * FusedLayerWeights<T>.MaxBlock];
        T* discard = stackalloc T[FusedLayerWeights<T>.MaxBlock]; // W_hn h + b_hn, which only training keeps
        for (int b = 0; b < w.Blocks; b++)
        {
            w.BlockPreActivations(b, x, hPrev, pre, preH);
            int j0 = b * nr, valid = Math.Min(nr, Hidden - j0);
            T* gx = pre, gh = preH, bhh = w.BiasH + b * 3 * nr;
            if (valid < nr)
            {
                FusedLayerWeights<T>.Compact(pre, compact, 3, nr, valid);
                FusedLayerWeights<T>.Compact(preH, compact + 3 * valid, 3, nr, valid);
                FusedLayerWeights<T>.Compact(bhh, compact + 6 * valid, 3, nr, valid);
                gx = compact; gh = compact + 3 * valid; bhh = compact + 6 * valid;
            }
            GateKernels.GruForward(Path, 1, valid, gx, gh, bhh, hPrev + j0, gx, discard, h + j0);
        }
    }
}
