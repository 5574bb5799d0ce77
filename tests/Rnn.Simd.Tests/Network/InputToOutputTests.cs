using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Regularization;
using Rnn.Simd.Tests.Training.Bptt;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Network;

/// <summary>
/// <see cref="NetworkArchitecture.InputToOutput"/>: y = W_out h + W_xo x + b_out. The forward pass is checked against
/// the same network without the term plus W_xo x written out here; the BPTT gradient of readout.input_weight (and of
/// everything else) against finite differences of the objective in double; files, safetensors and ONNX (in ONNX
/// Runtime) keep the term.
/// </summary>
public class InputToOutputTests
{
    internal static (RecurrentNetwork<T> With, RecurrentNetwork<T> Without) Pair<T>(CellType cell, int layers, ulong seed)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        NetworkArchitecture plain = layers == 1 ? Arch(cell, 3, 2, Activation.Tanh, 5) : Arch(cell, 3, 2, Activation.Tanh, 5, 4);
        var without = new RecurrentNetwork<T>(plain, seed);
        var with = new RecurrentNetwork<T>(plain.WithInputToOutput(true), seed);
        without.Parameters.CopyTo(with.Parameters); // the shared slices come first, in the same order
        Convert<T>(Uniform(seed + 1, 2 * 3, -0.9, 0.9)).CopyTo(with.Parameter(ParameterLayout.InputToOutputName));
        with.MarkParametersChanged();
        return (with, without);
    }

    [Theory]
    [InlineData(CellType.Elman, 1, 1)]
    [InlineData(CellType.Lstm, 1, 1)]
    [InlineData(CellType.Gru, 2, 1)]
    [InlineData(CellType.Highway, 1, 1)]
    [InlineData(CellType.Lstm, 2, 3)]
    [InlineData(CellType.Elman, 1, 4)]
    public void Step_AddsTheInputTermToTheReadout(CellType cell, int layers, int batch)
    {
        (RecurrentNetwork<double> with, RecurrentNetwork<double> without) = Pair<double>(cell, layers, 31);
        Assert.Equal(without.Parameters.Length + 6, with.Parameters.Length);
        Assert.True(with.Architecture.InputToOutput);
        Assert.NotEqual(without.Architecture, with.Architecture);
        NetworkState<double> s1 = with.CreateState(batch), s0 = without.CreateState(batch);
        double[] w = with.Parameter(ParameterLayout.InputToOutputName).ToArray();
        var y1 = new double[batch * 2];
        var y0 = new double[batch * 2];
        for (int t = 0; t < 6; t++)
        {
            double[] x = Uniform(100 + (ulong)t, batch * 3);
            with.Step(x, y1, s1);
            without.Step(x, y0, s0);
            for (int r = 0; r < batch; r++)
                for (int k = 0; k < 2; k++)
                {
                    double direct = 0;
                    for (int j = 0; j < 3; j++) direct += w[k * 3 + j] * x[r * 3 + j];
                    Assert.Equal(y0[r * 2 + k] + direct, y1[r * 2 + k], 12);
                }
        }
    }

    [Fact]
    public void NewNetwork_StartsWithAZeroInputTerm()
    {
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Lstm, 4, 6, 1, 2, inputToOutput: true), 5);
        Assert.All(net.Parameter(ParameterLayout.InputToOutputName).ToArray(), v => Assert.Equal(0f, v));
        ParameterSlice s = net.Layout[ParameterLayout.InputToOutputName];
        Assert.Equal((2, 4, ParameterKind.ReadoutInputWeight, true), (s.Rows, s.Columns, s.Kind, s.IsWeight));
        Assert.Equal(net.Layout.TotalLength, s.Offset + s.Length); // after readout.bias, last
    }

    public static TheoryData<CellType, int, string> GradientCases()
    {
        var data = new TheoryData<CellType, int, string>();
        foreach (CellType c in new[] { CellType.Elman, CellType.Lstm, CellType.Gru, CellType.Highway })
            foreach (string mode in new[] { "n,1", "2n,n" }) data.Add(c, c == CellType.Gru ? 2 : 1, mode);
        return data;
    }

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void BpttGradient_EqualsFiniteDifferences(CellType cell, int layers, string mode)
    {
        const int batch = 2, steps = 12;
        (RecurrentNetwork<double> net, _) = Pair<double>(cell, layers, 41);
        double[] x = Uniform(42, steps * batch * 3), target = Uniform(43, steps * batch * 2);
        GradientCheckReport report = GradientCheck.Run(net, x, target, batch, BpttSchedule.Parse(mode, 3), TruncatedBpttReferenceTests.RandomState(net, batch, 44));
        Assert.True(report.MaxRelativeError <= 1e-6, $"{net.Architecture} {Rnn.Simd.Tests.Training.GradientCheckTests.Format(report)}");
        GradientCheckEntry direct = Assert.Single(report.Parameters, e => e.Name == ParameterLayout.InputToOutputName);
        Assert.Equal(6, direct.Checked);
    }

    [Fact]
    public void BpttGradient_WithInputDropout_EqualsFiniteDifferences()
    {
        const int batch = 2, steps = 12;
        (RecurrentNetwork<double> net, _) = Pair<double>(CellType.Lstm, 1, 51);
        double[] x = Uniform(52, steps * batch * 3), target = Uniform(53, steps * batch * 2);
        GradientCheckReport report = GradientCheck.Run(net, x, target, batch, BpttSchedule.Parse("2n,n", 3), dropout: new DropoutOptions(0.3, 0, 0, Seed: 7));
        Assert.True(report.MaxRelativeError <= 1e-6, Rnn.Simd.Tests.Training.GradientCheckTests.Format(report));
    }

    [Fact]
    public void ModelFile_And_SafeTensors_KeepTheTerm()
    {
        (RecurrentNetwork<float> net, _) = Pair<float>(CellType.Gru, 2, 61);
        using var ms = new MemoryStream();
        ModelFile.Save(ms, net);
        ms.Position = 0;
        RecurrentNetwork<float> loaded = ModelFile.Load(ms).GetMembers<float>()[0];
        Assert.Equal(net.Architecture, loaded.Architecture);
        Assert.Equal(net.Parameters.ToArray(), loaded.Parameters.ToArray());

        string path = Path.Combine(Path.GetTempPath(), $"rnn-simd-i2o-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensorsModel.Save(path, net);
            RecurrentNetwork<float> st = SafeTensorsModel.Load(path).GetMembers<float>()[0];
            Assert.True(st.Architecture.InputToOutput);
            Assert.Equal(net.Parameters.ToArray(), st.Parameters.ToArray());
        }
        finally
        {
            File.Delete(path);
            File.Delete(SafeTensorsModel.SidecarPath(path));
        }

        // A plain network's file reads back without the term.
        (_, RecurrentNetwork<float> plain) = Pair<float>(CellType.Gru, 2, 61);
        using var a = new MemoryStream();
        ModelFile.Save(a, plain);
        a.Position = 0;
        Assert.False(ModelFile.Load(a).Architecture.InputToOutput);
    }
}
