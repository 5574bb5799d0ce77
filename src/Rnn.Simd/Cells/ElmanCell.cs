using System.Numerics;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Cells;

/// <summary>
/// The Elman cell (chapter Fig. 2.1, PyTorch's nn.RNN): h_t = act(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh), one gate
/// block (G = 1), both biases folded into the input projection, act one of <see cref="Activation"/>. No batch-1 fused
/// step: a single stream runs the batched step with B = 1 (one GEMV and one activation pass already).
/// </summary>
internal sealed class ElmanCell : RecurrentCell
{
    /// <inheritdoc/>
    public override CellType Type => CellType.Elman;

    /// <inheritdoc/>
    public override int GateCount => 1;

    /// <inheritdoc/>
    public override bool FoldsRecurrentBias => true;

    /// <inheritdoc/>
    public override bool UsesActivation => true;

    /// <inheritdoc/>
    public override RecurrentCell<T> Create<T>(T[] parameters, CellLayout layout, Activation activation, IsaPath path) =>
        new ElmanCell<T>(this, parameters, layout, activation, path);
}

/// <summary>The numerics of one Elman layer (see <see cref="ElmanCell"/>). Gate arrays are B x H pre-activations.</summary>
internal sealed unsafe class ElmanCell<T> : RecurrentCell<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly Activation _activation;

    public ElmanCell(ElmanCell definition, T[] parameters, CellLayout layout, Activation activation, IsaPath path)
        : base(definition, parameters, layout, path)
    {
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        _activation = activation;
    }

    /// <summary>a (+)= h_(t-1) · W_hhᵀ on top of the input projection, then h_t = act(a) over h.</summary>
    public override void Step(int batch, Span<T> gates, ReadOnlySpan<T> hIn, Span<T> h, Span<T> c, Span<T> aux, Span<T> scratch)
    {
        Gemm.Multiply(Transpose.None, batch, T.One, hIn, Hidden, RecurrentWeightT, T.One, gates, GateWidth);
        Activate(gates, h);
    }

    /// <summary>Slot q: a = gates(q) + HPrev(q) · W_hhᵀ (pre-activations stay in the gates), h_t = act(a) into H(q).</summary>
    public override void ForwardStep(CellWindowBuffers<T> w, int slot, ReadOnlySpan<T> h, Span<T> c, int threads)
    {
        int b = w.Batch, bh = b * Hidden;
        T* gq = w.At(w.Gates, slot);
        Gemm.Multiply(Transpose.None, b, T.One, new ReadOnlySpan<T>(w.At(w.HPrev, slot), bh), Hidden, RecurrentWeightT, T.One, new Span<T>(gq, b * GateWidth), GateWidth, threads);
        Activate(new ReadOnlySpan<T>(gq, b * GateWidth), new Span<T>(w.At(w.H, slot), bh));
    }

    /// <summary>
    /// h_t = act(a)  =>  da = dh ⊙ act'(a), with act' written in terms of h_t (1 - h² for tanh, h(1 - h) for the
    /// sigmoid, [h &gt; 0] for ReLU); a = … + h̃_(t-1) W_hhᵀ, h̃ = h ⊙ m  =>  dh_(t-1) = (da · W_hh) ⊙ m.
    /// </summary>
    public override void BackwardStep(CellWindowBuffers<T> w, int slot, ReadOnlySpan<T> recurrentMask, int threads)
    {
        int b = w.Batch, bh = b * Hidden;
        T* dgq = w.At(w.GateGradients, slot);
        ActivateBackward(new ReadOnlySpan<T>(w.At(w.H, slot), bh), w.DhTotal.Span, new Span<T>(dgq, bh));
        Gemm.Multiply(Transpose.None, b, T.One, new ReadOnlySpan<T>(dgq, b * GateWidth), GateWidth, RecurrentWeight, T.Zero, w.DhRecurrent.Span, Hidden, threads);
        if (!recurrentMask.IsEmpty) VectorMath.Multiply<T>(w.DhRecurrent.Span, recurrentMask, w.DhRecurrent.Span);
    }

    private void Activate(ReadOnlySpan<T> pre, Span<T> h)
    {
        switch (_activation)
        {
            case Activation.Relu: VectorMath.Relu(pre, h, Path); break;
            case Activation.Sigmoid: VectorMath.Sigmoid(pre, h, Path); break;
            default: VectorMath.Tanh(pre, h, Path); break;
        }
    }

    private void ActivateBackward(ReadOnlySpan<T> h, ReadOnlySpan<T> dh, Span<T> dPre)
    {
        switch (_activation)
        {
            case Activation.Relu: VectorMath.ReluBackward(h, dh, dPre, Path); break;
            case Activation.Sigmoid: VectorMath.SigmoidBackward(h, dh, dPre, Path); break;
            default: VectorMath.TanhBackward(h, dh, dPre, Path); break;
        }
    }
}
