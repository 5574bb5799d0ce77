using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Cli.Train;

/// <summary>Test metrics of one forecast: over every horizon step (the only step in single mode) and at step h alone.</summary>
/// <param name="Name">"model", "persistence" or "seasonalNaive".</param>
/// <param name="Lag">The lag of a baseline at horizon step h (persistence: h; seasonal naive: the season); 0 for the model.</param>
/// <param name="All">Metrics over every included target of every horizon step.</param>
/// <param name="LastStep">Metrics of the targets y[t+h] only (equal to <paramref name="All"/> in single mode).</param>
public sealed record ForecastScore(string Name, int Lag, ForecastMetrics All, ForecastMetrics LastStep);

/// <summary>The model's test metrics and the baselines scored on the same targets.</summary>
/// <param name="Model">The trained network.</param>
/// <param name="Baselines">Persistence (lag h), then seasonal naive for every season ≥ h.</param>
/// <param name="SkippedSeasons">Seasons shorter than the horizon (not a legitimate forecast: y[t+h-s] lies after t) or longer than the history before the test part.</param>
public sealed record TrainEvaluation(ForecastScore Model, IReadOnlyList<ForecastScore> Baselines, IReadOnlyList<int> SkippedSeasons)
{
    /// <summary>Scores the outcome's test predictions and the baselines.</summary>
    /// <param name="outcome">The training run.</param>
    /// <param name="seasons">Seasons of the seasonal-naive baselines (24 and 168 for hourly data).</param>
    public static TrainEvaluation Compute(TrainingOutcome outcome, IReadOnlyList<int> seasons)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return Compute(outcome.Test, outcome.TestPredictions, seasons);
    }

    /// <summary>Scores a model's predictions on any part (<c>evaluate</c>) and the baselines on the same targets.</summary>
    /// <param name="test">The windows of the part.</param>
    /// <param name="predictions">The model's predictions in original units, T x O aligned with <paramref name="test"/>.</param>
    /// <param name="seasons">Seasons of the seasonal-naive baselines.</param>
    public static TrainEvaluation Compute(ForecastWindows test, float[] predictions, IReadOnlyList<int> seasons)
    {
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(seasons);
        int h = test.Horizon;
        ForecastScore model = Score(test, "model", 0, predictions);
        var baselines = new List<ForecastScore> { Score(test, "persistence", h, Forecasting.Baselines.Persistence(test)) };
        var skipped = new List<int>();
        foreach (int season in seasons)
        {
            // ŷ[t+h] = y[t+h-s] is known at time t only when s ≥ h.
            if (season < h) { skipped.Add(season); continue; }
            float[] forecast;
            try { forecast = Forecasting.Baselines.SeasonalNaive(test, season); }
            catch (SeriesTooShortException) { skipped.Add(season); continue; }
            baselines.Add(Score(test, "seasonalNaive", season, forecast));
        }
        return new TrainEvaluation(model, baselines, skipped);
    }

    private static ForecastScore Score(ForecastWindows test, string name, int lag, float[] predictions)
    {
        ForecastMetrics all = test.Evaluate(predictions);
        // Step h is the last output of a row (one target column): the only one in single mode.
        ForecastMetrics last = test.Mode == TargetMode.SingleStep ? all : test.Evaluate(predictions, test.OutputSize - 1);
        return new ForecastScore(name, lag, all, last);
    }
}
