using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Training.Bptt;

/// <summary>
/// Truncated back-propagation through time, BPTT(τb, τf) (chapter section 2.1), over a ring buffer of τb slots, for B
/// parallel streams. Each <see cref="Window"/> call runs τf new steps forward (their caches go into the ring),
/// injects the mean-squared error of those τf outputs (Eq. 2.1 without the regulariser; with target weights, over the
/// targets that count), propagates the gradient τb steps back through the ring, and accumulates the parameter
/// gradients into <see cref="RecurrentNetwork{T}.Gradients"/>.
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
/// The parts: <see cref="BpttRing{T}"/> holds the slots and what each stores, <see cref="DropoutMaskRing{T}"/> the
/// dropout masks, each layer's cell (<see cref="RecurrentCell{T}"/>) the per-step recurrent forward and backward;
/// this class is the window algorithm that drives them.
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
    private readonly BpttRing<T> _ring;
    // Dropout (chapter section 2.2, item 4): per-slot masks so that backward sees the masks its step used.
    private readonly DropoutMaskRing<T> _masks;
    private readonly bool _dIn, _dRec, _dOut;
    private readonly PinnedBuffer<T> _y, _dy, _wd, _ones;

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
        DropoutOptions options = dropout ?? DropoutOptions.None;
        options.Validate();
        _dIn = options.Input > 0;
        _dRec = options.Recurrent > 0;
        _dOut = options.Output > 0;
        _ring = new BpttRing<T>(_arch, _r, _tf, _b, _dIn, _dRec, _dOut);
        _y = new PinnedBuffer<T>(_tf * _b * _arch.OutputSize);
        _dy = new PinnedBuffer<T>(_tf * _b * _arch.OutputSize);
        _wd = new PinnedBuffer<T>(_tf * _b * _arch.OutputSize);
        _ones = new PinnedBuffer<T>(_r * _b);
        _ones.Span.Fill(T.One);
        _masks = new DropoutMaskRing<T>(options, _arch, _b, _r);
    }

    /// <summary>The generator of the dropout masks (null without dropout); training checkpoints save and restore its state.</summary>
    internal Rng? MaskRng => _masks.Rng;

    /// <summary>The dropout this engine applies.</summary>
    public DropoutOptions Dropout => _masks.Options;

    /// <summary>The per-sequence masks of layer l (input, recurrent), for gradient checks with a fixed mask.</summary>
    internal (ReadOnlyMemory<T> Input, ReadOnlyMemory<T> Recurrent) SequenceMasks(int layer) => _masks.SequenceMasks(layer);

    /// <summary>The per-sequence mask of the readout input.</summary>
    internal ReadOnlyMemory<T> SequenceOutputMask => _masks.SequenceOutputMask;

    /// <summary>The per-slot input masks of layer l as the last window stored them (τb x B x I_l, slot-major; empty without input dropout).</summary>
    internal ReadOnlySpan<T> SlotInputMasks(int layer) => _masks.InputMasks(layer);

    /// <summary>The per-slot recurrent masks of layer l (τb x B x H_l; empty without recurrent dropout).</summary>
    internal ReadOnlySpan<T> SlotRecurrentMasks(int layer) => _masks.RecurrentMasks(layer);

    /// <summary>The per-slot readout-input masks (τb x B x H_top; empty without output dropout).</summary>
    internal ReadOnlySpan<T> SlotOutputMasks => _masks.OutputMasks();

    /// <summary>τb and τf.</summary>
    public BpttSchedule Schedule { get; }

    /// <summary>B, the number of parallel streams.</summary>
    public int BatchSize => _b;

    /// <summary>The carried recurrent state (h, c of every layer) after the last window; copy it into an inference state to continue a stream.</summary>
    public NetworkState<T> State { get; }

    /// <summary>Steps run since the last reset.</summary>
    public long StepsSinceReset => _ring.Steps;

    /// <summary>
    /// Σ w of the last <see cref="Window"/>'s target weights: the normaliser of its loss (τf·B·O when it had no
    /// weights; 0 when every target was masked, and before the first window). A caller averaging window losses over
    /// an epoch weights each by it, so that the epoch's figure is the mean over every target that counts.
    /// </summary>
    public double TargetWeightSum { get; private set; }

    /// <summary>When true, each window also computes its contribution to dL/dx of every stored step (read by gradient checks).</summary>
    public bool ComputeInputGradients { get; set; }

    /// <summary>Starts new streams from a zero state with an empty ring.</summary>
    public void Reset() => Reset(null);

    /// <summary>Starts new streams from the given state (copied), with an empty ring; null means zero.</summary>
    public void Reset(NetworkState<T>? initialState)
    {
        if (initialState is null) State.Reset(); else State.CopyFrom(initialState);
        _ring.Reset();
        _masks.DrawSequenceMasks();
    }

    /// <summary>Sets the slot the next step is stored in (tests use it to show that wrap-around changes nothing).</summary>
    internal void SetRingOffset(int slot) => _ring.SetStart(slot);

    /// <summary>
    /// One window: τf new steps forward from the carried state, MSE over their outputs, τb steps back.
    /// Accumulates into the network's gradients and returns the window's loss: mean((y - target)²) over its τf·B·O
    /// values, or with target weights the weighted mean Σ w·(y - target)² / Σ w over the targets that count.
    /// </summary>
    /// <param name="inputs">τf x B x I, time-major.</param>
    /// <param name="targets">τf x B x O, time-major.</param>
    /// <param name="outputs">Optional: receives the τf x B x O predictions.</param>
    /// <param name="targetWeights">Optional τf x B x O weights w ≥ 0 of the targets: the loss becomes
    /// L = Σ w·(y - target)² / Σ w (chapter Eq. 2.2 over the targets that count), so a weight of 0 masks a target out
    /// (e.g. an anomalous stretch of the series) and 1 everywhere equals the plain MSE; dL/dy = 2 w (y - target) / Σ w.
    /// A window in which every weight is 0 has loss 0 and adds nothing to the gradients (it still advances the carried
    /// state). Each window is normalised by its own Σ w: a window whose targets are mostly masked is the mean over the
    /// few that count, so each of them weighs more in that update than a target of a full window (the gradient-norm
    /// clipping of the trainer bounds the step). <see cref="TargetWeightSum"/> reports the Σ w of the last window.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape, or a weight is negative or not finite.</exception>
    public T Window(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, Span<T> outputs = default, ReadOnlySpan<T> targetWeights = default)
    {
        int inSize = _arch.InputSize, o = _arch.OutputSize;
        double weightSum = (double)_tf * _b * o;
        if (inputs.Length < _tf * _b * inSize) ThrowHelper.ThrowArgument(nameof(inputs), $"Inputs have {inputs.Length} elements; τf x B x I = {_tf} x {_b} x {inSize} = {_tf * _b * inSize} needed.");
        if (targets.Length < _tf * _b * o) ThrowHelper.ThrowArgument(nameof(targets), $"Targets have {targets.Length} elements; τf x B x O = {_tf * _b * o} needed.");
        if (!outputs.IsEmpty && outputs.Length < _tf * _b * o) ThrowHelper.ThrowDestinationTooShort(nameof(outputs), _tf * _b * o, outputs.Length);
        if (!targetWeights.IsEmpty)
        {
            if (targetWeights.Length < _tf * _b * o) ThrowHelper.ThrowArgument(nameof(targetWeights), $"Target weights have {targetWeights.Length} elements; τf x B x O = {_tf * _b * o} needed.");
            // Σ w in double: exact for 0/1 masks of any window size, and the normaliser of the loss.
            double sum = 0;
            for (int i = 0; i < _tf * _b * o; i++)
            {
                if (!(targetWeights[i] >= T.Zero) || !T.IsFinite(targetWeights[i])) ThrowHelper.ThrowArgument(nameof(targetWeights), $"Target weight {i} is {targetWeights[i]}; weights must be finite and non-negative.");
                sum += double.CreateTruncating(targetWeights[i]);
            }
            weightSum = sum;
        }
        _net.EnsurePacked();
        int first = _ring.NextSlot;
        Forward(inputs, first);
        TargetWeightSum = weightSum;
        T loss = ReadoutAndLoss(targets, outputs, targetWeights, weightSum, first);
        _ring.Advance(_tf);
        Backward(first);
        // The ring's buffers are pinned arrays read through raw pointers: keep their owner alive until the last kernel.
        GC.KeepAlive(this);
        return loss;
    }

    /// <summary>The τf new steps, layer by layer: each layer's input projection is one GEMM per contiguous run of
    /// slots, then its cell runs the recurrent part step by step from the carried state.</summary>
    private void Forward(ReadOnlySpan<T> inputs, int first)
    {
        int inSize = _arch.InputSize;
        long steps = _ring.Steps;
        for (int s = 0; s < _tf; s++)
        {
            int q = _ring.SlotAfter(first, s);
            _ring.SetSlotTime(q, steps + s);
            ReadOnlySpan<T> xs = inputs.Slice(s * _b * inSize, _b * inSize);
            Span<T> x0 = new(_ring.Inputs.Ptr + q * _b * inSize, _b * inSize);
            if (_dIn) VectorMath.Multiply(xs, _masks.NextInputMask(0, q), x0);
            else xs.CopyTo(x0);
        }
        for (int l = 0; l < _arch.NumLayers; l++)
        {
            CellWindowBuffers<T> w = _ring.Layer(l);
            RecurrentCell<T> cell = _net.Packs(l);
            int h = cell.Hidden, gh = cell.GateWidth, il = cell.InputSize;
            if (_dIn && l > 0)
            {
                // Input dropout of an upper layer: x̃ = h_below ⊙ m_x, for the new slots.
                CellWindowBuffers<T> below = _ring.Layer(l - 1);
                T* masked = _ring.MaskedInput(l).Ptr;
                for (int s = 0; s < _tf; s++)
                {
                    int q = _ring.SlotAfter(first, s), n = _b * il;
                    VectorMath.Multiply(new ReadOnlySpan<T>(below.H.Ptr + q * n, n), _masks.NextInputMask(l, q), new Span<T>(masked + q * n, n));
                }
            }
            T* x = _ring.LayerInput(l);
            // Input projection of the window, one GEMM per contiguous run of slots: G = bias + X · W_ihᵀ.
            for (int part = 0; part < 2; part++)
            {
                (int q0, int len, _) = _ring.Run(first, part);
                if (len == 0) continue;
                Span<T> gs = w.Gates.Span.Slice(q0 * _b * gh, len * _b * gh);
                for (int row = 0; row < len * _b; row++) cell.InputBias.AsSpan().CopyTo(gs.Slice(row * gh, gh));
                // W_ihᵀ is packed once per parameter change (the network keeps it packed for inference too).
                Gemm.Multiply(Transpose.None, len * _b, T.One, new ReadOnlySpan<T>(x + q0 * _b * il, len * _b * il), il, cell.InputWeightT, T.One, gs, gh, _threads);
            }
            Span<T> hState = State.H[l], cState = State.C[l];
            for (int s = 0; s < _tf; s++)
            {
                int q = _ring.SlotAfter(first, s);
                // HPrev holds what enters W_hh: h_(t-1), or h_(t-1) ⊙ m_h with recurrent dropout (the mask folded into
                // the copy); the cell gets the undropped state too.
                Span<T> hp = new(w.At(w.HPrev, q), _b * h);
                if (_dRec) VectorMath.Multiply<T>(hState, _masks.NextRecurrentMask(l, q), hp);
                else hState.CopyTo(hp);
                cell.ForwardStep(w, q, hState, cState, _threads);
                new ReadOnlySpan<T>(w.At(w.H, q), _b * h).CopyTo(hState);
            }
        }
    }

    /// <summary>Readout over the τf new steps (one GEMM per run of slots), the weighted MSE, and dL/dy into _dy.</summary>
    private T ReadoutAndLoss(ReadOnlySpan<T> targets, Span<T> outputs, ReadOnlySpan<T> targetWeights, double weightSum, int first)
    {
        int o = _arch.OutputSize, top = _arch.TopHiddenSize;
        T* readIn = ReadoutInput();
        if (_dOut)
        {
            // Output dropout: the readout sees h_top ⊙ m_o.
            T* hTop = _ring.Layer(_arch.NumLayers - 1).H.Ptr;
            for (int s = 0; s < _tf; s++)
            {
                int q = _ring.SlotAfter(first, s), n = _b * top;
                VectorMath.Multiply(new ReadOnlySpan<T>(hTop + q * n, n), _masks.NextOutputMask(q), new Span<T>(readIn + q * n, n));
            }
        }
        ReadoutForward(first, readIn);
        int count = _tf * _b * o;
        Span<T> y = _y.Span, dy = _dy.Span;
        ReadOnlySpan<T> tgt = targets.Slice(0, count);
        System.Numerics.Tensors.TensorPrimitives.Subtract(y, tgt, dy);
        T loss;
        if (targetWeights.IsEmpty)
        {
            // L = Σ d² / N with d = y - t, N = τf·B·O (weightSum): dL/dy = 2 d / N.
            loss = VectorMath.SumOfSquares<T>(dy) / T.CreateTruncating(weightSum);
        }
        else if (weightSum == 0)
        {
            // Every target masked: nothing to learn from this window (0, not 0/0), and no gradient.
            if (!outputs.IsEmpty) y.CopyTo(outputs);
            dy.Clear();
            return T.Zero;
        }
        else
        {
            // L = Σ w d² / Σ w (the mean over the targets that count): dL/dy = 2 w d / Σ w. With every w = 1,
            // Σ w = N and this is bitwise the unweighted branch.
            Span<T> wd = _wd.Span;
            VectorMath.Multiply(dy, targetWeights.Slice(0, count), wd);
            loss = VectorMath.Dot<T>(wd, dy) / T.CreateTruncating(weightSum);
            wd.CopyTo(dy);
        }
        VectorMath.Scale(T.CreateTruncating(2.0 / weightSum), dy, dy);
        if (!outputs.IsEmpty) y.CopyTo(outputs);
        return loss;
    }

    /// <summary>y = b_out + h_top · W_outᵀ (+ x · W_xoᵀ with <see cref="NetworkArchitecture.InputToOutput"/>) of the τf new steps into _y, one GEMM per contiguous run of slots.</summary>
    private void ReadoutForward(int first, T* readIn)
    {
        T[] p = _net.ParameterArray;
        int o = _arch.OutputSize, top = _arch.TopHiddenSize;
        ParameterSlice rw = _net.Layout.Get(-1, ParameterKind.ReadoutWeight), rbias = _net.Layout.Get(-1, ParameterKind.ReadoutBias);
        for (int part = 0; part < 2; part++)
        {
            (int q0, int len, int s0) = _ring.Run(first, part);
            if (len == 0) continue;
            Span<T> ys = _y.Span.Slice(s0 * _b * o, len * _b * o);
            for (int row = 0; row < len * _b; row++) p.AsSpan(rbias.Offset, o).CopyTo(ys.Slice(row * o, o));
            Gemm.Multiply(Transpose.None, Transpose.Transposed, len * _b, o, top, T.One,
                new ReadOnlySpan<T>(readIn + q0 * _b * top, len * _b * top), top, p.AsSpan(rw.Offset, rw.Length), top, T.One, ys, o, _threads, _net.Path);
            if (_arch.InputToOutput)
            {
                // y += X · W_xoᵀ: the input-to-output readout over the stored (input-dropped) inputs of the same slots.
                int i = _arch.InputSize;
                ParameterSlice rx = _net.Layout.Get(-1, ParameterKind.ReadoutInputWeight);
                Gemm.Multiply(Transpose.None, Transpose.Transposed, len * _b, o, i, T.One,
                    new ReadOnlySpan<T>(_ring.Inputs.Ptr + q0 * _b * i, len * _b * i), i, p.AsSpan(rx.Offset, rx.Length), i, T.One, ys, o, _threads, _net.Path);
            }
        }
    }

    /// <summary>
    /// The forward half of a window for callers that choose their own output gradient (the Jacobian of an extended
    /// Kalman filter, Rnn.Simd.Alternatives.Kalman): τf new steps from the carried state into the ring and the readout,
    /// no loss and no backward. <see cref="BackwardWindow"/> then back-propagates any dL/dy of these τf outputs, as
    /// often as needed. Without dropout only. Allocates nothing after the first call.
    /// </summary>
    /// <param name="inputs">τf x B x I, time-major.</param>
    /// <param name="outputs">Receives the τf x B x O predictions.</param>
    internal void ForwardWindow(ReadOnlySpan<T> inputs, Span<T> outputs)
    {
        int n = _tf * _b * _arch.OutputSize;
        if (_dIn || _dRec || _dOut) ThrowHelper.ThrowArgument(nameof(inputs), "ForwardWindow does not support dropout.");
        if (inputs.Length < _tf * _b * _arch.InputSize) ThrowHelper.ThrowArgument(nameof(inputs), $"Inputs have {inputs.Length} elements; τf x B x I = {_tf * _b * _arch.InputSize} needed.");
        if (outputs.Length < n) ThrowHelper.ThrowDestinationTooShort(nameof(outputs), n, outputs.Length);
        _net.EnsurePacked();
        int first = _ring.NextSlot;
        Forward(inputs, first);
        ReadoutForward(first, ReadoutInput());
        _y.Span.Slice(0, n).CopyTo(outputs);
        _ring.Advance(_tf);
        _lastFirst = first;
        GC.KeepAlive(this);
    }

    /// <summary>
    /// Back-propagates <paramref name="dOutput"/> (τf x B x O, dL/dy of the last <see cref="ForwardWindow"/>'s outputs)
    /// τb steps through the ring, as <see cref="Window"/> does with the MSE's gradient: accumulates (adds) into the
    /// network's gradients. The stored forward is not changed, so it can be called repeatedly (one call per output
    /// component seeded with a unit vector gives the rows of ∂y/∂θ). The weights must not have changed since the
    /// forward.
    /// </summary>
    internal void BackwardWindow(ReadOnlySpan<T> dOutput)
    {
        int n = _tf * _b * _arch.OutputSize;
        if (dOutput.Length < n) ThrowHelper.ThrowArgument(nameof(dOutput), $"dOutput has {dOutput.Length} elements; τf x B x O = {n} needed.");
        if (_ring.Steps == 0) ThrowHelper.ThrowArgument(nameof(dOutput), "BackwardWindow needs a ForwardWindow first.");
        dOutput.Slice(0, n).CopyTo(_dy.Span);
        Backward(_lastFirst);
        GC.KeepAlive(this);
    }

    private int _lastFirst;

    /// <summary>What the readout reads per slot: h_top, or h_top ⊙ m_o under output dropout.</summary>
    private T* ReadoutInput() => _dOut ? _ring.ReadoutInputs.Ptr : _ring.Layer(_arch.NumLayers - 1).H.Ptr;

    /// <summary>
    /// The readout's gradients and dL/dh_top of the new steps, then layer by layer from the top: the cell's backward
    /// over the min(τb, steps) stored steps, newest first, and the window's weight gradients, one GEMM each over all τb
    /// stored gate gradients, with the input gradient handed to the layer below.
    /// </summary>
    private void Backward(int first)
    {
        T[] p = _net.ParameterArray, grad = _net.GradientArray;
        IsaPath path = _net.Path;
        int o = _arch.OutputSize, top = _arch.TopHiddenSize;
        int valid = _ring.ValidSlots;
        T* readIn = ReadoutInput();
        CellWindowBuffers<T> topW = _ring.Layer(_arch.NumLayers - 1);
        ParameterSlice rw = _net.Layout.Get(-1, ParameterKind.ReadoutWeight), rbias = _net.Layout.Get(-1, ParameterKind.ReadoutBias);
        // Readout: dW_out += dYᵀ · H_top, db_out += 1ᵀ · dY, and dH_top = dY · W_out for the new steps (zero for the older ones).
        topW.DhAbove.Clear();
        for (int part = 0; part < 2; part++)
        {
            (int q0, int len, int s0) = _ring.Run(first, part);
            if (len == 0) continue;
            ReadOnlySpan<T> dys = _dy.Span.Slice(s0 * _b * o, len * _b * o);
            ReadOnlySpan<T> hs = new(readIn + q0 * _b * top, len * _b * top);
            Gemm.Multiply(Transpose.Transposed, Transpose.None, o, top, len * _b, T.One, dys, o, hs, top, T.One, grad.AsSpan(rw.Offset, rw.Length), top, _threads, path);
            if (_arch.InputToOutput)
            {
                // dW_xo += dYᵀ · X (the inputs are constants: no gradient flows from this term into the network).
                int i = _arch.InputSize;
                ParameterSlice rx = _net.Layout.Get(-1, ParameterKind.ReadoutInputWeight);
                Gemm.Multiply(Transpose.Transposed, Transpose.None, o, i, len * _b, T.One, dys, o,
                    new ReadOnlySpan<T>(_ring.Inputs.Ptr + q0 * _b * i, len * _b * i), i, T.One, grad.AsSpan(rx.Offset, rx.Length), i, _threads, path);
            }
            Gemm.Multiply(Transpose.None, Transpose.None, 1, o, len * _b, T.One, _ones.Span.Slice(0, len * _b), len * _b, dys, o, T.One, grad.AsSpan(rbias.Offset, o), o, 1, path);
            Span<T> dTop = topW.DhAbove.Span.Slice(q0 * _b * top, len * _b * top);
            Gemm.Multiply(Transpose.None, Transpose.None, len * _b, top, o, T.One, dys, o, p.AsSpan(rw.Offset, rw.Length), top, T.Zero, dTop, top, _threads, path);
            if (_dOut) VectorMath.Multiply<T>(dTop, _masks.OutputMasks(q0, len), dTop);
        }
        int newest = _ring.SlotAfter(first, _tf - 1);
        for (int l = _arch.NumLayers - 1; l >= 0; l--)
        {
            CellWindowBuffers<T> w = _ring.Layer(l);
            RecurrentCell<T> cell = _net.Packs(l);
            int h = cell.Hidden, gh = cell.GateWidth, il = cell.InputSize, bh = _b * h;
            w.DhRecurrent.Clear();
            w.CellStateGradient.Clear();
            if (valid < _r) w.ClearGateGradients();
            for (int k = 0; k < valid; k++)
            {
                int q = _ring.SlotBefore(newest, k);
                // dL/dh_t = what came from above at step t + what flowed back from step t + 1.
                VectorMath.Add<T>(new ReadOnlySpan<T>(w.At(w.DhAbove, q), bh), w.DhRecurrent.Span, w.DhTotal.Span);
                cell.BackwardStep(w, q, _masks.RecurrentMask(l, q), _threads);
            }
            if (_ring.ReachesStreamStart)
            {
                // The ring reaches back to the stream's first step: what flowed out of it is dL/d(initial state).
                Span<T> dInitH = _ring.InitialHiddenGradient(l).Span, dInitC = _ring.InitialCellGradient(l).Span;
                VectorMath.Add<T>(dInitH, w.DhRecurrent.Span, dInitH);
                if (!dInitC.IsEmpty) VectorMath.Add<T>(dInitC, w.CellStateGradient.Span, dInitC);
            }
            // Weight gradients of the window, one GEMM each over all τb stored gate gradients (zero rows for empty slots).
            int rows = _r * _b;
            ParameterSlice wih = _net.Layout.Get(l, ParameterKind.InputWeight), whh = _net.Layout.Get(l, ParameterKind.RecurrentWeight);
            ParameterSlice bih = _net.Layout.Get(l, ParameterKind.InputBias), bhhs = _net.Layout.Get(l, ParameterKind.RecurrentBias);
            ReadOnlySpan<T> dG = w.GateGradients.Span, dGhh = cell.RecurrentGateGradients(w);
            ReadOnlySpan<T> x = new(_ring.LayerInput(l), rows * il);
            Gemm.Multiply(Transpose.Transposed, Transpose.None, gh, il, rows, T.One, dG, gh, x, il, T.One, grad.AsSpan(wih.Offset, wih.Length), il, _threads, path);
            Gemm.Multiply(Transpose.Transposed, Transpose.None, gh, h, rows, T.One, dGhh, gh, w.HPrev.Span, h, T.One, grad.AsSpan(whh.Offset, whh.Length), h, _threads, path);
            Gemm.Multiply(Transpose.None, Transpose.None, 1, gh, rows, T.One, _ones.Span, rows, dG, gh, T.One, grad.AsSpan(bih.Offset, gh), gh, 1, path);
            Gemm.Multiply(Transpose.None, Transpose.None, 1, gh, rows, T.One, _ones.Span, rows, dGhh, gh, T.One, grad.AsSpan(bhhs.Offset, gh), gh, 1, path);
            cell.AccumulateExtraGradients(w, grad, _ones.Span, _threads); // a highway layer's micro-layers 2 .. L
            // Gradient w.r.t. this layer's inputs at every stored step: the layer below's injected gradient (or, for
            // the bottom layer, this window's dL/dx per slot, read by gradient checks through InputGradient).
            if (l > 0 || ComputeInputGradients)
            {
                Span<T> dx = l > 0 ? _ring.Layer(l - 1).DhAbove.Span : _ring.InputGradients.Span;
                Gemm.Multiply(Transpose.None, Transpose.None, rows, il, gh, T.One, dG, gh, cell.InputWeight, il, T.Zero, dx, il, _threads, path);
                if (l == 0 && _arch.InputToOutput) AddInputToOutputGradient(first, dx);
                if (_dIn) VectorMath.Multiply<T>(dx, _masks.InputMasks(l), dx); // x̃ = x ⊙ m_x  =>  dx = dx̃ ⊙ m_x
            }
        }
    }

    /// <summary>dL/dx += dY · W_xo over the new steps: the input-to-output readout's share of the input gradient.</summary>
    private void AddInputToOutputGradient(int first, Span<T> dx)
    {
        int o = _arch.OutputSize, i = _arch.InputSize;
        ParameterSlice rx = _net.Layout.Get(-1, ParameterKind.ReadoutInputWeight);
        for (int part = 0; part < 2; part++)
        {
            (int q0, int len, int s0) = _ring.Run(first, part);
            if (len == 0) continue;
            Gemm.Multiply(Transpose.None, Transpose.None, len * _b, i, o, T.One, _dy.Span.Slice(s0 * _b * o, len * _b * o), o,
                _net.ParameterArray.AsSpan(rx.Offset, rx.Length), i, T.One, dx.Slice(q0 * _b * i, len * _b * i), i, _threads, _net.Path);
        }
    }

    /// <summary>The last window's contribution to dL/dx of the step stored in ring slot <paramref name="slot"/> (B x I); valid with <see cref="ComputeInputGradients"/>.</summary>
    internal ReadOnlySpan<T> InputGradient(int slot) => _ring.InputGradient(slot);

    /// <summary>The stream step stored in each ring slot.</summary>
    internal long SlotTime(int slot) => _ring.SlotTime(slot);

    /// <summary>dL/dh_0 of a layer, accumulated over the windows whose ring reached the stream's first step (B x H).</summary>
    internal ReadOnlySpan<T> InitialHiddenGradient(int layer) => _ring.InitialHiddenGradient(layer).Span;

    /// <summary>dL/dc_0 of a layer with cell state (LSTM, B x H); empty for other cells.</summary>
    internal ReadOnlySpan<T> InitialCellGradient(int layer) => _ring.InitialCellGradient(layer).Span;
}
