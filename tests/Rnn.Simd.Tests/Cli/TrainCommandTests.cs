using System.Text.Json;
using Rnn.Simd.Cli;

namespace Rnn.Simd.Tests.Cli;

/// <summary>
/// <c>rnn-simd train</c> in process on a shortened budget (a few epochs): the JSON document has every field, the
/// baselines are the known floors of the embedded data, the masked anomaly is reported, and bad options fail with
/// exit code 2 and one line. No quality or speed assertion on the model itself at this budget.
/// </summary>
public class TrainCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Train_Json_ShortBudget_HasMetricsBaselinesAndTiming()
    {
        (int code, string stdout, string stderr) = Run("train", "--json", "--epochs", "2", "--hidden", "8");
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal(24, root.GetProperty("horizon").GetInt32());
        JsonElement test = root.GetProperty("test");
        foreach (string name in new[] { "nrmse", "rmse", "mae", "mape" })
        {
            double v = test.GetProperty(name).GetDouble();
            Assert.True(double.IsFinite(v) && v > 0, $"test.{name} = {v}");
        }
        JsonElement[] baselines = root.GetProperty("baselines").EnumerateArray().ToArray();
        Assert.Equal(3, baselines.Length);
        Assert.Equal("persistence", baselines[0].GetProperty("name").GetString());
        Assert.Equal(24, baselines[0].GetProperty("lag").GetInt32());
        Assert.Equal(0.417, baselines[0].GetProperty("nrmse").GetDouble(), 3);
        Assert.Equal("seasonalNaive", baselines[1].GetProperty("name").GetString());
        Assert.Equal(24, baselines[1].GetProperty("lag").GetInt32());
        Assert.Equal(0.417, baselines[1].GetProperty("nrmse").GetDouble(), 3);
        Assert.Equal("seasonalNaive", baselines[2].GetProperty("name").GetString());
        Assert.Equal(168, baselines[2].GetProperty("lag").GetInt32());
        Assert.Equal(0.434, baselines[2].GetProperty("nrmse").GetDouble(), 3);
        // Single mode: the last step is the only step.
        Assert.Equal(test.GetProperty("rmse").GetDouble(), root.GetProperty("testLastStep").GetProperty("rmse").GetDouble());
        Assert.Equal("single", root.GetProperty("mode").GetString());
        Assert.Equal("acea-rome-hourly", root.GetProperty("data").GetString());
        Assert.Equal(6, root.GetProperty("aggregate").GetInt32());
        Assert.Equal(2, root.GetProperty("history").GetArrayLength());
        Assert.False(root.GetProperty("cancelled").GetBoolean());
        // The embedded data's default is a 5-member seed ensemble: "epochs" sums the members', "history" is the first member's.
        Assert.Equal(5, root.GetProperty("ensemble").GetInt32());
        Assert.Equal(10, root.GetProperty("epochs").GetInt32());
        JsonElement[] members = root.GetProperty("members").EnumerateArray().ToArray();
        Assert.Equal(5, members.Length);
        for (int k = 0; k < 5; k++)
        {
            Assert.Equal(1 + k, members[k].GetProperty("seed").GetInt32());
            Assert.Equal(2, members[k].GetProperty("epochs").GetInt32());
        }
        Assert.Equal("value,lag48,lag72,lag168", root.GetProperty("features").GetString());
        Assert.True(root.GetProperty("trainSeconds").GetDouble() > 0);
        Assert.True(root.GetProperty("windowsPerSecond").GetDouble() > 0);
        Assert.Equal(new[] { 16000, 17848 }, root.GetProperty("maskedHours").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        JsonElement masked = Assert.Single(root.GetProperty("maskedRanges").EnumerateArray().ToArray());
        Assert.Equal(new[] { 16000, 17848 }, masked.EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.Contains("masked out", stderr);
    }

    [Fact]
    public void Train_SameSeed_SameResult()
    {
        (int c1, string o1, string e1) = Run("train", "--json", "--epochs", "1", "--hidden", "4", "--seed", "7");
        (int c2, string o2, string e2) = Run("train", "--json", "--epochs", "1", "--hidden", "4", "--seed", "7");
        Assert.True(c1 == 0 && c2 == 0, e1 + e2);
        using JsonDocument d1 = JsonDocument.Parse(o1), d2 = JsonDocument.Parse(o2);
        Assert.Equal(d1.RootElement.GetProperty("test").GetProperty("rmse").GetDouble(), d2.RootElement.GetProperty("test").GetProperty("rmse").GetDouble());
    }

    [Fact]
    public void Train_TrainerOptions_AreAccepted()
    {
        (int code, string stdout, string stderr) = Run("train", "--json", "--epochs", "1", "--hidden", "4", "--optimizer", "rmspropgains",
            "--bptt", "n,1", "--window", "6", "--batch", "8", "--l1", "1e-6", "--l2", "1e-5", "--dropout-input", "0.1",
            "--dropout-recurrent", "0.1", "--dropout-output", "0.1", "--clip", "1", "--cell", "gru");
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        Assert.Equal("Gru", doc.RootElement.GetProperty("cell").GetString());
        Assert.True(double.IsFinite(doc.RootElement.GetProperty("test").GetProperty("nrmse").GetDouble()));
    }

    [Theory]
    [InlineData("orthogonal", "plateau")]
    [InlineData("glorot", "step")]
    [InlineData("he", "exp")]
    [InlineData("chapter", "frac")]
    [InlineData("pytorch", "constant")]
    public void Train_InitAndSchedule_AreAccepted_AndChangeTheRun(string init, string schedule)
    {
        (int code, string stdout, string stderr) = Run("train", "--json", "--epochs", "2", "--hidden", "4", "--init", init, "--schedule", schedule, "--decay-every", "1");
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        double rmse = doc.RootElement.GetProperty("test").GetProperty("rmse").GetDouble();
        Assert.True(double.IsFinite(rmse) && rmse > 0);
        if (init != "pytorch")
        {
            (int c0, string o0, string e0) = Run("train", "--json", "--epochs", "2", "--hidden", "4", "--schedule", schedule, "--decay-every", "1");
            Assert.True(c0 == 0, e0);
            using JsonDocument d0 = JsonDocument.Parse(o0);
            Assert.NotEqual(d0.RootElement.GetProperty("test").GetProperty("rmse").GetDouble(), rmse);
        }
    }

    [Fact]
    public void Train_SeriesTooShortForTheBatch_ExitCode1_OneLine()
    {
        (int code, string stdout, string stderr) = Run("train", "--batch", "4000", "--epochs", "1");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        string[] errors = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains("error")).ToArray();
        Assert.Single(errors);
        Assert.Contains("4000 streams", errors[0]);
    }

    [Theory]
    [InlineData("--bptt", "3,7")]
    [InlineData("--bptt", "sideways")]
    [InlineData("--dropout-input", "1.5")]
    [InlineData("--dropout-input", "1")]
    [InlineData("--dropout-recurrent", "1")]
    [InlineData("--dropout-output", "-0.1")]
    [InlineData("--mode", "both")]
    [InlineData("--fill-gaps", "spline")]
    [InlineData("--separator", "x")]
    [InlineData("--seasons", "24,0")]
    [InlineData("--aggregate", "0")]
    [InlineData("--column", "load")]
    [InlineData("--separator", ",")]
    [InlineData("--optimizer", "lbfgs")]
    [InlineData("--l2", "-1")]
    [InlineData("--schedule", "warp")]
    [InlineData("--init", "zeros")]
    [InlineData("--decay", "0")]
    [InlineData("--hidden", "0")]
    [InlineData("--cell", "transformer")]
    [InlineData("--lr", "-1")]
    [InlineData("--epochs", "x")]
    public void Train_BadOption_ExitCode2_OneLine(string option, string value)
    {
        (int code, string stdout, string stderr) = Run("train", option, value);
        Assert.True(code == 2, stderr);
        Assert.Equal("", stdout);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(option, lines[0]);
    }
}
