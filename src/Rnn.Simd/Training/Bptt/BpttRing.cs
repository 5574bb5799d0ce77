using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;

namespace Rnn.Simd.Training.Bptt;

/// <summary>
/// The ring buffer of truncated BPTT: S = τb slots, each holding what backward needs of one stored time step for B
/// streams, plus the slot arithmetic. Per layer the cell's window tensors (<see cref="CellWindowBuffers{T}"/>: gates,
/// h_t, h_(t-1), the cell's own); around them the layer inputs as the input projections read them (masked under input
/// dropout), the readout input, dL/dx per slot and dL/d(initial state). Sized once; nothing allocates afterwards.
/// </summary>
/// <remarks>
/// Step n of the stream (counted from the last reset) lives in slot (start + n) mod S, so the τf new steps of a window
/// occupy at most two contiguous runs of slots (<see cref="Run"/>), and the window's projections and readout are one
/// GEMM per run. <see cref="SetStart"/> moves the first slot, which must change nothing (tests show it).
/// </remarks>
internal sealed unsafe class BpttRing<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly CellWindowBuffers<T>[] _layers;
    private readonly PinnedBuffer<T>[] _maskedInputs, _dInitH, _dInitC;
    private readonly long[] _slotTime;
    private readonly bool _inputDropout;
    private readonly int _inputSize;

    /// <summary>Allocates the ring of a network.</summary>
    /// <param name="architecture">Shapes of the network.</param>
    /// <param name="slots">S = τb.</param>
    /// <param name="windowSteps">τf, new steps per window (≤ S).</param>
    /// <param name="batch">B, streams.</param>
    /// <param name="inputDropout">Whether layer inputs are masked (stores the masked inputs of the upper layers).</param>
    /// <param name="recurrentDropout">Whether h_(t-1) is masked where it enters W_hh (the cells' dropout-only tensors).</param>
    /// <param name="outputDropout">Whether the readout input is masked (stores it per slot).</param>
    public BpttRing(NetworkArchitecture architecture, int slots, int windowSteps, int batch, bool inputDropout, bool recurrentDropout, bool outputDropout)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        Slots = slots;
        WindowSteps = windowSteps;
        Batch = batch;
        _inputDropout = inputDropout;
        _inputSize = architecture.InputSize;
        int layers = architecture.NumLayers, rows = slots * batch;
        RecurrentCell cell = architecture.CellDefinition;
        _layers = new CellWindowBuffers<T>[layers];
        _maskedInputs = new PinnedBuffer<T>[layers];
        _dInitH = new PinnedBuffer<T>[layers];
        _dInitC = new PinnedBuffer<T>[layers];
        for (int l = 0; l < layers; l++)
        {
            int h = architecture.HiddenSizes[l];
            _layers[l] = new CellWindowBuffers<T>(cell, slots, batch, h, recurrentDropout);
            _maskedInputs[l] = new PinnedBuffer<T>(inputDropout && l > 0 ? rows * architecture.LayerInputSize(l) : 0);
            _dInitH[l] = new PinnedBuffer<T>(batch * h);
            _dInitC[l] = new PinnedBuffer<T>(cell.HasCellState ? batch * h : 0);
        }
        Inputs = new PinnedBuffer<T>(rows * _inputSize);
        InputGradients = new PinnedBuffer<T>(rows * _inputSize);
        ReadoutInputs = new PinnedBuffer<T>(outputDropout ? rows * architecture.TopHiddenSize : 0);
        _slotTime = new long[slots];
    }

    /// <summary>S = τb.</summary>
    public int Slots { get; }

    /// <summary>τf.</summary>
    public int WindowSteps { get; }

    /// <summary>B.</summary>
    public int Batch { get; }

    /// <summary>Steps stored since the last reset.</summary>
    public long Steps { get; private set; }

    /// <summary>The slot step 0 of the stream goes to.</summary>
    public int Start { get; private set; }

    /// <summary>The window buffers of layer <paramref name="layer"/>.</summary>
    public CellWindowBuffers<T> Layer(int layer) => _layers[layer];

    /// <summary>S x B x I: the network inputs of each stored step, masked under input dropout.</summary>
    public PinnedBuffer<T> Inputs { get; }

    /// <summary>S x B x I: the last window's dL/dx of each stored step (written only when the engine computes it).</summary>
    public PinnedBuffer<T> InputGradients { get; }

    /// <summary>S x B x H_top: h_top ⊙ m_o as the readout read it, under output dropout; empty otherwise.</summary>
    public PinnedBuffer<T> ReadoutInputs { get; }

    /// <summary>S x B x I_l: layer l's masked input h_below ⊙ m_x under input dropout (l &gt; 0); empty otherwise.</summary>
    public PinnedBuffer<T> MaskedInput(int layer) => _maskedInputs[layer];

    /// <summary>What layer l's input projection reads, S x B x I_l: the stored inputs, the masked input, or h of the layer below.</summary>
    public T* LayerInput(int layer) => layer == 0 ? Inputs.Ptr : _inputDropout ? _maskedInputs[layer].Ptr : _layers[layer - 1].H.Ptr;

    /// <summary>The slot the next new step goes to.</summary>
    public int NextSlot => (int)((Start + Steps) % Slots);

    /// <summary>Slot of new step <paramref name="step"/> of a window whose first new step is in <paramref name="first"/>.</summary>
    public int SlotAfter(int first, int step) => (first + step) % Slots;

    /// <summary>The slot <paramref name="back"/> steps before <paramref name="newest"/>.</summary>
    public int SlotBefore(int newest, int back) => (newest - back + Slots) % Slots;

    /// <summary>
    /// Run <paramref name="part"/> (0 or 1) of the window's τf new steps starting at slot <paramref name="first"/>: the
    /// first slot, the number of steps (0 when the window does not wrap and part is 1) and the window step it starts at.
    /// </summary>
    public (int Slot, int Length, int Step) Run(int first, int part)
    {
        int seg1 = Math.Min(WindowSteps, Slots - first);
        return part == 0 ? (first, seg1, 0) : (0, WindowSteps - seg1, seg1);
    }

    /// <summary>Slots holding a step (min(steps, S)): backward runs over these, newest first.</summary>
    public int ValidSlots => (int)Math.Min(Steps, Slots);

    /// <summary>True while the ring still holds the stream's first step: what flows out of it is dL/d(initial state).</summary>
    public bool ReachesStreamStart => Steps <= Slots;

    /// <summary>Records that slot <paramref name="slot"/> now holds stream step <paramref name="step"/>.</summary>
    public void SetSlotTime(int slot, long step) => _slotTime[slot] = step;

    /// <summary>The stream step stored in slot <paramref name="slot"/>.</summary>
    public long SlotTime(int slot) => _slotTime[slot];

    /// <summary>Counts <paramref name="steps"/> new stored steps.</summary>
    public void Advance(int steps) => Steps += steps;

    /// <summary>The slot step 0 goes to after the next reset too (tests use it to show that wrap-around changes nothing).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a slot.</exception>
    public void SetStart(int slot)
    {
        if ((uint)slot >= (uint)Slots) throw new ArgumentOutOfRangeException(nameof(slot), slot, $"The ring has {Slots} slots.");
        Start = slot;
    }

    /// <summary>An empty ring: no stored step, every stored tensor and accumulated initial-state gradient zero.</summary>
    public void Reset()
    {
        Steps = 0;
        foreach (CellWindowBuffers<T> w in _layers) w.Clear();
        for (int l = 0; l < _layers.Length; l++) { _dInitH[l].Clear(); _dInitC[l].Clear(); }
        Inputs.Clear();
        InputGradients.Clear();
    }

    /// <summary>dL/dh_0 of a layer (B x H), accumulated over the windows that reached the stream's first step.</summary>
    public PinnedBuffer<T> InitialHiddenGradient(int layer) => _dInitH[layer];

    /// <summary>dL/dc_0 of a layer with cell state (B x H); empty for other cells.</summary>
    public PinnedBuffer<T> InitialCellGradient(int layer) => _dInitC[layer];

    /// <summary>dL/dx of the step in slot <paramref name="slot"/> (B x I).</summary>
    public ReadOnlySpan<T> InputGradient(int slot) => InputGradients.Span.Slice(slot * Batch * _inputSize, Batch * _inputSize);
}
