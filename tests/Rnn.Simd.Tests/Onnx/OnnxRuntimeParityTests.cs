using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Onnx;
using Rnn.Simd.Tests.Infrastructure;

namespace Rnn.Simd.Tests.Onnx;

/// <summary>
/// Exports networks of every cell (Elman with tanh, ReLU and sigmoid, LSTM, GRU), 1 and 2 layers (of different
/// hidden sizes), B = 1 and B = 3 and several seeds, runs them in ONNX Runtime 1.32 and compares the predictions and
/// final states with <see cref="RecurrentNetwork{T}.Forward"/> from the same initial state, to 1e-5 relative (floor 0.1:
/// outputs and states are of order 0.1-1, and both sides are float32). ONNX Runtime's LSTM / GRU / RNN kernels are an
/// independent formulation of the equations (ONNX's gate order, its own GEMMs and activations), so a wrong gate
/// permutation, bias half, linear_before_reset, activation or transpose shows here as a failure.
/// </summary>
[Collection(Rnn.Simd.Tests.Onnx.OnnxRuntimeCollection.Name)]
public class OnnxRuntimeParityTests
{
    private const double Tolerance = 1e-5;
    private const double Floor = 0.1;
    private const int Steps = 7;

    public static TheoryData<CellType, Activation, int, int, ulong> Cases()
    {
        var data = new TheoryData<CellType, Activation, int, int, ulong>();
        (CellType, Activation)[] cells =
        [
            (CellType.Elman, Activation.Tanh), (CellType.Elman, Activation.Relu), (CellType.Elman, Activation.Sigmoid),
            (CellType.Lstm, Activation.Tanh), (CellType.Gru, Activation.Tanh),
        ];
        foreach ((CellType cell, Activation act) in cells)
            foreach (int layers in new[] { 1, 2 })
                foreach (int batch in new[] { 1, 3 })
                    foreach (ulong seed in new ulong[] { 1, 2 })
                        data.Add(cell, act, layers, batch, seed);
        return data;
    }

    internal static NetworkArchitecture Arch(CellType cell, Activation act, int layers) =>
        new(cell, 4, layers == 1 ? [6] : [6, 5], 2, act);

    /// <summary>A network with its default initialisation, the biases spread so that every gate block differs.</summary>
    internal static RecurrentNetwork<float> Network(NetworkArchitecture arch, ulong seed)
    {
        var net = new RecurrentNetwork<float>(arch, seed);
        double[] spread = RecurrentTestKit.Uniform(seed + 100, net.Parameters.Length, -0.6, 0.6);
        Span<float> p = net.Parameters;
        for (int i = 0; i < p.Length; i++) p[i] += (float)spread[i];
        net.MarkParametersChanged();
        return net;
    }

    /// <summary>A state with random h (and c), as a stream in mid-sequence has.</summary>
    internal static NetworkState<float> RandomState(RecurrentNetwork<float> net, int batch, ulong seed)
    {
        NetworkState<float> state = net.CreateState(batch);
        for (int l = 0; l < net.Architecture.NumLayers; l++)
        {
            RecurrentTestKit.Convert<float>(RecurrentTestKit.Uniform(seed + (ulong)l, state.Hidden(l).Length, -0.8, 0.8)).CopyTo(state.Hidden(l));
            if (net.Architecture.Cell == CellType.Lstm)
                RecurrentTestKit.Convert<float>(RecurrentTestKit.Uniform(seed + 50 + (ulong)l, state.Cell(l).Length, -1.5, 1.5)).CopyTo(state.Cell(l));
        }
        return state;
    }

    internal static float[] Sequence(int steps, int batch, int input, ulong seed) =>
        RecurrentTestKit.Convert<float>(RecurrentTestKit.Uniform(seed, steps * batch * input, -1.5, 1.5));

