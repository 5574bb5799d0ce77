using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.GemmCore;
using Rnn.Simd.Kernels.Recurrent;

namespace Rnn.Simd.Cells;

/// <summary>
/// The weights of one LSTM or GRU layer packed for a batch-1 step (<see cref="FusedStep"/>): hidden units in blocks of
/// NR (the micro-kernel panel width of the path), and per block the input part [I rows][G gates][NR] followed by the
/// recurrent part [H rows][G gates][NR]: row k of block b holds W[q·H + b·NR + c, k] at q·NR + c, zero past H. The
/// biases are laid out per block as [G][NR] likewise: LSTM b_ih + b_hh (as <c>InputBias</c> of the GEMM path, the same
/// float sums), GRU b_ih in <see cref="BiasX"/> and b_hh in <see cref="BiasH"/>.
/// </summary>
internal sealed unsafe class FusedLayerWeights<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T[] _rows, _biasX, _biasH;
    private readonly int _rowsOffset, _biasXOffset, _biasHOffset;

    public FusedLayerWeights(CellType cell, int inputSize, int hidden, IsaPath path)
    {
        Cell = cell;
        InputSize = inputSize;
        Hidden = hidden;
        Path = path;
        Gates = cell.GateCount();
        Nr = GemmDriver.PanelWidth<T>(path);
        Blocks = (hidden + Nr - 1) / Nr;
        BlockLength = (long)(inputSize + hidden) * Gates * Nr;
        if (BlockLength * Blocks > Array.MaxLength - 64) ThrowHelper.ThrowArgumentOutOfRange(nameof(hidden), "The layer is too large for the batch-1 packed weights.");
        (_rows, _rowsOffset) = AlignedBuffer.Allocate<T>((int)(BlockLength * Blocks));
        (_biasX, _biasXOffset) = AlignedBuffer.Allocate<T>(Blocks * Gates * Nr);
        (_biasH, _biasHOffset) = AlignedBuffer.Allocate<T>(cell == CellType.Gru ? Blocks * Gates * Nr : 0);
    }

    public CellType Cell { get; }
    public int InputSize { get; }
    public int Hidden { get; }
    public IsaPath Path { get; }
    public int Gates { get; }
    public int Nr { get; }
    public int Blocks { get; }
    public long BlockLength { get; }

    public T* Rows => (T*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _rows[_rowsOffset]);
    public T* BiasX => (T*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _biasX[_biasXOffset]);
    public T* BiasH => Cell != CellType.Gru ? null : (T*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _biasH[_biasHOffset]);

    /// <summary>Packs from the row-major (G·H) x I and (G·H) x H weights and the G·H biases. Allocates nothing.</summary>
    /// <param name="weightIh">W_ih, (G·H) x I row-major.</param>
    /// <param name="weightHh">W_hh, (G·H) x H row-major.</param>
    /// <param name="bias">LSTM: b_ih + b_hh already summed; GRU: b_ih.</param>
    /// <param name="recurrentBias">GRU: b_hh; ignored otherwise.</param>
    public void Pack(ReadOnlySpan<T> weightIh, ReadOnlySpan<T> weightHh, ReadOnlySpan<T> bias, ReadOnlySpan<T> recurrentBias)
    {
        int g = Gates, nr = Nr, h = Hidden, i = InputSize;
        T* rows = Rows, bx = BiasX, bh = BiasH;
        for (int b = 0; b < Blocks; b++)
        {
            T* block = rows + b * BlockLength;
            for (int k = 0; k < i + h; k++)
            {
                T* row = block + (long)k * g * nr;
                for (int q = 0; q < g; q++)
                {
                    for (int c = 0; c < nr; c++)
                    {
                        int j = b * nr + c;
                        row[q * nr + c] = j >= h ? T.Zero : k < i ? weightIh[(q * h + j) * i + k] : weightHh[(q * h + j) * h + (k - i)];
                    }
                }
            }
            for (int q = 0; q < g; q++)
            {
                for (int c = 0; c < nr; c++)
                {
                    int j = b * nr + c;
                    bx[(b * g + q) * nr + c] = j >= h ? T.Zero : bias[q * h + j];
                    if (bh != null) bh[(b * g + q) * nr + c] = j >= h ? T.Zero : recurrentBias[q * h + j];
                }
            }
        }
    }
}

