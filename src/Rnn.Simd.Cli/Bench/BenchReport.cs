using System.Text.Json.Serialization;

namespace Rnn.Simd.Cli.Bench;

/// <summary>
/// The document <c>rnn-simd bench --json</c> prints. The schema is documented in README-cli.md; keep it stable:
/// add fields or sections (as "train", "inference" and "optimizer" were), never rename or remove one, and bump
/// <see cref="SchemaVersion"/> only for an incompatible change.
/// </summary>
public sealed record BenchReport
{
    /// <summary>Version of this schema.</summary>
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = 1;

    /// <summary>Always "rnn-simd".</summary>
    [JsonPropertyName("tool")] public string Tool { get; init; } = Infrastructure.ToolInfo.Name;

    /// <summary>Version of the tool.</summary>
    [JsonPropertyName("version")] public required string Version { get; init; }

    /// <summary>ISA path benchmarked, e.g. "Vector256".</summary>
    [JsonPropertyName("isa")] public required string Isa { get; init; }

    /// <summary>Description of the path, e.g. "Vector256 (AVX2 + FMA)".</summary>
    [JsonPropertyName("isaDescription")] public required string IsaDescription { get; init; }

    /// <summary>Logical cores of the machine.</summary>
    [JsonPropertyName("cores")] public required int Cores { get; init; }

    /// <summary>Single-core FP32 peak of the path, GFLOP/s.</summary>
    [JsonPropertyName("peakGflops")] public required double PeakGflops { get; init; }

    /// <summary>Single-thread streaming copy bandwidth, GB/s (read + write bytes).</summary>
    [JsonPropertyName("bandwidthGBps")] public required double BandwidthGBps { get; init; }

    /// <summary>One row per GEMM case (empty when the gemm section was not run).</summary>
    [JsonPropertyName("gemm")] public required IReadOnlyList<GemmResult> Gemm { get; init; }

    /// <summary>One row per training case (empty when the train section was not run).</summary>
    [JsonPropertyName("train")] public required IReadOnlyList<TrainResult> Train { get; init; }

    /// <summary>One row per inference case (empty when the inference section was not run).</summary>
    [JsonPropertyName("inference")] public required IReadOnlyList<InferenceResult> Inference { get; init; }

    /// <summary>One row per optimiser (empty when the optimizer section was not run).</summary>
    [JsonPropertyName("optimizer")] public required IReadOnlyList<OptimizerResult> Optimizer { get; init; }

    /// <summary>One row per inference case run by ONNX Runtime (empty when the onnxruntime section was not run or the
    /// runtime could not be loaded; see <see cref="OnnxRuntimeVersion"/>).</summary>
    [JsonPropertyName("onnxRuntime")] public IReadOnlyList<OnnxRuntimeResult> OnnxRuntime { get; init; } = [];

    /// <summary>The rtrl section's rows (empty when it did not run).</summary>
    [JsonPropertyName("rtrl")] public IReadOnlyList<RtrlResult> Rtrl { get; init; } = [];

    /// <summary>"ONNX Runtime 1.32.0" when the onnxruntime section ran, "unavailable: reason" when its native library could
    /// not be loaded, null when the section was not asked for.</summary>
    [JsonPropertyName("onnxRuntimeVersion")] public string? OnnxRuntimeVersion { get; init; }
}

/// <summary>
/// One inference case run by ONNX Runtime: the ONNX export of the same network as the inference case (same cell, H,
/// seed, input), one step of one stream (T = 1, B = 1) with the final state bound back as the next initial state,
/// one intra-op thread; with the library's own step timed right before it in the same run.
/// </summary>
public sealed record OnnxRuntimeResult
{
    /// <summary>Cell type: "Elman" (tanh), "Lstm" or "Gru".</summary>
    [JsonPropertyName("cell")] public required string Cell { get; init; }

    /// <summary>B, always 1.</summary>
    [JsonPropertyName("batch")] public required int Batch { get; init; }

    /// <summary>H.</summary>
    [JsonPropertyName("hidden")] public required int Hidden { get; init; }

    /// <summary>I.</summary>
    [JsonPropertyName("input")] public required int Input { get; init; }

    /// <summary>O.</summary>
    [JsonPropertyName("output")] public required int Output { get; init; }

    /// <summary>Intra-op threads of the session (1).</summary>
    [JsonPropertyName("threads")] public required int Threads { get; init; }

    /// <summary>Median microseconds per ONNX Runtime step (one RunWithBinding call).</summary>
    [JsonPropertyName("microsecondsPerStep")] public required double MicrosecondsPerStep { get; init; }

    /// <summary>Median microseconds per RecurrentNetwork.Step of the same network, timed right before in the same run.</summary>
    [JsonPropertyName("rnnSimdMicrosecondsPerStep")] public required double RnnSimdMicrosecondsPerStep { get; init; }

