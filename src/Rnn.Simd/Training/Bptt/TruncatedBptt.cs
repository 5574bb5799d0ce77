using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Recurrent;
using Rnn.Simd.Network;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Training.Bptt;

/// <summary>
/// Truncated back-propagation through time, BPTT(τb, τf) (chapter section 2.1), over a ring buffer of τb slots, for B
/// parallel streams. Each <see cref="Window"/> call runs τf new steps forward (their caches go into the ring),
/// injects the mean-squared error of those τf outputs (Eq. 2.1 without the regulariser), propagates the gradient τb
/// steps back through the ring, and accumulates the parameter gradients into <see cref="RecurrentNetwork{T}.Gradients"/>.
/// The hidden state carries across windows; the gradient does not reach past τb steps.
/// </summary>
/// <remarks>
/// <para>
/// Work per window: the input projection of the τf new steps is one GEMM per layer; only h_(t-1) · W_hhᵀ is per step
/// (with W_hh packed once per parameter change); backward multiplies the stored gate gradients by W_hh per step, and
/// the weight gradients of the window are one GEMM each over all τb stored gate gradients. Bias gradients are
/// ones-vector products.
/// </para>
/// <para>
/// Memory is sized at construction; after the first window nothing allocates. The caller zeroes the gradients
/// (<see cref="RecurrentNetwork{T}.ZeroGradients"/>) and applies the update; the caller must call
/// <see cref="RecurrentNetwork{T}.MarkParametersChanged"/> after changing the parameters.
/// </para>
/// </remarks>
public sealed unsafe class TruncatedBptt<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly RecurrentNetwork<T> _net;
    private readonly NetworkArchitecture _arch;
    private readonly int _b, _r, _tf, _threads;
    private readonly LayerRing[] _layers;
    private readonly Pinned _y, _dy, _wd, _ones, _dInputs, _x0;
    private readonly Pinned[] _dInitH, _dInitC;
    private readonly long[] _slotTime;
    private long _steps;
    private int _start;
    // Dropout (chapter section 2.2, item 4): per-slot masks so that backward sees the masks its step used.
    private readonly DropoutOptions _dropout;
    private readonly bool _dIn, _dRec, _dOut;
    private readonly Rng? _maskRng;
    private readonly Pinned[] _seqMaskX, _seqMaskH;
    private readonly Pinned _seqMaskO, _maskO, _hTopMasked;

    /// <summary>Creates the engine for a network, B streams and a schedule.</summary>
    /// <param name="network">The network whose gradients are accumulated.</param>
    /// <param name="batchSize">B, parallel streams per window.</param>
    /// <param name="schedule">τb and τf.</param>
    /// <param name="maxThreads">Threads of each GEMM (1 = caller only; results are bitwise the same for any value).</param>
    /// <param name="dropout">Dropout during training (null: none). Masks are drawn at every <see cref="Reset()"/>
    /// (variational) or every step (naive) from the options' seed.</param>
    public TruncatedBptt(RecurrentNetwork<T> network, int batchSize, BpttSchedule schedule, int maxThreads = 1, DropoutOptions? dropout = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        schedule.Validate();
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "Batch size must be at least 1.");
        if (maxThreads < 0) throw new ArgumentOutOfRangeException(nameof(maxThreads), maxThreads, "maxThreads must be 0 (automatic) or positive.");
        _net = network;
        _arch = network.Architecture;
        _b = batchSize;
        _r = schedule.BackwardSteps;
        _tf = schedule.ForwardSteps;
        _threads = maxThreads;
        Schedule = schedule;
        State = network.CreateState(batchSize);
        int g = _arch.GateCount, rb = _r * _b;
        _layers = new LayerRing[_arch.NumLayers];
        for (int l = 0; l < _layers.Length; l++)
        {
            _layers[l] = new LayerRing(_arch.Cell, rb, _b, _arch.HiddenSizes[l], g)
            {
                RecurrentBiasOffset = network.Layout.Get(l, ParameterKind.RecurrentBias).Offset,
            };
        }
        _x0 = new Pinned(rb * _arch.InputSize);
        _dInputs = new Pinned(rb * _arch.InputSize);
        _y = new Pinned(_tf * _b * _arch.OutputSize);
        _dy = new Pinned(_tf * _b * _arch.OutputSize);
        _wd = new Pinned(_tf * _b * _arch.OutputSize);
        _ones = new Pinned(rb);
        _ones.Span.Fill(T.One);
        _dInitH = new Pinned[_layers.Length];
        _dInitC = new Pinned[_layers.Length];
        for (int l = 0; l < _layers.Length; l++)
        {
            _dInitH[l] = new Pinned(_b * _arch.HiddenSizes[l]);
            _dInitC[l] = new Pinned(_arch.Cell == CellType.Lstm ? _b * _arch.HiddenSizes[l] : 0);
        }
        _slotTime = new long[_r];

        _dropout = dropout ?? DropoutOptions.None;
        _dropout.Validate();
        _dIn = _dropout.Input > 0;
        _dRec = _dropout.Recurrent > 0;
        _dOut = _dropout.Output > 0;
        _maskRng = _dropout.IsActive ? new Rng(_dropout.Seed) : null;
        _seqMaskX = new Pinned[_layers.Length];
        _seqMaskH = new Pinned[_layers.Length];
        for (int l = 0; l < _layers.Length; l++)
        {
            int il = _arch.LayerInputSize(l), h = _arch.HiddenSizes[l];
            _seqMaskX[l] = new Pinned(_dIn ? _b * il : 0);
            _seqMaskH[l] = new Pinned(_dRec ? _b * h : 0);
            LayerRing lr = _layers[l];
            lr.MaskX = new Pinned(_dIn ? rb * il : 0);
            lr.XMasked = new Pinned(_dIn && l > 0 ? rb * il : 0);
            lr.MaskH = new Pinned(_dRec ? rb * h : 0);
            lr.HPrevTrue = new Pinned(_dRec && _arch.Cell == CellType.Gru ? rb * h : 0);
            lr.DhTmp = new Pinned(_dRec ? _b * h : 0);
        }
        _seqMaskO = new Pinned(_dOut ? _b * _arch.TopHiddenSize : 0);
        _maskO = new Pinned(_dOut ? rb * _arch.TopHiddenSize : 0);
        _hTopMasked = new Pinned(_dOut ? rb * _arch.TopHiddenSize : 0);
        DrawSequenceMasks();
    }

    /// <summary>The generator of the dropout masks (null without dropout); training checkpoints save and restore its state.</summary>
    internal Rng? MaskRng => _maskRng;

    /// <summary>The dropout this engine applies.</summary>
    public DropoutOptions Dropout => _dropout;

    /// <summary>Fills the per-sequence (variational) masks: each unit kept with probability 1 - p, scaled by 1/(1 - p).</summary>
    private void DrawSequenceMasks()
    {
        if (_maskRng is null || _dropout.Variant != DropoutVariant.Variational) return;
        for (int l = 0; l < _layers.Length; l++)
        {
            DrawMask(_seqMaskX[l].Span, _dropout.Input);
            DrawMask(_seqMaskH[l].Span, _dropout.Recurrent);
        }
        DrawMask(_seqMaskO.Span, _dropout.Output);
    }

    private void DrawMask(Span<T> mask, double p)
    {
        if (mask.IsEmpty) return;
        T keep = T.CreateTruncating(1.0 / (1.0 - p));
        for (int i = 0; i < mask.Length; i++) mask[i] = _maskRng!.NextDouble() < p ? T.Zero : keep;
    }

    /// <summary>The mask of one slot: the sequence's mask (variational) or a fresh one (naive).</summary>
    private Span<T> SlotMask(Pinned perSlot, Pinned sequence, int slot, int width, double p)
    {
        Span<T> m = perSlot.Span.Slice(slot * _b * width, _b * width);
        if (_dropout.Variant == DropoutVariant.Variational) sequence.Span.CopyTo(m);
        else DrawMask(m, p);
        return m;
    }

    /// <summary>The per-sequence masks of layer l (input, recurrent) and of the readout, for gradient checks with a fixed mask.</summary>
    internal (ReadOnlyMemory<T> Input, ReadOnlyMemory<T> Recurrent) SequenceMasks(int layer) =>
        (_seqMaskX[layer].Span.ToArray(), _seqMaskH[layer].Span.ToArray());

    internal ReadOnlyMemory<T> SequenceOutputMask => _seqMaskO.Span.ToArray();

    /// <summary>τb and τf.</summary>
    public BpttSchedule Schedule { get; }

    /// <summary>B, the number of parallel streams.</summary>
    public int BatchSize => _b;

    /// <summary>The carried recurrent state (h, c of every layer) after the last window; copy it into an inference state to continue a stream.</summary>
    public NetworkState<T> State { get; }

    /// <summary>Steps run since the last reset.</summary>
    public long StepsSinceReset => _steps;

    /// <summary>When true, each window also computes its contribution to dL/dx of every stored step (read by gradient checks).</summary>
    public bool ComputeInputGradients { get; set; }

    /// <summary>Starts new streams from a zero state with an empty ring.</summary>
    public void Reset() => Reset(null);

    /// <summary>Starts new streams from the given state (copied), with an empty ring; null means zero.</summary>
    public void Reset(NetworkState<T>? initialState)
    {
        if (initialState is null) State.Reset(); else State.CopyFrom(initialState);
        _steps = 0;
        foreach (LayerRing lr in _layers) lr.Clear();
        for (int l = 0; l < _layers.Length; l++) { _dInitH[l].Span.Clear(); _dInitC[l].Span.Clear(); }
        _x0.Span.Clear();
        _dInputs.Span.Clear();
        DrawSequenceMasks();
    }

    /// <summary>Sets the slot the next step is stored in (tests use it to show that wrap-around changes nothing).</summary>
    internal void SetRingOffset(int slot)
    {
        if ((uint)slot >= (uint)_r) throw new ArgumentOutOfRangeException(nameof(slot));
        _start = slot;
    }

    /// <summary>
    /// One window: τf new steps forward from the carried state, MSE over their outputs, τb steps back.
    /// Accumulates into the network's gradients and returns the window's loss, mean((y - target)²) over τf·B·O values.
    /// </summary>
    /// <param name="inputs">τf x B x I, time-major.</param>
    /// <param name="targets">τf x B x O, time-major.</param>
    /// <param name="outputs">Optional: receives the τf x B x O predictions.</param>
    /// <param name="targetWeights">Optional τf x B x O weights w ≥ 0 of the targets: the loss becomes
    /// Σ w·(y - target)² / (τf·B·O), so a weight of 0 masks a target out (e.g. an anomalous stretch of the series)
    /// and 1 everywhere equals the plain MSE. The normaliser stays τf·B·O, so masked targets do not inflate the others.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape, or a weight is negative or not finite.</exception>
    public T Window(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, Span<T> outputs = default, ReadOnlySpan<T> targetWeights = default)
    {
        int inSize = _arch.InputSize, o = _arch.OutputSize, g = _arch.GateCount;
        if (inputs.Length < _tf * _b * inSize) ThrowHelper.ThrowArgument(nameof(inputs), $"Inputs have {inputs.Length} elements; τf x B x I = {_tf} x {_b} x {inSize} = {_tf * _b * inSize} needed.");
        if (targets.Length < _tf * _b * o) ThrowHelper.ThrowArgument(nameof(targets), $"Targets have {targets.Length} elements; τf x B x O = {_tf * _b * o} needed.");
        if (!outputs.IsEmpty && outputs.Length < _tf * _b * o) ThrowHelper.ThrowDestinationTooShort(nameof(outputs), _tf * _b * o, outputs.Length);
        if (!targetWeights.IsEmpty)
        {
            if (targetWeights.Length < _tf * _b * o) ThrowHelper.ThrowArgument(nameof(targetWeights), $"Target weights have {targetWeights.Length} elements; τf x B x O = {_tf * _b * o} needed.");
            for (int i = 0; i < _tf * _b * o; i++)
            {
                if (!(targetWeights[i] >= T.Zero) || !T.IsFinite(targetWeights[i])) ThrowHelper.ThrowArgument(nameof(targetWeights), $"Target weight {i} is {targetWeights[i]}; weights must be finite and non-negative.");
            }
        }
        _net.EnsurePacked();
        T[] p = _net.ParameterArray, grad = _net.GradientArray;
        IsaPath path = _net.Path;
        int first = (int)((_start + _steps) % _r);
        int seg1 = Math.Min(_tf, _r - first);

        // ---- forward: layer-major over the τf new steps ----
        for (int s = 0; s < _tf; s++)
        {
            int q = (first + s) % _r;
            _slotTime[q] = _steps + s;
            ReadOnlySpan<T> xs = inputs.Slice(s * _b * inSize, _b * inSize);
            Span<T> x0 = _x0.Span.Slice(q * _b * inSize, _b * inSize);
            if (_dIn) VectorMath.Multiply(xs, SlotMask(_layers[0].MaskX, _seqMaskX[0], q, inSize, _dropout.Input), x0);
            else xs.CopyTo(x0);
        }
        for (int l = 0; l < _layers.Length; l++)
        {
            LayerRing lr = _layers[l];
            int h = lr.H, gh = g * h, il = _arch.LayerInputSize(l);
            T* x = LayerInput(l);
            if (_dIn && l > 0)
            {
                // Input dropout of an upper layer: x̃ = h_below ⊙ m_x, for the new slots.
                for (int s = 0; s < _tf; s++)
                {
                    int q = (first + s) % _r, n = _b * il;
                    VectorMath.Multiply(new ReadOnlySpan<T>(_layers[l - 1].Hs.Ptr + q * n, n), SlotMask(lr.MaskX, _seqMaskX[l], q, il, _dropout.Input), new Span<T>(lr.XMasked.Ptr + q * n, n));
                }
            }
            RecurrentNetwork<T>.LayerPacks packs = _net.Packs(l);
            // Input projection of the window, one GEMM per contiguous run of slots: G = bias + X · W_ihᵀ.
            for (int part = 0; part < 2; part++)
            {
                int q0 = part == 0 ? first : 0, len = part == 0 ? seg1 : _tf - seg1;
                if (len == 0) continue;
                Span<T> gs = lr.G.Span.Slice(q0 * _b * gh, len * _b * gh);
                for (int row = 0; row < len * _b; row++) packs.InputBias.AsSpan().CopyTo(gs.Slice(row * gh, gh));
                // W_ihᵀ is packed once per parameter change (the network keeps it packed for inference too).
                Gemm.Multiply(Transpose.None, len * _b, T.One, new ReadOnlySpan<T>(x + q0 * _b * il, len * _b * il), il, packs.InputWeightT, T.One, gs, gh, _threads);
            }
            Span<T> hState = State.H[l], cState = State.C[l];
            for (int s = 0; s < _tf; s++)
            {
                int q = (first + s) % _r;
                T* gq = lr.G.Ptr + q * _b * gh, hq = lr.Hs.Ptr + q * _b * h, hp = lr.HPrev.Ptr + q * _b * h;
                // HPrev holds what enters W_hh: h_(t-1), or h_(t-1) ⊙ m_h with recurrent dropout (the mask folded into
                // the copy). GRU's z ⊙ h_(t-1) term takes the undropped state, kept apart then.
                T* hpTrue = hp;
                if (_dRec)
                {
                    VectorMath.Multiply<T>(hState, SlotMask(lr.MaskH, _seqMaskH[l], q, h, _dropout.Recurrent), new Span<T>(hp, _b * h));
                    if (_arch.Cell == CellType.Gru)
                    {
                        hpTrue = lr.HPrevTrue.Ptr + q * _b * h;
                        hState.CopyTo(new Span<T>(hpTrue, _b * h));
                    }
                }
                else
                {
                    hState.CopyTo(new Span<T>(hp, _b * h));
                }
                switch (_arch.Cell)
                {
                    case CellType.Lstm:
                    {
                        T* cp = lr.CPrev.Ptr + q * _b * h;
                        cState.CopyTo(new Span<T>(cp, _b * h));
                        Gemm.Multiply(Transpose.None, _b, T.One, new ReadOnlySpan<T>(hp, _b * h), h, packs.RecurrentWeightT, T.One, new Span<T>(gq, _b * gh), gh, _threads);
                        fixed (T* cs = cState) GateKernels.LstmForward(path, _b, h, gq, cp, cs, lr.TanhC.Ptr + q * _b * h, hq);
                        break;
                    }
                    case CellType.Gru:
                    {
                        T* ghq = lr.Gh.Ptr + q * _b * gh;
                        Gemm.Multiply(Transpose.None, _b, T.One, new ReadOnlySpan<T>(hp, _b * h), h, packs.RecurrentWeightT, T.Zero, new Span<T>(ghq, _b * gh), gh, _threads);
                        fixed (T* pb = &p[lr.RecurrentBiasOffset]) GateKernels.GruForward(path, _b, h, gq, ghq, pb, hpTrue, gq, lr.Ghn.Ptr + q * _b * h, hq);
                        break;
                    }
                    default:
                        Gemm.Multiply(Transpose.None, _b, T.One, new ReadOnlySpan<T>(hp, _b * h), h, packs.RecurrentWeightT, T.One, new Span<T>(gq, _b * gh), gh, _threads);
                        _net.ApplyActivation(new ReadOnlySpan<T>(gq, _b * gh), new Span<T>(hq, _b * h));
                        break;
                }
                new ReadOnlySpan<T>(hq, _b * h).CopyTo(hState);
            }
        }

        // ---- readout and loss over the τf new steps ----
        int top = _arch.TopHiddenSize;
        LayerRing topRing = _layers[^1];
        T* readIn = topRing.Hs.Ptr;
        if (_dOut)
        {
            // Output dropout: the readout sees h_top ⊙ m_o.
            readIn = _hTopMasked.Ptr;
            for (int s = 0; s < _tf; s++)
            {
                int q = (first + s) % _r, n = _b * top;
                VectorMath.Multiply(new ReadOnlySpan<T>(topRing.Hs.Ptr + q * n, n), SlotMask(_maskO, _seqMaskO, q, top, _dropout.Output), new Span<T>(readIn + q * n, n));
            }
        }
        ParameterSlice rw = _net.Layout.Get(-1, ParameterKind.ReadoutWeight), rbias = _net.Layout.Get(-1, ParameterKind.ReadoutBias);
        for (int part = 0; part < 2; part++)
        {
            int q0 = part == 0 ? first : 0, len = part == 0 ? seg1 : _tf - seg1, s0 = part == 0 ? 0 : seg1;
            if (len == 0) continue;
            Span<T> ys = _y.Span.Slice(s0 * _b * o, len * _b * o);
            for (int row = 0; row < len * _b; row++) p.AsSpan(rbias.Offset, o).CopyTo(ys.Slice(row * o, o));
            Gemm.Multiply(Transpose.None, Transpose.Transposed, len * _b, o, top, T.One,
                new ReadOnlySpan<T>(readIn + q0 * _b * top, len * _b * top), top, p.AsSpan(rw.Offset, rw.Length), top, T.One, ys, o, _threads, path);
        }
        int count = _tf * _b * o;
        Span<T> y = _y.Span, dy = _dy.Span;
        ReadOnlySpan<T> tgt = targets.Slice(0, count);
        System.Numerics.Tensors.TensorPrimitives.Subtract(y, tgt, dy);
        T loss;
        if (targetWeights.IsEmpty)
        {
            loss = VectorMath.SumOfSquares<T>(dy) / T.CreateTruncating(count);
        }
        else
        {
            // L = Σ w d² / N with d = y - t: dL/dy = 2 w d / N.
            Span<T> wd = _wd.Span;
            VectorMath.Multiply(dy, targetWeights.Slice(0, count), wd);
            loss = VectorMath.Dot<T>(wd, dy) / T.CreateTruncating(count);
            wd.CopyTo(dy);
        }
        VectorMath.Scale(T.CreateTruncating(2.0 / count), dy, dy); // d mean((y - t)²) / dy = 2 (y - t) / N
        if (!outputs.IsEmpty) y.CopyTo(outputs);
        _steps += _tf;
        int valid = (int)Math.Min(_steps, _r);

        // ---- backward ----
        // Readout: dW_out += dYᵀ · H_top, db_out += 1ᵀ · dY, and dH_top = dY · W_out for the new steps (zero for the older ones).
        topRing.DAbove.Span.Clear();
        for (int part = 0; part < 2; part++)
        {
            int q0 = part == 0 ? first : 0, len = part == 0 ? seg1 : _tf - seg1, s0 = part == 0 ? 0 : seg1;
            if (len == 0) continue;
            ReadOnlySpan<T> dys = _dy.Span.Slice(s0 * _b * o, len * _b * o);
            ReadOnlySpan<T> hs = new(readIn + q0 * _b * top, len * _b * top);
            Gemm.Multiply(Transpose.Transposed, Transpose.None, o, top, len * _b, T.One, dys, o, hs, top, T.One, grad.AsSpan(rw.Offset, rw.Length), top, _threads, path);
            Gemm.Multiply(Transpose.None, Transpose.None, 1, o, len * _b, T.One, _ones.Span.Slice(0, len * _b), len * _b, dys, o, T.One, grad.AsSpan(rbias.Offset, o), o, 1, path);
            Span<T> dTop = topRing.DAbove.Span.Slice(q0 * _b * top, len * _b * top);
            Gemm.Multiply(Transpose.None, Transpose.None, len * _b, top, o, T.One, dys, o, p.AsSpan(rw.Offset, rw.Length), top, T.Zero, dTop, top, _threads, path);
            if (_dOut) VectorMath.Multiply<T>(dTop, _maskO.Span.Slice(q0 * _b * top, len * _b * top), dTop);
        }
        int newest = (first + _tf - 1) % _r;
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            LayerRing lr = _layers[l];
            int h = lr.H, gh = g * h, il = _arch.LayerInputSize(l), bh = _b * h;
            RecurrentNetwork<T>.LayerPacks packs = _net.Packs(l);
            lr.DhRec.Span.Clear();
            lr.Dc.Span.Clear();
            if (valid < _r) { lr.DG.Span.Clear(); lr.DGh.Span.Clear(); }
            for (int k = 0; k < valid; k++)
            {
                int q = (newest - k + _r) % _r;
                T* dgq = lr.DG.Ptr + q * _b * gh;
                Span<T> dh = lr.DhTot.Span;
                VectorMath.Add<T>(new ReadOnlySpan<T>(lr.DAbove.Ptr + q * bh, bh), lr.DhRec.Span, dh);
                switch (_arch.Cell)
                {
                    case CellType.Lstm:
                        GateKernels.LstmBackward(path, _b, h, lr.G.Ptr + q * _b * gh, lr.CPrev.Ptr + q * bh, lr.TanhC.Ptr + q * bh, lr.DhTot.Ptr, lr.Dc.Ptr, dgq);
                        Gemm.Multiply(Transpose.None, _b, T.One, new ReadOnlySpan<T>(dgq, _b * gh), gh, packs.RecurrentWeight, T.Zero, lr.DhRec.Span, h, _threads);
                        if (_dRec) VectorMath.Multiply<T>(lr.DhRec.Span, lr.MaskH.Span.Slice(q * bh, bh), lr.DhRec.Span);
                        break;
                    case CellType.Gru:
                    {
                        T* dghq = lr.DGh.Ptr + q * _b * gh;
                        T* hpTrue = _dRec ? lr.HPrevTrue.Ptr + q * bh : lr.HPrev.Ptr + q * bh;
                        GateKernels.GruBackward(path, _b, h, lr.G.Ptr + q * _b * gh, lr.Ghn.Ptr + q * bh, hpTrue, lr.DhTot.Ptr, dgq, dghq, lr.DhRec.Ptr);
                        if (_dRec)
                        {
                            // dh_(t-1) = dh ⊙ z + (dGh · W_hh) ⊙ m_h
                            Gemm.Multiply(Transpose.None, _b, T.One, new ReadOnlySpan<T>(dghq, _b * gh), gh, packs.RecurrentWeight, T.Zero, lr.DhTmp.Span, h, _threads);
                            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd<T>(lr.DhTmp.Span, lr.MaskH.Span.Slice(q * bh, bh), lr.DhRec.Span, lr.DhRec.Span);
                        }
                        else
                        {
                            Gemm.Multiply(Transpose.None, _b, T.One, new ReadOnlySpan<T>(dghq, _b * gh), gh, packs.RecurrentWeight, T.One, lr.DhRec.Span, h, _threads);
                        }
                        break;
                    }
                    default:
                        ActivationBackward(path, new ReadOnlySpan<T>(lr.Hs.Ptr + q * bh, bh), dh, new Span<T>(dgq, bh));
                        Gemm.Multiply(Transpose.None, _b, T.One, new ReadOnlySpan<T>(dgq, _b * gh), gh, packs.RecurrentWeight, T.Zero, lr.DhRec.Span, h, _threads);
                        if (_dRec) VectorMath.Multiply<T>(lr.DhRec.Span, lr.MaskH.Span.Slice(q * bh, bh), lr.DhRec.Span);
                        break;
                }
            }
            if (_steps <= _r)
            {
                // The ring reaches back to the stream's first step: what flowed out of it is dL/d(initial state).
                VectorMath.Add<T>(_dInitH[l].Span, lr.DhRec.Span, _dInitH[l].Span);
                if (_arch.Cell == CellType.Lstm) VectorMath.Add<T>(_dInitC[l].Span, lr.Dc.Span, _dInitC[l].Span);
            }
            // Weight gradients of the window, one GEMM each over all τb stored gate gradients (zero rows for empty slots).
            int rows = _r * _b;
            ParameterSlice wih = _net.Layout.Get(l, ParameterKind.InputWeight), whh = _net.Layout.Get(l, ParameterKind.RecurrentWeight);
            ParameterSlice bih = _net.Layout.Get(l, ParameterKind.InputBias), bhhs = _net.Layout.Get(l, ParameterKind.RecurrentBias);
            ReadOnlySpan<T> dG = lr.DG.Span, dGhh = _arch.Cell == CellType.Gru ? lr.DGh.Span : lr.DG.Span;
            ReadOnlySpan<T> x = new(LayerInput(l), rows * il);
            Gemm.Multiply(Transpose.Transposed, Transpose.None, gh, il, rows, T.One, dG, gh, x, il, T.One, grad.AsSpan(wih.Offset, wih.Length), il, _threads, path);
            Gemm.Multiply(Transpose.Transposed, Transpose.None, gh, h, rows, T.One, dGhh, gh, lr.HPrev.Span, h, T.One, grad.AsSpan(whh.Offset, whh.Length), h, _threads, path);
            Gemm.Multiply(Transpose.None, Transpose.None, 1, gh, rows, T.One, _ones.Span, rows, dG, gh, T.One, grad.AsSpan(bih.Offset, gh), gh, 1, path);
            Gemm.Multiply(Transpose.None, Transpose.None, 1, gh, rows, T.One, _ones.Span, rows, dGhh, gh, T.One, grad.AsSpan(bhhs.Offset, gh), gh, 1, path);
            // Gradient w.r.t. this layer's inputs at every stored step: the layer below's injected gradient (or, for
            // the bottom layer, this window's dL/dx per slot, read by gradient checks through InputGradient).
            if (l > 0 || ComputeInputGradients)
            {
                Span<T> dx = l > 0 ? _layers[l - 1].DAbove.Span : _dInputs.Span;
                Gemm.Multiply(Transpose.None, Transpose.None, rows, il, gh, T.One, dG, gh, p.AsSpan(wih.Offset, wih.Length), il, T.Zero, dx, il, _threads, path);
                if (_dIn) VectorMath.Multiply<T>(dx, lr.MaskX.Span, dx); // x̃ = x ⊙ m_x  =>  dx = dx̃ ⊙ m_x
            }
        }
        return loss;
    }

    /// <summary>The ring of what layer l's input projection reads: the (masked) inputs, or the hidden states below.</summary>
    private T* LayerInput(int l) => l == 0 ? _x0.Ptr : _dIn ? _layers[l].XMasked.Ptr : _layers[l - 1].Hs.Ptr;

    private void ActivationBackward(IsaPath path, ReadOnlySpan<T> h, ReadOnlySpan<T> dh, Span<T> dPre)
    {
        switch (_arch.Activation)
        {
            case Activation.Relu: VectorMath.ReluBackward(h, dh, dPre, path); break;
            case Activation.Sigmoid: VectorMath.SigmoidBackward(h, dh, dPre, path); break;
            default: VectorMath.TanhBackward(h, dh, dPre, path); break;
        }
    }

    /// <summary>The last window's contribution to dL/dx of the step stored in ring slot <paramref name="slot"/> (B x I); valid with <see cref="ComputeInputGradients"/>.</summary>
    internal ReadOnlySpan<T> InputGradient(int slot) => _dInputs.Span.Slice(slot * _b * _arch.InputSize, _b * _arch.InputSize);

    /// <summary>The stream step stored in each ring slot.</summary>
    internal long SlotTime(int slot) => _slotTime[slot];

    /// <summary>dL/dh_0 of a layer, accumulated over the windows whose ring reached the stream's first step (B x H).</summary>
    internal ReadOnlySpan<T> InitialHiddenGradient(int layer) => _dInitH[layer].Span;

    /// <summary>dL/dc_0 of an LSTM layer (B x H); empty for other cells.</summary>
    internal ReadOnlySpan<T> InitialCellGradient(int layer) => _dInitC[layer].Span;

    /// <summary>A pinned, 64-byte aligned buffer with a raw pointer (never moves).</summary>
    private sealed class Pinned
    {
        private readonly T[] _array;
        private readonly int _offset;
        public readonly int Length;
        public readonly T* Ptr;

        public Pinned(int length)
        {
            Length = length;
            (_array, _offset) = AlignedBuffer.Allocate<T>(length);
            _array.AsSpan().Clear();
            Ptr = (T*)Unsafe.AsPointer(ref _array[_offset]);
        }

        public Span<T> Span => new(Ptr, Length);
    }

    /// <summary>The ring of one layer: per slot, what backward needs.</summary>
    private sealed class LayerRing
    {
        public readonly int H;
        public int RecurrentBiasOffset;
        public Pinned MaskX = null!, XMasked = null!, MaskH = null!, HPrevTrue = null!, DhTmp = null!;
        public readonly Pinned G, Gh, Hs, HPrev, CPrev, TanhC, Ghn, DG, DGh, DAbove, DhRec, DhTot, Dc;

        public LayerRing(CellType cell, int rows, int batch, int hidden, int gates)
        {
            H = hidden;
            bool lstm = cell == CellType.Lstm, gru = cell == CellType.Gru;
            G = new Pinned(rows * gates * hidden);
            Gh = new Pinned(gru ? rows * gates * hidden : 0);
            Hs = new Pinned(rows * hidden);
            HPrev = new Pinned(rows * hidden);
            CPrev = new Pinned(lstm ? rows * hidden : 0);
            TanhC = new Pinned(lstm ? rows * hidden : 0);
            Ghn = new Pinned(gru ? rows * hidden : 0);
            DG = new Pinned(rows * gates * hidden);
            DGh = new Pinned(gru ? rows * gates * hidden : 0);
            DAbove = new Pinned(rows * hidden);
            DhRec = new Pinned(batch * hidden);
            DhTot = new Pinned(batch * hidden);
            Dc = new Pinned(lstm ? batch * hidden : 0);
        }

        public void Clear()
        {
            G.Span.Clear(); Gh.Span.Clear(); Hs.Span.Clear(); HPrev.Span.Clear(); CPrev.Span.Clear();
            TanhC.Span.Clear(); Ghn.Span.Clear(); DG.Span.Clear(); DGh.Span.Clear(); DAbove.Span.Clear();
        }
    }
}
