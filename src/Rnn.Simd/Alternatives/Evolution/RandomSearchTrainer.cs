using System.Numerics;
using Rnn.Simd.Network;
using Rnn.Simd.Training;

namespace Rnn.Simd.Alternatives.Evolution;

/// <summary>Options of <see cref="RandomSearchTrainer{T}"/>.</summary>
public sealed record RandomSearchTrainerOptions
{
    /// <summary>Candidates per generation (default 16; at least 2).</summary>
    public int PopulationSize { get; init; } = 16;

    /// <summary>
    /// Half-width (uniform) or standard deviation (normal) of every weight around 0; null (default): each slice's own
    /// PyTorch initialisation bound 1/√H of its layer (1/√H_top for the readout), the range the network was initialised in.
    /// </summary>
    public double? Scale { get; init; }

    /// <summary>How each weight is drawn (default uniform).</summary>
    public RandomSearchDistribution Distribution { get; init; } = RandomSearchDistribution.Uniform;

    /// <summary>Generations (epochs) at most (default 100).</summary>
    public int MaxGenerations { get; init; } = 100;

    /// <summary>Fitness evaluations at most; null (default): no limit beyond <see cref="MaxGenerations"/>.</summary>
    public long? MaxEvaluations { get; init; }

    /// <summary>Seed of the sampling; the same seed gives bitwise the same weights for any <see cref="Threads"/>.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Threads that evaluate the population (0, the default: every core). Does not change the result.</summary>
    public int Threads { get; init; }

    /// <summary>Stop after this many generations without a better selection loss; 0 (default) disables it.</summary>
    public int Patience { get; init; }

    /// <summary>Stop once a candidate's training loss is at most this (default 0).</summary>
    public double TargetLoss { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (PopulationSize < 2) throw new ArgumentOutOfRangeException(nameof(PopulationSize), PopulationSize, "The population size must be at least 2.");
        if (Scale is double s && (!(s > 0) || !double.IsFinite(s)))
            throw new ArgumentOutOfRangeException(nameof(Scale), s, "The scale must be positive and finite (null: each slice's initialisation bound).");
        if (!Enum.IsDefined(Distribution)) throw new ArgumentOutOfRangeException(nameof(Distribution), Distribution, "Not a RandomSearchDistribution.");
        if (MaxGenerations < 1) throw new ArgumentOutOfRangeException(nameof(MaxGenerations), MaxGenerations, "At least one generation is needed.");
        if (MaxEvaluations is long e && e < 2) throw new ArgumentOutOfRangeException(nameof(MaxEvaluations), e, "The evaluation budget must be at least 2 (null: no limit).");
        if (Threads < 0) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Threads must be 0 (every core) or positive.");
        if (Patience < 0) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, "Patience must be ≥ 0 (0 disables it).");
        if (double.IsNaN(TargetLoss)) throw new ArgumentOutOfRangeException(nameof(TargetLoss), TargetLoss, "The target loss must be a number.");
    }
}

/// <summary>
/// The chapter's random-guess baseline for training all the weights of a network without gradients (Hochreiter and
/// Schmidhuber 1997, its "random weight guessing" comparison): draw every parameter at random (<see cref="RandomSearch"/>),
/// evaluate the forward-only weighted MSE on the training sequence, keep the best. Same loop, parallel evaluation,
/// validation selection and determinism as <see cref="CmaEsTrainer{T}"/>; a generation is just a batch of guesses.
/// </summary>
public sealed class RandomSearchTrainer<T> : INetworkTrainer<T>, IGenerationHost where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly RecurrentNetwork<T> _net;
    private readonly RandomSearchTrainerOptions _options;
    private readonly NetworkLossEvaluator<T>[] _evaluators;
    private readonly ParallelPopulation _population;
    private readonly NetworkState<T> _state;
    private readonly T[] _output;
    private readonly double[] _scale;
    private SequenceData<T>? _train, _validation;

    /// <summary>Creates the trainer (validates, allocates one network copy per thread).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (named).</exception>
    public RandomSearchTrainer(RecurrentNetwork<T> network, RandomSearchTrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        _options = options ?? new RandomSearchTrainerOptions();
        _options.Validate();
        _net = network;
        _scale = new double[network.Parameters.Length];
        foreach (ParameterSlice s in network.Layout.Slices)
        {
            int fan = s.Layer >= 0 ? network.Architecture.HiddenSizes[s.Layer] : network.Architecture.TopHiddenSize;
            _scale.AsSpan(s.Offset, s.Length).Fill(_options.Scale ?? 1.0 / Math.Sqrt(fan));
        }
        int threads = ParallelPopulation.ResolveThreads(_options.Threads, _options.PopulationSize);
        _evaluators = new NetworkLossEvaluator<T>[threads];
        for (int w = 0; w < threads; w++) _evaluators[w] = new NetworkLossEvaluator<T>(network);
        _population = new ParallelPopulation(_evaluators, _options.PopulationSize);
        _state = network.CreateState(1);
        _output = new T[network.Architecture.OutputSize];
    }

    /// <inheritdoc/>
    public RecurrentNetwork<T> Network => _net;

    /// <inheritdoc/>
    public event Action<EpochProgress>? EpochCompleted;

    /// <summary>Guesses for up to <see cref="RandomSearchTrainerOptions.MaxGenerations"/> generations; the network ends with the best guess (by validation loss when given).</summary>
    /// <exception cref="ArgumentException">The data do not fit the network.</exception>
    public TrainingResult Fit(SequenceData<T> train, SequenceData<T>? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        SequenceLoss.CheckShape(_net, train, nameof(train));
        if (validation is not null) SequenceLoss.CheckShape(_net, validation, nameof(validation));
        _train = train;
        _validation = validation;
        foreach (NetworkLossEvaluator<T> e in _evaluators) e.Data = train;
        var search = new RandomSearch(new double[_scale.Length], _scale,
            new RandomSearchOptions { PopulationSize = _options.PopulationSize, Distribution = _options.Distribution, Seed = _options.Seed });
        var budget = new GenerationBudget(_options.MaxGenerations, _options.MaxEvaluations ?? long.MaxValue, _options.Patience, _options.TargetLoss);
        return GenerationLoop.Run(search, _population, this, budget, validation is not null, EpochCompleted, cancellationToken);
    }

    double IGenerationHost.ValidationLoss(ReadOnlySpan<double> candidate)
    {
        NetworkLossEvaluator<T>.Load(candidate, _net);
        return SequenceLoss.WeightedMse(_net, _state, _output, _train, _validation!);
    }

    void IGenerationHost.Install(ReadOnlySpan<double> candidate) => NetworkLossEvaluator<T>.Load(candidate, _net);

    double IGenerationHost.Rate => double.NaN;
}
