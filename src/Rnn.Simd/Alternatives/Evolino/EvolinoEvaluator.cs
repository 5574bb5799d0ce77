using System.Numerics;
using Rnn.Simd.Alternatives.Evolution;
using Rnn.Simd.Alternatives.Readout;
using Rnn.Simd.Network;
using Rnn.Simd.Training;

namespace Rnn.Simd.Alternatives.Evolino;

/// <summary>
/// One Evolino candidate on this evaluator's own copy of the network (Schmidhuber, Wierstra, Gagliolo and Gomez 2007,
/// the Evolino scheme): θ sets every parameter but the readout; the training sequence's fit part is run from a zero state, the
/// top layer's hidden states h_t after the washout are collected as rows [h_t; 1] with their targets and target
/// weights, the linear readout is fitted in closed form by ridge regression (<see cref="RidgeReadout"/>, one per output
/// column so that per-output target weights are respected, the bias column unregularised), written into the readout
/// slices, and the network runs on over the held-out part from the state the fit part left: the fitness is the weighted
/// MSE there. Allocates nothing per candidate.
/// </summary>
internal sealed class EvolinoEvaluator<T> : ICandidateEvaluator where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly RecurrentNetwork<T> _net;
    private readonly NetworkState<T> _state;
    private readonly T[] _output, _features, _beta, _input;
    private readonly RidgeReadout[] _ridges;
    private readonly int _hiddenLength, _top, _readoutWeight, _readoutBias;
    private readonly double _lambda;
    private readonly int _washout;
    private readonly bool _closedLoop;
    private SequenceData<T>? _data;
    private int _fitSteps;

    /// <summary>Evaluates on <paramref name="network"/> itself (the trainer's own, for validation and the final install)
    /// or, with <paramref name="copy"/>, on a private copy of it (a worker's).</summary>
    public EvolinoEvaluator(RecurrentNetwork<T> network, bool copy, int washout, double ridge, bool closedLoop = false)
    {
        _closedLoop = closedLoop;
        _input = new T[network.Architecture.InputSize];
        _net = copy ? new RecurrentNetwork<T>(network.Architecture, 0, network.Path) : network;
        _state = _net.CreateState(1);
        NetworkArchitecture a = network.Architecture;
        _top = a.TopHiddenSize;
        _output = new T[a.OutputSize];
        _features = new T[_top + 1];
        _features[_top] = T.One;
        _beta = new T[_top + 1];
        _ridges = new RidgeReadout[a.OutputSize];
        for (int o = 0; o < _ridges.Length; o++) _ridges[o] = new RidgeReadout(_top + 1, 1, lastFeatureIsBias: true);
        _readoutWeight = network.Layout.Get(-1, ParameterKind.ReadoutWeight).Offset;
        _readoutBias = network.Layout.Get(-1, ParameterKind.ReadoutBias).Offset;
        _hiddenLength = HiddenLength(network);
        _washout = washout;
        _lambda = ridge;
    }

    /// <summary>The number of evolved parameters: every slice before the readout (the readout slices come last in the layout).</summary>
    public static int HiddenLength(RecurrentNetwork<T> network) => network.Layout.Get(-1, ParameterKind.ReadoutWeight).Offset;

    /// <summary>The network this evaluator runs.</summary>
    public RecurrentNetwork<T> Network => _net;

    /// <summary>Sets the training sequence and the length of its fit part (the rest is held out).</summary>
    public void SetData(SequenceData<T> data, int fitSteps)
    {
        _data = data;
        _fitSteps = fitSteps;
    }

    /// <summary>The fitness: weighted MSE on the held-out part with the readout fitted on the fit part; +∞ when the
    /// candidate's ridge system is not positive definite (non-finite hidden states, or λ = 0 with collinear ones).</summary>
    public double Evaluate(ReadOnlySpan<double> candidate)
    {
        if (!TryFitReadout(candidate)) return double.PositiveInfinity;
        return HoldoutLoss();
    }

    /// <summary>
    /// Loads θ, runs the fit part collecting [h; 1] rows after the washout, solves the ridge readout and writes it into the
    /// network. Leaves the state where the fit part ended. False (readout untouched) when the system is not positive definite.
    /// </summary>
    public bool TryFitReadout(ReadOnlySpan<double> candidate)
    {
        SequenceData<T> data = _data!;
        Span<T> p = _net.Parameters;
        for (int i = 0; i < _hiddenLength; i++) p[i] = T.CreateTruncating(candidate[i]);
        _net.MarkParametersChanged();
        foreach (RidgeReadout r in _ridges) r.Reset();
        _state.Reset();
        int inSize = data.InputSize, o = data.OutputSize, top = _top, last = _net.Architecture.NumLayers - 1;
        for (int t = 0; t < _fitSteps; t++)
        {
            _net.Step(data.Inputs.AsSpan(t * inSize, inSize), _output, _state);
            if (t < _washout) continue;
            _state.Hidden(last).CopyTo(_features.AsSpan(0, top));
            for (int j = 0; j < o; j++)
            {
                double w = data.TargetWeights is null ? 1.0 : double.CreateTruncating(data.TargetWeights[t * o + j]);
                _ridges[j].Add<T>(_features, data.Targets.AsSpan(t * o + j, 1), w);
            }
        }
        for (int j = 0; j < o; j++)
        {
            try
            {
                _ridges[j].Solve<T>(_lambda, _beta);
            }
            catch (InvalidOperationException)
            {
                return false;
            }
            _beta.AsSpan(0, top).CopyTo(p.Slice(_readoutWeight + j * top, top));
            p[_readoutBias + j] = _beta[top];
        }
        _net.MarkParametersChanged();
        return true;
    }

    /// <summary>Runs on over the held-out part from the current state; its weighted MSE (0 when every weight there is 0).
    /// Closed loop: from the part's second step on, the first O inputs are the outputs of the step before.</summary>
    private double HoldoutLoss()
    {
        SequenceData<T> data = _data!;
        int inSize = data.InputSize, o = data.OutputSize;
        double sum = 0, weightSum = 0;
        for (int t = _fitSteps; t < data.Steps; t++)
        {
            data.Inputs.AsSpan(t * inSize, inSize).CopyTo(_input);
            if (_closedLoop && t > _fitSteps) _output.AsSpan(0, o).CopyTo(_input);
            _net.Step(_input, _output, _state);
            for (int j = 0; j < o; j++)
            {
                double d = double.CreateTruncating(_output[j]) - double.CreateTruncating(data.Targets[t * o + j]);
                double w = data.TargetWeights is null ? 1.0 : double.CreateTruncating(data.TargetWeights[t * o + j]);
                sum += w * d * d;
                weightSum += w;
            }
        }
        double loss = weightSum > 0 ? sum / weightSum : 0;
        return double.IsNaN(loss) ? double.PositiveInfinity : loss;
    }
}
