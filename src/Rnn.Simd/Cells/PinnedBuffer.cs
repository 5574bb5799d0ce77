using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Cells;

/// <summary>
/// A zeroed, pinned, 64-byte aligned buffer of <see cref="Length"/> elements with a raw pointer that never moves:
/// the storage of the TBPTT ring and of the cells' window tensors, which the kernels address by pointer.
/// </summary>
internal sealed unsafe class PinnedBuffer<T> where T : unmanaged
{
    // Kept to root the pinned array; Ptr points into it.
    private readonly T[] _array;

    /// <summary>Allocates <paramref name="length"/> zeroed elements (0 gives an empty buffer with a valid pointer).</summary>
    public PinnedBuffer(int length)
    {
        Length = length;
        (_array, int offset) = AlignedBuffer.Allocate<T>(length);
        _array.AsSpan().Clear();
        Ptr = (T*)Unsafe.AsPointer(ref _array[offset]);
    }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>The first element, 64-byte aligned.</summary>
    public T* Ptr { get; }

    /// <summary>All <see cref="Length"/> elements.</summary>
    public Span<T> Span => new(Ptr, Length);

    /// <summary>Sets every element to zero.</summary>
    public void Clear() => Span.Clear();
}
