using System.ComponentModel;
using System.Text.Json.Serialization;
using Rnn.Simd.Cli.Diagnostics;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Kernels;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>Options of <c>rnn-simd info</c>.</summary>
public sealed class InfoSettings : CommandSettings
{
    /// <summary>Print one JSON document instead of a table.</summary>
    [CommandOption("--json")]
    [Description("Print one JSON document on stdout instead of a table.")]
    public bool Json { get; init; }

    /// <summary>Measure the peak for 0.1 s instead of 1 s.</summary>
    [CommandOption("--quick")]
    [Description("Measure the FP32 peak for about 0.1 s instead of 1 s (rougher figure).")]
    public bool Quick { get; init; }
}

/// <summary><c>rnn-simd info</c>: what the kernels run on, and the single-core FP32 peak.</summary>
public sealed class InfoCommand(CliOutput output) : Command<InfoSettings>
{
    /// <inheritdoc/>
    public override int Execute(CommandContext context, InfoSettings settings, CancellationToken cancellationToken)
    {
        MachineDescription machine = MachineProbe.Describe();
        double peak = MachineProbe.MeasurePeakGflops(machine.IsaPath, TimeSpan.FromSeconds(settings.Quick ? 0.1 : 1.0));
        var report = InfoReport.Create(machine, peak);
        if (settings.Json)
        {
            CliJsonContext.Write(output.Out, report, static c => c.InfoReport);
            return ExitCodes.Success;
        }

        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Row(string name, string value) => grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value));
        Row("Tool", $"{ToolInfo.Name} {ToolInfo.Version}");
        Row("ISA path", report.IsaDescription);
        Row("Supported paths", string.Join(", ", report.SupportedPaths));
        Row("Vector width", machine.VectorBytes == 0
            ? "scalar (1 float)"
            : $"{report.VectorBytes} bytes = {report.VectorFloats} floats");
        Row("Logical cores", report.Cores.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Row("CPU model", report.CpuModel ?? "unknown");
        Row("Architecture", report.Architecture);
        Row("OS", report.Os);
        Row("Runtime", report.Runtime);
        Row("FP32 peak, 1 core", FormattableString.Invariant($"{report.PeakGflops:F1} GFLOP/s (FMA loop on {report.Isa}, median of 7)"));
        output.Console.Write(grid);
        return ExitCodes.Success;
    }
}

/// <summary>The document <c>rnn-simd info --json</c> prints (schema in README-cli.md).</summary>
public sealed record InfoReport
{
    /// <summary>Version of this schema.</summary>
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = 1;

    /// <summary>Always "rnn-simd".</summary>
    [JsonPropertyName("tool")] public string Tool { get; init; } = ToolInfo.Name;

    /// <summary>Version of the tool.</summary>
    [JsonPropertyName("version")] public string Version { get; init; } = ToolInfo.Version;

    /// <summary>ISA path in use, e.g. "Vector256".</summary>
    [JsonPropertyName("isa")] public required string Isa { get; init; }

    /// <summary>Description of the path, e.g. "Vector256 (AVX2 + FMA)".</summary>
    [JsonPropertyName("isaDescription")] public required string IsaDescription { get; init; }

    /// <summary>Every path this machine supports, narrowest first.</summary>
    [JsonPropertyName("supportedPaths")] public required IReadOnlyList<string> SupportedPaths { get; init; }

    /// <summary>Vector width in bytes (0 on the scalar path).</summary>
    [JsonPropertyName("vectorBytes")] public required int VectorBytes { get; init; }

    /// <summary>Floats per vector (1 on the scalar path).</summary>
    [JsonPropertyName("vectorFloats")] public required int VectorFloats { get; init; }

    /// <summary>Logical cores available to the process.</summary>
    [JsonPropertyName("cores")] public required int Cores { get; init; }

    /// <summary>CPU model from /proc/cpuinfo, or null.</summary>
    [JsonPropertyName("cpuModel")] public string? CpuModel { get; init; }

    /// <summary>Process architecture, e.g. "X64".</summary>
    [JsonPropertyName("architecture")] public required string Architecture { get; init; }

    /// <summary>Operating system description.</summary>
    [JsonPropertyName("os")] public required string Os { get; init; }

    /// <summary>.NET runtime description.</summary>
    [JsonPropertyName("runtime")] public required string Runtime { get; init; }

    /// <summary>Single-core FP32 peak on <see cref="Isa"/>, GFLOP/s.</summary>
    [JsonPropertyName("peakGflops")] public required double PeakGflops { get; init; }

    /// <summary>Builds the report from a description and a measured peak.</summary>
    public static InfoReport Create(MachineDescription machine, double peakGflops)
    {
        var paths = new List<string>(machine.SupportedPaths.Count);
        foreach (IsaPath p in machine.SupportedPaths) paths.Add(p.ToString());
        return new InfoReport
        {
            Isa = machine.IsaPath.ToString(),
            IsaDescription = machine.IsaDescription,
            SupportedPaths = paths,
            VectorBytes = machine.VectorBytes,
            VectorFloats = machine.VectorFloats,
            Cores = machine.LogicalCores,
            CpuModel = machine.CpuModel,
            Architecture = machine.ProcessArchitecture,
            Os = machine.OSDescription,
            Runtime = machine.RuntimeVersion,
            PeakGflops = Math.Round(peakGflops, 2),
        };
    }
}
