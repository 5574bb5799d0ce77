using System.Diagnostics;
using System.Globalization;
using Rnn.Simd.Alternatives.Reservoir;
using Rnn.Simd.Network;
using Xunit.Abstractions;

namespace Rnn.Simd.Tests.Alternatives.Reservoir;

/// <summary>
/// The study authors' ESN example (<see cref="EsnProtocol"/>) reproduced, and a validation-selected configuration
/// scored on the same test hours. Category "Protocol": each case runs a 900-unit reservoir over 3000 hours (about a
/// second); the figures go to the test output (<c>--logger "console;verbosity=detailed"</c>).
/// </summary>
[Trait("Category", "Protocol")]
public class EsnProtocolTests(ITestOutputHelper output)
{
    /// <summary>Lag-24 persistence on the same 266 hours (<see cref="SeasonalNaive_OnTheSameHours"/>).</summary>
    private const double SeasonalNaiveMse = 24.82;

    private static string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);

    [Fact]
    public void AuthorsProtocol_Reproduced_OnTheSameHours()
    {
        EsnProtocol.Split split = EsnProtocol.MakeSplit(EsnProtocol.LoadHours());
        double sum = 0;
        const int seeds = 3;
        for (ulong seed = 1; seed <= seeds; seed++)
        {
            var clock = Stopwatch.StartNew();
            (RecurrentNetwork<double> net, _) = EsnProtocol.Train(split, EsnProtocol.AuthorsOptions(seed));
            double cold = EsnProtocol.TestMseColdStart(split, net), warm = EsnProtocol.TestMseWarm(split, net);
            output.WriteLine($"authors' config, seed {seed}: test MSE {F(cold)} (their scoring: reservoir restarted on the test part), {F(warm)} (state carried on); {clock.ElapsedMilliseconds} ms");
            sum += cold;
            Assert.True(cold < SeasonalNaiveMse, $"seed {seed}: test MSE {cold} does not beat the seasonal naive {SeasonalNaiveMse}");
        }
        output.WriteLine($"mean over {seeds} reservoirs: {F(sum / seeds)} (theirs: {EsnProtocol.AuthorsTestMse}, one reservoir, with PCA to 75)");
    }

    [Fact]
    public void SeasonalNaive_OnTheSameHours()
    {
        // The reference floor: the load 24 h before the target, i.e. the input itself (ŷ(t + 24) = load(t)).
        EsnProtocol.Split s = EsnProtocol.MakeSplit(EsnProtocol.LoadHours());
        double sse = 0;
        int n = 0;
        for (int t = s.TestStart + EsnProtocol.Drop; t < s.Series.Length - EsnProtocol.Horizon; t++, n++)
            sse += Math.Pow(s.Series[t] - s.Series[t + EsnProtocol.Horizon], 2);
        output.WriteLine($"seasonal naive (lag 24) on the same {n} hours: MSE {F(sse / n)}");
        Assert.Equal(266, n);
        Assert.Equal(SeasonalNaiveMse, sse / n, 0.005);
    }

    [Fact]
    public void ValidationSelectedConfiguration_BeatsTheAuthors()
    {
        // Selection uses only the training part: the readout is fitted on the first 2376 training pairs and scored on
        // the last 300 (the reservoir state carried on); λ is picked among the candidates on the same validation.
        EsnProtocol.Split split = EsnProtocol.MakeSplit(EsnProtocol.LoadHours());
        double[] lambdas = [1e-4, 1e-3, 1e-2, 0.1, 1, 10];
        EsnOptions best = EsnProtocol.AuthorsOptions(1);
        double bestMse = double.PositiveInfinity;
        foreach (double rho in Grid.SpectralRadii)
        foreach (double scaling in Grid.InputScalings)
        foreach (double leak in Grid.LeakRates)
        {
            EsnOptions o = EsnProtocol.AuthorsOptions(1) with
            {
                SpectralRadius = rho, InputScaling = scaling, BiasScaling = scaling, LeakRate = leak, Density = Grid.Density, Ridge = 1.0, RidgeCandidates = lambdas,
            };
            (double mse, double lambda) = EsnProtocol.Validate(split, o, 300);
            output.WriteLine($"ρ {rho} input scaling {scaling} leak {leak}: validation MSE {mse:F4} (scaled units) at λ {lambda}");
            if (mse < bestMse)
            {
                bestMse = mse;
                best = o with { Ridge = lambda, RidgeCandidates = null };
            }
        }
        (RecurrentNetwork<double> net, _) = EsnProtocol.Train(split, best);
        double cold = EsnProtocol.TestMseColdStart(split, net), warm = EsnProtocol.TestMseWarm(split, net);
        output.WriteLine($"selected: units {best.Units} density {best.Density} ρ {best.SpectralRadius} input/bias scaling {best.InputScaling} leak {best.LeakRate} λ {best.Ridge}");
        output.WriteLine($"test MSE {F(warm)} (state carried on, as in validation), {F(cold)} (their scoring); theirs {EsnProtocol.AuthorsTestMse}");
        Assert.True(warm < EsnProtocol.AuthorsTestMse, $"selected configuration: test MSE {warm}");
    }

    /// <summary>The search grid (kept small: each point is one 900-unit fit over 2376 hours).</summary>
    private static class Grid
    {
        public static readonly double[] SpectralRadii = [0.8, 0.95, 0.99];
        public static readonly double[] InputScalings = [0.1, 0.5];
        public static readonly double[] LeakRates = [1.0, 0.5];
        public const double Density = 0.05;
    }
}

