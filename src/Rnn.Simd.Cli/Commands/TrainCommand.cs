using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Rnn.Simd.Cells;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>Options of <c>rnn-simd train</c> (a first version: the embedded ACEA data only; more options land with issue #5).</summary>
public sealed class TrainSettings : CommandSettings
{
    /// <summary>Print one JSON document instead of tables.</summary>
    [CommandOption("--json")]
    [Description("Print one JSON document on stdout instead of tables.")]
    public bool Json { get; init; }

    /// <summary>Cell type.</summary>
    [CommandOption("--cell <CELL>")]
    [Description("elman, lstm (default) or gru.")]
    public string? Cell { get; init; }

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

    /// <summary>Patience.</summary>
    [CommandOption("--patience <N>")]
    [Description("Epochs without a better validation loss before stopping (default 10).")]
    public string? Patience { get; init; }

    /// <summary>Learning rate.</summary>
    [CommandOption("--lr <RATE>")]
    [Description("Adam learning rate (default 3e-3).")]
    public string? LearningRate { get; init; }

    /// <summary>Forecast horizon in hours.</summary>
    [CommandOption("--horizon <H>")]
    [Description("Forecast horizon in hours (default 24).")]
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
    [Description("pytorch (default: uniform ±1/√H) | glorot | he | chapter (uniform [0,1) / √N_h) | orthogonal (Glorot input, orthogonal recurrent, forget bias 1).")]
    public string? Init { get; init; }

    /// <inheritdoc/>
    public override ValidationResult Validate() => TryParse(out _);

    /// <summary>The parsed options.</summary>
    public TrainOptions Options => TryParse(out TrainOptions? o).Successful ? o! : throw new CliUsageException("invalid options");

    private ValidationResult TryParse(out TrainOptions? options)
    {
        options = null;
        ValidationResult r;
        if (!(r = OptionValues.ParseEnum("--cell", Cell, out CellType? cell)).Successful) return r;
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
        if (!(r = NonNegative("--dropout-input", DropoutInput, 0.99, out double pIn)).Successful) return r;
        if (!(r = NonNegative("--dropout-recurrent", DropoutRecurrent, 0.99, out double pRec)).Successful) return r;
        if (!(r = NonNegative("--dropout-output", DropoutOutput, 0.99, out double pOut)).Successful) return r;
        if (!(r = OptionValues.ParsePositiveDouble("--clip", Clip, double.MaxValue, out double? clip)).Successful) return r;
        string scheduleName = (Schedule ?? "constant").Trim().ToLowerInvariant();
        if (scheduleName is not ("constant" or "plateau" or "step" or "exp" or "frac"))
            return ValidationResult.Error($"--schedule must be one of constant, plateau, step, exp, frac, got '{Schedule}'.");
        if (!(r = OptionValues.ParsePositiveDouble("--decay", Decay, double.MaxValue, out double? decay)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--decay-every", DecayEvery, 1, 100_000, out int? decayEvery)).Successful) return r;
        string init = (Init ?? "pytorch").Trim().ToLowerInvariant();
        if (init is not ("pytorch" or "glorot" or "he" or "chapter" or "orthogonal"))
            return ValidationResult.Error($"--init must be one of pytorch, glorot, he, chapter, orthogonal, got '{Init}'.");
        BpttSchedule schedule;
        try
        {
            schedule = BpttSchedule.Parse(Bptt ?? "2n,n", window ?? 48);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return ValidationResult.Error($"--bptt: {e.Message}");
        }
        options = new TrainOptions(cell ?? CellType.Lstm, hidden ?? 32, layers ?? 1, epochs ?? 200, patience ?? 10, lr ?? 3e-3, horizon ?? 24, seed ?? 1, threads ?? 1)
        {
            Batch = batch ?? 16, Schedule = schedule, Optimizer = optimizer ?? OptimizerKind.Adam, L1 = l1, L2 = l2,
            DropoutInput = pIn, DropoutRecurrent = pRec, DropoutOutput = pOut, Clip = clip ?? 5,
            ScheduleName = scheduleName, Decay = decay, DecayEvery = decayEvery, Init = init,
        };
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
    public void Initialize(RecurrentNetwork<float> network)
    {
        Training.Initialization.WeightInit? all = Init switch
        {
            "glorot" => Training.Initialization.WeightInit.GlorotUniform,
            "he" => Training.Initialization.WeightInit.HeUniform,
            "chapter" => Training.Initialization.WeightInit.UniformRescaled,
            _ => null,
        };
        if (Init == "orthogonal")
            Training.Initialization.Initializers.Initialize(network, new Training.Initialization.InitializationOptions(), Seed);
        else if (all is { } kind)
            Training.Initialization.Initializers.Initialize(network, new Training.Initialization.InitializationOptions
            {
                InputWeights = kind, RecurrentWeights = kind, ReadoutWeights = kind, LstmForgetGateBias = 0,
            }, Seed);
    }
}

/// <summary>
/// <c>rnn-simd train</c>, first version: trains a recurrent network on the embedded ACEA Rome electricity load
/// (10-minute values aggregated to hourly means), predicting the load <c>--horizon</c> hours ahead from the current
/// one, with a chronological 70 / 15 / 15 split, z-scores fitted on the training part, and the anomalous low-load
/// stretch (hours 16000 to 17847) masked out of every loss and metric. Reports test NRMSE / RMSE / MAE / MAPE in
/// original units against persistence (lag h) and seasonal-naive (lag 168) baselines on the same targets.
/// </summary>
public sealed class TrainCommand(CliOutput output) : Command<TrainSettings>
{
    /// <summary>Embedded resource name of the default data.</summary>
    public const string DataResource = "Rnn.Simd.Cli.Data.acea-rome-10min.csv.gz";

    /// <summary>The anomaly of the default series, in hourly indices [start, end).</summary>
    public static readonly TimeRange Anomaly = new(16000, 17848);

    /// <inheritdoc/>
    public override int Execute(CommandContext context, TrainSettings settings, CancellationToken cancellationToken)
    {
        TrainOptions o = settings.Options;
        using Stream stream = typeof(TrainCommand).Assembly.GetManifestResourceStream(DataResource)
            ?? throw new CliException($"the embedded data {DataResource} is missing from this build");
        TimeSeries hourly = CsvSeriesReader.Read(stream).Aggregate(6);
        ForecastDataset data = ForecastDataset.Create(hourly, new ForecastOptions(o.Horizon), TimeMask.Exclude(Anomaly));
        ForecastWindows train = data.Train, validation = data.Validation!, test = data.Test!;
        output.Progress(FormattableString.Invariant(
            $"ACEA Rome load, {hourly.Length} hours; horizon {o.Horizon} h; split {train.Length} / {validation.Length} / {test.Length}; hours {Anomaly.Start}-{Anomaly.End - 1} (abnormally low load) masked out of losses and metrics"));

        var arch = NetworkArchitecture.Uniform(o.Cell, train.InputSize, o.Hidden, o.Layers, train.OutputSize);
        var network = new RecurrentNetwork<float>(arch, o.Seed);
        o.Initialize(network);
        var trainerOptions = new TrainerOptions
        {
            BatchSize = o.Batch, Bptt = o.Schedule, Optimizer = o.Optimizer, LearningRate = o.LearningRate, Schedule = o.CreateSchedule(),
            ClipNorm = o.Clip, Epochs = o.Epochs, Patience = o.Patience, MaxThreads = o.Threads,
            Regularization = new Training.Regularization.RegularizationOptions(o.L1, o.L2),
            Dropout = new Training.Regularization.DropoutOptions(o.DropoutInput, o.DropoutRecurrent, o.DropoutOutput, Seed: o.Seed),
        };
        var trainer = new Trainer<float>(network, trainerOptions);
        trainer.EpochCompleted += p => output.Progress(FormattableString.Invariant(
            $"epoch {p.Epoch}/{p.Epochs} loss {p.TrainLoss:E3} validation {p.ValidationLoss:E3} lr {p.LearningRate:G3}{(p.IsBest ? " *" : "")} ({p.Elapsed.TotalSeconds:F1} s)"));
        SequenceData<float> trainData = Sequence(train), validationData = Sequence(validation);
        TrainingResult result = trainer.Fit(trainData, validationData, cancellationToken);

        // Test predictions from a state run chronologically through the training and validation inputs.
        NetworkState<float> state = network.CreateState();
        float[] scratch = new float[arch.OutputSize];
        foreach (SequenceData<float> part in new[] { trainData, validationData })
        {
            for (int t = 0; t < part.Steps; t++) network.Step(part.Inputs.AsSpan(t * part.InputSize, part.InputSize), scratch, state);
        }
        float[] predictions = new float[test.Length * test.OutputSize];
        for (int t = 0; t < test.Length; t++)
            network.Step(test.Inputs.Slice(t * test.InputSize, test.InputSize), predictions.AsSpan(t * test.OutputSize, test.OutputSize), state);
        ForecastMetrics model = test.EvaluateScaled(predictions);
        ForecastMetrics persistence = Baselines.EvaluatePersistence(test);
        ForecastMetrics seasonal = Baselines.EvaluateSeasonalNaive(test, 168);

        if (settings.Json) WriteJson(o, result, model, persistence, seasonal);
        else WriteTable(o, result, model, persistence, seasonal);
        return ExitCodes.Success;
    }

    private static SequenceData<float> Sequence(ForecastWindows w) =>
        new(w.Inputs.ToArray(), w.Targets.ToArray(), w.InputSize, w.OutputSize, w.Weights.ToArray());

    private void WriteTable(TrainOptions o, TrainingResult result, ForecastMetrics model, ForecastMetrics persistence, ForecastMetrics seasonal)
    {
        var table = new Table().Title(FormattableString.Invariant($"Test set, horizon {o.Horizon} h ({model.Count} targets)"))
            .AddColumn("Forecast").AddColumn(new TableColumn("NRMSE").RightAligned()).AddColumn(new TableColumn("RMSE").RightAligned())
            .AddColumn(new TableColumn("MAE").RightAligned()).AddColumn(new TableColumn("MAPE %").RightAligned());
        void Row(string name, ForecastMetrics m) => table.AddRow(name, F(m.Nrmse), F(m.Rmse), F(m.Mae), F(m.Mape));
        Row(FormattableString.Invariant($"{o.Cell} H={o.Hidden} x{o.Layers}"), model);
        Row(FormattableString.Invariant($"persistence (lag {o.Horizon})"), persistence);
        Row("seasonal naive (lag 168)", seasonal);
        output.Console.Write(table);
        output.Console.WriteLine(FormattableString.Invariant(
            $"{result.EpochsRun} epochs (best {result.BestEpoch}), {result.Elapsed.TotalSeconds:F1} s, {result.WindowsPerSecond:F0} windows/s; hours {Anomaly.Start}-{Anomaly.End - 1} masked out."));
    }

    private void WriteJson(TrainOptions o, TrainingResult result, ForecastMetrics model, ForecastMetrics persistence, ForecastMetrics seasonal)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", 1);
            w.WriteString("data", "acea-rome-hourly");
            w.WriteNumber("horizon", o.Horizon);
            w.WriteString("cell", o.Cell.ToString());
            w.WriteNumber("hidden", o.Hidden);
            w.WriteNumber("layers", o.Layers);
            w.WriteStartArray("maskedHours");
            w.WriteNumberValue(Anomaly.Start);
            w.WriteNumberValue(Anomaly.End);
            w.WriteEndArray();
            w.WriteStartObject("test");
            Metrics(w, model);
            w.WriteEndObject();
            w.WriteStartArray("baselines");
            Baseline(w, "persistence", o.Horizon, persistence);
            Baseline(w, "seasonalNaive", 168, seasonal);
            w.WriteEndArray();
            w.WriteNumber("epochs", result.EpochsRun);
            w.WriteNumber("bestEpoch", result.BestEpoch);
            w.WriteNumber("trainSeconds", Math.Round(result.Elapsed.TotalSeconds, 3));
            w.WriteNumber("windowsPerSecond", Math.Round(result.WindowsPerSecond, 1));
            w.WriteEndObject();
        }
        output.Out.Write(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        output.Out.WriteLine();
        output.Out.Flush();
    }

    private static void Baseline(Utf8JsonWriter w, string name, int lag, ForecastMetrics m)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteNumber("lag", lag);
        Metrics(w, m);
        w.WriteEndObject();
    }

    private static void Metrics(Utf8JsonWriter w, ForecastMetrics m)
    {
        Number(w, "nrmse", m.Nrmse);
        Number(w, "rmse", m.Rmse);
        Number(w, "mae", m.Mae);
        Number(w, "mape", m.Mape);
    }

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v)) w.WriteNumber(name, Math.Round(v, 6));
        else w.WriteNull(name);
    }

    private static string F(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("0.000", CultureInfo.InvariantCulture) : "-";
}
