using System.Numerics;
using System.Runtime.Intrinsics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Operators;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>
/// Sums Σ x² and Σ |x| over a span of float or double, accumulated in double on every ISA path.
/// </summary>
/// <remarks>
/// Why double for float input: a gradient norm is wanted exactly when gradients explode, and Σ g² of float
/// gradients overflows float as soon as one |g| exceeds 1.8e19; in double it cannot (3.4e38² &lt; 1.8e308). Double
/// also keeps the 1e6-term sum of a large network accurate. Widening costs a conversion per element but the pass
/// stays bound by reading memory. Four independent accumulators hide the FMA latency; the order of the additions
/// is fixed by the path and the length, so results are deterministic. The tail shorter than one vector is scalar.
/// </remarks>
internal static unsafe class DoubleReductions
{
    public static double SumOfSquares<T>(ReadOnlySpan<T> x, IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => Reduce<T, SquareTerm>(x, path);

    public static double SumOfMagnitudes<T>(ReadOnlySpan<T> x, IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => Reduce<T, MagnitudeTerm>(x, path);

    private interface ITerm
    {
        static abstract double Add(double acc, double x);
        static abstract Vector128<double> Add(Vector128<double> acc, Vector128<double> x);
        static abstract Vector256<double> Add(Vector256<double> acc, Vector256<double> x);
        static abstract Vector512<double> Add(Vector512<double> acc, Vector512<double> x);
    }

    private readonly struct SquareTerm : ITerm
    {
        public static double Add(double acc, double x) => Math.FusedMultiplyAdd(x, x, acc);
        public static Vector128<double> Add(Vector128<double> acc, Vector128<double> x) => VectorHelpers.MulAdd(x, x, acc);
        public static Vector256<double> Add(Vector256<double> acc, Vector256<double> x) => VectorHelpers.MulAdd(x, x, acc);
        public static Vector512<double> Add(Vector512<double> acc, Vector512<double> x) => VectorHelpers.MulAdd(x, x, acc);
    }

    private readonly struct MagnitudeTerm : ITerm
    {
        public static double Add(double acc, double x) => acc + Math.Abs(x);
        public static Vector128<double> Add(Vector128<double> acc, Vector128<double> x) => acc + Vector128.Abs(x);
        public static Vector256<double> Add(Vector256<double> acc, Vector256<double> x) => acc + Vector256.Abs(x);
        public static Vector512<double> Add(Vector512<double> acc, Vector512<double> x) => acc + Vector512.Abs(x);
    }

    private static double Reduce<T, TTerm>(ReadOnlySpan<T> x, IsaPath path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TTerm : struct, ITerm
    {
        VectorHelpers.EnsureSupported<T>();
        IsaPath resolved = Isa.Resolve(path);
        fixed (T* px = x)
        {
            nint n = x.Length, i = 0;
            double sum = 0;
            if (typeof(T) == typeof(float))
            {
                float* f = (float*)px;
                switch (resolved)
                {
                    case IsaPath.Vector512: sum = Float512<TTerm>(f, n, out i); break;
                    case IsaPath.Vector256: sum = Float256<TTerm>(f, n, out i); break;
                    case IsaPath.Vector128: sum = Float128<TTerm>(f, n, out i); break;
                }
                for (; i < n; i++) sum = TTerm.Add(sum, f[i]);
            }
            else
            {
                double* d = (double*)px;
                switch (resolved)
                {
                    case IsaPath.Vector512: sum = Double512<TTerm>(d, n, out i); break;
                    case IsaPath.Vector256: sum = Double256<TTerm>(d, n, out i); break;
                    case IsaPath.Vector128: sum = Double128<TTerm>(d, n, out i); break;
                }
                for (; i < n; i++) sum = TTerm.Add(sum, d[i]);
            }
            return sum;
        }
    }

    // Each kernel consumes whole blocks of 2 float vectors (4 double vectors) and returns how far it got.

    private static double Float512<TTerm>(float* x, nint n, out nint done) where TTerm : struct, ITerm
    {
        Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
        nint w = Vector512<float>.Count, i = 0;
        for (; i + 2 * w <= n; i += 2 * w)
        {
            (Vector512<double> l0, Vector512<double> h0) = Vector512.Widen(Vector512.Load(x + i));
            (Vector512<double> l1, Vector512<double> h1) = Vector512.Widen(Vector512.Load(x + i + w));
            a0 = TTerm.Add(a0, l0); a1 = TTerm.Add(a1, h0); a2 = TTerm.Add(a2, l1); a3 = TTerm.Add(a3, h1);
        }
        done = i;
        return Vector512.Sum((a0 + a1) + (a2 + a3));
    }

    private static double Float256<TTerm>(float* x, nint n, out nint done) where TTerm : struct, ITerm
    {
        Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
        nint w = Vector256<float>.Count, i = 0;
        for (; i + 2 * w <= n; i += 2 * w)
        {
            (Vector256<double> l0, Vector256<double> h0) = Vector256.Widen(Vector256.Load(x + i));
            (Vector256<double> l1, Vector256<double> h1) = Vector256.Widen(Vector256.Load(x + i + w));
            a0 = TTerm.Add(a0, l0); a1 = TTerm.Add(a1, h0); a2 = TTerm.Add(a2, l1); a3 = TTerm.Add(a3, h1);
        }
        done = i;
        return Vector256.Sum((a0 + a1) + (a2 + a3));
    }

    private static double Float128<TTerm>(float* x, nint n, out nint done) where TTerm : struct, ITerm
    {
        Vector128<double> a0 = default, a1 = default, a2 = default, a3 = default;
        nint w = Vector128<float>.Count, i = 0;
        for (; i + 2 * w <= n; i += 2 * w)
        {
            (Vector128<double> l0, Vector128<double> h0) = Vector128.Widen(Vector128.Load(x + i));
            (Vector128<double> l1, Vector128<double> h1) = Vector128.Widen(Vector128.Load(x + i + w));
            a0 = TTerm.Add(a0, l0); a1 = TTerm.Add(a1, h0); a2 = TTerm.Add(a2, l1); a3 = TTerm.Add(a3, h1);
        }
        done = i;
        return Vector128.Sum((a0 + a1) + (a2 + a3));
    }

    private static double Double512<TTerm>(double* x, nint n, out nint done) where TTerm : struct, ITerm
    {
        Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
        nint w = Vector512<double>.Count, i = 0;
        for (; i + 4 * w <= n; i += 4 * w)
        {
            a0 = TTerm.Add(a0, Vector512.Load(x + i)); a1 = TTerm.Add(a1, Vector512.Load(x + i + w));
            a2 = TTerm.Add(a2, Vector512.Load(x + i + 2 * w)); a3 = TTerm.Add(a3, Vector512.Load(x + i + 3 * w));
        }
        done = i;
        return Vector512.Sum((a0 + a1) + (a2 + a3));
    }

    private static double Double256<TTerm>(double* x, nint n, out nint done) where TTerm : struct, ITerm
    {
        Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
        nint w = Vector256<double>.Count, i = 0;
        for (; i + 4 * w <= n; i += 4 * w)
        {
            a0 = TTerm.Add(a0, Vector256.Load(x + i)); a1 = TTerm.Add(a1, Vector256.Load(x + i + w));
            a2 = TTerm.Add(a2, Vector256.Load(x + i + 2 * w)); a3 = TTerm.Add(a3, Vector256.Load(x + i + 3 * w));
        }
        done = i;
        return Vector256.Sum((a0 + a1) + (a2 + a3));
    }

    private static double Double128<TTerm>(double* x, nint n, out nint done) where TTerm : struct, ITerm
    {
        Vector128<double> a0 = default, a1 = default, a2 = default, a3 = default;
        nint w = Vector128<double>.Count, i = 0;
        for (; i + 4 * w <= n; i += 4 * w)
        {
            a0 = TTerm.Add(a0, Vector128.Load(x + i)); a1 = TTerm.Add(a1, Vector128.Load(x + i + w));
            a2 = TTerm.Add(a2, Vector128.Load(x + i + 2 * w)); a3 = TTerm.Add(a3, Vector128.Load(x + i + 3 * w));
        }
        done = i;
        return Vector128.Sum((a0 + a1) + (a2 + a3));
    }
}
