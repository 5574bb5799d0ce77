using System.Numerics;
using Rnn.Simd.Network;
using Rnn.Simd.Training;

namespace Rnn.Simd.Alternatives.Evolution;

/// <summary>Options of <see cref="CmaEsTrainer{T}"/>.</summary>
public sealed record CmaEsTrainerOptions
{
    /// <summary>λ, candidates per generation; null (default) is Hansen's 4 + ⌊3 ln n⌋ for n parameters. At least 2.</summary>
    public int? PopulationSize { get; init; }

    /// <summary>σ0, the initial step size around the network's current weights (default 0.1, about a third of PyTorch's
    /// initial weight range ±1/√H for H = 8).</summary>
    public double InitialSigma { get; init; } = 0.1;

    /// <summary>Generations (epochs) at most (default 100).</summary>
    public int MaxGenerations { get; init; } = 100;

    /// <summary>Fitness evaluations at most (forward passes over the training part); null (default): no limit beyond <see cref="MaxGenerations"/>.</summary>
    public long? MaxEvaluations { get; init; }

    /// <summary>Covariance model (default <see cref="CmaEsVariant.Auto"/>: full up to <see cref="CmaEsOptions.AutoSeparableAbove"/> parameters, separable above).</summary>
    public CmaEsVariant Variant { get; init; } = CmaEsVariant.Auto;

    /// <summary>Seed of the sampling; the same seed gives bitwise the same weights for any <see cref="Threads"/>.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Threads that evaluate the population (0, the default: every core). Does not change the result.</summary>
    public int Threads { get; init; }

    /// <summary>Stop after this many generations without a better selection loss; 0 (default) disables it.</summary>
    public int Patience { get; init; }

    /// <summary>Stop once a candidate's training loss is at most this (default 0: never, in practice).</summary>
    public double TargetLoss { get; init; }

    /// <summary>The full model holds three n x n double matrices; larger n is refused (use <see cref="CmaEsVariant.Separable"/>).</summary>
    public const int MaxFullDimension = 6000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (PopulationSize is int p && p < 2)
            throw new ArgumentOutOfRangeException(nameof(PopulationSize), p, "The population size must be at least 2 (null: 4 + ⌊3 ln n⌋).");
        if (!(InitialSigma > 0) || !double.IsFinite(InitialSigma))
            throw new ArgumentOutOfRangeException(nameof(InitialSigma), InitialSigma, "The initial step size σ0 must be positive and finite.");
        if (MaxGenerations < 1) throw new ArgumentOutOfRangeException(nameof(MaxGenerations), MaxGenerations, "At least one generation is needed.");
        if (MaxEvaluations is long e && e < 2) throw new ArgumentOutOfRangeException(nameof(MaxEvaluations), e, "The evaluation budget must be at least 2 (null: no limit).");
        if (!Enum.IsDefined(Variant)) throw new ArgumentOutOfRangeException(nameof(Variant), Variant, "Not a CmaEsVariant.");
        if (Threads < 0) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Threads must be 0 (every core) or positive.");
        if (Patience < 0) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, "Patience must be ≥ 0 (0 disables it).");
        if (double.IsNaN(TargetLoss)) throw new ArgumentOutOfRangeException(nameof(TargetLoss), TargetLoss, "The target loss must be a number.");
    }
}

