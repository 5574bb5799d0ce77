using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Xunit.Abstractions;

namespace Rnn.Simd.Tests.Forecasting;

// The recommended preset trained on the real embedded data, as `rnn-simd train` runs it (hours 16000-17847 masked):
// it must beat both seasonal-naive baselines computed on the same test targets. No figure is hard-coded: the
// baselines are computed here. Takes a few seconds of single-threaded training.
public class AceaPresetTests(ITestOutputHelper output)
{
    [Fact]
    public void AceaHourlyPreset_BeatsBothSeasonalNaiveBaselines_OnTest()
    {
        TimeSeries hourly;
        using (Stream stream = typeof(Rnn.Simd.Cli.Program).Assembly.GetManifestResourceStream("Rnn.Simd.Cli.Data.acea-rome-10min.csv.gz")!)
            hourly = CsvSeriesReader.Read(stream).Aggregate(6);
        ForecastPreset preset = ForecastPresets.AceaHourly;
        var data = ForecastDataset.Create(hourly, preset.CreateOptions(), TimeMask.Exclude(16000, 17848));
        var network = new RecurrentNetwork<float>(preset.CreateArchitecture(), seed: 1);
        var trainer = new Trainer<float>(network, preset.CreateTrainerOptions(1));
        TrainingResult result = trainer.Fit(data.Train.ToSequenceData(), data.Validation!.ToSequenceData());

        // Chronological run: train and validation rows warm the state, then the test rows are predicted.
        NetworkState<float> state = network.CreateState();
        var scratch = new float[1];
        foreach (ForecastWindows part in new[] { data.Train, data.Validation! })
            for (int t = 0; t < part.Length; t++) network.Step(part.Inputs.Slice(t * part.InputSize, part.InputSize), scratch, state);
        ForecastWindows test = data.Test!;
        var predictions = new float[test.Length];
        for (int t = 0; t < test.Length; t++) network.Step(test.Inputs.Slice(t * test.InputSize, test.InputSize), predictions.AsSpan(t, 1), state);

        double model = test.EvaluateScaled(predictions).Nrmse!.Value;
        double daily = Baselines.EvaluateSeasonalNaive(test, 24).Nrmse!.Value;
        double weekly = Baselines.EvaluateSeasonalNaive(test, 168).Nrmse!.Value;
        output.WriteLine($"test NRMSE {model:F4} (seasonal naive 24: {daily:F4}, 168: {weekly:F4}); {result.EpochsRun} epochs, best {result.BestEpoch}");
        Assert.True(model < daily && model < weekly, $"test NRMSE {model:F4} does not beat seasonal naive 24 ({daily:F4}) and 168 ({weekly:F4})");
    }
}