    private static void AssertClose(ReadOnlySpan<float> expected, float[] actual, string what) =>
        RecurrentTestKit.AssertClose(RecurrentTestKit.ToDouble(expected), RecurrentTestKit.ToDouble<float>(actual), Tolerance, Floor, what);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Export_RunInOnnxRuntime_EqualsForwardFromTheSameState(CellType cell, Activation act, int layers, int batch, ulong seed)
    {
        NetworkArchitecture arch = Arch(cell, act, layers);
        RecurrentNetwork<float> net = Network(arch, seed);
        float[] x = Sequence(Steps, batch, arch.InputSize, seed + 7);
        NetworkState<float> state = RandomState(net, batch, seed + 11);
        var feeds = OnnxRuntimeHarness.Feeds(arch, x, Steps, batch, [state]);

        var expected = new float[Steps * batch * arch.OutputSize];
        net.Forward(x, expected, state); // state now holds the final state

        using var ort = new OnnxRuntimeHarness(OnnxExporter.ToBytes(net));
        var outputs = ort.Run(feeds);
        Assert.Equal(new long[] { Steps, batch, arch.OutputSize }, outputs[OnnxNames.Output].Shape);
        AssertClose(expected, outputs[OnnxNames.Output].Values, $"{arch} B={batch}: output");
        for (int l = 0; l < layers; l++)
        {
            Assert.Equal(new long[] { 1, batch, arch.HiddenSizes[l] }, outputs[OnnxNames.FinalHidden(l)].Shape);
            AssertClose(state.Hidden(l), outputs[OnnxNames.FinalHidden(l)].Values, $"{arch} B={batch}: final h of layer {l}");
            if (cell == CellType.Lstm)
                AssertClose(state.Cell(l), outputs[OnnxNames.FinalCell(l)].Values, $"{arch} B={batch}: final c of layer {l}");
        }
    }

    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void WithoutStateInputs_TheModelStartsFromZero_AsForwardWithAFreshState(CellType cell)
    {
        NetworkArchitecture arch = Arch(cell, Activation.Tanh, 2);
        RecurrentNetwork<float> net = Network(arch, 5);
        const int batch = 3;
        float[] x = Sequence(Steps, batch, arch.InputSize, 9);
        var expected = new float[Steps * batch * arch.OutputSize];
        net.Forward(x, expected, net.CreateState(batch));

        using var ort = new OnnxRuntimeHarness(OnnxExporter.ToBytes(net, new OnnxExportOptions { StateInputs = false }));
        Assert.Equal([OnnxNames.Input], ort.Session.InputNames);
        AssertClose(expected, ort.Run(OnnxRuntimeHarness.Feeds(arch, x, Steps, batch, null))[OnnxNames.Output].Values, $"{arch}: output from zero state");
    }

    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void OneStepAtATime_WithTheFinalStatesFedBack_EqualsStep(CellType cell)
    {
        NetworkArchitecture arch = Arch(cell, Activation.Tanh, 2);
        RecurrentNetwork<float> net = Network(arch, 3);
        NetworkState<float> ours = net.CreateState(1), fed = net.CreateState(1);
        using var ort = new OnnxRuntimeHarness(OnnxExporter.ToBytes(net));
        var y = new float[arch.OutputSize];
        for (int t = 0; t < 12; t++)
        {
            float[] x = Sequence(1, 1, arch.InputSize, 40 + (ulong)t);
            var outputs = ort.Run(OnnxRuntimeHarness.Feeds(arch, x, 1, 1, [fed]));
            net.Step(x, y, ours);
            AssertClose(y, outputs[OnnxNames.Output].Values, $"{arch}: step {t}");
            // The next call starts from the final states ONNX Runtime returned, not from ours.
            for (int l = 0; l < arch.NumLayers; l++)
            {
                outputs[OnnxNames.FinalHidden(l)].Values.CopyTo(fed.Hidden(l));
                if (cell == CellType.Lstm) outputs[OnnxNames.FinalCell(l)].Values.CopyTo(fed.Cell(l));
            }
        }
    }

