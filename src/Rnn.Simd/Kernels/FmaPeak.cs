using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels;

/// <summary>
/// The in-register FMA loop that measures a core's peak (the tool's <c>info</c> and <c>bench</c>): 12 independent
/// chains acc = acc · m + a per register width, written once over the width abstraction, so it runs exactly the
/// multiply-add the kernels of that path run (a separate multiply and add on the 128-bit path without FMA).
/// </summary>
internal static unsafe class FmaPeak
{
    /// <summary>Chains per loop iteration: 12 registers cover 4 cycles of latency times 2 FMA ports with slack.</summary>
    public const int Chains = 12;

    /// <summary>Runs <paramref name="iterations"/> iterations of <see cref="Chains"/> FMAs of one register each on the
    /// (resolved) path; returns a value that depends on every chain, so the loop cannot be removed.</summary>
    public static float Run(IsaPath path, long iterations)
    {
        float result;
        var job = new Job(iterations, &result);
        IsaDispatch.Run<float, Job>(path, ref job);
        return result;
    }

    private readonly struct Job(long iterations, float* result) : IVecJob<float>
    {
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public void Run<TV>() where TV : unmanaged, IVec<TV, float>
        {
            // acc = acc · m + a converges to a / (1 - m) = 1: the values stay finite and never become subnormal, so
            // the timing does not depend on them.
            TV m = TV.Create(0.999f), a = TV.Create(0.001f);
            TV c0 = TV.Create(0.00f), c1 = TV.Create(0.01f), c2 = TV.Create(0.02f), c3 = TV.Create(0.03f);
            TV c4 = TV.Create(0.04f), c5 = TV.Create(0.05f), c6 = TV.Create(0.06f), c7 = TV.Create(0.07f);
            TV c8 = TV.Create(0.08f), c9 = TV.Create(0.09f), c10 = TV.Create(0.10f), c11 = TV.Create(0.11f);
            for (long i = 0; i < iterations; i++)
            {
                c0 = TV.MulAdd(c0, m, a); c1 = TV.MulAdd(c1, m, a); c2 = TV.MulAdd(c2, m, a); c3 = TV.MulAdd(c3, m, a);
                c4 = TV.MulAdd(c4, m, a); c5 = TV.MulAdd(c5, m, a); c6 = TV.MulAdd(c6, m, a); c7 = TV.MulAdd(c7, m, a);
                c8 = TV.MulAdd(c8, m, a); c9 = TV.MulAdd(c9, m, a); c10 = TV.MulAdd(c10, m, a); c11 = TV.MulAdd(c11, m, a);
            }
            *result = TV.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
        }
    }
}
