using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels.GemmCore;
using Rnn.Simd.Kernels.Operators;

namespace Rnn.Simd.Kernels;

/// <summary>
/// A right-hand GEMM operand op(B) of shape K x N, packed once into the zero-padded column panels that the
/// micro-kernel of one ISA path reads (layout: panel p of NR columns, then k = 0..K-1, then NR values). Recurrent
/// weights are multiplied at every time step; packing them once per window (or once per weight update) takes the
/// packing cost out of every step.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
/// <remarks>
/// Construct it once (this allocates), then call <see cref="Pack"/> whenever the source weights change: repacking
/// allocates nothing. A packed matrix is bound to the <see cref="Path"/> it was built for; multiply with it through
/// <see cref="Gemm.Multiply{T}(Transpose, int, T, ReadOnlySpan{T}, int, PackedMatrix{T}, T, Span{T}, int, int)"/>.
/// Not safe to repack while another thread multiplies with it.
/// </remarks>
public sealed unsafe class PackedMatrix<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T[] _storage;
    private readonly int _offset;

    /// <summary>Allocates a packed operand for an op(B) of <paramref name="rows"/> x <paramref name="columns"/> on the given path.</summary>
    /// <param name="rows">K, the inner dimension of the products it will take part in (≥ 0).</param>
    /// <param name="columns">N, the number of output columns (≥ 0).</param>
    /// <param name="path">The ISA path whose micro-kernel will read it; <see cref="IsaPath.Auto"/> takes <see cref="Isa.Best"/>.</param>
    public PackedMatrix(int rows, int columns, IsaPath path = IsaPath.Auto)
    {
        VectorHelpers.EnsureSupported<T>();
        if (rows < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), "Rows must be non-negative.");
        if (columns < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(columns), "Columns must be non-negative.");
        Path = Isa.Resolve(path);
        Rows = rows;
        Columns = columns;
        PanelWidth = GemmDriver.PanelWidth<T>(Path);
        PanelCount = (columns + PanelWidth - 1) / PanelWidth;
        long length = (long)PanelCount * PanelWidth * rows;
        if (length > Array.MaxLength - 64) ThrowHelper.ThrowArgumentOutOfRange(nameof(columns), "The packed matrix is too large.");
        (_storage, _offset) = AlignedBuffer.Allocate<T>((int)length);
    }

    /// <summary>K: rows of op(B).</summary>
    public int Rows { get; }

    /// <summary>N: columns of op(B).</summary>
    public int Columns { get; }

    /// <summary>The ISA path this matrix was packed for.</summary>
    public IsaPath Path { get; }

    /// <summary>Columns per panel (the micro-kernel's NR).</summary>
    internal int PanelWidth { get; }

    internal int PanelCount { get; }

    /// <summary>Packs op(B) from a row-major source. Allocates nothing.</summary>
    /// <param name="transpose">Whether op(B) = B (B is K x N) or Bᵀ (B is stored N x K).</param>
    /// <param name="b">The source, row-major.</param>
    /// <param name="ldb">Leading dimension of the source: ≥ N when not transposed, ≥ K when transposed.</param>
    /// <exception cref="ArgumentException">The source is too short for the shape, or ldb is too small.</exception>
    public void Pack(Transpose transpose, ReadOnlySpan<T> b, int ldb)
    {
        GemmDriver.ValidateOperand(transpose, Rows, Columns, b.Length, ldb, nameof(b), nameof(ldb));
        fixed (T* pb = b)
        fixed (T* dst = &_storage[_offset])
        {
            GemmDriver.PackB(transpose, pb, ldb, 0, Rows, 0, Columns, PanelWidth, dst, Rows);
        }
    }

    /// <summary>Creates and packs in one call (allocates the packed storage).</summary>
    public static PackedMatrix<T> Create(Transpose transpose, int rows, int columns, ReadOnlySpan<T> b, int ldb, IsaPath path = IsaPath.Auto)
    {
        var packed = new PackedMatrix<T>(rows, columns, path);
        packed.Pack(transpose, b, ldb);
        return packed;
    }

    /// <summary>Pins nothing: the storage is allocated on the pinned object heap.</summary>
    internal T* Pointer => (T*)Unsafe.AsPointer(ref _storage[_offset]);
}

/// <summary>64-byte aligned arrays on the pinned object heap, so raw pointers into them stay valid without fixed.</summary>
internal static unsafe class AlignedBuffer
{
    public static (T[] Array, int Offset) Allocate<T>(int length) where T : unmanaged
    {
        int pad = 64 / sizeof(T);
        T[] array = GC.AllocateUninitializedArray<T>(length + pad, pinned: true);
        nuint address = (nuint)Unsafe.AsPointer(ref array[0]);
        int offset = (int)(((64 - (address & 63)) & 63) / (nuint)sizeof(T));
        return (array, offset);
    }
}
