using System.Diagnostics;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Cli.Bench;

/// <summary>One GEMM shape to time: C[m x n] = A[m x k] · B[k x n], FP32, row-major, beta = 0.</summary>
/// <param name="M">Rows of A and C.</param>
/// <param name="N">Columns of B and C.</param>
/// <param name="K">Inner dimension.</param>
/// <param name="Threads">maxThreads passed to Gemm.Multiply (≥ 1).</param>
/// <param name="Prepacked">Whether B is packed once into a PackedMatrix before timing.</param>
public sealed record GemmCase(int M, int N, int K, int Threads, bool Prepacked)
{
    /// <summary>Floating-point operations of one call: 2·m·n·k.</summary>
    public double Flops => 2.0 * M * N * K;

    /// <summary>
    /// The cases <c>bench</c> runs: 512³ on 1 and 2 threads (plus <paramref name="extraThreads"/> when it is another
    /// count), then the recurrent product h·W_hh of an LSTM, [B x H]·[H x 4H] for B in {1, 32} and H in {32, 128, 512},
    /// on 1 thread, with B unpacked and pre-packed.
    /// </summary>
    public static IReadOnlyList<GemmCase> Standard(int? extraThreads)
    {
        var cases = new List<GemmCase> { new(512, 512, 512, 1, false), new(512, 512, 512, 2, false) };
        if (extraThreads is int t && t > 2) cases.Add(new(512, 512, 512, t, false));
        foreach (int batch in new[] { 1, 32 })
        {
            foreach (int hidden in new[] { 32, 128, 512 })
            {
                cases.Add(new(batch, 4 * hidden, hidden, 1, false));
                cases.Add(new(batch, 4 * hidden, hidden, 1, true));
            }
        }
        return cases;
    }
}

/// <summary>Times GEMM cases with Stopwatch: warm-up, then the median of several batches of calls.</summary>
internal static class GemmBenchmark
{
    /// <summary>Measures one case on the given path; returns the median seconds per call.</summary>
    /// <remarks>All buffers (and the packed B) are allocated and filled before the clock starts; the calls
    /// themselves allocate nothing after the first.</remarks>
    public static double Measure(GemmCase c, IsaPath path, BenchBudget budget, CancellationToken cancellationToken)
    {
        var rng = new Random(20261125);
        float[] a = RandomArray(rng, c.M * c.K);
        float[] b = RandomArray(rng, c.K * c.N);
        float[] result = new float[c.M * c.N];
        PackedMatrix<float>? packed = c.Prepacked ? PackedMatrix<float>.Create(Transpose.None, c.K, c.N, b, c.N, path) : null;

        // Warm-up: long enough for tiered JIT to promote the kernels (tier 0 -> OSR/tier 1) and for the worker
        // pool's threads to start; also estimates the time per call to size the batches.
        long calls = 0;
        long start = Stopwatch.GetTimestamp();
        TimeSpan elapsed;
        do
        {
            Invoke(c, path, a, b, packed, result);
            calls++;
            elapsed = Stopwatch.GetElapsedTime(start);
        }
        while (elapsed < budget.Warmup);
        cancellationToken.ThrowIfCancellationRequested();

        double perCall = elapsed.TotalSeconds / calls;
        long batchCalls = Math.Max(1, (long)(budget.Batch.TotalSeconds / perCall));
        var seconds = new double[Math.Max(7, budget.Batches)];
        for (int i = 0; i < seconds.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (long j = 0; j < batchCalls; j++) Invoke(c, path, a, b, packed, result);
            seconds[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds / batchCalls;
        }
        cancellationToken.ThrowIfCancellationRequested();
        Array.Sort(seconds);
        int n = seconds.Length;
        return n % 2 == 1 ? seconds[n / 2] : 0.5 * (seconds[n / 2 - 1] + seconds[n / 2]);
    }

    private static void Invoke(GemmCase c, IsaPath path, float[] a, float[] b, PackedMatrix<float>? packed, float[] result)
    {
        if (packed is not null)
            Gemm.Multiply(Transpose.None, c.M, 1f, a, c.K, packed, 0f, result, c.N, c.Threads);
        else
            Gemm.Multiply(Transpose.None, Transpose.None, c.M, c.N, c.K, 1f, a, c.K, b, c.N, 0f, result, c.N, c.Threads, path);
    }

    private static float[] RandomArray(Random rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        return values;
    }
}
