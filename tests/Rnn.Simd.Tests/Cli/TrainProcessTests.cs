using System.Diagnostics;
using System.Text.Json;
using static Rnn.Simd.Tests.Cli.CliSeries;

namespace Rnn.Simd.Tests.Cli;

/// <summary>
/// <c>rnn-simd</c> as a separate process (<c>dotnet rnn-simd.dll</c>, the build output copied next to the test
/// assembly), with redirected streams as in a script or CI: progress lines on stderr, the result on stdout, exit codes,
/// one-line errors, and SIGINT. Few and short: tiny budgets; a generous timeout only guards against a hang.
/// </summary>
public class TrainProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private static string ToolPath()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "rnn-simd.dll");
        Assert.True(File.Exists(path), $"{path} is missing: the test project references Rnn.Simd.Cli, whose build output is copied here.");
        return path;
    }

    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ToolPath());
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("RNN_SIMD_DEBUG");
        return Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
    }

    private static (int Code, string Out, string Err) RunProcess(params string[] args)
    {
        using Process p = Start(args);
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
    public void DefaultData_ShortBudget_TableOnStdout_ProgressLinesOnStderr()
    {
        (int code, string stdout, string stderr) = RunProcess("train", "--epochs", "2", "--hidden", "8");

        Assert.True(code == 0, stderr);
        Assert.Contains("seasonal naive (lag 168)", stdout);
        Assert.Contains("0.434", stdout); // the lag-168 floor of the embedded data
        Assert.DoesNotContain("\u001b[", stdout + stderr, StringComparison.Ordinal); // redirected: no escape codes, no live bar
        string[] epochLines = stderr.Split('\n').Where(l => l.StartsWith("rnn-simd: epoch ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2 * 5, epochLines.Length); // 2 epochs of each of the default ensemble's 5 members
        Assert.StartsWith("rnn-simd: epoch 1/2 loss ", epochLines[0]);
        Assert.Contains("rnn-simd: ensemble member 5/5 (seed 5)", stderr);
    }

    [Fact]
    public void UserCsv_Json_StdoutIsOneDocument_ErrorsAreOneLine()
    {
        using var dir = new TempDir();
        string path = dir.WriteGzip("load.csv.gz", ThreeColumns(3000));

        (int code, string stdout, string stderr) = RunProcess("train", "--data", path, "--column", "load", "--epochs", "1", "--hidden", "4", "--batch", "4", "--window", "24", "--json");
        (int missingCode, string missingOut, string missingErr) = RunProcess("train", "--data", dir.File("nope.csv"));
        (int usageCode, _, string usageErr) = RunProcess("train", "--mode", "sideways");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        Assert.Equal("load", doc.RootElement.GetProperty("column").GetString());
        Assert.Equal(3, doc.RootElement.GetProperty("baselines").GetArrayLength());
        Assert.Equal(1, missingCode);
        Assert.Equal("", missingOut);
        Assert.Contains("does not exist", SingleErrorLine(missingErr));
        Assert.Equal(2, usageCode);
        Assert.Contains("--mode", SingleErrorLine(usageErr));
    }

    [Fact]
    public async Task Sigint_StopsTraining_AndStillReportsTheBestModel()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return; // SIGINT via kill(1)
        using var dir = new TempDir();
        string path = dir.Write("load.csv", OneColumn(3000));
        using Process p = Start("train", "--data", path, "--epochs", "100000", "--patience", "0", "--hidden", "4", "--batch", "4", "--window", "24", "--json");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = new System.Text.StringBuilder();
        string? line;
        while ((line = p.StandardError.ReadLine()) is not null)
        {
            stderr.AppendLine(line);
            if (line.StartsWith("rnn-simd: epoch 1/", StringComparison.Ordinal)) break;
        }
        Assert.NotNull(line);
        using (Process kill = Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        stderr.Append(p.StandardError.ReadToEnd());
        if (!p.WaitForExit(Timeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("rnn-simd did not stop after SIGINT.");
        }

        Assert.True(p.ExitCode == 130, stderr.ToString());
        using JsonDocument doc = JsonDocument.Parse(await stdout);
        Assert.True(doc.RootElement.GetProperty("cancelled").GetBoolean());
        Assert.True(doc.RootElement.GetProperty("epochs").GetInt32() >= 1);
        Assert.True(doc.RootElement.GetProperty("bestEpoch").GetInt32() >= 1);
        Assert.Contains("cancelling", stderr.ToString());
    }
}
