using System.Globalization;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Cli.Train;

/// <summary>The seasons of a run's baselines and where they come from.</summary>
/// <param name="Periods">The seasons, in steps.</param>
/// <param name="Source">"given" (<c>--seasons</c>), "detected" (from the sampling period and the training part), or "assumed" (24, 168: no sampling period known).</param>
/// <param name="Candidates">The candidates checked when detected (empty otherwise).</param>
public sealed record SeasonChoice(IReadOnlyList<int> Periods, string Source, IReadOnlyList<SeasonCandidate> Candidates)
{
    /// <summary>One line for the report: the seasons and the evidence.</summary>
    public string Describe()
    {
        if (Source != "detected")
            return Invariant($"Seasons {(Periods.Count == 0 ? "none" : string.Join(", ", Periods))} ({(Source == "given" ? "--seasons" : "assumed hourly: no time column gives the sampling period")}).");
        if (Candidates.Count == 0) return "Seasons: none (the sampling period has no calendar cycle to try).";
        var parts = new List<string>();
        foreach (SeasonCandidate c in Candidates)
            parts.Add(c.Confirmed
                ? Invariant($"{c.Name} {c.Period} confirmed (r = {c.Acf:F2}, r(half) = {c.AcfHalf:F2})")
                : Invariant($"{c.Name} {c.Period} rejected ({c.Reason})"));
        return "Seasons from the training part's autocorrelation: " + string.Join("; ", parts) + ".";
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Chooses the seasons of <c>train</c>'s baselines: <c>--seasons</c> when given (each at most a third of the training
/// part, else an error), else the calendar cycles of the sampling period confirmed by the autocorrelation of the
/// training part only (<see cref="SeasonDetector"/>), else, when the period is unknown (a file without a time column),
/// the old hourly assumption 24 and 168.
/// </summary>
public static class TrainSeasons
{
    /// <summary>The seasons for the run.</summary>
    public static SeasonChoice Choose(LoadedSeries data, ForecastDataset dataset, TrainOptions o)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(o);
        TimeRange train = dataset.Split.Train;
        if (!o.DetectSeasons)
        {
            foreach (int m in o.Seasons)
                if (3L * m > train.Length)
                    throw new CliException(string.Create(CultureInfo.InvariantCulture,
                        $"--seasons {m} is longer than a third of the training part ({train.Length} steps): its baselines would rest on fewer than three seasons."));
            return new SeasonChoice(o.Seasons, "given", []);
        }
        if (data.Period is not { } period) return new SeasonChoice(o.Seasons, "assumed", []);
        int column = dataset.Train.TargetColumns[0], c = data.Series.ColumnCount;
        var y = new float[train.Length];
        ReadOnlySpan<float> v = data.Series.Values;
        for (int t = 0; t < y.Length; t++) y[t] = v[(train.Start + t) * c + column];
        IReadOnlyList<SeasonCandidate> candidates = SeasonDetector.Detect(y, period);
        var periods = new List<int>();
        foreach (SeasonCandidate candidate in candidates)
            if (candidate.Confirmed) periods.Add(candidate.Period);
        return new SeasonChoice(periods, "detected", candidates);
    }
}
