using Rnn.Simd.Alternatives.Reservoir;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Reservoir;

/// <summary>
/// The leaky-integrator ESN (Lukoševičius 2012 Eq. 2-3) written as plain scalar loops in double from the reservoir
/// matrices read out of the network's slices (the first H rows of weight_ih_l0 / weight_hh_l0 / bias_ih_l0) and the
/// leak rate of the OPTIONS (not the network's gate bias): the oracle for the network mapping and the sparse runner.
/// </summary>
internal static class ScalarEsn
{
    public static (double[] Win, double[] W, double[] B) Read(RecurrentNetwork<double> net)
    {
        int h = net.Architecture.HiddenSizes[0], i = net.Architecture.InputSize;
        double[] win = net.Parameter("weight_ih_l0")[..(h * i)].ToArray();
        double[] w = net.Parameter("weight_hh_l0")[..(h * h)].ToArray();
        double[] b = net.Parameter("bias_ih_l0")[..h].ToArray();
        return (win, w, b);
    }

    /// <summary>h ← (1 - a) h + a tanh(W_in u + W h + b).</summary>
    public static void Step(double[] win, double[] w, double[] b, int h, int inputs, double a, ReadOnlySpan<double> u, double[] state)
    {
        var next = new double[h];
        for (int r = 0; r < h; r++)
        {
            double s = b[r];
            for (int c = 0; c < inputs; c++) s += win[r * inputs + c] * u[c];
            for (int c = 0; c < h; c++) s += w[r * h + c] * state[c];
            next[r] = (1 - a) * state[r] + a * Math.Tanh(s);
        }
        next.CopyTo(state, 0);
    }
}

