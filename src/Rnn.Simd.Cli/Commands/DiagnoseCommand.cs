using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Rnn.Simd.Analysis;
using Rnn.Simd.Cells;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Cli.Models;
using Rnn.Simd.Cli.Train;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>Options of <c>rnn-simd diagnose</c>.</summary>
public sealed class DiagnoseSettings : DataSettings
{
    /// <summary>Model file (optional).</summary>
    [CommandOption("--model <FILE>")]
    [Description("A model file written by train --out: analysed on the first --steps rows of its series' training part (the model's data options, or --data). Without it a fresh network (--cell, --hidden, --layers, --seed) is analysed on the addition problem.")]
    public string? Model { get; init; }

    /// <summary>Cells of fresh networks.</summary>
    [CommandOption("--cell <CELLS>")]
    [Description("Cell(s) of the fresh networks, comma-separated: elman, lstm, gru (default elman,lstm,gru).")]
    public string? Cell { get; init; }

    /// <summary>Hidden size.</summary>
    [CommandOption("--hidden <H>")]
    [Description("Hidden size of the fresh networks (default 32).")]
    public string? Hidden { get; init; }

    /// <summary>Layers.</summary>
    [CommandOption("--layers <L>")]
    [Description("Layers of the fresh networks (default 1).")]
    public string? Layers { get; init; }

    /// <summary>Seed.</summary>
    [CommandOption("--seed <SEED>")]
    [Description("Seed of the fresh networks' PyTorch-default initialisation, the addition problem and the power iteration (default 1).")]
    public string? Seed { get; init; }

    /// <summary>T.</summary>
    [CommandOption("--steps <T>")]
    [Description("Steps T of the analysed sequence (default max(50, K + 1)); K must be below T.")]
    public string? Steps { get; init; }

    /// <summary>K.</summary>
    [CommandOption("--max-lag <K>")]
    [Description("Largest lag K (default 40).")]
    public string? MaxLag { get; init; }

    /// <summary>Power iterations.</summary>
    [CommandOption("--power-iterations <N>")]
    [Description("Power iterations per sigma_max estimate (default 20).")]
    public string? PowerIterations { get; init; }

    /// <summary>JSON output.</summary>
    [CommandOption("--json")]
    [Description("Print one JSON document on stdout instead of tables.")]
    public bool Json { get; init; }

    /// <summary>Plot directory.</summary>
    [CommandOption("--plot <DIR>")]
    [Description("Write gradient-norms.png into DIR: the mean gradient norm against the lag on a log scale, one line per cell.")]
    public string? Plot { get; init; }

    /// <inheritdoc/>
    public override ValidationResult Validate() => TryParse(out _);

    /// <summary>The parsed options.</summary>
    public DiagnoseRequest Options => TryParse(out DiagnoseRequest? o).Successful ? o! : throw new CliUsageException("invalid options");

