using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Rnn.Simd.Cli.Gradcheck;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Kernels;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>Options of <c>rnn-simd gradcheck</c>. Value options are raw text, parsed in <see cref="Validate"/>.</summary>
public sealed class GradcheckSettings : CommandSettings
{
    /// <summary>Default hidden size of the 1-layer networks (the 2-layer ones use it and one less).</summary>
    public const int DefaultHidden = 5;

    /// <summary>Default n of the schedules.</summary>
    public const int DefaultSteps = 4;

    /// <summary>Default h of the stencil: 1e-3, not the library default 1e-4, whose round-off dominates at these sizes (worst relative error over seeds 1-20: 1.8e-7 at 1e-4, 1.6e-8 at 1e-3).</summary>
    public const double DefaultStep = 1e-3;

    /// <summary>Default tolerance on the relative error.</summary>
    public const double DefaultTolerance = 1e-6;

    /// <summary>Print one JSON document instead of a table.</summary>
    [CommandOption("--json")]
    [Description("Print one JSON document (a list with one object per combination) on stdout instead of a table.")]
    public bool Json { get; init; }

    /// <summary>Seed of weights, data and initial states.</summary>
    [CommandOption("--seed <SEED>")]
    [Description("Seed of the weights, inputs, targets and initial states (default 1).")]
    public string? Seed { get; init; }

    /// <summary>Hidden sizes: "H" or "H1,H2".</summary>
    [CommandOption("--hidden <H>")]
    [Description("Hidden size H of the 1-layer networks (default 5); the 2-layer networks use [[H, H-1]]. \"H1,H2\" sets the 2-layer sizes, H1 also the 1-layer size.")]
    public string? Hidden { get; init; }

    /// <summary>n of the schedules.</summary>
    [CommandOption("--steps <N>")]
    [Description("n of BPTT(n,1), BPTT(n,n) and BPTT(2n,n) (default 4); every sequence has 3n steps.")]
    public string? Steps { get; init; }

    /// <summary>Streams per sequence.</summary>
    [CommandOption("--batch <B>")]
    [Description("Streams per sequence (default 2).")]
    public string? Batch { get; init; }

    /// <summary>Features per step.</summary>
    [CommandOption("--input <I>")]
    [Description("Input features per step (default 3).")]
    public string? Input { get; init; }

    /// <summary>Outputs per step.</summary>
    [CommandOption("--output <O>")]
    [Description("Outputs per step (default 2).")]
    public string? Output { get; init; }

    /// <summary>Largest accepted relative error.</summary>
    [CommandOption("--tolerance <TOL>")]
    [Description("Largest accepted relative error (default 1e-6); any combination above it makes the exit code 1.")]
    public string? Tolerance { get; init; }

    /// <summary>h of the finite-difference stencil.</summary>
    [CommandOption("--step <STEP>")]
    [Description("Step h of the fourth-order central-difference stencil (default 1e-3).")]
    public string? Step { get; init; }

    /// <summary>Entries per group to check.</summary>
    [CommandOption("--max-entries <N>")]
    [Description("Check at most N seeded entries per parameter slice, inputs and initial state (default 0 = all).")]
    public string? MaxEntries { get; init; }

    /// <summary>ISA path of the networks' kernels.</summary>
    [CommandOption("--isa <PATH>")]
    [Description("ISA path of the kernels: auto (default), scalar, vector128, vector256 or vector512.")]
    public string? Isa { get; init; }

    /// <inheritdoc/>
    public override ValidationResult Validate() => TryParse(out _);

    /// <summary>The parsed options (valid after <see cref="Validate"/> succeeded).</summary>
    public GradcheckOptions Options => TryParse(out GradcheckOptions? options).Successful ? options! : throw new CliUsageException("invalid options");

    private ValidationResult TryParse(out GradcheckOptions? options)
    {
        options = null;
        ValidationResult r;
        if (!(r = OptionValues.ParseUInt64("--seed", Seed, out ulong? seed)).Successful) return r;
        if (!(r = OptionValues.ParseIntList("--hidden", Hidden, 1, 512, 2, out int[]? hidden)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--steps", Steps, 1, 256, out int? steps)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--batch", Batch, 1, 256, out int? batch)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--input", Input, 1, 512, out int? input)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--output", Output, 1, 512, out int? output)).Successful) return r;
        if (!(r = OptionValues.ParsePositiveDouble("--tolerance", Tolerance, 1.0, out double? tolerance)).Successful) return r;
        if (!(r = OptionValues.ParsePositiveDouble("--step", Step, 0.1, out double? step)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--max-entries", MaxEntries, 0, int.MaxValue, out int? maxEntries)).Successful) return r;
        if (!(r = OptionValues.ParseEnum("--isa", Isa, out IsaPath? path)).Successful) return r;

        int h1 = hidden is { Length: > 0 } ? hidden[0] : DefaultHidden;
        int[] two = hidden is { Length: 2 } ? [hidden[0], hidden[1]] : [h1, Math.Max(1, h1 - 1)];
        options = new GradcheckOptions(h1, two, steps ?? DefaultSteps, batch ?? 2, input ?? 3, output ?? 2, seed ?? 1,
            tolerance ?? DefaultTolerance, step ?? DefaultStep, maxEntries ?? 0, path ?? IsaPath.Auto);
        return ValidationResult.Success();
    }
}

