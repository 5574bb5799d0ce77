using System.Text.Json.Serialization;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;

namespace Rnn.Simd.Cli.Gradcheck;

/// <summary>What <c>rnn-simd gradcheck</c> checks: sizes of the random problems, seed, tolerance and kernel path.</summary>
/// <param name="HiddenOneLayer">Hidden size of the 1-layer networks.</param>
/// <param name="HiddenTwoLayers">Hidden sizes of the 2-layer networks, bottom first.</param>
/// <param name="Steps">n of the schedules BPTT(n,1), BPTT(n,n), BPTT(2n,n); every sequence is 3n steps long.</param>
/// <param name="Batch">B, streams per sequence.</param>
/// <param name="Input">I, features per step.</param>
/// <param name="Output">O, outputs per step.</param>
/// <param name="Seed">Seed of every weight, input, target and initial state.</param>
/// <param name="Tolerance">Largest accepted relative error.</param>
/// <param name="Step">h of the fourth-order central-difference stencil.</param>
/// <param name="MaxEntriesPerGroup">Entries checked per parameter slice (and for inputs, initial state); 0 = all.</param>
/// <param name="Path">ISA path of the networks' kernels.</param>
public sealed record GradcheckOptions(int HiddenOneLayer, IReadOnlyList<int> HiddenTwoLayers, int Steps, int Batch, int Input, int Output,
    ulong Seed, double Tolerance, double Step, int MaxEntriesPerGroup, IsaPath Path)
{
    /// <summary>Sequence length of every case: 3n, a multiple of τf for all three schedules.</summary>
    public int SequenceLength => 3 * Steps;
}

/// <summary>One combination: a cell, a depth and a schedule.</summary>
/// <param name="Cell">Cell type (Elman cells use tanh).</param>
/// <param name="HiddenSizes">Hidden sizes, bottom first (the number of layers is their count).</param>
/// <param name="Schedule">The truncation.</param>
/// <param name="ScheduleName">The schedule in terms of n: "n,1", "n,n" or "2n,n".</param>
/// <param name="Depth">Recurrence depth (micro-layers per step) of a recurrent highway cell; 1 for the others.</param>
public sealed record GradcheckCase(CellType Cell, IReadOnlyList<int> HiddenSizes, BpttSchedule Schedule, string ScheduleName, int Depth = 1)
{
    /// <summary>Every cell (Elman with tanh, LSTM, GRU, RHN at depth 1 and 3) x {1, 2 layers} x {BPTT(n,1), BPTT(n,n),
    /// BPTT(2n,n)}: 30 cases.</summary>
    public static IReadOnlyList<GradcheckCase> All(GradcheckOptions options)
    {
        var cases = new List<GradcheckCase>(30);
        foreach ((CellType cell, int depth) in new[] { (CellType.Elman, 1), (CellType.Lstm, 1), (CellType.Gru, 1), (CellType.Highway, 1), (CellType.Highway, 3) })
        {
            foreach (IReadOnlyList<int> hidden in new[] { ([options.HiddenOneLayer]), options.HiddenTwoLayers })
            {
                cases.Add(new(cell, hidden, BpttSchedule.True(options.Steps), "n,1", depth));
                cases.Add(new(cell, hidden, BpttSchedule.Epochwise(options.Steps), "n,n", depth));
                cases.Add(new(cell, hidden, BpttSchedule.Default(options.Steps), "2n,n", depth));
            }
        }
        return cases;
    }
}

/// <summary>One row of <c>gradcheck --json</c> (schema in README-cli.md).</summary>
public sealed record GradcheckResult
{
    /// <summary>Cell type: "Elman" (tanh), "Lstm", "Gru" or "Rhn".</summary>
    [JsonPropertyName("cell")] public required string Cell { get; init; }

    /// <summary>Recurrence depth (micro-layers per step; 1 except for RHN).</summary>
    [JsonPropertyName("depth")] public int Depth { get; init; } = 1;

    /// <summary>Number of recurrent layers.</summary>
    [JsonPropertyName("layers")] public required int Layers { get; init; }

    /// <summary>Hidden sizes, bottom first.</summary>
    [JsonPropertyName("hidden")] public required IReadOnlyList<int> Hidden { get; init; }

    /// <summary>The schedule, e.g. "BPTT(8,4)".</summary>
    [JsonPropertyName("bptt")] public required string Bptt { get; init; }

    /// <summary>The schedule in terms of n: "n,1", "n,n" or "2n,n".</summary>
    [JsonPropertyName("schedule")] public required string Schedule { get; init; }

    /// <summary>Sequence length S (3n).</summary>
    [JsonPropertyName("sequenceLength")] public required int SequenceLength { get; init; }

    /// <summary>Largest relative error over every checked entry (NaN or ∞ when a gradient was not finite).</summary>
    [JsonIgnore] public double MaxRelativeError { get; init; }

    /// <summary>Largest absolute error over every checked entry (NaN or ∞ when a gradient was not finite).</summary>
    [JsonIgnore] public double MaxAbsoluteError { get; init; }