    private ValidationResult TryParse(out DiagnoseRequest? options)
    {
        options = null;
        ValidationResult r;
        if (Model is not null && OptionValues.IsMissing(Model)) return ValidationResult.Error("--model needs a value: a model file written by train --out.");
        if (Model is not null && (Cell ?? Hidden ?? Layers) is not null) return ValidationResult.Error("--cell, --hidden and --layers describe a fresh network; they cannot be used with --model.");
        if (!(r = TryParseData(out DataOptions? data)).Successful) return r;
        var cells = new List<CellType>();
        foreach (string name in (Cell ?? "elman,lstm,gru").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!(r = OptionValues.ParseEnum("--cell", name, out CellType? c)).Successful) return r;
            if (!cells.Contains(c!.Value)) cells.Add(c.Value);
        }
        if (cells.Count == 0) return ValidationResult.Error("--cell needs at least one cell: elman, lstm or gru.");
        if (!(r = OptionValues.ParseInt("--hidden", Hidden, 1, 8192, out int? hidden)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--layers", Layers, 1, 16, out int? layers)).Successful) return r;
        if (!(r = OptionValues.ParseUInt64("--seed", Seed, out ulong? seed)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--max-lag", MaxLag, 1, 100_000, out int? k)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--steps", Steps, 2, 1_000_000, out int? steps)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--power-iterations", PowerIterations, 1, 100_000, out int? iterations)).Successful) return r;
        int kk = k ?? 40, tt = steps ?? Math.Max(50, kk + 1);
        if (kk >= tt) return ValidationResult.Error(string.Create(CultureInfo.InvariantCulture, $"--max-lag {kk} must be below --steps {tt}."));
        if (Plot is not null && OptionValues.IsMissing(Plot)) return ValidationResult.Error("--plot needs a directory.");
        options = new DiagnoseRequest(Model, data!, cells, hidden ?? 32, layers ?? 1, seed ?? 1, tt, kk, iterations ?? 20, Json, Plot);
        return ValidationResult.Success();
    }
}

/// <summary>Parsed options of <c>rnn-simd diagnose</c>.</summary>
/// <param name="ModelPath">Model file, or null for fresh networks.</param>
/// <param name="Data">Data options (with a model).</param>
/// <param name="Cells">Cells of the fresh networks.</param>
/// <param name="Hidden">H of the fresh networks.</param>
/// <param name="Layers">Layers of the fresh networks.</param>
/// <param name="Seed">Seed.</param>
/// <param name="Steps">T.</param>
/// <param name="MaxLag">K.</param>
/// <param name="PowerIterations">Power iterations.</param>
/// <param name="Json">JSON output.</param>
/// <param name="PlotDirectory">Plot directory or null.</param>
public sealed record DiagnoseRequest(string? ModelPath, DataOptions Data, IReadOnlyList<CellType> Cells, int Hidden, int Layers, ulong Seed,
    int Steps, int MaxLag, int PowerIterations, bool Json, string? PlotDirectory);

/// <summary>The JSON document of <c>diagnose</c>.</summary>
/// <param name="SchemaVersion">Version of this schema.</param>
/// <param name="Source">"addition" (fresh networks on the addition problem) or the model file.</param>
/// <param name="Steps">T.</param>
/// <param name="MaxLag">K.</param>
/// <param name="Networks">One entry per analysed network.</param>
public sealed record DiagnoseReport(int SchemaVersion, string Source, int Steps, int MaxLag, IReadOnlyList<DiagnoseNetwork> Networks);

/// <summary>One network's figures (see <see cref="GradientFlowReport"/>).</summary>
/// <param name="Cell">elman, lstm or gru.</param>
/// <param name="Hidden">Hidden sizes.</param>
/// <param name="Origins">End steps t averaged over.</param>
/// <param name="GradientNorms">K mean norms ‖∂L_t/∂s_(t-k)‖, k = 1..K.</param>
/// <param name="DecayPerLag">exp(slope of ln norm over k), or null.</param>
/// <param name="Layers">Per layer.</param>
/// <param name="Seconds">Wall time of the analysis.</param>
public sealed record DiagnoseNetwork(string Cell, IReadOnlyList<int> Hidden, int Origins, IReadOnlyList<double> GradientNorms, double? DecayPerLag,
    IReadOnlyList<DiagnoseLayer> Layers, double Seconds);

/// <summary>One layer's figures.</summary>
/// <param name="Layer">Index.</param>
/// <param name="StateSize">H, or 2H for LSTM ([h; c]).</param>
/// <param name="SpectralRadius">ρ of each W_hh gate block.</param>
/// <param name="Saturation">Saturated fractions.</param>
/// <param name="SigmaMax">σ_max of the Jacobian product per lag.</param>
public sealed record DiagnoseLayer(int Layer, int StateSize, IReadOnlyList<double> SpectralRadius, IReadOnlyList<GateSaturation> Saturation, IReadOnlyList<LagSingularValue> SigmaMax);

/// <summary>
/// <c>rnn-simd diagnose</c>: vanishing / exploding gradient diagnostics (chapter section 2.4, Eq. 2.9-2.10) of a saved
/// model or of fresh networks on the addition problem (Hochreiter and Schmidhuber 1997), through
/// <see cref="GradientFlow.Analyze{T}"/>.
/// </summary>
public sealed class DiagnoseCommand(CliOutput output) : Command<DiagnoseSettings>
{
    /// <summary>JSON schema version.</summary>
    public const int SchemaVersion = 1;

    /// <inheritdoc/>
    public override int Execute(CommandContext context, DiagnoseSettings settings, CancellationToken cancellationToken)
    {
        DiagnoseRequest o = settings.Options;
        var options = new GradientFlowOptions { MaxLag = o.MaxLag, PowerIterations = o.PowerIterations, Seed = o.Seed };
        var networks = new List<DiagnoseNetwork>();
        string source;
        if (o.ModelPath is not null)
        {
            SavedModel model = SavedModel.Load(o.ModelPath);
            if (!o.Json) output.Progress(model.Describe());
            LoadedSeries data = model.LoadSeries(o.Data, o.Json ? static _ => { } : output.Progress);
            ChronologicalSplit split = ChronologicalSplit.Create(data.Series.Length);
            ForecastWindows w = ForecastWindows.Create(data.Series, model.Scaler, split.Train, model.Options, data.Mask);
            if (w.Length <= o.MaxLag)
                throw new CliException(string.Create(CultureInfo.InvariantCulture, $"--max-lag {o.MaxLag}: the training part has only {w.Length} steps."));
            int t = Math.Min(o.Steps, w.Length);
            ReadOnlySpan<float> x = w.Inputs[..(t * w.InputSize)], d = w.Targets[..(t * w.OutputSize)];
            source = o.ModelPath;
            if (model.Model.ElementType == typeof(double))
            {
                double[] xd = [.. x.ToArray().Select(v => (double)v)], dd = [.. d.ToArray().Select(v => (double)v)];
                networks.Add(Run(model.Model.GetNetwork<double>(), xd, dd, options));
            }
            else networks.Add(Run(model.Model.GetNetwork<float>(), x, d, options));
        }
        else
        {
            source = "addition";
            float[] x = AdditionProblem(o.Steps, o.Seed);
            foreach (CellType cell in o.Cells)
            {
                var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(cell, 2, o.Hidden, o.Layers, 1), o.Seed);
                networks.Add(Run(net, x, default, options));
            }
        }
        var report = new DiagnoseReport(SchemaVersion, source, o.ModelPath is null ? o.Steps : networks.Count > 0 ? o.Steps : 0, o.MaxLag, networks);
        if (o.PlotDirectory is not null)
        {
            string path = DiagnosePlot.Write(o.PlotDirectory, report);
            if (!o.Json) output.Progress($"plot: {path}");
        }
        if (o.Json) CliJsonContext.Write(output.Out, report, static c => c.DiagnoseReport);
        else WriteTables(output, report);
        return ExitCodes.Success;
    }

    /// <summary>
    /// The addition problem (Hochreiter and Schmidhuber 1997) as a two-channel input of T steps: channel 0 uniform in
    /// [0, 1], channel 1 a marker, 1 at one step among the first 10 and at one step in the first half, else 0 (the target,
    /// the sum of the two marked values at the last step, is not needed here: the step loss is L_t = Σ y_t).
    /// </summary>
    public static float[] AdditionProblem(int steps, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[2 * steps];
        for (int t = 0; t < steps; t++) x[2 * t] = (float)rng.NextDouble();
        int first = rng.NextInt(Math.Min(10, steps));
        int second = rng.NextInt(Math.Max(1, steps / 2 - 1));
        if (second >= first) second++;
        x[2 * first + 1] = 1;
        x[2 * Math.Min(second, steps - 1) + 1] = 1;
        return x;
    }

    private static DiagnoseNetwork Run<T>(RecurrentNetwork<T> net, ReadOnlySpan<T> x, ReadOnlySpan<T> d, GradientFlowOptions options)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        var sw = Stopwatch.StartNew();
        GradientFlowReport r;
        try
        {
            r = GradientFlow.Analyze(net, x, d, options);
        }
        catch (ArgumentException e)
        {
            throw new CliException(CliApp.WithoutParamName(e), e);
        }
        double seconds = sw.Elapsed.TotalSeconds;
        return new DiagnoseNetwork(r.Cell.ToString().ToLowerInvariant(), net.Architecture.HiddenSizes, r.Origins, r.GradientNorms,
            double.IsFinite(r.DecayPerLag) ? r.DecayPerLag : null,
            [.. r.Layers.Select(l => new DiagnoseLayer(l.Layer, l.StateSize, l.RecurrentSpectralRadius, l.Saturation, l.JacobianSingularValues))], seconds);
    }

