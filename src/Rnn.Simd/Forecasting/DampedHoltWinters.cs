using System.Globalization;

namespace Rnn.Simd.Forecasting;

/// <summary>
/// The smoothing parameters of ETS(A,Ad,A) in the error-correction (state-space) form of Hyndman &amp; Athanasopoulos,
/// "Forecasting: Principles and Practice" (FPP3, §8.5, Table 8.7): α (level), β (trend, = α·β* of the component form),
/// γ (season) and φ (damping). The bounds of FPP3 §8.6: 0 &lt; α &lt; 1, 0 &lt; β &lt; α, 0 &lt; γ &lt; 1 − α,
/// 0.8 ≤ φ ≤ 0.98.
/// </summary>
/// <param name="Alpha">α.</param>
/// <param name="Beta">β (state-space form).</param>
/// <param name="Gamma">γ (0 for the non-seasonal ETS(A,Ad,N)).</param>
/// <param name="Phi">φ.</param>
public readonly record struct EtsParameters(double Alpha, double Beta, double Gamma, double Phi)
{
    /// <summary>The lowest damping FPP3 allows.</summary>
    public const double MinPhi = 0.8;

    /// <summary>The highest damping FPP3 allows.</summary>
    public const double MaxPhi = 0.98;

    /// <summary>α, β, γ, φ with 4 significant digits.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"α={Alpha:G4} β={Beta:G4} γ={Gamma:G4} φ={Phi:G4}");
}

/// <summary>
/// Additive Holt-Winters with a damped trend, ETS(A,Ad,A) (Hyndman &amp; Athanasopoulos, FPP3 ch. 8, §8.3 and Table 8.7),
/// a classical statistical baseline. With ε_t = y_t − ℓ_{t−1} − φ b_{t−1} − s_{t−m}:
/// <code>
/// ℓ_t = ℓ_{t−1} + φ b_{t−1} + α ε_t
/// b_t = φ b_{t−1} + β ε_t
/// s_t = s_{t−m} + γ ε_t
/// ŷ_{t+k|t} = ℓ_t + (φ + φ² + … + φ^k) b_t + s_{t+k−m(⌊(k−1)/m⌋+1)}
/// </code>
/// A season m ≤ 1 gives the non-seasonal ETS(A,Ad,N) (no s term, γ = 0).
/// <para><b>Fit</b> (<see cref="Fit"/>; <see cref="FitForHorizon"/> for the h-step criterion): on the training part only, α, β, γ, φ minimise the sum of squared one-step
/// errors Σ ε_t², which for additive errors and fixed initial states is the maximum-likelihood estimate (FPP3 §8.6:
/// L* = n log Σ ε_t²). They are searched by Nelder-Mead in double over an unconstrained transform that maps onto the
/// bounds of <see cref="EtsParameters"/> (α = σ(u₀), β = α σ(u₁), γ = (1 − α) σ(u₂), φ = 0.8 + 0.18 σ(u₃)).
/// Initial states are the classical heuristic (as FPP3 §8.6 suggests for a starting point; not optimised here): ℓ
/// the mean of the first season, b the change of the mean from the first season to the second divided by m, s_j the
/// first season's deviations from that line, centred to sum 0; so the training part needs two whole seasons.</para>
/// <para><b>Masked times</b> (a <see cref="TimeMask"/>): treated as missing observations, ε_t = 0 (the states move by
/// their forecast) and not counted in the fit.</para>
/// </summary>
public sealed class DampedHoltWinters
{
    private const int MaxEvaluations = 1200;

    private DampedHoltWinters(int season, EtsParameters parameters, double level, double trend, double[] seasonal, double sse, int count)
    {
        Season = season;
        Parameters = parameters;
        InitialLevel = level;
        InitialTrend = trend;
        _initialSeasonal = seasonal;
        TrainingSse = sse;
        TrainingCount = count;
    }

    private readonly double[] _initialSeasonal;

    /// <summary>m, the season (≤ 1: non-seasonal).</summary>
    public int Season { get; }

    /// <summary>The fitted (or given) α, β, γ, φ.</summary>
    public EtsParameters Parameters { get; }

    /// <summary>ℓ_{−1}, the level before the first observation.</summary>
    public double InitialLevel { get; }

    /// <summary>b_{−1}, the trend before the first observation.</summary>
    public double InitialTrend { get; }

