using System.Diagnostics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Training.Optimizers;

namespace Rnn.Simd.Cli.Bench;

/// <summary>One optimiser case: one fused <see cref="Optimizer{T}.Step(Span{T}, ReadOnlySpan{T}, T)"/> over
/// <see cref="Parameters"/> float parameters, on the calling thread.</summary>
/// <param name="Kind">Which optimiser (default hyper-parameters of <see cref="OptimizerFactory"/>).</param>
public sealed record OptimizerCase(OptimizerKind Kind)
{
    /// <summary>Parameters updated per step: 1,000,000 (4 MB per buffer, so a step touches 12 to 36 MB).</summary>
    public const int Parameters = 1_000_000;

    /// <summary>Every <see cref="OptimizerKind"/>, in declaration order.</summary>
    public static IReadOnlyList<OptimizerCase> Standard()
    {
        var cases = new List<OptimizerCase>();
        foreach (OptimizerKind kind in OptimizerFactory.AllKinds) cases.Add(new(kind));
        return cases;
    }
}

/// <summary>The result of timing one optimiser case.</summary>
/// <param name="Name">The optimiser's <see cref="Optimizer{T}.Name"/>, e.g. "Adam" or "RMSprop+gains".</param>
/// <param name="BytesPerParameter">Bytes read plus written per parameter and step (<see cref="Optimizer{T}.BytesPerParameter"/>).</param>
/// <param name="Step">Timing of one step.</param>
/// <param name="Copy">Timing of a span copy that moves the same bytes (BytesPerParameter · n / 2 copied).</param>
public readonly record struct OptimizerMeasurement(string Name, int BytesPerParameter, CaseMeasurement Step, CaseMeasurement Copy)
{
    /// <summary>Effective bandwidth of the step, GB/s: bytes read plus written per second.</summary>
    public double StepGBps => (double)BytesPerParameter * OptimizerCase.Parameters / Step.SecondsPerCall / 1e9;

    /// <summary>Bandwidth of the same-sized copy, GB/s, read plus written.</summary>
    public double CopyGBps => (double)BytesPerParameter * OptimizerCase.Parameters / Copy.SecondsPerCall / 1e9;
}

/// <summary>
/// Times the fused optimiser steps the way the train and inference sections are timed (as <see cref="CaseTimer"/>:
/// warm-up, median of batches, bytes allocated), each against a span copy that moves the same number of bytes, so that
/// the step's bandwidth can be compared both with the machine's streaming bandwidth (the top-level bandwidthGBps, from
/// buffers far beyond any cache) and with a copy of the step's own working set (which a large last-level cache may
/// partly hold). The step is memory-bound: the ratio to the copy is its figure of merit.
/// </summary>
internal sealed class OptimizerBenchmark
{
    /// <summary>A small rate keeps the parameters in range over thousands of steps (the figures do not depend on it).</summary>
    private const float LearningRate = 1e-4f;

    private const ulong Seed = 20261126;

    private readonly float[] _initial, _parameters, _gradients;
    private byte[] _copySource = [], _copyDestination = [];

    /// <summary>Allocates and fills the parameter and gradient buffers (seeded, uniform in ±0.1 and ±1).</summary>
    public OptimizerBenchmark()
    {
        int n = OptimizerCase.Parameters;
        _initial = new float[n];
        _parameters = new float[n];
        _gradients = new float[n];
        var rng = new Rng(Seed);
        for (int i = 0; i < n; i++)
        {
            _initial[i] = (float)rng.NextUniform(-0.1, 0.1);
            _gradients[i] = (float)rng.NextUniform(-1, 1);
        }
    }

