using Rnn.Simd.Kernels;

namespace Rnn.Simd.Cli.Diagnostics;

/// <summary>
/// What this process runs on: the ISA path the kernels use, the vector width, the core count, the operating system,
/// the .NET runtime and the CPU model. Produced by <see cref="MachineProbe.Describe"/>; takes no measurements.
/// </summary>
public sealed record MachineDescription
{
    /// <summary>The ISA path the kernels run on when <see cref="IsaPath.Auto"/> is requested (<see cref="Isa.Best"/>).</summary>
    public required IsaPath IsaPath { get; init; }

    /// <summary>Human-readable name of <see cref="IsaPath"/> with the instruction sets behind it (<see cref="Isa.Describe"/>), e.g. "Vector256 (AVX2 + FMA)".</summary>
    public required string IsaDescription { get; init; }

    /// <summary>Every concrete path this machine supports, narrowest first (<see cref="Isa.SupportedPaths"/>).</summary>
    public required IReadOnlyList<IsaPath> SupportedPaths { get; init; }

    /// <summary>Width of one vector register on <see cref="IsaPath"/>, in bytes (16, 32 or 64); 0 on the scalar path.</summary>
    public required int VectorBytes { get; init; }

    /// <summary>Number of float32 values one instruction processes on <see cref="IsaPath"/> (floats per vector); 1 on the scalar path.</summary>
    public required int VectorFloats { get; init; }

    /// <summary>Logical cores available to this process (<see cref="Environment.ProcessorCount"/>; honours affinity and container limits), a count.</summary>
    public required int LogicalCores { get; init; }

    /// <summary>Operating system name and version, e.g. "Debian GNU/Linux 12 (bookworm)" or "Linux 6.1.0-18-amd64 #1 SMP ...".</summary>
    public required string OSDescription { get; init; }

    /// <summary>The .NET runtime, e.g. ".NET 10.0.0".</summary>
    public required string RuntimeVersion { get; init; }

    /// <summary>Process architecture, e.g. "X64" or "Arm64".</summary>
    public required string ProcessArchitecture { get; init; }

    /// <summary>
    /// CPU model string from <c>/proc/cpuinfo</c> (the "model name" line on x86, "Model" or "Hardware" on Arm) when
    /// that file exists and names one; otherwise null. Virtual machines often shorten it (e.g. "AMD EPYC").
    /// </summary>
    public string? CpuModel { get; init; }
}
