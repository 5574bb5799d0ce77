using System.ComponentModel;
using System.Globalization;
using Rnn.Simd.Cells;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Cli.Train.Trainers;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>
/// Options of <c>rnn-simd train</c>. Value options are strings parsed in <see cref="Validate"/> (see
/// <see cref="OptionValues"/>), so that every bad value is a one-line error naming the option, with exit code 2.
/// </summary>
public sealed partial class TrainSettings : DataSettings
{
    /// <summary>How the weights are set (<c>--trainer</c>).</summary>
    [CommandOption("--trainer <NAME>")]
    [Description("How the weights are learned: bptt (default), rtrl, ekf, cmaes, evolino, esn. Each takes its own options (README-cli.md); an option of another trainer is refused.")]
    public string? Trainer { get; init; }

    /// <summary>Target mode.</summary>
    [CommandOption("--mode <MODE>")]
    [Description("single (default: predict y[[t+h]]) or multi (predict every y[[t+1..t+h]]; metrics averaged over the steps and at step h).")]
    public string? Mode { get; init; }

    /// <summary>Seasons of the seasonal-naive baselines.</summary>
    [CommandOption("--seasons <LIST>")]
    [Description("Seasons (in time steps) of the seasonal-naive and ETS baselines, comma-separated (default: detected from the sampling period and the autocorrelation of the training part; 24,168 when the period is unknown).")]
    public string? Seasons { get; init; }

    /// <summary>Plot directory.</summary>
    [CommandOption("--plot <DIR>")]
    [Description("Write forecast.png (forecast vs actual, start of the test part) and loss.png (loss per epoch) into DIR.")]
    public string? Plot { get; init; }

    /// <summary>No progress output.</summary>
    [CommandOption("-q|--quiet")]
    [Description("No progress output on stderr (errors are still reported).")]
    public bool Quiet { get; init; }

    /// <summary>Print one JSON document instead of tables.</summary>
    [CommandOption("--json")]
    [Description("Print one JSON document on stdout instead of tables.")]
    public bool Json { get; init; }

    /// <summary>Cell type.</summary>
    [CommandOption("--cell <CELL>")]
    [Description("elman, lstm (default), gru or rhn (recurrent highway network, Zilly et al. 2017; also 'highway').")]
    public string? Cell { get; init; }

    /// <summary>Recurrence depth of an RHN.</summary>
    [CommandOption("--depth <L>")]
    [Description("Micro-layers per time step of --cell rhn (recurrence depth, default 1).")]
    public string? Depth { get; init; }

    /// <summary>Hidden size.</summary>
    [CommandOption("--hidden <H>")]
    [Description("Hidden size of every layer (default 32).")]
    public string? Hidden { get; init; }

    /// <summary>Layers.</summary>
    [CommandOption("--layers <L>")]
    [Description("Recurrent layers (default 1).")]
    public string? Layers { get; init; }

    /// <summary>Epochs.</summary>
    [CommandOption("--epochs <N>")]
    [Description("Maximum epochs (default 200; early stopping usually ends sooner).")]
    public string? Epochs { get; init; }

    /// <summary>Ensemble members.</summary>
    [CommandOption("--ensemble <M>")]
    [Description("Train M networks from seeds SEED, SEED+1, ... one after another and forecast with the mean of their outputs (default 5 on the embedded data, 1 on --data files).")]
    public string? Ensemble { get; init; }

    /// <summary>Input features.</summary>
    [CommandOption("--features <LIST>")]
    [Description("Inputs of each step, comma-separated: value (the current value), lagL (the value L steps before the target, L ≥ horizon), day / week / phaseP (sin and cos of the step's phase in a cycle of 24, 168 or P steps). Default on the embedded data value,lag48,lag72,lag168 (lags shorter than --horizon dropped); on --data files value.")]
    public string? Features { get; init; }

    /// <summary>Patience.</summary>
    [CommandOption("--patience <N>")]
    [Description("Epochs without a better validation loss before stopping (default 20; 0 never stops early).")]
    public string? Patience { get; init; }

    /// <summary>Learning rate.</summary>
    [CommandOption("--lr <RATE>")]
    [Description("Initial learning rate η0 (default 2e-3).")]
    public string? LearningRate { get; init; }

    /// <summary>Forecast horizon in hours.</summary>
    [CommandOption("--horizon <H>")]
    [Description("Forecast horizon in time steps (hours on the default data; default 24).")]
    public string? Horizon { get; init; }

