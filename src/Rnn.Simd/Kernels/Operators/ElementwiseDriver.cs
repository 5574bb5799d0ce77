using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels.Operators;

/// <summary>
/// The shared drivers of element-wise operators: validation, ISA dispatch, 4x unrolling, and the remainder handled
/// by one overlapping last vector (loaded before anything is stored, so in-place calls stay correct) instead of a
/// scalar tail. Inputs shorter than one vector run the scalar form.
/// </summary>
internal static unsafe class ElementwiseDriver
{
    /// <summary>destination[i] = TOp(x[i]) for i &lt; x.Length.</summary>
    public static void Unary<T, TOp>(ReadOnlySpan<T> x, Span<T> destination, IsaPath path, string destinationName = "destination")
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IUnaryOperator<T>
    {
        VectorHelpers.EnsureSupported<T>();
        if (x.Length > destination.Length) ThrowHelper.ThrowDestinationTooShort(destinationName, x.Length, destination.Length);
        CheckOverlap(x, destination, destinationName);
        nuint n = (nuint)x.Length;
        IsaPath resolved = Isa.Resolve(path);
        if (n == 0) return;
        fixed (T* px = x)
        fixed (T* pd = destination)
        {
            var job = new UnaryJob<T, TOp>(px, pd, n);
            IsaDispatch.Run<T, UnaryJob<T, TOp>>(resolved, ref job);
        }
    }

    /// <summary>destination[i] = TOp(x[i], y[i]) for i &lt; x.Length; y must be as long as x.</summary>
    public static void Binary<T, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination, IsaPath path,
        string xName = "x", string yName = "y", string destinationName = "destination")
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IBinaryOperator<T>
    {
        VectorHelpers.EnsureSupported<T>();
        if (y.Length != x.Length) ThrowHelper.ThrowLengthMismatch(yName, x.Length, y.Length);
        if (x.Length > destination.Length) ThrowHelper.ThrowDestinationTooShort(destinationName, x.Length, destination.Length);
        CheckOverlap(x, destination, destinationName);
        CheckOverlap(y, destination, destinationName);
        nuint n = (nuint)x.Length;
        IsaPath resolved = Isa.Resolve(path);
        if (n == 0) return;
        fixed (T* px = x)
        fixed (T* py = y)
        fixed (T* pd = destination)
        {
            var job = new BinaryJob<T, TOp>(px, py, pd, n);
            IsaDispatch.Run<T, BinaryJob<T, TOp>>(resolved, ref job);
        }
    }

    /// <summary>Throws unless <paramref name="destination"/> is the same span as <paramref name="input"/> or does not overlap it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CheckOverlap<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> destination, string destinationName)
    {
        if (input.Overlaps(destination, out int offset) && offset != 0) ThrowHelper.ThrowOverlap(destinationName);
    }

    /// <summary>One body for every width: 4x unrolled, the remainder one overlapping last vector loaded before anything
    /// is stored; inputs shorter than a register run the scalar width.</summary>
    private readonly struct UnaryJob<T, TOp>(T* x, T* d, nuint n) : IVecJob<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IUnaryOperator<T>
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            if (n < (nuint)TV.Count) Body<Vec1<T>>(x, d, n);
            else Body<TV>(x, d, n);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Body<TV>(T* x, T* d, nuint n) where TV : unmanaged, IVec<TV, T>
        {
            nuint w = (nuint)TV.Count;
            TV last = TV.Load(x + (n - w));
            nuint i = 0;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                TV a0 = TV.Load(x + i), a1 = TV.Load(x + i + w), a2 = TV.Load(x + i + 2 * w), a3 = TV.Load(x + i + 3 * w);
                TOp.Invoke(a0).Store(d + i); TOp.Invoke(a1).Store(d + i + w); TOp.Invoke(a2).Store(d + i + 2 * w); TOp.Invoke(a3).Store(d + i + 3 * w);
            }
            for (; i + w <= n; i += w) TOp.Invoke(TV.Load(x + i)).Store(d + i);
            if (i < n) TOp.Invoke(last).Store(d + (n - w));
        }
    }

    /// <summary>As <see cref="UnaryJob{T, TOp}"/> for two inputs, 2x unrolled.</summary>
    private readonly struct BinaryJob<T, TOp>(T* x, T* y, T* d, nuint n) : IVecJob<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IBinaryOperator<T>
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            if (n < (nuint)TV.Count) Body<Vec1<T>>(x, y, d, n);
            else Body<TV>(x, y, d, n);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Body<TV>(T* x, T* y, T* d, nuint n) where TV : unmanaged, IVec<TV, T>
        {
            nuint w = (nuint)TV.Count;
            TV lastX = TV.Load(x + (n - w)), lastY = TV.Load(y + (n - w));
            nuint i = 0;
            for (; i + 2 * w <= n; i += 2 * w)
            {
                TV x0 = TV.Load(x + i), x1 = TV.Load(x + i + w);
                TV y0 = TV.Load(y + i), y1 = TV.Load(y + i + w);
                TOp.Invoke(x0, y0).Store(d + i); TOp.Invoke(x1, y1).Store(d + i + w);
            }
            for (; i + w <= n; i += w) TOp.Invoke(TV.Load(x + i), TV.Load(y + i)).Store(d + i);
            if (i < n) TOp.Invoke(lastX, lastY).Store(d + (n - w));
        }
    }
}
