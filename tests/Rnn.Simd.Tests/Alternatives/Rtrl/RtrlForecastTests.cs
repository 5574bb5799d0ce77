using Rnn.Simd.Alternatives.Rtrl;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Xunit.Abstractions;

namespace Rnn.Simd.Tests.Alternatives.Rtrl;

// RTRL on the tool's default task (the embedded ACEA series, the AceaHourly preset's features and horizon, hours
// 16000-17847 masked as `rnn-simd train` does) with a network small enough for RTRL's O(H⁴) steps (LSTM, H = 8): it
// must beat both seasonal-naive baselines computed here on the same test targets. A few seconds single-threaded.
public class RtrlForecastTests(ITestOutputHelper output)
{
    [Fact]
    public void SmallLstm_TrainedByRtrl_BeatsBothSeasonalNaiveBaselines_OnTest()
    {
        TimeSeries hourly;
        using (Stream stream = typeof(Rnn.Simd.Cli.Program).Assembly.GetManifestResourceStream("Rnn.Simd.Cli.Data.acea-rome-10min.csv.gz")!)
            hourly = CsvSeriesReader.Read(stream).Aggregate(6);
        ForecastPreset preset = ForecastPresets.AceaHourly;
        var data = ForecastDataset.Create(hourly, preset.CreateOptions(), TimeMask.Exclude(16000, 17848));
        ForecastWindows test = data.Test!;
        var network = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, test.InputSize, [8], test.OutputSize), seed: 1);
        var trainer = new RtrlTrainer<float>(network, new RtrlOptions { Epochs = 8, Patience = 3, LearningRate = 1e-3, ClipNorm = 1 });
        TrainingResult result = trainer.Fit(data.Train.ToSequenceData(), data.Validation!.ToSequenceData());

        // Chronological run: train and validation rows warm the state, then the test rows are predicted.
        NetworkState<float> state = network.CreateState();
        var scratch = new float[test.OutputSize];
        foreach (ForecastWindows part in new[] { data.Train, data.Validation! })
            for (int t = 0; t < part.Length; t++) network.Step(part.Inputs.Slice(t * part.InputSize, part.InputSize), scratch, state);
        var predictions = new float[test.Length * test.OutputSize];
        for (int t = 0; t < test.Length; t++)
            network.Step(test.Inputs.Slice(t * test.InputSize, test.InputSize), predictions.AsSpan(t * test.OutputSize, test.OutputSize), state);

        double model = test.EvaluateScaled(predictions).Nrmse!.Value;
        double daily = Baselines.EvaluateSeasonalNaive(test, 24).Nrmse!.Value;
        double weekly = Baselines.EvaluateSeasonalNaive(test, 168).Nrmse!.Value;
        output.WriteLine($"RTRL LSTM H=8: test NRMSE {model:F4} (seasonal naive 24: {daily:F4}, 168: {weekly:F4}); {result.EpochsRun} epochs, best {result.BestEpoch}, {result.Elapsed.TotalSeconds:F1} s");
        Assert.True(model < daily && model < weekly, $"test NRMSE {model:F4} does not beat seasonal naive 24 ({daily:F4}) and 168 ({weekly:F4})");
    }
}
