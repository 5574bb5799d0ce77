using System.Diagnostics;
using System.Numerics;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Alternatives.Rtrl;

/// <summary>
/// Trains a <see cref="RecurrentNetwork{T}"/> online with real-time recurrent learning (Williams and Zipser 1989,
/// Neural Computation 1(2): the weights change at every time step by the exact gradient of that step's error, which
/// the forward sensitivities of <see cref="RtrlGradient{T}"/> give without any backward pass). Each epoch runs the
/// training series once from a zero state, one stream at a time, and updates the weights with one of the library's
/// optimisers every <see cref="RtrlOptions.UpdateEvery"/> steps. Validation after each epoch, early stopping with
/// patience, the best weights kept and restored, as <see cref="Trainer{T}"/> does.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
/// <remarks>
/// <para>
/// The loss of an update is the weighted MSE of its k steps, Σ w (y - target)² / Σ w over the targets that count (a
/// step whose weights are all 0 contributes nothing; an update with no weight at all is skipped), so k = 1 with one
/// output is plain (y - target)². The gradient of step t is taken at the weights of step t, with the sensitivities
/// carried across the updates before it: Williams and Zipser's online approximation, exact for k ≥ the series length
/// (then one update per epoch with the full-sequence gradient, which equals full BPTT's).
/// </para>
/// <para>
/// The epoch's training loss is the weighted MSE of the outputs as they were produced during the epoch (each at the
/// weights of its step); the validation loss is <see cref="SequenceLoss.WeightedMse"/> after a warm-up over the
/// training series. Without validation data the training loss selects the best epoch.
/// </para>
/// <para>
/// Cost: O(G² H⁴) per step for one layer (see <see cref="RtrlGradient{T}"/>); memory
/// <see cref="RtrlGradient{T}.SensitivityBytes"/>, refused above <see cref="RtrlOptions.MaxSensitivityBytes"/>.
/// Stacked layers are trained exactly (each layer's sensitivities cover the parameters of the layers below it).
/// Deterministic; after the first step nothing allocates.
/// </para>
/// </remarks>
public sealed class RtrlTrainer<T> : INetworkTrainer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly RecurrentNetwork<T> _net;
    private readonly RtrlOptions _options;
    private readonly RtrlGradient<T> _rtrl;
    private readonly Optimizer<T> _optimizer;
    private readonly T[] _best, _y, _dy;
    private readonly NetworkState<T> _evalState;
    private readonly T _learningRate;
    // The running epoch: Σ w (y - target)², Σ w, the block's Σ w and steps, the updates and the last gradient norm.
    private double _sumSquares, _sumWeights, _blockWeights, _lastNorm;
    private int _blockSteps;
    private long _updates;

    /// <summary>Creates a trainer (validates the network and the options; allocates the sensitivities and the optimiser).</summary>
    /// <param name="network">An Elman, LSTM or GRU network, trained in place.</param>
    /// <param name="options">The options (null: the defaults).</param>
    /// <exception cref="ArgumentException">The cell is not supported, or the sensitivities would need more than
    /// <see cref="RtrlOptions.MaxSensitivityBytes"/> (the message names the bytes needed).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (named in the message).</exception>
    public RtrlTrainer(RecurrentNetwork<T> network, RtrlOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        _options = options ?? new RtrlOptions();
        _options.Validate();
        _net = network;
        _rtrl = new RtrlGradient<T>(network, _options.MaxSensitivityBytes, _options.MaxThreads);
        RegularizationPlan regularization = _options.Regularization.Resolve(network.Layout);
        _optimizer = OptimizerFactory.Create<T>(_options.Optimizer, network.Parameters.Length, regularization, network.Path);
        _optimizer.ClipValue = _options.ClipValue;
        _learningRate = T.CreateTruncating(_options.LearningRate);
        _best = new T[network.Parameters.Length];
        _y = new T[network.Architecture.OutputSize];
        _dy = new T[network.Architecture.OutputSize];
        _evalState = network.CreateState(1);
    }

    /// <summary>The network this trainer trains.</summary>
    public RecurrentNetwork<T> Network => _net;

    /// <summary>The options in force.</summary>
    public RtrlOptions Options => _options;

    /// <summary>The sensitivity engine (its <see cref="RtrlGradient{T}.Bytes"/> is the memory RTRL holds).</summary>
    public RtrlGradient<T> Gradient => _rtrl;

    /// <summary>The optimiser (its state persists across <see cref="Fit"/> calls).</summary>
    public Optimizer<T> Optimizer => _optimizer;

    /// <summary>Raised after every epoch on the training thread.</summary>
    public event Action<EpochProgress>? EpochCompleted;

    /// <summary>
    /// Trains for up to <see cref="RtrlOptions.Epochs"/> epochs; after it the network holds the best weights
    /// (validation-selected when <paramref name="validation"/> is given). Cancellation is checked before every step.
    /// </summary>
    /// <exception cref="ArgumentException">The data do not fit the network, or every target weight is 0.</exception>
    /// <exception cref="TrainingDivergedException">The loss, gradient or weights became NaN / ∞ (best weights restored first).</exception>
    public TrainingResult Fit(SequenceData<T> train, SequenceData<T>? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        SequenceLoss.CheckShape(_net, train, nameof(train));
        if (validation is not null) SequenceLoss.CheckShape(_net, validation, nameof(validation));
        if (train.TargetWeights is { } tw && SumOfWeights(tw) == 0)
            throw new ArgumentException($"Every target weight of the {train.Steps} training steps is 0: there is nothing to train on.", nameof(train));
        if (validation?.TargetWeights is { } vw && SumOfWeights(vw) == 0)
            throw new ArgumentException("Every target weight of the validation series is 0: there is nothing to validate on.", nameof(validation));

        var clock = Stopwatch.StartNew();
        var history = new List<EpochProgress>(_options.Epochs);
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, sinceBest = 0;
        bool cancelled = false, stoppedEarly = false;
        _updates = 0;
        _net.Parameters.CopyTo(_best);
        for (int epoch = 1; epoch <= _options.Epochs && !cancelled && !stoppedEarly; epoch++)
        {
            BeginEpoch();
            for (int t = 0; t < train.Steps; t++)
            {
                if (cancellationToken.IsCancellationRequested) { cancelled = true; break; }
                TrainStep(train, t, epoch);
            }
            if (cancelled) break; // a partial epoch is neither validated nor reported
            double trainLoss = _sumWeights > 0 ? _sumSquares / _sumWeights : 0;
            double validationLoss = validation is null ? double.NaN : SequenceLoss.WeightedMse(_net, _evalState, _y, train, validation);
            double selectionLoss = validation is null ? trainLoss : validationLoss;
            if (!double.IsFinite(selectionLoss) || !double.IsFinite(trainLoss) || !double.IsFinite(GradientClipping.GlobalNorm<T>(_net.Parameters, _net.Path)))
                Diverged($"RTRL diverged in epoch {epoch}: training loss {trainLoss}, validation loss {validationLoss}.", epoch);
            bool isBest = selectionLoss < bestLoss;
            if (isBest)
            {
                bestLoss = selectionLoss;
                bestEpoch = epoch;
                sinceBest = 0;
                _net.Parameters.CopyTo(_best);
            }
            else
            {
                sinceBest++;
            }
            var progress = new EpochProgress(epoch, _options.Epochs, trainLoss, validationLoss, _options.LearningRate, _lastNorm, clock.Elapsed, isBest);
            history.Add(progress);
            stoppedEarly = _options.Patience > 0 && sinceBest >= _options.Patience;
            EpochCompleted?.Invoke(progress);
        }
        RestoreBest();
        return new TrainingResult(history.Count, bestEpoch, bestLoss, _updates, clock.Elapsed, stoppedEarly, cancelled, history);
    }

    /// <summary>Starts an epoch: zero state and sensitivities (P_0 = 0), no accumulated gradient.</summary>
    internal void BeginEpoch()
    {
        _rtrl.Reset();
        _net.ZeroGradients();
        _sumSquares = _sumWeights = _blockWeights = 0;
        _blockSteps = 0;
        _lastNorm = double.NaN;
    }

    /// <summary>
    /// Step t of the epoch: forward with sensitivities, dL/dy = 2 w (y - target) into the accumulated gradient
    /// (normalised by the block's Σ w at the update), and the update after every k-th step and after the series'
    /// last. Allocates nothing.
    /// </summary>
    internal void TrainStep(SequenceData<T> data, int t, int epoch)
    {
        int o = data.OutputSize, inSize = data.InputSize;
        _rtrl.Step(data.Inputs.AsSpan(t * inSize, inSize), _y);
        double stepWeight = 0;
        for (int k = 0; k < o; k++)
        {
            T w = data.TargetWeights is null ? T.One : data.TargetWeights[t * o + k];
            T d = _y[k] - data.Targets[t * o + k];
            _sumSquares += double.CreateTruncating(w * d * d);
            stepWeight += double.CreateTruncating(w);
            _dy[k] = (T.One + T.One) * w * d;
        }
        if (stepWeight > 0) _rtrl.AccumulateGradient(_dy, _net.Gradients);
        _sumWeights += stepWeight;
        _blockWeights += stepWeight;
        if (++_blockSteps == _options.UpdateEvery || t == data.Steps - 1) Update(epoch);
    }

    /// <summary>One optimiser step with the block's gradient / Σ w (clipped), then a fresh accumulation.</summary>
    private void Update(int epoch)
    {
        if (_blockWeights > 0)
        {
            double norm = GradientClipping.GlobalNorm<T>(_net.Gradients, _net.Path) / _blockWeights;
            if (!double.IsFinite(norm)) Diverged($"RTRL diverged in epoch {epoch}, update {_updates + 1}: gradient norm {norm}.", epoch);
            double scale = 1 / _blockWeights;
            if (!double.IsPositiveInfinity(_options.ClipNorm)) scale *= double.CreateTruncating(GradientClipping.ScaleForMaxNorm<T>(norm, _options.ClipNorm));
            _optimizer.Step(_net.Parameters, _net.Gradients, _learningRate, T.CreateTruncating(scale));
            _net.MarkParametersChanged();
            _lastNorm = norm;
            _updates++;
        }
        _net.ZeroGradients();
        _blockWeights = 0;
        _blockSteps = 0;
    }

    private void Diverged(string message, int epoch)
    {
        RestoreBest();
        throw new TrainingDivergedException(message + " The best weights so far were restored; lower the learning rate or clip the gradient norm.", epoch, _updates);
    }

    private void RestoreBest()
    {
        _best.CopyTo(_net.Parameters);
        _net.MarkParametersChanged();
    }

    private static double SumOfWeights(ReadOnlySpan<T> weights)
    {
        double sum = 0;
        foreach (T w in weights) sum += double.CreateTruncating(w);
        return sum;
    }
}
