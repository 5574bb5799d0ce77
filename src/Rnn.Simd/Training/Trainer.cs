using System.Diagnostics;
using System.Numerics;
using Rnn.Simd.Network;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;
using Rnn.Simd.Training.Schedules;

namespace Rnn.Simd.Training;

/// <summary>Options of a <see cref="Trainer{T}"/>. Defaults are a sound start for a small forecasting RNN.</summary>
public sealed record TrainerOptions
{
    /// <summary>B: the training series is cut into this many contiguous streams trained in parallel (default 16).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>The truncation BPTT(τb, τf); default BPTT(2n, n) with n = 24 (chapter section 2.1).</summary>
    public BpttSchedule Bptt { get; init; } = BpttSchedule.Default(24);

    /// <summary>The optimiser (default Adam, Eq. 2.8).</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>
    /// With <see cref="OptimizerKind.Nesterov"/>: which weights are validated, compared for early stopping, kept as the
    /// best and left in the network at the end (so saved). Default <see cref="NesterovEvaluationPoint.Iterate"/>, the
    /// W_k of Eq. 2.5; ignored by the other optimisers.
    /// </summary>
    public NesterovEvaluationPoint NesterovEvaluation { get; init; } = NesterovEvaluationPoint.Iterate;

    /// <summary>Initial learning rate η0 (default 1e-3); the schedule starts from it when <see cref="Schedule"/> is null.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Learning-rate schedule (section 2.3); null keeps <see cref="LearningRate"/> constant. The schedule is
    /// stateful and restarted by every <see cref="Trainer{T}.Fit(SequenceData{T}, SequenceData{T}?, CancellationToken)"/>: options can be reused by trainers one after
    /// another, not by trainers running at the same time.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>L1 / L2 regularisation R_λ of Eq. 2.1 (weights only unless it says otherwise); default none.</summary>
    public RegularizationOptions Regularization { get; init; } = RegularizationOptions.None;

    /// <summary>Dropout during training (section 2.2, item 4); default none. New variational masks every epoch.</summary>
    public DropoutOptions Dropout { get; init; } = DropoutOptions.None;

    /// <summary>Clip the global gradient norm to this value (section 2.4); +∞ (default) disables it.</summary>
    public double ClipNorm { get; init; } = double.PositiveInfinity;

    /// <summary>Clip each gradient element to ±this value; +∞ (default) disables it.</summary>
    public double ClipValue { get; init; } = double.PositiveInfinity;

    /// <summary>Maximum number of epochs (passes over the training series); default 50.</summary>
    public int Epochs { get; init; } = 50;

    /// <summary>Stop after this many epochs without a better validation loss; 0 disables early stopping. Default 10.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>Threads of the GEMMs (1 = the caller only). Results are bitwise the same for any value.</summary>
    public int MaxThreads { get; init; } = 1;

    /// <summary>
    /// When set, <see cref="Trainer{T}.Fit(SequenceData{T}, SequenceData{T}?, CancellationToken)"/> calls it with the
    /// trainer's state (<see cref="Trainer{T}.CaptureState"/>) every <see cref="CheckpointEvery"/> epochs and at the
    /// last epoch (also when patience runs out), on the training thread, before <see cref="Trainer{T}.EpochCompleted"/>.
    /// The trainer knows no file: to write checkpoint files, pass <c>Rnn.Simd.Persistence.TrainingCheckpoint.ToFile(path)</c>.
    /// An exception thrown by the callback ends <c>Fit</c> with it. Null (default): no checkpoints.
    /// </summary>
    public Action<TrainerState>? CheckpointCallback { get; init; }

    /// <summary>Epochs between calls of <see cref="CheckpointCallback"/> (default 1: after every epoch).</summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Batch size must be at least 1.");
        Bptt.Validate();
        ArgumentNullException.ThrowIfNull(Dropout);
        Dropout.Validate();
        if (!Enum.IsDefined(NesterovEvaluation)) throw new ArgumentOutOfRangeException(nameof(NesterovEvaluation), NesterovEvaluation, "Not a NesterovEvaluationPoint.");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Learning rate must be positive and finite.");
        if (!(ClipNorm > 0)) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "Clip norm must be positive (+∞ disables it).");
        if (!(ClipValue > 0)) throw new ArgumentOutOfRangeException(nameof(ClipValue), ClipValue, "Clip value must be positive (+∞ disables it).");
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "At least one epoch.");
        if (Patience < 0) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, "Patience must be non-negative.");
        if (MaxThreads < 0) throw new ArgumentOutOfRangeException(nameof(MaxThreads), MaxThreads, "MaxThreads must be 0 (automatic) or positive.");
        if (CheckpointEvery < 1) throw new ArgumentOutOfRangeException(nameof(CheckpointEvery), CheckpointEvery, "Checkpoints are written every 1 or more epochs.");
    }
}

