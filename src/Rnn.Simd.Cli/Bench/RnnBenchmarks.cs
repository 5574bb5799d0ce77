using Rnn.Simd.Alternatives.Rtrl;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;

namespace Rnn.Simd.Cli.Bench;

/// <summary>
/// One training case: a window of BPTT(T, T) with MSE plus an Adam update, FP32, on a 1-layer network with input size
/// 1 and output size 1.
/// </summary>
/// <param name="Cell">Cell type (Elman uses tanh).</param>
/// <param name="Batch">B, streams per window.</param>
/// <param name="Hidden">H.</param>
/// <param name="Threads">maxThreads of the BPTT engine's GEMMs.</param>
public sealed record TrainCase(CellType Cell, int Batch, int Hidden, int Threads)
{
    /// <summary>Steps per window, T (the schedule is BPTT(T, T)).</summary>
    public const int Window = 50;

    /// <summary>Input size I.</summary>
    public const int Input = 1;

    /// <summary>Output size O.</summary>
    public const int Output = 1;

    /// <summary>Recurrent matmul FLOPs of one window: 3 (forward, dh back, weight gradients) x T x 2·B·(I + L·H)·G·H,
    /// L the recurrence depth (<see cref="RnnBenchmarks.Depth"/>: micro-layers of RHN, 1 for the others).</summary>
    public double Flops => 3.0 * Window * 2.0 * Batch * (Input + RnnBenchmarks.Depth(Cell) * Hidden) * Cell.GateCount() * Hidden;

    /// <summary>The schedule, BPTT(50, 50).</summary>
    public static BpttSchedule Schedule => BpttSchedule.Epochwise(Window);

    /// <summary>Every cell x B in {1, 32} x the given hidden sizes x threads {1, 2}, in that nesting order.</summary>
    public static IReadOnlyList<TrainCase> Standard(IReadOnlyList<int> hiddenSizes)
    {
        var cases = new List<TrainCase>();
        foreach (CellType cell in RnnBenchmarks.Cells)
            foreach (int batch in new[] { 1, 32 })
                foreach (int hidden in hiddenSizes)
                    foreach (int threads in new[] { 1, 2 })
                        cases.Add(new(cell, batch, hidden, threads));
        return cases;
    }
}

/// <summary>One inference case: <see cref="RecurrentNetwork{T}.Step"/> of one stream (B = 1), FP32, 1 layer, I = O = 1.</summary>
/// <param name="Cell">Cell type (Elman uses tanh).</param>
/// <param name="Hidden">H.</param>
public sealed record InferenceCase(CellType Cell, int Hidden)
{
    /// <summary>Streams per step, B.</summary>
    public const int Batch = 1;

    /// <summary>Matmul FLOPs of one step: 2·B·(I + H)·G·H (the forward third of <see cref="TrainCase.Flops"/> per step).</summary>
    public double Flops => 2.0 * Batch * (TrainCase.Input + RnnBenchmarks.Depth(Cell) * Hidden) * Cell.GateCount() * Hidden;

    /// <summary>Every cell x the given hidden sizes.</summary>
    public static IReadOnlyList<InferenceCase> Standard(IReadOnlyList<int> hiddenSizes)
    {
        var cases = new List<InferenceCase>();
        foreach (CellType cell in RnnBenchmarks.Cells)
            foreach (int hidden in hiddenSizes)
                cases.Add(new(cell, hidden));
        return cases;
    }
}

/// <summary>Times training windows and inference steps of whole networks (the library's public API, FP32).</summary>
internal static class RnnBenchmarks
{
    /// <summary>The cells benchmarked, in report order.</summary>
    public static readonly CellType[] Cells = [CellType.Elman, CellType.Lstm, CellType.Gru, CellType.Highway];

    /// <summary>Recurrence depth of the benchmarked RHN (the "rhn" rows): 3 micro-layers per step; 1 for the other cells.</summary>
    public const int RhnDepth = 3;

    /// <summary>The recurrence depth a cell is benchmarked at.</summary>
    public static int Depth(CellType cell) => cell == CellType.Highway ? RhnDepth : 1;

    /// <summary>
    /// Adam learning rate of the update after each window. Adam moves every weight by up to about η per step whatever
    /// the gradient's size, and a case runs thousands of windows on random targets, so η is small (1e-4, where SGD used
    /// 1e-3 on gradients of order 1e-2) to keep the weights, and the tanh / sigmoid inputs, in a normal range.
    /// </summary>
    private const float LearningRate = 1e-4f;

    private const ulong Seed = 20261125;

