using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Onnx;
using Rnn.Simd.Onnx.Proto;

namespace Rnn.Simd.Tests.Onnx;

/// <summary>
/// The exported file itself, read back with the generated protobuf classes: the declared opset and IR version, the
/// operators and their attributes, the gate blocks of W / R / B placed where ONNX's order says (checked element by
/// element against the PyTorch-ordered slices, by a mapping written here from the ONNX operator documentation), the
/// readout transposed; every bad input refused with a message naming what is wrong; the file written atomically.
/// </summary>
public class OnnxExportTests
{
    private static ModelProto Parse(byte[] bytes) => ModelProto.Parser.ParseFrom(bytes);

    private static float[] Floats(TensorProto t)
    {
        Assert.Equal((int)TensorProto.Types.DataType.Float, t.DataType);
        byte[] raw = t.RawData.ToByteArray();
        var v = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, v, 0, raw.Length);
        return v;
    }

    private static TensorProto Initializer(ModelProto m, string name) => m.Graph.Initializer.Single(t => t.Name == name);

    [Theory]
    [InlineData(CellType.Elman, "RNN")]
    [InlineData(CellType.Lstm, "LSTM")]
    [InlineData(CellType.Gru, "GRU")]
    public void Graph_IsStandardOperators_OnePerLayer_SqueezedAndReadOutByMatMulAdd(CellType cell, string op)
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(cell, 3, [4, 2], 5, Activation.Relu), 1);
        ModelProto m = Parse(OnnxExporter.ToBytes(net));
        Assert.Equal(8, m.IrVersion);
        Assert.Equal(17, m.OpsetImport.Single().Version);
        Assert.Equal("", m.OpsetImport.Single().Domain);
        Assert.Equal([op, "Squeeze", op, "Squeeze", "MatMul", "Add"], m.Graph.Node.Select(n => n.OpType));
        Assert.All(m.Graph.Node, n => Assert.Equal("", n.Domain));

        NodeProto l0 = m.Graph.Node[0], l1 = m.Graph.Node[2];
        Assert.Equal(4, l0.Attribute.Single(a => a.Name == "hidden_size").I);
        Assert.Equal(2, l1.Attribute.Single(a => a.Name == "hidden_size").I);
        Assert.Equal("H_l0", l1.Input[0]);
        Assert.Equal(cell == CellType.Gru, l0.Attribute.Any(a => a.Name == "linear_before_reset" && a.I == 1));
        if (cell == CellType.Elman)
            Assert.Equal("Relu", l0.Attribute.Single(a => a.Name == "activations").Strings.Single().ToStringUtf8());
        // Optional inputs: X, W, R, B, sequence_lens omitted, initial_h (and initial_c).
        Assert.Equal(cell == CellType.Lstm ? 7 : 6, l0.Input.Count);
        Assert.Equal("", l0.Input[4]);
        Assert.Equal([1L], Initializer(m, "squeeze_axes").Int64Data);
        Assert.Equal([1L, 4 * cell.GateCount(), 3], Initializer(m, "W_l0").Dims);
        Assert.Equal([1L, 2 * cell.GateCount(), 4], Initializer(m, "W_l1").Dims);
        Assert.Equal([1L, 4 * cell.GateCount(), 4], Initializer(m, "R_l0").Dims);
        Assert.Equal([1L, 2 * 4 * cell.GateCount()], Initializer(m, "B_l0").Dims);
        Assert.Equal([2L, 5], Initializer(m, "readout_weight_t").Dims);
    }

    /// <summary>ONNX's gate names in ONNX order, and the PyTorch gate each one is (from the two projects' documents:
    /// LSTM PyTorch i|f|g|o, ONNX i|o|f|c with c = g; GRU PyTorch r|z|n, ONNX z|r|h with h = n).</summary>
    public static TheoryData<CellType, string[], string[]> GateOrders() => new()
    {
        { CellType.Lstm, ["i", "f", "g", "o"], ["i", "o", "f", "g"] },
        { CellType.Gru, ["r", "z", "n"], ["z", "r", "n"] },
        { CellType.Elman, ["h"], ["h"] },
    };

    [Theory]
    [MemberData(nameof(GateOrders))]
    public void Weights_AreInOnnxGateOrder_AndBiasIsWbThenRb(CellType cell, string[] pytorch, string[] onnx)
    {
        const int h = 3, input = 2;
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(cell, input, [h], 1), 2);
        ModelProto m = Parse(OnnxExporter.ToBytes(net));
        float[] w = Floats(Initializer(m, "W_l0")), r = Floats(Initializer(m, "R_l0")), b = Floats(Initializer(m, "B_l0"));
        int g = pytorch.Length;
        Span<float> wih = net.Parameter("weight_ih_l0"), whh = net.Parameter("weight_hh_l0");
        Span<float> bih = net.Parameter("bias_ih_l0"), bhh = net.Parameter("bias_hh_l0");
        for (int k = 0; k < g; k++)
        {
            int src = Array.IndexOf(pytorch, onnx[k]); // the PyTorch block holding ONNX block k
            for (int row = 0; row < h; row++)
            {
                for (int c = 0; c < input; c++) Assert.Equal(wih[(src * h + row) * input + c], w[(k * h + row) * input + c]);
                for (int c = 0; c < h; c++) Assert.Equal(whh[(src * h + row) * h + c], r[(k * h + row) * h + c]);
                Assert.Equal(bih[src * h + row], b[k * h + row]);
                Assert.Equal(bhh[src * h + row], b[g * h + k * h + row]);
            }
        }
    }

    [Fact]
    public void HighwayCell_IsRefused_NamingTheCell()
    {
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Highway, 1, 4, 1, 1, recurrenceDepth: 2), seed: 3);
        var ex = Assert.Throws<NotSupportedException>(() => OnnxExporter.ToBytes(net));
        Assert.Contains("Highway", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Readout_IsTheTransposeOfReadoutWeight_AndItsBias()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 2, [3], 4), 3);
        ModelProto m = Parse(OnnxExporter.ToBytes(net));
        float[] wt = Floats(Initializer(m, "readout_weight_t"));
        Span<float> w = net.Parameter("readout.weight"); // 4 x 3
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(w[k * 3 + j], wt[j * 4 + k]);
        Assert.Equal(net.Parameter("readout.bias").ToArray(), Floats(Initializer(m, "readout_bias")));
    }

    [Theory]
    [InlineData(14, 8)]
    [InlineData(18, 8)]
    [InlineData(19, 9)]
    [InlineData(21, 10)]
    [InlineData(22, 10)]
    public void IrVersion_FollowsTheOpset(int opset, int ir)
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 1, [2], 1), 1);
        ModelProto m = Parse(OnnxExporter.ToBytes(net, new OnnxExportOptions { Opset = opset }));
        Assert.Equal(ir, m.IrVersion);
        Assert.Equal(opset, m.OpsetImport.Single().Version);
    }

    [Fact]
    public void Metadata_HoldsTheArchitecture_AndTheCallersPairs_CallersWin()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [2], 1), 1);
        ModelProto m = Parse(OnnxExporter.ToBytes(net, new OnnxExportOptions
        {
            Metadata = new Dictionary<string, string> { ["horizon"] = "24", ["rnn_simd.members"] = "override" },
        }));
        var props = m.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(props.Count, m.MetadataProps.Count); // keys distinct
        Assert.Equal("24", props["horizon"]);
        Assert.Equal("override", props["rnn_simd.members"]);
        Assert.Equal(net.Architecture.ToString(), props["rnn_simd.architecture"]);
        Assert.Equal("float32", props["rnn_simd.source_element_type"]);
    }

    [Fact]
    public void Export_IsDeterministic()
    {
        var a = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 2, [3, 3], 1), 9);
        var b = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 2, [3, 3], 1), 9);
        Assert.Equal(OnnxExporter.ToBytes(a), OnnxExporter.ToBytes(b));
        Assert.Equal(OnnxExporter.ToBytes(a), OnnxExporter.ToBytes([a]));
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "infinite")]
    public void NonFiniteParameter_IsRefused_NamingTheTensorAndElement(float bad, string what)
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 2, [3], 1), 1);
        net.Parameter("weight_hh_l0")[7] = bad;
        var e = Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes(net));
        Assert.Contains("weight_hh_l0 element 7", e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void DoubleBeyondFloatRange_IsRefused_NotWrittenAsInfinity()
    {
        var net = new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Gru, 2, [3], 1), 1);
        net.Parameter("readout.bias")[0] = 1e300;
        var e = Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes(net));
        Assert.Contains("readout.bias element 0", e.Message);
        Assert.Contains("beyond float's range", e.Message);
    }

    [Theory]
    [InlineData(13)]
    [InlineData(23)]
    public void OpsetOutOfRange_IsRefused(int opset)
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 1, [2], 1), 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExporter.ToBytes(net, new OnnxExportOptions { Opset = opset }));
        Assert.Contains("Opset must be 14 to 22", e.Message);
    }

    [Fact]
    public void Ensemble_OfDifferentArchitectures_IsRefused_NamingTheMember()
    {
        var a = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [2], 1), 1);
        var b = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [3], 1), 1);
        Assert.Contains("Member 1", Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes([a, b])).Message);
        Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes(Array.Empty<RecurrentNetwork<float>>()));
    }

    [Fact]
    public void EmptyMetadataKey_IsRefused()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 1, [2], 1), 1);
        Assert.Throws<ArgumentException>(() => OnnxExporter.ToBytes(net, new OnnxExportOptions { Metadata = new Dictionary<string, string> { [""] = "x" } }));
    }

    [Fact]
    public void ExportToPath_ReplacesTheFileAtomically_LeavingNoTemporaryFile()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rnn-simd-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "m.onnx");
            File.WriteAllText(path, "old");
            var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 2, [3], 1), 1);
            OnnxExporter.Export(net, path);
            Assert.Equal(OnnxExporter.ToBytes(net), File.ReadAllBytes(path));
            Assert.Equal([path], Directory.GetFiles(dir));

            // A failing export (a NaN weight) leaves the previous file as it was.
            net.Parameter("bias_ih_l0")[0] = float.NaN;
            byte[] before = File.ReadAllBytes(path);
            Assert.Throws<ArgumentException>(() => OnnxExporter.Export(net, path));
            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Equal([path], Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ExportToStream_WritesTheSameBytes()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 2, [3], 1), 1);
        using var stream = new MemoryStream();
        OnnxExporter.Export(net, stream);
        Assert.Equal(OnnxExporter.ToBytes(net), stream.ToArray());
    }

    [Fact]
    public void Names_FollowTheDocumentedPattern()
    {
        Assert.Equal("initial_h_l0", OnnxNames.InitialHidden(0));
        Assert.Equal("initial_c_m2_l1", OnnxNames.InitialCell(1, 2));
        Assert.Equal("final_h_l3", OnnxNames.FinalHidden(3));
        Assert.Equal("final_c_m0_l0", OnnxNames.FinalCell(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxNames.InitialHidden(-1));
    }
}

