using System.Diagnostics;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using static Rnn.Simd.Tests.Cli.CliSeries;

namespace Rnn.Simd.Tests.Cli;

/// <summary>
/// <c>rnn-simd forecast</c> and <c>evaluate</c> as a separate process with redirected streams: the forecast CSV on
/// stdout equals the in-process run's, and a damaged model file is one error line on stderr with exit code 1.
/// </summary>
public class ModelProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static (int Code, string Out, string Err) RunProcess(params string[] args)
    {
        string tool = Path.Combine(AppContext.BaseDirectory, "rnn-simd.dll");
        Assert.True(File.Exists(tool), $"{tool} is missing.");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(tool);
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("RNN_SIMD_DEBUG");
        using Process p = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Timeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"rnn-simd {string.Join(' ', args)} did not finish within {Timeout}.");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Forecast_AndDamagedModel_AsAProcess()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(200));
        string model = dir.File("m.rnn");
        var options = new ForecastOptions(5);
        ModelFile.Save(model, new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Gru, 1, 4, 1, 1), 9),
            new ForecastingInfo { Scaler = new StandardScaler([50.0], [8.0]), Options = options, ColumnNames = ["load"] });
        string damaged = dir.File("damaged.rnn");
        File.WriteAllBytes(damaged, File.ReadAllBytes(model)[..^3]);

        (int code, string stdout, string stderr) = RunProcess("forecast", "--model", model, "--data", csv);
        (int badCode, string badOut, string badErr) = RunProcess("evaluate", "--model", damaged, "--data", csv);

        Assert.True(code == 0, stderr);
        Assert.Equal(Run("forecast", "--model", model, "--data", csv, "-q").Out, stdout);
        Assert.Equal(6, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // header + h rows
        Assert.Contains("rnn-simd: model ", stderr, StringComparison.Ordinal);
        Assert.Equal(1, badCode);
        Assert.Equal("", badOut);
        Assert.Contains("truncated", SingleErrorLine(badErr), StringComparison.Ordinal);
    }
}