    [Theory]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void Ensemble_IsTheMeanOfTheMembersForwards_WithOneStateSetPerMember(CellType cell)
    {
        NetworkArchitecture arch = Arch(cell, Activation.Tanh, 2);
        RecurrentNetwork<float>[] members = [Network(arch, 21), Network(arch, 22), Network(arch, 23)];
        const int batch = 2;
        float[] x = Sequence(Steps, batch, arch.InputSize, 31);
        NetworkState<float>[] states = [.. members.Select((m, k) => RandomState(m, batch, 60 + (ulong)k))];
        var feeds = OnnxRuntimeHarness.Feeds(arch, x, Steps, batch, states);

        // Independent of the exporter: average the members' own forwards.
        var mean = new double[Steps * batch * arch.OutputSize];
        var y = new float[mean.Length];
        for (int k = 0; k < members.Length; k++)
        {
            members[k].Forward(x, y, states[k]);
            for (int i = 0; i < mean.Length; i++) mean[i] += y[i] / (double)members.Length;
        }

        using var ort = new OnnxRuntimeHarness(OnnxExporter.ToBytes(members));
        var outputs = ort.Run(feeds);
        RecurrentTestKit.AssertClose(mean, RecurrentTestKit.ToDouble<float>(outputs[OnnxNames.Output].Values), Tolerance, Floor, "ensemble mean");
        for (int k = 0; k < members.Length; k++)
            for (int l = 0; l < arch.NumLayers; l++)
                AssertClose(states[k].Hidden(l), outputs[OnnxNames.FinalHidden(l, k)].Values, $"member {k} final h of layer {l}");
    }

    [Fact]
    public void DoubleNetwork_IsExportedAsFloat_WithEachParameterRoundedOnce()
    {
        NetworkArchitecture arch = Arch(CellType.Lstm, Activation.Tanh, 2);
        var dbl = new RecurrentNetwork<double>(arch, 8);
        RecurrentNetwork<float> rounded = RecurrentTestKit.Copy<double, float>(dbl, Rnn.Simd.Kernels.IsaPath.Auto);
        const int batch = 3;
        float[] x = Sequence(Steps, batch, arch.InputSize, 12);
        var expected = new float[Steps * batch * arch.OutputSize];
        rounded.Forward(x, expected, rounded.CreateState(batch));

        byte[] model = OnnxExporter.ToBytes(dbl, new OnnxExportOptions { StateInputs = false });
        using var ort = new OnnxRuntimeHarness(model);
        AssertClose(expected, ort.Run(OnnxRuntimeHarness.Feeds(arch, x, Steps, batch, null))[OnnxNames.Output].Values, "double network as float");
    }

    [Theory]
    [InlineData(OnnxExporter.MinOpset)]
    [InlineData(OnnxExporter.DefaultOpset)]
    [InlineData(OnnxExporter.MaxOpset)]
    public void EveryAcceptedOpset_LoadsInOnnxRuntime_AndComputesTheSame(int opset)
    {
        NetworkArchitecture arch = Arch(CellType.Gru, Activation.Tanh, 2);
        RecurrentNetwork<float> net = Network(arch, 4);
        const int batch = 3;
        float[] x = Sequence(Steps, batch, arch.InputSize, 14);
        var expected = new float[Steps * batch * arch.OutputSize];
        net.Forward(x, expected, net.CreateState(batch));
        using var ort = new OnnxRuntimeHarness(OnnxExporter.ToBytes(net, new OnnxExportOptions { Opset = opset, StateInputs = false }));
        AssertClose(expected, ort.Run(OnnxRuntimeHarness.Feeds(arch, x, Steps, batch, null))[OnnxNames.Output].Values, $"opset {opset}");
    }

    [Fact]
    public void OnnxRuntime_SeesTheDeclaredInputsAndOutputs_WithSymbolicSequenceAndBatch()
    {
        NetworkArchitecture arch = Arch(CellType.Lstm, Activation.Tanh, 2);
        using var ort = new OnnxRuntimeHarness(OnnxExporter.ToBytes(Network(arch, 1)));
        Assert.Equal(["input", "initial_h_l0", "initial_c_l0", "initial_h_l1", "initial_c_l1"], ort.Session.InputNames);
        Assert.Equal(["output", "final_h_l0", "final_c_l0", "final_h_l1", "final_c_l1"], ort.Session.OutputNames);
        var input = ort.Session.InputMetadata["input"];
        Assert.Equal(typeof(float), input.ElementType);
        Assert.Equal(["sequence", "batch", ""], input.SymbolicDimensions);
        Assert.Equal([-1, -1, 4], input.Dimensions);
        Assert.Equal([-1, -1, 2], ort.Session.OutputMetadata["output"].Dimensions);
        Assert.Equal([1, -1, 5], ort.Session.OutputMetadata["final_c_l1"].Dimensions);
        Assert.Equal("Rnn.Simd", ort.Session.ModelMetadata.ProducerName);
        Assert.Equal("Lstm", ort.Session.ModelMetadata.CustomMetadataMap["rnn_simd.cell"]);
    }
}
