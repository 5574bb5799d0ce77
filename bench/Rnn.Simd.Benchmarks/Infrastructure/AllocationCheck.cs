using System.Reflection;
using BenchmarkDotNet.Running;

namespace Rnn.Simd.Benchmarks.Infrastructure;

/// <summary>
/// The smoke's allocation check. BenchmarkDotNet's MemoryDiagnoser is exact out of process, but in process (as the
/// smoke runs) its figure includes the in-process engine's own allocations, a few KiB per iteration even for a loop
/// that allocates nothing. So the smoke measures each case itself: set the parameters, run [GlobalSetup], call the
/// method a few times to warm it (first calls allocate per-thread packing buffers and run cold code), then count the
/// bytes allocated by every thread over further calls (the least of a few rounds).
/// </summary>
internal static class AllocationCheck
{
    private const int WarmupCalls = 3;
    private const int MeasuredCalls = 4;
    private const int Rounds = 3;

    /// <summary>Returns the bytes allocated per call in steady state (0 is the expected answer).</summary>
    public static long BytesPerCall(BenchmarkCase benchmarkCase)
    {
        var descriptor = benchmarkCase.Descriptor;
        object instance = WorkloadReflection.CreateInstance(benchmarkCase);
        Invoke(descriptor.GlobalSetupMethod, instance);
        try
        {
            Action call = Bind(descriptor.WorkloadMethod, instance);
            Invoke(descriptor.IterationSetupMethod, instance);
            for (int i = 0; i < WarmupCalls; i++) call();
            // All threads are counted (a GEMM worker must not allocate either), so an unrelated runtime thread can
            // add a few KiB to one round; a real per-call allocation shows in every round, hence the minimum.
            long allocated = long.MaxValue;
            for (int round = 0; round < Rounds && allocated > 0; round++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                for (int i = 0; i < MeasuredCalls; i++) call();
                allocated = Math.Min(allocated, GC.GetTotalAllocatedBytes(precise: true) - before);
            }
            Invoke(descriptor.IterationCleanupMethod, instance);
            return allocated / MeasuredCalls;
        }
        finally
        {
            Invoke(descriptor.GlobalCleanupMethod, instance);
        }
    }

    private static void Invoke(MethodInfo? method, object instance)
    {
        method?.Invoke(instance, null);
    }

    /// <summary>A delegate of the exact signature, so that calling it neither boxes the result nor allocates arguments.</summary>
    private static Action Bind(MethodInfo method, object instance)
    {
        if (method.GetParameters().Length != 0)
            throw new NotSupportedException($"{method.Name}: benchmarks with [Arguments] are not supported by the allocation check.");
        Type returnType = method.ReturnType;
        if (returnType == typeof(void)) return method.CreateDelegate<Action>(instance);
        if (returnType == typeof(float)) { var f = method.CreateDelegate<Func<float>>(instance); return () => f(); }
        if (returnType == typeof(double)) { var f = method.CreateDelegate<Func<double>>(instance); return () => f(); }
        if (returnType == typeof(int)) { var f = method.CreateDelegate<Func<int>>(instance); return () => f(); }
        if (returnType == typeof(long)) { var f = method.CreateDelegate<Func<long>>(instance); return () => f(); }
        throw new NotSupportedException($"{method.Name}: return type {returnType} is not supported by the allocation check.");
    }
}
