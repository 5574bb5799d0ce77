using System.Numerics;

namespace Rnn.Simd.Cells;

/// <summary>
/// What one layer stores over a training window of S ring slots of B streams, owned by the caller (the TBPTT ring)
/// and laid out as the layer's cell declares: the tensors every cell stores, plus the cell's own
/// (<see cref="RecurrentCell.WindowTensors"/>). Sized once; nothing allocates afterwards.
/// </summary>
/// <remarks>
/// A per-slot tensor of width W per row is S x B x W row-major: slot q starts at q·B·W (<see cref="At"/>). Per-stream
/// tensors are B x W. Everything starts zeroed.
/// </remarks>
internal sealed unsafe class CellWindowBuffers<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly PinnedBuffer<T>[] _tensors;

    /// <summary>Allocates the buffers of one layer.</summary>
    /// <param name="cell">The layer's kind of cell.</param>
    /// <param name="slots">S, ring slots (τb).</param>
    /// <param name="batch">B, streams.</param>
    /// <param name="hidden">H of the layer.</param>
    /// <param name="recurrentDropout">Whether recurrent dropout is active (allocates the cell's dropout-only tensors).</param>
    public CellWindowBuffers(RecurrentCell cell, int slots, int batch, int hidden, bool recurrentDropout)
    {
        ArgumentNullException.ThrowIfNull(cell);
        if (slots < 1) throw new ArgumentOutOfRangeException(nameof(slots), slots, "A window needs at least one slot.");
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "Batch size must be at least 1.");
        if (hidden < 1) throw new ArgumentOutOfRangeException(nameof(hidden), hidden, "Hidden size must be at least 1.");
        Cell = cell;
        Slots = slots;
        Batch = batch;
        Hidden = hidden;
        GateWidth = cell.GateCount * hidden;
        RecurrentDropout = recurrentDropout;
        int rows = checked(slots * batch);
        Gates = new PinnedBuffer<T>(checked(rows * GateWidth));
        H = new PinnedBuffer<T>(checked(rows * hidden));
        HPrev = new PinnedBuffer<T>(rows * hidden);
        GateGradients = new PinnedBuffer<T>(rows * GateWidth);
        DhAbove = new PinnedBuffer<T>(rows * hidden);
        DhRecurrent = new PinnedBuffer<T>(batch * hidden);
        DhTotal = new PinnedBuffer<T>(batch * hidden);
        CellStateGradient = new PinnedBuffer<T>(cell.HasCellState ? batch * hidden : 0);
        IReadOnlyList<CellTensor> specs = cell.WindowTensors;
        _tensors = new PinnedBuffer<T>[specs.Count];
        for (int i = 0; i < specs.Count; i++)
        {
            CellTensor s = specs[i];
            int perRow = s.Width(hidden), length = s.RecurrentDropoutOnly && !recurrentDropout ? 0 : checked((s.Scope == CellTensorScope.Stream ? batch : rows) * perRow);
            _tensors[i] = new PinnedBuffer<T>(length);
        }
    }

    /// <summary>The kind of cell these buffers are laid out for.</summary>
    public RecurrentCell Cell { get; }

    /// <summary>S, ring slots.</summary>
    public int Slots { get; }

    /// <summary>B, streams per slot.</summary>
    public int Batch { get; }

    /// <summary>H of the layer.</summary>
    public int Hidden { get; }

    /// <summary>G·H, columns of a gate row.</summary>
    public int GateWidth { get; }

    /// <summary>Whether recurrent dropout is active (the forward's h_(t-1) in <see cref="HPrev"/> is masked).</summary>
    public bool RecurrentDropout { get; }

    /// <summary>S x B x G·H: the input projection of each step, then what the cell's forward leaves there for its backward.</summary>
    public PinnedBuffer<T> Gates { get; }

    /// <summary>S x B x H: h_t of each step (the input of the layer above and of the readout).</summary>
    public PinnedBuffer<T> H { get; }

    /// <summary>S x B x H: h_(t-1) of each step as it entered W_hh (masked under recurrent dropout), read by the W_hh gradient GEMM.</summary>
    public PinnedBuffer<T> HPrev { get; }

    /// <summary>S x B x G·H: dL/d(pre-activation) of each step, read by the W_ih and b_ih gradient GEMMs and the dx GEMM.</summary>
    public PinnedBuffer<T> GateGradients { get; }

    /// <summary>S x B x H: dL/dh_t injected from above (the readout, or the layer above's input gradient).</summary>
    public PinnedBuffer<T> DhAbove { get; }

    /// <summary>B x H: dL/dh_t arriving from step t + 1 through the recurrence; after a step's backward, dL/dh_(t-1).</summary>
    public PinnedBuffer<T> DhRecurrent { get; }

    /// <summary>B x H: the total dL/dh_t of the step being back-propagated (<see cref="DhAbove"/> + <see cref="DhRecurrent"/>).</summary>
    public PinnedBuffer<T> DhTotal { get; }

    /// <summary>B x H: dL/dc carried through backward for a cell with state (<see cref="RecurrentCell.HasCellState"/>); empty otherwise.</summary>
    public PinnedBuffer<T> CellStateGradient { get; }

    /// <summary>The cell's own tensor <paramref name="index"/>, as declared in <see cref="RecurrentCell.WindowTensors"/>.</summary>
    public PinnedBuffer<T> Tensor(int index) => _tensors[index];

    /// <summary>Slot <paramref name="slot"/> of a per-slot tensor (its first row).</summary>
    public T* At(PinnedBuffer<T> perSlot, int slot) => perSlot.Ptr + (nint)slot * (perSlot.Length / Slots);

    /// <summary>Zeroes every per-slot tensor (a new stream: an empty ring).</summary>
    public void Clear()
    {
        Gates.Clear(); H.Clear(); HPrev.Clear(); GateGradients.Clear(); DhAbove.Clear();
        IReadOnlyList<CellTensor> specs = Cell.WindowTensors;
        for (int i = 0; i < _tensors.Length; i++)
        {
            if (specs[i].Scope != CellTensorScope.Stream) _tensors[i].Clear();
        }
    }

    /// <summary>Zeroes the per-slot gradients (before a window whose ring is not full: the weight-gradient GEMMs run
    /// over all S slots, and the empty ones must add nothing).</summary>
    public void ClearGateGradients()
    {
        GateGradients.Clear();
        IReadOnlyList<CellTensor> specs = Cell.WindowTensors;
        for (int i = 0; i < _tensors.Length; i++)
        {
            if (specs[i].Scope == CellTensorScope.SlotGradient) _tensors[i].Clear();
        }
    }
}
