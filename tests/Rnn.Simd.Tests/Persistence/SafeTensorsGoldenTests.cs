using Xunit.Abstractions;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>
/// Parity with PyTorch: the files in Golden/ were written by libtorch 2.10 (TorchSharp-cpu 0.107.0 and
/// TorchSharp.PyBridge 1.4.4, tests/golden-generator/): a module { rnn: nn.RNN | nn.LSTM | nn.GRU, readout: nn.Linear }
/// saved with <c>save_safetensors</c>, and an input sequence with PyTorch's outputs for it. A network loaded from each
/// file must give PyTorch's outputs to 1e-5 relative (float32; 1e-12 for the double case).
/// </summary>
public class SafeTensorsGoldenTests(ITestOutputHelper log)
{
    private static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", name);

    public static TheoryData<string, CellType, Activation, int, bool> Cases() => new()
    {
        { "rnn_tanh_l1", CellType.Elman, Activation.Tanh, 1, false },
        { "rnn_tanh_l2", CellType.Elman, Activation.Tanh, 2, false },
        { "rnn_relu_l1", CellType.Elman, Activation.Relu, 1, false },
        { "lstm_l1", CellType.Lstm, Activation.Tanh, 1, false },
        { "lstm_l2", CellType.Lstm, Activation.Tanh, 2, false },
        { "gru_l1", CellType.Gru, Activation.Tanh, 1, false },
        { "gru_l2", CellType.Gru, Activation.Tanh, 2, false },
        { "lstm_l2_f64", CellType.Lstm, Activation.Tanh, 2, true },
        { "gru_l1_f16", CellType.Gru, Activation.Tanh, 1, false },
        { "lstm_l1_bf16", CellType.Lstm, Activation.Tanh, 1, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void APyTorchWrittenFile_GivesPyTorchsOutputs(string name, CellType cell, Activation activation, int layers, bool isDouble)
    {
        // The nonlinearity of an nn.RNN is the one thing no shape tells: a PyTorch file needs it from outside.
        var options = activation == Activation.Tanh ? null : new SafeTensorsImportOptions { Activation = activation };
        LoadedModel model = SafeTensorsModel.Load(Golden(name + ".safetensors"), options);
        Assert.Equal(LoadedModel.SafeTensorsFormat, model.Format);
        NetworkArchitecture a = model.Architecture;
        Assert.Equal(new NetworkArchitecture(cell, 3, Enumerable.Repeat(5, layers).ToArray(), 2, activation), a);
        Assert.Equal(isDouble ? typeof(double) : typeof(float), model.ElementType);
        Assert.Null(model.Forecasting);

        SafeTensorsFile io = SafeTensorsFile.Load(Golden(name + ".io.safetensors"));
        SafeTensor input = io.Find("input")!, output = io.Find("output")!;
        Assert.Equal([6L, 2, 3], input.Shape);   // T x B x I, PyTorch's time-major layout = RecurrentNetwork.Forward's
        Assert.Equal([6L, 2, 2], output.Shape);
        double[] expected = output.ToDouble();
        double[] actual;
        if (isDouble)
        {
            var net = model.GetNetwork<double>();
            actual = new double[expected.Length];
            net.Forward(input.ToDouble(), actual, net.CreateState(2));
        }
        else
        {
            var net = model.GetNetwork<float>();
            var y = new float[expected.Length];
            net.Forward(input.ToSingle(), y, net.CreateState(2));
            actual = Array.ConvertAll(y, v => (double)v);
        }
        double tolerance = isDouble ? 1e-12 : 1e-5, worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            // Relative to the output's magnitude, floored at 0.1 of the largest output so that near-zero outputs
            // are not held to a bound tighter than float32 rounding of the terms that cancel in them.
            double scale = Math.Max(Math.Abs(expected[i]), 0.1 * expected.Max(Math.Abs));
            double rel = Math.Abs(actual[i] - expected[i]) / scale;
            worst = Math.Max(worst, rel);
            Assert.True(rel <= tolerance, $"{name} output {i}: {actual[i]:R}, PyTorch {expected[i]:R} (relative {rel:E2})");
        }
        Assert.True(expected.Max(Math.Abs) > 0.1, "the golden outputs are not trivial");
        log.WriteLine($"{name}: worst relative difference from PyTorch {worst:E2}");
    }

    [Fact]
    public void TheElmanActivation_Matters_SoTheReluCaseIsATest()
    {
        LoadedModel tanh = SafeTensorsModel.Load(Golden("rnn_relu_l1.safetensors"));
        SafeTensorsFile io = SafeTensorsFile.Load(Golden("rnn_relu_l1.io.safetensors"));
        var y = new float[24];
        var net = tanh.GetNetwork<float>();
        net.Forward(io.Find("input")!.ToSingle(), y, net.CreateState(2));
        float[] pytorch = io.Find("output")!.ToSingle();
        Assert.True(y.Zip(pytorch).Max(p => Math.Abs(p.First - p.Second)) > 1e-2);
    }

    [Fact]
    public void GoldenWeights_LandInTheParameterSlicesOfTheSameName()
    {
        // Independent of the mapping code: slice name "weight_hh_l1" holds tensor "rnn.weight_hh_l1", row-major.
        SafeTensorsFile file = SafeTensorsFile.Load(Golden("gru_l2.safetensors"));
        var net = SafeTensorsModel.Load(Golden("gru_l2.safetensors")).GetNetwork<float>();
        foreach (ParameterSlice s in net.Layout.Slices)
        {
            string name = s.Name.StartsWith("readout.", StringComparison.Ordinal) ? s.Name : "rnn." + s.Name;
            Assert.Equal(file.Find(name)!.ToSingle(), net.Parameter(s.Name).ToArray());
        }
    }
}
