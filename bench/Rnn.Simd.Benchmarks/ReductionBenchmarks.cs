using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Rnn.Simd.Benchmarks.Infrastructure;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Benchmarks;

/// <summary>
/// Reductions of VectorMath (which delegate to TensorPrimitives) against a naive scalar loop (the baseline: one
/// dependent add chain) and TensorPrimitives called directly, over 4096 and 1,000,003 floats.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ReductionBenchmarks : IWorkload
{
    private float[] _x = [], _y = [];

    [Params(4096, 1_000_003)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _x = Data.Uniform(Length, salt: 1);
        _y = Data.Uniform(Length, salt: 2);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Sum")]
    public float Sum_Naive() => Naive.Sum(_x);

    [Benchmark, BenchmarkCategory("Sum")]
    public float Sum_TensorPrimitives() => TensorPrimitives.Sum<float>(_x);

    [Benchmark, BenchmarkCategory("Sum")]
    public float Sum() => VectorMath.Sum<float>(_x);

    [Benchmark(Baseline = true), BenchmarkCategory("Dot")]
    public float Dot_Naive() => Naive.Dot(_x, _y);

    [Benchmark, BenchmarkCategory("Dot")]
    public float Dot_TensorPrimitives() => TensorPrimitives.Dot<float>(_x, _y);

    [Benchmark, BenchmarkCategory("Dot")]
    public float Dot() => VectorMath.Dot<float>(_x, _y);

    [Benchmark(Baseline = true), BenchmarkCategory("SumOfSquares")]
    public float SumOfSquares_Naive() => Naive.SumOfSquares(_x);

    [Benchmark, BenchmarkCategory("SumOfSquares")]
    public float SumOfSquares_TensorPrimitives() => TensorPrimitives.SumOfSquares<float>(_x);

    [Benchmark, BenchmarkCategory("SumOfSquares")]
    public float SumOfSquares() => VectorMath.SumOfSquares<float>(_x);

    public double Flops(string method) => method.StartsWith("Sum_", StringComparison.Ordinal) || method == nameof(Sum)
        ? Length
        : 2.0 * Length;

    public double Bytes(string method) => method.StartsWith(nameof(Dot), StringComparison.Ordinal)
        ? 2.0 * sizeof(float) * Length
        : (double)sizeof(float) * Length;
}
