using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Rnn.Simd.Cli.Bench;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Diagnostics;
using Rnn.Simd.Kernels;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>Options of <c>rnn-simd bench</c>.</summary>
public sealed class BenchSettings : CommandSettings
{
    /// <summary>Print exactly one JSON document on stdout instead of a table.</summary>
    [CommandOption("--json")]
    [Description("Print exactly one JSON document on stdout (progress still goes to stderr).")]
    public bool Json { get; init; }

    /// <summary>Short budgets (about 1-2 s in all).</summary>
    [CommandOption("--quick")]
    [Description("Short budgets (about 1-2 s in all) for smoke tests; figures are rougher.")]
    public bool Quick { get; init; }

    /// <summary>Also time 512³ on this many threads; 0 means every logical core (raw text; see <see cref="ThreadCount"/>).</summary>
    [CommandOption("--threads <N>")]
    [Description("Also time 512x512x512 on N threads (N > 2; 0 = every logical core). Capped at the logical cores.")]
    public string? Threads { get; init; }

    /// <summary>ISA path to benchmark instead of the best one (raw text; see <see cref="IsaPath"/>).</summary>
    [CommandOption("--isa <PATH>")]
    [Description("ISA path to benchmark: auto (default), scalar, vector128, vector256 or vector512.")]
    public string? Isa { get; init; }

    /// <summary>The parsed <c>--threads</c>, or null when absent.</summary>
    public int? ThreadCount => OptionValues.ParseInt("--threads", Threads, 0, 1024, out int? value).Successful ? value : null;

    /// <summary>The parsed <c>--isa</c>; <see cref="Kernels.IsaPath.Auto"/> when absent.</summary>
    public IsaPath IsaPath => OptionValues.ParseEnum("--isa", Isa, out IsaPath? value).Successful ? value ?? IsaPath.Auto : IsaPath.Auto;

    /// <inheritdoc/>
    public override ValidationResult Validate()
    {
        ValidationResult threads = OptionValues.ParseInt("--threads", Threads, 0, 1024, out _);
        if (!threads.Successful) return threads;
        return OptionValues.ParseEnum<IsaPath>("--isa", Isa, out _);
    }
}

/// <summary>
/// <c>rnn-simd bench</c>: FP32 peak, memory bandwidth and GEMM throughput at square and RNN shapes, timed with
/// Stopwatch (warm-up, then the median of several batches). BenchmarkDotNet suites in bench/ are the tool for
/// careful comparisons; this is the quick figure a user can take from any machine.
/// </summary>
public sealed class BenchCommand(CliOutput output) : Command<BenchSettings>
{
    /// <inheritdoc/>
    public override int Execute(CommandContext context, BenchSettings settings, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        IsaPath requested = settings.IsaPath;
        if (!Isa.IsSupported(requested))
            throw new CliException($"ISA path {requested} is not supported on this machine (best is {Isa.Best}).");
        IsaPath path = Isa.Resolve(requested);
        BenchBudget budget = settings.Quick ? BenchBudget.Quick : BenchBudget.Full;
        int cores = Environment.ProcessorCount;

        output.Progress($"measuring single-core FP32 peak on {path} ...");
        double peak = MachineProbe.MeasurePeakGflops(path, budget.Peak);
        cancellationToken.ThrowIfCancellationRequested();
        output.Progress(FormattableString.Invariant($"measuring memory bandwidth ({budget.BandwidthBufferBytes >> 20} MiB copy) ..."));
        double bandwidth = MachineProbe.MeasureBandwidthGBps(budget.Bandwidth, budget.BandwidthBufferBytes);
        cancellationToken.ThrowIfCancellationRequested();

        int? extra = settings.ThreadCount is int t ? (t == 0 ? cores : t) : null;
        IReadOnlyList<GemmCase> cases = GemmCase.Standard(extra);
        var rows = new List<GemmResult>(cases.Count);
        foreach (GemmCase c in cases)
        {
            output.Progress(FormattableString.Invariant(
                $"gemm {c.M}x{c.N}x{c.K}, {c.Threads} thread(s){(c.Prepacked ? ", pre-packed" : "")} ..."));
            double seconds = GemmBenchmark.Measure(c, path, budget, cancellationToken);
            double gflops = c.Flops / seconds / 1e9;
            rows.Add(new GemmResult
            {
                M = c.M, N = c.N, K = c.K, Threads = c.Threads, Prepacked = c.Prepacked,
                Gflops = Math.Round(gflops, 2),
                FractionOfPeak = Math.Round(gflops / (peak * Math.Min(c.Threads, cores)), 4),
                MicrosecondsPerCall = seconds * 1e6,
            });
        }

        var report = new BenchReport
        {
            Version = ToolInfo.Version,
            Isa = path.ToString(),
            IsaDescription = Isa.Describe(path),
            Cores = cores,
            PeakGflops = Math.Round(peak, 2),
            BandwidthGBps = Math.Round(bandwidth, 2),
            Gemm = rows,
        };
        output.Progress(FormattableString.Invariant($"done in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s"));

        if (settings.Json)
            CliJsonContext.Write(output.Out, report, static c => c.BenchReport);
        else
            WriteTable(report);
        return ExitCodes.Success;
    }

    private void WriteTable(BenchReport report)
    {
        IAnsiConsole console = output.Console;
        console.WriteLine(FormattableString.Invariant(
            $"{ToolInfo.Name} {report.Version} bench: {report.IsaDescription}, {report.Cores} logical cores"));
        console.WriteLine(FormattableString.Invariant(
            $"FP32 peak, 1 core: {report.PeakGflops:F1} GFLOP/s; memory bandwidth, 1 thread: {report.BandwidthGBps:F1} GB/s"));
        var table = new Table()
            .Title("GEMM, FP32, C = A·B (median of timed batches)")
            .AddColumn(new TableColumn("M").RightAligned())
            .AddColumn(new TableColumn("N").RightAligned())
            .AddColumn(new TableColumn("K").RightAligned())
            .AddColumn(new TableColumn("Threads").RightAligned())
            .AddColumn(new TableColumn("B"))
            .AddColumn(new TableColumn("µs/call").RightAligned())
            .AddColumn(new TableColumn("GFLOP/s").RightAligned())
            .AddColumn(new TableColumn("% of peak").RightAligned());
        foreach (GemmResult r in report.Gemm)
        {
            table.AddRow(
                Invariant(r.M), Invariant(r.N), Invariant(r.K), Invariant(r.Threads),
                r.Prepacked ? "pre-packed" : "row-major",
                r.MicrosecondsPerCall.ToString(r.MicrosecondsPerCall < 100 ? "F2" : "F0", CultureInfo.InvariantCulture),
                r.Gflops.ToString("F1", CultureInfo.InvariantCulture),
                (r.FractionOfPeak * 100).ToString("F0", CultureInfo.InvariantCulture));
        }
        console.Write(table);
        console.WriteLine("% of peak = GFLOP/s / (single-core peak x threads). Rows with M = 1..32 are the recurrent product h·W_hh of an LSTM, [B x H]·[H x 4H].");
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
