using FsCheck.Xunit;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Reference;
using Rnn.Simd.Tests.Training;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Regularization;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;
using Rnn.Simd.Tests.Training.Regularization;

namespace Rnn.Simd.Tests.Properties;

/// <summary>
/// FsCheck properties of dropout over random shapes, batches and BPTT schedules (<see cref="RecurrentCase"/>) and
/// random probabilities per stream (each of input / recurrent / readout 0 or one of 0.1 .. 0.7):
/// <list type="bullet">
/// <item>the analytic gradient with variational dropout equals fourth-order central finite differences of the same
/// objective with the same fixed masks (GradientCheck with <c>dropout</c>), max relative error ≤ 1e-6, step 1e-3,
/// at most 6 sampled entries per slice (as <see cref="RecurrentGradientProperties"/>);</item>
/// <item>the engine's outputs, with variational or naive dropout, equal an independent scalar forward pass with the
/// masks of each step (<see cref="DropoutTests.OracleForward"/>), and variational slot masks equal the sequence mask.</item>
/// </list>
/// Replay pins FsCheck's generator, so every run checks the same cases; a failure prints the case and the options.
/// </summary>
public class DropoutProperties
{
    private const int EntriesPerGroup = 6;
    private const double Step = 1e-3;

    private static readonly double[] Probabilities = [0, 0.1, 0.2, 0.3, 0.5, 0.7];

    private static double P(int raw) => Probabilities[RecurrentCase.Pick(raw, Probabilities.Length)];

    /// <summary>Variational options with at least one stream dropped (input 0.3 when all three draws are 0).</summary>
    private static DropoutOptions Variational(int pIn, int pRec, int pOut, int seed)
    {
        var d = new DropoutOptions(P(pIn), P(pRec), P(pOut), DropoutVariant.Variational, (uint)seed);
        return d.IsActive ? d : d with { Input = 0.3 };
    }

    [Property(MaxTest = 10, StartSize = 100, EndSize = 1000, Replay = "(246813579,1123581321)")]
    public void Elman_VariationalGradient_EqualsFiniteDifferences(bool stacked, int input, int h1, int h2, int output, int batch, int mode, int n, int windows, int seed, int pIn, int pRec, int pOut)
        => CheckGradient(RecurrentCase.Decode(CellType.Elman, stacked, input, h1, h2, output, batch, mode, n, windows, seed), Variational(pIn, pRec, pOut, seed));

    [Property(MaxTest = 10, StartSize = 100, EndSize = 1000, Replay = "(135792468,3455891443)")]
    public void Lstm_VariationalGradient_EqualsFiniteDifferences(bool stacked, int input, int h1, int h2, int output, int batch, int mode, int n, int windows, int seed, int pIn, int pRec, int pOut)
        => CheckGradient(RecurrentCase.Decode(CellType.Lstm, stacked, input, h1, h2, output, batch, mode, n, windows, seed), Variational(pIn, pRec, pOut, seed));

    [Property(MaxTest = 10, StartSize = 100, EndSize = 1000, Replay = "(987654321,2718281829)")]
    public void Gru_VariationalGradient_EqualsFiniteDifferences(bool stacked, int input, int h1, int h2, int output, int batch, int mode, int n, int windows, int seed, int pIn, int pRec, int pOut)
        => CheckGradient(RecurrentCase.Decode(CellType.Gru, stacked, input, h1, h2, output, batch, mode, n, windows, seed), Variational(pIn, pRec, pOut, seed));

    private static void CheckGradient(RecurrentCase c, DropoutOptions d)
    {
        RecurrentNetwork<double> net = c.Network();
        GradientCheckReport report = GradientCheck.Run(net, c.Inputs(), c.Targets(), c.Batch, c.Schedule, c.InitialState(net), Step, EntriesPerGroup, c.Seed, d);
        Assert.True(report.MaxRelativeError <= DropoutTests.Tolerance, $"{c} {d}: {GradientCheckTests.Format(report)}");
    }

