using FsCheck.Xunit;
using Rnn.Simd.Alternatives.Rtrl;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Properties;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Rtrl;

/// <summary>
/// The property over random shapes (<see cref="RecurrentCase"/>: input, hidden and output sizes 1..17, one
/// layer or two, 1..40 steps): with the weights frozen, the RTRL gradient of the sequence's weighted MSE equals full
/// BPTT's (<see cref="TruncatedBptt{T}"/> with τb = τf = S, batch 1), 1e-10 relative with the 1e-4 floor, for every cell
/// and Elman activation, with or without target weights (about a third of them 0).
/// </summary>
public class RtrlGradientProperties
{
    [Property(MaxTest = 40, StartSize = 100, EndSize = 1000, Replay = "(314159265,2718281829)")]
    public void FrozenWeights_RtrlGradient_EqualsFullBptt(int cell, int act, bool stacked, bool weighted, int input, int h1, int h2, int output, int n, int windows, int seed)
    {
        RecurrentCase c = RecurrentCase.Decode(AllCells[RecurrentCase.Pick(cell, 3)], stacked, input, h1, h2, output, 0, 0, n, windows, seed,
            (Activation)RecurrentCase.Pick(act, 3));
        NetworkArchitecture a = c.Arch;
        int steps = c.Steps;
        double[] x = Uniform(c.Seed * 4 + 1, steps * a.InputSize), t = Uniform(c.Seed * 4 + 2, steps * a.OutputSize);
        double[]? w = null;
        if (weighted)
        {
            w = Uniform(c.Seed * 4 + 5, steps * a.OutputSize, -1, 2);
            for (int i = 0; i < w.Length; i++) w[i] = Math.Max(w[i], 0);
            w[0] = 1; // at least one target counts
        }
        var data = new SequenceData<double>(x, t, a.InputSize, a.OutputSize, w);
        RecurrentNetwork<double> net = c.Network();

        var engine = new TruncatedBptt<double>(net, 1, BpttSchedule.Create(steps, steps));
        engine.Reset();
        net.ZeroGradients();
        engine.Window(x, t, default, w);
        double[] expected = net.Gradients.ToArray();

        var g = new double[expected.Length];
        new RtrlGradient<double>(net).AccumulateSequence(data, g);
        AssertClose(expected, g, 1e-10, 1e-4, $"RTRL vs full BPTT {c} weighted={weighted}", net.Layout);
    }
}
