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
    /// <summary>How each training-window case is timed.</summary>
    public required CaseBudget Train { get; init; }

    /// <summary>How each inference-step case is timed.</summary>
    public required CaseBudget Inference { get; init; }

    /// <summary>How each optimiser step, and the copy of the same bytes next to it, is timed.</summary>
    public required CaseBudget Optimizer { get; init; }

    /// <summary>Hidden sizes of the train and inference sections.</summary>
    public required IReadOnlyList<int> RnnHiddenSizes { get; init; }

    /// <summary>
    /// The default: about 10 s for the probes and GEMM plus about 12 s for train and inference and 3 s for the
    /// optimisers on a 2-core AVX2 machine (25 s in all measured under load; the budgets are times, so an idle machine
    /// is not much faster). Train cases warm up for 100 ms and at least 2 windows, then time 3 to 7 batches of about
    /// 20 ms (one window per batch for the big cases, which take 0.1-0.3 s a window); inference cases warm up for
    /// 100 ms, then time 7 batches of 20 ms; each optimiser step (1-5 ms over 1,000,000 parameters) and its
    /// same-sized copy warm up for 60 ms and at least 3 calls, then time 7 batches of about 15 ms.
    /// </summary>
    public static BenchBudget Full { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 256L << 20,
        TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(30), 11)
    {
        Train = new(TimeSpan.FromMilliseconds(100), 2, TimeSpan.FromMilliseconds(20), 3, 7, TimeSpan.FromMilliseconds(140)),
        Inference = new(TimeSpan.FromMilliseconds(100), 2, TimeSpan.FromMilliseconds(20), 7, 7, TimeSpan.FromMilliseconds(140)),
        Optimizer = new(TimeSpan.FromMilliseconds(60), 3, TimeSpan.FromMilliseconds(15), 7, 7, TimeSpan.FromMilliseconds(105)),
        RnnHiddenSizes = [32, 128, 512],
    };

    /// <summary><c>--quick</c>: about 1-2 s, for tests and smoke runs; figures are rougher (less warm-up, smaller
    /// bandwidth buffers that a large last-level cache may partly hold, train and inference at H = 32 only, each
    /// optimiser step timed over 3 batches of one or two steps).</summary>
    public static BenchBudget Quick { get; } = new(TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(100), 64L << 20,
        TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(3), 7)
    {
        Train = new(TimeSpan.FromMilliseconds(10), 2, TimeSpan.FromMilliseconds(2), 3, 3, TimeSpan.FromMilliseconds(6)),
        Inference = new(TimeSpan.FromMilliseconds(10), 2, TimeSpan.FromMilliseconds(2), 3, 3, TimeSpan.FromMilliseconds(6)),
        Optimizer = new(TimeSpan.FromMilliseconds(5), 2, TimeSpan.FromMilliseconds(2), 3, 3, TimeSpan.FromMilliseconds(6)),
        RnnHiddenSizes = [32],
    };
}