/// <summary>
/// One LSTM or GRU layer step of a single stream (batch 1) in one pass per block of NR hidden units: the block's gate
/// pre-activations over [x; h_(t-1)] from <see cref="FusedLayerWeights{T}"/> (input part added to the bias, then the
/// recurrent part, in the blocked GEMM's summation order), then the same fused gate math as the batched path on those
/// NR columns. The state is written in place (h_(t-1) is read from a copy). Bitwise equal to the batched path's row.
/// </summary>
internal static unsafe class FusedStep
{
    /// <summary>Largest NR · G of any path (Vector512 float: 32 columns x 4 gates).</summary>
    private const int MaxBlock = 32 * 4;

    /// <summary>
    /// x: I inputs; hPrev: a copy of h_(t-1) (H); c: c_(t-1) in, c_t out (LSTM; null for GRU); h: h_t out (H).
    /// </summary>
    public static void Run<T>(FusedLayerWeights<T> w, T* x, T* hPrev, T* c, T* h)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int nr = w.Nr, g = w.Gates, hidden = w.Hidden, inSize = w.InputSize;
        // pre: the block's pre-activations [G][NR] (GRU: input side); pre2: GRU recurrent side; rest: outputs the
        // batched path stores for training (activations, tanh c, W_hn h + b_hn) that inference discards.
        T* pre = stackalloc T[MaxBlock];
        T* pre2 = stackalloc T[MaxBlock];
        T* compact = stackalloc T[3 * MaxBlock];
        T* discard = stackalloc T[MaxBlock];
        for (int b = 0; b < w.Blocks; b++)
        {
            T* block = w.Rows + b * w.BlockLength, xRows = block, hRows = block + (long)inSize * g * nr;
            new ReadOnlySpan<T>(w.BiasX + b * g * nr, g * nr).CopyTo(new Span<T>(pre, g * nr));
            if (g == 4)
            {
                GateKernels.FusedGates(w.Path, 4, inSize, x, xRows, pre, false, nr);
                GateKernels.FusedGates(w.Path, 4, hidden, hPrev, hRows, pre, false, nr);
            }
            else
            {
                GateKernels.FusedGates(w.Path, 3, inSize, x, xRows, pre, false, nr);
                GateKernels.FusedGates(w.Path, 3, hidden, hPrev, hRows, pre2, true, nr);
            }
            int j0 = b * nr, valid = Math.Min(nr, hidden - j0);
            if (g == 4)
            {
                T* gates = pre;
                if (valid < nr) { Compact(pre, compact, 4, nr, valid); gates = compact; }
                GateKernels.LstmForward(w.Path, 1, valid, gates, c + j0, c + j0, discard, h + j0);
            }
            else
            {
                T* gx = pre, gh = pre2, bhh = w.BiasH + b * g * nr;
                if (valid < nr)
                {
                    Compact(pre, compact, 3, nr, valid);
                    Compact(pre2, compact + 3 * valid, 3, nr, valid);
                    Compact(bhh, compact + 6 * valid, 3, nr, valid);
                    gx = compact; gh = compact + 3 * valid; bhh = compact + 6 * valid;
                }
                GateKernels.GruForward(w.Path, 1, valid, gx, gh, bhh, hPrev + j0, gx, discard, h + j0);
            }
        }
    }

    /// <summary>[gates][nr] to [gates][valid] (the gate math takes its column count as the gate stride).</summary>
    private static void Compact<T>(T* src, T* dst, int gates, int nr, int valid) where T : unmanaged
    {
        for (int q = 0; q < gates; q++)
            for (int c = 0; c < valid; c++) dst[q * valid + c] = src[q * nr + c];
    }
}
