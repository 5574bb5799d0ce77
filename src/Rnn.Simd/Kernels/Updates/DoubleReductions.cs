using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels.Operators;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels.Updates;

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
        static abstract TV Add<TV>(TV acc, TV x) where TV : unmanaged, IVec<TV, double>;
    }

    private readonly struct SquareTerm : ITerm
    {
        public static double Add(double acc, double x) => Math.FusedMultiplyAdd(x, x, acc);
        public static TV Add<TV>(TV acc, TV x) where TV : unmanaged, IVec<TV, double> => TV.MulAdd(x, x, acc);
    }

    private readonly struct MagnitudeTerm : ITerm
    {
        public static double Add(double acc, double x) => acc + Math.Abs(x);
        public static TV Add<TV>(TV acc, TV x) where TV : unmanaged, IVec<TV, double> => acc + TV.Abs(x);
    }

    private static double Reduce<T, TTerm>(ReadOnlySpan<T> x, IsaPath path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TTerm : struct, ITerm
    {
        VectorHelpers.EnsureSupported<T>();
        IsaPath resolved = Isa.Resolve(path);
        fixed (T* px = x)
        {
            double result;
            var job = new Job<T, TTerm>(px, x.Length, &result);
            IsaDispatch.Run<double, Job<T, TTerm>>(resolved, ref job);
            return result;
        }
    }

    /// <summary>
    /// Whole blocks of 4 double registers (float input: loaded and widened in the same conversion), then the scalar
    /// tail in one double chain. The scalar path is that chain alone.
    /// </summary>
    private readonly struct Job<T, TTerm>(T* x, nint n, double* result) : IVecJob<double>
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TTerm : struct, ITerm
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, double> => *result = Sum<TV>(x, n);

        private static double Sum<TV>(T* x, nint n) where TV : unmanaged, IVec<TV, double>
        {
            nint i = 0;
            double sum = 0;
            if (TV.Count > 1)
            {
                TV a0 = default, a1 = default, a2 = default, a3 = default;
                nint w = TV.Count;
                for (; i + 4 * w <= n; i += 4 * w)
                {
                    a0 = TTerm.Add(a0, Load<TV>(x, i)); a1 = TTerm.Add(a1, Load<TV>(x, i + w));
                    a2 = TTerm.Add(a2, Load<TV>(x, i + 2 * w)); a3 = TTerm.Add(a3, Load<TV>(x, i + 3 * w));
                }
                sum = TV.Sum((a0 + a1) + (a2 + a3));
            }
            for (; i < n; i++) sum = TTerm.Add(sum, double.CreateTruncating(x[i]));
            return sum;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TV Load<TV>(T* x, nint i) where TV : unmanaged, IVec<TV, double> =>
            typeof(T) == typeof(float) ? TV.LoadWidening((float*)x + i) : TV.Load((double*)x + i);
    }
}
