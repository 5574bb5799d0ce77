using System.Numerics;
using System.Runtime.ExceptionServices;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Training;

namespace Rnn.Simd.Alternatives.Evolution;

/// <summary>The fitness of one candidate, computed with state the evaluator owns (one evaluator per worker thread).</summary>
internal interface ICandidateEvaluator
{
    double Evaluate(ReadOnlySpan<double> candidate);
}

/// <summary>
/// Evaluates a generation's candidates on up to <see cref="Threads"/> threads of the library's <see cref="WorkerPool"/>:
/// part w (0 ≤ w &lt; Threads) evaluates candidates w, w + Threads, w + 2·Threads, ... with evaluator w. A candidate's
/// fitness depends only on the candidate and the data, never on which part or thread computed it, and the random
/// numbers were all drawn in <see cref="IPopulationOptimizer.Ask"/> before, so the run is bitwise the same for any
/// thread count. Allocates nothing per generation.
/// </summary>
internal sealed class ParallelPopulation : IParallelJob
{
    private readonly ICandidateEvaluator[] _evaluators;
    private readonly double[] _fitness;
    private readonly ExceptionDispatchInfo?[] _errors;
    private IPopulationOptimizer? _optimizer;

    public ParallelPopulation(ICandidateEvaluator[] evaluators, int populationSize)
    {
        _evaluators = evaluators;
        _fitness = new double[populationSize];
        _errors = new ExceptionDispatchInfo?[evaluators.Length];
    }

    /// <summary>The number of parts (one evaluator each).</summary>
    public int Threads => _evaluators.Length;

    /// <summary>The threads to use for <paramref name="requested"/> (0: every core), never more than the population.</summary>
    public static int ResolveThreads(int requested, int populationSize) =>
        Math.Max(1, Math.Min(requested == 0 ? WorkerPool.Shared.MaxDegreeOfParallelism : requested, populationSize));

    /// <summary>Evaluates every candidate of the optimizer's last Ask; the returned span (candidate order) is valid until the next call.</summary>
    public ReadOnlySpan<double> Evaluate(IPopulationOptimizer optimizer)
    {
        _optimizer = optimizer;
        if (_evaluators.Length == 1) Execute(0);
        else WorkerPool.Shared.Run(this, _evaluators.Length);
        _optimizer = null;
        for (int w = 0; w < _errors.Length; w++)
        {
            if (_errors[w] is { } error)
            {
                Array.Clear(_errors);
                error.Throw();
            }
        }
        return _fitness;
    }

    public void Execute(int index)
    {
        // A worker thread must not throw (it would end the process): keep the first error and rethrow it on the caller.
        try
        {
            IPopulationOptimizer optimizer = _optimizer!;
            for (int k = index; k < _fitness.Length; k += _evaluators.Length) _fitness[k] = _evaluators[index].Evaluate(optimizer.Candidate(k));
        }
#pragma warning disable CA1031 // rethrown on the calling thread by Evaluate
        catch (Exception e)
#pragma warning restore CA1031
        {
            _errors[index] = ExceptionDispatchInfo.Capture(e);
        }
    }
}

/// <summary>
/// Fitness of a candidate weight vector θ (all of a network's parameters, in <see cref="ParameterLayout"/> order): the
/// forward-only weighted MSE over the training sequence from a zero state (<see cref="SequenceLoss.WeightedMse"/>), on
/// this evaluator's own copy of the network.
/// </summary>
internal sealed class NetworkLossEvaluator<T> : ICandidateEvaluator where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly RecurrentNetwork<T> _net;
    private readonly NetworkState<T> _state;
    private readonly T[] _output;

    public NetworkLossEvaluator(RecurrentNetwork<T> prototype)
    {
        _net = new RecurrentNetwork<T>(prototype.Architecture, 0, prototype.Path);
        _state = _net.CreateState(1);
        _output = new T[prototype.Architecture.OutputSize];
    }

    /// <summary>The data the fitness is measured on (set before each Fit).</summary>
    public SequenceData<T>? Data { get; set; }

    public double Evaluate(ReadOnlySpan<double> candidate)
    {
        Load(candidate, _net);
        return SequenceLoss.WeightedMse(_net, _state, _output, null, Data!);
    }

    /// <summary>Writes θ (double) into the network's parameters (rounded to T) and marks them changed.</summary>
    public static void Load(ReadOnlySpan<double> theta, RecurrentNetwork<T> network)
    {
        Span<T> p = network.Parameters;
        for (int i = 0; i < theta.Length; i++) p[i] = T.CreateTruncating(theta[i]);
        network.MarkParametersChanged();
    }
}
