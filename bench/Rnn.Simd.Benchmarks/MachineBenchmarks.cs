using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Rnn.Simd.Benchmarks.Infrastructure;

namespace Rnn.Simd.Benchmarks;

/// <summary>
/// What this machine can do at best, measured in the same run as the kernels so that their GFLOP/s and GB/s can be
/// read as a fraction of it: the in-register FMA peak of one core (the same 12-accumulator loop as
/// <c>MachineProbe.MeasurePeakGflops</c> and <c>rnn-simd info</c>), and memory bandwidth through a copy and a
/// read-only sum of 256 MiB (far beyond any cache).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MachineBenchmarks : IWorkload
{
    /// <summary>
    /// Independent accumulators: an FMA has a latency of about 4 cycles and there are two FMA pipes, so at least 8
    /// chains must be in flight to keep both busy; 12 leaves slack and still fits 16 vector registers with the two
    /// constants.
    /// </summary>
    private const int Chains = 12;

    /// <summary>FMA rounds per invocation: 2^20 rounds x 12 chains x 8 lanes x 2 = 201 MFLOP on Vector256, ~2 ms at peak.</summary>
    private const int Rounds = 1 << 20;

    /// <summary>Scalar rounds: a scalar FMA does 1/8 of the work of a Vector256 one, so fewer rounds for similar time.</summary>
    private const int ScalarRounds = 1 << 18;

    private const int StreamBytes = 256 << 20;

    private byte[] _source = [], _destination = [];
    private float[] _floats = [];

    /// <summary>Lanes of a float vector on the path in use (MachineProbe's loop runs on Isa.Best).</summary>
    private static int Lanes => Math.Max(1, Kernels.Isa.VectorBytes(Kernels.Isa.Best) / sizeof(float));

    [GlobalSetup(Targets = [nameof(Copy256MiB), nameof(ReadSum256MiB)])]
    public void SetupStreams()
    {
        _source = GC.AllocateUninitializedArray<byte>(StreamBytes);
        _destination = GC.AllocateUninitializedArray<byte>(StreamBytes);
        // Touch every page now so the first timed copy does not pay for page faults.
        _source.AsSpan().Fill(1);
        _destination.AsSpan().Clear();
        _floats = Data.Uniform(StreamBytes / sizeof(float));
    }

    [GlobalCleanup(Targets = [nameof(Copy256MiB), nameof(ReadSum256MiB)])]
    public void CleanupStreams()
    {
        _source = _destination = [];
        _floats = [];
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Fma")]
    public double ScalarFma() => Cli.Diagnostics.MachineProbe.RunFmaLoop(Kernels.IsaPath.Scalar, ScalarRounds);

    [Benchmark, BenchmarkCategory("Fma")]
    public double VectorFma() => Cli.Diagnostics.MachineProbe.RunFmaLoop(Kernels.Isa.Best, Rounds);

    [Benchmark(Baseline = true), BenchmarkCategory("Memory")]
    public void Copy256MiB() => _source.AsSpan().CopyTo(_destination);

    [Benchmark, BenchmarkCategory("Memory")]
    public float ReadSum256MiB() => TensorPrimitives.Sum<float>(_floats);

    public double Flops(string method) => method switch
    {
        nameof(ScalarFma) => 2.0 * Chains * ScalarRounds,
        nameof(VectorFma) => 2.0 * Chains * Lanes * Rounds,
        _ => 0,
    };

    /// <summary>STREAM convention: a copy counts the bytes read and the bytes written.</summary>
    public double Bytes(string method) => method switch
    {
        nameof(Copy256MiB) => 2.0 * StreamBytes,
        nameof(ReadSum256MiB) => StreamBytes,
        _ => 0,
    };
}
