using System.Globalization;
using Rnn.Simd.Cli.Infrastructure;

namespace Rnn.Simd.Cli.Commands;

/// <summary><c>gradient-norms.png</c> of <c>diagnose --plot</c>: the mean gradient norm against the lag, log scale, one line per network.</summary>
public static class DiagnosePlot
{
    /// <summary>Writes the plot into <paramref name="directory"/> (created if needed) and returns its path.</summary>
    public static string Write(string directory, DiagnoseReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"--plot: cannot create the directory '{directory}': {e.Message}", e);
        }
        var plot = new ScottPlot.Plot();
        foreach (DiagnoseNetwork n in report.Networks)
        {
            double[] lag = [.. Enumerable.Range(1, n.GradientNorms.Count).Select(k => (double)k)];
            double[] log = [.. n.GradientNorms.Select(g => Math.Log10(Math.Max(g, 1e-300)))];
            var s = plot.Add.ScatterLine(lag, log);
            s.LegendText = string.Create(CultureInfo.InvariantCulture, $"{n.Cell} H={string.Join(",", n.Hidden)}");
            s.LineWidth = 2;
        }
        plot.Title(string.Create(CultureInfo.InvariantCulture, $"Mean gradient norm ||dL_t/ds_(t-k)|| against the lag k ({report.Source}, T = {report.Steps})"));
        plot.XLabel("lag k (steps back)");
        plot.YLabel("log10 norm");
        plot.ShowLegend();
        string path = Path.Combine(directory, "gradient-norms.png");
        try
        {
            plot.SavePng(path, 1200, 600);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--plot: cannot write '{path}': {e.Message}", e);
        }
        return path;
    }
}
