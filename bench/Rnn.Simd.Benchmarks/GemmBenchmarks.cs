using BenchmarkDotNet.Attributes;
using Rnn.Simd.Benchmarks.Infrastructure;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Benchmarks;

/// <summary>
/// Square float GEMM, C (n x n) = A (n x n) · B (n x n), on one thread, either side of the 6 x 16 AVX2 tile and
/// the KC = 256 block edge. The naive baseline runs only up to n = 256 (a 1024³ scalar loop would take seconds per
/// invocation); above that the Ratio column is empty and GFLOP/s is the figure to read.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class GemmBenchmarks : IWorkload
{
    private const int NaiveMaxSize = 256;

    private float[] _a = [], _b = [], _c = [];
    private PackedMatrix<float> _packedB = null!;

    [Params(63, 64, 127, 255, 256, 512, 1023, 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int n = Size;
        _a = Data.Uniform(n * n, salt: 1);
        _b = Data.Uniform(n * n, salt: 2);
        _c = new float[n * n];
        _packedB = PackedMatrix<float>.Create(Transpose.None, n, n, _b, n);
    }

    [Benchmark(Baseline = true)]
    public void Naive() => Infrastructure.Naive.Gemm(Size, Size, Size, _a, _b, _c);

    [Benchmark]
    public void Unpacked()
        => Gemm.Multiply(Transpose.None, Transpose.None, Size, Size, Size, 1f, _a, Size, _b, Size, 0f, _c, Size, maxThreads: 1);

    [Benchmark]
    public void Packed()
        => Gemm.Multiply(Transpose.None, Size, 1f, _a, Size, _packedB, 0f, _c, Size, maxThreads: 1);

    /// <summary>The cost that pre-packing takes out of every product: repacking B after a weight update.</summary>
    [Benchmark]
    public void RepackB() => _packedB.Pack(Transpose.None, _b, Size);

    public double Flops(string method) => method == nameof(RepackB) ? 0 : 2.0 * Size * Size * Size;

    public double Bytes(string method) => method == nameof(RepackB) ? 2.0 * sizeof(float) * Size * Size : 0;

    public bool Include(string method) => method != nameof(Naive) || Size <= NaiveMaxSize;
}
