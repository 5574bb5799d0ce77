using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Rnn.Simd.Network;
using Rnn.Simd.Training.Schedules;

namespace Rnn.Simd.Training;

/// <summary>
/// Everything a <see cref="Trainer{T}"/> needs to continue at an epoch boundary and reach bitwise the result of an
/// uninterrupted run: the current and best parameters, every optimiser moment buffer and its step counter, the
/// learning-rate schedule's state, the dropout generator's state, the epoch loop and its history, plus a fingerprint
/// of the options and the data so that a resume under different conditions is refused.
/// </summary>
/// <remarks>
/// <para>
/// Taken by <see cref="Trainer{T}.CaptureState"/> (from an <see cref="Trainer{T}.EpochCompleted"/> handler or the
/// <see cref="TrainerOptions.CheckpointCallback"/>), consumed by
/// <see cref="Trainer{T}.Fit(SequenceData{T}, SequenceData{T}?, TrainerState, CancellationToken)"/>. The training
/// layer knows no file: the persistence layer encodes and decodes this record (<c>TrainingCheckpoint</c>).
/// </para>
/// <para>
/// A plain record: it holds what it is given without copying (<see cref="Trainer{T}.CaptureState"/> gives it fresh
/// copies; a resume copies out of it), and its parts are checked against each other and against the trainer only
/// when a trainer resumes from it.
/// </para>
/// </remarks>
public abstract class TrainerState
{
    private protected TrainerState() { }

    /// <summary><c>typeof(float)</c> or <c>typeof(double)</c>: the element type of the trainer that captured it.</summary>
    public abstract Type ElementType { get; }

    /// <summary>The number of parameters (the length of every parameter-layout buffer of the record).</summary>
    public abstract int ParameterCount { get; }

    /// <summary>The network's shapes.</summary>
    public required NetworkArchitecture Architecture { get; init; }

    // ------------------------------------------------------------------------------------------------ epoch loop

    /// <summary>Epochs completed when the state was taken; training resumes with the next one.</summary>
    public required int CompletedEpochs { get; init; }

    /// <summary>The epoch of the best parameters so far (1 ≤ BestEpoch ≤ <see cref="CompletedEpochs"/>).</summary>
    public required int BestEpoch { get; init; }

    /// <summary>The best selection loss so far (validation loss, or training loss without validation data).</summary>
    public required double BestLoss { get; init; }

    /// <summary>Epochs since <see cref="BestEpoch"/> (what early stopping compares with the patience).</summary>
    public required int EpochsSinceBest { get; init; }

    /// <summary>Windows (parameter updates) run so far.</summary>
    public required long Windows { get; init; }

    /// <summary>Training time so far.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>One entry per completed epoch, epoch 1 first.</summary>
    public required IReadOnlyList<EpochProgress> History { get; init; }

    // ------------------------------------------------------------------------------------------------ optimiser

    /// <summary>The optimiser's <see cref="Optimizers.Optimizer{T}.Name"/>, e.g. "Adam".</summary>
    public required string OptimizerName { get; init; }

    /// <summary>The optimiser's <see cref="Optimizers.Optimizer{T}.StepCount"/> (k of the bias corrections).</summary>
    public required long OptimizerSteps { get; init; }

    /// <summary>The name of each optimiser state buffer (<see cref="Optimizers.Optimizer{T}.StateName"/>), in buffer order.</summary>
    public required IReadOnlyList<string> OptimizerStateNames { get; init; }

    // ------------------------------------------------------------------------------------------------ schedule

    /// <summary>The .NET full name of the learning-rate schedule's type (one of the built-in schedules of Rnn.Simd.Training.Schedules).</summary>
    public required string ScheduleType { get; init; }

    /// <summary>The schedule's <see cref="LearningRateSchedule.Epoch"/>.</summary>
    public required int ScheduleEpoch { get; init; }

    /// <summary>The schedule's <see cref="LearningRateSchedule.CurrentRate"/>: the rate of the next epoch.</summary>
    public required double ScheduleRate { get; init; }