    /// <summary>
    /// Times one training window: ZeroGradients, TruncatedBptt.Window (forward, MSE, backward), an Adam update
    /// (Optimizer.Step, one fused pass over the parameters, gradients and both moments), MarkParametersChanged (so the
    /// next window repacks the weights, as real training does). Everything is allocated and the engine has run before
    /// the clock starts.
    /// </summary>
    public static CaseMeasurement MeasureTrain(TrainCase c, IsaPath path, CaseBudget budget, CancellationToken cancellationToken)
    {
        var arch = new NetworkArchitecture(c.Cell, TrainCase.Input, [c.Hidden], TrainCase.Output, Activation.Tanh, Depth(c.Cell));
        var network = new RecurrentNetwork<float>(arch, Seed, path);
        var engine = new TruncatedBptt<float>(network, c.Batch, TrainCase.Schedule, c.Threads);
        Optimizer<float> adam = OptimizerFactory.Create<float>(OptimizerKind.Adam, network.Parameters.Length, regularization: null, path);
        var rng = new Rng(Seed + 1);
        float[] inputs = RandomArray(rng, TrainCase.Window * c.Batch * TrainCase.Input);
        float[] targets = RandomArray(rng, TrainCase.Window * c.Batch * TrainCase.Output);
        float loss = 0;

        void Window()
        {
            network.ZeroGradients();
            loss = engine.Window(inputs, targets);
            adam.Step(network.Parameters, network.Gradients, LearningRate);
            network.MarkParametersChanged();
        }

        CaseMeasurement m = CaseTimer.Measure(Window, budget, cancellationToken);
        if (!float.IsFinite(loss))
            throw new Infrastructure.CliException($"training {c.Cell} B={c.Batch} H={c.Hidden} diverged (loss {loss}); the timing would be meaningless.");
        return m;
    }

    /// <summary>Times one inference step of one stream, RecurrentNetwork.Step, with a warm state.</summary>
    public static CaseMeasurement MeasureInference(InferenceCase c, IsaPath path, CaseBudget budget, CancellationToken cancellationToken)
    {
        var arch = new NetworkArchitecture(c.Cell, TrainCase.Input, [c.Hidden], TrainCase.Output, Activation.Tanh, Depth(c.Cell));
        var network = new RecurrentNetwork<float>(arch, Seed, path);
        NetworkState<float> state = network.CreateState(InferenceCase.Batch);
        var rng = new Rng(Seed + 2);
        float[] input = RandomArray(rng, InferenceCase.Batch * TrainCase.Input);
        float[] output = new float[InferenceCase.Batch * TrainCase.Output];

        void Step() => network.Step(input, output, state);

        CaseMeasurement m = CaseTimer.Measure(Step, budget, cancellationToken);
        if (!float.IsFinite(output[0]))
            throw new Infrastructure.CliException($"inference {c.Cell} H={c.Hidden} produced {output[0]}; the timing would be meaningless.");
        return m;
    }

    /// <summary>
    /// Times ONNX Runtime on the ONNX export of the very network <see cref="MeasureInference"/> times (same architecture,
    /// seed and input), one step of one stream with the state fed back (<see cref="OnnxRuntimeStep"/>), under the same
    /// budget.
    /// </summary>
    public static CaseMeasurement MeasureOnnxRuntime(InferenceCase c, IsaPath path, CaseBudget budget, CancellationToken cancellationToken)
    {
        var arch = new NetworkArchitecture(c.Cell, TrainCase.Input, [c.Hidden], TrainCase.Output, Activation.Tanh);
        var network = new RecurrentNetwork<float>(arch, Seed, path);
        using var peer = new OnnxRuntimeStep(network);
        var rng = new Rng(Seed + 2);
        RandomArray(rng, InferenceCase.Batch * TrainCase.Input).CopyTo(peer.Input);

        CaseMeasurement m = CaseTimer.Measure(peer.Step, budget, cancellationToken);
        if (!float.IsFinite(peer.Output[0]))
            throw new Infrastructure.CliException($"onnxruntime {c.Cell} H={c.Hidden} produced {peer.Output[0]}; the timing would be meaningless.");
        return m;
    }

    /// <summary>Hidden sizes of the rtrl section: the O(H⁴) growth of the sensitivity update over a doubling range.</summary>
    public static IReadOnlyList<int> RtrlHiddenSizes { get; } = [8, 16, 32, 64];

    /// <summary>
    /// Times one online RTRL step of one stream (<see cref="RtrlGradient{T}.Step"/>: forward and the sensitivity update,
    /// then <see cref="RtrlGradient{T}.AccumulateGradient"/> of the step's squared error) on an LSTM of H units, I = O = 1,
    /// with the sensitivities carried on (a warm state); returns the measurement and the engine's state bytes.
    /// </summary>
    public static (CaseMeasurement Step, long StateBytes, int Parameters) MeasureRtrl(int hidden, IsaPath path, CaseBudget budget, CancellationToken cancellationToken)
    {
        var arch = new NetworkArchitecture(CellType.Lstm, TrainCase.Input, [hidden], TrainCase.Output);
        var network = new RecurrentNetwork<float>(arch, Seed, path);
        var rtrl = new RtrlGradient<float>(network);
        var rng = new Rng(Seed + 3);
        float[] input = RandomArray(rng, TrainCase.Input), target = RandomArray(rng, TrainCase.Output);
        float[] output = new float[TrainCase.Output], dOutput = new float[TrainCase.Output];

        void Step()
        {
            rtrl.Step(input, output);
            dOutput[0] = 2 * (output[0] - target[0]);
            rtrl.AccumulateGradient(dOutput, network.Gradients);
        }

        CaseMeasurement m = CaseTimer.Measure(Step, budget, cancellationToken);
        if (!float.IsFinite(output[0]))
            throw new Infrastructure.CliException($"rtrl H={hidden} produced {output[0]}; the timing would be meaningless.");
        return (m, rtrl.Bytes, network.Parameters.Length);
    }

    private static float[] RandomArray(Rng rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)rng.NextUniform(-1, 1);
        return values;
    }
}