    /// <summary>Seed.</summary>
    [CommandOption("--seed <SEED>")]
    [Description("Seed of the initial weights (default 1).")]
    public string? Seed { get; init; }

    /// <summary>Threads.</summary>
    [CommandOption("--threads <N>")]
    [Description("GEMM threads (default 1; results are bitwise the same for any value).")]
    public string? Threads { get; init; }

    /// <summary>Streams per window.</summary>
    [CommandOption("--batch <B>")]
    [Description("Streams trained in parallel (default 16).")]
    public string? Batch { get; init; }

    /// <summary>n of the named BPTT schedules.</summary>
    [CommandOption("--window <N>")]
    [Description("n of the --bptt schedule (default 48).")]
    public string? Window { get; init; }

    /// <summary>BPTT schedule.</summary>
    [CommandOption("--bptt <SCHEDULE>")]
    [Description("2n,n (default) | n,1 | n,n | TB,TF: truncated BPTT(τb, τf), chapter section 2.1.")]
    public string? Bptt { get; init; }

    /// <summary>Optimiser.</summary>
    [CommandOption("--optimizer <NAME>")]
    [Description("sgd, momentum, nesterov, adagrad, rmsprop, rmspropgains, adam (default) or adamw.")]
    public string? Optimizer { get; init; }

    /// <summary>L1 weight.</summary>
    [CommandOption("--l1 <LAMBDA>")]
    [Description("L1 regularisation λ1 on weights (default 0).")]
    public string? L1 { get; init; }

    /// <summary>L2 weight.</summary>
    [CommandOption("--l2 <LAMBDA>")]
    [Description("L2 regularisation λ2 on weights (default 0).")]
    public string? L2 { get; init; }

    /// <summary>Input dropout.</summary>
    [CommandOption("--dropout-input <P>")]
    [Description("Variational dropout probability on layer inputs (default 0).")]
    public string? DropoutInput { get; init; }

    /// <summary>Recurrent dropout.</summary>
    [CommandOption("--dropout-recurrent <P>")]
    [Description("Variational dropout probability on the recurrent state (default 0).")]
    public string? DropoutRecurrent { get; init; }

    /// <summary>Output dropout.</summary>
    [CommandOption("--dropout-output <P>")]
    [Description("Variational dropout probability on the readout input (default 0).")]
    public string? DropoutOutput { get; init; }

    /// <summary>Global-norm clipping.</summary>
    [CommandOption("--clip <NORM>")]
    [Description("Clip the global gradient norm to NORM (default 5).")]
    public string? Clip { get; init; }

    /// <summary>Learning-rate schedule.</summary>
    [CommandOption("--schedule <NAME>")]
    [Description("constant (default) | plateau (×α when validation has not improved for --decay-every epochs) | step (×α every --decay-every epochs) | exp (η0·e^(-αk)) | frac (η0/(1+αk)).")]
    public string? Schedule { get; init; }

    /// <summary>α of the schedule.</summary>
    [CommandOption("--decay <ALPHA>")]
    [Description("α of --schedule (default 0.5 for plateau and step, 0.05 for exp, 0.1 for frac).")]
    public string? Decay { get; init; }

    /// <summary>Patience / interval of the schedule.</summary>
    [CommandOption("--decay-every <N>")]
    [Description("Epochs of the plateau patience or of the step interval (default 5 and 10).")]
    public string? DecayEvery { get; init; }

    /// <summary>Weight initialisation.</summary>
    [CommandOption("--init <NAME>")]
    [Description("pytorch (default: uniform ±1/√H) | glorot | he | chapter (uniform [[0,1) / √N_h) | orthogonal (Glorot input, orthogonal recurrent, forget bias 1).")]
    public string? Init { get; init; }

    /// <summary>Model file to write.</summary>
    [CommandOption("--out <FILE>")]
    [Description("Save the trained network (best weights) with its scaler, forecast options and metadata to FILE (for forecast and evaluate); a name ending in .safetensors writes safetensors with PyTorch's names. Written to a temporary file and renamed: an interrupted save keeps the old FILE.")]
    public string? Out { get; init; }

    /// <summary>Checkpoint file to write.</summary>
    [CommandOption("--checkpoint <FILE>")]
    [Description("Write a training checkpoint to FILE every --checkpoint-every epochs (and at the last epoch), atomically; continue later with --resume FILE.")]
    public string? Checkpoint { get; init; }