/// <summary>
/// Trains every parameter of a <see cref="RecurrentNetwork{T}"/> (θ = <see cref="RecurrentNetwork{T}.Parameters"/>, all
/// layers and the readout) with <see cref="CmaEs"/> (Hansen 2016; sep-CMA-ES, Ros and Hansen 2008, for many parameters):
/// the evolutionary training of all weights the chapter names beside gradient descent (its section 2.4). The fitness of a
/// candidate is the forward-only weighted MSE over the training sequence from a zero state; no gradient is computed.
/// </summary>
/// <remarks>
/// One generation is one epoch: λ candidates are sampled around the mean (initially the network's current weights) on
/// the calling thread, evaluated on <see cref="CmaEsTrainerOptions.Threads"/> threads (each with its own copy of the
/// network), and told back. The generation's best candidate is then validated (the validation sequence after a warm-up
/// over the training one); the candidate kept, and left in the network at the end, is the best by validation loss
/// (without validation data: by training loss). <see cref="EpochProgress.LearningRate"/> reports σ and
/// <see cref="EpochProgress.GradientNorm"/> is NaN. <see cref="TrainingResult.Windows"/> counts fitness evaluations.
/// Bitwise the same result for any thread count; nothing allocates per generation after the first.
/// </remarks>
public sealed class CmaEsTrainer<T> : INetworkTrainer<T>, IGenerationHost where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly RecurrentNetwork<T> _net;
    private readonly CmaEsTrainerOptions _options;
    private readonly NetworkLossEvaluator<T>[] _evaluators;
    private readonly ParallelPopulation _population;
    private readonly NetworkState<T> _state;
    private readonly T[] _output;
    private readonly CmaEsVariant _variant;
    private readonly int _lambda;
    private CmaEs? _cma;
    private SequenceData<T>? _train, _validation;

    /// <summary>Creates the trainer (validates, allocates one network copy per thread).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (named).</exception>
    /// <exception cref="ArgumentException">The full covariance model was asked for more than <see cref="CmaEsTrainerOptions.MaxFullDimension"/> parameters.</exception>
    public CmaEsTrainer(RecurrentNetwork<T> network, CmaEsTrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        _options = options ?? new CmaEsTrainerOptions();
        _options.Validate();
        _net = network;
        int n = network.Parameters.Length;
        _variant = new CmaEsOptions { Variant = _options.Variant }.Resolve(n);
        if (_variant == CmaEsVariant.Full && n > CmaEsTrainerOptions.MaxFullDimension)
            throw new ArgumentException($"Full CMA-ES over the {n} parameters of this {network.Architecture} would hold three {n} x {n} double matrices ({3L * n * n * sizeof(double):N0} bytes); use the Separable variant (or Auto).", nameof(options));
        _lambda = _options.PopulationSize ?? 4 + (int)Math.Floor(3 * Math.Log(n));
        int threads = ParallelPopulation.ResolveThreads(_options.Threads, _lambda);
        _evaluators = new NetworkLossEvaluator<T>[threads];
        for (int w = 0; w < threads; w++) _evaluators[w] = new NetworkLossEvaluator<T>(network);
        _population = new ParallelPopulation(_evaluators, _lambda);
        _state = network.CreateState(1);
        _output = new T[network.Architecture.OutputSize];
    }

    /// <inheritdoc/>
    public RecurrentNetwork<T> Network => _net;

    /// <summary>The strategy of the last <see cref="Fit"/> (null before): σ, C, the mean and the best candidate.</summary>
    public CmaEs? Strategy => _cma;

    /// <summary>The covariance model used (<see cref="CmaEsVariant.Auto"/> resolved for this network's parameter count).</summary>
    public CmaEsVariant Variant => _variant;

    /// <inheritdoc/>
    public event Action<EpochProgress>? EpochCompleted;

    /// <summary>
    /// Runs CMA-ES from the network's current weights (each Fit starts a fresh strategy at σ0 from the weights the network
    /// holds); at the end the network holds the best candidate seen (see the class remarks).
    /// </summary>
    /// <exception cref="ArgumentException">The data do not fit the network.</exception>
    public TrainingResult Fit(SequenceData<T> train, SequenceData<T>? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        SequenceLoss.CheckShape(_net, train, nameof(train));
        if (validation is not null) SequenceLoss.CheckShape(_net, validation, nameof(validation));
        _train = train;
        _validation = validation;
        foreach (NetworkLossEvaluator<T> e in _evaluators) e.Data = train;
        var mean = new double[_net.Parameters.Length];
        ReadOnlySpan<T> p = _net.Parameters;
        for (int i = 0; i < mean.Length; i++) mean[i] = double.CreateTruncating(p[i]);
        _cma = new CmaEs(mean, _options.InitialSigma, new CmaEsOptions { PopulationSize = _lambda, Variant = _variant, Seed = _options.Seed });
        var budget = new GenerationBudget(_options.MaxGenerations, _options.MaxEvaluations ?? long.MaxValue, _options.Patience, _options.TargetLoss);
        return GenerationLoop.Run(_cma, _population, this, budget, validation is not null, EpochCompleted, cancellationToken);
    }

    double IGenerationHost.ValidationLoss(ReadOnlySpan<double> candidate)
    {
        NetworkLossEvaluator<T>.Load(candidate, _net);
        return SequenceLoss.WeightedMse(_net, _state, _output, _train, _validation!);
    }

    void IGenerationHost.Install(ReadOnlySpan<double> candidate) => NetworkLossEvaluator<T>.Load(candidate, _net);

    double IGenerationHost.Rate => _cma?.Sigma ?? double.NaN;
}