    /// <summary>The schedule's own state: for <see cref="StepDecayOnPlateau"/> its best loss, epochs without decrease
    /// and reductions (3 values); empty for the other built-in schedules.</summary>
    public required IReadOnlyList<double> ScheduleExtra { get; init; }

    // ------------------------------------------------------------------------------------------------ dropout

    /// <summary>The four words of the dropout-mask generator's xoshiro256** state; null when dropout is off.</summary>
    public required IReadOnlyList<ulong>? DropoutRngState { get; init; }

    // ------------------------------------------------------------------------------------------------ fingerprint

    /// <summary>
    /// The trainer options that shape the trajectory, as name/value text (doubles round-trip exactly): the
    /// fingerprint a resume must match. Left out: <see cref="TrainerOptions.Epochs"/> (a resume may extend or shorten
    /// the budget), <see cref="TrainerOptions.MaxThreads"/> (results are bitwise the same for any thread count) and
    /// the checkpoint settings themselves.
    /// </summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Options { get; init; }

    /// <summary>SHA-256 (32 bytes) of the training and validation data: shapes, then the bits of every input, target and weight.</summary>
    public required ReadOnlyMemory<byte> DataHash { get; init; }

    /// <summary>
    /// Checks the parts of the record against each other (lengths, counts, ranges); what only a trainer can check
    /// (options, data, optimiser, schedule) is checked when it resumes.
    /// </summary>
    /// <exception cref="ArgumentException">A part is missing or does not fit the others; the message names it.</exception>
    internal void CheckConsistent()
    {
        static ArgumentException Bad(string what) => new($"The trainer state is inconsistent: {what}.");
        if (Architecture is null || History is null || OptimizerName is null || OptimizerStateNames is null || ScheduleType is null || ScheduleExtra is null || Options is null)
            throw Bad("a part is null");
        int count = new ParameterLayout(Architecture).TotalLength;
        if (ParameterCount != count) throw Bad($"{ParameterCount} parameters for an architecture of {count}");
        CheckBuffers(count, Bad);
        if (CompletedEpochs < 1) throw Bad($"{CompletedEpochs} completed epochs (a state is taken at the end of an epoch)");
        if (BestEpoch < 1 || BestEpoch > CompletedEpochs) throw Bad($"the best epoch {BestEpoch} is not in 1..{CompletedEpochs}");
        if (EpochsSinceBest < 0 || EpochsSinceBest > CompletedEpochs - BestEpoch)
            throw Bad($"{EpochsSinceBest} epochs since the best epoch {BestEpoch} of {CompletedEpochs}");
        if (!double.IsFinite(BestLoss)) throw Bad($"the best loss is {BestLoss}");
        if (Windows < 0 || Elapsed < TimeSpan.Zero || OptimizerSteps < 0 || ScheduleEpoch < 0) throw Bad("a counter or the elapsed time is negative");
        if (History.Count != CompletedEpochs) throw Bad($"{History.Count} history entries for {CompletedEpochs} completed epochs");
        for (int i = 0; i < History.Count; i++)
            if (History[i].Epoch != i + 1) throw Bad($"history entry {i} is epoch {History[i].Epoch}, not {i + 1}");
        if (!(ScheduleRate >= 0) || !double.IsFinite(ScheduleRate)) throw Bad($"the schedule's rate is {ScheduleRate}");
        if (ScheduleType == typeof(StepDecayOnPlateau).FullName)
        {
            if (ScheduleExtra.Count != 3) throw Bad($"a plateau schedule needs 3 values, found {ScheduleExtra.Count}");
            if (double.IsNaN(ScheduleExtra[0]) || double.IsNegativeInfinity(ScheduleExtra[0])) throw Bad($"the plateau's best loss is {ScheduleExtra[0]}");
            for (int i = 1; i < 3; i++)
                if (!(ScheduleExtra[i] >= 0 && ScheduleExtra[i] <= int.MaxValue && ScheduleExtra[i] == Math.Floor(ScheduleExtra[i])))
                    throw Bad($"plateau counter {i} is {ScheduleExtra[i]}, not a non-negative integer");
        }
        if (DropoutRngState is not null && (DropoutRngState.Count != 4 || (DropoutRngState[0] | DropoutRngState[1] | DropoutRngState[2] | DropoutRngState[3]) == 0))
            throw Bad("the dropout generator's state is not 4 words, not all zero");
        if (DataHash.Length != 32) throw Bad($"the data hash has {DataHash.Length} bytes, not 32");
        for (int i = 0; i < Options.Count; i++)
            if (Options[i].Key is null || Options[i].Value is null) throw Bad($"option {i} has a null name or value");
    }

