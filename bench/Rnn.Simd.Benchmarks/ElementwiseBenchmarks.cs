using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Rnn.Simd.Benchmarks.Infrastructure;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Benchmarks;

/// <summary>
/// Element-wise kernels of VectorMath against System.Numerics.Tensors.TensorPrimitives doing the same math, one
/// category per operation with TensorPrimitives as its baseline. 4096 floats (16 KiB) stay in L1; 1,000,003 (4 MB,
/// odd on purpose so the remainder path runs) come from L2/L3 or memory. Where TensorPrimitives has no fused form
/// (tanh / sigmoid backward) the baseline is the composition a user would write from it, one pass per operator.
/// Add, Multiply and Axpy of VectorMath delegate to TensorPrimitives, so their ratio should be 1.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ElementwiseBenchmarks : IWorkload
{
    private const float Alpha = 1e-3f;

    private float[] _x = [], _y = [], _activation = [], _dOutput = [], _destination = [], _accumulator = [];

    [Params(4096, 1_000_003)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _x = Data.Uniform(Length, -4f, 4f, salt: 1);           // pre-activations: both tails of tanh / σ
        _y = Data.Uniform(Length, -1f, 1f, salt: 2);
        _activation = Data.Uniform(Length, -0.99f, 0.99f, salt: 3); // plays y = tanh(a) or σ(a) in the backward passes
        _dOutput = Data.Uniform(Length, -1f, 1f, salt: 4);
        _destination = new float[Length];
        _accumulator = Data.Uniform(Length, -1f, 1f, salt: 5);
    }

    // ---- tanh ----
    [Benchmark(Baseline = true), BenchmarkCategory("Tanh")]
    public void Tanh_TensorPrimitives() => TensorPrimitives.Tanh(_x, _destination);

    [Benchmark, BenchmarkCategory("Tanh")]
    public void Tanh() => VectorMath.Tanh<float>(_x, _destination);

    // ---- sigmoid ----
    [Benchmark(Baseline = true), BenchmarkCategory("Sigmoid")]
    public void Sigmoid_TensorPrimitives() => TensorPrimitives.Sigmoid(_x, _destination);

    [Benchmark, BenchmarkCategory("Sigmoid")]
    public void Sigmoid() => VectorMath.Sigmoid<float>(_x, _destination);

    // ---- relu ----
    [Benchmark(Baseline = true), BenchmarkCategory("Relu")]
    public void Relu_TensorPrimitives() => TensorPrimitives.Max(_x, 0f, _destination);

    [Benchmark, BenchmarkCategory("Relu")]
    public void Relu() => VectorMath.Relu<float>(_x, _destination);

    // ---- tanh backward: dInput = dOutput (1 - y²) ----
    [Benchmark(Baseline = true), BenchmarkCategory("TanhBackward")]
    public void TanhBackward_TensorPrimitives()
    {
        TensorPrimitives.Multiply(_activation, _activation, _destination); // y²
        TensorPrimitives.Subtract(1f, _destination, _destination);         // 1 - y²
        TensorPrimitives.Multiply(_destination, _dOutput, _destination);   // dOutput (1 - y²)
    }

    [Benchmark, BenchmarkCategory("TanhBackward")]
    public void TanhBackward() => VectorMath.TanhBackward<float>(_activation, _dOutput, _destination);

    // ---- sigmoid backward: dInput = dOutput y (1 - y) ----
    [Benchmark(Baseline = true), BenchmarkCategory("SigmoidBackward")]
    public void SigmoidBackward_TensorPrimitives()
    {
        TensorPrimitives.Subtract(1f, _activation, _destination);          // 1 - y
        TensorPrimitives.Multiply(_destination, _activation, _destination); // y (1 - y)
        TensorPrimitives.Multiply(_destination, _dOutput, _destination);    // dOutput y (1 - y)
    }

    [Benchmark, BenchmarkCategory("SigmoidBackward")]
    public void SigmoidBackward() => VectorMath.SigmoidBackward<float>(_activation, _dOutput, _destination);

    // ---- add ----
    [Benchmark(Baseline = true), BenchmarkCategory("Add")]
    public void Add_TensorPrimitives() => TensorPrimitives.Add(_x, _y, _destination);

    [Benchmark, BenchmarkCategory("Add")]
    public void Add() => VectorMath.Add<float>(_x, _y, _destination);

    // ---- multiply ----
    [Benchmark(Baseline = true), BenchmarkCategory("Multiply")]
    public void Multiply_TensorPrimitives() => TensorPrimitives.Multiply(_x, _y, _destination);

    [Benchmark, BenchmarkCategory("Multiply")]
    public void Multiply() => VectorMath.Multiply<float>(_x, _y, _destination);

    // ---- axpy: y += alpha x (accumulates; alpha is small so repeated invocations stay far from overflow) ----
    [Benchmark(Baseline = true), BenchmarkCategory("Axpy")]
    public void Axpy_TensorPrimitives() => TensorPrimitives.MultiplyAdd(_x, Alpha, _accumulator, _accumulator);

    [Benchmark, BenchmarkCategory("Axpy")]
    public void Axpy() => VectorMath.Axpy<float>(Alpha, _x, _accumulator);

    public double Flops(string method) => 0;

    /// <summary>Compulsory traffic: each input read once and the output written once (what a fused kernel needs).</summary>
    public double Bytes(string method)
    {
        string op = method.Split('_')[0];
        int streams = op switch
        {
            nameof(Tanh) or nameof(Sigmoid) or nameof(Relu) => 2,
            _ => 3, // two inputs and an output; axpy reads x and y and writes y
        };
        return (double)sizeof(float) * streams * Length;
    }
}