    /// <summary>s_{−m}, ..., s_{−1}, the seasonal states before the first observation (empty when non-seasonal).</summary>
    public IReadOnlyList<double> InitialSeasonal => _initialSeasonal;

    /// <summary>Σ ε_t² over the fitted observations.</summary>
    public double TrainingSse { get; }

    /// <summary>Observations in <see cref="TrainingSse"/> (unmasked).</summary>
    public int TrainingCount { get; }

    /// <summary>Observations the training part needs for season <paramref name="season"/>: two whole seasons (2 without a season).</summary>
    public static int MinimumLength(int season) => season > 1 ? 2 * season : 2;

    /// <summary>Fits α, β, γ, φ on <paramref name="train"/> (the training part, oldest first) by SSE / maximum likelihood.</summary>
    /// <param name="train">The training observations.</param>
    /// <param name="season">m (≤ 1: non-seasonal).</param>
    /// <param name="mask">Excluded times (indices into <paramref name="train"/>), or null.</param>
    /// <exception cref="SeriesTooShortException">Fewer than <see cref="MinimumLength"/> observations.</exception>
    public static DampedHoltWinters Fit(ReadOnlySpan<double> train, int season, TimeMask? mask = null) => FitCore(train, season, mask ?? TimeMask.None, 0, []);

    /// <summary>
    /// Fits α, β, γ, φ on <paramref name="train"/> by the in-sample mean squared error of the forecasts
    /// <paramref name="horizonSteps"/> steps ahead from every origin (the "amse" criterion of Hyndman's <c>ets</c>,
    /// over the steps given rather than 1..n), instead of the one-step likelihood: the likelihood of a smooth
    /// high-frequency series is maximal near α = β = 1, which tracks the last step's slope and extrapolates it badly
    /// a day ahead. <see cref="TrainingSse"/> stays the one-step SSE.
    /// </summary>
    /// <param name="train">The training observations.</param>
    /// <param name="season">m (≤ 1: non-seasonal).</param>
    /// <param name="horizonSteps">The steps k ≥ 1 whose errors are minimised (e.g. h for a single-step forecast); empty for the likelihood.</param>
    /// <param name="mask">Excluded times, or null.</param>
    public static DampedHoltWinters FitForHorizon(ReadOnlySpan<double> train, int season, ReadOnlySpan<int> horizonSteps, TimeMask? mask = null) =>
        FitCore(train, season, mask ?? TimeMask.None, 0, horizonSteps.ToArray());

    // maskOffset: the mask's time of train[0]; steps: the horizon criterion's steps, or empty for the one-step SSE.
    private static DampedHoltWinters FitCore(ReadOnlySpan<double> train, int season, TimeMask m, int maskOffset, int[] steps)
    {
        foreach (int k in steps)
            if (k < 1) throw new ArgumentOutOfRangeException(nameof(steps), k, "A horizon step must be at least 1.");
        double[] y = train.ToArray();
        (double level, double trend, double[] seasonal) = InitialStates(y, season);
        bool seasonalModel = season > 1;
        int mm = Math.Max(season, 1);
        var states = new double[y.Length * 2];
        var seasonalStates = new double[y.Length + mm];
        double Criterion(double[] u)
        {
            EtsParameters p = FromUnconstrained(u, seasonalModel);
            if (steps.Length == 0) return Filter(y, season, p, level, trend, seasonal, m, maskOffset, null, out _);
            Filter(y, season, p, level, trend, seasonal, m, maskOffset, (states, seasonalStates), out _);
            return HorizonSse(y, season, p.Phi, states, seasonalStates, steps, m, maskOffset);
        }
        (double[] best, double _) = NelderMead.Minimize(Criterion, [0, seasonalModel ? -2 : 0, seasonalModel ? 0 : -30, 0], 1.0, MaxEvaluations, 1e-10);
        EtsParameters fitted = FromUnconstrained(best, seasonalModel);
        double sse = Filter(y, season, fitted, level, trend, seasonal, m, maskOffset, null, out int count);
        return new DampedHoltWinters(season, fitted, level, trend, seasonal, sse, count);
    }

