using System.Globalization;
using System.Text.Json;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using static Rnn.Simd.Tests.Cli.CliSeries;

namespace Rnn.Simd.Tests.Cli;

/// <summary>
/// <c>train --out</c>, <c>forecast</c> and <c>evaluate</c> in process: forecasts of a saved model equal a hand loop of
/// <see cref="RecurrentNetwork{T}.Step"/> over hand-scaled inputs (one-shot single step and multi-output, float and
/// double, generative), <c>evaluate</c> repeats train's test figures, a checkpointed and resumed run equals the
/// uninterrupted one, and every bad model file or mismatch is one error line with the right exit code. (The atomic
/// save itself — an interrupted save keeps the old file — is covered at library level in ModelFileTests.)
/// Tiny budgets throughout: H = 4, 2-3 epochs on a 3000-step series.
/// </summary>
public class ModelCommandTests
{
    private static readonly string[] TinyTrain = ["--hidden", "4", "--batch", "4", "--window", "24", "--patience", "0", "-q"];

    private static string[] Train(string csv, params string[] more) =>
        ["train", "--data", csv, "--column", "load", .. TinyTrain, .. more];

    private static float[] ParseForecastCsv(string stdout)
    {
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("step,value", lines[0]);
        var values = new float[lines.Length - 1];
        for (int i = 1; i < lines.Length; i++)
        {
            string[] parts = lines[i].Split(',');
            Assert.Equal(i, int.Parse(parts[0], CultureInfo.InvariantCulture));
            values[i - 1] = float.Parse(parts[1], CultureInfo.InvariantCulture);
        }
        return values;
    }

