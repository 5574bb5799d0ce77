using BenchmarkDotNet.Attributes;
using Rnn.Simd.Benchmarks.Infrastructure;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Benchmarks;

/// <summary>
/// The product an LSTM step does with its recurrent weights: gates (B x 4H) = h (B x H) · W_hh (H x 4H), gate order
/// i, f, g, o along the 4H columns. B = 1 is online inference (the one-row path, which is single-threaded whatever
/// maxThreads says); B = 32 a training mini-batch. Threads is Gemm.Multiply's maxThreads; on this machine the
/// second core is shared with neighbours, so 2 threads gives at most ~1.2-1.3x.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class RnnShapeGemmBenchmarks : IWorkload
{
    private float[] _h = [], _w = [], _gates = [];
    private PackedMatrix<float> _packedW = null!;

    [Params(1, 32)]
    public int Batch { get; set; }

    [Params(32, 128, 512)]
    public int Hidden { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    private int GateColumns => 4 * Hidden;

    [GlobalSetup]
    public void Setup()
    {
        _h = Data.Uniform(Batch * Hidden, salt: 1);
        _w = Data.Uniform(Hidden * GateColumns, -0.1f, 0.1f, salt: 2);
        _gates = new float[Batch * GateColumns];
        _packedW = PackedMatrix<float>.Create(Transpose.None, Hidden, GateColumns, _w, GateColumns);
    }

    [Benchmark(Baseline = true)]
    public void Naive() => Infrastructure.Naive.Gemm(Batch, GateColumns, Hidden, _h, _w, _gates);

    [Benchmark]
    public void Unpacked()
        => Gemm.Multiply(Transpose.None, Transpose.None, Batch, GateColumns, Hidden,
            1f, _h, Hidden, _w, GateColumns, 0f, _gates, GateColumns, maxThreads: Threads);

    [Benchmark]
    public void Packed()
        => Gemm.Multiply(Transpose.None, Batch, 1f, _h, Hidden, _packedW, 0f, _gates, GateColumns, maxThreads: Threads);

    public double Flops(string method) => 2.0 * Batch * Hidden * GateColumns;

    public double Bytes(string method) => 0;
}