    /// <summary><see cref="MaxRelativeError"/> for JSON: null when it is not finite (JSON has no NaN or ∞).</summary>
    [JsonPropertyName("maxRelativeError")] public double? MaxRelativeErrorOrNull => double.IsFinite(MaxRelativeError) ? MaxRelativeError : null;

    /// <summary><see cref="MaxAbsoluteError"/> for JSON: null when it is not finite.</summary>
    [JsonPropertyName("maxAbsoluteError")] public double? MaxAbsoluteErrorOrNull => double.IsFinite(MaxAbsoluteError) ? MaxAbsoluteError : null;

    /// <summary>The group with the largest relative error: a parameter slice (e.g. "weight_hh_l1"), "inputs" or "initial_state".</summary>
    [JsonPropertyName("worstSlice")] public required string WorstSlice { get; init; }

    /// <summary>Entries compared in all.</summary>
    [JsonPropertyName("checkedEntries")] public required int CheckedEntries { get; init; }

    /// <summary>maxRelativeError ≤ tolerance (false for NaN).</summary>
    [JsonPropertyName("passed")] public required bool Passed { get; init; }

    /// <summary>Wall time of the check in milliseconds; shown nowhere, not part of the JSON schema.</summary>
    [JsonIgnore] public double Milliseconds { get; init; }
}

/// <summary>Runs <see cref="GradientCheck.Run"/> over every <see cref="GradcheckCase"/> on seeded random data, in double.</summary>
public static class GradcheckSuite
{
    /// <summary>Magnitude of random inputs and targets (uniform in ±1) and initial states (uniform in ±0.5).</summary>
    private const double InitialStateScale = 0.5;

    /// <summary>Checks one case; the same options and case give the same figures on every run.</summary>
    public static GradcheckResult Run(GradcheckOptions options, GradcheckCase c, int caseIndex)
    {
        var arch = new NetworkArchitecture(c.Cell, options.Input, c.HiddenSizes, options.Output, Activation.Tanh, c.Depth);
        ulong caseSeed = Mix(options.Seed, (ulong)caseIndex);
        var network = new RecurrentNetwork<double>(arch, caseSeed, options.Path);
        var rng = new Rng(Mix(caseSeed, 0xDA7A));
        int steps = options.SequenceLength, b = options.Batch;
        var inputs = new double[steps * b * options.Input];
        var targets = new double[steps * b * options.Output];
        Fill(rng, inputs, 1.0);
        Fill(rng, targets, 1.0);
        NetworkState<double> initial = network.CreateState(b);
        for (int l = 0; l < arch.NumLayers; l++)
        {
            Fill(rng, initial.Hidden(l), InitialStateScale);
            Fill(rng, initial.Cell(l), InitialStateScale); // empty except for LSTM
        }

        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        GradientCheckReport report = GradientCheck.Run(network, inputs, targets, b, c.Schedule, initial, options.Step,
            maxEntriesPerGroup: options.MaxEntriesPerGroup <= 0 ? int.MaxValue : options.MaxEntriesPerGroup, seed: caseSeed);
        double ms = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;

        GradientCheckEntry worst = report.Inputs;
        double maxAbs = 0;
        int checkedEntries = 0;
        foreach (GradientCheckEntry e in Groups(report))
        {
            // NaN counts as worse than any number.
            if (double.IsNaN(e.MaxRelativeError) || e.MaxRelativeError > worst.MaxRelativeError) worst = e;
            maxAbs = double.IsNaN(e.MaxAbsoluteError) ? double.NaN : Math.Max(maxAbs, e.MaxAbsoluteError);
            checkedEntries += e.Checked;
        }
        double maxRel = report.MaxRelativeError;
        if (double.IsNaN(worst.MaxRelativeError)) maxRel = double.NaN;
        return new GradcheckResult
        {
            Cell = c.Cell == CellType.Highway ? "Rhn" : c.Cell.ToString(),
            Depth = c.Depth,
            Layers = c.HiddenSizes.Count,
            Hidden = c.HiddenSizes,
            Bptt = c.Schedule.ToString(),
            Schedule = c.ScheduleName,
            SequenceLength = steps,
            MaxRelativeError = maxRel,
            MaxAbsoluteError = maxAbs,
            WorstSlice = worst.Name,
            CheckedEntries = checkedEntries,
            Passed = maxRel <= options.Tolerance, // false for NaN
            Milliseconds = ms,
        };
    }

    private static IEnumerable<GradientCheckEntry> Groups(GradientCheckReport report)
    {
        foreach (GradientCheckEntry e in report.Parameters) yield return e;
        yield return report.Inputs;
        yield return report.InitialState;
    }

    private static void Fill(Rng rng, Span<double> values, double scale)
    {
        for (int i = 0; i < values.Length; i++) values[i] = rng.NextUniform(-scale, scale);
    }

    /// <summary>Derives a seed from a seed and an index (SplitMix64 finaliser), so cases get unrelated data.</summary>
    private static ulong Mix(ulong seed, ulong index)
    {
        ulong z = seed + (index + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
