using BenchmarkDotNet.Attributes;
using Rnn.Simd.Benchmarks.Infrastructure;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Training.Bptt;

namespace Rnn.Simd.Benchmarks;

/// <summary>
/// One training window as issue 3 defines it: T = 50 steps of BPTT(50, 50), input size 1, Linear(H, 1) readout, MSE,
/// then a plain SGD update (and the repack of the recurrent weights it triggers). GFLOP/s counts the recurrent
/// matmul FLOPs of a window, 3 · T · 2 · B · (I + H) · G · H.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class TrainingBenchmarks : IWorkload
{
    private const int Steps = 50;
    private RecurrentNetwork<float> _net = null!;
    private TruncatedBptt<float> _bptt = null!;
    private float[] _x = [], _y = [];

    [Params(CellType.Elman, CellType.Lstm, CellType.Gru)]
    public CellType Cell { get; set; }

    [Params(1, 32)]
    public int Batch { get; set; }

    [Params(32, 128, 512)]
    public int Hidden { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _net = new RecurrentNetwork<float>(new NetworkArchitecture(Cell, 1, [Hidden], 1), seed: 1);
        _bptt = new TruncatedBptt<float>(_net, Batch, BpttSchedule.Epochwise(Steps), Threads);
        _x = Data.Uniform(Steps * Batch, salt: 3);
        _y = Data.Uniform(Steps * Batch, salt: 4);
    }

    [Benchmark]
    public float Window()
    {
        _net.ZeroGradients();
        float loss = _bptt.Window(_x, _y);
        VectorMath.Axpy(-1e-4f, _net.Gradients, _net.Parameters);
        _net.MarkParametersChanged();
        return loss;
    }

    public double Flops(string method) => 3.0 * Steps * 2 * Batch * (1 + Hidden) * Cell.GateCount() * Hidden;

    public double Bytes(string method) => 0;
}

/// <summary>One stateful inference step at batch 1 (RecurrentNetwork.Step), the state carried across calls.</summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class InferenceBenchmarks : IWorkload
{
    private RecurrentNetwork<float> _net = null!;
    private NetworkState<float> _state = null!;
    private readonly float[] _x = [0.25f], _y = new float[1];

    [Params(CellType.Elman, CellType.Lstm, CellType.Gru)]
    public CellType Cell { get; set; }

    [Params(32, 128, 512)]
    public int Hidden { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _net = new RecurrentNetwork<float>(new NetworkArchitecture(Cell, 1, [Hidden], 1), seed: 1);
        _state = _net.CreateState();
    }

    [Benchmark]
    public float Step()
    {
        _net.Step(_x, _y, _state);
        return _y[0];
    }

    public double Flops(string method) => 2.0 * (1 + Hidden) * Cell.GateCount() * Hidden;

    /// <summary>The recurrent weights streamed once per step (float).</summary>
    public double Bytes(string method) => 4.0 * Cell.GateCount() * Hidden * Hidden;
}