    /// <summary>
    /// Times one step of a fresh optimiser of the case's kind (its state buffers allocated and the parameters reset
    /// before the clock starts) and a copy of the same number of bytes, in alternating batches, so that both see the
    /// same machine (a neighbour's load, the clock) and their ratio is not skewed by when each was measured.
    /// </summary>
    /// <exception cref="Infrastructure.CliException">The parameters stopped being finite (the timing would be meaningless).</exception>
    public OptimizerMeasurement Measure(OptimizerCase c, IsaPath path, CaseBudget budget, CancellationToken cancellationToken)
    {
        Optimizer<float> optimizer = OptimizerFactory.Create<float>(c.Kind, OptimizerCase.Parameters, regularization: null, path);
        _initial.CopyTo(_parameters);
        float[] parameters = _parameters, gradients = _gradients;

        // The copy moves BytesPerParameter · n bytes too: half read, half written. The buffers grow to the largest
        // optimiser once and are first touched here, so no page fault is timed.
        int copyBytes = checked(optimizer.BytesPerParameter * OptimizerCase.Parameters / 2);
        if (_copySource.Length < copyBytes)
        {
            _copySource = new byte[copyBytes];
            _copyDestination = new byte[copyBytes];
            _copySource.AsSpan().Fill(0x5A);
            _copyDestination.AsSpan().Clear();
        }
        byte[] source = _copySource, destination = _copyDestination;

        void Step() => optimizer.Step(parameters, gradients, LearningRate);
        void Copy() => source.AsSpan(0, copyBytes).CopyTo(destination.AsSpan(0, copyBytes));

        (CaseMeasurement step, CaseMeasurement copy) = MeasureAlternating(Step, Copy, budget, cancellationToken);
        foreach (float p in parameters)
        {
            if (!float.IsFinite(p))
                throw new Infrastructure.CliException($"optimizer {optimizer.Name} produced a parameter of {p}; the timing would be meaningless.");
        }
        return new OptimizerMeasurement(optimizer.Name, optimizer.BytesPerParameter, step, copy);
    }

    /// <summary>
    /// <see cref="CaseTimer.Measure"/> for two calls at once: each warms up on its own, then the timed batches
    /// alternate a batch of <paramref name="first"/> and a batch of <paramref name="second"/>; the batch count follows
    /// the first call's speed. Allocations are counted per call over each call's own batches.
    /// </summary>
    private static (CaseMeasurement First, CaseMeasurement Second) MeasureAlternating(Action first, Action second, CaseBudget budget, CancellationToken cancellationToken)
    {
        double perFirst = WarmUp(first, budget, cancellationToken), perSecond = WarmUp(second, budget, cancellationToken);
        long firstCalls = Math.Max(1, (long)(budget.Batch.TotalSeconds / perFirst));
        long secondCalls = Math.Max(1, (long)(budget.Batch.TotalSeconds / perSecond));
        int batches = (int)Math.Clamp(budget.Measure.TotalSeconds / (firstCalls * perFirst), budget.MinBatches, budget.MaxBatches);
        var firstSeconds = new double[batches];
        var secondSeconds = new double[batches];
        long firstAllocated = 0, secondAllocated = 0;
        for (int i = 0; i < batches; i++)
        {
            firstSeconds[i] = TimeBatch(first, firstCalls, ref firstAllocated);
            secondSeconds[i] = TimeBatch(second, secondCalls, ref secondAllocated);
            cancellationToken.ThrowIfCancellationRequested();
        }
        long firstTimed = firstCalls * batches, secondTimed = secondCalls * batches;
        return (new CaseMeasurement(Median(firstSeconds), (double)firstAllocated / firstTimed, firstTimed),
                new CaseMeasurement(Median(secondSeconds), (double)secondAllocated / secondTimed, secondTimed));
    }

    /// <summary>Runs <paramref name="call"/> for the budget's warm-up; returns the estimated seconds per steady call.</summary>
    private static double WarmUp(Action call, CaseBudget budget, CancellationToken cancellationToken)
    {
        long calls = 0, start = Stopwatch.GetTimestamp();
        double last;
        TimeSpan elapsed;
        do
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            last = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            calls++;
            elapsed = Stopwatch.GetElapsedTime(start);
            cancellationToken.ThrowIfCancellationRequested();
        }
        while (elapsed < budget.Warmup || calls < budget.MinWarmupCalls);
        return Math.Max(1e-9, Math.Min(last, elapsed.TotalSeconds / calls));
    }

    /// <summary>Seconds per call over one batch of <paramref name="calls"/> calls; adds the bytes allocated to <paramref name="allocated"/>.</summary>
    private static double TimeBatch(Action call, long calls, ref long allocated)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        long t0 = Stopwatch.GetTimestamp();
        for (long j = 0; j < calls; j++) call();
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds / calls;
        allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        return seconds;
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        int n = values.Length;
        return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    }
}
