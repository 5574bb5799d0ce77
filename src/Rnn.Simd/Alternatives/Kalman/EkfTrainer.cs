using System.Diagnostics;
using System.Numerics;
using System.Numerics.Tensors;
using Rnn.Simd.Network;
using Rnn.Simd.Training;

namespace Rnn.Simd.Alternatives.Kalman;

/// <summary>
/// Trains a <see cref="RecurrentNetwork{T}"/> with an extended Kalman filter whose state is the weight vector w
/// (Puskorius and Feldkamp 1994, "Neurocontrol of nonlinear dynamical systems with Kalman filter trained recurrent
/// networks", IEEE TNN 5(2); Haykin (ed.) 2001, "Kalman Filtering and Neural Networks", ch. 2): the global EKF or the
/// node-decoupled EKF (<see cref="EkfOptions.Variant"/>), with the output Jacobian from truncated BPTT
/// (<see cref="TruncatedBpttJacobian{T}"/>, or any <see cref="IOutputJacobian{T}"/>). The chapter's introduction names
/// extended Kalman filters (Haykin et al. 2001) among the ways to train a recurrent network other than gradient descent;
/// the Jacobian comes from the truncated BPTT of its section 2.1.
/// </summary>
/// <remarks>
/// <para>
/// Per instance (s = <see cref="EkfOptions.UpdateEvery"/> steps, m = s·O outputs y, targets d, Jacobian H = ∂y/∂w,
/// m x n): the innovation covariance S = R + H P Hᵀ (the inverse of the book's global scaling matrix A, m x m, R
/// diagonal with R / w for a target of weight w), its Cholesky factor S = L Lᵀ, the gain K = P Hᵀ S⁻¹, the update
/// w ← w + K (d - y), and P ← P - K H P + Q. The decoupled variant keeps P block diagonal (one block per node, see
/// <see cref="EkfVariant.NodeDecoupled"/>) and the same formulas hold block by block with the shared S. See
/// <see cref="BlockCovariance"/> for how P is stored (symmetric by construction) and updated.
/// </para>
/// <para>
/// The covariance is in double whatever T is. Loss of positive definiteness (a non-positive or non-finite diagonal of
/// P, an innovation covariance whose Cholesky factorisation fails) or a non-finite update stops training with a
/// <see cref="TrainingDivergedException"/> whose one-sentence message says what happened; the network then holds the
/// last good weights (those of the best epoch when an epoch has completed, else the weights before the failed
/// update, which is never applied).
/// </para>
/// <para>
/// Each epoch is one pass over the training series from a zero state at batch 1, instance by instance; P carries
/// from one epoch to the next and restarts at P0 with every <see cref="Fit"/>. The training loss of an epoch is the
/// weighted MSE of its a-priori outputs (each predicted before its own update); validation runs after a warm-up over
/// the training series (<see cref="SequenceLoss.WeightedMse"/>) and selects the weights kept. Deterministic; after the
/// first instance an update allocates nothing.
/// </para>
/// </remarks>
/// <typeparam name="T">float or double.</typeparam>
public sealed class EkfTrainer<T> : INetworkTrainer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly EkfOptions _options;
    private readonly IOutputJacobian<T> _jacobian;
    private readonly BlockCovariance _cov;
    private readonly int[] _perm;
    private readonly int _m, _n;
    private readonly T[] _row, _y, _best;
    private readonly double[] _h, _product, _v, _s, _e, _r, _u, _dw;
    private readonly NetworkState<T> _evalState;
    private readonly T[] _evalOutput;
    private bool _pending;
    private double _pendingQ;

    /// <summary>Creates the trainer with the truncated-BPTT Jacobian and allocates everything it needs.</summary>
    /// <param name="network">The network to train in place.</param>
    /// <param name="options">Options (null: the defaults).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid (named, with its value).</exception>
    /// <exception cref="ArgumentException">An unknown trainable parameter name, or a covariance larger than
    /// <see cref="EkfOptions.MaxCovarianceBytes"/> (the bytes it needs are named).</exception>
    public EkfTrainer(RecurrentNetwork<T> network, EkfOptions? options = null)
        : this(network, options, null)
    {
    }

    /// <summary>Creates the trainer with another source of the output Jacobian (RTRL, say).</summary>
    /// <param name="network">The network to train in place.</param>
    /// <param name="options">Options (null: the defaults).</param>
    /// <param name="jacobian">The Jacobian source, for <paramref name="network"/> with s = <see cref="EkfOptions.UpdateEvery"/>
    /// steps per instance; null: <see cref="TruncatedBpttJacobian{T}"/> of depth <see cref="EkfOptions.TruncationDepth"/>.</param>
    public EkfTrainer(RecurrentNetwork<T> network, EkfOptions? options, IOutputJacobian<T>? jacobian)
    {
        ArgumentNullException.ThrowIfNull(network);
        _options = options ?? new EkfOptions();
        _options.Validate();
        Network = network;
        if (jacobian is not null)
        {
            if (!ReferenceEquals(jacobian.Network, network)) throw new ArgumentException("The Jacobian source differentiates another network.", nameof(jacobian));
            if (jacobian.StepsPerInstance != _options.UpdateEvery)
                throw new ArgumentException($"The Jacobian source runs {jacobian.StepsPerInstance} steps per instance; UpdateEvery is {_options.UpdateEvery}.", nameof(jacobian));
        }
        (_perm, int[] groupSizes) = BuildGroups(network, _options);
        _n = _perm.Length;
        long bytes = BlockCovariance.BytesFor(groupSizes);
        if (bytes > _options.MaxCovarianceBytes)
        {
            throw new ArgumentException(
                $"The {_options.Variant} EKF of this {network.Architecture.Cell} network (hidden {string.Join("x", network.Architecture.HiddenSizes)}, {_n} trainable weights in {groupSizes.Length} block(s)) needs {bytes} bytes ({bytes / 1048576.0:F1} MiB) of covariance, more than MaxCovarianceBytes = {_options.MaxCovarianceBytes}; use Variant = NodeDecoupled, a smaller network, or raise MaxCovarianceBytes.",
                nameof(network));
        }
        _cov = new BlockCovariance(groupSizes);
        _jacobian = jacobian ?? new TruncatedBpttJacobian<T>(network, _options.TruncationDepth, _options.UpdateEvery);
        _m = _options.UpdateEvery * network.Architecture.OutputSize;
        _row = new T[network.Parameters.Length];
        _y = new T[_m];
        _best = new T[network.Parameters.Length];
        _h = new double[_m * _n];
        _product = new double[_m * _n];
        _v = new double[_m * _n];
        _s = new double[_m * _m];
        _e = new double[_m];
        _r = new double[_m];
        _u = new double[_m];
        _dw = new double[_n];
        _evalState = network.CreateState();
        _evalOutput = new T[network.Architecture.OutputSize];
        _cov.Reset(_options.InitialCovariance);
    }

    /// <inheritdoc/>
    public RecurrentNetwork<T> Network { get; }

    /// <summary>The options.</summary>
    public EkfOptions Options => _options;

    /// <summary>n, the number of weights the filter trains (the state dimension).</summary>
    public int StateSize => _n;

    /// <summary>Number of covariance blocks (1 for the global EKF).</summary>
    public int Blocks => _cov.Groups;

    /// <summary>Bytes of the covariance P.</summary>
    public long CovarianceBytes => BlockCovariance.BytesFor(GroupSizes());

    /// <inheritdoc/>
    public event Action<EpochProgress>? EpochCompleted;

    /// <summary>P[i, j] over the trainable weights in filter order (tests), with any pending downdate not yet applied.</summary>
    internal double Covariance(int i, int j) => _cov[i, j];

    /// <summary>Filter index p → index into <see cref="RecurrentNetwork{T}.Parameters"/>.</summary>
    internal ReadOnlySpan<int> Permutation => _perm;

    /// <summary>
    /// Trains: epochs over <paramref name="train"/>, one filter update per instance, validation after each epoch;
    /// early stopping with <see cref="EkfOptions.Patience"/>; the best weights are left in the network.
    /// <see cref="TrainingResult.Windows"/> counts filter updates; <see cref="EpochProgress.LearningRate"/> reports
    /// 1 / R of the epoch (the book's η); <see cref="EpochProgress.GradientNorm"/> the norm of the epoch's last weight
    /// update K (d - y).
    /// </summary>
    /// <exception cref="ArgumentException">Data of another shape, shorter than one instance, or without a target that counts.</exception>
    /// <exception cref="TrainingDivergedException">P lost positive definiteness or an update was not finite (see the remarks).</exception>
    public TrainingResult Fit(SequenceData<T> train, SequenceData<T>? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        SequenceLoss.CheckShape(Network, train, nameof(train));
        if (validation is not null) SequenceLoss.CheckShape(Network, validation, nameof(validation));
        int s = _options.UpdateEvery, inSize = train.InputSize, outSize = train.OutputSize;
        int instances = train.Steps / s;
        if (instances < 1) throw new ArgumentException($"The training series has {train.Steps} steps; one instance of UpdateEvery = {s} steps needs {s}.", nameof(train));
        if (train.TargetWeights is { } tw && TensorSum(tw.AsSpan(0, instances * s * outSize)) == 0)
            throw new ArgumentException($"Every target weight of the {instances * s} training steps used is 0: there is nothing to train on.", nameof(train));
        if (validation?.TargetWeights is { } vw && TensorSum(vw) == 0)
            throw new ArgumentException("Every target weight of the validation series is 0: there is nothing to validate on.", nameof(validation));

        var clock = Stopwatch.StartNew();
        var history = new List<EpochProgress>(_options.Epochs);
        _cov.Reset(_options.InitialCovariance);
        _pending = false;
        Network.Parameters.CopyTo(_best);
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, sinceBest = 0;
        long updates = 0;
        bool cancelled = false, stoppedEarly = false;
        for (int epoch = 1; epoch <= _options.Epochs && !cancelled && !stoppedEarly; epoch++)
        {
            double r = _options.MeasurementNoiseAt(epoch), q = _options.ProcessNoiseAt(epoch);
            double lossSum = 0, weightSum = 0, stepNorm = double.NaN;
            _jacobian.Reset();
            for (int i = 0; i < instances; i++)
            {
                if (cancellationToken.IsCancellationRequested) { cancelled = true; break; }
                int t0 = i * s;
                ReadOnlySpan<T> weights = train.TargetWeights is null ? default : train.TargetWeights.AsSpan(t0 * outSize, s * outSize);
                EkfStep status = Update(train.Inputs.AsSpan(t0 * inSize, s * inSize), train.Targets.AsSpan(t0 * outSize, s * outSize), weights, r, q,
                    ref lossSum, ref weightSum);
                if (status.Failed) Fail(status, epoch, t0, bestEpoch, updates);
                if (status.Updated)
                {
                    updates++;
                    stepNorm = status.Value;
                }
            }
            if (cancelled) break;
            double trainLoss = weightSum > 0 ? lossSum / weightSum : 0;
            double validationLoss = validation is null ? double.NaN : SequenceLoss.WeightedMse(Network, _evalState, _evalOutput, train, validation);
            double selection = validation is null ? trainLoss : validationLoss;
            if (!double.IsFinite(selection))
            {
                RestoreBest();
                throw new TrainingDivergedException(
                    $"EKF training diverged in epoch {epoch}: the {(validation is null ? "training" : "validation")} loss became {selection}; the network keeps the weights of epoch {bestEpoch} (raise the measurement noise R or lower the initial covariance P0).",
                    epoch, updates);
            }
            bool isBest = selection < bestLoss;
            if (isBest)
            {
                bestLoss = selection;
                bestEpoch = epoch;
                sinceBest = 0;
                Network.Parameters.CopyTo(_best);
            }
            else
            {
                sinceBest++;
            }
            var progress = new EpochProgress(epoch, _options.Epochs, trainLoss, validationLoss, 1 / r, stepNorm, clock.Elapsed, isBest);
            history.Add(progress);
            stoppedEarly = _options.Patience > 0 && sinceBest >= _options.Patience;
            EpochCompleted?.Invoke(progress);
        }
        clock.Stop();
        RestoreBest();
        return new TrainingResult(history.Count, bestEpoch, bestLoss, updates, clock.Elapsed, stoppedEarly, cancelled, history);
    }

    /// <summary>What one instance did: updated (Value = ‖Δw‖), skipped (every target weight 0), or failed (Kind, Index, Value).</summary>
    internal readonly record struct EkfStep(EkfFailure Kind, bool Updated, int Index, double Value)
    {
        public bool Failed => Kind != EkfFailure.None;
    }

    /// <summary>Why an update failed.</summary>
    internal enum EkfFailure
    {
        None,
        CovarianceDiagonal,
        Innovation,
        NonFiniteUpdate,
    }

    /// <summary>
    /// One instance: the forward, the Jacobian rows of the targets that count, the fused covariance pass (the previous
    /// update's downdate and M = H P), S = R + M Hᵀ and its Cholesky factor, V = L⁻¹ M, Δw = Vᵀ L⁻¹ (d - y), w += Δw.
    /// Adds the instance's Σ w (d - y)² (a priori) and Σ w to the sums. Allocates nothing.
    /// </summary>
    internal EkfStep Update(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, ReadOnlySpan<T> targetWeights, double r, double q, ref double lossSum, ref double weightSum)
    {
        int m = _m, n = _n;
        _jacobian.Advance(inputs, _y);
        int measured = 0;
        for (int k = 0; k < m; k++)
        {
            double w = targetWeights.IsEmpty ? 1 : double.CreateTruncating(targetWeights[k]);
            double e = double.CreateTruncating(targets[k]) - double.CreateTruncating(_y[k]);
            Span<double> hk = _h.AsSpan(k * n, n);
            if (w > 0)
            {
                lossSum += w * e * e;
                weightSum += w;
                // A target of weight w is a measurement of noise variance R / w: the weighted MSE's own weighting.
                _r[k] = r / w;
                _e[k] = e;
                _jacobian.Jacobian(k, _row);
                for (int p = 0; p < n; p++) hk[p] = double.CreateTruncating(_row[_perm[p]]);
                measured++;
            }
            else
            {
                // No measurement: a zero row with zero innovation adds nothing to the gain or to P.
                _r[k] = r;
                _e[k] = 0;
                hk.Clear();
            }
        }
        if (measured == 0) return new EkfStep(EkfFailure.None, false, -1, 0);

        int bad = _cov.UpdateAndMultiply(_pending ? _v : default, _pendingQ, _h, _product, m);
        if (bad >= 0) return new EkfStep(EkfFailure.CovarianceDiagonal, false, bad, _cov[bad, bad]);
        _pending = false;

        // S = R + H P Hᵀ = R + M Hᵀ (m x m, lower triangle), then S = L Lᵀ in place.
        Span<double> sm = _s;
        for (int i = 0; i < m; i++)
        {
            ReadOnlySpan<double> mi = _product.AsSpan(i * n, n);
            for (int j = 0; j <= i; j++) sm[i * m + j] = TensorPrimitives.Dot(mi, _h.AsSpan(j * n, n));
            sm[i * m + i] += _r[i];
        }
        int failed = Cholesky(sm, m);
        if (failed >= 0) return new EkfStep(EkfFailure.Innovation, false, failed, sm[failed * m + failed]);

        // V = L⁻¹ M (row by row, forward substitution) and u = L⁻¹ (d - y); then K (d - y) = Mᵀ S⁻¹ (d - y) = Vᵀ u.
        for (int k = 0; k < m; k++)
        {
            Span<double> vk = _v.AsSpan(k * n, n);
            _product.AsSpan(k * n, n).CopyTo(vk);
            double uk = _e[k];
            for (int j = 0; j < k; j++)
            {
                double l = sm[k * m + j];
                if (l != 0) TensorPrimitives.MultiplyAdd(_v.AsSpan(j * n, n), -l, vk, vk);
                uk -= l * _u[j];
            }
            double d = 1 / sm[k * m + k];
            TensorPrimitives.Multiply(vk, d, vk);
            _u[k] = uk * d;
        }
        Span<double> dw = _dw;
        dw.Clear();
        for (int k = 0; k < m; k++)
        {
            if (_u[k] != 0) TensorPrimitives.MultiplyAdd(_v.AsSpan(k * n, n), _u[k], dw, dw);
        }
        double norm = TensorPrimitives.Norm<double>(dw);
        if (!double.IsFinite(norm)) return new EkfStep(EkfFailure.NonFiniteUpdate, false, -1, norm);
        Span<T> parameters = Network.Parameters;
        for (int p = 0; p < n; p++) parameters[_perm[p]] += T.CreateTruncating(dw[p]);
        Network.MarkParametersChanged();
        // P ← P - VᵀV + Q is applied by the next covariance pass, fused with that instance's M = H P.
        _pending = true;
        _pendingQ = q;
        return new EkfStep(EkfFailure.None, true, -1, norm);
    }

    /// <summary>Lower Cholesky factor of the m x m lower triangle of <paramref name="a"/>, in place; -1, or the first
    /// pivot that is not positive and finite.</summary>
    private static int Cholesky(Span<double> a, int m)
    {
        for (int j = 0; j < m; j++)
        {
            double d = a[j * m + j];
            for (int k = 0; k < j; k++) d -= a[j * m + k] * a[j * m + k];
            if (!(d > 0) || !double.IsFinite(d)) { a[j * m + j] = d; return j; }
            double l = Math.Sqrt(d);
            a[j * m + j] = l;
            for (int i = j + 1; i < m; i++)
            {
                double x = a[i * m + j];
                for (int k = 0; k < j; k++) x -= a[i * m + k] * a[j * m + k];
                a[i * m + j] = x / l;
            }
        }
        return -1;
    }

    private void Fail(EkfStep status, int epoch, int step, int bestEpoch, long updates)
    {
        string what = status.Kind switch
        {
            EkfFailure.CovarianceDiagonal => $"the weight covariance P lost positive definiteness (its diagonal entry for {WeightName(status.Index)} became {status.Value})",
            EkfFailure.Innovation => $"the innovation covariance R + H P Hᵀ is not positive definite (pivot {status.Index} is {status.Value}), so P lost positive definiteness",
            _ => $"the weight update became {status.Value}",
        };
        string kept = bestEpoch > 0 ? $"the weights of epoch {bestEpoch}" : "the weights from before this update";
        if (bestEpoch > 0) RestoreBest();
        throw new TrainingDivergedException(
            $"EKF training stopped in epoch {epoch} at step {step}: {what}; the network keeps {kept} (raise the process noise Q or the measurement noise R, or lower the initial covariance P0).",
            epoch, updates);
    }

    private string WeightName(int filterIndex)
    {
        if ((uint)filterIndex >= (uint)_perm.Length) return $"weight {filterIndex}";
        int index = _perm[filterIndex];
        foreach (ParameterSlice slice in Network.Layout.Slices)
        {
            if (index >= slice.Offset && index < slice.Offset + slice.Length) return $"{slice.Name}[{index - slice.Offset}]";
        }
        return $"parameter {index}";
    }

    private void RestoreBest()
    {
        _best.CopyTo(Network.Parameters);
        Network.MarkParametersChanged();
    }

    private static double TensorSum(ReadOnlySpan<T> values)
    {
        double sum = 0;
        foreach (T v in values) sum += double.CreateTruncating(v);
        return sum;
    }

    private int[] GroupSizes()
    {
        var sizes = new int[_cov.Groups];
        for (int g = 0; g < sizes.Length; g++) sizes[g] = (g + 1 < sizes.Length ? _cov.GroupStart(g + 1) : _cov.Count) - _cov.GroupStart(g);
        return sizes;
    }

    /// <summary>
    /// The filter's order of the trainable weights and its blocks. Global: one block, layout order. Node-decoupled
    /// (Puskorius and Feldkamp 1994): a block per hidden unit u of each layer l, every parameter of a row r of that
    /// layer's slices with r mod H_l = u (so all gates' input, recurrent and bias weights of the unit), then a block per
    /// output k, row k of the readout weight and bias k. Blocks left empty by <see cref="EkfOptions.TrainableParameters"/> are dropped.
    /// </summary>
    private static (int[] Perm, int[] GroupSizes) BuildGroups(RecurrentNetwork<T> network, EkfOptions options)
    {
        ParameterLayout layout = network.Layout;
        NetworkArchitecture arch = network.Architecture;
        var trainable = new HashSet<string>(StringComparer.Ordinal);
        if (options.TrainableParameters is null)
        {
            foreach (ParameterSlice slice in layout.Slices) trainable.Add(slice.Name);
        }
        else
        {
            foreach (string name in options.TrainableParameters)
            {
                bool known = false;
                foreach (ParameterSlice slice in layout.Slices) known |= string.Equals(slice.Name, name, StringComparison.Ordinal);
                if (!known)
                {
                    var names = new List<string>();
                    foreach (ParameterSlice slice in layout.Slices) names.Add(slice.Name);
                    throw new ArgumentException($"TrainableParameters names '{name}', which this network does not have (it has {string.Join(", ", names)}).", nameof(options));
                }
                trainable.Add(name);
            }
        }
        int firstReadoutGroup = 0;
        var layerGroupStart = new int[arch.NumLayers];
        for (int l = 0; l < arch.NumLayers; l++) { layerGroupStart[l] = firstReadoutGroup; firstReadoutGroup += arch.HiddenSizes[l]; }
        int groupCount = options.Variant == EkfVariant.Global ? 1 : firstReadoutGroup + arch.OutputSize;
        var groups = new List<int>[groupCount];
        for (int g = 0; g < groupCount; g++) groups[g] = [];
        foreach (ParameterSlice slice in layout.Slices)
        {
            if (!trainable.Contains(slice.Name)) continue;
            for (int row = 0; row < slice.Rows; row++)
            {
                int g = options.Variant == EkfVariant.Global ? 0
                    : slice.Layer >= 0 ? layerGroupStart[slice.Layer] + row % arch.HiddenSizes[slice.Layer]
                    : firstReadoutGroup + row;
                for (int c = 0; c < slice.Columns; c++) groups[g].Add(slice.Offset + row * slice.Columns + c);
            }
        }
        var perm = new List<int>();
        var sizes = new List<int>();
        foreach (List<int> group in groups)
        {
            if (group.Count == 0) continue;
            perm.AddRange(group);
            sizes.Add(group.Count);
        }
        return (perm.ToArray(), sizes.ToArray());
    }
}
