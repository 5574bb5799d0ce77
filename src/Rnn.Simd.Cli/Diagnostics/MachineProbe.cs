using System.Diagnostics;
using System.Runtime.InteropServices;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Cli.Diagnostics;

/// <summary>
/// Probes the machine: a description of what the kernels run on (<see cref="Describe"/>), the single-core float32
/// arithmetic peak (<see cref="MeasurePeakGflops"/>) and the streaming memory bandwidth
/// (<see cref="MeasureBandwidthGBps(TimeSpan)"/>). The measurements give a yardstick for kernel benchmarks
/// ("what fraction of peak does this GEMM reach?"); they are not meant to run on a hot path.
/// </summary>
/// <remarks>
/// Part of the tool (<c>rnn-simd info</c> and <c>bench</c>), not of the library's API: it measures the machine, it
/// computes nothing a model needs. bench/Rnn.Simd.Benchmarks compiles this file too (MachineBenchmarks times the same
/// FMA loop), so that the tool and BenchmarkDotNet report one peak.
/// </remarks>
/// <remarks>
/// Both measurements run on the calling thread, take the median of several repetitions (robust against a
/// neighbour's burst on a shared machine) and return higher figures on an idle machine. Units are decimal:
/// 1 GFLOP/s = 10^9 floating-point operations per second, 1 GB/s = 10^9 bytes per second.
/// </remarks>
public static class MachineProbe
{
    /// <summary>Independent accumulators in the FMA loop: enough to cover FMA latency (4 cycles) times two FMA
    /// pipes with room to spare, few enough (plus two operands) to stay in the 16 registers of AVX2 / SSE.</summary>
    internal const int Accumulators = FmaPeak.Chains;

    /// <summary>Timed repetitions whose median is reported by <see cref="MeasurePeakGflops"/>.</summary>
    internal const int PeakRepetitions = 7;

    /// <summary>Default size of each of the two buffers of the bandwidth probe: 256 MiB, far beyond any last-level cache.</summary>
    public const long DefaultBandwidthBufferBytes = 256L << 20;

    // Keeps the result of the FMA loops observable so the JIT cannot drop them.
    private static float s_sink;

    /// <summary>Describes the machine and the ISA path in use. Reads <c>/proc/cpuinfo</c> when present; measures nothing.</summary>
    /// <returns>A new description; fields are never null except <see cref="MachineDescription.CpuModel"/>.</returns>
    public static MachineDescription Describe()
    {
        IsaPath best = Isa.Best;
        int bytes = Isa.VectorBytes(best);
        return new MachineDescription
        {
            IsaPath = best,
            IsaDescription = Isa.Describe(best),
            SupportedPaths = Isa.SupportedPaths,
            VectorBytes = bytes,
            VectorFloats = Math.Max(1, bytes / sizeof(float)),
            LogicalCores = Environment.ProcessorCount,
            OSDescription = RuntimeInformation.OSDescription,
            RuntimeVersion = RuntimeInformation.FrameworkDescription,
            ProcessArchitecture = RuntimeInformation.ProcessArchitecture.ToString(),
            CpuModel = ReadCpuModel(),
        };
    }

    /// <summary>
    /// Measures the single-core float32 peak of the given ISA path: an in-register loop of fused multiply-adds over
    /// <c>12</c> independent vector accumulators (no memory traffic), timed with <see cref="Stopwatch"/>.
    /// </summary>
    /// <param name="path">The path to measure (Vector512, Vector256, Vector128 or Scalar); <see cref="IsaPath.Auto"/>
    /// measures <see cref="Isa.Best"/>. On a 128-bit or scalar path without hardware FMA, a multiply and an add
    /// stand in for each FMA (still counted as 2 operations).</param>
    /// <param name="budget">Approximate wall time to spend, including calibration; the call returns after about this
    /// long (somewhat more when the budget is below a millisecond). Must be positive.</param>
    /// <returns>Peak in GFLOP/s (10^9 float32 operations per second; an FMA counts as 2):
    /// 2 · lanes · accumulators · iterations / seconds, the median over 7 timed repetitions.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The budget is zero or negative, or the path is not a defined value.</exception>
    /// <exception cref="PlatformNotSupportedException">The path cannot run on this machine.</exception>
    public static double MeasurePeakGflops(IsaPath path, TimeSpan budget)
    {
        // A peak is a property of the hardware: a path the CPU lacks is refused even where tests emulate it.
        IsaPath resolved = Isa.Resolve(path, allowEmulated: false);
        if (budget <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(budget), "The budget must be positive.");
        int lanes = Isa.VectorBytes(resolved) == 0 ? 1 : Isa.VectorBytes(resolved) / sizeof(float);
        double flopsPerIteration = 2.0 * lanes * Accumulators;

        // Calibrate: double the iteration count until one run takes a quarter of a repetition's share of the budget
        // (this also compiles the loop), then scale it to fill the share.
        double repSeconds = budget.TotalSeconds / (PeakRepetitions + 1);
        long iterations = 256;
        double seconds = RunFmaLoop(resolved, iterations);
        while (seconds < repSeconds / 4 && iterations < (1L << 40))
        {
            iterations *= 2;
            seconds = RunFmaLoop(resolved, iterations);
        }
        iterations = Math.Max(1, (long)(iterations * (repSeconds / Math.Max(seconds, 1e-9))));

        Span<double> rates = stackalloc double[PeakRepetitions];
        for (int r = 0; r < rates.Length; r++)
        {
            double s = RunFmaLoop(resolved, iterations);
            rates[r] = flopsPerIteration * iterations / Math.Max(s, 1e-9) / 1e9;
        }
        return Median(rates);
    }

