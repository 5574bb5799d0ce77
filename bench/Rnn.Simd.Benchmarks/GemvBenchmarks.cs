using BenchmarkDotNet.Attributes;
using Rnn.Simd.Benchmarks.Infrastructure;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Benchmarks;

/// <summary>
/// y (1 x N) = x (1 x K) · W (K x N): Gemm.Multiply with M = 1, which takes the one-row path (W streamed, not
/// packed). Once W outgrows the caches this is bound by memory bandwidth, so GB/s (W read once, plus x and y) is the
/// figure to compare with MachineBenchmarks.Copy; 512 x 2048 floats is 4 MiB.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class GemvBenchmarks : IWorkload
{
    private float[] _x = [], _w = [], _y = [];
    private PackedMatrix<float> _packedW = null!;

    public static IEnumerable<GemvShape> Shapes =>
    [
        new(63, 255),
        new(128, 512),
        new(255, 1021),
        new(512, 2048),
        new(1023, 4093),
    ];

    [ParamsSource(nameof(Shapes))]
    public GemvShape Shape { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _x = Data.Uniform(Shape.K, salt: 1);
        _w = Data.Uniform(Shape.K * Shape.N, -0.1f, 0.1f, salt: 2);
        _y = new float[Shape.N];
        _packedW = PackedMatrix<float>.Create(Transpose.None, Shape.K, Shape.N, _w, Shape.N);
    }

    [Benchmark(Baseline = true)]
    public void Naive() => Infrastructure.Naive.Gemm(1, Shape.N, Shape.K, _x, _w, _y);

    [Benchmark]
    public void Unpacked()
        => Gemm.Multiply(Transpose.None, Transpose.None, 1, Shape.N, Shape.K, 1f, _x, Shape.K, _w, Shape.N, 0f, _y, Shape.N);

    [Benchmark]
    public void Packed() => Gemm.Multiply(Transpose.None, 1, 1f, _x, Shape.K, _packedW, 0f, _y, Shape.N);

    public double Flops(string method) => 2.0 * Shape.K * Shape.N;

    public double Bytes(string method) => sizeof(float) * ((double)Shape.K * Shape.N + Shape.K + Shape.N);
}

/// <summary>The (1 x K) · (K x N) shape of one GEMV case; prints as "KxN".</summary>
public readonly record struct GemvShape(int K, int N)
{
    public override string ToString() => $"{K}x{N}";
}
