using System.Numerics;
using System.Runtime.CompilerServices;
using static Rnn.Simd.Tests.Infrastructure.TestHelpers;

namespace Rnn.Simd.Tests.Infrastructure;

/// <summary>
/// A pinned buffer for pointer kernels: <see cref="Length"/> data elements between two guard zones of
/// <see cref="Guard"/> elements (more than one Vector512 of float). <see cref="Reset"/> fills everything, data included,
/// with <see cref="TestHelpers.SentinelNaN{T}"/>, so an element the kernel should write but does not stays a NaN, and
/// <see cref="AssertGuardsIntact"/> proves nothing was written outside the data. Reused across shapes up to its capacity.
/// </summary>
public sealed unsafe class GuardedBuffer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public const int Guard = 32;

    private readonly T[] _a;

    public GuardedBuffer(int capacity) => _a = GC.AllocateArray<T>(capacity + 2 * Guard, pinned: true);

    public int Length { get; private set; }

    /// <summary>The first data element (the array is pinned, so the pointer stays valid).</summary>
    public T* Ptr => (T*)Unsafe.AsPointer(ref _a[Guard]);

    public Span<T> Data => _a.AsSpan(Guard, Length);

    /// <summary>Makes the data <paramref name="length"/> elements long, all sentinel, guards sentinel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public GuardedBuffer<T> Reset(int length)
    {
        if (length + 2 * Guard > _a.Length) throw new ArgumentOutOfRangeException(nameof(length), "Beyond the buffer's capacity.");
        Length = length;
        _a.AsSpan().Fill(SentinelNaN<T>());
        return this;
    }

    /// <summary>Resets to <paramref name="length"/> and fills the data uniformly from [lo, hi), rounded to T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public GuardedBuffer<T> Fill(int length, Random rng, double lo, double hi)
    {
        Reset(length);
        Span<T> d = Data;
        for (int i = 0; i < d.Length; i++) d[i] = T.CreateTruncating(lo + (hi - lo) * rng.NextDouble());
        return this;
    }

    /// <summary>Resets to the length of <paramref name="values"/> and copies them in (for an in-place alias).</summary>
    public GuardedBuffer<T> CopyFrom(ReadOnlySpan<T> values)
    {
        Reset(values.Length);
        values.CopyTo(Data);
        return this;
    }

    /// <summary>The data as doubles (exact).</summary>
    public double[] ToDouble() => TestHelpers.ToDouble<T>(Data);

    /// <summary>Asserts every element outside the data still holds the sentinel bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AssertGuardsIntact(string what)
    {
        long s = Bits(SentinelNaN<T>());
        for (int i = 0; i < _a.Length; i++)
        {
            if (i >= Guard && i < Guard + Length) continue;
            if (Bits(_a[i]) != s)
            {
                string at = i < Guard ? $"{Guard - i} before the data" : $"{i - Guard - Length} past the {Length} data elements";
                Assert.Fail($"{what}: element {at} was overwritten with {_a[i]}.");
            }
        }
    }
}
