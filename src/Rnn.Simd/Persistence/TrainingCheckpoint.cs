using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Schedules;

namespace Rnn.Simd.Persistence;

/// <summary>
/// A training checkpoint: a <see cref="TrainerState"/> (everything a <see cref="Trainer{T}"/> needs to continue at an
/// epoch boundary and reach bitwise the result of an uninterrupted run) encoded as a file. Same container as a model
/// file, kind "checkpoint" (README-format.md). This class only encodes and decodes: the trainer captures the state
/// and checks a resume against its options, architecture and data.
/// </summary>
/// <remarks>
/// Written by <see cref="ToFile(string)"/> as <see cref="TrainerOptions.CheckpointCallback"/>, by
/// <see cref="TrainerCheckpointExtensions.SaveCheckpoint{T}(Trainer{T}, string)"/> from an
/// <see cref="Trainer{T}.EpochCompleted"/> handler, or by <see cref="Save(string)"/>; consumed by
/// <see cref="TrainerCheckpointExtensions.Fit{T}(Trainer{T}, SequenceData{T}, SequenceData{T}?, string, CancellationToken)"/>
/// or, through <see cref="State"/>, by
/// <see cref="Trainer{T}.Fit(SequenceData{T}, SequenceData{T}?, TrainerState, CancellationToken)"/>. Load one to
/// inspect it or to build the network to resume with (<see cref="CreateNetwork{T}"/>).
/// </remarks>
public sealed class TrainingCheckpoint
{
    /// <summary>Wraps a trainer state for writing.</summary>
    /// <exception cref="ArgumentException">The state's parts do not fit together, or it has more optimiser state buffers than the format holds (3).</exception>
    public TrainingCheckpoint(TrainerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state is not (TrainerState<float> or TrainerState<double>))
            throw new ArgumentException($"A checkpoint holds float or double parameters, not {state.ElementType.Name}.", nameof(state));
        state.CheckConsistent();
        if (state.OptimizerStateNames.Count > MaxOptimizerStates)
            throw new ArgumentException($"The state has {state.OptimizerStateNames.Count} optimiser state buffers; a checkpoint holds at most {MaxOptimizerStates}.", nameof(state));
        State = state;
    }

    /// <summary>At most this many optimiser state buffers (README-format.md, section 17).</summary>
    private const int MaxOptimizerStates = 3;

    /// <summary>The trainer state the checkpoint holds; resume from it with
    /// <see cref="Trainer{T}.Fit(SequenceData{T}, SequenceData{T}?, TrainerState, CancellationToken)"/>.</summary>
    public TrainerState State { get; }

    /// <summary>The network's shapes.</summary>
    public NetworkArchitecture Architecture => State.Architecture;

    /// <summary><c>typeof(float)</c> or <c>typeof(double)</c>: the trainer's element type.</summary>
    public Type ElementType => State.ElementType;

    /// <summary>Epochs completed when the checkpoint was taken; training resumes with the next one.</summary>
    public int CompletedEpochs => State.CompletedEpochs;

    /// <summary>The epoch of the best parameters so far.</summary>
    public int BestEpoch => State.BestEpoch;

    /// <summary>The best selection loss so far (validation loss, or training loss without validation data).</summary>
    public double BestLoss => State.BestLoss;

    /// <summary>Windows (parameter updates) run so far.</summary>
    public long Windows => State.Windows;

    /// <summary>Training time so far.</summary>
    public TimeSpan Elapsed => State.Elapsed;

    /// <summary>One entry per completed epoch.</summary>
    public IReadOnlyList<EpochProgress> History => State.History;

    /// <summary>The trainer options the checkpoint was written with, as name/value text (the fingerprint a resume must match).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Options => State.Options;

    /// <summary>A network with the checkpoint's current parameters (the last epoch's, where training resumes).</summary>
    /// <exception cref="InvalidOperationException">T is not the checkpoint's element type.</exception>
    public RecurrentNetwork<T> CreateNetwork<T>(IsaPath path = IsaPath.Auto) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        Sections.CreateNetwork(Architecture, As<T>().Parameters.ToArray(), path);

    /// <summary>A network with the best parameters so far (what the trainer would leave if training stopped here).</summary>
    /// <exception cref="InvalidOperationException">T is not the checkpoint's element type.</exception>
    public RecurrentNetwork<T> CreateBestNetwork<T>(IsaPath path = IsaPath.Auto) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        Sections.CreateNetwork(Architecture, As<T>().BestParameters.ToArray(), path);

    private TrainerState<T> As<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        State as TrainerState<T> ?? throw new InvalidOperationException($"The checkpoint holds {ElementType.Name} parameters, not {typeof(T).Name}.");

    /// <summary>
    /// A <see cref="TrainerOptions.CheckpointCallback"/> that writes each state it receives to <paramref name="path"/>
    /// as a checkpoint, atomically (temporary file, flush, rename), replacing the previous one.
    /// </summary>
    /// <exception cref="ArgumentException">The path is null or empty.</exception>
    public static Action<TrainerState> ToFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return state => new TrainingCheckpoint(state).Save(path);
    }

    // ------------------------------------------------------------------------------------------------ file

    /// <summary>Writes the checkpoint to a file atomically (temporary file, flush, rename).</summary>
    /// <exception cref="ArgumentException">The path is null or empty.</exception>
    /// <exception cref="IOException">The file cannot be written (the previous file, if any, is left untouched).</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, ToBytes());
    }

    /// <summary>Writes the checkpoint to a stream (from its current position; not closed).</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToBytes());
    }

    internal byte[] ToBytes() => State switch
    {
        TrainerState<float> f => Encode(f),
        TrainerState<double> d => Encode(d),
        _ => throw new InvalidOperationException("Unreachable: the constructor admits float and double states only."),
    };

    private static byte[] Encode<T>(TrainerState<T> s) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var file = new ContainerWriter(FileKind.Checkpoint);
        file.Add(SectionId.Architecture, required: true, Sections.WriteArchitecture(s.Architecture));
        file.Add(SectionId.Parameters, required: true, Values(s.Parameters));
        Sections.AddCellOptions(file, s.Architecture);
        Sections.AddReadoutOptions(file, s.Architecture);
        file.Add(SectionId.BestParameters, required: true, Values(s.BestParameters));

        var opt = new PayloadWriter();
        opt.Str(s.OptimizerName);
        opt.I64(s.OptimizerSteps);
        opt.U32((uint)s.OptimizerStates.Count);
        for (int i = 0; i < s.OptimizerStates.Count; i++)
        {
            opt.Str(s.OptimizerStateNames[i]);
            opt.Values<T>(s.OptimizerStates[i].Span);
        }
        file.Add(SectionId.Optimizer, required: true, opt);

        var sched = new PayloadWriter();
        sched.Str(s.ScheduleType);
        sched.I32(s.ScheduleEpoch);
        sched.F64(s.ScheduleRate);
        sched.U32((uint)s.ScheduleExtra.Count);
        foreach (double v in s.ScheduleExtra) sched.F64(v);
        file.Add(SectionId.Schedule, required: true, sched);

        var rng = new PayloadWriter();
        rng.U8(s.DropoutRngState is null ? (byte)0 : (byte)1);
        if (s.DropoutRngState is not null) foreach (ulong v in s.DropoutRngState) rng.U64(v);
        file.Add(SectionId.DropoutRng, required: true, rng);

        var loop = new PayloadWriter();
        loop.I32(s.CompletedEpochs);
        loop.F64(s.BestLoss);
        loop.I32(s.BestEpoch);
        loop.I32(s.EpochsSinceBest);
        loop.I64(s.Windows);
        loop.I64(s.Elapsed.Ticks);
        loop.U32((uint)s.History.Count);
        foreach (EpochProgress p in s.History)
        {
            loop.I32(p.Epoch);
            loop.I32(p.Epochs);
            loop.F64(p.TrainLoss);
            loop.F64(p.ValidationLoss);
            loop.F64(p.LearningRate);
            loop.F64(p.GradientNorm);
            loop.I64(p.Elapsed.Ticks);
            loop.U8(p.IsBest ? (byte)1 : (byte)0);
        }
        file.Add(SectionId.TrainerLoop, required: true, loop);

        var fp = new PayloadWriter();
        fp.U32((uint)s.Options.Count);
        foreach (var kv in s.Options) { fp.Str(kv.Key); fp.Str(kv.Value); }
        fp.Bytes(s.DataHash.Span);
        file.Add(SectionId.Fingerprint, required: true, fp);
        return file.ToArray();
    }

    private static PayloadWriter Values<T>(ReadOnlyMemory<T> values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var w = new PayloadWriter();
        w.Values<T>(values.Span);
        return w;
    }

    /// <summary>Loads a checkpoint file.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is empty, foreign, truncated, corrupted, of a newer format version, a model file rather than a checkpoint, or inconsistent.</exception>
    public static TrainingCheckpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Parse(Container.ReadAll(stream, requireEnd: true));
    }

    /// <summary>Loads a checkpoint from a stream (exactly the length its header declares, from the current position).</summary>
    /// <inheritdoc cref="Load(string)"/>
    public static TrainingCheckpoint Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Parse(Container.ReadAll(stream, requireEnd: false));
    }

    private static TrainingCheckpoint Parse(byte[] data)
    {
        ContainerReader file = ContainerReader.Parse(data, FileKind.Checkpoint);
        NetworkArchitecture architecture = Sections.ReadArchitecture(file, out long count);
        uint code = 0;
        Array parameters = Sections.ReadParameters(file, SectionId.Parameters, count, ref code);
        Array bestParameters = Sections.ReadParameters(file, SectionId.BestParameters, count, ref code);

        SectionReader r = file.Open(SectionId.Optimizer);
        string optimizerName = r.Str("the optimiser name");
        long optimizerSteps = r.I64();
        if (optimizerSteps < 0) throw r.Fail($"the step count is {optimizerSteps}");
        int states = r.Count("state buffers", 16);
        if (states > MaxOptimizerStates) throw r.Fail($"{states} state buffers, at most {MaxOptimizerStates}");
        var stateNames = new string[states];
        var stateValues = new Array[states];
        for (int i = 0; i < states; i++)
        {
            stateNames[i] = r.Str($"the name of state buffer {i}");
            stateValues[i] = r.Values($"optimiser state '{stateNames[i]}'", ref code, count);
        }
        r.End();

        r = file.Open(SectionId.Schedule);
        string scheduleType = r.Str("the schedule type");
        int scheduleEpoch = r.I32("the schedule epoch", 0, int.MaxValue);
        double scheduleRate = r.Finite("the current learning rate");
        if (!(scheduleRate >= 0)) throw r.Fail($"the current learning rate is {scheduleRate}");
        int extra = r.Count("schedule values", 8);
        var scheduleExtra = new double[extra];
        for (int i = 0; i < extra; i++) scheduleExtra[i] = r.F64();
        if (scheduleType == typeof(StepDecayOnPlateau).FullName)
        {
            if (extra != 3) throw r.Fail($"a plateau schedule needs 3 values, found {extra}");
            if (double.IsNaN(scheduleExtra[0]) || double.IsNegativeInfinity(scheduleExtra[0])) throw r.Fail($"the plateau's best loss is {scheduleExtra[0]}");
            for (int i = 1; i < 3; i++)
                if (!(scheduleExtra[i] >= 0 && scheduleExtra[i] <= int.MaxValue && scheduleExtra[i] == Math.Floor(scheduleExtra[i])))
                    throw r.Fail($"plateau counter {i} is {scheduleExtra[i]}, not a non-negative integer");
        }
        r.End();

        r = file.Open(SectionId.DropoutRng);
        byte present = r.U8();
        if (present > 1) throw r.Fail($"the presence flag is {present}");
        ulong[]? rngState = null;
        if (present == 1)
        {
            rngState = [r.U64(), r.U64(), r.U64(), r.U64()];
            if ((rngState[0] | rngState[1] | rngState[2] | rngState[3]) == 0) throw r.Fail("the generator state is all zero");
        }
        r.End();

        r = file.Open(SectionId.TrainerLoop);
        int completedEpochs = r.I32("the completed epochs", 1, int.MaxValue);
        double bestLoss = r.Finite("the best loss");
        int bestEpoch = r.I32("the best epoch", 1, completedEpochs);
        int sinceBest = r.I32("the epochs since the best", 0, completedEpochs - bestEpoch);
        long windows = r.I64();
        if (windows < 0) throw r.Fail($"the window count is {windows}");
        TimeSpan elapsed = ReadTicks(ref r, "the elapsed time");
        int n = r.Count("history entries", 49);
        if (n != completedEpochs) throw r.Fail($"{n} history entries for {completedEpochs} completed epochs");
        var history = new EpochProgress[n];
        for (int i = 0; i < n; i++)
        {
            int epoch = r.I32($"history entry {i}'s epoch", i + 1, i + 1);
            int epochs = r.I32($"history entry {i}'s epoch budget", 1, int.MaxValue);
            double train = r.Finite($"history entry {i}'s training loss");
            double validation = r.F64();
            if (double.IsInfinity(validation)) throw r.Fail($"history entry {i}'s validation loss is {validation}");
            double rate = r.Finite($"history entry {i}'s learning rate");
            double norm = r.Finite($"history entry {i}'s gradient norm");
            TimeSpan at = ReadTicks(ref r, $"history entry {i}'s time");
            byte best = r.U8();
            if (best > 1) throw r.Fail($"history entry {i}'s best flag is {best}");
            history[i] = new EpochProgress(epoch, epochs, train, validation, rate, norm, at, best == 1);
        }
        r.End();

        r = file.Open(SectionId.Fingerprint);
        int options = r.Count("options", 8);
        var list = new KeyValuePair<string, string>[options];
        for (int i = 0; i < options; i++) list[i] = new(r.Str($"option name {i}"), r.Str($"option value {i}"));
        byte[] dataHash = r.Bytes(32).ToArray();
        r.End();

        try
        {
            return new TrainingCheckpoint(code == 1 ? Typed<float>() : Typed<double>());
        }
        catch (ArgumentException e)
        {
            throw Container.Invalid($"checkpoint: {e.Message}");
        }

        // Every part was checked above, so the state is consistent; the parameter arrays have the file's element type.
        TrainerState<T> Typed<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> => new()
        {
            Architecture = architecture,
            Parameters = (T[])parameters,
            BestParameters = (T[])bestParameters,
            OptimizerName = optimizerName,
            OptimizerSteps = optimizerSteps,
            OptimizerStateNames = stateNames,
            OptimizerStates = Array.ConvertAll(stateValues, v => (ReadOnlyMemory<T>)(T[])v),
            ScheduleType = scheduleType,
            ScheduleEpoch = scheduleEpoch,
            ScheduleRate = scheduleRate,
            ScheduleExtra = scheduleExtra,
            DropoutRngState = rngState,
            CompletedEpochs = completedEpochs,
            BestLoss = bestLoss,
            BestEpoch = bestEpoch,
            EpochsSinceBest = sinceBest,
            Windows = windows,
            Elapsed = elapsed,
            History = history,
            Options = list,
            DataHash = dataHash,
        };
    }

    private static TimeSpan ReadTicks(ref SectionReader r, string what)
    {
        long ticks = r.I64();
        if (ticks < 0) throw r.Fail($"{what} is {ticks} ticks");
        return TimeSpan.FromTicks(ticks);
    }
}