public class EchoStateNetworkTests
{
    [Theory]
    [InlineData(1.0, false)]
    [InlineData(0.3, false)]
    [InlineData(0.85, true)]
    public void NetworkStep_ReproducesScalarLeakyEsn(double leak, bool feedback)
    {
        const int units = 23, inputs = 3, outputs = 2, steps = 60;
        var options = new EsnOptions { Units = units, Density = 0.3, SpectralRadius = 0.9, InputScaling = 0.7, BiasScaling = 0.2, LeakRate = leak, OutputFeedback = feedback, Seed = 42 };
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(options, inputs, outputs);
        Assert.Equal(leak == 1 ? CellType.Elman : CellType.Highway, net.Architecture.Cell);
        int netInputs = inputs + (feedback ? outputs : 0);
        Assert.Equal(netInputs, net.Architecture.InputSize);

        // A random readout, so the outputs are checked as well as the state.
        double[] wo = Uniform(5, outputs * units), bo = Uniform(6, outputs);
        wo.CopyTo(net.Parameter("readout.weight"));
        bo.CopyTo(net.Parameter("readout.bias"));
        net.MarkParametersChanged();

        (double[] win, double[] w, double[] b) = ScalarEsn.Read(net);
        double[] x = Uniform(7, steps * netInputs, -2, 2);
        var state = new double[units];
        NetworkState<double> s = net.CreateState();
        var y = new double[outputs];
        double worst = 0;
        for (int t = 0; t < steps; t++)
        {
            ReadOnlySpan<double> u = x.AsSpan(t * netInputs, netInputs);
            net.Step(u, y, s);
            ScalarEsn.Step(win, w, b, units, netInputs, leak, u, state);
            for (int r = 0; r < units; r++) worst = Math.Max(worst, Math.Abs(s.Hidden(0)[r] - state[r]));
            for (int j = 0; j < outputs; j++)
            {
                double expected = bo[j];
                for (int r = 0; r < units; r++) expected += wo[j * units + r] * state[r];
                worst = Math.Max(worst, Math.Abs(y[j] - expected));
            }
        }
        Assert.True(worst <= 1e-12, $"max |network - scalar ESN| = {worst:E3}");
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.4)]
    public void SparseRunner_EqualsNetworkStep(double leak)
    {
        const int units = 40, inputs = 2, steps = 50;
        var options = new EsnOptions { Units = units, Density = 0.1, LeakRate = leak, Seed = 3 };
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(options, inputs, 1);
        var runner = new ReservoirRunner<double>(net);
        NetworkState<double> s = net.CreateState();
        var h = new double[units];
        var y = new double[1];
        double[] x = Uniform(8, steps * inputs);
        for (int t = 0; t < steps; t++)
        {
            net.Step(x.AsSpan(t * inputs, inputs), y, s);
            runner.Step(x.AsSpan(t * inputs, inputs), h);
            for (int r = 0; r < units; r++) Assert.True(Math.Abs(h[r] - s.Hidden(0)[r]) <= 1e-13, $"t={t} r={r}");
        }
    }

    [Fact]
    public void HighwayMapping_FixesTheTransformGateAtTheLeakRate()
    {
        const int units = 10;
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(new EsnOptions { Units = units, LeakRate = 0.25, Density = 0.5 }, 2, 1);
        Span<double> wih = net.Parameter("weight_ih_l0"), whh = net.Parameter("weight_hh_l0"), bih = net.Parameter("bias_ih_l0"), bhh = net.Parameter("bias_hh_l0");
        for (int i = units * 2; i < wih.Length; i++) Assert.Equal(0.0, wih[i]);      // W_T = 0
        for (int i = units * units; i < whh.Length; i++) Assert.Equal(0.0, whh[i]);  // R_T = 0
        for (int i = 0; i < bhh.Length; i++) Assert.Equal(0.0, bhh[i]);
        for (int i = units; i < 2 * units; i++) Assert.Equal(0.25, 1 / (1 + Math.Exp(-bih[i])), 1e-15);
    }

    [Fact]
    public void Reservoir_HasTheDensityAndSpectralRadiusAsked()
    {
        const int units = 300;
        const double density = 0.05, rho = 0.8;
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(new EsnOptions { Units = units, Density = density, SpectralRadius = rho, Seed = 17 }, 1, 1);
        double[] w = net.Parameter("weight_hh_l0").ToArray();
        int nonZeros = w.Count(v => v != 0);
        double expected = density * units * units, sigma = Math.Sqrt(expected * (1 - density));
        Assert.True(Math.Abs(nonZeros - expected) < 5 * sigma, $"{nonZeros} non-zeros, expected {expected} ± {sigma:F0}");

        // Independent: Gelfand's formula, ρ = lim ‖W^k v‖^(1/k), as the mean log growth of a renormalised vector over
        // many steps (it converges for complex dominant pairs too, just slowly: O(1/K)).
        double[] v0 = Uniform(99, units), v1 = new double[units];
        double logGrowth = 0;
        const int burn = 300, measured = 3000;
        for (int k = 0; k < burn + measured; k++)
        {
            for (int i = 0; i < units; i++)
            {
                double s = 0;
                for (int j = 0; j < units; j++) s += w[i * units + j] * v0[j];
                v1[i] = s;
            }
            double norm = Math.Sqrt(v1.Sum(x => x * x));
            if (k >= burn) logGrowth += Math.Log(norm);
            for (int i = 0; i < units; i++) v0[i] = v1[i] / norm;
        }
        double gelfand = Math.Exp(logGrowth / measured);
        Assert.True(Math.Abs(gelfand - rho) < 0.01 * rho, $"Gelfand estimate {gelfand}, asked {rho}");
    }

    [Fact]
    public void SameSeed_SameReservoir_MemberSeedsDiffer()
    {
        var options = new EsnOptions { Units = 30, Members = 3, Seed = 5 };
        RecurrentNetwork<float> a = EchoStateNetwork.CreateNetwork<float>(options, 2, 1);
        RecurrentNetwork<float> b = EchoStateNetwork.CreateNetwork<float>(options, 2, 1);
        RecurrentNetwork<float> c = EchoStateNetwork.CreateNetwork<float>(options.ForMember(1), 2, 1);
        Assert.True(a.Parameters.SequenceEqual(b.Parameters));
        Assert.False(a.Parameters.SequenceEqual(c.Parameters));
        Assert.Equal(6UL, options.ForMember(1).Seed);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.ForMember(3));
    }

    [Fact]
    public void BinaryInputWeights_ArePlusMinusTheScale()
    {
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(new EsnOptions { Units = 50, InputScaling = 0.1, BiasScaling = 0.2, BinaryInputWeights = true }, 1, 1);
        foreach (double v in net.Parameter("weight_ih_l0")) Assert.Equal(0.1, Math.Abs(v), 15);
        foreach (double v in net.Parameter("bias_ih_l0")) Assert.Equal(0.2, Math.Abs(v), 15);
    }

    [Theory]
    [InlineData("Units")]
    [InlineData("Density")]
    [InlineData("SpectralRadius")]
    [InlineData("LeakRate")]
    [InlineData("Ridge")]
    [InlineData("Washout")]
    [InlineData("Members")]
    [InlineData("InputScaling")]
    [InlineData("RidgeCandidates")]
    public void Options_OutOfRange_NameTheOption(string option)
    {
        EsnOptions bad = option switch
        {
            "Units" => new EsnOptions { Units = 0 },
            "Density" => new EsnOptions { Density = 1.5 },
            "SpectralRadius" => new EsnOptions { SpectralRadius = 0 },
            "LeakRate" => new EsnOptions { LeakRate = 0 },
            "Ridge" => new EsnOptions { Ridge = -1 },
            "Washout" => new EsnOptions { Washout = -1 },
            "Members" => new EsnOptions { Members = 0 },
            "InputScaling" => new EsnOptions { InputScaling = double.NaN },
            _ => new EsnOptions { RidgeCandidates = [1, -2] },
        };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(bad.Validate);
        Assert.Equal(option, ex.ParamName);
        Assert.Contains(option, ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => EchoStateNetwork.CreateNetwork<double>(bad, 1, 1));
    }

    [Fact]
    public void Density_Zero_And_Negative_Are_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EsnOptions { Density = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new EsnOptions { Density = -0.1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new EsnOptions { SpectralRadius = -0.5 }.Validate());
    }
}