    private static void WriteTables(CliOutput output, DiagnoseReport report)
    {
        IAnsiConsole console = output.Console;
        static string F(double v) => v.ToString("0.###E+0", CultureInfo.InvariantCulture);
        var norms = new Table().Title($"Mean ‖∂L_t/∂s_(t-k)‖ ({report.Source}, T = {report.Steps})");
        norms.AddColumn("k");
        foreach (DiagnoseNetwork n in report.Networks) norms.AddColumn(n.Cell);
        var shown = new SortedSet<int> { 1, 2, 5, 10, 20, 50, 100, 200, 500, report.MaxLag };
        foreach (int k in shown.Where(k => k <= report.MaxLag))
            norms.AddRow([k.ToString(CultureInfo.InvariantCulture), .. report.Networks.Select(n => F(n.GradientNorms[k - 1]))]);
        norms.AddRow(["decay/step", .. report.Networks.Select(n => n.DecayPerLag is double v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-")]);
        console.Write(norms);
        foreach (DiagnoseNetwork n in report.Networks)
        {
            var t = new Table().Title(string.Create(CultureInfo.InvariantCulture, $"{n.Cell} H = {string.Join(",", n.Hidden)} ({n.Seconds:0.000} s)"));
            t.AddColumn("layer"); t.AddColumn("ρ(W_hh) per gate"); t.AddColumn("saturated"); t.AddColumn("σ_max(∏J) at lag");
            foreach (DiagnoseLayer l in n.Layers)
                t.AddRow(l.Layer.ToString(CultureInfo.InvariantCulture),
                    string.Join(" ", l.SpectralRadius.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture))),
                    Markup.Escape(string.Join(" ", l.Saturation.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Name} {s.Fraction:P1}")))),
                    Markup.Escape(string.Join(" ", l.SigmaMax.Select(s => $"{s.Lag}:{F(s.SigmaMax)}"))));
            console.Write(t);
        }
    }
}
