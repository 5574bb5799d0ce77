namespace Rnn.Simd.Kernels.GemmCore;

/// <summary>
/// Cache blocking of the GEMM loops (BLIS order jc → pc → ic → jr → ir), sized for a Zen 4/5-class core:
/// 48 KiB L1d, 1 MiB L2, a multi-MiB L3 slice.
/// </summary>
internal static class GemmBlocking
{
    /// <summary>
    /// Depth of one packed block. A KC x NR panel of B (256 x 32 floats = 32 KiB) stays in L1 while the MR-row panels
    /// of A stream past it.
    /// </summary>
    public const int KC = 256;

    /// <summary>
    /// Rows of A packed at once: an MC x KC block of A (144 x 256 floats = 144 KiB) stays in L2 while every NR panel
    /// of B is applied to it. A multiple of every MR (8, 6, 4).
    /// </summary>
    public const int MC = 144;

    /// <summary>
    /// Columns of B packed at once: a KC x NC block (256 x 2048 floats = 2 MiB) lives in L2/L3 and is reused by
    /// every MC block of A. A multiple of every NR.
    /// </summary>
    public const int NC = 2048;

    /// <summary>
    /// Below this many multiply-adds (M·N·K) a product runs on one thread: waking a worker costs a few microseconds,
    /// which is what ~2^18 multiply-adds take on one core.
    /// </summary>
    public const long ParallelThreshold = 1L << 18;
}
