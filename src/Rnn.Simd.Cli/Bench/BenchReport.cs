using System.Text.Json.Serialization;

namespace Rnn.Simd.Cli.Bench;

/// <summary>
/// The document <c>rnn-simd bench --json</c> prints. The schema is documented in README-cli.md; keep it stable:
/// add fields or sections (later: "train", "inference", "optimizer" lists), never rename or remove one, and bump
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

    /// <summary>One row per GEMM case.</summary>
    [JsonPropertyName("gemm")] public required IReadOnlyList<GemmResult> Gemm { get; init; }
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