    /// <summary>microsecondsPerStep / rnnSimdMicrosecondsPerStep: above 1, ONNX Runtime is slower.</summary>
    [JsonPropertyName("ratio")] public required double Ratio { get; init; }

    /// <summary>Managed bytes the timing thread allocated per ONNX Runtime step, 2 decimals (native allocations are not counted).</summary>
    [JsonPropertyName("allocatedBytes")] public required double AllocatedBytes { get; init; }
}

/// <summary>
/// One optimiser case: one fused Optimizer.Step (gradient scale, clipping, regulariser and the rule in one pass) over
/// 1,000,000 float parameters on one thread, with default hyper-parameters and no regularisation.
/// </summary>
public sealed record OptimizerResult
{
    /// <summary>The optimiser's name: "SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "RMSprop+gains", "Adam", "AdamW".</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>The OptimizerKind it was created from: "Sgd", ..., "RmsPropGains", "Adam", "AdamW" (what a command line takes).</summary>
    [JsonPropertyName("kind")] public required string Kind { get; init; }

    /// <summary>Parameters updated per step (1,000,000).</summary>
    [JsonPropertyName("parameters")] public required int Parameters { get; init; }

    /// <summary>Bytes read plus written per parameter and step: 4 · (3 + 2 · states), e.g. 28 for Adam.</summary>
    [JsonPropertyName("bytesPerParameter")] public required int BytesPerParameter { get; init; }

    /// <summary>Median nanoseconds of one step divided by the parameters.</summary>
    [JsonPropertyName("nanosecondsPerParameter")] public required double NanosecondsPerParameter { get; init; }

    /// <summary>Effective bandwidth of the step: bytesPerParameter · parameters / median seconds per step / 10^9.</summary>
    [JsonPropertyName("gbPerSecond")] public required double GbPerSecond { get; init; }

    /// <summary>gbPerSecond / the report's bandwidthGBps (streaming copy of buffers far beyond any cache).</summary>
    [JsonPropertyName("fractionOfBandwidth")] public required double FractionOfBandwidth { get; init; }

    /// <summary>Bandwidth of a span copy moving the same bytes as one step, timed right after it, GB/s (read + written).</summary>
    [JsonPropertyName("copyGBps")] public required double CopyGBps { get; init; }

    /// <summary>gbPerSecond / copyGBps: the step against a copy of its own working set.</summary>
    [JsonPropertyName("fractionOfCopy")] public required double FractionOfCopy { get; init; }

    /// <summary>Bytes the timing thread allocated per timed step, 2 decimals (0 is expected).</summary>
    [JsonPropertyName("allocatedBytes")] public required double AllocatedBytes { get; init; }

    /// <summary>Median time of one step in microseconds; shown in the table, not part of the JSON schema.</summary>
    [JsonIgnore] public double MicrosecondsPerStep { get; init; }
}

/// <summary>
/// One training case: a window of BPTT(T, T) with MSE (TruncatedBptt.Window) plus an Adam update (Optimizer.Step),
/// FP32, 1 layer.
/// </summary>
public sealed record TrainResult
{
    /// <summary>Cell type: "Elman" (tanh), "Lstm" or "Gru".</summary>
    [JsonPropertyName("cell")] public required string Cell { get; init; }

    /// <summary>B, streams per window.</summary>
    [JsonPropertyName("batch")] public required int Batch { get; init; }

    /// <summary>H.</summary>
    [JsonPropertyName("hidden")] public required int Hidden { get; init; }

    /// <summary>I.</summary>
    [JsonPropertyName("input")] public required int Input { get; init; }

    /// <summary>O.</summary>
    [JsonPropertyName("output")] public required int Output { get; init; }

    /// <summary>T, steps per window.</summary>
    [JsonPropertyName("window")] public required int Window { get; init; }

    /// <summary>The schedule, "BPTT(50,50)".</summary>
    [JsonPropertyName("bptt")] public required string Bptt { get; init; }

    /// <summary>maxThreads of the BPTT engine.</summary>
    [JsonPropertyName("threads")] public required int Threads { get; init; }

    /// <summary>Median microseconds per window, update included.</summary>
    [JsonPropertyName("microsecondsPerWindow")] public required double MicrosecondsPerWindow { get; init; }

    /// <summary>Recurrent matmul GFLOP/s: 3·T·2·B·(I + H)·G·H per window over the median time.</summary>
    [JsonPropertyName("gflops")] public required double Gflops { get; init; }

    /// <summary>gflops / (peakGflops · min(threads, cores)).</summary>
    [JsonPropertyName("fractionOfPeak")] public required double FractionOfPeak { get; init; }