    // Σ over origins t and steps k of (y_{t+k} − ŷ_{t+k|t})², targets inside y and unmasked, divided by their count.
    private static double HorizonSse(double[] y, int season, double phi, double[] states, double[] seasonal, int[] steps, TimeMask mask, int maskOffset)
    {
        int n = y.Length, m = Math.Max(season, 1);
        double sum = 0;
        long count = 0;
        foreach (int k in steps)
        {
            double damped = 0, power = 1;
            for (int j = 1; j <= k; j++)
            {
                power *= phi;
                damped += power;
            }
            int back = season > 1 ? k - season * ((k - 1) / season + 1) + m : 0;
            for (int t = 0; t + k < n; t++)
            {
                if (mask.IsExcluded(t + k + maskOffset)) continue;
                double f = states[2 * t] + damped * states[2 * t + 1] + (season > 1 ? seasonal[t + back] : 0);
                double e = y[t + k] - f;
                sum += e * e;
                count++;
            }
        }
        return count == 0 || !double.IsFinite(sum) ? double.PositiveInfinity : sum / count;
    }

    /// <summary>A model with given parameters and the heuristic initial states of <paramref name="train"/> (for tests and for comparison with other software).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A parameter outside the (closed) bounds of <see cref="EtsParameters"/>.</exception>
    public static DampedHoltWinters WithParameters(ReadOnlySpan<double> train, int season, EtsParameters parameters, TimeMask? mask = null)
    {
        CheckBounds(parameters, season > 1);
        double[] y = train.ToArray();
        (double level, double trend, double[] seasonal) = InitialStates(y, season);
        double sse = Filter(y, season, parameters, level, trend, seasonal, mask ?? TimeMask.None, 0, null, out int count);
        return new DampedHoltWinters(season, parameters, level, trend, seasonal, sse, count);
    }

    /// <summary>
    /// Rolling-origin forecasts from every origin t of <paramref name="y"/>: runs the states through all of
    /// <paramref name="y"/> (the training part this model was fitted on and what follows it) with the fitted
    /// parameters, and returns ŷ_{t+k|t} = <c>result[t · horizonSteps.Length + i]</c> for k = horizonSteps[i].
    /// </summary>
    /// <param name="y">The whole series, starting at the first training observation.</param>
    /// <param name="horizonSteps">The steps k ≥ 1 to forecast from each origin.</param>
    /// <param name="mask">Excluded times (ε = 0 there), or null.</param>
    public double[] ForecastFromEveryOrigin(ReadOnlySpan<double> y, ReadOnlySpan<int> horizonSteps, TimeMask? mask = null) =>
        ForecastFromEveryOrigin(y, horizonSteps, mask ?? TimeMask.None, 0);

    private double[] ForecastFromEveryOrigin(ReadOnlySpan<double> y, ReadOnlySpan<int> horizonSteps, TimeMask mask, int maskOffset)
    {
        foreach (int k in horizonSteps)
            if (k < 1) throw new ArgumentOutOfRangeException(nameof(horizonSteps), k, "A horizon step must be at least 1.");
        int n = y.Length, m = Math.Max(Season, 1), ks = horizonSteps.Length;
        var states = new double[n * 2];
        var seasonal = new double[n + m];
        Filter(y.ToArray(), Season, Parameters, InitialLevel, InitialTrend, _initialSeasonal, mask, maskOffset, (states, seasonal), out _);
        var result = new double[checked(n * ks)];
        double phi = Parameters.Phi;
        for (int t = 0; t < n; t++)
        {
            double level = states[2 * t], trend = states[2 * t + 1];
            for (int i = 0; i < ks; i++)
            {
                int k = horizonSteps[i];
                double damped = 0, power = 1;
                for (int j = 1; j <= k; j++)
                {
                    power *= phi;
                    damped += power;
                }
                double s = Season > 1 ? seasonal[t + k - Season * ((k - 1) / Season + 1) + m] : 0;
                result[t * ks + i] = level + damped * trend + s;
            }
        }
        return result;
    }

    /// <summary>
    /// The damped Holt-Winters forecasts of <paramref name="windows"/> in its T x O layout (original units), like the
    /// other <see cref="Baselines"/>: for each target column a model fitted on the series' times
    /// [<paramref name="train"/>.Start, <paramref name="train"/>.End) (the training part, <see cref="FitTargets"/>),
    /// then run through the series with those parameters; the row of input time t and horizon step k gets ŷ_{t+k|t}.
    /// </summary>
    /// <exception cref="SeriesTooShortException">The training part is shorter than two seasons.</exception>
    /// <exception cref="ArgumentException">A row's origin precedes the training part.</exception>
    public static float[] Forecast(ForecastWindows windows, int season, TimeRange train, bool forHorizon = false) =>
        Forecast(windows, FitTargets(windows, season, train, forHorizon), train);

