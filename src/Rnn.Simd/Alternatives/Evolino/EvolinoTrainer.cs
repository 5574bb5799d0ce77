using System.Numerics;
using Rnn.Simd.Alternatives.Evolution;
using Rnn.Simd.Network;
using Rnn.Simd.Training;

namespace Rnn.Simd.Alternatives.Evolino;

/// <summary>Options of <see cref="EvolinoTrainer{T}"/>.</summary>
public sealed record EvolinoOptions
{
    /// <summary>λ of CMA-ES; null (default): 4 + ⌊3 ln n⌋ for the n evolved parameters. At least 2.</summary>
    public int? PopulationSize { get; init; }

    /// <summary>σ0 of CMA-ES around the network's current hidden weights (default 0.1).</summary>
    public double InitialSigma { get; init; } = 0.1;

    /// <summary>Generations (epochs) at most (default 100).</summary>
    public int MaxGenerations { get; init; } = 100;

    /// <summary>Candidate evaluations at most; null (default): no limit beyond <see cref="MaxGenerations"/>.</summary>
    public long? MaxEvaluations { get; init; }

    /// <summary>CMA-ES covariance model (default <see cref="CmaEsVariant.Auto"/>).</summary>
    public CmaEsVariant Variant { get; init; } = CmaEsVariant.Auto;

    /// <summary>Seed of CMA-ES; the same seed gives bitwise the same network for any <see cref="Threads"/>.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Threads that evaluate the population (0, the default: every core).</summary>
    public int Threads { get; init; }

    /// <summary>Stop after this many generations without a better selection loss; 0 (default) disables it.</summary>
    public int Patience { get; init; }

    /// <summary>Stop once a candidate's held-out loss is at most this (default 0).</summary>
    public double TargetLoss { get; init; }

    /// <summary>Steps at the start of the training sequence whose hidden states are not collected (the states still
    /// depend on the arbitrary zero start); default 24. The paper washes out the first 100 steps of its sine tasks.</summary>
    public int Washout { get; init; } = 24;

    /// <summary>The fraction of the training sequence, at its end, held out to measure a candidate's fitness; the readout
    /// is fitted on the part before (default 0.25). In (0, 1).</summary>
    public double HoldoutFraction { get; init; } = 0.25;

    /// <summary>λ of the ridge regression (default 1e-6: almost the plain least squares of the paper, enough to keep the
    /// system positive definite when hidden units saturate together). ≥ 0.</summary>
    public double Ridge { get; init; } = 1e-6;

    /// <summary>
    /// Whether the held-out part runs closed loop (default false): from its second step on, the network's previous
    /// outputs replace the first O inputs, so the fitness measures free-running generation, as in the paper's
    /// generation tasks (superimposed sines, Mackey-Glass), where input t is target t - 1. Needs I ≥ O. The readout is
    /// fitted teacher-forced either way.
    /// </summary>
    public bool ClosedLoopHoldout { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        new CmaEsTrainerOptions
        {
            PopulationSize = PopulationSize, InitialSigma = InitialSigma, MaxGenerations = MaxGenerations, MaxEvaluations = MaxEvaluations,
            Variant = Variant, Threads = Threads, Patience = Patience, TargetLoss = TargetLoss,
        }.Validate();
        if (Washout < 0) throw new ArgumentOutOfRangeException(nameof(Washout), Washout, "The washout must be ≥ 0 steps.");
        if (!(HoldoutFraction > 0 && HoldoutFraction < 1)) throw new ArgumentOutOfRangeException(nameof(HoldoutFraction), HoldoutFraction, "The held-out fraction must lie in (0, 1).");
        if (!(Ridge >= 0) || !double.IsFinite(Ridge)) throw new ArgumentOutOfRangeException(nameof(Ridge), Ridge, "The ridge λ must be finite and ≥ 0.");
    }
}