    /// <summary>A one-column model saved through the library, with a hand-chosen scaler (not fitted: any values serve).</summary>
    private static (RecurrentNetwork<T> Network, double Mean, double Std) SaveLibraryModel<T>(string path, int horizon, TargetMode mode, ulong seed)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        var options = new ForecastOptions(horizon, mode);
        var network = new RecurrentNetwork<T>(NetworkArchitecture.Uniform(CellType.Lstm, 1, 5, 1, options.OutputSize(1)), seed);
        const double mean = 49.5, std = 7.25;
        var info = new ForecastingInfo { Scaler = new StandardScaler([mean], [std]), Options = options, ColumnNames = ["load"] };
        ModelFile.Save(path, network, info);
        return (network, mean, std);
    }

    /// <summary>Runs the network over the hand-scaled series; returns the outputs (scaled, as T) of every step.</summary>
    private static T[][] HandLoop<T>(RecurrentNetwork<T> network, float[] series, double mean, double std)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        NetworkState<T> state = network.CreateState();
        var outputs = new T[series.Length][];
        for (int t = 0; t < series.Length; t++)
        {
            T[] x = [T.CreateTruncating((float)((series[t] - mean) / std))];
            outputs[t] = new T[network.Architecture.OutputSize];
            network.Step(x, outputs[t], state);
        }
        return outputs;
    }

    private static float Original<T>(T scaled, double mean, double std) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T> =>
        (float)(float.CreateTruncating(scaled) * std + mean);

    [Theory]
    [InlineData(TargetMode.SingleStep, false)]
    [InlineData(TargetMode.MultiOutput, false)]
    [InlineData(TargetMode.SingleStep, true)]
    public void Forecast_OneShot_FromSavedModel_EqualsHandLoopOfTheInMemoryNetwork(TargetMode mode, bool useDouble)
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(300));
        string model = dir.File("m.rnn");
        const int h = 6;
        float[] series = File.ReadAllLines(csv).Skip(1).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        float[] expected = useDouble ? Expected<double>() : Expected<float>();

        (int code, string stdout, string stderr) = Run("forecast", "--model", model, "--data", csv, "-q");

        Assert.True(code == 0, stderr);
        Assert.Equal(expected, ParseForecastCsv(stdout));

        float[] Expected<T>() where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
        {
            (RecurrentNetwork<T> net, double mean, double std) = SaveLibraryModel<T>(model, h, mode, seed: 11);
            T[][] outputs = HandLoop(net, series, mean, std);
            int n = series.Length;
            // Single step: the output at time t predicts y[t + h], so times n-h .. n-1 give y[n .. n+h-1].
            // Multi-output: the last step's h outputs give them.
            return mode == TargetMode.SingleStep
                ? Enumerable.Range(0, h).Select(k => Original(outputs[n - h + k][0], mean, std)).ToArray()
                : Enumerable.Range(0, h).Select(k => Original(outputs[n - 1][k], mean, std)).ToArray();
        }
    }

    [Fact]
    public void Forecast_OneShot_WithLagAndPhaseFeatures_EqualsHandLoopStartingAtTheFirstCompleteInput()
    {
        using var dir = new TempDir();
        // Short, so that the start of the state run still shows in the forecast (a GRU forgets its start within ~100 steps).
        string csv = dir.Write("load.csv", OneColumn(32));
        string model = dir.File("lags.rnn");
        const int h = 6, lagA = 8, lagB = 20, period = 12;
        var options = new ForecastOptions(h, features: new FeatureSpec([Feature.Value, Feature.Lag(lagA), Feature.Lag(lagB), Feature.Phase(period)]));
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Gru, options.InputSize(1), 5, 1, 1), seed: 9);
        const double mean = 49.5, std = 7.25;
        ModelFile.Save(model, net, new ForecastingInfo { Scaler = new StandardScaler([mean], [std]), Options = options, ColumnNames = ["load"] });
        float[] series = File.ReadAllLines(csv).Skip(1).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        int n = series.Length, first = lagB - h; // the first time whose lag-20 input y[t + h - 20] exists
        float Scaled(int t) => (float)((series[t] - mean) / std);
        NetworkState<float> state = net.CreateState();
        var y = new float[1];
        var expected = new float[h];
        for (int t = first; t < n; t++)
        {
            double angle = 2 * Math.PI * (t % period) / period; // the phase as FeatureSpec documents it
            float[] x = [Scaled(t), Scaled(t + h - lagA), Scaled(t + h - lagB), (float)Math.Sin(angle), (float)Math.Cos(angle)];
            net.Step(x, y, state);
            if (t >= n - h) expected[t - (n - h)] = (float)(y[0] * std + mean);
        }

        (int code, string stdout, string stderr) = Run("forecast", "--model", model, "--data", csv, "-q");

        Assert.True(code == 0, stderr);
        Assert.Equal(expected, ParseForecastCsv(stdout));
        // The library's one-shot path forecast is the same.
        Assert.Equal(expected, new Forecaster(net, new StandardScaler([mean], [std]), options).ForecastPath(new TimeSeries(series)));
    }

    [Fact]
    public void Forecast_Generative_EqualsHandLoopFeedingPredictionsBack_AndJsonDescribesIt()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(200));
        string model = dir.File("h1.rnn");
        (RecurrentNetwork<float> net, double mean, double std) = SaveLibraryModel<float>(model, 1, TargetMode.SingleStep, seed: 5);
        float[] series = File.ReadAllLines(csv).Skip(1).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        const int steps = 7;
        // Hand loop: the state runs over the series; then ŷ[T + k], as printed (original units), is the next value of
        // the series and is scaled into the next input like any history value.
        NetworkState<float> state = net.CreateState();
        float[] y = new float[1];
        foreach (float v in series) net.Step([(float)((v - mean) / std)], y, state);
        var expected = new float[steps];
        for (int k = 0; k < steps; k++)
        {
            expected[k] = (float)(y[0] * std + mean);
            net.Step([(float)((expected[k] - mean) / std)], y, state);
        }

        (int code, string stdout, string stderr) = Run("forecast", "--model", model, "--data", csv, "--generative", "--steps", steps.ToString(CultureInfo.InvariantCulture), "--format", "json", "-q");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal("generative", root.GetProperty("method").GetString());
        Assert.Equal(steps, root.GetProperty("steps").GetInt32());
        Assert.Equal(1, root.GetProperty("model").GetProperty("horizon").GetInt32());
        Assert.Equal(200, root.GetProperty("data").GetProperty("length").GetInt32());
        JsonElement[] forecast = root.GetProperty("forecast").EnumerateArray().ToArray();
        Assert.Equal(expected, forecast.Select(e => e.GetProperty("value").GetSingle()).ToArray());
        Assert.Equal(Enumerable.Range(1, steps), forecast.Select(e => e.GetProperty("step").GetInt32()));
        Assert.Equal(Enumerable.Range(200, steps), forecast.Select(e => e.GetProperty("index").GetInt32()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forecast_Generative_WithLagAndPhaseInputs_IsTheLibrarysGenerate(bool useDouble)
    {
        // A horizon-1 model reading lags and a phase: the tool once refused it ("derived inputs cannot be fed back");
        // the library runs it (lags read the series or values generated before, the phase only the time index).
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(120));
        string model = dir.File("lags.rnn");
        var options = new ForecastOptions(1, features: FeatureSpec.Parse("value,lag3,lag24,phase12"));
        var scaler = new StandardScaler([49.5], [7.25]);
        var info = new ForecastingInfo { Scaler = scaler, Options = options, ColumnNames = ["load"] };
        var arch = NetworkArchitecture.Uniform(CellType.Gru, options.InputSize(1), 5, 1, 1);
        Forecaster library;
        if (useDouble)
        {
            var net = new RecurrentNetwork<double>(arch, seed: 4);
            ModelFile.Save(model, net, info);
            library = new Forecaster(net, scaler, options);
        }
        else
        {
            var net = new RecurrentNetwork<float>(arch, seed: 4);
            ModelFile.Save(model, net, info);
            library = new Forecaster(net, scaler, options);
        }
        float[] series = File.ReadAllLines(csv).Skip(1).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        const int steps = 30;
        float[] expected = library.Generate(new TimeSeries(series), steps);

        (int code, string stdout, string stderr) = Run("forecast", "--model", model, "--data", csv, "--generative", "--steps", "30", "-q");

        Assert.True(code == 0, stderr);
        Assert.Equal(expected, ParseForecastCsv(stdout));
        // Each generated value is the one-shot forecast from the history extended by the values generated before it.
        Assert.Equal(expected[0], library.Forecast(new TimeSeries(series))[0]);
        var extended = series.Concat(expected[..5]).ToArray();
        Assert.Equal(expected[5], library.Forecast(new TimeSeries(extended))[0]);
    }

    [Fact]
    public void TrainOut_ThenEvaluateAndForecast_RepeatTrainsFigures_AndTheFileHoldsScalerOptionsMetadata()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", ThreeColumns(3000));
        string model = dir.File("m.rnn");

        (int code, string trainOut, string trainErr) = Run(Train(csv, "--epochs", "2", "--out", model, "--json"));
        Assert.True(code == 0, trainErr);
        using JsonDocument train = JsonDocument.Parse(trainOut);
        Assert.Equal(model, train.RootElement.GetProperty("model").GetString());

        (int evalCode, string evalOut, string evalErr) = Run("evaluate", "--model", model, "--data", csv, "--column", "load", "--json", "-q");
        Assert.True(evalCode == 0, evalErr);
        using JsonDocument eval = JsonDocument.Parse(evalOut);
        JsonElement t = train.RootElement.GetProperty("test"), e = eval.RootElement.GetProperty("metrics");
        foreach (string m in new[] { "nrmse", "rmse", "mae", "mape", "count" })
            Assert.Equal(t.GetProperty(m).GetRawText(), e.GetProperty(m).GetRawText());
        Assert.Equal(train.RootElement.GetProperty("baselines").GetRawText(), eval.RootElement.GetProperty("baselines").GetRawText());
        Assert.Equal("test", eval.RootElement.GetProperty("part").GetString());

        // The table shows the same figure at its precision.
        (int tableCode, string table, _) = Run("evaluate", "--model", model, "--data", csv, "--column", "load", "-q");
        Assert.Equal(0, tableCode);
        Assert.Contains(t.GetProperty("nrmse").GetDouble().ToString("0.000", CultureInfo.InvariantCulture), table);

        // The file: the scaler fitted on the training part (70 % of 3000), the options, the metadata.
        LoadedModel loaded = ModelFile.Load(model);
        Assert.NotNull(loaded.Forecasting);
        Assert.Equal(24, loaded.Forecasting!.Options.Horizon);
        Assert.Equal(["load"], loaded.Forecasting.ColumnNames);
        double trainMean = Enumerable.Range(0, 2100).Select(i => (double)float.Parse(Value(i).ToString("F4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)).Average();
        Assert.Equal(trainMean, loaded.Forecasting.Scaler.Mean[0], 6);
        Assert.Equal("file", loaded.Metadata["data.source"]);
        Assert.Equal("load", loaded.Metadata["data.column"]);
        Assert.Equal("1", loaded.Metadata["data.aggregate"]);
        Assert.Equal("2", loaded.Metadata["train.epochs"]);
        Assert.Equal(t.GetProperty("nrmse").GetDouble(), Math.Round(double.Parse(loaded.Metadata["test.nrmse"], CultureInfo.InvariantCulture), 6));

        // forecast from the file equals a hand loop of the loaded network with the loaded scaler.
        (int fCode, string fOut, string fErr) = Run("forecast", "--model", model, "--data", csv, "--column", "load", "--steps", "5", "-q");
        Assert.True(fCode == 0, fErr);
        float[] series = Enumerable.Range(0, 3000).Select(i => float.Parse(Value(i).ToString("F4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)).ToArray();
        double mean = loaded.Forecasting.Scaler.Mean[0], std = loaded.Forecasting.Scaler.Std[0];
        float[][] outputs = HandLoop(loaded.FloatNetwork!, series, mean, std);
        float[] expected = Enumerable.Range(0, 5).Select(k => Original(outputs[3000 - 24 + k][0], mean, std)).ToArray();
        Assert.Equal(expected, ParseForecastCsv(fOut));
    }

    [Fact]
    public void Ensemble_MembersAreTheSingleRunsOfConsecutiveSeeds_ForecastIsTheirMean_EvaluateRepeatsTrain()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", ThreeColumns(3000));
        string ensemble = dir.File("ens.rnn"), second = dir.File("seed8.rnn");

        (int code, string trainOut, string trainErr) = Run(Train(csv, "--epochs", "2", "--seed", "7", "--ensemble", "2", "--out", ensemble, "--json"));
        (int code8, _, string err8) = Run(Train(csv, "--epochs", "2", "--seed", "8", "--out", second));
        Assert.True(code == 0 && code8 == 0, trainErr + err8);
        using JsonDocument train = JsonDocument.Parse(trainOut);
        Assert.Equal(2, train.RootElement.GetProperty("ensemble").GetInt32());
        Assert.Equal(4, train.RootElement.GetProperty("epochs").GetInt32());

        // Member 2 is bitwise the network a single run with seed 8 trains.
        LoadedModel loaded = ModelFile.Load(ensemble);
        Assert.Equal(2, loaded.MemberCount);
        Assert.Equal("2", loaded.Metadata["train.ensemble"]);
        IReadOnlyList<RecurrentNetwork<float>> members = loaded.GetMembers<float>();
        Assert.Equal(ModelFile.Load(second).FloatNetwork!.Parameters.ToArray(), members[1].Parameters.ToArray());
        Assert.NotEqual(members[0].Parameters.ToArray(), members[1].Parameters.ToArray());

        // forecast: the mean of the members' scaled outputs (summed in member order in double, divided by 2), then unscaled.
        (int fCode, string fOut, string fErr) = Run("forecast", "--model", ensemble, "--data", csv, "--column", "load", "--steps", "3", "-q");
        Assert.True(fCode == 0, fErr);
        float[] series = Enumerable.Range(0, 3000).Select(i => float.Parse(Value(i).ToString("F4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)).ToArray();
        double mean = loaded.Forecasting!.Scaler.Mean[0], std = loaded.Forecasting.Scaler.Std[0];
        float[][] a = HandLoop(members[0], series, mean, std), b = HandLoop(members[1], series, mean, std);
        float[] expected = Enumerable.Range(0, 3).Select(k => Original((float)(((double)a[3000 - 24 + k][0] + b[3000 - 24 + k][0]) / 2), mean, std)).ToArray();
        Assert.Equal(expected, ParseForecastCsv(fOut));

        (int evalCode, string evalOut, string evalErr) = Run("evaluate", "--model", ensemble, "--data", csv, "--column", "load", "--json", "-q");
        Assert.True(evalCode == 0, evalErr);
        using JsonDocument eval = JsonDocument.Parse(evalOut);
        Assert.Equal(train.RootElement.GetProperty("test").GetRawText(), eval.RootElement.GetProperty("metrics").GetRawText());
    }

    [Fact]
    public void TrainOut_OnTheEmbeddedData_EvaluateWithoutDataRepeatsTheTestFigures()
    {
        using var dir = new TempDir();
        string model = dir.File("e.rnn");

        (int code, string trainOut, string trainErr) = Run("train", "--epochs", "1", "--hidden", "4", "--out", model, "--json", "-q");
        (int evalCode, string evalOut, string evalErr) = Run("evaluate", "--model", model, "--json");

        Assert.True(code == 0 && evalCode == 0, trainErr + evalErr);
        Assert.Contains("aggregate 6 as the model was trained", evalErr);
        using JsonDocument train = JsonDocument.Parse(trainOut), eval = JsonDocument.Parse(evalOut);
        Assert.Equal(train.RootElement.GetProperty("test").GetRawText(), eval.RootElement.GetProperty("metrics").GetRawText());
        Assert.Equal(train.RootElement.GetProperty("maskedRanges").GetRawText(), eval.RootElement.GetProperty("maskedRanges").GetRawText());
    }

    [Fact]
    public void Checkpoint_ThenResume_EqualsTheUninterruptedRun()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(3000));
        string full = dir.File("full.rnn"), resumed = dir.File("resumed.rnn"), checkpoint = dir.File("run.ckpt");

        (int c1, string o1, string e1) = Run(Train(csv, "--epochs", "3", "--out", full, "--json"));
        (int c2, _, string e2) = Run(Train(csv, "--epochs", "2", "--checkpoint", checkpoint));
        Assert.True(File.Exists(checkpoint));
        Assert.Equal(2, TrainingCheckpoint.Load(checkpoint).CompletedEpochs);
        (int c3, string o3, string e3) = Run(Train(csv, "--epochs", "3", "--resume", checkpoint, "--out", resumed, "--json"));

        Assert.True(c1 == 0 && c2 == 0 && c3 == 0, e1 + e2 + e3);
        using JsonDocument a = JsonDocument.Parse(o1), b = JsonDocument.Parse(o3);
        Assert.Equal(a.RootElement.GetProperty("test").GetRawText(), b.RootElement.GetProperty("test").GetRawText());
        Assert.Equal(3, b.RootElement.GetProperty("epochs").GetInt32());
        Assert.Equal(checkpoint, b.RootElement.GetProperty("resumedFrom").GetString());
        string Losses(JsonDocument d) => string.Join(";", d.RootElement.GetProperty("history").EnumerateArray().Select(p => p.GetProperty("trainLoss").GetRawText() + "/" + p.GetProperty("validationLoss").GetRawText()));
        Assert.Equal(Losses(a), Losses(b));

        LoadedModel ma = ModelFile.Load(full), mb = ModelFile.Load(resumed);
        Assert.True(ma.FloatNetwork!.Parameters.SequenceEqual(mb.FloatNetwork!.Parameters), "the resumed run's weights differ from the uninterrupted run's");
        Assert.Equal(ma.Forecasting!.Scaler.Mean[0], mb.Forecasting!.Scaler.Mean[0]);
        // Metadata agree except the save time.
        Assert.Equal(ma.Metadata.Where(kv => kv.Key != "created"), mb.Metadata.Where(kv => kv.Key != "created"));
    }

    [Fact]
    public void Ensemble_CheckpointPerMember_ResumeEqualsTheUninterruptedRun()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(3000));
        string full = dir.File("full.rnn"), resumed = dir.File("resumed.rnn"), checkpoint = dir.File("ens.ckpt");

        (int c1, string o1, string e1) = Run(Train(csv, "--ensemble", "2", "--epochs", "3", "--out", full, "--json"));
        (int c2, _, string e2) = Run(Train(csv, "--ensemble", "2", "--epochs", "2", "--checkpoint", checkpoint));
        Assert.True(c1 == 0 && c2 == 0, e1 + e2);
        Assert.Equal(2, TrainingCheckpoint.Load(checkpoint).CompletedEpochs);       // member 1
        Assert.Equal(2, TrainingCheckpoint.Load(checkpoint + ".2").CompletedEpochs);  // member 2
        (int c3, string o3, string e3) = Run(Train(csv, "--ensemble", "2", "--epochs", "3", "--resume", checkpoint, "--out", resumed, "--json"));

        Assert.True(c3 == 0, e3);
        using JsonDocument a = JsonDocument.Parse(o1), b = JsonDocument.Parse(o3);
        Assert.Equal(a.RootElement.GetProperty("test").GetRawText(), b.RootElement.GetProperty("test").GetRawText());
        IReadOnlyList<RecurrentNetwork<float>> ma = ModelFile.Load(full).GetMembers<float>(), mb = ModelFile.Load(resumed).GetMembers<float>();
        Assert.Equal(2, mb.Count);
        for (int k = 0; k < 2; k++)
            Assert.True(ma[k].Parameters.SequenceEqual(mb[k].Parameters), $"member {k + 1}: the resumed run's weights differ from the uninterrupted run's");
    }

    [Fact]
    public void Resume_Refusals_AreOneLine()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(3000));
        string checkpoint = dir.File("run.ckpt");
        (int c0, _, string e0) = Run(Train(csv, "--epochs", "1", "--checkpoint", checkpoint));
        Assert.True(c0 == 0, e0);

        (int c1, _, string e1) = Run(Train(csv, "--epochs", "2", "--lr", "0.01", "--resume", checkpoint));
        (int c2, _, string e2) = Run(Train(csv, "--epochs", "2", "--hidden", "5", "--resume", checkpoint));
        (int c3, _, string e3) = Run(Train(csv, "--epochs", "2", "--resume", dir.File("missing.ckpt")));
        string other = dir.Write("other.csv", OneColumn(3000, replaceAt: 10, replace: "99.5")); // one training value differs
        (int c4, _, string e4) = Run(["train", "--data", other, .. TinyTrain, "--epochs", "2", "--resume", checkpoint]);
        (int c5, _, string e5) = Run(Train(csv, "--checkpoint-every", "2"));
        (int c6, _, string e6) = Run(Train(csv, "--out", checkpoint, "--checkpoint", checkpoint));
        (int c7, string o7, string e7) = Run(Train(csv, "--out", Path.Combine(dir.Path, "no-such-dir", "m.rnn")));

        Assert.Equal(1, c1);
        Assert.Contains("LearningRate = 0.002 in the checkpoint, 0.01 now", SingleErrorLine(e1)); // the default η0 is 2e-3
        Assert.Equal(1, c2);
        Assert.Contains("H=[4]", SingleErrorLine(e2));
        Assert.Equal(1, c3);
        Assert.Contains("does not exist", SingleErrorLine(e3));
        Assert.Equal(1, c4);
        Assert.Contains("data differ", SingleErrorLine(e4));
        Assert.Equal(2, c5);
        Assert.Contains("--checkpoint-every applies to --checkpoint", SingleErrorLine(e5));
        Assert.Equal(2, c6);
        Assert.Contains("same file", SingleErrorLine(e6));
        Assert.Equal(1, c7);
        Assert.Equal("", o7);
        Assert.Contains("does not exist", SingleErrorLine(e7));
        Assert.DoesNotContain("epoch 1/", e7); // refused before training
    }

    [Fact]
    public void Evaluate_EmbeddedDataByDefault_MasksTheAnomaly_BaselinesAreTheKnownFloors()
    {
        using var dir = new TempDir();
        string model = dir.File("m.rnn");
        SaveLibraryModel<float>(model, 24, TargetMode.SingleStep, seed: 3);

        (int code, string stdout, string stderr) = Run("evaluate", "--model", model, "--json", "-q");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal("acea-rome-hourly", root.GetProperty("data").GetProperty("name").GetString());
        Assert.Equal(6, root.GetProperty("data").GetProperty("aggregate").GetInt32());
        JsonElement masked = Assert.Single(root.GetProperty("maskedRanges").EnumerateArray().ToArray());
        Assert.Equal(new[] { 16000, 17848 }, masked.EnumerateArray().Select(e => e.GetInt32()).ToArray());
        JsonElement[] baselines = root.GetProperty("baselines").EnumerateArray().ToArray();
        Assert.Equal(0.417, baselines[0].GetProperty("nrmse").GetDouble(), 3);
        Assert.Equal(0.434, baselines[2].GetProperty("nrmse").GetDouble(), 3);
        Assert.True(double.IsFinite(root.GetProperty("metrics").GetProperty("nrmse").GetDouble()));
    }

    [Fact]
    public void Evaluate_UsesTheModelsScaler_MetricsEqualAHandLoop()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(3000));
        string model = dir.File("m.rnn");
        const int h = 24;
        // The scaler is hand-chosen, far from the data's z-scores: a refitted scaler would give other predictions.
        (RecurrentNetwork<float> net, double mean, double std) = SaveLibraryModel<float>(model, h, TargetMode.SingleStep, seed: 8);
        float[] series = File.ReadAllLines(csv).Skip(1).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        float[][] outputs = HandLoop(net, series, mean, std);
        // Test targets 2550..2999, predicted by the outputs at t = target - h; RMSE and MAE in original units.
        double se = 0, ae = 0, sum = 0, sumSq = 0;
        for (int target = 2550; target < 3000; target++)
        {
            double e = Original(outputs[target - h][0], mean, std) - (double)series[target];
            se += e * e;
            ae += Math.Abs(e);
            sum += series[target];
            sumSq += (double)series[target] * series[target];
        }
        double rmse = Math.Sqrt(se / 450), mae = ae / 450, variance = sumSq / 450 - (sum / 450) * (sum / 450);

        (int code, string stdout, string stderr) = Run("evaluate", "--model", model, "--data", csv, "--json", "-q");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement m = doc.RootElement.GetProperty("metrics");
        Assert.Equal(450, m.GetProperty("count").GetInt32());
        Assert.Equal(rmse, m.GetProperty("rmse").GetDouble(), 5);
        Assert.Equal(mae, m.GetProperty("mae").GetDouble(), 5);
        Assert.Equal(rmse / Math.Sqrt(variance), m.GetProperty("nrmse").GetDouble(), 5);
    }

    [Theory]
    [InlineData("train", 0, 2100, 2076)]       // targets 24..2099: the first h have no input h steps before them
    [InlineData("validation", 2100, 2550, 450)]
    [InlineData("test", 2550, 3000, 450)]
    [InlineData("all", 0, 3000, 2976)]
    public void Evaluate_Parts_ScoreTheirTargets(string part, int start, int end, int count)
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(3000));
        string model = dir.File("m.rnn");
        SaveLibraryModel<float>(model, 24, TargetMode.SingleStep, seed: 3);

        (int code, string stdout, string stderr) = Run("evaluate", "--model", model, "--data", csv, "--part", part, "--json", "-q");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        Assert.Equal(new[] { start, end }, doc.RootElement.GetProperty("targetRange").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.Equal(count, doc.RootElement.GetProperty("metrics").GetProperty("count").GetInt32());
        Assert.Equal(count, doc.RootElement.GetProperty("baselines")[0].GetProperty("count").GetInt32());
    }

    [Fact]
    public void DamagedModelFiles_AreOneLineInvalidDataErrors()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(300));
        string good = dir.File("good.rnn");
        SaveLibraryModel<float>(good, 4, TargetMode.SingleStep, seed: 1);
        byte[] bytes = File.ReadAllBytes(good);

        foreach (int length in new[] { 0, 7, bytes.Length / 2, bytes.Length - 1 })
        {
            string path = dir.File($"cut{length}.rnn");
            File.WriteAllBytes(path, bytes[..length]);
            (int code, string stdout, string stderr) = Run("forecast", "--model", path, "--data", csv, "-q");
            Assert.Equal(1, code);
            Assert.Equal("", stdout);
            string line = SingleErrorLine(stderr);
            Assert.Contains(path, line);
            Assert.True(line.Contains("truncated", StringComparison.Ordinal) || line.Contains("empty", StringComparison.Ordinal) || line.Contains("not an Rnn.Simd model", StringComparison.Ordinal), line);
        }

        byte[] flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x10;
        string flippedPath = dir.File("flipped.rnn");
        File.WriteAllBytes(flippedPath, flipped);
        (int fCode, _, string fErr) = Run("evaluate", "--model", flippedPath, "--data", csv);
        Assert.Equal(1, fCode);
        Assert.Contains("checksum mismatch", SingleErrorLine(fErr));

        (int mCode, _, string mErr) = Run("forecast", "--model", dir.File("missing.rnn"), "--data", csv);
        Assert.Equal(1, mCode);
        Assert.Contains("does not exist", SingleErrorLine(mErr));

        (int csvCode, _, string csvErr) = Run("forecast", "--model", csv, "--data", csv);
        Assert.Equal(1, csvCode);
        Assert.Contains("not an Rnn.Simd model file", SingleErrorLine(csvErr));
    }

    [Fact]
    public void Mismatches_AreOneLineErrors()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(300));
        string shortCsv = dir.Write("short.csv", OneColumn(5));
        string h24 = dir.File("h24.rnn");
        SaveLibraryModel<float>(h24, 24, TargetMode.SingleStep, seed: 1);

        // A two-column model: the tool loads one column.
        string twoColumns = dir.File("two.rnn");
        var options = new ForecastOptions(1);
        ModelFile.Save(twoColumns, new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Gru, 2, 3, 1, 2), 1),
            new ForecastingInfo { Scaler = new StandardScaler([0.0, 0.0], [1.0, 1.0]), Options = options, ColumnNames = ["a", "b"] });
        // A network without forecasting information.
        string bare = dir.File("bare.rnn");
        ModelFile.Save(bare, new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Elman, 1, 3, 1, 1), 1));

        (int c1, _, string e1) = Run("forecast", "--model", h24, "--data", csv, "--generative");
        (int c2, _, string e2) = Run("forecast", "--model", h24, "--data", csv, "--steps", "25");
        (int c3, _, string e3) = Run("forecast", "--model", h24, "--data", shortCsv);
        (int c4, _, string e4) = Run("evaluate", "--model", h24, "--data", shortCsv);
        (int c5, _, string e5) = Run("forecast", "--model", twoColumns, "--data", csv);
        (int c6, _, string e6) = Run("evaluate", "--model", bare, "--data", csv);
        (int c7, _, string e7) = Run("forecast", "--data", csv);
        (int c8, _, string e8) = Run("evaluate", "--model", h24, "--part", "future");
        (int c9, _, string e9) = Run("forecast", "--model", h24, "--format", "xml");

        Assert.Equal(1, c1);
        Assert.Contains("--generative does not apply to this model: the model was trained for horizon 24", SingleErrorLine(e1));
        Assert.Equal(1, c2);
        Assert.Contains("--steps 25 exceeds the model's horizon 24", SingleErrorLine(e2));
        Assert.Equal(1, c3);
        Assert.Contains("needs at least 24", SingleErrorLine(e3));
        Assert.Equal(1, c4);
        Assert.Contains("too few", SingleErrorLine(e4));
        Assert.Equal(1, c5);
        Assert.Contains("trained on 2 column(s) ('a', 'b'); the data has 1", SingleErrorLine(e5));
        Assert.Equal(1, c6);
        Assert.Contains("no forecasting section", SingleErrorLine(e6));
        Assert.Equal(2, c7);
        Assert.Contains("--model FILE is required", SingleErrorLine(e7));
        Assert.Equal(2, c8);
        Assert.Contains("--part must be", SingleErrorLine(e8));
        Assert.Equal(2, c9);
        Assert.Contains("--format must be csv or json", SingleErrorLine(e9));
    }

    [Fact]
    public void Forecast_OutputFile_LeavesStdoutEmpty()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(100));
        string model = dir.File("m.rnn");
        SaveLibraryModel<float>(model, 3, TargetMode.SingleStep, seed: 2);
        string target = dir.File("next.json");

        (int code, string stdout, string stderr) = Run("forecast", "--model", model, "--data", csv, "--json", "--output", target);
        (int csvCode, string csvOut, _) = Run("forecast", "--model", model, "--data", csv, "-q");

        Assert.True(code == 0 && csvCode == 0, stderr);
        Assert.Equal("", stdout);
        Assert.Contains("wrote 3 forecast value(s)", stderr);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(target));
        Assert.Equal("one-shot", doc.RootElement.GetProperty("method").GetString());
        Assert.Equal(ParseForecastCsv(csvOut), doc.RootElement.GetProperty("forecast").EnumerateArray().Select(e => e.GetProperty("value").GetSingle()).ToArray());
    }

    [Theory]
    [InlineData("train", "--resume")]
    [InlineData("forecast", "--generative")]
    [InlineData("evaluate", "--part")]
    public void CommandHelp_RendersEveryOptionIncludingTheSharedDataOptions(string command, string own)
    {
        (int code, string stdout, string stderr) = Run(command, "--help");

        Assert.Equal(0, code); // an unescaped [ ] in a description is Spectre markup and fails rendering
        Assert.Equal("", stderr);
        Assert.Contains("--data <FILE>", stdout, StringComparison.Ordinal);
        Assert.Contains("--fill-gaps", stdout, StringComparison.Ordinal);
        Assert.Contains(own, stdout, StringComparison.Ordinal);
    }
}