    /// <summary>Checks the parameter-layout buffers of the typed record.</summary>
    private protected abstract void CheckBuffers(int parameterCount, Func<string, ArgumentException> bad);
}

/// <summary>The state of a <see cref="Trainer{T}"/> (see <see cref="TrainerState"/>) with its buffers in the element type.</summary>
/// <typeparam name="T">float or double, as the trainer.</typeparam>
public sealed class TrainerState<T> : TrainerState where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public override Type ElementType => typeof(T);

    /// <inheritdoc/>
    public override int ParameterCount => Parameters.Length;

    /// <summary>
    /// The current parameters (the last epoch's, where training resumes), in the network's flat parameter layout: the
    /// iterate the optimiser steps from, so for <see cref="Optimizers.Nesterov{T}"/> the look-ahead point
    /// Θ = W + μV (with the velocity V in <see cref="OptimizerStates"/>), whatever
    /// <see cref="TrainerOptions.NesterovEvaluation"/> says.
    /// </summary>
    public required ReadOnlyMemory<T> Parameters { get; init; }

    /// <summary>The best parameters so far (what the trainer leaves in the network if training stops here), same layout:
    /// the weights that were evaluated, for Nesterov those of <see cref="TrainerOptions.NesterovEvaluation"/>.</summary>
    public required ReadOnlyMemory<T> BestParameters { get; init; }

    /// <summary>The optimiser's state buffers (<see cref="Optimizers.Optimizer{T}.State"/>: moments, velocities,
    /// accumulators, gains), one per <see cref="TrainerState.OptimizerStateNames"/> entry, each in the parameter layout.</summary>
    public required IReadOnlyList<ReadOnlyMemory<T>> OptimizerStates { get; init; }

    private protected override void CheckBuffers(int parameterCount, Func<string, ArgumentException> bad)
    {
        if (BestParameters.Length != parameterCount) throw bad($"{BestParameters.Length} best parameters for {parameterCount} parameters");
        if (OptimizerStates is null) throw bad("the optimiser states are null");
        if (OptimizerStates.Count != OptimizerStateNames.Count) throw bad($"{OptimizerStates.Count} optimiser state buffers for {OptimizerStateNames.Count} names");
        for (int i = 0; i < OptimizerStates.Count; i++)
            if (OptimizerStates[i].Length != parameterCount) throw bad($"optimiser state '{OptimizerStateNames[i]}' has {OptimizerStates[i].Length} elements for {parameterCount} parameters");
    }
}

/// <summary>The fingerprint of a training run that a <see cref="TrainerState"/> carries: the options as text and a hash of the data.</summary>
internal static class TrainerFingerprint
{
    /// <summary>The options that shape the trajectory, as text (doubles round-trip exactly with "R"); see <see cref="TrainerState.Options"/>.</summary>
    public static KeyValuePair<string, string>[] Describe(TrainerOptions o)
    {
        static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        KeyValuePair<string, string>[] all =
        [
            new("BatchSize", I(o.BatchSize)),
            new("Bptt", $"{I(o.Bptt.BackwardSteps)},{I(o.Bptt.ForwardSteps)}"),
            new("Optimizer", o.Optimizer.ToString()),
            new("LearningRate", D(o.LearningRate)),
            new("Schedule", DescribeSchedule(o.Schedule)),
            new("Regularization", $"L1={D(o.Regularization.L1)},L2={D(o.Regularization.L2)},ApplyToBiases={o.Regularization.ApplyToBiases}"),
            new("Dropout", $"Input={D(o.Dropout.Input)},Recurrent={D(o.Dropout.Recurrent)},Output={D(o.Dropout.Output)},Variant={o.Dropout.Variant},Seed={o.Dropout.Seed}"),
            new("ClipNorm", D(o.ClipNorm)),
            new("ClipValue", D(o.ClipValue)),
            new("Patience", I(o.Patience)),
            // How target weights enter the losses (each window's, the epoch's and the validation loss): a weighted
            // mean over the targets that count. Checkpoints from before lack it (they divided by every target).
            new(LossKey, WeightedMean),
            // Only for Nesterov, so that the checkpoints of the other optimisers keep their fingerprint.
            new(NesterovKey, o.NesterovEvaluation.ToString()),
        ];
        return o.Optimizer == Optimizers.OptimizerKind.Nesterov ? all : all[..^1];
    }

