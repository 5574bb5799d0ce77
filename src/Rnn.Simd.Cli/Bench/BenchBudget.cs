namespace Rnn.Simd.Cli.Bench;

/// <summary>How long each part of <c>bench</c> measures.</summary>
/// <param name="Peak">Budget of the FP32 peak probe.</param>
/// <param name="Bandwidth">Budget of the bandwidth probe.</param>
/// <param name="BandwidthBufferBytes">Size of each of the two buffers of the bandwidth probe.</param>
/// <param name="Warmup">Time each GEMM case runs untimed first, so tiered JIT has promoted the kernels.</param>
/// <param name="Batch">Target duration of one timed batch of calls.</param>
/// <param name="Batches">Timed batches per case; the median is reported (at least 7).</param>
public sealed record BenchBudget(TimeSpan Peak, TimeSpan Bandwidth, long BandwidthBufferBytes, TimeSpan Warmup, TimeSpan Batch, int Batches)
{
    /// <summary>The default: about 10 s in all on a 2-core AVX2 machine.</summary>
    public static BenchBudget Full { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 256L << 20,
        TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(30), 11);

    /// <summary><c>--quick</c>: about 1-2 s, for tests and smoke runs; figures are rougher (less warm-up, smaller
    /// bandwidth buffers that a large last-level cache may partly hold).</summary>
    public static BenchBudget Quick { get; } = new(TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(100), 64L << 20,
        TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(3), 7);
}
