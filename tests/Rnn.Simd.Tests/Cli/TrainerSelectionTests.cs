using System.Reflection;
using System.Text.Json;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Train.Trainers;
using Rnn.Simd.Persistence;
using Spectre.Console.Cli;
using static Rnn.Simd.Tests.Cli.CliSeries;

namespace Rnn.Simd.Tests.Cli;

/// <summary>
/// <c>rnn-simd train --trainer NAME</c> (issue #12): the registry, the option rules (an option of one trainer is refused
/// by the others, one line and exit 2), and every trainer end to end on a short budget: the run reports its trainer,
/// saves a model file, and <c>evaluate</c> of that file repeats the run's test figures, <c>forecast</c> runs it.
/// </summary>
public class TrainerSelectionTests
{
    private static readonly string[] AllOptionNames = typeof(TrainSettings).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Select(p => p.GetCustomAttribute<CommandOptionAttribute>()).Where(a => a is not null).Select(a => "--" + a!.LongNames[0]).ToArray();

    [Fact]
    public void Registry_NamesAreUnique_BpttIsTheDefault_AndEveryListedOptionExists()
    {
        Assert.Equal("bptt", TrainerKinds.Default.Name);
        Assert.Equal(["bptt", "rtrl", "ekf", "cmaes", "evolino", "esn", "random"], TrainerKinds.All.Select(k => k.Name));
        foreach (TrainerKind kind in TrainerKinds.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(kind.Summary));
            foreach (string option in kind.Options) Assert.True(AllOptionNames.Contains(option), $"--trainer {kind.Name} lists {option}, which train does not have");
        }
        // The data and output options are shared by every trainer.
        string[] shared = TrainerKinds.SharedOptions(AllOptionNames).ToArray();
        foreach (string option in new[] { "--trainer", "--data", "--column", "--horizon", "--features", "--seed", "--ensemble", "--out", "--json", "--threads" })
            Assert.Contains(option, shared);
        Assert.DoesNotContain("--lr", shared);
        Assert.DoesNotContain("--ridge", shared);
    }

    [Theory]
    [InlineData("esn", "--lr", "0.1", "--lr is an option of --trainer bptt, rtrl; --trainer esn has no such option.")]
    [InlineData("bptt", "--ridge", "1", "--ridge is an option of --trainer evolino, esn; --trainer bptt has no such option.")]
    [InlineData("cmaes", "--checkpoint", "x.ckpt", "--checkpoint is an option of --trainer bptt; --trainer cmaes has no such option.")]
    [InlineData("rtrl", "--population", "8", "--population is an option of --trainer cmaes, evolino, random; --trainer rtrl has no such option.")]
    [InlineData("ekf", "--dropout-input", "0.1", "--dropout-input is an option of --trainer bptt; --trainer ekf has no such option.")]
    public void OptionOfAnotherTrainer_ExitCode2_OneLine(string trainer, string option, string value, string message)
    {
        (int code, string stdout, string stderr) = Run("train", "--trainer", trainer, option, value);
        Assert.True(code == 2, stderr);
        Assert.Equal("", stdout);
        Assert.Equal("rnn-simd: error: " + message, SingleErrorLine(stderr));
    }

    [Theory]
    [InlineData("--trainer", "backprop", "--trainer must be one of bptt, rtrl, ekf, cmaes, evolino, esn, random")]
    [InlineData("--spectral-radius", "0", "--spectral-radius")]
    [InlineData("--spectral-radius", "-1", "--spectral-radius")]
    [InlineData("--density", "0", "--density")]
    [InlineData("--density", "1.5", "--density")]
    [InlineData("--ridge", "-1", "--ridge")]
    [InlineData("--leak", "0", "--leak")]
    [InlineData("--readout", "pca", "--readout")]
    public void BadTrainerValue_ExitCode2_OneLine(string option, string value, string expected)
    {
        string[] args = option == "--trainer" ? ["train", option, value] : ["train", "--trainer", "esn", option, value];
        (int code, _, string stderr) = Run(args);
        Assert.True(code == 2, stderr);
        Assert.Contains(expected, SingleErrorLine(stderr), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--population", "1", "cmaes")]
    [InlineData("--population", "1", "evolino")]
    [InlineData("--ekf-r", "0", "ekf")]
    [InlineData("--ekf-variant", "square-root", "ekf")]
    [InlineData("--update-every", "0", "rtrl")]
    [InlineData("--holdout", "1", "evolino")]
    public void BadValueOfOtherTrainers_ExitCode2(string option, string value, string trainer)
    {
        (int code, _, string stderr) = Run("train", "--trainer", trainer, option, value);
        Assert.True(code == 2, stderr);
        Assert.Contains(option, SingleErrorLine(stderr), StringComparison.Ordinal);
    }

    public static TheoryData<string, string[]> EndToEndCases() => new()
    {
        { "rtrl", ["--hidden", "3", "--epochs", "1"] },
        { "ekf", ["--hidden", "3", "--epochs", "1"] },
        { "cmaes", ["--hidden", "3", "--epochs", "2"] },
        { "evolino", ["--hidden", "3", "--epochs", "2"] },
        { "esn", ["--hidden", "40", "--ridge", "1e-4,1"] },
        { "esn", ["--hidden", "40", "--leak", "0.5", "--readout", "state"] },
        { "random", ["--hidden", "3", "--epochs", "2"] },
    };

    [Theory]
    [MemberData(nameof(EndToEndCases))]
    public void Trainer_TrainsSavesEvaluatesAndForecasts(string trainer, string[] options)
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", ThreeColumns(1200));
        string model = dir.File("m.rnn");
        (int code, string trainOut, string trainErr) = Run(["train", "--trainer", trainer, "--data", csv, "--column", "load", .. options, "--out", model, "--json", "-q"]);
        Assert.True(code == 0, trainErr);
        using JsonDocument train = JsonDocument.Parse(trainOut);
        Assert.Equal(trainer, train.RootElement.GetProperty("trainer").GetString());
        Assert.True(train.RootElement.GetProperty("trainerOptions").EnumerateObject().Any());
        Assert.True(double.IsFinite(train.RootElement.GetProperty("test").GetProperty("rmse").GetDouble()));

        LoadedModel loaded = ModelFile.Load(model);
        Assert.Equal(trainer, loaded.Metadata["train.trainer"]);

        (int evalCode, string evalOut, string evalErr) = Run("evaluate", "--model", model, "--data", csv, "--column", "load", "--json", "-q");
        Assert.True(evalCode == 0, evalErr);
        using JsonDocument eval = JsonDocument.Parse(evalOut);
        foreach (string m in new[] { "nrmse", "rmse", "mae" })
            Assert.Equal(train.RootElement.GetProperty("test").GetProperty(m).GetRawText(), eval.RootElement.GetProperty("metrics").GetProperty(m).GetRawText());

        (int forecastCode, string forecast, string forecastErr) = Run("forecast", "--model", model, "--data", csv, "--column", "load", "-q");
        Assert.True(forecastCode == 0, forecastErr);
        Assert.StartsWith("step,value", forecast, StringComparison.Ordinal);
    }

    private static (int Code, string Out, string Err) Run(params string[] args) => CliSeries.Run(args);

    private static string SingleErrorLine(string stderr) => CliSeries.SingleErrorLine(stderr);
}
