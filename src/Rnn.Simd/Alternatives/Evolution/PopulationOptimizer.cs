namespace Rnn.Simd.Alternatives.Evolution;

/// <summary>A function to minimise: the fitness of a candidate solution x (length n); lower is better. NaN counts as worst.</summary>
/// <param name="x">The candidate, length <see cref="IPopulationOptimizer.Dimension"/>.</param>
public delegate double FitnessFunction(ReadOnlySpan<double> x);

/// <summary>
/// A population-based minimiser driven by ask / tell: <see cref="Ask"/> samples <see cref="PopulationSize"/> candidates
/// (every random number of a generation is drawn there, on the caller's thread), the caller evaluates
/// <see cref="Candidate"/>(k) for each k in any order and on any thread, and <see cref="Tell"/> hands the fitness
/// values back in candidate order. Same seed and same fitness values give bitwise the same run.
/// </summary>
public interface IPopulationOptimizer
{
    /// <summary>n, the length of a solution.</summary>
    int Dimension { get; }

    /// <summary>λ, the candidates per generation.</summary>
    int PopulationSize { get; }

    /// <summary>Generations told so far.</summary>
    int Generation { get; }

    /// <summary>Fitness evaluations told so far (λ per generation).</summary>
    long Evaluations { get; }

    /// <summary>The lowest fitness told so far (+∞ before the first <see cref="Tell"/>).</summary>
    double BestFitness { get; }

    /// <summary>The candidate that had <see cref="BestFitness"/> (the start point before the first <see cref="Tell"/>).</summary>
    ReadOnlySpan<double> BestSolution { get; }

    /// <summary>Samples the next generation's λ candidates (overwrites the previous ones). Allocates nothing.</summary>
    void Ask();

    /// <summary>Candidate <paramref name="index"/> (0 ≤ index &lt; λ) of the last <see cref="Ask"/>; valid until the next Ask.</summary>
    ReadOnlySpan<double> Candidate(int index);

    /// <summary>Updates the search distribution from the fitness of the last <see cref="Ask"/>'s candidates (length λ, candidate order). Allocates nothing.</summary>
    /// <exception cref="InvalidOperationException">No <see cref="Ask"/> preceded it.</exception>
    /// <exception cref="ArgumentException">The span's length is not λ.</exception>
    void Tell(ReadOnlySpan<double> fitness);
}

/// <summary>Why <see cref="PopulationOptimizer.Run"/> stopped.</summary>
public enum StopReason
{
    /// <summary>A candidate reached the target fitness.</summary>
    TargetReached,
    /// <summary>The evaluation budget is spent.</summary>
    MaxEvaluations,
    /// <summary>The optimizer cannot continue (CMA-ES: the covariance matrix became ill-conditioned beyond 1e14, or σ collapsed).</summary>
    Converged,
    /// <summary>The cancellation token was set.</summary>
    Cancelled,
}

/// <summary>The outcome of <see cref="PopulationOptimizer.Run"/>.</summary>
/// <param name="BestFitness">The lowest fitness seen.</param>
/// <param name="BestSolution">The candidate with that fitness (a copy).</param>
/// <param name="Evaluations">Fitness evaluations used.</param>
/// <param name="Generations">Generations run.</param>
/// <param name="Reason">Why the run stopped.</param>
public sealed record OptimizationResult(double BestFitness, double[] BestSolution, long Evaluations, int Generations, StopReason Reason);

/// <summary>The ask-evaluate-tell loop shared by every <see cref="IPopulationOptimizer"/>.</summary>
public static class PopulationOptimizer
{
    /// <summary>
    /// Runs generations (ask, evaluate every candidate on the calling thread, tell) until a candidate's fitness is at most
    /// <paramref name="targetFitness"/>, the next generation would exceed <paramref name="maxEvaluations"/>, the optimizer
    /// reports it cannot continue, or cancellation (checked once per generation).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxEvaluations"/> is below one generation (λ).</exception>
    public static OptimizationResult Run(this IPopulationOptimizer optimizer, FitnessFunction fitness, long maxEvaluations, double targetFitness = double.NegativeInfinity,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(fitness);
        int lambda = optimizer.PopulationSize;
        if (maxEvaluations < lambda)
            throw new ArgumentOutOfRangeException(nameof(maxEvaluations), maxEvaluations, $"The budget must allow one generation of {lambda} evaluations.");
        var values = new double[lambda];
        StopReason reason = StopReason.MaxEvaluations;
        int generations = 0;
        long start = optimizer.Evaluations;
        while (optimizer.Evaluations - start + lambda <= maxEvaluations)
        {
            if (cancellationToken.IsCancellationRequested) { reason = StopReason.Cancelled; break; }
            optimizer.Ask();
            for (int k = 0; k < lambda; k++) values[k] = fitness(optimizer.Candidate(k));
            optimizer.Tell(values);
            generations++;
            if (optimizer.BestFitness <= targetFitness) { reason = StopReason.TargetReached; break; }
            if (optimizer is CmaEs { CanContinue: false }) { reason = StopReason.Converged; break; }
        }
        return new OptimizationResult(optimizer.BestFitness, optimizer.BestSolution.ToArray(), optimizer.Evaluations - start, generations, reason);
    }

    /// <summary>Fitness values sorted ascending into <paramref name="order"/> (candidate indices); NaN counts as +∞. Allocates nothing.</summary>
    internal static void Rank(ReadOnlySpan<double> fitness, double[] keys, int[] order)
    {
        for (int k = 0; k < keys.Length; k++)
        {
            keys[k] = double.IsNaN(fitness[k]) ? double.PositiveInfinity : fitness[k];
            order[k] = k;
        }
        // Ties keep no particular order but the same inputs always give the same order (introsort is deterministic).
        Array.Sort(keys, order);
    }
}
