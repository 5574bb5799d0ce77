using BenchmarkDotNet.Attributes;
using Rnn.Simd.Benchmarks.Infrastructure;
using Rnn.Simd.Cells;
using Rnn.Simd.Cli.Bench;
using Rnn.Simd.Network;

namespace Rnn.Simd.Benchmarks;

/// <summary>
/// The second inference peer: one stateful step at batch 1 of the same network in Rnn.Simd (RecurrentNetwork.Step,
/// the baseline) and in ONNX Runtime 1.32 running its ONNX export (Rnn.Simd.Onnx) with T = 1, the final state bound back
/// as the next initial state, one intra-op thread (<see cref="OnnxRuntimeStep"/>, the class <c>rnn-simd bench</c>
/// times too). The ratio column is ONNX Runtime's time over ours. MemoryDiagnoser counts managed bytes only; ONNX
/// Runtime's native allocations are not seen.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet's [GlobalCleanup] releases the session; the class must stay unsealed for BenchmarkDotNet.")]
public class OnnxRuntimeInferenceBenchmarks : IWorkload
{
    private RecurrentNetwork<float> _net = null!;
    private NetworkState<float> _state = null!;
    private OnnxRuntimeStep _peer = null!;
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
        _peer = new OnnxRuntimeStep(_net);
        _x.CopyTo(_peer.Input);
    }

    [GlobalCleanup]
    public void Cleanup() => _peer?.Dispose();

    [Benchmark(Baseline = true)]
    public float RnnSimd()
    {
        _net.Step(_x, _y, _state);
        return _y[0];
    }

    [Benchmark]
    public float OnnxRuntime()
    {
        _peer.Step();
        return _peer.Output[0];
    }

    public double Flops(string method) => 2.0 * (1 + Hidden) * Cell.GateCount() * Hidden;

    public double Bytes(string method) => 4.0 * Cell.GateCount() * Hidden * Hidden;
}
