using System.Diagnostics;
using System.Globalization;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Alternatives.Reservoir;
using Rnn.Simd.Tests.Cli;
using Rnn.Simd.Training;
using Xunit.Abstractions;

namespace Rnn.Simd.Tests.Alternatives;

/// <summary>
/// Every trainer of <c>rnn-simd train --trainer NAME</c>, with the tool's own defaults for it (its plan, parsed from
/// the command line as the tool parses it), on the study authors' ESN example protocol (<see cref="EsnProtocol"/>: the
/// first 3000 hours, input load(t), target load(t + 24), the last 10 % test). The readout / weights are fitted on the
/// first 2376 training pairs, the last 300 training pairs are the validation part (selection, early stopping), and
/// the 266 test hours are scored as in <see cref="EsnProtocolTests"/>. The figures (test MSE in original units, NRMSE,
/// training time) go to the test output: <c>dotnet test tests/Rnn.Simd.Tests -c Release --filter
/// "FullyQualifiedName~TrainerProtocolTests" --logger "console;verbosity=detailed"</c>. Each trainer of the issue must do
/// what any trained forecaster does there: a test MSE below the variance of the test targets (better than forecasting
/// their mean); random guessing (<c>--trainer random</c>) does not, and the echo state network beats it.
/// </summary>
[Trait("Category", "Protocol")]
public class TrainerProtocolTests(ITestOutputHelper output)
{
    private const int ValidationPairs = 300;

    private static SequenceData<float> ToFloat(SequenceData<double> d) =>
        new(d.Inputs.Select(v => (float)v).ToArray(), d.Targets.Select(v => (float)v).ToArray(), d.InputSize, d.OutputSize);

    [Theory]
    [InlineData("bptt")]
    [InlineData("rtrl")]
    [InlineData("ekf")]
    [InlineData("cmaes")]
    [InlineData("evolino")]
    [InlineData("esn")]
    public void Trainer_OnTheEsnExampleProtocol_BeatsTheMeanForecast(string trainer)
    {
        (double warm, double variance) = Score(trainer);
        Assert.True(warm < variance, $"{trainer}: test MSE {warm} is not below the variance of the targets {variance}");
    }

    /// <summary>The chapter's random-guess baseline is the floor: the echo state network (whose reservoir is random too,
    /// but whose readout is fitted) beats it on the same hours.</summary>
    [Fact]
    public void RandomGuessing_IsBeatenByTheEchoStateNetwork()
    {
        double random = Score("random").Warm, esn = Score("esn").Warm;
        Assert.True(esn < random, $"ESN test MSE {esn} is not below random guessing's {random}");
    }

    private (double Warm, double Variance) Score(string trainer)
    {
        EsnProtocol.Split split = EsnProtocol.MakeSplit(EsnProtocol.LoadHours());
        int trainPairs = split.TrainEnd - EsnProtocol.Horizon;
        SequenceData<float> fit = ToFloat(EsnProtocol.Pairs(split, 0, trainPairs - ValidationPairs));
        SequenceData<float> validation = ToFloat(EsnProtocol.Pairs(split, trainPairs - ValidationPairs, trainPairs));

        TrainOptions o = TrainCommandLine.Parse("--trainer", trainer, "--features", "value");
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
        return (warm, variance);
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