    /// <summary>Epochs between checkpoints.</summary>
    [CommandOption("--checkpoint-every <N>")]
    [Description("Epochs between checkpoints written to --checkpoint (default 1).")]
    public string? CheckpointEvery { get; init; }

    /// <summary>Checkpoint to resume from.</summary>
    [CommandOption("--resume <FILE>")]
    [Description("Continue the run saved in the checkpoint FILE: the same data and options are required (--epochs may be larger); the result is bitwise that of an uninterrupted run.")]
    public string? Resume { get; init; }

    /// <inheritdoc/>
    public override ValidationResult Validate() => TryParse(out _);

    /// <summary>The parsed options.</summary>
    public TrainOptions Options => TryParse(out TrainOptions? o).Successful ? o! : throw new CliUsageException("invalid options");

    private ValidationResult TryParse(out TrainOptions? options)
    {
        options = null;
        ValidationResult r;
        if (Trainer is not null && OptionValues.IsMissing(Trainer)) return ValidationResult.Error($"--trainer needs a name: {TrainerKinds.Names}.");
        TrainerKind? kind = TrainerKinds.Find(Trainer ?? TrainerKinds.Default.Name);
        if (kind is null) return ValidationResult.Error($"--trainer must be one of {TrainerKinds.Names}, got '{Trainer}'.");
        if (!(r = TrainerKinds.CheckOptions(kind, TrainerKinds.GivenOptions(this))).Successful) return r;
        if (!(r = OptionValues.ParseEnum("--cell", string.Equals(Cell?.Trim(), "rhn", StringComparison.OrdinalIgnoreCase) ? nameof(CellType.Highway) : Cell, out CellType? cell)).Successful)
            return ValidationResult.Error($"--cell must be one of elman, lstm, gru, rhn, got '{Cell}'.");
        if (!(r = OptionValues.ParseInt("--depth", Depth, 1, 64, out int? depth)).Successful) return r;
        if (depth is > 1 && cell != CellType.Highway) return ValidationResult.Error("--depth above 1 needs --cell rhn (only recurrent highway cells have micro-layers).");
        if (!(r = OptionValues.ParseInt("--hidden", Hidden, 1, 4096, out int? hidden)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--layers", Layers, 1, 16, out int? layers)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--epochs", Epochs, 1, 100_000, out int? epochs)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--patience", Patience, 0, 100_000, out int? patience)).Successful) return r;
        if (!(r = OptionValues.ParsePositiveDouble("--lr", LearningRate, 10, out double? lr)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--horizon", Horizon, 1, 10_000, out int? horizon)).Successful) return r;
        if (!(r = OptionValues.ParseUInt64("--seed", Seed, out ulong? seed)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--threads", Threads, 0, 1024, out int? threads)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--batch", Batch, 1, 4096, out int? batch)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--window", Window, 1, 100_000, out int? window)).Successful) return r;
        if (!(r = OptionValues.ParseEnum("--optimizer", Optimizer, out OptimizerKind? optimizer)).Successful) return r;
        if (!(r = NonNegative("--l1", L1, double.MaxValue, out double l1)).Successful) return r;
        if (!(r = NonNegative("--l2", L2, double.MaxValue, out double l2)).Successful) return r;
        if (!(r = Probability("--dropout-input", DropoutInput, out double pIn)).Successful) return r;
        if (!(r = Probability("--dropout-recurrent", DropoutRecurrent, out double pRec)).Successful) return r;
        if (!(r = Probability("--dropout-output", DropoutOutput, out double pOut)).Successful) return r;
        if (!(r = OptionValues.ParsePositiveDouble("--clip", Clip, double.MaxValue, out double? clip)).Successful) return r;
        string scheduleName = (Schedule ?? "constant").Trim().ToLowerInvariant();
        if (scheduleName is not ("constant" or "plateau" or "step" or "exp" or "frac"))
            return ValidationResult.Error($"--schedule must be one of constant, plateau, step, exp, frac, got '{Schedule}'.");
        if (!(r = OptionValues.ParsePositiveDouble("--decay", Decay, double.MaxValue, out double? decay)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--decay-every", DecayEvery, 1, 100_000, out int? decayEvery)).Successful) return r;
        string init = (Init ?? "pytorch").Trim().ToLowerInvariant();
        if (init is not ("pytorch" or "glorot" or "he" or "chapter" or "orthogonal"))
            return ValidationResult.Error($"--init must be one of pytorch, glorot, he, chapter, orthogonal, got '{Init}'.");
        if (!(r = TryParseData(out DataOptions? data)).Successful) return r;
        foreach ((string name, string? value) in new[] { ("--out", Out), ("--checkpoint", Checkpoint), ("--resume", Resume) })
            if (value is not null && OptionValues.IsMissing(value)) return ValidationResult.Error($"{name} needs a file.");
        if (!(r = OptionValues.ParseInt("--checkpoint-every", CheckpointEvery, 1, 100_000, out int? checkpointEvery)).Successful) return r;
        if (checkpointEvery is not null && Checkpoint is null) return ValidationResult.Error("--checkpoint-every applies to --checkpoint FILE.");
        if (Out is not null && Checkpoint is not null && SamePath(Out, Checkpoint))
            return ValidationResult.Error("--out and --checkpoint name the same file; the model would overwrite the checkpoint.");
        if (Out is not null && Resume is not null && SamePath(Out, Resume))
            return ValidationResult.Error("--out and --resume name the same file; the model would overwrite the checkpoint.");
        string mode = (Mode ?? "single").Trim().ToLowerInvariant();
        if (mode is not ("single" or "multi"))
            return ValidationResult.Error($"--mode must be single or multi, got '{Mode}'.");
        if (!(r = OptionValues.ParseIntList("--seasons", Seasons, 1, 1_000_000, 8, out int[]? seasons)).Successful) return r;
        if (Plot is not null && OptionValues.IsMissing(Plot)) return ValidationResult.Error("--plot needs a directory.");
        BpttSchedule schedule;
        try
        {
            schedule = BpttSchedule.Parse(Bptt ?? "2n,n", window ?? ForecastPresets.AceaHourly.Window);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return ValidationResult.Error($"--bptt: {e.Message}");
        }
        if (!(r = OptionValues.ParseInt("--ensemble", Ensemble, 1, 64, out int? ensemble)).Successful) return r;
        int h = horizon ?? 24;
        FeatureSpec features;
        try
        {
            features = Features is not null ? FeatureSpec.Parse(Features)
                : data!.Data is null ? DefaultFeatures.WithoutLagsBelow(h) : FeatureSpec.ValueOnly;
            features.CheckHorizon(h);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return ValidationResult.Error($"--features: {CliApp.WithoutParamName(e)}");
        }
        ForecastPreset preset = ForecastPresets.AceaHourly;
        options = new TrainOptions(cell ?? preset.Cell, hidden ?? preset.HiddenSize, layers ?? preset.NumLayers, epochs ?? preset.Epochs, patience ?? preset.Patience,
            lr ?? preset.LearningRate, h, seed ?? 1, threads ?? 1)
        {
            Depth = depth ?? 1, Features = features, Ensemble = ensemble ?? (data!.Data is null ? DefaultEnsemble : 1),
            Batch = batch ?? preset.BatchSize, Schedule = schedule, Optimizer = optimizer ?? OptimizerKind.Adam, L1 = l1, L2 = l2,
            DropoutInput = pIn, DropoutRecurrent = pRec, DropoutOutput = pOut, Clip = clip ?? ForecastPresets.AceaHourly.ClipNorm,
            ScheduleName = scheduleName, Decay = decay, DecayEvery = decayEvery, Init = init,
            Data = data!.Data, Column = data.Column, Aggregate = data.Aggregate, HasHeader = data.HasHeader,
            Separator = data.Separator, FillGaps = data.FillGaps, TimeColumn = data.TimeColumn, TimeFormat = data.TimeFormat, Mode = mode == "multi" ? TargetMode.MultiOutput : TargetMode.SingleStep,
            Seasons = seasons ?? [24, 168], DetectSeasons = seasons is null, PlotDirectory = Plot, Json = Json, Quiet = Quiet,
            ModelPath = Out, CheckpointPath = Checkpoint, CheckpointEvery = checkpointEvery ?? 1, ResumePath = Resume,
        };
        if (!(r = kind.Parse(this, options, out TrainerPlan? plan)).Successful)
        {
            options = null;
            return r;
        }
        // The trainer's own defaults for an architecture option not given (e.g. 8 units for cmaes), so that every
        // reader of the options (architecture, report, metadata) sees the network that is trained.
        options = options with
        {
            Plan = plan!, Ensemble = ensemble ?? plan!.DefaultEnsemble(data!.Data is null),
            Cell = Cell is null ? plan!.DefaultCell ?? options.Cell : options.Cell,
            Hidden = Hidden is null ? plan!.DefaultHidden ?? options.Hidden : options.Hidden,
        };
        return ValidationResult.Success();
    }

    /// <summary>Members of the default ensemble on the embedded data.</summary>
    public const int DefaultEnsemble = 5;

    /// <summary>The features of the embedded data's default (<see cref="ForecastPresets.AceaHourly"/>).</summary>
    public static FeatureSpec DefaultFeatures => ForecastPresets.AceaHourly.Features;

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    // A dropout probability p keeps a unit with probability 1 - p, so p = 1 would drop everything.
    private static ValidationResult Probability(string option, string? text, out double value)
    {
        value = 0;
        if (text is null) return ValidationResult.Success();
        if (OptionValues.IsMissing(text)) return ValidationResult.Error($"{option} needs a value.");
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) || !double.IsFinite(parsed))
            return ValidationResult.Error($"{option} must be a probability such as 0.1, got '{text}'.");
        if (parsed < 0 || parsed >= 1)
            return ValidationResult.Error(FormattableString.Invariant($"{option} must be at least 0 and below 1 (1 would drop every unit), got {parsed}."));
        value = parsed;
        return ValidationResult.Success();
    }

    private static ValidationResult NonNegative(string option, string? text, double max, out double value)
    {
        value = 0;
        if (text is null) return ValidationResult.Success();
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) || !double.IsFinite(parsed))
            return ValidationResult.Error($"{option} must be a number such as 0.1, got '{text}'.");
        if (parsed < 0 || parsed > max)
            return ValidationResult.Error(FormattableString.Invariant($"{option} must be at least 0 and at most {max}, got {parsed}."));
        value = parsed;
        return ValidationResult.Success();
    }
}

/// <summary>Parsed options of <c>rnn-simd train</c>.</summary>
public sealed record TrainOptions(CellType Cell, int Hidden, int Layers, int Epochs, int Patience, double LearningRate, int Horizon, ulong Seed, int Threads)
{
    /// <summary>The parsed <c>--trainer</c> with its options (default: truncated BPTT with the options above).</summary>
    public TrainerPlan Plan { get; init; } = BpttTrainerKind.DefaultPlan;

    /// <summary>The value of <c>--trainer</c> that made <see cref="Plan"/>.</summary>
    public string TrainerName => Plan.Kind.Name;

    /// <summary>Recurrence depth (micro-layers per step) of an RHN; 1 for every other cell.</summary>
    public int Depth { get; init; } = 1;

    /// <summary>Streams per window.</summary>
    public int Batch { get; init; } = 16;

    /// <summary>Truncated BPTT schedule.</summary>
    public BpttSchedule Schedule { get; init; } = BpttSchedule.Default(48);

    /// <summary>Optimiser.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>λ1, λ2.</summary>
    public double L1 { get; init; }

    /// <summary>λ2.</summary>
    public double L2 { get; init; }

    /// <summary>Dropout probabilities.</summary>
    public double DropoutInput { get; init; }

    /// <summary>Recurrent dropout probability.</summary>
    public double DropoutRecurrent { get; init; }

    /// <summary>Readout-input dropout probability.</summary>
    public double DropoutOutput { get; init; }

    /// <summary>Global-norm clip.</summary>
    public double Clip { get; init; } = 5;

    /// <summary>constant, plateau, step, exp or frac.</summary>
    public string ScheduleName { get; init; } = "constant";

    /// <summary>α of the schedule (null: its default).</summary>
    public double? Decay { get; init; }

    /// <summary>Patience or interval of the schedule (null: its default).</summary>
    public int? DecayEvery { get; init; }

    /// <summary>pytorch, glorot, he, chapter or orthogonal.</summary>
    public string Init { get; init; } = "pytorch";

    /// <summary>User CSV file, or null for the embedded data.</summary>
    public string? Data { get; init; }

    /// <summary>Column name or 0-based index in <see cref="Data"/>, or null for the only numeric column.</summary>
    public string? Column { get; init; }

    /// <summary>Rows averaged per time step, or null for the default (6 for the embedded data, 1 for a file).</summary>
    public int? Aggregate { get; init; }

    /// <summary>True or false when the header was stated, null to detect it.</summary>
    public bool? HasHeader { get; init; }

    /// <summary>Field separator, or null to detect it.</summary>
    public char? Separator { get; init; }

    /// <summary>Interpolate missing values linearly instead of rejecting them.</summary>
    public bool FillGaps { get; init; }

    /// <summary>Single step y[t+h] or multi-output y[t+1..t+h].</summary>
    public TargetMode Mode { get; init; } = TargetMode.SingleStep;

    /// <summary>Members of the seed ensemble (<c>--ensemble</c>).</summary>
    public int Ensemble { get; init; } = 1;

    /// <summary>Input features of each step (<c>--features</c>).</summary>
    public FeatureSpec Features { get; init; } = FeatureSpec.ValueOnly;

    /// <summary>Seasons of the seasonal-naive baselines.</summary>
    public IReadOnlyList<int> Seasons { get; init; } = [24, 168];

    /// <summary>Directory for PNG plots, or null for none.</summary>
    public string? PlotDirectory { get; init; }

    /// <summary>Print one JSON document.</summary>
    public bool Json { get; init; }

    /// <summary>Model file to write (<c>--out</c>), or null.</summary>
    public string? ModelPath { get; init; }

    /// <summary>Checkpoint file to write (<c>--checkpoint</c>), or null.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Epochs between checkpoints.</summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>Checkpoint to resume from (<c>--resume</c>), or null.</summary>
    public string? ResumePath { get; init; }

    /// <summary>Time column of <see cref="Data"/> (name, index or none), or null to detect it.</summary>
    public string? TimeColumn { get; init; }

    /// <summary>.NET custom format of the time column, or null.</summary>
    public string? TimeFormat { get; init; }

    /// <summary>
    /// True when <c>--seasons</c> was not given: the seasons are detected from the sampling period and the training
    /// part (<see cref="Train.TrainSeasons"/>); <see cref="Seasons"/> (24, 168) is then the fallback when the period is unknown.
    /// </summary>
    public bool DetectSeasons { get; init; }

    /// <summary>The data options as one record (for <see cref="Train.SeriesSource"/>).</summary>
    public DataOptions Source => new(Data, Column, Aggregate, HasHeader, Separator, FillGaps, TimeColumn, TimeFormat);

    /// <summary>No progress output.</summary>
    public bool Quiet { get; init; }

    /// <summary>The learning-rate schedule (section 2.3), or null for a constant rate.</summary>
    public Training.Schedules.LearningRateSchedule? CreateSchedule() => ScheduleName switch
    {
        "plateau" => new Training.Schedules.StepDecayOnPlateau(LearningRate, Decay ?? 0.5, DecayEvery ?? 5),
        "step" => new Training.Schedules.FixedStepDecaySchedule(LearningRate, Decay ?? 0.5, DecayEvery ?? 10),
        "exp" => new Training.Schedules.ExponentialDecaySchedule(LearningRate, Decay ?? 0.05),
        "frac" => new Training.Schedules.FractionalDecaySchedule(LearningRate, Decay ?? 0.1),
        _ => null,
    };

    /// <summary>Applies --init to a freshly built network (pytorch: leaves the constructor's initialisation).</summary>
    public void Initialize(RecurrentNetwork<float> network) => Initialize(network, Seed);

    /// <summary>Applies --init with the seed of one ensemble member.</summary>
    public void Initialize(RecurrentNetwork<float> network, ulong seed)
    {
        Training.Initialization.WeightInit? all = Init switch
        {
            "glorot" => Training.Initialization.WeightInit.GlorotUniform,
            "he" => Training.Initialization.WeightInit.HeUniform,
            "chapter" => Training.Initialization.WeightInit.UniformRescaled,
            _ => null,
        };
        if (Init == "orthogonal")
            Training.Initialization.Initializers.Initialize(network, new Training.Initialization.InitializationOptions(), seed);
        else if (all is { } kind)
            Training.Initialization.Initializers.Initialize(network, new Training.Initialization.InitializationOptions
            {
                InputWeights = kind, RecurrentWeights = kind, ReadoutWeights = kind, LstmForgetGateBias = 0,
            }, seed);
    }
}
