using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Rnn.Simd.Cells;
using Rnn.Simd.Cli.Bench;
using Rnn.Simd.Cli.Diagnostics;
using Rnn.Simd.Cli.Infrastructure;
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

    /// <summary>Sections to run (raw text; see <see cref="SectionSet"/>).</summary>
    [CommandOption("--sections <LIST>")]
    [Description("Comma-separated sections to run: gemm, train, inference, onnxruntime, optimizer, rtrl (default: all). Peak and bandwidth are always measured. onnxruntime times ONNX Runtime on the ONNX export of each inference case, next to the library's step.")]
    public string? Sections { get; init; }

    /// <summary>Names accepted by <c>--sections</c>, in run order.</summary>
    public static IReadOnlyList<string> SectionNames { get; } = ["gemm", "train", "inference", "onnxruntime", "optimizer", "rtrl"];

    /// <summary>The parsed <c>--sections</c>; every section when absent.</summary>
    public IReadOnlyList<string> SectionSet =>
        OptionValues.ParseNameSet("--sections", Sections, SectionNames, out IReadOnlyList<string>? value).Successful ? value ?? SectionNames : SectionNames;

    /// <summary>The parsed <c>--threads</c>, or null when absent.</summary>
    public int? ThreadCount => OptionValues.ParseInt("--threads", Threads, 0, 1024, out int? value).Successful ? value : null;

    /// <summary>The parsed <c>--isa</c>; <see cref="Kernels.IsaPath.Auto"/> when absent.</summary>
    public IsaPath IsaPath => OptionValues.ParseEnum("--isa", Isa, out IsaPath? value).Successful ? value ?? IsaPath.Auto : IsaPath.Auto;

    /// <inheritdoc/>
    public override ValidationResult Validate()
    {
        ValidationResult threads = OptionValues.ParseInt("--threads", Threads, 0, 1024, out _);
        if (!threads.Successful) return threads;
        ValidationResult sections = OptionValues.ParseNameSet("--sections", Sections, SectionNames, out _);
        if (!sections.Successful) return sections;
        return OptionValues.ParseEnum<IsaPath>("--isa", Isa, out _);
    }
}