/// <summary>
/// That ONNX Runtime's load is a check worth passing: the same exported bytes with one defect each (an operator that
/// does not exist, a weight that is missing, a weight of the wrong shape) are refused when the session is created.
/// </summary>
[Collection(Rnn.Simd.Tests.Onnx.OnnxRuntimeCollection.Name)]
public class OnnxRuntimeLoadTests
{
    private static byte[] Mutated(Action<ModelProto> defect)
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 2, [3], 1), 1);
        ModelProto m = ModelProto.Parser.ParseFrom(OnnxExporter.ToBytes(net));
        defect(m);
        return Google.Protobuf.MessageExtensions.ToByteArray(m);
    }

    [Fact]
    public void TheUnmodifiedExport_Loads()
    {
        using var ort = new OnnxRuntimeHarness(Mutated(_ => { }));
        Assert.Equal(3, ort.Session.InputNames.Count);  // input, initial_h_l0, initial_c_l0
        Assert.Equal(3, ort.Session.OutputNames.Count); // output, final_h_l0, final_c_l0
    }

    [Fact]
    public void AnUnknownOperator_IsRefusedAtLoad() =>
        Assert.ThrowsAny<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() => new OnnxRuntimeHarness(Mutated(m => m.Graph.Node[0].OpType = "LSTMX")));

    [Fact]
    public void AMissingWeight_IsRefusedAtLoad() =>
        Assert.ThrowsAny<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() => new OnnxRuntimeHarness(Mutated(m =>
            m.Graph.Initializer.Remove(m.Graph.Initializer.Single(t => t.Name == "R_l0")))));

    [Fact]
    public void AWeightOfTheWrongShape_IsRefusedAtLoad() =>
        Assert.ThrowsAny<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() => new OnnxRuntimeHarness(Mutated(m =>
        {
            TensorProto w = m.Graph.Initializer.Single(t => t.Name == "W_l0");
            w.Dims[1] = 3; // 4·H rows declared as H: the raw data no longer fits the shape
        })));
}
