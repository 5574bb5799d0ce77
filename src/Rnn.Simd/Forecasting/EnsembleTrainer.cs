using System.Numerics;
using Rnn.Simd.Network;
using Rnn.Simd.Training;

namespace Rnn.Simd.Forecasting;

/// <summary>
/// Trains a seed ensemble: M networks of one architecture on the same data with the same options, member k from seed
/// S + k (its initial weights and, through the options, its dropout masks), one after another on the calling thread.
/// Their averaged forecasts (<see cref="Forecaster"/>, <see cref="EnsembleAverage"/>) reduce the variance part of the
/// error that comes from where each seed's training lands.
/// </summary>
/// <remarks>
/// <para>Member k is built, in this order, as a run of one network would be: <c>new RecurrentNetwork&lt;T&gt;(architecture, S + k)</c>,
/// then <see cref="Initialize"/> (if set) with S + k, then <c>new Trainer&lt;T&gt;(network, createOptions(k, S + k))</c> (or the
/// trainer the other constructor's factory builds), then
/// <see cref="FitMember"/> (by default <see cref="EnsembleMember{T}.Fit"/>). So member k's network and result are
/// bitwise those of a single run from seed S + k, and an ensemble of one is that single run.</para>
/// <para>Cancellation stops the run once the member being trained returns cancelled (the trainer checks the token
/// between windows and returns normally). The members trained so far form the ensemble; a member cancelled before its
/// first epoch ended (best epoch 0: its initial weights) is left out unless it is the only one.</para>
/// </remarks>
/// <example>
/// <code>
/// ForecastPreset preset = ForecastPresets.AceaHourly;
/// var ensemble = new EnsembleTrainer&lt;float&gt;(preset.CreateArchitecture(), (k, seed) => preset.CreateTrainerOptions(seed)) { Members = 5, Seed = 1 };
/// EnsembleResult&lt;float&gt; r = ensemble.Fit(data.Train.ToSequenceData(), data.Validation!.ToSequenceData());
/// var forecaster = new Forecaster(r.Members, data.Scaler, data.Options);
/// </code>
/// </example>
/// <typeparam name="T">float or double.</typeparam>
public sealed class EnsembleTrainer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly Func<RecurrentNetwork<T>, int, ulong, INetworkTrainer<T>> _createTrainer;

    /// <summary>Describes an ensemble trained by truncated BPTT (<see cref="Trainer{T}"/>).</summary>
    /// <param name="architecture">The shapes of every member (its input and output sizes must fit the data).</param>
    /// <param name="createOptions">Fresh trainer options for member k (0-based) and its seed S + k; called once per
    /// member, so stateful parts (a learning-rate schedule, a checkpoint file per member) may differ per member.</param>
    public EnsembleTrainer(NetworkArchitecture architecture, Func<int, ulong, TrainerOptions> createOptions)
    {
        ArgumentNullException.ThrowIfNull(createOptions);
        Architecture = architecture ?? throw new ArgumentNullException(nameof(architecture));
        _createTrainer = (network, k, seed) => new Trainer<T>(network, createOptions(k, seed));
    }

    /// <summary>
    /// Describes an ensemble trained by any <see cref="INetworkTrainer{T}"/> (BPTT, RTRL, an extended Kalman filter,
    /// CMA-ES, Evolino, an echo state network's readout, ...).
    /// </summary>
    /// <param name="architecture">The shapes of every member (its input and output sizes must fit the data).</param>
    /// <param name="createTrainer">A fresh trainer of member k's network (initialised from seed S + k), given k (0-based)
    /// and S + k; called once per member.</param>
    public EnsembleTrainer(NetworkArchitecture architecture, Func<RecurrentNetwork<T>, int, ulong, INetworkTrainer<T>> createTrainer)
    {
        Architecture = architecture ?? throw new ArgumentNullException(nameof(architecture));
        _createTrainer = createTrainer ?? throw new ArgumentNullException(nameof(createTrainer));
    }

    /// <summary>The shapes of every member.</summary>
    public NetworkArchitecture Architecture { get; }

    /// <summary>M ≥ 1, the members to train (default 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Members
    {
        get => _members;
        init => _members = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "An ensemble has at least one member.");
    }

    private readonly int _members = 1;

    /// <summary>S, the seed of member 0; member k uses S + k (wrapping past <see cref="ulong.MaxValue"/>). Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// Re-initialises a freshly built member with its seed (for example <c>Initializers.Initialize</c> with Glorot
    /// weights), before its trainer is built; null keeps the network constructor's initialisation.
    /// </summary>
    public Action<RecurrentNetwork<T>, ulong>? Initialize { get; init; }

    /// <summary>
    /// Trains one member and returns its result; null calls <see cref="EnsembleMember{T}.Fit"/>. A caller supplies it to
    /// report progress (subscribe to <see cref="EnsembleMember{T}.Trainer"/>'s <c>EpochCompleted</c> around the call) or
    /// to resume a member from a checkpoint instead of fitting it afresh. It must leave the member's network with the
    /// weights the ensemble should keep (the trainer's best weights, as Fit does).
    /// </summary>
    public Func<EnsembleMember<T>, TrainingResult>? FitMember { get; init; }

    /// <summary>Trains the members one after another (see the remarks for the order and for cancellation).</summary>
    /// <param name="train">The training series of every member.</param>
    /// <param name="validation">The validation series (early stopping and the best weights), or null.</param>
    /// <param name="cancellationToken">Passed to every member's training; a member that returns cancelled ends the run.</param>
    /// <returns>The trained members, member 0 first, with their results.</returns>
    /// <exception cref="ArgumentException">The data does not fit the architecture (from the trainer).</exception>
    /// <exception cref="TrainingDivergedException">A member's training diverged (no further member is trained).</exception>
    public EnsembleResult<T> Fit(SequenceData<T> train, SequenceData<T>? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        var members = new List<RecurrentNetwork<T>>(Members);
        var results = new List<TrainingResult>(Members);
        bool dropped = false;
        for (int k = 0; k < Members; k++)
        {
            ulong seed = unchecked(Seed + (ulong)k);
            var network = new RecurrentNetwork<T>(Architecture, seed);
            Initialize?.Invoke(network, seed);
            INetworkTrainer<T> trainer = _createTrainer(network, k, seed);
            if (!ReferenceEquals(trainer.Network, network))
                throw new InvalidOperationException($"The trainer of member {k} trains another network than the one it was given.");
            var member = new EnsembleMember<T>(k, Members, seed, network, trainer, train, validation, cancellationToken);
            TrainingResult result = FitMember is { } fit ? fit(member) : member.Fit();
            if (result.Cancelled && result.BestEpoch == 0 && members.Count > 0)
            {
                dropped = true;
                break;
            }
            members.Add(network);
            results.Add(result);
            if (result.Cancelled) break;
        }
        return new EnsembleResult<T>(members, results, dropped);
    }
}

