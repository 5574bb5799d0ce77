using Rnn.Simd.Cells;
using Rnn.Simd.Network;

namespace Rnn.Simd.Tests.Network;

/// <summary>PyTorch parameter names and shapes (<see cref="ParameterLayout"/>), architecture validation and the
/// default initialisation.</summary>
public class NetworkLayoutTests
{
    [Fact]
    public void Layout_StackedLstm_HasPyTorchNamesShapesAndOffsets()
    {
        // nn.LSTM(input_size=3, hidden_size=5) then a second layer of 4, then nn.Linear(4, 2) as "readout".
        var layout = new ParameterLayout(new NetworkArchitecture(CellType.Lstm, 3, [5, 4], 2));
        (string Name, ParameterKind Kind, int Layer, int Offset, int Rows, int Cols)[] expected =
        [
            ("weight_ih_l0", ParameterKind.InputWeight, 0, 0, 20, 3),
            ("weight_hh_l0", ParameterKind.RecurrentWeight, 0, 60, 20, 5),
            ("bias_ih_l0", ParameterKind.InputBias, 0, 160, 20, 1),
            ("bias_hh_l0", ParameterKind.RecurrentBias, 0, 180, 20, 1),
            ("weight_ih_l1", ParameterKind.InputWeight, 1, 200, 16, 5),
            ("weight_hh_l1", ParameterKind.RecurrentWeight, 1, 280, 16, 4),
            ("bias_ih_l1", ParameterKind.InputBias, 1, 344, 16, 1),
            ("bias_hh_l1", ParameterKind.RecurrentBias, 1, 360, 16, 1),
            ("readout.weight", ParameterKind.ReadoutWeight, -1, 376, 2, 4),
            ("readout.bias", ParameterKind.ReadoutBias, -1, 384, 2, 1),
        ];
        Assert.Equal(expected.Length, layout.Slices.Count);
        for (int s = 0; s < expected.Length; s++)
        {
            var e = expected[s];
            Assert.Equal(new ParameterSlice(e.Name, e.Kind, e.Layer, e.Offset, e.Rows, e.Cols), layout.Slices[s]);
            Assert.Equal(layout.Slices[s], layout[e.Name]);
            Assert.Equal(e.Kind is ParameterKind.InputWeight or ParameterKind.RecurrentWeight or ParameterKind.ReadoutWeight, layout.Slices[s].IsWeight);
        }
        Assert.Equal(386, layout.TotalLength);
        Assert.Equal(layout["weight_hh_l1"], layout.Get(1, ParameterKind.RecurrentWeight));
        Assert.Equal(layout["readout.bias"], layout.Get(-1, ParameterKind.ReadoutBias));
        Assert.Equal(layout["readout.weight"], layout.Get(7, ParameterKind.ReadoutWeight)); // layer ignored for the readout
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.Get(2, ParameterKind.InputWeight));
        Assert.Contains("weight_ih_l0", Assert.Throws<KeyNotFoundException>(() => layout["weight_ih_l2"]).Message);
    }

    [Theory]
    [InlineData(CellType.Elman, 1)]
    [InlineData(CellType.Lstm, 4)]
    [InlineData(CellType.Gru, 3)]
    public void Layout_EveryCell_GatesTimesHiddenRows_Contiguous(CellType cell, int gates)
    {
        var arch = new NetworkArchitecture(cell, 7, [6, 3, 5], 4);
        Assert.Equal(gates, arch.GateCount);
        Assert.Equal(gates, cell.GateCount());
        var layout = new ParameterLayout(arch);
        int offset = 0;
        foreach (ParameterSlice s in layout.Slices)
        {
            Assert.Equal(offset, s.Offset);
            offset += s.Length;
            if (s.Layer >= 0)
            {
                int h = arch.HiddenSizes[s.Layer];
                Assert.Equal(gates * h, s.Rows);
                int cols = s.Kind switch
                {
                    ParameterKind.InputWeight => arch.LayerInputSize(s.Layer),
                    ParameterKind.RecurrentWeight => h,
                    _ => 1,
                };
                Assert.Equal(cols, s.Columns);
                Assert.Equal(s.Kind switch
                {
                    ParameterKind.InputWeight => "weight_ih_l",
                    ParameterKind.RecurrentWeight => "weight_hh_l",
                    ParameterKind.InputBias => "bias_ih_l",
                    _ => "bias_hh_l",
                } + s.Layer, s.Name);
            }
        }
        Assert.Equal(offset, layout.TotalLength);
        Assert.Equal(4 * 3 + 2, layout.Slices.Count);
        Assert.Equal(7, arch.LayerInputSize(0));
        Assert.Equal(6, arch.LayerInputSize(1));
        Assert.Equal(3, arch.LayerInputSize(2));
        Assert.Equal(5, arch.TopHiddenSize);
        Assert.Equal((4, 5), (layout["readout.weight"].Rows, layout["readout.weight"].Columns));
    }

    [Fact]
    public void Network_ParameterAndGradientSpans_AreViewsOfTheFlatBuffers()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 2, [3], 1), 5);
        ParameterSlice s = net.Layout["bias_hh_l0"];
        net.Parameter("bias_hh_l0")[4] = 42f;
        Assert.Equal(42f, net.Parameters[s.Offset + 4]);
        net.Gradients[s.Offset + 1] = 7f;
        Assert.Equal(7f, net.Gradient("bias_hh_l0")[1]);
        Assert.Equal(net.Layout.TotalLength, net.Parameters.Length);
        Assert.Equal(net.Layout.TotalLength, net.Gradients.Length);
        Assert.Throws<KeyNotFoundException>(() => net.Parameter("weight_ih_l1"));
    }

    /// <summary>PyTorch's default: every weight and bias of a layer uniform in ±1/√H (nn.RNN / LSTM / GRU), the readout
    /// in ±1/√H_top (nn.Linear with fan-in H_top); deterministic in the seed.</summary>
    [Fact]
    public void DefaultInitialisation_IsPyTorchsUniformBound_AndDeterministic()
    {
        var arch = new NetworkArchitecture(CellType.Lstm, 3, [16, 9], 2);
        var net = new RecurrentNetwork<double>(arch, 17);
        foreach (ParameterSlice s in net.Layout.Slices)
        {
            double bound = 1 / Math.Sqrt(s.Layer >= 0 ? arch.HiddenSizes[s.Layer] : arch.TopHiddenSize);
            Span<double> p = net.Parameter(s.Name);
            double max = 0;
            foreach (double v in p) { Assert.True(Math.Abs(v) <= bound, $"{s.Name}: {v} outside ±{bound}"); max = Math.Max(max, Math.Abs(v)); }
            if (s.Length >= 16) Assert.True(max > 0.5 * bound, $"{s.Name} does not spread over its range"); // not all tiny
        }
        Assert.Equal(net.Parameters.ToArray(), new RecurrentNetwork<double>(arch, 17).Parameters.ToArray());
        Assert.NotEqual(net.Parameters.ToArray(), new RecurrentNetwork<double>(arch, 18).Parameters.ToArray());
        // float holds the same draws rounded.
        float[] f = new RecurrentNetwork<float>(arch, 17).Parameters.ToArray();
        for (int i = 0; i < f.Length; i++) Assert.Equal((float)net.Parameters[i], f[i]);

        int version = net.ParametersVersion;
        double[] first = net.Parameters.ToArray();
        net.ResetParameters(99);
        Assert.True(net.ParametersVersion > version);
        net.ResetParameters(17);
        Assert.Equal(first, net.Parameters.ToArray());
        version = net.ParametersVersion;
        net.MarkParametersChanged();
        Assert.Equal(version + 1, net.ParametersVersion);
    }

    [Fact]
    public void Architecture_RejectsZeroOrMissingSizes()
    {
        Assert.Equal("inputSize", Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkArchitecture(CellType.Elman, 0, [3], 1)).ParamName);
        Assert.Equal("outputSize", Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkArchitecture(CellType.Lstm, 2, [3], 0)).ParamName);
        Assert.Equal("hiddenSizes", Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkArchitecture(CellType.Gru, 2, [3, 0], 1)).ParamName);
        Assert.Equal("hiddenSizes", Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkArchitecture(CellType.Gru, 2, [-4], 1)).ParamName);
        Assert.Equal("hiddenSizes", Assert.Throws<ArgumentException>(() => new NetworkArchitecture(CellType.Gru, 2, [], 1)).ParamName);
        Assert.Throws<ArgumentNullException>(() => new NetworkArchitecture(CellType.Gru, 2, null!, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkArchitecture(CellType.Elman, -1, [3], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkArchitecture((CellType)7, 1, [3], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkArchitecture(CellType.Elman, 1, [3], 1, (Activation)9));
        Assert.Equal("numLayers", Assert.Throws<ArgumentOutOfRangeException>(() => NetworkArchitecture.Uniform(CellType.Lstm, 2, 3, 0, 1)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => NetworkArchitecture.Uniform(CellType.Lstm, 2, 0, 2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((CellType)5).GateCount());
    }

    [Fact]
    public void Architecture_CopiesItsSizes_AndComparesByValue()
    {
        int[] sizes = [4, 6];
        var a = new NetworkArchitecture(CellType.Gru, 3, sizes, 2);
        sizes[0] = 99;
        Assert.Equal(4, a.HiddenSizes[0]);
        var b = NetworkArchitecture.Uniform(CellType.Gru, 3, 4, 2, 2);
        var c = new NetworkArchitecture(CellType.Gru, 3, [4, 4], 2);
        Assert.Equal(c, b);
        Assert.Equal(c.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(b, new NetworkArchitecture(CellType.Gru, 3, [4, 5], 2));
        Assert.NotEqual(b, new NetworkArchitecture(CellType.Lstm, 3, [4, 4], 2));
        Assert.NotEqual(new NetworkArchitecture(CellType.Elman, 3, [4], 2, Activation.Relu), new NetworkArchitecture(CellType.Elman, 3, [4], 2));
        Assert.Equal(2, b.NumLayers);
        Assert.Equal("Elman(Relu) I=3 H=[4] O=2", new NetworkArchitecture(CellType.Elman, 3, [4], 2, Activation.Relu).ToString());
    }
}
