using System.Numerics;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels.Updates;

/// <summary>In-place clamp of a span to [-maxAbs, +maxAbs], written once over the width abstraction.</summary>
internal static unsafe class Clamp
{
    /// <summary>g[i] = min(maxAbs, max(-maxAbs, g[i])) for i &lt; n; NaN stays NaN (native min/max with the data as the
    /// second operand, see <see cref="GradientTerms{T}"/>). path must be resolved.</summary>
    public static void InPlace<T>(IsaPath path, T* g, nint n, T maxAbs) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (n <= 0) return;
        var job = new Job<T>(g, n, maxAbs);
        IsaDispatch.Run<T, Job<T>>(path, ref job);
    }

    private readonly struct Job<T>(T* g, nint n, T maxAbs) : IVecJob<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            if (n < TV.Count) Body<Vec1<T>>(g, n, maxAbs);
            else Body<TV>(g, n, maxAbs);
        }

        private static void Body<TV>(T* g, nint n, T maxAbs) where TV : unmanaged, IVec<TV, T>
        {
            // Clamping is idempotent, so the overlapping last register may simply re-clamp elements already done.
            TV hi = TV.Create(maxAbs), lo = -hi;
            nint w = TV.Count, i = 0;
            for (; i < n - w; i += w) TV.MinNative(hi, TV.MaxNative(lo, TV.Load(g + i))).Store(g + i);
            TV.MinNative(hi, TV.MaxNative(lo, TV.Load(g + n - w))).Store(g + n - w);
        }
    }
}
