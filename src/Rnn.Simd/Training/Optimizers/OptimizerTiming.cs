using System.Diagnostics;
using System.Numerics;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>The result of <see cref="OptimizerTiming.Measure{T}"/>.</summary>
/// <param name="Name">The optimiser's <see cref="Optimizer{T}.Name"/>.</param>
/// <param name="ParameterCount">Parameters updated per step.</param>
/// <param name="Steps">Timed steps.</param>
/// <param name="SecondsPerStep">Median wall time of one step.</param>
/// <param name="BytesPerStep">Memory traffic of one step (<see cref="Optimizer{T}.BytesPerStep"/>).</param>
public readonly record struct OptimizerTimingResult(string Name, int ParameterCount, int Steps, double SecondsPerStep, long BytesPerStep)
{
    /// <summary>Effective bandwidth of the fused pass, GB/s (10^9 bytes per second): bytes read plus written per second.</summary>
    public double GigabytesPerSecond => BytesPerStep / SecondsPerStep / 1e9;

    /// <summary>Parameters updated per second.</summary>
    public double ParametersPerSecond => ParameterCount / SecondsPerStep;
}

/// <summary>
/// Times an optimiser's fused step, for a command-line benchmark or a quick check against the machine's streaming
/// bandwidth (<c>MachineProbe.MeasureBandwidthGBps</c>; the step is memory-bound, so the ratio is what matters).
/// </summary>
public static class OptimizerTiming
{
    /// <summary>
    /// Runs <paramref name="warmupSteps"/> untimed and then <paramref name="steps"/> timed steps of the optimiser on
    /// its own freshly allocated parameter and gradient buffers (small seeded random values, learning rate 1e-4),
    /// and reports the median time per step. Changes the optimiser's state; call <see cref="Optimizer{T}.Reset"/>
    /// before reusing it for training.
    /// </summary>
    /// <param name="optimizer">The optimiser to time.</param>
    /// <param name="steps">Timed steps, at least 1.</param>
    /// <param name="warmupSteps">Untimed steps first (JIT tiering, page faults), at least 0.</param>
    /// <param name="seed">Seed of the buffers' contents.</param>
    /// <exception cref="ArgumentOutOfRangeException">steps &lt; 1 or warmupSteps &lt; 0.</exception>
    public static OptimizerTimingResult Measure<T>(Optimizer<T> optimizer, int steps = 20, int warmupSteps = 5, ulong seed = 1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (steps < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(steps), "At least one step must be timed.");
        if (warmupSteps < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(warmupSteps), "The warm-up count must not be negative.");
        int n = optimizer.ParameterCount;
        var parameters = new T[n];
        var gradients = new T[n];
        var rng = new Rng(seed);
        for (int i = 0; i < n; i++)
        {
            parameters[i] = T.CreateTruncating(rng.NextUniform(-0.1, 0.1));
            gradients[i] = T.CreateTruncating(rng.NextUniform(-1, 1));
        }
        T lr = T.CreateTruncating(1e-4);
        for (int i = 0; i < warmupSteps; i++) optimizer.Step(parameters, gradients, lr);
        var times = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            optimizer.Step(parameters, gradients, lr);
            times[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        Array.Sort(times);
        double median = steps % 2 == 1 ? times[steps / 2] : 0.5 * (times[steps / 2 - 1] + times[steps / 2]);
        return new OptimizerTimingResult(optimizer.Name, n, steps, Math.Max(median, 1e-12), optimizer.BytesPerStep);
    }
}
