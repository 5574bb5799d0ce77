using System.Globalization;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Training;

namespace Rnn.Simd.Cli.Train;

/// <summary>
/// PNG plots of a training run (ScottPlot, rendered headless through SkiaSharp): <c>forecast.png</c>, the forecast of
/// y[t+h] against the actual values over the first <see cref="ForecastSteps"/> targets of the test part, in original
/// units; <c>loss.png</c>, training and validation loss per epoch. Fixed size <see cref="Width"/> x <see cref="Height"/>.
/// Each file is rendered to a temporary file in the same directory and renamed over the target, so a failed or
/// interrupted run never leaves a half-written PNG.
/// </summary>
public static class TrainPlots
{
    /// <summary>Image width in pixels.</summary>
    public const int Width = 1200;

    /// <summary>Image height in pixels.</summary>
    public const int Height = 600;

    /// <summary>Targets shown in forecast.png: two weeks of hourly steps.</summary>
    public const int ForecastSteps = 14 * 24;

    /// <summary>Writes both plots into <paramref name="directory"/> (created if needed); returns their paths.</summary>
    public static IReadOnlyList<string> Write(string directory, TrainingOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(outcome);
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"--plot: cannot create the directory '{directory}': {e.Message}", e);
        }
        string forecast = Path.Combine(directory, "forecast.png");
        string loss = Path.Combine(directory, "loss.png");
        Save(ForecastPlot(outcome), forecast);
        Save(LossPlot(outcome.Result), loss);
        return [forecast, loss];
    }

    private static ScottPlot.Plot ForecastPlot(TrainingOutcome outcome)
    {
        ForecastWindows test = outcome.Test;
        int o = test.OutputSize, last = o - 1, h = test.Horizon;
        // Rows in order of their target time y[t+h]; the first two weeks of test targets.
        int rows = Math.Min(ForecastSteps, test.Length);
        double[] time = new double[rows], actual = new double[rows], predicted = new double[rows];
        int n = 0;
        for (int r = 0; r < test.Length && n < rows; r++)
        {
            int i = r * o + last;
            if (test.Weights[i] == 0) continue; // a masked or out-of-part target
            time[n] = test.TargetTime(r, last);
            actual[n] = test.ActualTargets[i];
            predicted[n] = outcome.TestPredictions[i];
            n++;
        }
        Array.Resize(ref time, n);
        Array.Resize(ref actual, n);
        Array.Resize(ref predicted, n);

        var plot = new ScottPlot.Plot();
        var a = plot.Add.ScatterLine(time, actual);
        a.LegendText = "actual";
        a.LineWidth = 2;
        var p = plot.Add.ScatterLine(time, predicted);
        p.LegendText = string.Create(CultureInfo.InvariantCulture, $"forecast {h} step(s) ahead");
        p.LineWidth = 2;
        plot.Title(string.Create(CultureInfo.InvariantCulture, $"{outcome.Data.Name} '{outcome.Data.Column}': forecast vs actual, first {n} test targets"));
        plot.XLabel(outcome.Data.IsEmbedded && outcome.Data.Aggregate == 6 ? "hour (time index)" : "time index");
        plot.YLabel(outcome.Data.Column);
        plot.ShowLegend();
        return plot;
    }

    private static ScottPlot.Plot LossPlot(TrainingResult result)
    {
        int n = result.History.Count;
        double[] epoch = new double[n], train = new double[n], validation = new double[n];
        for (int i = 0; i < n; i++)
        {
            EpochProgress e = result.History[i];
            epoch[i] = e.Epoch;
            train[i] = e.TrainLoss;
            validation[i] = e.ValidationLoss;
        }
        var plot = new ScottPlot.Plot();
        var t = plot.Add.Scatter(epoch, train);
        t.LegendText = "training loss";
        var v = plot.Add.Scatter(epoch, validation);
        v.LegendText = "validation loss";
        if (result.BestEpoch > 0)
        {
            var best = plot.Add.VerticalLine(result.BestEpoch);
            best.LinePattern = ScottPlot.LinePattern.Dashed;
            best.LegendText = string.Create(CultureInfo.InvariantCulture, $"best epoch {result.BestEpoch}");
        }
        plot.Title("Loss per epoch (MSE of scaled values)");
        plot.Legend.Alignment = ScottPlot.Alignment.UpperRight;
        plot.XLabel("epoch");
        plot.YLabel("loss");
        plot.ShowLegend();
        return plot;
    }

    private static void Save(ScottPlot.Plot plot, string path)
    {
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp.png");
        try
        {
            plot.SavePng(temp, Width, Height);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--plot: cannot write '{path}': {e.Message}", e);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
