using System.Diagnostics;

namespace Rnn.Simd.Cli.Bench;

/// <summary>How one train or inference case is timed.</summary>
/// <param name="Warmup">Untimed run time before measuring (tiered JIT, worker threads, first-call allocations).</param>
/// <param name="MinWarmupCalls">Untimed calls at least, whatever <paramref name="Warmup"/> says (the first call
/// allocates and packs; the second is the first steady one).</param>
/// <param name="Batch">Target duration of one timed batch of calls (at least one call per batch).</param>
/// <param name="MinBatches">Timed batches at least.</param>
/// <param name="MaxBatches">Timed batches at most.</param>
/// <param name="Measure">Target total timed duration: slow cases get fewer batches, never fewer than
/// <paramref name="MinBatches"/>.</param>
public sealed record CaseBudget(TimeSpan Warmup, int MinWarmupCalls, TimeSpan Batch, int MinBatches, int MaxBatches, TimeSpan Measure);

/// <summary>The result of timing one case.</summary>
/// <param name="SecondsPerCall">Median over the timed batches of the seconds per call.</param>
/// <param name="AllocatedBytesPerCall">Bytes the calling thread allocated during the timed batches divided by the timed
/// calls. A steady allocation per call shows as 24 or more; a fraction below 1 is a one-off allocation somewhere in the
/// timed batches (such as a wait handle's lazily created lock the first time the caller blocks).</param>
/// <param name="TimedCalls">Calls timed in all.</param>
public readonly record struct CaseMeasurement(double SecondsPerCall, double AllocatedBytesPerCall, long TimedCalls);

/// <summary>
/// Times a call the way the GEMM bench does: warm up, then the median of several batches of calls (Stopwatch), and
/// counts what the calling thread allocates during the timed batches (GC.GetAllocatedBytesForCurrentThread).
/// </summary>
internal static class CaseTimer
{
    /// <summary>Measures <paramref name="call"/>, which must not allocate in steady state to report 0 bytes.</summary>
    public static CaseMeasurement Measure(Action call, CaseBudget budget, CancellationToken cancellationToken)
    {
        // Warm-up; the time of the last call estimates the steady time per call better than the mean when there are
        // only a few slow calls (the first one allocates, packs and runs tier-0 code).
        long calls = 0;
        long start = Stopwatch.GetTimestamp();
        double last;
        TimeSpan elapsed;
        do
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            last = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            calls++;
            elapsed = Stopwatch.GetElapsedTime(start);
            cancellationToken.ThrowIfCancellationRequested();
        }
        while (elapsed < budget.Warmup || calls < budget.MinWarmupCalls);

        double perCall = Math.Max(1e-9, Math.Min(last, elapsed.TotalSeconds / calls));
        long batchCalls = Math.Max(1, (long)(budget.Batch.TotalSeconds / perCall));
        int batches = (int)Math.Clamp(budget.Measure.TotalSeconds / (batchCalls * perCall), budget.MinBatches, budget.MaxBatches);
        var seconds = new double[batches];

        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < seconds.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (long j = 0; j < batchCalls; j++) call();
            seconds[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds / batchCalls;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        cancellationToken.ThrowIfCancellationRequested();

        long timed = batchCalls * batches;
        return new CaseMeasurement(Median(seconds), (double)allocated / timed, timed);
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        int n = values.Length;
        return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    }
}
