using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Cli.Train;

/// <summary>Test metrics of one forecast: over every horizon step (the only step in single mode) and at step h alone.</summary>
/// <param name="Name">"model", "persistence", "seasonalNaive" or "ets" (damped Holt-Winters, ETS(A,Ad,A); ETS(A,Ad,N) for season 1).</param>
/// <param name="Lag">The lag of a baseline at horizon step h (persistence: h; seasonal naive: the season; ETS: its season m); 0 for the model.</param>
/// <param name="All">Metrics over every included target of every horizon step.</param>
/// <param name="LastStep">Metrics of the targets y[t+h] only (equal to <paramref name="All"/> in single mode).</param>
public sealed record ForecastScore(string Name, int Lag, ForecastMetrics All, ForecastMetrics LastStep)
{
    /// <summary>NRMSE of the same forecast on the validation part (what picks the best baseline), or null when not computed.</summary>
    public double? ValidationNrmse { get; init; }

    /// <summary>The fitted smoothing parameters of an ETS baseline, or null.</summary>
    public EtsParameters? Ets { get; init; }

    /// <summary>The name in the table: "persistence (lag 24)", "seasonal naive (lag 168)", "ETS(A,Ad,A) m=24".</summary>
    public string Label => Name switch
    {
        "persistence" => Invariant($"persistence (lag {Lag})"),
        "seasonalNaive" => Invariant($"seasonal naive (lag {Lag})"),
        "ets" => Lag > 1 ? Invariant($"ETS(A,Ad,A) m={Lag}") : "ETS(A,Ad,N)",
        _ => Name,
    };

    private static string Invariant(FormattableString s) => s.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The model's test metrics and the baselines scored on the same targets.</summary>
/// <param name="Model">The trained network.</param>
/// <param name="Baselines">Persistence (lag h), then seasonal naive for every season ≥ h.</param>
/// <param name="SkippedSeasons">Seasons shorter than the horizon (not a legitimate forecast: y[t+h-s] lies after t) or longer than the history before the test part.</param>
public sealed record TrainEvaluation(ForecastScore Model, IReadOnlyList<ForecastScore> Baselines, IReadOnlyList<int> SkippedSeasons)
{
    /// <summary>The damped Holt-Winters baselines (one per season, or the non-seasonal one), fitted on the training part; empty when not computed.</summary>
    public IReadOnlyList<ForecastScore> Ets { get; init; } = [];

    /// <summary>Why an ETS season was left out (too long for the training part), or empty.</summary>
    public IReadOnlyList<string> EtsNotes { get; init; } = [];

    /// <summary>The baseline (of <see cref="Baselines"/> and <see cref="Ets"/>) with the lowest validation NRMSE, or null when not computed.</summary>
    public ForecastScore? Best { get; init; }

    /// <summary>Skill of the model against <see cref="Best"/> on the test part: 1 − NRMSE_model / NRMSE_best; null when undefined.</summary>
    public double? Skill => Best?.All.Nrmse is { } b && b > 0 && Model.All.Nrmse is { } m ? 1 - m / b : null;

    /// <summary>
    /// Scores the outcome's test predictions and the baselines: persistence and seasonal naive at each season, and
    /// damped Holt-Winters (<see cref="DampedHoltWinters"/>, ETS(A,Ad,A)) at each season it can be fitted for (two
    /// seasons in the training part; ETS(A,Ad,N) when none can), fitted on the training part only by the mean squared
    /// error at the scored horizon steps (<see cref="DampedHoltWinters.FitForHorizon"/>: the one-step likelihood gives
    /// α ≈ β ≈ 1 on smooth hourly data, useless a day ahead). Every baseline is
    /// also scored on the validation part, and the best there is <see cref="Best"/>, against which the model's skill
    /// is reported on the test part (the test part never chooses).
    /// </summary>
    /// <param name="outcome">The training run.</param>
    /// <param name="seasons">Seasons of the baselines (24 and 168 for hourly data).</param>
    public static TrainEvaluation Compute(TrainingOutcome outcome, IReadOnlyList<int> seasons)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(seasons);
        TrainEvaluation e = Compute(outcome.Test, outcome.TestPredictions, seasons);
        ForecastWindows? validation = outcome.Dataset.Validation;
        if (validation is null) return e;
        var baselines = new List<ForecastScore>(e.Baselines.Count);
        foreach (ForecastScore b in e.Baselines)
        {
            float[] v = b.Name == "persistence" ? Forecasting.Baselines.Persistence(validation) : SeasonalOrNull(validation, b.Lag) ?? [];
            baselines.Add(b with { ValidationNrmse = v.Length == 0 ? null : validation.Evaluate(v).Nrmse });
        }
        TimeRange train = outcome.Dataset.Split.Train;
        var ets = new List<ForecastScore>();
        var notes = new List<string>();
        foreach (int m in seasons)
        {
            if (m < 2) continue;
            if (train.Length < DampedHoltWinters.MinimumLength(m))
            {
                notes.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"ETS season {m} skipped: the training part ({train.Length} steps) holds fewer than two seasons."));
                continue;
            }
            ets.Add(EtsScore(outcome.Test, validation, m, train));
        }
        if (ets.Count == 0) ets.Add(EtsScore(outcome.Test, validation, 1, train));
        ForecastScore? best = null;
        foreach (ForecastScore b in baselines.Concat(ets))
            if (b.ValidationNrmse is { } nrmse && (best?.ValidationNrmse is not { } bestNrmse || nrmse < bestNrmse)) best = b;
        return e with { Baselines = baselines, Ets = ets, EtsNotes = notes, Best = best };
    }

    private static float[]? SeasonalOrNull(ForecastWindows windows, int season)
    {
        try { return Forecasting.Baselines.SeasonalNaive(windows, season); }
        catch (SeriesTooShortException) { return null; }
    }

    // One ETS model per target column fitted on the training part, forecasting both parts from every origin.
    private static ForecastScore EtsScore(ForecastWindows test, ForecastWindows validation, int season, TimeRange train)
    {
        DampedHoltWinters[] models = DampedHoltWinters.FitTargets(test, season, train, forHorizon: true);
        float[] t = DampedHoltWinters.Forecast(test, models, train);
        float[] v = DampedHoltWinters.Forecast(validation, models, train);
        return Score(test, "ets", season, t) with { ValidationNrmse = validation.Evaluate(v).Nrmse, Ets = models[0].Parameters };
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
