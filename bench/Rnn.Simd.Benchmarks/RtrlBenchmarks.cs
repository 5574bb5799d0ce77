using BenchmarkDotNet.Attributes;
using Rnn.Simd.Alternatives.Rtrl;
using Rnn.Simd.Benchmarks.Infrastructure;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;

namespace Rnn.Simd.Benchmarks;

/// <summary>
/// Real-time recurrent learning against truncated BPTT on the same network (I = 4, O = 1, batch 1, float), per time
/// step: <see cref="Rtrl"/> is one online RTRL training step (forward with sensitivities, the step's gradient and an
/// Adam update, <see cref="RtrlTrainer{T}"/> with k = 1); <see cref="Tbptt"/> is one BPTT(48, 24) window with its Adam
/// update divided by its 24 steps (the library's default trainer). RTRL's cost is the (G·H x H) · (H x |θ|) GEMM of
/// the sensitivity update, |θ| = G·H·(I + H + 2): O(G² H⁴), so each doubling of H should cost ~16x (less at small H,
/// where per-step overheads dominate). GFLOP/s counts that GEMM and the gradient GEMV (RTRL), or the window's three
/// recurrent products (TBPTT); GB/s reads the sensitivities (<see cref="RtrlGradient{T}.SensitivityBytes"/>, the
/// "bytes of state") once and writes them once per step.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class RtrlBenchmarks : IWorkload
{
    private const int Inputs = 4, Window = 24;
    private RtrlTrainer<float> _rtrl = null!;
    private SequenceData<float> _data = null!;
    private int _t;
    private RecurrentNetwork<float> _bpttNet = null!;
    private TruncatedBptt<float> _bptt = null!;
    private Optimizer<float> _adam = null!;
    private float[] _x = [], _y = [];

    [Params(CellType.Elman, CellType.Lstm, CellType.Gru)]
    public CellType Cell { get; set; }

    [Params(8, 16, 32, 64)]
    public int Hidden { get; set; }

    private NetworkArchitecture Architecture => new(Cell, Inputs, [Hidden], 1);

    [GlobalSetup]
    public void Setup()
    {
        const int steps = 4096;
        _data = new SequenceData<float>(Data.Uniform(steps * Inputs, salt: 1), Data.Uniform(steps, salt: 2), Inputs, 1);
        _rtrl = new RtrlTrainer<float>(new RecurrentNetwork<float>(Architecture, seed: 1), new RtrlOptions { LearningRate = 1e-5 });
        _rtrl.BeginEpoch();
        _bpttNet = new RecurrentNetwork<float>(Architecture, seed: 1);
        _bptt = new TruncatedBptt<float>(_bpttNet, 1, BpttSchedule.Default(Window));
        _adam = OptimizerFactory.Create<float>(OptimizerKind.Adam, _bpttNet.Parameters.Length);
        _x = Data.Uniform(Window * Inputs, salt: 3);
        _y = Data.Uniform(Window, salt: 4);
    }

    [Benchmark]
    public void Rtrl()
    {
        // A step of the series after the last (wrapping without a restart: the sensitivities carry on, as online).
        _rtrl.TrainStep(_data, _t, 1);
        _t = _t + 1 == _data.Steps - 1 ? 0 : _t + 1;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Window)]
    public float Tbptt()
    {
        _bpttNet.ZeroGradients();
        float loss = _bptt.Window(_x, _y);
        _adam.Step(_bpttNet.Parameters, _bpttNet.Gradients, 1e-5f);
        _bpttNet.MarkParametersChanged();
        return loss;
    }

    public double Flops(string method)
    {
        int g = Cell.GateCount(), h = Hidden;
        double columns = (double)g * h * (Inputs + h + 2);
        return method == nameof(Rtrl)
            ? 2.0 * g * h * h * columns + 2.0 * h * columns
            : 3.0 * 2 * (Inputs + h) * g * h; // per step: forward, dGates · W, weight gradients
    }

    public double Bytes(string method) => method == nameof(Rtrl) ? 2.0 * RtrlGradient<float>.SensitivityBytes(Architecture, sizeof(float)) : 0;
}
