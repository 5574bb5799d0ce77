using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;

namespace Rnn.Simd.Training.Regularization;

/// <summary>
/// The dropout masks of a TBPTT ring (chapter section 2.2, item 4): the per-sequence masks of the variational scheme,
/// one mask per ring slot for every dropped connection (so that a step's backward sees the mask its forward used), and
/// the generator that draws them (training checkpoints save and restore its state). Inverted scaling: a kept unit's
/// mask value is 1/(1 - p), a dropped one's 0. Sized once; drawing allocates nothing.
/// </summary>
/// <remarks>
/// Masks of layer l are B x I_l on its input (I_0 = I, I_l = H_(l-1)) and B x H_l on h_(t-1) where it enters W_hh;
/// the readout's are B x H_top. A per-slot store is S x B x width, slot q at q·B·width. Draw order (which fixes every
/// naive mask for a seed): the sequence masks layer by layer (input, recurrent), then the readout's; per window the
/// caller draws slot masks in its forward order.
/// </remarks>
internal sealed class DropoutMaskRing<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly int _batch;
    private readonly int[] _inputWidth, _hiddenWidth;
    private readonly int _topWidth;
    private readonly PinnedBuffer<T>[] _sequenceX, _sequenceH, _slotX, _slotH;
    private readonly PinnedBuffer<T> _sequenceO, _slotO;

    /// <summary>Allocates the masks of every active kind of dropout and draws the first sequence masks.</summary>
    /// <param name="options">Validated dropout options.</param>
    /// <param name="architecture">Shapes of the network.</param>
    /// <param name="batch">B, streams.</param>
    /// <param name="slots">S, ring slots (τb).</param>
    public DropoutMaskRing(DropoutOptions options, NetworkArchitecture architecture, int batch, int slots)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(architecture);
        Options = options;
        _batch = batch;
        InputActive = options.Input > 0;
        RecurrentActive = options.Recurrent > 0;
        OutputActive = options.Output > 0;
        Rng = options.IsActive ? new Rng(options.Seed) : null;
        int layers = architecture.NumLayers, rows = slots * batch;
        _inputWidth = new int[layers];
        _hiddenWidth = new int[layers];
        _sequenceX = new PinnedBuffer<T>[layers];
        _sequenceH = new PinnedBuffer<T>[layers];
        _slotX = new PinnedBuffer<T>[layers];
        _slotH = new PinnedBuffer<T>[layers];
        for (int l = 0; l < layers; l++)
        {
            int il = _inputWidth[l] = architecture.LayerInputSize(l), h = _hiddenWidth[l] = architecture.HiddenSizes[l];
            _sequenceX[l] = new PinnedBuffer<T>(InputActive ? batch * il : 0);
            _sequenceH[l] = new PinnedBuffer<T>(RecurrentActive ? batch * h : 0);
            _slotX[l] = new PinnedBuffer<T>(InputActive ? rows * il : 0);
            _slotH[l] = new PinnedBuffer<T>(RecurrentActive ? rows * h : 0);
        }
        _topWidth = architecture.TopHiddenSize;
        _sequenceO = new PinnedBuffer<T>(OutputActive ? batch * _topWidth : 0);
        _slotO = new PinnedBuffer<T>(OutputActive ? rows * _topWidth : 0);
        DrawSequenceMasks();
    }

    /// <summary>The options the masks follow.</summary>
    public DropoutOptions Options { get; }

    /// <summary>Whether layer inputs are dropped.</summary>
    public bool InputActive { get; }

    /// <summary>Whether h_(t-1) is dropped where it enters W_hh.</summary>
    public bool RecurrentActive { get; }

    /// <summary>Whether the readout input is dropped.</summary>
    public bool OutputActive { get; }

    /// <summary>The generator of every mask (null without dropout); training checkpoints save and restore its state.</summary>
    public Rng? Rng { get; }

    /// <summary>Draws new per-sequence (variational) masks: each unit kept with probability 1 - p, scaled by
    /// 1/(1 - p). Does nothing without dropout or for the naive variant.</summary>
    public void DrawSequenceMasks()
    {
        if (Rng is null || Options.Variant != DropoutVariant.Variational) return;
        for (int l = 0; l < _sequenceX.Length; l++)
        {
            Draw(_sequenceX[l].Span, Options.Input);
            Draw(_sequenceH[l].Span, Options.Recurrent);
        }
        Draw(_sequenceO.Span, Options.Output);
    }

    /// <summary>Sets and returns the input mask of layer <paramref name="layer"/> for the step stored in
    /// <paramref name="slot"/> (B x I_l): the sequence's mask (variational) or a fresh draw (naive).</summary>
    public Span<T> NextInputMask(int layer, int slot) => Next(_slotX[layer], _sequenceX[layer], slot, _inputWidth[layer], Options.Input);

    /// <summary>Sets and returns the recurrent mask of layer <paramref name="layer"/> for slot <paramref name="slot"/> (B x H_l).</summary>
    public Span<T> NextRecurrentMask(int layer, int slot) => Next(_slotH[layer], _sequenceH[layer], slot, _hiddenWidth[layer], Options.Recurrent);

    /// <summary>Sets and returns the readout-input mask for slot <paramref name="slot"/> (B x H_top).</summary>
    public Span<T> NextOutputMask(int slot) => Next(_slotO, _sequenceO, slot, _topWidth, Options.Output);

    /// <summary>The stored input masks of layer <paramref name="layer"/> over every slot (S x B x I_l); empty without input dropout.</summary>
    public ReadOnlySpan<T> InputMasks(int layer) => _slotX[layer].Span;

    /// <summary>The stored recurrent masks of layer <paramref name="layer"/> over every slot (S x B x H_l); empty without recurrent dropout.</summary>
    public ReadOnlySpan<T> RecurrentMasks(int layer) => _slotH[layer].Span;

    /// <summary>The stored readout-input masks over every slot (S x B x H_top); empty without output dropout.</summary>
    public ReadOnlySpan<T> OutputMasks() => _slotO.Span;

    /// <summary>The stored recurrent mask of one slot (B x H_l); empty without recurrent dropout.</summary>
    public ReadOnlySpan<T> RecurrentMask(int layer, int slot)
    {
        int n = _batch * _hiddenWidth[layer];
        return RecurrentActive ? _slotH[layer].Span.Slice(slot * n, n) : default;
    }

    /// <summary>The stored readout-input masks of <paramref name="count"/> consecutive slots from <paramref name="slot"/>
    /// (count x B x H_top); empty without output dropout.</summary>
    public ReadOnlySpan<T> OutputMasks(int slot, int count)
    {
        int n = _batch * _topWidth;
        return OutputActive ? _slotO.Span.Slice(slot * n, count * n) : default;
    }

    /// <summary>Copies of the per-sequence masks of a layer (input, recurrent), for gradient checks with a fixed mask.</summary>
    public (ReadOnlyMemory<T> Input, ReadOnlyMemory<T> Recurrent) SequenceMasks(int layer) =>
        (_sequenceX[layer].Span.ToArray(), _sequenceH[layer].Span.ToArray());

    /// <summary>A copy of the per-sequence readout-input mask.</summary>
    public ReadOnlyMemory<T> SequenceOutputMask => _sequenceO.Span.ToArray();

    private Span<T> Next(PinnedBuffer<T> perSlot, PinnedBuffer<T> sequence, int slot, int width, double p)
    {
        Span<T> m = perSlot.Span.Slice(slot * _batch * width, _batch * width);
        if (Options.Variant == DropoutVariant.Variational) sequence.Span.CopyTo(m);
        else Draw(m, p);
        return m;
    }

    private void Draw(Span<T> mask, double p)
    {
        if (mask.IsEmpty) return;
        T keep = T.CreateTruncating(1.0 / (1.0 - p));
        for (int i = 0; i < mask.Length; i++) mask[i] = Rng!.NextDouble() < p ? T.Zero : keep;
    }
}
