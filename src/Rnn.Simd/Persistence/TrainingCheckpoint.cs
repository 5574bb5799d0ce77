using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Schedules;

namespace Rnn.Simd.Persistence;

/// <summary>
/// A training checkpoint: everything a <see cref="Trainer{T}"/> needs to continue at an epoch boundary and reach
/// bitwise the result of an uninterrupted run (current and best parameters, every optimiser moment buffer and its
/// step counter, the learning-rate schedule's state, the dropout generator's state, the epoch loop and its history),
/// with a fingerprint of the options, the architecture and the data so that a resume under different conditions is
/// refused. Same container as a model file, kind "checkpoint" (README-format.md).
/// </summary>
/// <remarks>
/// Written by <see cref="Trainer{T}.SaveCheckpoint(string)"/> or <see cref="TrainerOptions.CheckpointPath"/>; consumed by
/// <see cref="Trainer{T}.Fit(SequenceData{T}, SequenceData{T}?, TrainingCheckpoint, CancellationToken)"/>. Load one to
/// inspect it or to build the network to resume with (<see cref="CreateNetwork{T}"/>).
/// </remarks>
public sealed class TrainingCheckpoint
{
    private TrainingCheckpoint(NetworkArchitecture architecture, uint elementCode)
    {
        Architecture = architecture;
        ElementCode = elementCode;
    }

    /// <summary>The network's shapes.</summary>
    public NetworkArchitecture Architecture { get; }

    /// <summary><c>typeof(float)</c> or <c>typeof(double)</c>: the trainer's element type.</summary>
    public Type ElementType => Sections.ElementType(ElementCode);

    /// <summary>Epochs completed when the checkpoint was taken; training resumes with the next one.</summary>
    public int CompletedEpochs { get; private set; }

    /// <summary>The epoch of the best parameters so far (0 if none yet).</summary>
    public int BestEpoch { get; private set; }

    /// <summary>The best selection loss so far (validation loss, or training loss without validation data).</summary>
    public double BestLoss { get; private set; }

    /// <summary>Windows (parameter updates) run so far.</summary>
    public long Windows { get; private set; }

    /// <summary>Training time so far.</summary>
    public TimeSpan Elapsed { get; private set; }

    /// <summary>One entry per completed epoch.</summary>
    public IReadOnlyList<EpochProgress> History { get; private set; } = [];

    /// <summary>The trainer options the checkpoint was written with, as name/value text (the fingerprint a resume must match).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Options { get; private set; } = [];

    internal uint ElementCode { get; }
    internal Array Parameters = Array.Empty<float>(), BestParameters = Array.Empty<float>();
    internal int SinceBest;
    internal string OptimizerName = "";
    internal long OptimizerSteps;
    internal string[] StateNames = [];
    internal Array[] States = [];
    internal string ScheduleType = "";
    internal int ScheduleEpoch;
    internal double ScheduleRate;
    internal double[] ScheduleExtra = [];
    internal ulong[]? RngState;
    internal byte[] DataHash = [];

    /// <summary>A network with the checkpoint's current parameters (the last epoch's, where training resumes).</summary>
    /// <exception cref="InvalidOperationException">T is not the checkpoint's element type.</exception>
    public RecurrentNetwork<T> CreateNetwork<T>(IsaPath path = IsaPath.Auto) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        Sections.CreateNetwork(Architecture, As<T>(Parameters), path);

    /// <summary>A network with the best parameters so far (what the trainer would leave if training stopped here).</summary>
    /// <exception cref="InvalidOperationException">T is not the checkpoint's element type.</exception>
    public RecurrentNetwork<T> CreateBestNetwork<T>(IsaPath path = IsaPath.Auto) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        Sections.CreateNetwork(Architecture, As<T>(BestParameters), path);

    private T[] As<T>(Array values) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        values as T[] ?? throw new InvalidOperationException($"The checkpoint holds {ElementType.Name} parameters, not {typeof(T).Name}.");

    // ------------------------------------------------------------------------------------------------ capture / restore