/// <summary>
/// Which weights of a <see cref="OptimizerKind.Nesterov"/> run a <see cref="Trainer{T}"/> evaluates (validation, early
/// stopping), keeps as the best and leaves in the network (<see cref="TrainerOptions.NesterovEvaluation"/>).
/// </summary>
/// <remarks>
/// <see cref="Nesterov{T}"/> holds the look-ahead point Θ_k = W_k + μ V_(k-1) in the parameter buffer, because that
/// is where Eq. 2.5 takes the gradient; the iterate of the equation is W_k = Θ_k - μ V_(k-1)
/// (<see cref="Nesterov{T}.CopyWeights"/>). Training itself (every window and update) is the same under both choices;
/// only what is measured and kept differs.
/// </remarks>
public enum NesterovEvaluationPoint
{
    /// <summary>The iterate W_k of Eq. 2.5 (the default): at each epoch's end the trainer evaluates and keeps
    /// W = Θ - μ V, then continues training from Θ.</summary>
    Iterate = 0,

    /// <summary>The look-ahead point Θ_k = W_k + μ V_(k-1) the optimiser holds: what <c>torch.optim.SGD(nesterov=True)</c>
    /// and Keras' Nesterov SGD keep in their parameters, and what this trainer evaluated before the option existed.</summary>
    LookAhead = 1,
}

/// <summary>What a <see cref="Trainer{T}"/> reports after each epoch.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Epochs">The maximum number of epochs.</param>
/// <param name="TrainLoss">The epoch's data loss E plus the mean of R_λ over its windows (Eq. 2.1), where E is the
/// mean of the window losses weighted by each window's Σ w (<see cref="TruncatedBptt{T}.TargetWeightSum"/>): the MSE
/// over every training target that counts, each taken at the weights its window saw (for Nesterov the look-ahead
/// point, where the gradient is taken).</param>
/// <param name="ValidationLoss">Weighted MSE Σ w (y - target)² / Σ w on the validation series (<see cref="Trainer{T}.Evaluate"/>;
/// NaN without one); the same definition as the training loss's E.</param>
/// <param name="LearningRate">The rate used during the epoch.</param>
/// <param name="GradientNorm">Global gradient norm of the epoch's last window, before clipping.</param>
/// <param name="Elapsed">Time since training started.</param>
/// <param name="IsBest">True when this epoch's weights are the best so far (and are kept).</param>
public readonly record struct EpochProgress(int Epoch, int Epochs, double TrainLoss, double ValidationLoss, double LearningRate, double GradientNorm, TimeSpan Elapsed, bool IsBest);

/// <summary>The outcome of <see cref="Trainer{T}.Fit(SequenceData{T}, SequenceData{T}?, CancellationToken)"/>.</summary>
/// <param name="EpochsRun">Epochs completed.</param>
/// <param name="BestEpoch">Epoch whose weights the network holds at the end.</param>
/// <param name="BestLoss">Its validation loss (its training loss without validation data).</param>
/// <param name="Windows">BPTT windows (parameter updates) run.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="StoppedEarly">True when patience ran out.</param>
/// <param name="Cancelled">True when the cancellation token stopped training.</param>
/// <param name="History">One entry per epoch.</param>
public sealed record TrainingResult(int EpochsRun, int BestEpoch, double BestLoss, long Windows, TimeSpan Elapsed, bool StoppedEarly, bool Cancelled, IReadOnlyList<EpochProgress> History)
{
    /// <summary>Parameter updates per second.</summary>
    public double WindowsPerSecond => Elapsed.TotalSeconds > 0 ? Windows / Elapsed.TotalSeconds : 0;
}

