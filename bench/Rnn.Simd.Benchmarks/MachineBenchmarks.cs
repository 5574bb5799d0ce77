using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Rnn.Simd.Benchmarks.Infrastructure;

namespace Rnn.Simd.Benchmarks;

/// <summary>
/// What this machine can do at best, measured in the same run as the kernels so that their GFLOP/s and GB/s can be
/// read as a fraction of it: the in-register FMA peak of one core, and memory bandwidth through a copy and a
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

    /// <summary>Lanes of the widest hardware-accelerated float vector (16 with AVX-512, 8 with AVX2).</summary>
    private static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<float>.Count
        : Vector256.IsHardwareAccelerated ? Vector256<float>.Count
        : Vector128<float>.Count;

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
    public float ScalarFma() => ScalarFmaLoop(ScalarRounds, 0.999999f, 1e-7f);

    [Benchmark, BenchmarkCategory("Fma")]
    public float VectorFma() => Vector512.IsHardwareAccelerated
        ? Vector512FmaLoop(Rounds, 0.999999f, 1e-7f)
        : Vector256FmaLoop(Rounds, 0.999999f, 1e-7f);

    [Benchmark(Baseline = true), BenchmarkCategory("Memory")]
    public void Copy256MiB() => _source.AsSpan().CopyTo(_destination);

    [Benchmark, BenchmarkCategory("Memory")]
    public float ReadSum256MiB() => TensorPrimitives.Sum<float>(_floats);

    public double Flops(string method) => method switch
    {
        nameof(ScalarFma) => 2.0 * Chains * ScalarRounds,
        nameof(VectorFma) => 2.0 * Chains * Lanes * (double)Rounds,
        _ => 0,
    };

    /// <summary>STREAM convention: a copy counts the bytes read and the bytes written.</summary>
    public double Bytes(string method) => method switch
    {
        nameof(Copy256MiB) => 2.0 * StreamBytes,
        nameof(ReadSum256MiB) => StreamBytes,
        _ => 0,
    };

    // c = c·a + b converges to b / (1 - a) = 0.1: no overflow and no denormals, whatever the round count.

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Vector256FmaLoop(int rounds, float multiplier, float addend)
    {
        Vector256<float> a = Vector256.Create(multiplier), b = Vector256.Create(addend);
        Vector256<float> c0 = Vector256.Create(0.00f), c1 = Vector256.Create(0.01f), c2 = Vector256.Create(0.02f);
        Vector256<float> c3 = Vector256.Create(0.03f), c4 = Vector256.Create(0.04f), c5 = Vector256.Create(0.05f);
        Vector256<float> c6 = Vector256.Create(0.06f), c7 = Vector256.Create(0.07f), c8 = Vector256.Create(0.08f);
        Vector256<float> c9 = Vector256.Create(0.09f), c10 = Vector256.Create(0.10f), c11 = Vector256.Create(0.11f);
        for (int i = 0; i < rounds; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b);
            c2 = Vector256.FusedMultiplyAdd(c2, a, b); c3 = Vector256.FusedMultiplyAdd(c3, a, b);
            c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b);
            c8 = Vector256.FusedMultiplyAdd(c8, a, b); c9 = Vector256.FusedMultiplyAdd(c9, a, b);
            c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
        }
        return Vector256.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Vector512FmaLoop(int rounds, float multiplier, float addend)
    {
        Vector512<float> a = Vector512.Create(multiplier), b = Vector512.Create(addend);
        Vector512<float> c0 = Vector512.Create(0.00f), c1 = Vector512.Create(0.01f), c2 = Vector512.Create(0.02f);
        Vector512<float> c3 = Vector512.Create(0.03f), c4 = Vector512.Create(0.04f), c5 = Vector512.Create(0.05f);
        Vector512<float> c6 = Vector512.Create(0.06f), c7 = Vector512.Create(0.07f), c8 = Vector512.Create(0.08f);
        Vector512<float> c9 = Vector512.Create(0.09f), c10 = Vector512.Create(0.10f), c11 = Vector512.Create(0.11f);
        for (int i = 0; i < rounds; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b);
            c2 = Vector512.FusedMultiplyAdd(c2, a, b); c3 = Vector512.FusedMultiplyAdd(c3, a, b);
            c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b);
            c8 = Vector512.FusedMultiplyAdd(c8, a, b); c9 = Vector512.FusedMultiplyAdd(c9, a, b);
            c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
        }
        return Vector512.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float ScalarFmaLoop(int rounds, float a, float b)
    {
        float c0 = 0.00f, c1 = 0.01f, c2 = 0.02f, c3 = 0.03f, c4 = 0.04f, c5 = 0.05f;
        float c6 = 0.06f, c7 = 0.07f, c8 = 0.08f, c9 = 0.09f, c10 = 0.10f, c11 = 0.11f;
        for (int i = 0; i < rounds; i++)
        {
            c0 = MathF.FusedMultiplyAdd(c0, a, b); c1 = MathF.FusedMultiplyAdd(c1, a, b);
            c2 = MathF.FusedMultiplyAdd(c2, a, b); c3 = MathF.FusedMultiplyAdd(c3, a, b);
            c4 = MathF.FusedMultiplyAdd(c4, a, b); c5 = MathF.FusedMultiplyAdd(c5, a, b);
            c6 = MathF.FusedMultiplyAdd(c6, a, b); c7 = MathF.FusedMultiplyAdd(c7, a, b);
            c8 = MathF.FusedMultiplyAdd(c8, a, b); c9 = MathF.FusedMultiplyAdd(c9, a, b);
            c10 = MathF.FusedMultiplyAdd(c10, a, b); c11 = MathF.FusedMultiplyAdd(c11, a, b);
        }
        return ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
    }
}
