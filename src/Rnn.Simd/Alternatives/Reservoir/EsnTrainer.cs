using System.Diagnostics;
using System.Numerics;
using System.Numerics.Tensors;
using Rnn.Simd.Alternatives.Readout;
using Rnn.Simd.Network;
using Rnn.Simd.Training;

namespace Rnn.Simd.Alternatives.Reservoir;

/// <summary>
/// Trains an echo state network (Jaeger 2001; Lukoševičius and Jaeger 2009 §3; Lukoševičius 2012 §4): the reservoir
/// is fixed and random, only the linear readout is learned, in closed form. The constructor writes the reservoir of
/// <see cref="EsnOptions.Seed"/> into the network (<see cref="EchoStateNetwork.InitializeReservoir{T}"/>); <see cref="Fit"/>
/// runs the sparse reservoir over the training sequence from a zero state, drops the first
/// <see cref="EsnOptions.Washout"/> states, and fits W_out over [h(n); 1] by weighted ridge regression
/// (<see cref="RidgeReadout"/>; the weights are the data's target weights, the bias column is not regularised),
/// then writes it into readout.weight / readout.bias.
/// </summary>
/// <remarks>
/// <para>
/// Validation: when given, it is run on after the training sequence (the state carries on, as
/// <see cref="SequenceLoss.WeightedMse{T}"/> does), its states are kept, and every λ of {Ridge} ∪
/// <see cref="EsnOptions.RidgeCandidates"/> is tried (one Cholesky each on the same Gram matrix); the λ with the
/// lowest weighted validation MSE is kept. Each λ is reported as one <see cref="EpochProgress"/> (learning rate and
/// gradient norm NaN). Without validation only <see cref="EsnOptions.Ridge"/> is used.
/// </para>
/// <para>
/// Output feedback (<see cref="EsnOptions.OutputFeedback"/>): the network takes [u(n); y(n-1)]; the data keeps its
/// I inputs and the trainer feeds the teacher's previous target (0 before the first step) into the feedback columns,
/// during harvesting and for the validation loss (teacher forcing); <see cref="EchoStateNetwork.RunGenerative{T}"/>
/// runs it freely afterwards.
/// </para>
/// <para>
/// Target weights that differ between the outputs of one step get one readout per output (the Gram matrix differs);
/// otherwise one readout serves all outputs. Cancellation is checked every 1024 steps and between λ values.
/// </para>
/// </remarks>
/// <typeparam name="T">float or double.</typeparam>
public sealed class EsnTrainer<T> : INetworkTrainer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private const int CancellationStride = 1024;

    private readonly EsnOptions _options;
    private readonly ReservoirRunner<T> _runner;
    private readonly T[] _h, _z, _x, _previousTarget;
    private readonly int _dataInputs, _outputs, _features, _directInputs;

    /// <summary>Checks the network and options and writes the reservoir into the network.</summary>
    /// <param name="network">An ESN-shaped network (<see cref="EchoStateNetwork.Architecture"/>; e.g. from
    /// <see cref="EchoStateNetwork.CreateNetwork{T}"/>); its parameters are overwritten.</param>
    /// <param name="options">Options (null: the defaults).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (named).</exception>
    /// <exception cref="ArgumentException">The network's cell, layers, units or input size do not fit the options.</exception>
    public EsnTrainer(RecurrentNetwork<T> network, EsnOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        _options = options ?? new EsnOptions();
        _options.Validate();
        NetworkArchitecture arch = network.Architecture;
        _outputs = arch.OutputSize;
        _dataInputs = arch.InputSize - (_options.OutputFeedback ? _outputs : 0);
        EchoStateNetwork.CheckArchitecture(arch, _options, _dataInputs, nameof(network));
        EchoStateNetwork.InitializeReservoir(network, _options);
        Network = network;
        _runner = new ReservoirRunner<T>(network);
        // z = [h; 1], or [h; x; 1] with the direct readout (x: the network's input, feedback columns included).
        _directInputs = _options.DirectInputReadout ? arch.InputSize : 0;
        _features = _options.Units + _directInputs + 1;
        _h = new T[_options.Units];
        _z = new T[_features];
        _x = new T[arch.InputSize];
        _previousTarget = new T[_outputs];
        _z[^1] = T.One;
    }

    /// <inheritdoc/>
    public RecurrentNetwork<T> Network { get; }

    /// <summary>The options in use.</summary>
    public EsnOptions Options => _options;

    /// <inheritdoc/>
    public event Action<EpochProgress>? EpochCompleted;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The data's input or output size does not fit the network (feedback columns
    /// are added by the trainer, not carried by the data).</exception>
    /// <exception cref="InvalidOperationException">The ridge system is singular (λ = 0 with collinear states).</exception>
    public TrainingResult Fit(SequenceData<T> train, SequenceData<T>? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        CheckData(train, nameof(train));
        if (validation is not null) CheckData(validation, nameof(validation));
        var clock = Stopwatch.StartNew();
        var history = new List<EpochProgress>();
        int o = _outputs, d = _features;
        bool perOutput = NeedsPerOutputReadouts(train);
        RidgeReadout[] readouts = perOutput ? new RidgeReadout[o] : new RidgeReadout[1];
        for (int j = 0; j < readouts.Length; j++) readouts[j] = new RidgeReadout(d, perOutput ? 1 : o, lastFeatureIsBias: true);

        Array.Clear(_h);
        Array.Clear(_previousTarget);
        if (!Run(train, readouts, perOutput, null, cancellationToken))
            return new TrainingResult(0, 0, double.NaN, 0, clock.Elapsed, false, true, history);
        double trainWeight = 0;
        for (int j = 0; j < readouts.Length; j++) trainWeight += readouts[j].WeightSum * (perOutput ? 1 : o);
        if (trainWeight == 0)
            throw new ArgumentException($"No training step after the washout of {_options.Washout} steps has a positive target weight ({train.Steps} steps): there is nothing to fit the readout to.", nameof(train));

        double[]? validationFeatures = null;
        if (validation is not null)
        {
            validationFeatures = new double[(long)validation.Steps * d <= Array.MaxLength ? validation.Steps * d : throw new ArgumentException($"The validation states ({validation.Steps} x {d}) do not fit in memory.", nameof(validation))];
            if (!Run(validation, null, perOutput, validationFeatures, cancellationToken))
                return new TrainingResult(0, 0, double.NaN, train.Steps, clock.Elapsed, false, true, history);
        }

        List<double> lambdas = [_options.Ridge];
        if (validation is not null && _options.RidgeCandidates is not null)
        {
            foreach (double r in _options.RidgeCandidates) if (!lambdas.Contains(r)) lambdas.Add(r);
        }
        var beta = new double[o * d];
        var bestBeta = new double[o * d];
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0;
        bool cancelled = false;
        for (int k = 0; k < lambdas.Count; k++)
        {
            if (k > 0 && cancellationToken.IsCancellationRequested)
            {
                cancelled = true;
                break;
            }
            double sse = 0;
            for (int j = 0; j < readouts.Length; j++)
            {
                Span<double> dest = perOutput ? beta.AsSpan(j * d, d) : beta.AsSpan();
                readouts[j].Solve<double>(lambdas[k], dest);
                sse += readouts[j].WeightedSquaredError(dest);
            }
            double trainLoss = sse / trainWeight;
            double validationLoss = validation is null ? double.NaN : ValidationMse(validation, validationFeatures!, beta);
            double selectBy = validation is null ? trainLoss : validationLoss;
            bool isBest = selectBy < bestLoss || k == 0;
            if (isBest)
            {
                bestLoss = selectBy;
                bestEpoch = k + 1;
                beta.CopyTo(bestBeta, 0);
            }
            var progress = new EpochProgress(k + 1, lambdas.Count, trainLoss, validationLoss, double.NaN, double.NaN, clock.Elapsed, isBest);
            history.Add(progress);
            EpochCompleted?.Invoke(progress);
        }
        WriteReadout(bestBeta);
        SelectedRidge = lambdas[bestEpoch - 1];
        return new TrainingResult(history.Count, bestEpoch, bestLoss, train.Steps + (validation?.Steps ?? 0), clock.Elapsed, false, cancelled, history);
    }

    /// <summary>The ridge λ whose readout the last <see cref="Fit"/> kept (NaN before the first fit).</summary>
    public double SelectedRidge { get; private set; } = double.NaN;

    private void CheckData(SequenceData<T> data, string name)
    {
        if (data.InputSize != _dataInputs || data.OutputSize != _outputs)
        {
            string feedback = _options.OutputFeedback ? $" (the network's {Network.Architecture.InputSize} inputs are the data's inputs plus {_outputs} feedback columns)" : "";
            throw new ArgumentException($"The {name} data has {data.InputSize} inputs and {data.OutputSize} outputs; the ESN takes {_dataInputs} and gives {_outputs}{feedback}.", name);
        }
    }

    private bool NeedsPerOutputReadouts(SequenceData<T> train)
    {
        if (train.TargetWeights is null || _outputs == 1) return false;
        T[] w = train.TargetWeights;
        for (int t = 0; t < train.Steps; t++)
            for (int j = 1; j < _outputs; j++) if (w[t * _outputs + j] != w[t * _outputs]) return true;
        return false;
    }

    /// <summary>
    /// Runs the reservoir over <paramref name="data"/> from the current state: adds [h; 1] rows past the washout to the
    /// readouts (when given) with the target weights, and/or stores every row (when <paramref name="store"/> is given).
    /// False when cancelled. Allocates nothing.
    /// </summary>
    private bool Run(SequenceData<T> data, RidgeReadout[]? readouts, bool perOutput, double[]? store, CancellationToken ct)
    {
        int i = _dataInputs, o = _outputs, d = _features, units = _options.Units;
        bool feedback = _options.OutputFeedback;
        T[] inputs = data.Inputs, targets = data.Targets;
        T[]? weights = data.TargetWeights;
        for (int t = 0; t < data.Steps; t++)
        {
            if ((t & (CancellationStride - 1)) == 0 && ct.IsCancellationRequested) return false;
            inputs.AsSpan(t * i, i).CopyTo(_x);
            if (feedback) _previousTarget.CopyTo(_x, i);
            _runner.Step(_x, _h);
            _h.CopyTo(_z, 0);
            if (_directInputs > 0) _x.CopyTo(_z, units);
            if (readouts is not null && t >= _options.Washout)
            {
                ReadOnlySpan<T> y = targets.AsSpan(t * o, o);
                if (perOutput)
                {
                    for (int j = 0; j < o; j++) readouts[j].Add<T>(_z, y.Slice(j, 1), double.CreateTruncating(weights![t * o + j]));
                }
                else
                {
                    readouts[0].Add<T>(_z, y, weights is null ? 1.0 : double.CreateTruncating(weights[t * o]));
                }
            }
            if (store is not null)
            {
                Span<double> row = store.AsSpan(t * d, d);
                for (int c = 0; c < units + _directInputs; c++) row[c] = double.CreateTruncating(_z[c]);
                row[d - 1] = 1;
            }
            if (feedback) targets.AsSpan(t * o, o).CopyTo(_previousTarget);
        }
        return true;
    }

    private double ValidationMse(SequenceData<T> data, double[] features, double[] beta)
    {
        int o = _outputs, d = _features;
        double sum = 0, weightSum = 0;
        for (int t = 0; t < data.Steps; t++)
        {
            ReadOnlySpan<double> z = features.AsSpan(t * d, d);
            for (int j = 0; j < o; j++)
            {
                double w = data.TargetWeights is null ? 1.0 : double.CreateTruncating(data.TargetWeights[t * o + j]);
                if (w == 0) continue;
                double e = TensorPrimitives.Dot(z, beta.AsSpan(j * d, d)) - double.CreateTruncating(data.Targets[t * o + j]);
                sum += w * e * e;
                weightSum += w;
            }
        }
        return weightSum > 0 ? sum / weightSum : 0;
    }

    private void WriteReadout(double[] beta)
    {
        int o = _outputs, d = _features, h = _options.Units, n = _directInputs;
        Span<T> w = Network.Parameter("readout.weight"), b = Network.Parameter("readout.bias");
        // With the direct readout, W_out over [h; x; 1] splits into readout.weight (h), readout.input_weight (x), readout.bias.
        Span<T> wx = n > 0 ? Network.Parameter(ParameterLayout.InputToOutputName) : [];
        for (int j = 0; j < o; j++)
        {
            for (int c = 0; c < h; c++) w[j * h + c] = T.CreateTruncating(beta[j * d + c]);
            for (int c = 0; c < n; c++) wx[j * n + c] = T.CreateTruncating(beta[j * d + h + c]);
            b[j] = T.CreateTruncating(beta[j * d + d - 1]);
        }
        Network.MarkParametersChanged();
    }
}