/// <summary>
/// <c>rnn-simd gradcheck</c>: the library's <see cref="Training.GradientCheck"/> (analytic truncated-BPTT gradients
/// against fourth-order central differences, in double) over every cell x {1, 2 layers} x {BPTT(n,1), BPTT(n,n),
/// BPTT(2n,n)} on seeded random weights, data and initial states. Exit code 1 when any combination exceeds the tolerance.
/// </summary>
public sealed class GradcheckCommand(CliOutput output) : Command<GradcheckSettings>
{
    /// <inheritdoc/>
    public override int Execute(CommandContext context, GradcheckSettings settings, CancellationToken cancellationToken)
    {
        GradcheckOptions options = settings.Options;
        if (!Isa.IsSupported(options.Path))
            throw new CliException($"ISA path {options.Path} is not supported on this machine (best is {Isa.Best}).");
        options = options with { Path = Isa.Resolve(options.Path) };

        long started = Stopwatch.GetTimestamp();
        IReadOnlyList<GradcheckCase> cases = GradcheckCase.All(options);
        var results = new List<GradcheckResult>(cases.Count);
        for (int i = 0; i < cases.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            results.Add(GradcheckSuite.Run(options, cases[i], i));
        }
        int failed = results.Count(r => !r.Passed);
        output.Progress(FormattableString.Invariant(
            $"{cases.Count} gradient checks on {options.Path} in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s"));

        if (settings.Json)
            CliJsonContext.Write(output.Out, results, static c => c.IReadOnlyListGradcheckResult);
        else
            WriteTable(options, results);

        if (failed == 0) return ExitCodes.Success;
        output.Error.WriteLine(FormattableString.Invariant(
            $"{ToolInfo.Name}: error: {failed} of {results.Count} gradient checks exceed the tolerance {Scientific(options.Tolerance)}"));
        output.Error.Flush();
        return ExitCodes.Failure;
    }

    private void WriteTable(GradcheckOptions options, List<GradcheckResult> results)
    {
        IAnsiConsole console = output.Console;
        console.WriteLine(FormattableString.Invariant(
            $"{ToolInfo.Name} {ToolInfo.Version} gradcheck: double, {Isa.Describe(options.Path)}, seed {options.Seed}, tolerance {Scientific(options.Tolerance)}"));
        console.WriteLine(FormattableString.Invariant(
            $"I = {options.Input}, H = [{options.HiddenOneLayer}] or [{string.Join(",", options.HiddenTwoLayers)}], O = {options.Output}, B = {options.Batch}, n = {options.Steps}, {options.SequenceLength} steps"));
        var table = new Table()
            .Title("Truncated-BPTT gradients vs. central differences")
            .AddColumn(new TableColumn("Cell"))
            .AddColumn(new TableColumn("Layers").RightAligned())
            .AddColumn(new TableColumn("BPTT"))
            .AddColumn(new TableColumn("Max rel err").RightAligned())
            .AddColumn(new TableColumn("Worst slice"))
            .AddColumn(new TableColumn("Result"));
        foreach (GradcheckResult r in results)
        {
            table.AddRow(
                new Text(r.Cell == "Elman" ? "Elman/tanh" : r.Cell == "Rhn" ? $"RHN L={r.Depth.ToString(CultureInfo.InvariantCulture)}" : r.Cell.ToUpperInvariant()),
                new Text(r.Layers.ToString(CultureInfo.InvariantCulture)),
                new Text(r.Bptt),
                new Text(double.IsFinite(r.MaxRelativeError) ? r.MaxRelativeError.ToString("0.00e+0", CultureInfo.InvariantCulture) : Scientific(r.MaxRelativeError)),
                new Text(r.WorstSlice),
                r.Passed ? new Text("pass", new Style(Color.Green)) : new Text("FAIL", new Style(Color.Red, decoration: Decoration.Bold)));
        }
        console.Write(table);
        int failed = results.Count(r => !r.Passed);
        console.WriteLine(failed == 0
            ? FormattableString.Invariant($"All {results.Count} combinations pass (max relative error ≤ {Scientific(options.Tolerance)}).")
            : FormattableString.Invariant($"{failed} of {results.Count} combinations FAIL (max relative error > {Scientific(options.Tolerance)})."));
    }

    /// <summary>1e-6, 4.68e-9, NaN, ∞: short scientific notation for errors and tolerances.</summary>
    internal static string Scientific(double value) => double.IsFinite(value)
        ? value.ToString(value == 0 ? "0" : "0.##e+0", CultureInfo.InvariantCulture)
        : double.IsNaN(value) ? "NaN" : "∞";
}
