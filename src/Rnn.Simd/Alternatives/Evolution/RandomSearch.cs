namespace Rnn.Simd.Alternatives.Evolution;

/// <summary>How <see cref="RandomSearch"/> draws a coordinate.</summary>
public enum RandomSearchDistribution
{
    /// <summary>Uniform in [center - scale, center + scale].</summary>
    Uniform,
    /// <summary>Normal with mean center and standard deviation scale.</summary>
    Normal,
}

/// <summary>Options of <see cref="RandomSearch"/>.</summary>
public sealed record RandomSearchOptions
{
    /// <summary>Candidates per generation (default 16; at least 2). The search itself has no generations; they only
    /// batch the candidates so that a trainer can evaluate them in parallel and report progress.</summary>
    public int PopulationSize { get; init; } = 16;

    /// <summary>The distribution of every coordinate (default uniform, as in the weight guessing of Hochreiter and Schmidhuber 1997).</summary>
    public RandomSearchDistribution Distribution { get; init; } = RandomSearchDistribution.Uniform;

    /// <summary>Seed of the sampling (the library's <see cref="Rng"/>).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (PopulationSize < 2) throw new ArgumentOutOfRangeException(nameof(PopulationSize), PopulationSize, "The population size must be at least 2.");
        if (!Enum.IsDefined(Distribution)) throw new ArgumentOutOfRangeException(nameof(Distribution), Distribution, "Not a RandomSearchDistribution.");
    }
}

/// <summary>
/// Random guessing: every candidate is drawn afresh, independently of all before it, from a fixed distribution around a
/// fixed center, and the best one seen is kept. The baseline the chapter names for training all the weights of a
/// recurrent network without gradients (Hochreiter and Schmidhuber 1997, "Long Short-Term Memory", its experiments: random
/// weight guessing solves some long-time-lag benchmarks faster than the gradient methods of the day). Nothing adapts:
/// <see cref="Tell"/> only records the best.
/// </summary>
public sealed class RandomSearch : IPopulationOptimizer
{
    private readonly int _n, _lambda;
    private readonly double[] _center, _scale, _x, _best, _keys;
    private readonly int[] _order;
    private readonly RandomSearchDistribution _distribution;
    private readonly Rng _rng;
    private int _generation;
    private long _evaluations;
    private double _bestFitness = double.PositiveInfinity;
    private bool _asked;

    /// <summary>Creates the search: coordinate i is drawn around <paramref name="center"/>[i] with half-width (uniform)
    /// or standard deviation (normal) <paramref name="scale"/>[i].</summary>
    /// <exception cref="ArgumentException">The spans are empty, differ in length, or hold a non-finite value or a negative scale.</exception>
    public RandomSearch(ReadOnlySpan<double> center, ReadOnlySpan<double> scale, RandomSearchOptions? options = null)
    {
        options ??= new RandomSearchOptions();
        options.Validate();
        if (center.Length == 0) throw new ArgumentException("The center is empty: the dimension must be at least 1.", nameof(center));
        if (scale.Length != center.Length) throw new ArgumentException($"The scale has {scale.Length} values; the center has {center.Length}.", nameof(scale));
        for (int i = 0; i < center.Length; i++)
        {
            if (!double.IsFinite(center[i])) throw new ArgumentException($"The center holds {center[i]} at index {i}.", nameof(center));
            if (!(scale[i] >= 0) || !double.IsFinite(scale[i])) throw new ArgumentException($"The scale at index {i} is {scale[i]}; it must be finite and ≥ 0.", nameof(scale));
        }
        _n = center.Length;
        _lambda = options.PopulationSize;
        _distribution = options.Distribution;
        _rng = new Rng(options.Seed);
        _center = center.ToArray();
        _scale = scale.ToArray();
        _best = center.ToArray();
        _x = new double[_lambda * _n];
        _keys = new double[_lambda];
        _order = new int[_lambda];
    }

    /// <inheritdoc/>
    public int Dimension => _n;

    /// <inheritdoc/>
    public int PopulationSize => _lambda;

    /// <inheritdoc/>
    public int Generation => _generation;

    /// <inheritdoc/>
    public long Evaluations => _evaluations;

    /// <inheritdoc/>
    public double BestFitness => _bestFitness;

    /// <inheritdoc/>
    public ReadOnlySpan<double> BestSolution => _best;

    /// <inheritdoc/>
    public ReadOnlySpan<double> Candidate(int index)
    {
        if ((uint)index >= (uint)_lambda) ThrowHelper.ThrowArgumentOutOfRange(nameof(index), $"Candidate {index} does not exist; the population has {_lambda}.");
        return _x.AsSpan(index * _n, _n);
    }

    /// <inheritdoc/>
    public void Ask()
    {
        for (int k = 0; k < _lambda; k++)
        {
            Span<double> x = _x.AsSpan(k * _n, _n);
            for (int i = 0; i < _n; i++)
            {
                double u = _distribution == RandomSearchDistribution.Uniform ? _rng.NextUniform(-1, 1) : _rng.NextNormal();
                x[i] = _center[i] + _scale[i] * u;
            }
        }
        _asked = true;
    }

    /// <inheritdoc/>
    public void Tell(ReadOnlySpan<double> fitness)
    {
        if (!_asked) throw new InvalidOperationException("Tell needs the candidates of an Ask first.");
        if (fitness.Length != _lambda) ThrowHelper.ThrowArgument(nameof(fitness), $"{fitness.Length} fitness values given for a population of {_lambda}.");
        _asked = false;
        PopulationOptimizer.Rank(fitness, _keys, _order);
        if (_keys[0] < _bestFitness)
        {
            _bestFitness = _keys[0];
            _x.AsSpan(_order[0] * _n, _n).CopyTo(_best);
        }
        _generation++;
        _evaluations += _lambda;
    }
}