    /// <summary>Copies the trainer's state at an epoch boundary.</summary>
    internal static TrainingCheckpoint Capture<T>(Trainer<T> trainer) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        LearningRateSchedule schedule = trainer.Schedule;
        if (schedule.GetType().Assembly != typeof(LearningRateSchedule).Assembly)
            throw new NotSupportedException($"A checkpoint cannot capture the state of the user-defined schedule {schedule.GetType().FullName}; use a built-in schedule.");
        Trainer<T>.LoopState loop = trainer.Loop;
        Optimizer<T> opt = trainer.Optimizer;
        var cp = new TrainingCheckpoint(trainer.Network.Architecture, PayloadWriter.ElementCode<T>())
        {
            CompletedEpochs = loop.CompletedEpochs,
            BestEpoch = loop.BestEpoch,
            BestLoss = loop.BestLoss,
            Windows = loop.Windows,
            Elapsed = loop.Elapsed,
            History = loop.History.ToArray(),
            Options = Describe(trainer.Options),
            Parameters = trainer.Network.Parameters.ToArray(),
            BestParameters = (T[])trainer.BestParameters.Clone(),
            SinceBest = loop.SinceBest,
            OptimizerName = opt.Name,
            OptimizerSteps = opt.StepCount,
            ScheduleType = schedule.GetType().FullName!,
            ScheduleEpoch = schedule.Epoch,
            ScheduleRate = schedule.CurrentRate,
            ScheduleExtra = schedule is StepDecayOnPlateau p ? [p.BestLoss, p.EpochsWithoutDecrease, p.Reductions] : [],
            DataHash = loop.DataHash ??= HashData(trainer.TrainData!, trainer.ValidationData),
        };
        cp.StateNames = new string[opt.StateCount];
        cp.States = new Array[opt.StateCount];
        for (int i = 0; i < opt.StateCount; i++)
        {
            cp.StateNames[i] = opt.StateName(i);
            cp.States[i] = opt.State(i).ToArray();
        }
        if (trainer.Bptt.MaskRng is { } rng)
        {
            cp.RngState = new ulong[4];
            rng.CopyStateTo(cp.RngState);
        }
        return cp;
    }

    /// <summary>Checks that the trainer matches the checkpoint (options, architecture, element type, data), then restores every piece of state.</summary>
    /// <exception cref="ArgumentException">Something differs; the message lists what.</exception>
    internal void RestoreInto<T>(Trainer<T> trainer) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (ElementCode != PayloadWriter.ElementCode<T>())
            throw new ArgumentException($"The checkpoint was written by a Trainer<{ElementType.Name}>; this trainer is a Trainer<{typeof(T).Name}>.");
        if (!Architecture.Equals(trainer.Network.Architecture))
            throw new ArgumentException($"The checkpoint's network is {Architecture}; this trainer's network is {trainer.Network.Architecture}.");
        var now = Describe(trainer.Options);
        var differences = new List<string>();
        var then = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in Options) then[kv.Key] = kv.Value;
        foreach (var kv in now)
        {
            if (!then.TryGetValue(kv.Key, out string? old)) differences.Add($"{kv.Key} = {kv.Value} (not in the checkpoint)");
            else if (old != kv.Value) differences.Add($"{kv.Key} = {old} in the checkpoint, {kv.Value} now");
            then.Remove(kv.Key);
        }
        foreach (var kv in then) differences.Add($"{kv.Key} = {kv.Value} in the checkpoint, absent now");
        if (differences.Count > 0)
            throw new ArgumentException("The checkpoint was written with different training options, so resuming would not reproduce the run: " + string.Join("; ", differences) + ".");
        byte[] hash = HashData(trainer.TrainData!, trainer.ValidationData);
        if (!hash.AsSpan().SequenceEqual(DataHash))
            throw new ArgumentException($"The training or validation data differ from those the checkpoint was trained on (SHA-256 {Convert.ToHexString(hash)[..16]}... now, {Convert.ToHexString(DataHash)[..16]}... in the checkpoint).");
        Optimizer<T> opt = trainer.Optimizer;
        if (opt.Name != OptimizerName || opt.StateCount != States.Length)
            throw new ArgumentException($"The checkpoint holds the state of {OptimizerName} ({States.Length} buffers); this trainer's optimiser is {opt.Name} ({opt.StateCount}).");
        for (int i = 0; i < States.Length; i++)
            if (opt.StateName(i) != StateNames[i])
                throw new ArgumentException($"Optimiser state buffer {i} is '{StateNames[i]}' in the checkpoint, '{opt.StateName(i)}' in this optimiser.");
        LearningRateSchedule schedule = trainer.Schedule;
        if (schedule.GetType().FullName != ScheduleType)
            throw new ArgumentException($"The checkpoint's schedule is {ScheduleType}; this trainer's is {schedule.GetType().FullName}.");
        if ((RngState is null) != (trainer.Bptt.MaskRng is null))
            throw new ArgumentException("The checkpoint and this trainer disagree on whether dropout is active.");

        // Everything matches: restore.
        ((T[])Parameters).CopyTo(trainer.Network.Parameters);
        trainer.Network.MarkParametersChanged();
        ((T[])BestParameters).CopyTo(trainer.BestParameters, 0);
        opt.Reset();
        for (int i = 0; i < States.Length; i++) ((T[])States[i]).CopyTo(opt.State(i));
        opt.StepCount = OptimizerSteps;
        schedule.RestoreState(ScheduleEpoch, ScheduleRate);
        if (schedule is StepDecayOnPlateau plateau) plateau.RestorePlateau(ScheduleExtra[0], (int)ScheduleExtra[1], (int)ScheduleExtra[2]);
        if (RngState is not null) trainer.Bptt.MaskRng!.RestoreState(RngState);
        Trainer<T>.LoopState loop = trainer.Loop;
        loop.CompletedEpochs = CompletedEpochs;
        loop.BestLoss = BestLoss;
        loop.BestEpoch = BestEpoch;
        loop.SinceBest = SinceBest;
        loop.Windows = Windows;
        loop.ElapsedBefore = Elapsed;
        loop.History.Clear();
        loop.History.AddRange(History);
        loop.DataHash = hash;
    }

    /// <summary>
    /// The options that shape the trajectory, as text (doubles round-trip exactly with "R"). Left out: Epochs (a resume
    /// may extend or shorten the budget), MaxThreads (results are bitwise the same for any thread count) and the
    /// checkpoint settings themselves.
    /// </summary>
    internal static KeyValuePair<string, string>[] Describe(TrainerOptions o)
    {
        static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        var list = new List<KeyValuePair<string, string>>
        {
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
        };
        return list.ToArray();
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
    internal static byte[] HashData<T>(SequenceData<T> train, SequenceData<T>? validation) where T : unmanaged, IBinaryFloatingPointIeee754<T>
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

    // ------------------------------------------------------------------------------------------------ file

    /// <summary>Writes the checkpoint to a file atomically (temporary file, flush, rename).</summary>
    internal void Save(string path) => AtomicFile.Write(path, ToBytes());

    /// <summary>Writes the checkpoint to a stream.</summary>
    internal void Save(Stream stream) => stream.Write(ToBytes());

    internal byte[] ToBytes()
    {
        var file = new ContainerWriter(FileKind.Checkpoint);
        file.Add(SectionId.Architecture, required: true, Sections.WriteArchitecture(Architecture));
        file.Add(SectionId.Parameters, required: true, Values(Parameters));
        file.Add(SectionId.BestParameters, required: true, Values(BestParameters));

        var opt = new PayloadWriter();
        opt.Str(OptimizerName);
        opt.I64(OptimizerSteps);
        opt.U32((uint)States.Length);
        for (int i = 0; i < States.Length; i++)
        {
            opt.Str(StateNames[i]);
            WriteValues(opt, States[i]);
        }
        file.Add(SectionId.Optimizer, required: true, opt);

        var sched = new PayloadWriter();
        sched.Str(ScheduleType);
        sched.I32(ScheduleEpoch);
        sched.F64(ScheduleRate);
        sched.U32((uint)ScheduleExtra.Length);
        foreach (double v in ScheduleExtra) sched.F64(v);
        file.Add(SectionId.Schedule, required: true, sched);

        var rng = new PayloadWriter();
        rng.U8(RngState is null ? (byte)0 : (byte)1);
        if (RngState is not null) foreach (ulong v in RngState) rng.U64(v);
        file.Add(SectionId.DropoutRng, required: true, rng);

        var loop = new PayloadWriter();
        loop.I32(CompletedEpochs);
        loop.F64(BestLoss);
        loop.I32(BestEpoch);
        loop.I32(SinceBest);
        loop.I64(Windows);
        loop.I64(Elapsed.Ticks);
        loop.U32((uint)History.Count);
        foreach (EpochProgress p in History)
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
        fp.U32((uint)Options.Count);
        foreach (var kv in Options) { fp.Str(kv.Key); fp.Str(kv.Value); }
        fp.Bytes(DataHash);
        file.Add(SectionId.Fingerprint, required: true, fp);
        return file.ToArray();
    }

    private static PayloadWriter Values(Array values)
    {
        var w = new PayloadWriter();
        WriteValues(w, values);
        return w;
    }

    private static void WriteValues(PayloadWriter w, Array values)
    {
        if (values is float[] f) w.Values<float>(f);
        else w.Values<double>((double[])values);
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
        var cp = new TrainingCheckpoint(architecture, code)
        {
            Parameters = parameters,
            BestParameters = Sections.ReadParameters(file, SectionId.BestParameters, count, ref code),
        };

        SectionReader r = file.Open(SectionId.Optimizer);
        cp.OptimizerName = r.Str("the optimiser name");
        cp.OptimizerSteps = r.I64();
        if (cp.OptimizerSteps < 0) throw r.Fail($"the step count is {cp.OptimizerSteps}");
        int states = r.Count("state buffers", 16);
        if (states > 3) throw r.Fail($"{states} state buffers, at most 3");
        cp.StateNames = new string[states];
        cp.States = new Array[states];
        for (int i = 0; i < states; i++)
        {
            cp.StateNames[i] = r.Str($"the name of state buffer {i}");
            cp.States[i] = r.Values($"optimiser state '{cp.StateNames[i]}'", ref code, count);
        }
        r.End();

        r = file.Open(SectionId.Schedule);
        cp.ScheduleType = r.Str("the schedule type");
        cp.ScheduleEpoch = r.I32("the schedule epoch", 0, int.MaxValue);
        cp.ScheduleRate = r.Finite("the current learning rate");
        if (!(cp.ScheduleRate >= 0)) throw r.Fail($"the current learning rate is {cp.ScheduleRate}");
        int extra = r.Count("schedule values", 8);
        cp.ScheduleExtra = new double[extra];
        for (int i = 0; i < extra; i++) cp.ScheduleExtra[i] = r.F64();
        if (cp.ScheduleType == typeof(StepDecayOnPlateau).FullName)
        {
            if (extra != 3) throw r.Fail($"a plateau schedule needs 3 values, found {extra}");
            if (double.IsNaN(cp.ScheduleExtra[0]) || double.IsNegativeInfinity(cp.ScheduleExtra[0])) throw r.Fail($"the plateau's best loss is {cp.ScheduleExtra[0]}");
            for (int i = 1; i < 3; i++)
                if (!(cp.ScheduleExtra[i] >= 0 && cp.ScheduleExtra[i] <= int.MaxValue && cp.ScheduleExtra[i] == Math.Floor(cp.ScheduleExtra[i])))
                    throw r.Fail($"plateau counter {i} is {cp.ScheduleExtra[i]}, not a non-negative integer");
        }
        r.End();

        r = file.Open(SectionId.DropoutRng);
        byte present = r.U8();
        if (present > 1) throw r.Fail($"the presence flag is {present}");
        if (present == 1)
        {
            cp.RngState = [r.U64(), r.U64(), r.U64(), r.U64()];
            if ((cp.RngState[0] | cp.RngState[1] | cp.RngState[2] | cp.RngState[3]) == 0) throw r.Fail("the generator state is all zero");
        }
        r.End();

        r = file.Open(SectionId.TrainerLoop);
        cp.CompletedEpochs = r.I32("the completed epochs", 1, int.MaxValue);
        cp.BestLoss = r.Finite("the best loss");
        cp.BestEpoch = r.I32("the best epoch", 1, cp.CompletedEpochs);
        cp.SinceBest = r.I32("the epochs since the best", 0, cp.CompletedEpochs - cp.BestEpoch);
        cp.Windows = r.I64();
        if (cp.Windows < 0) throw r.Fail($"the window count is {cp.Windows}");
        cp.Elapsed = ReadTicks(ref r, "the elapsed time");
        int n = r.Count("history entries", 49);
        if (n != cp.CompletedEpochs) throw r.Fail($"{n} history entries for {cp.CompletedEpochs} completed epochs");
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
            TimeSpan elapsed = ReadTicks(ref r, $"history entry {i}'s time");
            byte best = r.U8();
            if (best > 1) throw r.Fail($"history entry {i}'s best flag is {best}");
            history[i] = new EpochProgress(epoch, epochs, train, validation, rate, norm, elapsed, best == 1);
        }
        cp.History = history;
        r.End();

        r = file.Open(SectionId.Fingerprint);
        int options = r.Count("options", 8);
        var list = new KeyValuePair<string, string>[options];
        for (int i = 0; i < options; i++) list[i] = new(r.Str($"option name {i}"), r.Str($"option value {i}"));
        cp.Options = list;
        cp.DataHash = r.Bytes(32).ToArray();
        r.End();
        return cp;
    }

    private static TimeSpan ReadTicks(ref SectionReader r, string what)
    {
        long ticks = r.I64();
        if (ticks < 0) throw r.Fail($"{what} is {ticks} ticks");
        return TimeSpan.FromTicks(ticks);
    }
}