/// <summary>One member of a seed ensemble about to be trained, as <see cref="EnsembleTrainer{T}.FitMember"/> receives it.</summary>
/// <typeparam name="T">float or double.</typeparam>
public sealed class EnsembleMember<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    internal EnsembleMember(int index, int count, ulong seed, RecurrentNetwork<T> network, INetworkTrainer<T> trainer,
        SequenceData<T> train, SequenceData<T>? validation, CancellationToken cancellationToken)
    {
        Index = index;
        Count = count;
        Seed = seed;
        Network = network;
        Trainer = trainer;
        Train = train;
        Validation = validation;
        CancellationToken = cancellationToken;
    }

    /// <summary>k, 0-based.</summary>
    public int Index { get; }

    /// <summary>M, the members the ensemble asks for.</summary>
    public int Count { get; }

    /// <summary>S + k, the seed of its weights (and of its trainer options).</summary>
    public ulong Seed { get; }

    /// <summary>The member's network, initialised and not yet trained.</summary>
    public RecurrentNetwork<T> Network { get; }

    /// <summary>The member's trainer (built on <see cref="Network"/> with the member's options; a
    /// <see cref="Trainer{T}"/> for an ensemble trained by BPTT).</summary>
    public INetworkTrainer<T> Trainer { get; }

    /// <summary>The training series.</summary>
    public SequenceData<T> Train { get; }

    /// <summary>The validation series, or null.</summary>
    public SequenceData<T>? Validation { get; }

    /// <summary>The ensemble's cancellation token.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The default training of a member: <c>Trainer.Fit(Train, Validation, CancellationToken)</c>.</summary>
    public TrainingResult Fit() => Trainer.Fit(Train, Validation, CancellationToken);
}

/// <summary>The trained members of a seed ensemble and their results (<see cref="EnsembleTrainer{T}.Fit"/>).</summary>
/// <typeparam name="T">float or double.</typeparam>
public sealed class EnsembleResult<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    internal EnsembleResult(IReadOnlyList<RecurrentNetwork<T>> members, IReadOnlyList<TrainingResult> results, bool droppedCancelledMember)
    {
        Members = members;
        MemberResults = results;
        Combined = Combine(results, droppedCancelledMember);
    }

    /// <summary>The trained networks, member k from seed S + k, each holding its best weights (at least one).</summary>
    public IReadOnlyList<RecurrentNetwork<T>> Members { get; }

    /// <summary>Each member's epochs, timings, history and flags, in member order.</summary>
    public IReadOnlyList<TrainingResult> MemberResults { get; }

    /// <summary>
    /// The run as one result: epochs, windows and time summed over the members kept (trained one after another),
    /// member 0's best epoch, loss and history, stopped early when every member was, cancelled when one was (a member
    /// left out because it was cancelled before its first epoch ended counts). For one member that was not cut short
    /// by a later one, its result itself.
    /// </summary>
    public TrainingResult Combined { get; }

    /// <summary>True when cancellation stopped the run (fewer members than asked, or the last one cut short).</summary>
    public bool Cancelled => Combined.Cancelled;

    private static TrainingResult Combine(IReadOnlyList<TrainingResult> results, bool droppedCancelledMember)
    {
        if (results.Count == 1) return droppedCancelledMember ? results[0] with { Cancelled = true } : results[0];
        int epochs = 0;
        long windows = 0;
        TimeSpan elapsed = TimeSpan.Zero;
        bool allStopped = true, anyCancelled = false;
        foreach (TrainingResult r in results)
        {
            epochs += r.EpochsRun;
            windows += r.Windows;
            elapsed += r.Elapsed;
            allStopped &= r.StoppedEarly;
            anyCancelled |= r.Cancelled;
        }
        anyCancelled |= droppedCancelledMember;
        TrainingResult first = results[0];
        return new TrainingResult(epochs, first.BestEpoch, first.BestLoss, windows, elapsed, allStopped, anyCancelled, first.History);
    }
}
