using System.Diagnostics;
using System.Globalization;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Alternatives.Reservoir;
using Rnn.Simd.Training;
using Spectre.Console.Cli;
using Xunit.Abstractions;

namespace Rnn.Simd.Tests.Alternatives;

/// <summary>
/// Every trainer of <c>rnn-simd train --trainer NAME</c>, with the tool's own defaults for it (its plan, parsed from
/// the command line as the tool parses it), on the study authors' ESN example protocol (<see cref="EsnProtocol"/>: the
/// first 3000 hours, input load(t), target load(t + 24), the last 10 % test). The readout / weights are fitted on the
/// first 2376 training pairs, the last 300 training pairs are the validation part (selection, early stopping), and
/// the 266 test hours are scored as in <see cref="EsnProtocolTests"/>. The figures (test MSE in original units, NRMSE,
/// training time) go to the test output: <c>dotnet test tests/Rnn.Simd.Tests -c Release --filter
/// "FullyQualifiedName~TrainerProtocolTests" --logger "console;verbosity=detailed"</c>. Each case asserts what any
/// trained forecaster must do there: a test MSE below the variance of the test targets (better than forecasting
/// their mean).
/// </summary>
[Trait("Category", "Protocol")]
public class TrainerProtocolTests(ITestOutputHelper output)
{
    private const int ValidationPairs = 300;

    private sealed class Capture
    {
        public TrainSettings? Settings;
    }

    private sealed class CaptureCommand(Capture capture) : Command<TrainSettings>
    {
        public override int Execute(CommandContext context, TrainSettings settings, CancellationToken cancellationToken)
        {
            capture.Settings = settings;
            return 0;
        }
    }

    /// <summary>The tool's options for <c>train ARGS</c>, bound and validated as the tool does.</summary>
    internal static TrainOptions Parse(params string[] args)
    {
        var capture = new Capture();
        var app = new CommandApp();
        app.Configure(c =>
        {
            c.Settings.Registrar.RegisterInstance(capture);
            c.PropagateExceptions();
            c.UseStrictParsing();
            c.AddCommand<CaptureCommand>("train");
        });
        Assert.Equal(0, app.Run(["train", .. args]));
        return capture.Settings!.Options;
    }

    private static SequenceData<float> ToFloat(SequenceData<double> d) =>
        new(d.Inputs.Select(v => (float)v).ToArray(), d.Targets.Select(v => (float)v).ToArray(), d.InputSize, d.OutputSize);

    [Theory]
    [InlineData("bptt")]
    [InlineData("rtrl")]
    [InlineData("ekf")]
    [InlineData("cmaes")]
    [InlineData("evolino")]
    [InlineData("esn")]
    [InlineData("random")]
    public void Trainer_OnTheEsnExampleProtocol_BeatsTheMeanForecast(string trainer)
    {
        EsnProtocol.Split split = EsnProtocol.MakeSplit(EsnProtocol.LoadHours());
        int trainPairs = split.TrainEnd - EsnProtocol.Horizon;
        SequenceData<float> fit = ToFloat(EsnProtocol.Pairs(split, 0, trainPairs - ValidationPairs));
        SequenceData<float> validation = ToFloat(EsnProtocol.Pairs(split, trainPairs - ValidationPairs, trainPairs));

        TrainOptions o = Parse("--trainer", trainer, "--features", "value");
        var net = new RecurrentNetwork<float>(o.Plan.Architecture(o, 1, 1), o.Seed);
        o.Initialize(net, o.Seed);
        INetworkTrainer<float> t = o.Plan.Create(net, o, 0, o.Seed);
        var clock = Stopwatch.StartNew();
        TrainingResult result = t.Fit(fit, validation);
        clock.Stop();

        // Score in double on the authors' hours: the same network's weights.
        var scored = new RecurrentNetwork<double>(net.Architecture, 0);
        for (int i = 0; i < net.Parameters.Length; i++) scored.Parameters[i] = net.Parameters[i];
        scored.MarkParametersChanged();
        double warm = EsnProtocol.TestMseWarm(split, scored), cold = EsnProtocol.TestMseColdStart(split, scored);
        double variance = TargetVariance(split);
        string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
        output.WriteLine($"{trainer}: {net.Architecture}; {result.EpochsRun} epochs (best {result.BestEpoch}), {clock.Elapsed.TotalSeconds:F1} s; "
            + $"validation MSE {result.BestLoss:F4} (scaled); test MSE {F(warm)} (state carried on), {F(cold)} (authors' scoring, restarted); "
            + $"test NRMSE {F(Math.Sqrt(warm / variance))} / {F(Math.Sqrt(cold / variance))}; authors' ESN 22.01, seasonal naive 24.82");
        Assert.True(warm < variance, $"{trainer}: test MSE {warm} is not below the variance of the targets {variance}");
    }

    /// <summary>The population variance of the 266 scored test targets (the NRMSE's denominator).</summary>
    private static double TargetVariance(EsnProtocol.Split s)
    {
        var y = new List<double>();
        for (int t = s.TestStart + EsnProtocol.Drop; t < s.Series.Length - EsnProtocol.Horizon; t++) y.Add(s.Series[t + EsnProtocol.Horizon]);
        double mean = y.Average();
        return y.Sum(v => (v - mean) * (v - mean)) / y.Count;
    }
}
