using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.GemmCore;
using Rnn.Simd.Kernels.Recurrent;

namespace Rnn.Simd.Cells;

/// <summary>
/// The weights of one layer packed for a batch-1 step (a cell's <see cref="RecurrentCell{T}.StepBatchOne"/>): hidden
/// units in blocks of NR (the micro-kernel panel width of the path), and per block the input part [I rows][G gates][NR]
/// followed by the recurrent part [H rows][G gates][NR]: row k of block b holds W[q·H + b·NR + c, k] at q·NR + c, zero
/// past H. The biases are laid out per block as [G][NR] likewise: <see cref="BiasX"/> the input projection's bias row
/// (the cell's <see cref="RecurrentCell{T}.InputBias"/>, so the same float sums as the batched path) and, for a cell
/// that keeps its recurrent bias apart, b_hh in <see cref="BiasH"/>.
/// </summary>
internal sealed unsafe class FusedLayerWeights<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Largest NR · G of any path and cell with a batch-1 step (Vector512 float: 32 columns x 4 gates); the
    /// size of the stack scratch of a block.</summary>
    public const int MaxBlock = 32 * 4;

    private readonly T[] _rows, _biasX, _biasH;
    private readonly int _rowsOffset, _biasXOffset, _biasHOffset;

    /// <summary>Allocates the packed weights of a layer.</summary>
    /// <param name="gates">G, gate blocks.</param>
    /// <param name="inputSize">I.</param>
    /// <param name="hidden">H.</param>
    /// <param name="separateRecurrentBias">Whether b_hh is kept apart (<see cref="BiasH"/>) rather than folded into the bias row.</param>
    /// <param name="path">ISA path (a resolved path); fixes NR.</param>
    public FusedLayerWeights(int gates, int inputSize, int hidden, bool separateRecurrentBias, IsaPath path)
    {
        InputSize = inputSize;
        Hidden = hidden;
        Path = path;
        Gates = gates;
        SeparateRecurrentBias = separateRecurrentBias;
        Nr = GemmDriver.PanelWidth<T>(path);
        if (gates * Nr > MaxBlock) ThrowHelper.ThrowArgumentOutOfRange(nameof(gates), $"{gates} gates of {Nr} columns exceed the batch-1 block scratch of {MaxBlock}.");
        Blocks = (hidden + Nr - 1) / Nr;
        BlockLength = (long)(inputSize + hidden) * Gates * Nr;
        if (BlockLength * Blocks > Array.MaxLength - 64) ThrowHelper.ThrowArgumentOutOfRange(nameof(hidden), "The layer is too large for the batch-1 packed weights.");
        (_rows, _rowsOffset) = AlignedBuffer.Allocate<T>((int)(BlockLength * Blocks));
        (_biasX, _biasXOffset) = AlignedBuffer.Allocate<T>(Blocks * Gates * Nr);
        (_biasH, _biasHOffset) = AlignedBuffer.Allocate<T>(separateRecurrentBias ? Blocks * Gates * Nr : 0);
    }

    /// <summary>I.</summary>
    public int InputSize { get; }

    /// <summary>H.</summary>
    public int Hidden { get; }

    /// <summary>ISA path the layout was made for.</summary>
    public IsaPath Path { get; }

    /// <summary>G.</summary>
    public int Gates { get; }

    /// <summary>Whether <see cref="BiasH"/> exists.</summary>
    public bool SeparateRecurrentBias { get; }

    /// <summary>NR, hidden units per block.</summary>
    public int Nr { get; }

    /// <summary>Number of blocks, ⌈H / NR⌉.</summary>
    public int Blocks { get; }

    /// <summary>Elements of one block, (I + H)·G·NR.</summary>
    public long BlockLength { get; }

    /// <summary>The packed rows, <see cref="Blocks"/> x <see cref="BlockLength"/>.</summary>
    public T* Rows => (T*)Unsafe.AsPointer(ref _rows[_rowsOffset]);

    /// <summary>The bias row per block, [Blocks][G][NR].</summary>
    public T* BiasX => (T*)Unsafe.AsPointer(ref _biasX[_biasXOffset]);

    /// <summary>b_hh per block, [Blocks][G][NR]; null unless <see cref="SeparateRecurrentBias"/>.</summary>
    public T* BiasH => !SeparateRecurrentBias ? null : (T*)Unsafe.AsPointer(ref _biasH[_biasHOffset]);

    /// <summary>Packs from the row-major (G·H) x I and (G·H) x H weights and the G·H biases. Allocates nothing.</summary>
    /// <param name="weightIh">W_ih, (G·H) x I row-major.</param>
    /// <param name="weightHh">W_hh, (G·H) x H row-major.</param>
    /// <param name="bias">The input projection's bias row (b_ih + b_hh when folded, else b_ih).</param>
    /// <param name="recurrentBias">b_hh; read only with <see cref="SeparateRecurrentBias"/>.</param>
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

    /// <summary>
    /// Pre-activations of block <paramref name="block"/> over [x; h_(t-1)] into <paramref name="pre"/> ([G][NR]): the
    /// bias row, plus the input part, then (into <paramref name="preH"/> when not null, overwriting it; else added to
    /// <paramref name="pre"/>) the recurrent part, each in the blocked GEMM's summation order.
    /// </summary>
    public void BlockPreActivations(int block, T* x, T* hPrev, T* pre, T* preH)
    {
        int g = Gates, nr = Nr;
        T* rows = Rows + block * BlockLength, hRows = rows + (long)InputSize * g * nr;
        new ReadOnlySpan<T>(BiasX + block * g * nr, g * nr).CopyTo(new Span<T>(pre, g * nr));
        GateKernels.FusedGates(Path, g, InputSize, x, rows, pre, false, nr);
        if (preH == null) GateKernels.FusedGates(Path, g, Hidden, hPrev, hRows, pre, false, nr);
        else GateKernels.FusedGates(Path, g, Hidden, hPrev, hRows, preH, true, nr);
    }

    /// <summary>[gates][nr] to [gates][valid] (the gate math takes its column count as the gate stride).</summary>
    public static void Compact(T* src, T* dst, int gates, int nr, int valid)
    {
        for (int q = 0; q < gates; q++)
            for (int c = 0; c < valid; c++) dst[q * valid + c] = src[q * nr + c];
    }
}