    /// <summary>
    /// One model per target column of <paramref name="windows"/> (in <see cref="ForecastWindows.TargetColumns"/> order),
    /// fitted on the times <paramref name="train"/> of its series, masked times left out: by the one-step likelihood, or
    /// with <paramref name="forHorizon"/> by the mean squared error at the windows' horizon steps (<see cref="FitForHorizon"/>).
    /// </summary>
    /// <exception cref="SeriesTooShortException">The training part is shorter than two seasons.</exception>
    public static DampedHoltWinters[] FitTargets(ForecastWindows windows, int season, TimeRange train, bool forHorizon = false)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (train.End > windows.Series.Length) throw new ArgumentOutOfRangeException(nameof(train), train, "The training range reaches past the series.");
        if (train.Length < MinimumLength(season))
            throw new SeriesTooShortException(string.Create(CultureInfo.InvariantCulture,
                $"ETS(A,Ad,A) with season {season} needs a training part of at least {MinimumLength(season)} steps (two seasons); it has {train.Length}."),
                MinimumLength(season), train.Length, nameof(train));
        IReadOnlyList<int> targets = windows.TargetColumns;
        var models = new DampedHoltWinters[targets.Count];
        var y = new double[train.Length];
        int[] steps = forHorizon ? new int[windows.Options.StepsPerRow] : [];
        for (int k = 0; k < steps.Length; k++) steps[k] = windows.Mode == TargetMode.SingleStep ? windows.Horizon : k + 1;
        for (int jt = 0; jt < targets.Count; jt++)
        {
            Column(windows.Series, targets[jt], train.Start, y);
            models[jt] = FitCore(y, season, windows.Mask, train.Start, steps);
        }
        return models;
    }

    /// <summary>As <see cref="Forecast(ForecastWindows, int, TimeRange, bool)"/> with models already fitted (<see cref="FitTargets"/> on the same <paramref name="train"/>).</summary>
    public static float[] Forecast(ForecastWindows windows, IReadOnlyList<DampedHoltWinters> models, TimeRange train)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(models);
        IReadOnlyList<int> targets = windows.TargetColumns;
        if (models.Count != targets.Count) throw new ArgumentException($"One model per target column is needed ({targets.Count}); got {models.Count}.", nameof(models));
        if (windows.FirstTime < train.Start)
            throw new ArgumentException($"The windows start at input time {windows.FirstTime}, before the training range {train}.", nameof(windows));
        int o = windows.OutputSize;
        var result = new float[windows.Length * o];
        var y = new double[windows.Series.Length - train.Start];
        for (int jt = 0; jt < targets.Count; jt++)
        {
            Column(windows.Series, targets[jt], train.Start, y);
            // The outputs of this target column: their horizon steps, in output order.
            var outputs = new List<int>();
            for (int k = 0; k < o; k++)
                if (windows.TargetColumn(k) == targets[jt]) outputs.Add(k);
            var steps = new int[outputs.Count];
            for (int i = 0; i < steps.Length; i++) steps[i] = windows.HorizonStep(outputs[i]);
            double[] f = models[jt].ForecastFromEveryOrigin(y, steps, windows.Mask, train.Start);
            for (int r = 0; r < windows.Length; r++)
            {
                int t = windows.FirstTime + r - train.Start;
                for (int i = 0; i < steps.Length; i++) result[r * o + outputs[i]] = (float)f[t * steps.Length + i];
            }
        }
        return result;
    }

    private static void Column(TimeSeries series, int column, int start, Span<double> destination)
    {
        ReadOnlySpan<float> v = series.Values;
        int c = series.ColumnCount;
        for (int t = 0; t < destination.Length; t++) destination[t] = v[(start + t) * c + column];
    }

    /// <summary>Metrics of <see cref="Forecast(ForecastWindows, int, TimeRange, bool)"/> on the windows' included targets (original units).</summary>
    public static ForecastMetrics Evaluate(ForecastWindows windows, int season, TimeRange train, bool forHorizon = false) =>
        windows.Evaluate(Forecast(windows, season, train, forHorizon));

    // The error-correction recursions over y; returns Σ ε² over unmasked t and, when asked, stores (ℓ_t, b_t) and s_t
    // (seasonal[t + m]; seasonal[0..m) the initial states) after each observation.
    private static double Filter(double[] y, int season, EtsParameters p, double level, double trend, double[] initialSeasonal, TimeMask mask, int maskOffset,
        (double[] States, double[] Seasonal)? store, out int count)
    {
        bool seasonalModel = season > 1;
        int m = Math.Max(season, 1);
        double[] s = store?.Seasonal ?? new double[y.Length + m];
        if (seasonalModel) Array.Copy(initialSeasonal, s, m);
        double sse = 0;
        count = 0;
        for (int t = 0; t < y.Length; t++)
        {
            double sPrev = seasonalModel ? s[t] : 0;                // s_{t−m} at index t − m + m
            double forecast = level + p.Phi * trend + sPrev;
            double e = 0;
            if (!mask.IsExcluded(t + maskOffset))
            {
                e = y[t] - forecast;
                sse += e * e;
                count++;
            }
            double newLevel = level + p.Phi * trend + p.Alpha * e;
            trend = p.Phi * trend + p.Beta * e;
            level = newLevel;
            s[t + m] = seasonalModel ? sPrev + p.Gamma * e : 0;
            if (store is { } st)
            {
                st.States[2 * t] = level;
                st.States[2 * t + 1] = trend;
            }
            if (!double.IsFinite(sse)) return double.PositiveInfinity;
        }
        return sse;
    }

    private static (double Level, double Trend, double[] Seasonal) InitialStates(double[] y, int season)
    {
        int need = MinimumLength(season);
        if (y.Length < need)
            throw new SeriesTooShortException(string.Create(CultureInfo.InvariantCulture,
                $"ETS(A,Ad,{(season > 1 ? "A" : "N")}) with season {season} needs at least {need} training observations; got {y.Length}."), need, y.Length, nameof(y));
        for (int t = 0; t < y.Length; t++)
            if (!double.IsFinite(y[t])) throw new NonFiniteValueException($"The training observation {t} of ETS is not finite.", t, null, (float)y[t], paramName: nameof(y));
        if (season <= 1) return (y[0], y[1] - y[0], []);
        int m = season;
        double first = 0, second = 0;
        for (int j = 0; j < m; j++)
        {
            first += y[j];
            second += y[m + j];
        }
        first /= m;
        second /= m;
        double b = (second - first) / m;
        // The first season's mean is the level at its centre (m − 1) / 2; the level before y_0 lies (m + 1) / 2 steps earlier.
        double level = first - (m + 1) / 2.0 * b;
        var seasonal = new double[m];
        double mean = 0;
        for (int j = 0; j < m; j++)
        {
            seasonal[j] = y[j] - (first + (j - (m - 1) / 2.0) * b);
            mean += seasonal[j];
        }
        mean /= m;
        for (int j = 0; j < m; j++) seasonal[j] -= mean;
        return (level, b, seasonal);
    }

    private static EtsParameters FromUnconstrained(double[] u, bool seasonal)
    {
        double alpha = Sigmoid(u[0]);
        double beta = alpha * Sigmoid(u[1]);
        double gamma = seasonal ? (1 - alpha) * Sigmoid(u[2]) : 0;
        double phi = EtsParameters.MinPhi + (EtsParameters.MaxPhi - EtsParameters.MinPhi) * Sigmoid(u[3]);
        return new EtsParameters(alpha, beta, gamma, phi);
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    // The closure of FPP3's open bounds (the logistic transform reaches an edge in floating point when it saturates).
    private static void CheckBounds(EtsParameters p, bool seasonal)
    {
        if (!(p.Alpha >= 0 && p.Alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p.Alpha, "α must lie in [0, 1].");
        if (!(p.Beta >= 0 && p.Beta <= p.Alpha)) throw new ArgumentOutOfRangeException(nameof(p), p.Beta, "β must lie in [0, α].");
        if (seasonal ? !(p.Gamma >= 0 && p.Gamma <= 1 - p.Alpha) : p.Gamma != 0)
            throw new ArgumentOutOfRangeException(nameof(p), p.Gamma, seasonal ? "γ must lie in [0, 1 − α]." : "γ must be 0 without a season.");
        if (!(p.Phi >= EtsParameters.MinPhi && p.Phi <= EtsParameters.MaxPhi))
            throw new ArgumentOutOfRangeException(nameof(p), p.Phi, "φ must lie in [0.8, 0.98].");
    }
}
