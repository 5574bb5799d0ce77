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
        options = new TrainOptions(cell ?? CellType.Lstm, hidden ?? 32, layers ?? 1, epochs ?? 200, patience ?? 10, lr ?? 3e-3, horizon ?? 24, seed ?? 1, threads ?? 1);
        return ValidationResult.Success();
    }
}

/// <summary>Parsed options of <c>rnn-simd train</c>.</summary>
public sealed record TrainOptions(CellType Cell, int Hidden, int Layers, int Epochs, int Patience, double LearningRate, int Horizon, ulong Seed, int Threads);

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
        var trainerOptions = new TrainerOptions
        {
            BatchSize = 16, Bptt = BpttSchedule.Default(48), Optimizer = OptimizerKind.Adam, LearningRate = o.LearningRate,
            ClipNorm = 5, Epochs = o.Epochs, Patience = o.Patience, MaxThreads = o.Threads,
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
