using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
        where T : unmanaged where TOp : IUnaryOperator<T>
    {
        VectorHelpers.EnsureSupported<T>();
        if (x.Length > destination.Length) ThrowHelper.ThrowDestinationTooShort(destinationName, x.Length, destination.Length);
        CheckOverlap(x, destination, destinationName);
        nuint n = (nuint)x.Length;
        fixed (T* px = x)
        fixed (T* pd = destination)
        {
            switch (Isa.Resolve(path))
            {
                case IsaPath.Vector512 when n >= (nuint)Vector512<T>.Count: Unary512<T, TOp>(px, pd, n); return;
                case IsaPath.Vector256 when n >= (nuint)Vector256<T>.Count: Unary256<T, TOp>(px, pd, n); return;
                case IsaPath.Vector128 when n >= (nuint)Vector128<T>.Count: Unary128<T, TOp>(px, pd, n); return;
            }
            for (nuint i = 0; i < n; i++) pd[i] = TOp.Invoke(px[i]);
        }
    }

    /// <summary>destination[i] = TOp(x[i], y[i]) for i &lt; x.Length; y must be as long as x.</summary>
    public static void Binary<T, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination, IsaPath path,
        string xName = "x", string yName = "y", string destinationName = "destination")
        where T : unmanaged where TOp : IBinaryOperator<T>
    {
        VectorHelpers.EnsureSupported<T>();
        if (y.Length != x.Length) ThrowHelper.ThrowLengthMismatch(yName, x.Length, y.Length);
        if (x.Length > destination.Length) ThrowHelper.ThrowDestinationTooShort(destinationName, x.Length, destination.Length);
        CheckOverlap(x, destination, destinationName);
        CheckOverlap(y, destination, destinationName);
        nuint n = (nuint)x.Length;
        fixed (T* px = x)
        fixed (T* py = y)
        fixed (T* pd = destination)
        {
            switch (Isa.Resolve(path))
            {
                case IsaPath.Vector512 when n >= (nuint)Vector512<T>.Count: Binary512<T, TOp>(px, py, pd, n); return;
                case IsaPath.Vector256 when n >= (nuint)Vector256<T>.Count: Binary256<T, TOp>(px, py, pd, n); return;
                case IsaPath.Vector128 when n >= (nuint)Vector128<T>.Count: Binary128<T, TOp>(px, py, pd, n); return;
            }
            for (nuint i = 0; i < n; i++) pd[i] = TOp.Invoke(px[i], py[i]);
        }
    }

    /// <summary>Throws unless <paramref name="destination"/> is the same span as <paramref name="input"/> or does not overlap it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CheckOverlap<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> destination, string destinationName)
    {
        if (input.Overlaps(destination, out int offset) && offset != 0) ThrowHelper.ThrowOverlap(destinationName);
    }

    private static void Unary512<T, TOp>(T* x, T* d, nuint n) where T : unmanaged where TOp : IUnaryOperator<T>
    {
        nuint w = (nuint)Vector512<T>.Count;
        Vector512<T> last = Vector512.Load(x + (n - w));
        nuint i = 0;
        for (; i + 4 * w <= n; i += 4 * w)
        {
            Vector512<T> a0 = Vector512.Load(x + i), a1 = Vector512.Load(x + i + w), a2 = Vector512.Load(x + i + 2 * w), a3 = Vector512.Load(x + i + 3 * w);
            TOp.Invoke(a0).Store(d + i); TOp.Invoke(a1).Store(d + i + w); TOp.Invoke(a2).Store(d + i + 2 * w); TOp.Invoke(a3).Store(d + i + 3 * w);
        }
        for (; i + w <= n; i += w) TOp.Invoke(Vector512.Load(x + i)).Store(d + i);
        if (i < n) TOp.Invoke(last).Store(d + (n - w));
    }

    private static void Unary256<T, TOp>(T* x, T* d, nuint n) where T : unmanaged where TOp : IUnaryOperator<T>
    {
        nuint w = (nuint)Vector256<T>.Count;
        Vector256<T> last = Vector256.Load(x + (n - w));
        nuint i = 0;
        for (; i + 4 * w <= n; i += 4 * w)
        {
            Vector256<T> a0 = Vector256.Load(x + i), a1 = Vector256.Load(x + i + w), a2 = Vector256.Load(x + i + 2 * w), a3 = Vector256.Load(x + i + 3 * w);
            TOp.Invoke(a0).Store(d + i); TOp.Invoke(a1).Store(d + i + w); TOp.Invoke(a2).Store(d + i + 2 * w); TOp.Invoke(a3).Store(d + i + 3 * w);
        }
        for (; i + w <= n; i += w) TOp.Invoke(Vector256.Load(x + i)).Store(d + i);
        if (i < n) TOp.Invoke(last).Store(d + (n - w));
    }

    private static void Unary128<T, TOp>(T* x, T* d, nuint n) where T : unmanaged where TOp : IUnaryOperator<T>
    {
        nuint w = (nuint)Vector128<T>.Count;
        Vector128<T> last = Vector128.Load(x + (n - w));
        nuint i = 0;
        for (; i + 4 * w <= n; i += 4 * w)
        {
            Vector128<T> a0 = Vector128.Load(x + i), a1 = Vector128.Load(x + i + w), a2 = Vector128.Load(x + i + 2 * w), a3 = Vector128.Load(x + i + 3 * w);
            TOp.Invoke(a0).Store(d + i); TOp.Invoke(a1).Store(d + i + w); TOp.Invoke(a2).Store(d + i + 2 * w); TOp.Invoke(a3).Store(d + i + 3 * w);
        }
        for (; i + w <= n; i += w) TOp.Invoke(Vector128.Load(x + i)).Store(d + i);
        if (i < n) TOp.Invoke(last).Store(d + (n - w));
    }

    private static void Binary512<T, TOp>(T* x, T* y, T* d, nuint n) where T : unmanaged where TOp : IBinaryOperator<T>
    {
        nuint w = (nuint)Vector512<T>.Count;
        Vector512<T> lastX = Vector512.Load(x + (n - w)), lastY = Vector512.Load(y + (n - w));
        nuint i = 0;
        for (; i + 2 * w <= n; i += 2 * w)
        {
            Vector512<T> x0 = Vector512.Load(x + i), x1 = Vector512.Load(x + i + w);
            Vector512<T> y0 = Vector512.Load(y + i), y1 = Vector512.Load(y + i + w);
            TOp.Invoke(x0, y0).Store(d + i); TOp.Invoke(x1, y1).Store(d + i + w);
        }
        for (; i + w <= n; i += w) TOp.Invoke(Vector512.Load(x + i), Vector512.Load(y + i)).Store(d + i);
        if (i < n) TOp.Invoke(lastX, lastY).Store(d + (n - w));
    }

    private static void Binary256<T, TOp>(T* x, T* y, T* d, nuint n) where T : unmanaged where TOp : IBinaryOperator<T>
    {
        nuint w = (nuint)Vector256<T>.Count;
        Vector256<T> lastX = Vector256.Load(x + (n - w)), lastY = Vector256.Load(y + (n - w));
        nuint i = 0;
        for (; i + 2 * w <= n; i += 2 * w)
        {
            Vector256<T> x0 = Vector256.Load(x + i), x1 = Vector256.Load(x + i + w);
            Vector256<T> y0 = Vector256.Load(y + i), y1 = Vector256.Load(y + i + w);
            TOp.Invoke(x0, y0).Store(d + i); TOp.Invoke(x1, y1).Store(d + i + w);
        }
        for (; i + w <= n; i += w) TOp.Invoke(Vector256.Load(x + i), Vector256.Load(y + i)).Store(d + i);
        if (i < n) TOp.Invoke(lastX, lastY).Store(d + (n - w));
    }

    private static void Binary128<T, TOp>(T* x, T* y, T* d, nuint n) where T : unmanaged where TOp : IBinaryOperator<T>
    {
        nuint w = (nuint)Vector128<T>.Count;
        Vector128<T> lastX = Vector128.Load(x + (n - w)), lastY = Vector128.Load(y + (n - w));
        nuint i = 0;
        for (; i + 2 * w <= n; i += 2 * w)
        {
            Vector128<T> x0 = Vector128.Load(x + i), x1 = Vector128.Load(x + i + w);
            Vector128<T> y0 = Vector128.Load(y + i), y1 = Vector128.Load(y + i + w);
            TOp.Invoke(x0, y0).Store(d + i); TOp.Invoke(x1, y1).Store(d + i + w);
        }
        for (; i + w <= n; i += w) TOp.Invoke(Vector128.Load(x + i), Vector128.Load(y + i)).Store(d + i);
        if (i < n) TOp.Invoke(lastX, lastY).Store(d + (n - w));
    }
}