/// <summary>
/// <c>rnn-simd bench</c>: FP32 peak, memory bandwidth, GEMM throughput at square and RNN shapes, training windows,
/// inference steps and optimiser steps, timed with Stopwatch (warm-up, then the median of several batches).
/// BenchmarkDotNet suites in bench/ are the tool for careful comparisons; this is the quick figure a user can take
/// from any machine.
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

        IReadOnlyList<string> sections = settings.SectionSet;
        var gemmRows = new List<GemmResult>();
        if (sections.Contains("gemm"))
        {
            int? extra = settings.ThreadCount is int t ? (t == 0 ? cores : t) : null;
            foreach (GemmCase c in GemmCase.Standard(extra))
            {
                output.Progress(FormattableString.Invariant(
                    $"gemm {c.M}x{c.N}x{c.K}, {c.Threads} thread(s){(c.Prepacked ? ", pre-packed" : "")} ..."));
                double seconds = GemmBenchmark.Measure(c, path, budget, cancellationToken);
                double gflops = c.Flops / seconds / 1e9;
                gemmRows.Add(new GemmResult
                {
                    M = c.M, N = c.N, K = c.K, Threads = c.Threads, Prepacked = c.Prepacked,
                    Gflops = Math.Round(gflops, 2),
                    FractionOfPeak = Math.Round(gflops / (peak * Math.Min(c.Threads, cores)), 4),
                    MicrosecondsPerCall = seconds * 1e6,
                });
            }
        }

        var trainRows = new List<TrainResult>();
        if (sections.Contains("train"))
        {
            foreach (TrainCase c in TrainCase.Standard(budget.RnnHiddenSizes))
            {
                output.Progress(FormattableString.Invariant(
                    $"train {c.Cell} B={c.Batch} H={c.Hidden}, {TrainCase.Schedule}, {c.Threads} thread(s) ..."));
                CaseMeasurement m = RnnBenchmarks.MeasureTrain(c, path, budget.Train, cancellationToken);
                double gflops = c.Flops / m.SecondsPerCall / 1e9;
                trainRows.Add(new TrainResult
                {
                    Cell = c.Cell == CellType.Highway ? "rhn" : c.Cell.ToString(), Batch = c.Batch, Hidden = c.Hidden, Input = TrainCase.Input, Output = TrainCase.Output,
                    Window = TrainCase.Window, Bptt = TrainCase.Schedule.ToString(), Threads = c.Threads,
                    MicrosecondsPerWindow = Math.Round(m.SecondsPerCall * 1e6, 3),
                    Gflops = Math.Round(gflops, 2),
                    FractionOfPeak = Math.Round(gflops / (peak * Math.Min(c.Threads, cores)), 4),
                    AllocatedBytes = Math.Round(m.AllocatedBytesPerCall, 2),
                });
            }
        }

        var inferenceRows = new List<InferenceResult>();
        var peerRows = new List<OnnxRuntimeResult>();
        bool inference = sections.Contains("inference"), peer = sections.Contains("onnxruntime");
        string? peerVersion = null;
        if (peer)
        {
            peerVersion = OnnxRuntimeStep.TryDescribeRuntime(out string? problem);
            if (peerVersion is null)
            {
                output.Progress($"onnxruntime: skipped, the runtime cannot be loaded: {problem}");
                peerVersion = "unavailable: " + problem;
                peer = false;
            }
        }
        if (inference || peer)
        {
            foreach (InferenceCase c in InferenceCase.Standard(budget.RnnHiddenSizes))
            {
                output.Progress(FormattableString.Invariant($"inference {c.Cell} B={InferenceCase.Batch} H={c.Hidden}, 1 thread ..."));
                CaseMeasurement m = RnnBenchmarks.MeasureInference(c, path, budget.Inference, cancellationToken);
                if (inference)
                {
                    double gflops = c.Flops / m.SecondsPerCall / 1e9;
                    inferenceRows.Add(new InferenceResult
                    {
                        Cell = c.Cell == CellType.Highway ? "rhn" : c.Cell.ToString(), Batch = InferenceCase.Batch, Hidden = c.Hidden, Input = TrainCase.Input, Output = TrainCase.Output,
                        MicrosecondsPerStep = Math.Round(m.SecondsPerCall * 1e6, 3),
                        Gflops = Math.Round(gflops, 2),
                        FractionOfPeak = Math.Round(gflops / peak, 4),
                        AllocatedBytes = Math.Round(m.AllocatedBytesPerCall, 2),
                    });
                }
                // ONNX has no highway operator: the export refuses RHN, so it has no peer row.
                if (!peer || c.Cell == CellType.Highway) continue;
                // Timed right after the library's step of the same network, so that both see the same machine load.
                output.Progress(FormattableString.Invariant($"onnxruntime {c.Cell} B={InferenceCase.Batch} H={c.Hidden}, 1 thread ..."));
                CaseMeasurement p = RnnBenchmarks.MeasureOnnxRuntime(c, path, budget.Inference, cancellationToken);
                peerRows.Add(new OnnxRuntimeResult
                {
                    Cell = c.Cell.ToString(), Batch = InferenceCase.Batch, Hidden = c.Hidden, Input = TrainCase.Input, Output = TrainCase.Output,
                    Threads = 1,
                    MicrosecondsPerStep = Math.Round(p.SecondsPerCall * 1e6, 3),
                    RnnSimdMicrosecondsPerStep = Math.Round(m.SecondsPerCall * 1e6, 3),
                    Ratio = Math.Round(p.SecondsPerCall / m.SecondsPerCall, 3),
                    AllocatedBytes = Math.Round(p.AllocatedBytesPerCall, 2),
                });
            }
        }

        var optimizerRows = new List<OptimizerResult>();
        if (sections.Contains("optimizer"))
        {
            var bench = new OptimizerBenchmark();
            foreach (OptimizerCase c in OptimizerCase.Standard())
            {
                output.Progress(FormattableString.Invariant($"optimizer {c.Kind}, {OptimizerCase.Parameters:N0} parameters, 1 thread ..."));
                OptimizerMeasurement m = bench.Measure(c, path, budget.Optimizer, cancellationToken);
                double gbps = m.StepGBps, copy = m.CopyGBps;
                optimizerRows.Add(new OptimizerResult
                {
                    Name = m.Name, Kind = c.Kind.ToString(), Parameters = OptimizerCase.Parameters, BytesPerParameter = m.BytesPerParameter,
                    NanosecondsPerParameter = Math.Round(m.Step.SecondsPerCall * 1e9 / OptimizerCase.Parameters, 4),
                    GbPerSecond = Math.Round(gbps, 2),
                    FractionOfBandwidth = Math.Round(gbps / bandwidth, 4),
                    CopyGBps = Math.Round(copy, 2),
                    FractionOfCopy = Math.Round(gbps / copy, 4),
                    AllocatedBytes = Math.Round(m.Step.AllocatedBytesPerCall, 2),
                    MicrosecondsPerStep = m.Step.SecondsPerCall * 1e6,
                });
            }
        }

        var rtrlRows = new List<RtrlResult>();
        if (sections.Contains("rtrl"))
        {
            foreach (int hidden in RnnBenchmarks.RtrlHiddenSizes)
            {
                // The TBPTT baseline of the same network is timed right before, under the same load.
                output.Progress(FormattableString.Invariant($"rtrl Lstm H={hidden}: TBPTT window B=1 ..."));
                CaseMeasurement tbptt = RnnBenchmarks.MeasureTrain(new TrainCase(CellType.Lstm, 1, hidden, 1), path, budget.Train, cancellationToken);
                output.Progress(FormattableString.Invariant($"rtrl Lstm H={hidden}: RTRL step ..."));
                (CaseMeasurement step, long bytes, int parameters) = RnnBenchmarks.MeasureRtrl(hidden, path, budget.Train, cancellationToken);
                double tbpttStep = tbptt.SecondsPerCall / TrainCase.Window;
                rtrlRows.Add(new RtrlResult
                {
                    Cell = nameof(CellType.Lstm), Hidden = hidden, Parameters = parameters, StateBytes = bytes,
                    MicrosecondsPerStep = Math.Round(step.SecondsPerCall * 1e6, 3),
                    TbpttMicrosecondsPerStep = Math.Round(tbpttStep * 1e6, 3),
                    Ratio = Math.Round(step.SecondsPerCall / tbpttStep, 2),
                    AllocatedBytes = Math.Round(step.AllocatedBytesPerCall, 2),
                });
            }
        }

        var report = new BenchReport
        {
            Version = ToolInfo.Version,
            Isa = path.ToString(),
            IsaDescription = Isa.Describe(path),
            Cores = cores,
            PeakGflops = Math.Round(peak, 2),
            BandwidthGBps = Math.Round(bandwidth, 2),
            Gemm = gemmRows,
            Train = trainRows,
            Inference = inferenceRows,
            Optimizer = optimizerRows,
            OnnxRuntime = peerRows,
            OnnxRuntimeVersion = peerVersion,
            Rtrl = rtrlRows,
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
        if (report.Gemm.Count > 0) WriteGemmTable(console, report.Gemm);
        if (report.Train.Count > 0) WriteTrainTable(console, report.Train);
        if (report.Inference.Count > 0 || report.OnnxRuntime.Count > 0) WriteInferenceTable(console, report.Inference, report.OnnxRuntime, report.OnnxRuntimeVersion, report.PeakGflops);
        if (report.Optimizer.Count > 0) WriteOptimizerTable(console, report.Optimizer);
        if (report.Rtrl.Count > 0) WriteRtrlTable(console, report.Rtrl);
    }

    private static void WriteGemmTable(IAnsiConsole console, IReadOnlyList<GemmResult> rows)
    {
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
        foreach (GemmResult r in rows)
        {
            table.AddRow(
                Invariant(r.M), Invariant(r.N), Invariant(r.K), Invariant(r.Threads),
                r.Prepacked ? "pre-packed" : "row-major",
                Micros(r.MicrosecondsPerCall),
                r.Gflops.ToString("F1", CultureInfo.InvariantCulture),
                Percent(r.FractionOfPeak));
        }
        console.Write(table);
        console.WriteLine("% of peak = GFLOP/s / (single-core peak x threads). Rows with M = 1..32 are the recurrent product h·W_hh of an LSTM, [B x H]·[H x 4H].");
    }

    private static void WriteTrainTable(IAnsiConsole console, IReadOnlyList<TrainResult> rows)
    {
        var table = new Table()
            .Title(FormattableString.Invariant($"Training, FP32: a window of {rows[0].Bptt} + Adam, I = O = 1"))
            .AddColumn(new TableColumn("Cell"))
            .AddColumn(new TableColumn("B").RightAligned())
            .AddColumn(new TableColumn("H").RightAligned())
            .AddColumn(new TableColumn("Threads").RightAligned())
            .AddColumn(new TableColumn("µs/window").RightAligned())
            .AddColumn(new TableColumn("GFLOP/s").RightAligned())
            .AddColumn(new TableColumn("% of peak").RightAligned())
            .AddColumn(new TableColumn("Alloc").RightAligned());
        foreach (TrainResult r in rows)
        {
            table.AddRow(CellName(r.Cell), Invariant(r.Batch), Invariant(r.Hidden), Invariant(r.Threads),
                Micros(r.MicrosecondsPerWindow), r.Gflops.ToString("F1", CultureInfo.InvariantCulture), Percent(r.FractionOfPeak),
                r.AllocatedBytes.ToString("0.##", CultureInfo.InvariantCulture));
        }
        console.Write(table);
        console.WriteLine("GFLOP/s: recurrent matmuls only, 3·T·2·B·(I+L·H)·G·H per window");
        console.WriteLine("(G = 1 Elman, 4 LSTM, 3 GRU, 2 rhn; L = 3 rhn micro-layers, else 1). Alloc: bytes allocated per window (0 expected).");
    }

    private static void WriteInferenceTable(IAnsiConsole console, IReadOnlyList<InferenceResult> rows, IReadOnlyList<OnnxRuntimeResult> peer, string? peerVersion, double peakGflops)
    {
        var table = new Table()
            .Title("Inference, FP32: one Step, B = 1, I = O = 1, 1 thread")
            .AddColumn(new TableColumn("Cell"))
            .AddColumn(new TableColumn("H").RightAligned())
            .AddColumn(new TableColumn("Engine"))
            .AddColumn(new TableColumn("µs/step").RightAligned())
            .AddColumn(new TableColumn("GFLOP/s").RightAligned())
            .AddColumn(new TableColumn("% of peak").RightAligned())
            .AddColumn(new TableColumn("Alloc").RightAligned());
        if (peer.Count > 0) table.AddColumn(new TableColumn("x ours").RightAligned());
        foreach (InferenceResult r in rows)
        {
            var cells = new List<string> { CellName(r.Cell), Invariant(r.Hidden), "rnn-simd", Micros(r.MicrosecondsPerStep),
                r.Gflops.ToString("F1", CultureInfo.InvariantCulture), Percent(r.FractionOfPeak),
                r.AllocatedBytes.ToString("0.##", CultureInfo.InvariantCulture) };
            if (peer.Count > 0) cells.Add("");
            table.AddRow(cells.ToArray());
            if (peer.FirstOrDefault(p => p.Cell == r.Cell && p.Hidden == r.Hidden) is { } o) table.AddRow(PeerCells(o, peakGflops));
        }
        if (rows.Count == 0)
            foreach (OnnxRuntimeResult o in peer) table.AddRow(PeerCells(o, peakGflops));
        console.Write(table);
        console.WriteLine("GFLOP/s: matmuls only, 2·(I+L·H)·G·H per step (L = 1 but for rhn).");
        console.WriteLine("Alloc: bytes allocated per step by the timing thread (0 expected; managed bytes only for onnxruntime).");
        if (peer.Count > 0)
        {
            console.WriteLine($"ORT: {peerVersion} on the ONNX export of the same network, T = 1 with the state");
            console.WriteLine("bound back, 1 intra-op thread. x ours: its time / rnn-simd's, timed right before it.");
        }
        else if (peerVersion is not null)
            console.WriteLine($"onnxruntime: {peerVersion}");
    }

    /// <summary>An onnxruntime row, its GFLOP/s counted as the library's (2·(I+H)·G·H per step) against the same peak.</summary>
    private static string[] PeerCells(OnnxRuntimeResult o, double peakGflops)
    {
        double flops = 2.0 * o.Batch * (o.Input + o.Hidden) * Enum.Parse<CellType>(o.Cell).GateCount() * o.Hidden;
        double gflops = flops / (o.MicrosecondsPerStep * 1e3);
        return [CellName(o.Cell), Invariant(o.Hidden), "ORT", Micros(o.MicrosecondsPerStep),
            gflops.ToString("F1", CultureInfo.InvariantCulture), Percent(gflops / peakGflops),
            o.AllocatedBytes.ToString("0.##", CultureInfo.InvariantCulture), o.Ratio.ToString("F1", CultureInfo.InvariantCulture)];
    }

    private static void WriteOptimizerTable(IAnsiConsole console, IReadOnlyList<OptimizerResult> rows)
    {
        // Eight narrow columns, so that the table fits the 80 columns of a redirected console.
        var table = new Table()
            .Title(FormattableString.Invariant($"Optimizer step, FP32, {rows[0].Parameters:N0} parameters, 1 thread"))
            .AddColumn(new TableColumn("Optimizer"))
            .AddColumn(new TableColumn("Bytes").RightAligned())
            .AddColumn(new TableColumn("ns/param").RightAligned())
            .AddColumn(new TableColumn("GB/s").RightAligned())
            .AddColumn(new TableColumn("% BW").RightAligned())
            .AddColumn(new TableColumn("Copy").RightAligned())
            .AddColumn(new TableColumn("% copy").RightAligned())
            .AddColumn(new TableColumn("Alloc").RightAligned());
        foreach (OptimizerResult r in rows)
        {
            table.AddRow(r.Name, Invariant(r.BytesPerParameter),
                r.NanosecondsPerParameter.ToString("F3", CultureInfo.InvariantCulture),
                r.GbPerSecond.ToString("F1", CultureInfo.InvariantCulture), Percent(r.FractionOfBandwidth),
                r.CopyGBps.ToString("F1", CultureInfo.InvariantCulture), Percent(r.FractionOfCopy),
                r.AllocatedBytes.ToString("0.##", CultureInfo.InvariantCulture));
        }
        console.Write(table);
        console.WriteLine("Bytes: read + written per parameter and step. GB/s: Bytes x parameters over the");
        console.WriteLine("median step time. % BW: of the streaming bandwidth above. Copy: GB/s of a span");
        console.WriteLine("copy moving the same bytes, timed next to the step; % copy: the step against it.");
        console.WriteLine("Alloc: bytes allocated per step (0 expected).");
    }

    private static void WriteRtrlTable(IAnsiConsole console, IReadOnlyList<RtrlResult> rows)
    {
        var table = new Table()
            .Title("RTRL step (Williams and Zipser 1989) beside TBPTT, LSTM, FP32, B = 1, 1 thread")
            .AddColumn(new TableColumn("H").RightAligned())
            .AddColumn(new TableColumn("Params").RightAligned())
            .AddColumn(new TableColumn("State bytes").RightAligned())
            .AddColumn(new TableColumn("RTRL µs/step").RightAligned())
            .AddColumn(new TableColumn("TBPTT µs/step").RightAligned())
            .AddColumn(new TableColumn("Ratio").RightAligned())
            .AddColumn(new TableColumn("Alloc").RightAligned());
        foreach (RtrlResult r in rows)
        {
            table.AddRow(Invariant(r.Hidden), Invariant(r.Parameters), r.StateBytes.ToString("N0", CultureInfo.InvariantCulture),
                r.MicrosecondsPerStep.ToString("F1", CultureInfo.InvariantCulture), r.TbpttMicrosecondsPerStep.ToString("F2", CultureInfo.InvariantCulture),
                r.Ratio.ToString("F0", CultureInfo.InvariantCulture), r.AllocatedBytes.ToString("0.##", CultureInfo.InvariantCulture));
        }
        console.Write(table);
        console.WriteLine("RTRL: one online step (forward, sensitivity update, gradient); TBPTT: a");
        console.WriteLine("BPTT(50, 50) window with Adam, over 50. State bytes: the sensitivities ds/dθ");
        console.WriteLine("(state x parameters x 4), O(H³); time per step O(H⁴).");
    }

    private static string CellName(string cell) => cell switch
    {
        "Elman" => "Elman/tanh",
        "rhn" => FormattableString.Invariant($"rhn L={RnnBenchmarks.RhnDepth}"),
        _ => cell.ToUpperInvariant(),
    };

    private static string Micros(double us) => us.ToString(us < 100 ? "F2" : "F0", CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => (fraction * 100).ToString("F0", CultureInfo.InvariantCulture);

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