    /// <summary>
    /// Measures the streaming memory bandwidth of one thread: a copy between two 256 MiB buffers
    /// (<see cref="DefaultBandwidthBufferBytes"/>), far larger than any cache, repeated until the budget is spent.
    /// </summary>
    /// <param name="budget">Approximate wall time to spend, including allocating and first touching the buffers.
    /// At least 3 copies are timed whatever the budget. Must be positive.</param>
    /// <returns>Bandwidth in GB/s (10^9 bytes per second), counting the bytes read plus the bytes written
    /// (2 · buffer size per copy, as STREAM's Copy does), the median over the timed copies.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The budget is zero or negative.</exception>
    /// <exception cref="OutOfMemoryException">The two buffers cannot be allocated.</exception>
    public static double MeasureBandwidthGBps(TimeSpan budget) => MeasureBandwidthGBps(budget, DefaultBandwidthBufferBytes);

    /// <summary>
    /// Measures the streaming memory bandwidth of one thread from copies between two buffers of the given size.
    /// Buffers smaller than the last-level cache measure the cache, not memory.
    /// </summary>
    /// <param name="budget">Approximate wall time to spend, including allocating and first touching the buffers.
    /// At least 3 copies are timed whatever the budget. Must be positive.</param>
    /// <param name="bufferBytes">Size of each of the two buffers, in bytes: from 4096 to 1 GiB (2^30).
    /// The call allocates 2 · bufferBytes of native memory and frees it before returning.</param>
    /// <returns>Bandwidth in GB/s (10^9 bytes per second), counting the bytes read plus the bytes written
    /// (2 · bufferBytes per copy), the median over the timed copies.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The budget is not positive or bufferBytes is out of range.</exception>
    /// <exception cref="OutOfMemoryException">The two buffers cannot be allocated.</exception>
    public static unsafe double MeasureBandwidthGBps(TimeSpan budget, long bufferBytes)
    {
        if (budget <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(budget), "The budget must be positive.");
        if (bufferBytes < 4096 || bufferBytes > (1L << 30))
            throw new ArgumentOutOfRangeException(nameof(bufferBytes), "The buffer size must be between 4096 bytes and 1 GiB.");

        const int MinCopies = 3, MaxCopies = 101;
        long start = Stopwatch.GetTimestamp();
        int length = (int)bufferBytes;
        // Native, 64-byte aligned memory: freed deterministically instead of leaving half a gigabyte to the GC.
        byte* src = (byte*)NativeMemory.AlignedAlloc((nuint)length, 64);
        byte* dst = (byte*)NativeMemory.AlignedAlloc((nuint)length, 64);
        try
        {
            var source = new Span<byte>(src, length);
            var destination = new Span<byte>(dst, length);
            // First touch commits the pages, so that page faults are not timed.
            source.Fill(0x5A);
            destination.Clear();

            Span<double> rates = stackalloc double[MaxCopies];
            int copies = 0;
            while (copies < MaxCopies)
            {
                long t0 = Stopwatch.GetTimestamp();
                source.CopyTo(destination);
                double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                rates[copies++] = 2.0 * length / Math.Max(seconds, 1e-9) / 1e9;
                if (copies >= MinCopies && Stopwatch.GetElapsedTime(start) >= budget) break;
            }
            return Median(rates.Slice(0, copies));
        }
        finally
        {
            NativeMemory.AlignedFree(src);
            NativeMemory.AlignedFree(dst);
        }
    }

    /// <summary>Extracts the CPU model from the text of <c>/proc/cpuinfo</c>; null when no line names one.</summary>
    internal static string? ParseCpuModel(string cpuinfo)
    {
        string? model = null, hardware = null;
        foreach (string line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            string key = line.AsSpan(0, colon).Trim().ToString();
            string value = line.Substring(colon + 1).Trim();
            if (value.Length == 0) continue;
            // x86 names the model in "model name"; Arm boards in "Model" (a Raspberry Pi) or "Hardware" (the SoC).
            if (key == "model name") return value;
            if (key == "Model") model ??= value;
            else if (key == "Hardware") hardware ??= value;
        }
        return model ?? hardware;
    }

    private static string? ReadCpuModel()
    {
        const string CpuInfo = "/proc/cpuinfo";
        try
        {
            return File.Exists(CpuInfo) ? ParseCpuModel(File.ReadAllText(CpuInfo)) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static double Median(Span<double> values)
    {
        values.Sort();
        int n = values.Length;
        return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    }

    /// <summary>Runs the FMA loop of the path for the given number of iterations and returns its wall time in seconds.</summary>
    internal static double RunFmaLoop(IsaPath path, long iterations)
    {
        long t0 = Stopwatch.GetTimestamp();
        float result = FmaPeak.Run(Isa.Resolve(path), iterations);
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        s_sink = result;
        return seconds;
    }
}
