using System.Diagnostics;
using Rnn.Simd.Training;

namespace Rnn.Simd.Alternatives.Evolution;

/// <summary>What a trainer built on <see cref="GenerationLoop"/> supplies: validation of a candidate and installing the winner.</summary>
internal interface IGenerationHost
{
    /// <summary>The validation loss of a candidate (called only when validation data were given).</summary>
    double ValidationLoss(ReadOnlySpan<double> candidate);

    /// <summary>Puts the selected candidate into the trained network.</summary>
    void Install(ReadOnlySpan<double> candidate);

    /// <summary>What the progress reports as the learning rate (CMA-ES: σ), NaN when nothing fits.</summary>
    double Rate { get; }
}

/// <summary>Budget and stopping rules of one <see cref="GenerationLoop.Run"/>.</summary>
internal readonly record struct GenerationBudget(int MaxGenerations, long MaxEvaluations, int Patience, double TargetLoss);

/// <summary>
/// The generation loop every evolutionary trainer shares: ask, evaluate the population in parallel, tell, validate the
/// generation's best candidate, keep the best seen (by validation loss when validation data exist, else by training
/// fitness), report an <see cref="EpochProgress"/> per generation, stop on budget, patience, target, cancellation (checked
/// once per generation) or an optimizer that cannot continue, and install the best candidate at the end.
/// </summary>
internal static class GenerationLoop
{
    public static TrainingResult Run(IPopulationOptimizer optimizer, ParallelPopulation population, IGenerationHost host, GenerationBudget budget,
        bool hasValidation, Action<EpochProgress>? progressed, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var history = new List<EpochProgress>(budget.MaxGenerations);
        var best = new double[optimizer.Dimension];
        double bestLoss = double.PositiveInfinity;
        int bestGeneration = 0, sinceBest = 0, lambda = optimizer.PopulationSize;
        bool cancelled = false, stoppedEarly = false;
        long startEvaluations = optimizer.Evaluations;
        for (int generation = 1; generation <= budget.MaxGenerations; generation++)
        {
            if (cancellationToken.IsCancellationRequested) { cancelled = true; break; }
            if (optimizer.Evaluations - startEvaluations + lambda > budget.MaxEvaluations) { stoppedEarly = true; break; }
            optimizer.Ask();
            ReadOnlySpan<double> fitness = population.Evaluate(optimizer);
            optimizer.Tell(fitness);
            int winner = 0;
            for (int k = 1; k < lambda; k++)
            {
                if (fitness[k] < fitness[winner] || double.IsNaN(fitness[winner])) winner = k;
            }
            double trainLoss = fitness[winner];
            ReadOnlySpan<double> candidate = optimizer.Candidate(winner);
            double validationLoss = hasValidation ? host.ValidationLoss(candidate) : double.NaN;
            double selection = hasValidation ? validationLoss : trainLoss;
            bool isBest = selection < bestLoss;
            if (isBest)
            {
                bestLoss = selection;
                bestGeneration = generation;
                sinceBest = 0;
                candidate.CopyTo(best);
            }
            else
            {
                sinceBest++;
            }
            var progress = new EpochProgress(generation, budget.MaxGenerations, trainLoss, validationLoss, host.Rate, double.NaN, clock.Elapsed, isBest);
            history.Add(progress);
            progressed?.Invoke(progress);
            if ((budget.Patience > 0 && sinceBest >= budget.Patience) || trainLoss <= budget.TargetLoss || optimizer is CmaEs { CanContinue: false })
            {
                stoppedEarly = generation < budget.MaxGenerations;
                break;
            }
        }
        clock.Stop();
        if (bestGeneration > 0) host.Install(best);
        return new TrainingResult(history.Count, bestGeneration, bestGeneration > 0 ? bestLoss : double.NaN, optimizer.Evaluations - startEvaluations, clock.Elapsed,
            stoppedEarly, cancelled, history);
    }
}
