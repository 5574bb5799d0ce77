using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Onnx;
using Rnn.Simd.Tests.Network;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Onnx;

/// <summary>The ONNX export of <see cref="NetworkArchitecture.InputToOutput"/> run in ONNX Runtime (an independent
/// MatMul / Add of the graph's input) against <see cref="RecurrentNetwork{T}.Forward"/>.</summary>
[Collection(OnnxRuntimeCollection.Name)]
public class InputToOutputOnnxTests
{
    [Fact]
    public void OnnxExport_RunInOnnxRuntime_EqualsForward()
    {
        (RecurrentNetwork<float> net, _) = InputToOutputTests.Pair<float>(CellType.Lstm, 2, 71);
        const int steps = 7, batch = 3;
        float[] x = OnnxRuntimeParityTests.Sequence(steps, batch, 3, 72);
        var expected = new float[steps * batch * 2];
        net.Forward(x, expected, net.CreateState(batch));
        using var ort = new OnnxRuntimeHarness(OnnxExporter.ToBytes(net, new OnnxExportOptions { StateInputs = false }));
        float[] actual = ort.Run(OnnxRuntimeHarness.Feeds(net.Architecture, x, steps, batch, null))[OnnxNames.Output].Values;
        AssertClose(ToDouble<float>(expected), ToDouble<float>(actual), 1e-5, 0.1, "output with the input-to-output readout");
    }
}