    [Property(MaxTest = 25, StartSize = 100, EndSize = 1000, Replay = "(112233445,5566778899)")]
    public void Engine_EqualsScalarOracle_WithEachStepsMasks(int cellRaw, bool stacked, int input, int h1, int h2, int output, int batch, int mode, int n, int windows, int seed, bool naive, int pIn, int pRec, int pOut)
    {
        CellType cell = AllCells[RecurrentCase.Pick(cellRaw, 3)];
        RecurrentCase c = RecurrentCase.Decode(cell, stacked, input, h1, h2, output, batch, mode, n, windows, seed);
        DropoutOptions d = naive
            ? new DropoutOptions(Input: P(pIn), Output: P(pOut), Variant: DropoutVariant.Naive, Seed: (uint)seed)
            : Variational(pIn, pRec, pOut, seed);
        RecurrentNetwork<double> net = c.Network();
        double[] x = c.Inputs(), t = c.Targets();
        var engine = new TruncatedBptt<double>(net, c.Batch, c.Schedule, 1, d);
        int layers = c.Arch.NumLayers, tf = c.Schedule.ForwardSteps, tb = c.Schedule.BackwardSteps, b = c.Batch;
        int inW = tf * b * c.Arch.InputSize, outW = tf * b * c.Arch.OutputSize;
        var sequenceX = new double[layers][];
        var sequenceH = new double[layers][];
        for (int l = 0; l < layers; l++) { sequenceX[l] = engine.SequenceMasks(l).Input.ToArray(); sequenceH[l] = engine.SequenceMasks(l).Recurrent.ToArray(); }
        double[] sequenceO = engine.SequenceOutputMask.ToArray();

        var y = new double[t.Length];
        var perStep = new List<(double[][] X, double[][] H, double[] O)>();
        for (int w = 0; w < c.Steps / tf; w++)
        {
            engine.Window(x.AsSpan(w * inW, inW), t.AsSpan(w * outW, outW), y.AsSpan(w * outW, outW));
            var slotX = new double[layers][];
            var slotH = new double[layers][];
            for (int l = 0; l < layers; l++) { slotX[l] = DropoutTests.SlotMasks(engine, "MaskX", l); slotH[l] = DropoutTests.SlotMasks(engine, "MaskH", l); }
            double[] slotO = DropoutTests.SlotOutputMasks(engine);
            for (int s = 0; s < tf; s++)
            {
                int q = (int)(((long)w * tf + s) % tb);
                var mx = new double[layers][];
                var mh = new double[layers][];
                for (int l = 0; l < layers; l++)
                {
                    int wx = b * c.Arch.LayerInputSize(l), wh = b * c.Arch.HiddenSizes[l];
                    mx[l] = slotX[l].Length == 0 ? [] : slotX[l].AsSpan(q * wx, wx).ToArray();
                    mh[l] = slotH[l].Length == 0 ? [] : slotH[l].AsSpan(q * wh, wh).ToArray();
                    if (!naive)
                    {
                        Assert.True(sequenceX[l].AsSpan().SequenceEqual(mx[l]), $"{c} {d}: input mask of layer {l}, step {w * tf + s}, differs from the sequence's");
                        Assert.True(sequenceH[l].AsSpan().SequenceEqual(mh[l]), $"{c} {d}: recurrent mask of layer {l}, step {w * tf + s}, differs from the sequence's");
                    }
                }
                int wo = b * c.Arch.TopHiddenSize;
                double[] mo = slotO.Length == 0 ? [] : slotO.AsSpan(q * wo, wo).ToArray();
                if (!naive) Assert.True(sequenceO.AsSpan().SequenceEqual(mo), $"{c} {d}: output mask, step {w * tf + s}, differs from the sequence's");
                perStep.Add((mx, mh, mo));
            }
        }
        double[] expected = DropoutTests.OracleForward(RecurrentReference.FromNetwork(net), x, b, c.Steps, k => perStep[k]);
        AssertClose(expected, y, 1e-12, 1e-2, $"{c} {d}: outputs vs scalar oracle");
    }
}