/// <summary>Thrown when the loss or the gradient becomes NaN or infinite; the network then holds the best weights seen.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string message, int epoch, long window) : base(message)
    {
        Epoch = epoch;
        Window = window;
    }

    /// <summary>1-based epoch in which training diverged.</summary>
    public int Epoch { get; }

    /// <summary>Window (update) index within the run.</summary>
    public long Window { get; }
}

/// <summary>
/// Trains a <see cref="RecurrentNetwork{T}"/> on a series with truncated BPTT (section 2.1), the loss of Eq. 2.1
/// (MSE plus R_λ), an optimiser of section 2.3 and gradient clipping (section 2.4): epochs over the training series,
/// validation after each, early stopping with patience, the best weights kept and restored, progress reported through
/// <see cref="EpochCompleted"/>, cancellation, and divergence detection.
/// </summary>
/// <remarks>
/// <para>
/// The training series is cut into <see cref="TrainerOptions.BatchSize"/> contiguous streams of equal length, trained
/// in parallel as the B rows of each window; the hidden state carries across the windows of an epoch and restarts
/// from zero each epoch. Validation continues chronologically: a state run over the whole training series at
/// batch 1 then predicts the validation series, whose weighted MSE is the validation loss.
/// </para>
/// <para>
/// Losses with target weights (<see cref="SequenceData{T}.TargetWeights"/>, 0 masks a target out) are means over the
/// targets that count, Σ w (y - target)² / Σ w, for each window, the epoch's training loss and the validation loss
/// alike, so a masked stretch neither shrinks a window's gradient nor makes the two losses incomparable.
/// </para>
/// <para>
/// With <see cref="OptimizerKind.Nesterov"/> the network holds the look-ahead point Θ during an epoch's windows; at the
/// epoch's end it holds the weights of <see cref="TrainerOptions.NesterovEvaluation"/> (by default the Eq. 2.5 iterate
/// W) while they are validated, kept and reported to <see cref="EpochCompleted"/>, and Θ is put back before the next
/// epoch.
/// </para>
/// <para>
/// Deterministic: nothing is random once the network is initialised, and every kernel gives bitwise the same
/// results on one thread or several, so the same seed and options give bitwise the same weights. After the first
/// window an update allocates nothing.
/// </para>
/// </remarks>
public sealed class Trainer<T> : INetworkTrainer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly RecurrentNetwork<T> _net;
    private readonly TrainerOptions _options;
    private readonly TruncatedBptt<T> _bptt;
    private readonly Optimizer<T> _optimizer;
    private readonly RegularizationPlan _regularization;
    private readonly LearningRateSchedule _schedule;
    private readonly T[] _x, _y, _w, _best;
    private readonly NetworkState<T> _evalState;
    private readonly T[] _evalOutput;
    // Nesterov evaluated at its iterate: between an epoch's end and the next epoch's first window the network holds
    // W = Θ - μV and _lookAhead holds Θ (_holdsIterate). Null / empty otherwise.
    private readonly Nesterov<T>? _nesterov;
    private readonly T[] _lookAhead = [];
    private bool _holdsIterate;
    private LoopState _loop = new();
    private SequenceData<T>? _train, _validation;
    private bool _atBoundary;

    /// <summary>The state of the epoch loop of the current (or last) <see cref="Fit(SequenceData{T}, SequenceData{T}?, CancellationToken)"/>, as <see cref="CaptureState"/> takes it.</summary>
    private sealed class LoopState
    {
        public int CompletedEpochs;
        public double BestLoss = double.PositiveInfinity;
        public int BestEpoch;
        public int SinceBest;
        public long Windows;
        public TimeSpan ElapsedBefore;
        public Stopwatch Clock = new();
        public List<EpochProgress> History = [];
        public byte[]? DataHash;

        public TimeSpan Elapsed => ElapsedBefore + Clock.Elapsed;
    }

    /// <summary>Creates a trainer for a network (allocates every buffer training needs).</summary>
    public Trainer(RecurrentNetwork<T> network, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        _options = options ?? new TrainerOptions();
        _options.Validate();
        _net = network;
        _bptt = new TruncatedBptt<T>(network, _options.BatchSize, _options.Bptt, _options.MaxThreads, _options.Dropout);
        _regularization = _options.Regularization.Resolve(network.Layout);
        _optimizer = OptimizerFactory.Create<T>(_options.Optimizer, network.Parameters.Length, _regularization, network.Path);
        _optimizer.ClipValue = _options.ClipValue;
        _schedule = _options.Schedule ?? new ConstantSchedule(_options.LearningRate);
        if (_optimizer is Nesterov<T> nesterov && _options.NesterovEvaluation == NesterovEvaluationPoint.Iterate)
        {
            _nesterov = nesterov;
            _lookAhead = new T[network.Parameters.Length];
        }
        int n = _options.Bptt.ForwardSteps * _options.BatchSize;
        _x = new T[n * network.Architecture.InputSize];
        _y = new T[n * network.Architecture.OutputSize];
        _w = new T[n * network.Architecture.OutputSize];
        _best = new T[network.Parameters.Length];
        _evalState = network.CreateState(1);
        _evalOutput = new T[network.Architecture.OutputSize];
    }

    /// <summary>Raised after every epoch (on the training thread).</summary>
    public event Action<EpochProgress>? EpochCompleted;

    /// <summary>The network this trainer trains.</summary>
    public RecurrentNetwork<T> Network => _net;

    /// <summary>
    /// The optimiser (its state persists across <see cref="Fit(SequenceData{T}, SequenceData{T}?, CancellationToken)"/>
    /// calls; a second Fit continues from the weights the network holds, the best of the first, with the optimiser's
    /// last state).
    /// </summary>
    public Optimizer<T> Optimizer => _optimizer;

    /// <summary>
    /// Copies the trainer's state at the end of the epoch just completed: parameters, best parameters, optimiser
    /// state, learning-rate schedule, dropout generator, epoch loop and history, plus a fingerprint of the options and
    /// the data (<see cref="TrainerState"/>). Resuming from it with
    /// <see cref="Fit(SequenceData{T}, SequenceData{T}?, TrainerState, CancellationToken)"/> gives bitwise the same
    /// result as training on uninterrupted. Allocates the copies (a few parameter-sized arrays).
    /// </summary>
    /// <remarks>Valid only at an epoch boundary: from an <see cref="EpochCompleted"/> handler (the
    /// <see cref="TrainerOptions.CheckpointCallback"/> receives the same state automatically).</remarks>
    /// <exception cref="InvalidOperationException">Called outside an <see cref="EpochCompleted"/> handler or the checkpoint callback.</exception>
    /// <exception cref="NotSupportedException">The learning-rate schedule is a user-defined class whose state cannot be captured.</exception>
    public TrainerState<T> CaptureState()
    {
        if (!_atBoundary)
            throw new InvalidOperationException("The trainer's state (a checkpoint) can be taken only at an epoch boundary: from an EpochCompleted handler, or through TrainerOptions.CheckpointCallback.");
        LearningRateSchedule schedule = _schedule;
        if (schedule.GetType().Assembly != typeof(LearningRateSchedule).Assembly)
            throw new NotSupportedException($"A checkpoint cannot capture the state of the user-defined schedule {schedule.GetType().FullName}; use a built-in schedule.");
        LoopState loop = _loop;
        var stateNames = new string[_optimizer.StateCount];
        var states = new ReadOnlyMemory<T>[_optimizer.StateCount];
        for (int i = 0; i < states.Length; i++)
        {
            stateNames[i] = _optimizer.StateName(i);
            states[i] = _optimizer.State(i).ToArray();
        }
        ulong[]? rngState = null;
        if (_bptt.MaskRng is { } rng)
        {
            rngState = new ulong[4];
            rng.CopyStateTo(rngState);
        }
        return new TrainerState<T>
        {
            Architecture = _net.Architecture,
            CompletedEpochs = loop.CompletedEpochs,
            BestEpoch = loop.BestEpoch,
            BestLoss = loop.BestLoss,
            EpochsSinceBest = loop.SinceBest,
            Windows = loop.Windows,
            Elapsed = loop.Elapsed,
            History = loop.History.ToArray(),
            // The training iterate: for Nesterov at its iterate the look-ahead point Θ set aside at the epoch's end.
            Parameters = _holdsIterate ? (T[])_lookAhead.Clone() : _net.Parameters.ToArray(),
            BestParameters = (T[])_best.Clone(),
            OptimizerName = _optimizer.Name,
            OptimizerSteps = _optimizer.StepCount,
            OptimizerStateNames = stateNames,
            OptimizerStates = states,
            ScheduleType = schedule.GetType().FullName!,
            ScheduleEpoch = schedule.Epoch,
            ScheduleRate = schedule.CurrentRate,
            ScheduleExtra = schedule is StepDecayOnPlateau p ? [p.BestLoss, p.EpochsWithoutDecrease, p.Reductions] : [],
            DropoutRngState = rngState,
            Options = TrainerFingerprint.Describe(_options),
            DataHash = (byte[])(loop.DataHash ??= TrainerFingerprint.HashData(_train!, _validation)).Clone(),
        };
    }

    /// <summary>Trains until the epochs run out, patience runs out, or cancellation. The network ends with the best weights.</summary>
    /// <param name="train">The training series.</param>
    /// <param name="validation">The series that follows it (null: select by training loss).</param>
    /// <param name="cancellationToken">Checked between windows; cancelling returns normally with <see cref="TrainingResult.Cancelled"/> set.</param>
    /// <exception cref="ArgumentException">The data does not fit the network or is too short for B streams of τf steps.</exception>
    /// <exception cref="TrainingDivergedException">The loss or gradient became NaN / ∞ (best weights restored first).</exception>
    public TrainingResult Fit(SequenceData<T> train, SequenceData<T>? validation = null, CancellationToken cancellationToken = default) =>
        FitCore(train, validation, null, cancellationToken);

    /// <summary>
    /// Resumes training from a state captured by a trainer with this trainer's options (<see cref="CaptureState"/>,
    /// <see cref="TrainerOptions.CheckpointCallback"/>; <c>Rnn.Simd.Persistence.TrainingCheckpoint</c> reads one from a
    /// file): restores the network's parameters and every piece of training state, then runs the remaining epochs. The
    /// result, and the returned history (which includes the epochs before the state was taken), are bitwise those of an
    /// uninterrupted run. <see cref="TrainerOptions.Epochs"/> may differ from the interrupted run (to extend training)
    /// and so may <see cref="TrainerOptions.MaxThreads"/>; every other option must match.
    /// </summary>
    /// <param name="train">The same training series as before the state was taken.</param>
    /// <param name="validation">The same validation series (or null, as before).</param>
    /// <param name="resumeFrom">The state to continue from (only read; the trainer copies out of it).</param>
    /// <param name="cancellationToken">As in <see cref="Fit(SequenceData{T}, SequenceData{T}?, CancellationToken)"/>.</param>
    /// <exception cref="ArgumentException">The state was taken with other options, another architecture or element type,
    /// or other data, or its parts do not fit together; the message lists what differs.</exception>
    public TrainingResult Fit(SequenceData<T> train, SequenceData<T>? validation, TrainerState resumeFrom, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resumeFrom);
        return FitCore(train, validation, resumeFrom, cancellationToken);
    }

    private TrainingResult FitCore(SequenceData<T> train, SequenceData<T>? validation, TrainerState? resume, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(train);
        CheckShape(train, nameof(train));
        if (validation is not null) CheckShape(validation, nameof(validation));
        int b = _options.BatchSize, tf = _options.Bptt.ForwardSteps;
        int streamLength = train.Steps / b;
        int windowsPerEpoch = streamLength / tf;
        if (windowsPerEpoch < 1)
            throw new ArgumentException($"The training series has {train.Steps} steps: {b} streams of at least τf = {tf} steps need {b * tf}.", nameof(train));
        int inSize = train.InputSize, outSize = train.OutputSize;
        // Losses are means over the targets that count: refuse data in which none does, rather than report 0.
        if (train.TargetWeights is { } tw && SumOfWeights(tw.AsSpan(0, b * streamLength * outSize)) == 0)
            throw new ArgumentException($"Every target weight of the {b * streamLength} training steps used ({b} streams of {streamLength}) is 0: there is nothing to train on.", nameof(train));
        if (validation?.TargetWeights is { } vw && SumOfWeights(vw) == 0)
            throw new ArgumentException("Every target weight of the validation series is 0: there is nothing to validate on.", nameof(validation));
        var loop = _loop = new LoopState { History = new List<EpochProgress>(_options.Epochs) };
        _train = train;
        _validation = validation;
        List<EpochProgress> history = loop.History;
        bool cancelled = false, stoppedEarly = false;
        _holdsIterate = false;
        _net.Parameters.CopyTo(_best);
        // Every Fit starts its schedule from epoch 0: a schedule is stateful, and the same options (with the same
        // schedule object) may serve several trainers one after another.
        _schedule.Reset();
        if (resume is not null)
        {
            // Overwrites parameters, best parameters, optimiser, schedule, dropout generator and the loop state.
            RestoreState(resume);
            stoppedEarly = _options.Patience > 0 && loop.SinceBest >= _options.Patience;
        }
        loop.Clock.Start();

        for (int epoch = loop.CompletedEpochs + 1; epoch <= _options.Epochs && !cancelled && !stoppedEarly; epoch++)
        {
            double rate = _schedule.CurrentRate, dataLossSum = 0, weightSum = 0, penaltySum = 0, gradNorm = 0;
            T lr = T.CreateTruncating(rate);
            ResumeLookAhead();
            _bptt.Reset();
            for (int w = 0; w < windowsPerEpoch; w++)
            {
                if (cancellationToken.IsCancellationRequested) { cancelled = true; break; }
                // Gather window w of every stream: step s of stream r is series step r·L + w·τf + s.
                for (int s = 0; s < tf; s++)
                {
                    for (int r = 0; r < b; r++)
                    {
                        int t = r * streamLength + w * tf + s, row = s * b + r;
                        Array.Copy(train.Inputs, t * inSize, _x, row * inSize, inSize);
                        Array.Copy(train.Targets, t * outSize, _y, row * outSize, outSize);
                        if (train.TargetWeights is not null) Array.Copy(train.TargetWeights, t * outSize, _w, row * outSize, outSize);
                    }
                }
                _net.ZeroGradients();
                double dataLoss = double.CreateTruncating(_bptt.Window(_x, _y, default, train.TargetWeights is null ? default : _w));
                double penalty = _regularization.IsActive ? _regularization.Penalty<T>(_net.Parameters, _net.Path) : 0;
                double loss = dataLoss + penalty;
                double norm = GradientClipping.GlobalNorm<T>(_net.Gradients, _net.Path);
                if (!double.IsFinite(loss) || !double.IsFinite(norm))
                {
                    RestoreBest();
                    throw new TrainingDivergedException(
                        $"Training diverged in epoch {epoch}, window {w + 1}: loss {loss}, gradient norm {norm}. The best weights (epoch {loop.BestEpoch}) were restored; lower the learning rate or clip the gradient norm.",
                        epoch, loop.Windows);
                }
                T scale = double.IsPositiveInfinity(_options.ClipNorm) ? T.One : GradientClipping.ScaleForMaxNorm<T>(norm, _options.ClipNorm);
                _optimizer.Step(_net.Parameters, _net.Gradients, lr, scale);
                _net.MarkParametersChanged();
                // The window's share of the epoch's data loss: its mean times the weight of its targets (a fraction of
                // τf·B·O, exactly 1 without masked targets, so that unweighted epochs average the windows plainly).
                double share = _bptt.TargetWeightSum / ((double)tf * b * outSize);
                dataLossSum += share * dataLoss;
                weightSum += share;
                penaltySum += penalty;
                gradNorm = norm;
                loop.Windows++;
            }
            if (cancelled) break; // a partial epoch is neither validated nor reported; the best weights are restored below
            double trainLoss = (weightSum > 0 ? dataLossSum / weightSum : 0) + penaltySum / windowsPerEpoch;
            // From here to the next epoch's first window the network holds the weights that are evaluated and kept.
            SetAsideLookAhead();
            double validationLoss = validation is null ? double.NaN : Evaluate(train, validation);
            double selectionLoss = validation is null ? trainLoss : validationLoss;
            if (!double.IsFinite(selectionLoss))
            {
                RestoreBest();
                throw new TrainingDivergedException($"Validation loss became {selectionLoss} in epoch {epoch}. The best weights (epoch {loop.BestEpoch}) were restored.", epoch, loop.Windows);
            }
            // The epoch's loss was measured before its last update: make sure that update left finite weights before
            // they can be kept as the best.
            double parameterNorm = GradientClipping.GlobalNorm<T>(_net.Parameters, _net.Path);
            if (!double.IsFinite(parameterNorm))
            {
                RestoreBest();
                throw new TrainingDivergedException($"The parameters became non-finite in epoch {epoch}. The best weights (epoch {loop.BestEpoch}) were restored; lower the learning rate or clip the gradient norm.", epoch, loop.Windows);
            }
            bool isBest = selectionLoss < loop.BestLoss;
            if (isBest)
            {
                loop.BestLoss = selectionLoss;
                loop.BestEpoch = epoch;
                loop.SinceBest = 0;
                _net.Parameters.CopyTo(_best);
            }
            else
            {
                loop.SinceBest++;
            }
            var progress = new EpochProgress(epoch, _options.Epochs, trainLoss, validationLoss, rate, gradNorm, loop.Elapsed, isBest);
            history.Add(progress);
            // The schedule ends the epoch before anyone sees it, so that a checkpoint taken now (automatically or from
            // an EpochCompleted handler) holds a whole epoch boundary: the next epoch resets the BPTT state and draws
            // new dropout masks, so nothing else carries over.
            _schedule.EndEpoch(selectionLoss);
            loop.CompletedEpochs = epoch;
            stoppedEarly = _options.Patience > 0 && loop.SinceBest >= _options.Patience;
            _atBoundary = true;
            try
            {
                if (_options.CheckpointCallback is { } checkpoint && (epoch % _options.CheckpointEvery == 0 || epoch == _options.Epochs || stoppedEarly))
                    checkpoint(CaptureState());
                EpochCompleted?.Invoke(progress);
            }
            finally
            {
                _atBoundary = false;
            }
        }
        loop.Clock.Stop();
        RestoreBest();
        return new TrainingResult(history.Count, loop.BestEpoch, loop.BestLoss, loop.Windows, loop.Elapsed, stoppedEarly, cancelled, history);
    }

    /// <summary>Leaves the best weights in the network (the training iterate set aside, if any, is dropped).</summary>
    private void RestoreBest()
    {
        _holdsIterate = false;
        _best.CopyTo(_net.Parameters);
        _net.MarkParametersChanged();
    }

    /// <summary>
    /// Nesterov at its iterate, at an epoch's end: sets the look-ahead point Θ aside and puts the Eq. 2.5 iterate
    /// W = Θ - μV into the network, to be evaluated and kept. No-op for the other optimisers.
    /// </summary>
    private void SetAsideLookAhead()
    {
        if (_nesterov is null) return;
        _net.Parameters.CopyTo(_lookAhead);
        _nesterov.CopyWeights(_lookAhead, _net.Parameters);
        _net.MarkParametersChanged();
        _holdsIterate = true;
    }

    /// <summary>Before an epoch's first window: puts the look-ahead point Θ set aside back (bitwise), where training continues.</summary>
    private void ResumeLookAhead()
    {
        if (!_holdsIterate) return;
        _lookAhead.CopyTo(_net.Parameters);
        _net.MarkParametersChanged();
        _holdsIterate = false;
    }

    private static double SumOfWeights(ReadOnlySpan<T> weights)
    {
        double sum = 0;
        foreach (T w in weights) sum += double.CreateTruncating(w);
        return sum;
    }

    /// <summary>Checks that the state fits this trainer (element type, architecture, options, data, optimiser, schedule,
    /// dropout), then restores every piece of it: parameters, best parameters, optimiser, schedule, dropout generator
    /// and the loop state.</summary>
    /// <exception cref="ArgumentException">Something differs or the state is inconsistent; the message lists what.</exception>
    private void RestoreState(TrainerState state)
    {
        if (state is not TrainerState<T> typed)
            throw new ArgumentException($"The checkpoint was written by a Trainer<{state.ElementType.Name}>; this trainer is a Trainer<{typeof(T).Name}>.");
        if (!typed.Architecture.Equals(_net.Architecture))
            throw new ArgumentException($"The checkpoint's network is {typed.Architecture}; this trainer's network is {_net.Architecture}.");
        typed.CheckConsistent();
        var differences = new List<string>();
        var then = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in typed.Options) then[kv.Key] = kv.Value;
        TrainerFingerprint.AddImpliedOptions(then, _train!, _validation);
        foreach (var kv in TrainerFingerprint.Describe(_options))
        {
            if (!then.TryGetValue(kv.Key, out string? old)) differences.Add($"{kv.Key} = {kv.Value} (not in the checkpoint)");
            else if (old != kv.Value) differences.Add($"{kv.Key} = {old} in the checkpoint, {kv.Value} now");
            then.Remove(kv.Key);
        }
        foreach (var kv in then) differences.Add($"{kv.Key} = {kv.Value} in the checkpoint, absent now");
        if (differences.Count > 0)
            throw new ArgumentException("The checkpoint was written with different training options, so resuming would not reproduce the run: " + string.Join("; ", differences) + ".");
        byte[] hash = TrainerFingerprint.HashData(_train!, _validation);
        if (!hash.AsSpan().SequenceEqual(typed.DataHash.Span))
            throw new ArgumentException($"The training or validation data differ from those the checkpoint was trained on (SHA-256 {Convert.ToHexString(hash)[..16]}... now, {Convert.ToHexString(typed.DataHash.Span)[..16]}... in the checkpoint).");
        Optimizer<T> opt = _optimizer;
        if (opt.Name != typed.OptimizerName || opt.StateCount != typed.OptimizerStates.Count)
            throw new ArgumentException($"The checkpoint holds the state of {typed.OptimizerName} ({typed.OptimizerStates.Count} buffers); this trainer's optimiser is {opt.Name} ({opt.StateCount}).");
        for (int i = 0; i < opt.StateCount; i++)
            if (opt.StateName(i) != typed.OptimizerStateNames[i])
                throw new ArgumentException($"Optimiser state buffer {i} is '{typed.OptimizerStateNames[i]}' in the checkpoint, '{opt.StateName(i)}' in this optimiser.");
        if (_schedule.GetType().FullName != typed.ScheduleType)
            throw new ArgumentException($"The checkpoint's schedule is {typed.ScheduleType}; this trainer's is {_schedule.GetType().FullName}.");
        if ((typed.DropoutRngState is null) != (_bptt.MaskRng is null))
            throw new ArgumentException("The checkpoint and this trainer disagree on whether dropout is active.");

        // Everything matches: restore. The state's parameters are the training iterate (for Nesterov the look-ahead
        // point Θ), where the next epoch's first window starts.
        _holdsIterate = false;
        typed.Parameters.Span.CopyTo(_net.Parameters);
        _net.MarkParametersChanged();
        typed.BestParameters.Span.CopyTo(_best);
        opt.Reset();
        for (int i = 0; i < opt.StateCount; i++) typed.OptimizerStates[i].Span.CopyTo(opt.State(i));
        opt.StepCount = typed.OptimizerSteps;
        _schedule.RestoreState(typed.ScheduleEpoch, typed.ScheduleRate);
        if (_schedule is StepDecayOnPlateau plateau)
            plateau.RestorePlateau(typed.ScheduleExtra[0], (int)typed.ScheduleExtra[1], (int)typed.ScheduleExtra[2]);
        if (typed.DropoutRngState is { } words) _bptt.MaskRng!.RestoreState([words[0], words[1], words[2], words[3]]);
        LoopState loop = _loop;
        loop.CompletedEpochs = typed.CompletedEpochs;
        loop.BestLoss = typed.BestLoss;
        loop.BestEpoch = typed.BestEpoch;
        loop.SinceBest = typed.EpochsSinceBest;
        loop.Windows = typed.Windows;
        loop.ElapsedBefore = typed.Elapsed;
        loop.History.Clear();
        loop.History.AddRange(typed.History);
        loop.DataHash = hash;
    }

    /// <summary>
    /// Weighted MSE of the network on <paramref name="data"/> when it directly follows <paramref name="history"/>:
    /// a batch-1 state is run over the history first (null: start from zero). Σ w (y - target)² / Σ w over the S·O
    /// targets of <paramref name="data"/> (w = 1 without target weights: the plain MSE), the mean over the targets that
    /// count; 0 when every weight is 0. Evaluates the weights the network holds (after Fit, the best ones).
    /// </summary>
    public double Evaluate(SequenceData<T>? history, SequenceData<T> data) =>
        SequenceLoss.WeightedMse(_net, _evalState, _evalOutput, history, data);

    private void CheckShape(SequenceData<T> data, string name) => SequenceLoss.CheckShape(_net, data, name);
}