/// <summary>
/// Evolino (Schmidhuber, Wierstra, Gagliolo and Gomez 2007, "Training Recurrent Networks by Evolino", Neural
/// Computation 19(3)): evolution of the non-linear hidden weights, and the linear readout computed for each
/// candidate in closed form. Here the evolution is <see cref="CmaEs"/> (the issue allows it in place of the paper's
/// Enforced SubPopulations) over every parameter except <c>readout.weight</c> and <c>readout.bias</c>, and the readout
/// is a ridge regression over [h_top; 1] (<see cref="Readout.RidgeReadout"/>; λ → 0 is the paper's pseudo-inverse).
/// </summary>
/// <remarks>
/// <para>
/// For each candidate (<see cref="EvolinoEvaluator{T}"/>): the first 1 - <see cref="EvolinoOptions.HoldoutFraction"/>
/// of the training sequence is the fit part: run from a zero state, its top-layer hidden states after
/// <see cref="EvolinoOptions.Washout"/> steps (with their target weights) give the readout; the network then runs on,
/// with that readout, over the held-out last <see cref="EvolinoOptions.HoldoutFraction"/>, and the weighted MSE there is
/// the fitness. (The paper computes the readout on the training sequences and measures fitness on data not used for
/// the regression; the held-out tail of the training part plays that role, so that the tool's validation part stays
/// for selection and early stopping.)
/// </para>
/// <para>
/// Each generation's best candidate is validated (validation after a warm-up over the training sequence, with the
/// readout fitted on the fit part); the candidate kept is the best by validation loss (without validation data: by
/// held-out loss), and the network ends with its hidden weights and its readout. Works for every cell (the paper's is
/// LSTM). Parallel evaluation and determinism as in <see cref="CmaEsTrainer{T}"/>. EpochProgress.TrainLoss is the
/// generation's best held-out loss, LearningRate is σ.
/// </para>
/// </remarks>
public sealed class EvolinoTrainer<T> : INetworkTrainer<T>, IGenerationHost where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly RecurrentNetwork<T> _net;
    private readonly EvolinoOptions _options;
    private readonly EvolinoEvaluator<T>[] _workers;
    private readonly EvolinoEvaluator<T> _own;
    private readonly ParallelPopulation _population;
    private readonly NetworkState<T> _state;
    private readonly T[] _output;
    private readonly CmaEsVariant _variant;
    private readonly int _lambda, _hidden;
    private CmaEs? _cma;
    private SequenceData<T>? _train, _validation;

    /// <summary>Creates the trainer (validates, allocates one network copy and one set of ridge accumulators per thread).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (named).</exception>
    /// <exception cref="ArgumentException">The full covariance model was asked for too many parameters.</exception>
    public EvolinoTrainer(RecurrentNetwork<T> network, EvolinoOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        _options = options ?? new EvolinoOptions();
        _options.Validate();
        _net = network;
        if (_options.ClosedLoopHoldout && network.Architecture.InputSize < network.Architecture.OutputSize)
            throw new ArgumentException($"A closed-loop held-out part feeds the {network.Architecture.OutputSize} outputs back as the first inputs; the network has only {network.Architecture.InputSize}.", nameof(options));
        _hidden = EvolinoEvaluator<T>.HiddenLength(network);
        _variant = new CmaEsOptions { Variant = _options.Variant }.Resolve(_hidden);
        if (_variant == CmaEsVariant.Full && _hidden > CmaEsTrainerOptions.MaxFullDimension)
            throw new ArgumentException($"Full CMA-ES over the {_hidden} hidden parameters of this {network.Architecture} would hold three {_hidden} x {_hidden} double matrices ({3L * _hidden * _hidden * sizeof(double):N0} bytes); use the Separable variant (or Auto).", nameof(options));
        _lambda = _options.PopulationSize ?? 4 + (int)Math.Floor(3 * Math.Log(_hidden));
        int threads = ParallelPopulation.ResolveThreads(_options.Threads, _lambda);
        _workers = new EvolinoEvaluator<T>[threads];
        for (int w = 0; w < threads; w++) _workers[w] = new EvolinoEvaluator<T>(network, copy: true, _options.Washout, _options.Ridge, _options.ClosedLoopHoldout);
        _own = new EvolinoEvaluator<T>(network, copy: false, _options.Washout, _options.Ridge, _options.ClosedLoopHoldout);
        _population = new ParallelPopulation(_workers, _lambda);
        _state = network.CreateState(1);
        _output = new T[network.Architecture.OutputSize];
    }

    /// <inheritdoc/>
    public RecurrentNetwork<T> Network => _net;

    /// <summary>The strategy of the last <see cref="Fit"/> (null before).</summary>
    public CmaEs? Strategy => _cma;

    /// <summary>The covariance model used for this network's hidden parameter count.</summary>
    public CmaEsVariant Variant => _variant;

    /// <summary>Steps of the training sequence's fit part in the last <see cref="Fit"/> (the rest was held out).</summary>
    public int FitSteps { get; private set; }

    /// <inheritdoc/>
    public event Action<EpochProgress>? EpochCompleted;

    /// <summary>Evolves the hidden weights from the network's current ones; the network ends with the kept candidate and its readout.</summary>
    /// <exception cref="ArgumentException">The data do not fit the network, or the training sequence is too short for the
    /// washout and the held-out part, or a part has no target of positive weight.</exception>
    /// <exception cref="InvalidOperationException">No candidate had a positive definite ridge system (λ = 0 with collinear states).</exception>
    public TrainingResult Fit(SequenceData<T> train, SequenceData<T>? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        SequenceLoss.CheckShape(_net, train, nameof(train));
        if (validation is not null) SequenceLoss.CheckShape(_net, validation, nameof(validation));
        int holdout = (int)Math.Round(train.Steps * _options.HoldoutFraction);
        int fit = train.Steps - holdout;
        if (holdout < 1 || fit - _options.Washout < 1)
            throw new ArgumentException($"The training sequence has {train.Steps} steps: a washout of {_options.Washout}, a fit part after it and a held-out {_options.HoldoutFraction:P0} need more.", nameof(train));
        if (train.TargetWeights is { } tw)
        {
            if (Sum(tw.AsSpan(_options.Washout * train.OutputSize, (fit - _options.Washout) * train.OutputSize)) == 0)
                throw new ArgumentException($"Every target weight of the fit part (steps {_options.Washout}-{fit - 1}) is 0: there is nothing to fit the readout to.", nameof(train));
            if (Sum(tw.AsSpan(fit * train.OutputSize)) == 0)
                throw new ArgumentException($"Every target weight of the held-out part (steps {fit}-{train.Steps - 1}) is 0: there is nothing to measure fitness on.", nameof(train));
        }
        FitSteps = fit;
        _train = train;
        _validation = validation;
        foreach (EvolinoEvaluator<T> w in _workers) w.SetData(train, fit);
        _own.SetData(train, fit);
        var mean = new double[_hidden];
        ReadOnlySpan<T> p = _net.Parameters;
        for (int i = 0; i < mean.Length; i++) mean[i] = double.CreateTruncating(p[i]);
        _cma = new CmaEs(mean, _options.InitialSigma, new CmaEsOptions { PopulationSize = _lambda, Variant = _variant, Seed = _options.Seed });
        var budget = new GenerationBudget(_options.MaxGenerations, _options.MaxEvaluations ?? long.MaxValue, _options.Patience, _options.TargetLoss);
        TrainingResult result = GenerationLoop.Run(_cma, _population, this, budget, validation is not null, EpochCompleted, cancellationToken);
        if (result.EpochsRun > 0 && !double.IsFinite(result.BestLoss))
            throw new InvalidOperationException($"No candidate in {result.EpochsRun} generations had a finite loss: every ridge system was singular or the hidden states non-finite; use a ridge λ > 0 (it is {_options.Ridge}).");
        return result;
    }

    private static double Sum(ReadOnlySpan<T> values)
    {
        double s = 0;
        foreach (T v in values) s += double.CreateTruncating(v);
        return s;
    }

    double IGenerationHost.ValidationLoss(ReadOnlySpan<double> candidate)
    {
        if (!_own.TryFitReadout(candidate)) return double.PositiveInfinity;
        return SequenceLoss.WeightedMse(_net, _state, _output, _train, _validation!);
    }

    void IGenerationHost.Install(ReadOnlySpan<double> candidate) => _own.TryFitReadout(candidate);

    double IGenerationHost.Rate => _cma?.Sigma ?? double.NaN;
}