    /// <summary>Bytes the timing thread allocated per timed window, 2 decimals (0 is expected).</summary>
    [JsonPropertyName("allocatedBytes")] public required double AllocatedBytes { get; init; }
}

/// <summary>One inference case: RecurrentNetwork.Step of one stream, FP32, 1 layer.</summary>
public sealed record InferenceResult
{
    /// <summary>Cell type: "Elman" (tanh), "Lstm" or "Gru".</summary>
    [JsonPropertyName("cell")] public required string Cell { get; init; }

    /// <summary>B, always 1.</summary>
    [JsonPropertyName("batch")] public required int Batch { get; init; }

    /// <summary>H.</summary>
    [JsonPropertyName("hidden")] public required int Hidden { get; init; }

    /// <summary>I.</summary>
    [JsonPropertyName("input")] public required int Input { get; init; }

    /// <summary>O.</summary>
    [JsonPropertyName("output")] public required int Output { get; init; }

    /// <summary>Median microseconds per step.</summary>
    [JsonPropertyName("microsecondsPerStep")] public required double MicrosecondsPerStep { get; init; }

    /// <summary>Matmul GFLOP/s: 2·B·(I + H)·G·H per step over the median time.</summary>
    [JsonPropertyName("gflops")] public required double Gflops { get; init; }

    /// <summary>gflops / peakGflops (one thread).</summary>
    [JsonPropertyName("fractionOfPeak")] public required double FractionOfPeak { get; init; }

    /// <summary>Bytes the timing thread allocated per timed step, 2 decimals (0 is expected).</summary>
    [JsonPropertyName("allocatedBytes")] public required double AllocatedBytes { get; init; }
}

/// <summary>One GEMM case: C[m x n] = A[m x k] · B[k x n], FP32, row-major.</summary>
public sealed record GemmResult
{
    /// <summary>Rows of A and C (the batch size B for RNN shapes).</summary>
    [JsonPropertyName("m")] public required int M { get; init; }

    /// <summary>Columns of B and C (4H for RNN shapes).</summary>
    [JsonPropertyName("n")] public required int N { get; init; }

    /// <summary>Inner dimension (H for RNN shapes).</summary>
    [JsonPropertyName("k")] public required int K { get; init; }

    /// <summary>Threads the multiply ran on (the requested count, capped at the logical cores).</summary>
    [JsonPropertyName("threads")] public required int Threads { get; init; }

    /// <summary>Whether B was packed once beforehand (PackedMatrix) instead of on every call.</summary>
    [JsonPropertyName("prepacked")] public required bool Prepacked { get; init; }

    /// <summary>Achieved GFLOP/s, 2·m·n·k per call over the median time per call.</summary>
    [JsonPropertyName("gflops")] public required double Gflops { get; init; }

    /// <summary>gflops / (peakGflops · threads).</summary>
    [JsonPropertyName("fractionOfPeak")] public required double FractionOfPeak { get; init; }

    /// <summary>Median time of one call in microseconds; shown in the table, not part of the JSON schema.</summary>
    [JsonIgnore] public double MicrosecondsPerCall { get; init; }
}

/// <summary>
/// One RTRL case (Williams and Zipser 1989; <c>Rnn.Simd.Alternatives.Rtrl.RtrlGradient</c>): one online step of one
/// stream (forward, the sensitivity update, the gradient of the step's loss), FP32, 1 layer, I = O = 1, beside the
/// per-step cost of a TBPTT training window of the same network (B = 1, BPTT(50, 50) with Adam, divided by 50).
/// </summary>
public sealed record RtrlResult
{
    /// <summary>Cell.</summary>
    [JsonPropertyName("cell")] public required string Cell { get; init; }

    /// <summary>H.</summary>
    [JsonPropertyName("hidden")] public required int Hidden { get; init; }

    /// <summary>Parameters |θ| of the network.</summary>
    [JsonPropertyName("parameters")] public required int Parameters { get; init; }

    /// <summary>Bytes of the sensitivity matrices ∂s/∂θ (state size x |θ| x 4).</summary>
    [JsonPropertyName("stateBytes")] public required long StateBytes { get; init; }

    /// <summary>Median microseconds of one RTRL step.</summary>
    [JsonPropertyName("microsecondsPerStep")] public required double MicrosecondsPerStep { get; init; }

    /// <summary>Microseconds per step of the TBPTT window of the same network, timed right before.</summary>
    [JsonPropertyName("tbpttMicrosecondsPerStep")] public required double TbpttMicrosecondsPerStep { get; init; }

    /// <summary>RTRL time / TBPTT time per step.</summary>
    [JsonPropertyName("ratio")] public required double Ratio { get; init; }

    /// <summary>Bytes allocated per RTRL step after warm-up (0 expected).</summary>
    [JsonPropertyName("allocatedBytes")] public required double AllocatedBytes { get; init; }
}