    private const string LossKey = "Loss", WeightedMean = "WeightedMean", NesterovKey = "NesterovEvaluation";

    /// <summary>
    /// Fills in what a checkpoint written before an option existed implies about it, so that it resumes wherever
    /// that run and this one agree: without <c>Loss</c>, the losses divided by every target, which is the weighted
    /// mean when the data has no target weights (otherwise the key stays missing and the resume is refused, since its
    /// recorded losses are on another scale); a Nesterov checkpoint without <c>NesterovEvaluation</c> evaluated the
    /// look-ahead point.
    /// </summary>
    public static void AddImpliedOptions<T>(Dictionary<string, string> then, SequenceData<T> train, SequenceData<T>? validation)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (!then.ContainsKey(LossKey) && train.TargetWeights is null && validation?.TargetWeights is null) then[LossKey] = WeightedMean;
        if (!then.ContainsKey(NesterovKey) && then.TryGetValue("Optimizer", out string? optimizer) && optimizer == nameof(Optimizers.OptimizerKind.Nesterov))
            then[NesterovKey] = nameof(NesterovEvaluationPoint.LookAhead);
    }

    private static string DescribeSchedule(LearningRateSchedule? s)
    {
        static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        return s switch
        {
            null => "none",
            ConstantSchedule c => $"Constant({D(c.InitialRate)})",
            ExponentialDecaySchedule e => $"Exponential({D(e.InitialRate)},alpha={D(e.Alpha)})",
            FractionalDecaySchedule f => $"Fractional({D(f.InitialRate)},alpha={D(f.Alpha)})",
            FixedStepDecaySchedule f => $"FixedStep({D(f.InitialRate)},factor={D(f.Factor)},interval={f.Interval})",
            StepDecayOnPlateau p => $"Plateau({D(p.InitialRate)},factor={D(p.Factor)},patience={p.Patience},minDecrease={D(p.MinDecrease)},minRate={D(p.MinRate)})",
            _ => $"{s.GetType().FullName}({D(s.InitialRate)})",
        };
    }

    /// <summary>SHA-256 of the training and validation data (shapes, then the bits of every input, target and weight).</summary>
    public static byte[] HashData<T>(SequenceData<T> train, SequenceData<T>? validation) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // The bits are hashed in memory order: .NET runs little-endian on every supported platform, and the hash is
        // only ever compared with one computed by this library on the same kind of machine.
        foreach (SequenceData<T>? d in new[] { train, validation })
        {
            Span<long> shape = [d?.Steps ?? -1, d?.InputSize ?? -1, d?.OutputSize ?? -1, d?.TargetWeights is null ? 0 : 1];
            hash.AppendData(MemoryMarshal.AsBytes(shape));
            if (d is null) continue;
            hash.AppendData(MemoryMarshal.AsBytes(d.Inputs.AsSpan()));
            hash.AppendData(MemoryMarshal.AsBytes(d.Targets.AsSpan()));
            if (d.TargetWeights is not null) hash.AppendData(MemoryMarshal.AsBytes(d.TargetWeights.AsSpan()));
        }
        return hash.GetHashAndReset();
    }
}
