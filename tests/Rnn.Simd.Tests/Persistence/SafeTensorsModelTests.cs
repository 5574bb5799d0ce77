using System.Text;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using static Rnn.Simd.Tests.Persistence.PersistenceTestKit;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>
/// The PyTorch state-dict mapping of <see cref="SafeTensorsModel"/>: export then import round-trips bitwise (F32 for
/// float networks, F64 for double ones, every cell, stacked, ensembles, other prefixes) with the description in
/// <c>__metadata__</c>; names and shapes are PyTorch's; F16 / BF16 export rounds as the codec does; every missing,
/// extra, misshapen, non-float or non-finite tensor and every contradiction is an exception naming the tensor.
/// </summary>
public class SafeTensorsModelTests
{
    public static TheoryData<CellType, Activation, int[], bool> Cases()
    {
        var data = new TheoryData<CellType, Activation, int[], bool>();
        foreach (bool isDouble in new[] { false, true })
        {
            data.Add(CellType.Elman, Activation.Tanh, [5], isDouble);
            data.Add(CellType.Elman, Activation.Relu, [4, 7], isDouble);
            data.Add(CellType.Elman, Activation.Sigmoid, [3], isDouble);
            data.Add(CellType.Lstm, Activation.Tanh, [6], isDouble);
            data.Add(CellType.Lstm, Activation.Tanh, [5, 3, 9], isDouble);
            data.Add(CellType.Gru, Activation.Tanh, [7], isDouble);
            data.Add(CellType.Gru, Activation.Tanh, [2, 11], isDouble);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExportThenImport_RoundTripsBitwise(CellType cell, Activation activation, int[] hidden, bool isDouble)
    {
        var arch = new NetworkArchitecture(cell, 3, hidden, 2, activation);
        if (isDouble) RoundTrip(new RecurrentNetwork<double>(arch, seed: 7), SafeTensorsDType.F64);
        else RoundTrip(new RecurrentNetwork<float>(arch, seed: 7), SafeTensorsDType.F32);
    }

    private static void RoundTrip<T>(RecurrentNetwork<T> net, SafeTensorsDType dtype) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        SafeTensorsModel.Save(path, net, TwoColumnInfoFor(net.Architecture), new Dictionary<string, string> { ["data.name"] = "x" });
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        Assert.All(file.Tensors, t => Assert.Equal(dtype, t.DType));
        Assert.Equal(4 * net.Architecture.NumLayers + 2, file.Tensors.Count);
        Assert.Equal("pt", file.Metadata!["format"]);

        LoadedModel back = SafeTensorsModel.Load(path);
        Assert.Equal(net.Architecture, back.Architecture);
        Assert.Equal(typeof(T), back.ElementType);
        AssertBitwiseEqual<T>(net.Parameters, back.GetNetwork<T>().Parameters, "parameters");
        AssertBitwiseEqual<T>(Predict(net, 5, 3), Predict(back.GetNetwork<T>(), 5, 3), "outputs");
        Assert.Equal("x", back.Metadata["data.name"]);
        Assert.False(back.Metadata.ContainsKey(SafeTensorsModel.DescriptionKey));
        ForecastingInfo f = back.Forecasting!;
        ForecastingInfo want = TwoColumnInfoFor(net.Architecture);
        Assert.Equal(want.ColumnNames, f.ColumnNames);
        Assert.Equal(want.Scaler.Mean.ToArray(), f.Scaler.Mean.ToArray());
        Assert.Equal(want.Scaler.Std.ToArray(), f.Scaler.Std.ToArray());
        Assert.Equal(want.Options.Horizon, f.Options.Horizon);
        Assert.Equal(want.Options.Features, f.Options.Features);
        Assert.Equal(want.Options.TargetColumns, f.Options.TargetColumns);
    }

    /// <summary>Two columns, target column 1, horizon 3, lag inputs; output size to match O = 2 via multi-output h = 2.</summary>
    private static ForecastingInfo TwoColumnInfoFor(NetworkArchitecture a) => new ForecastingInfo
    {
        Scaler = new StandardScaler([1.5, -2.25 / 3], [0.1, 3.0]),
        Options = new ForecastOptions(2, TargetMode.MultiOutput, [0, 1], [1], FeatureSpec.Parse("value,lag3")),
        ColumnNames = ["load (MW)", "température"],
    }.CheckInputs(a);

    [Fact]
    public void NamesShapesAndOrder_ArePyTorchs()
    {
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Lstm, 3, 4, 2, 1), seed: 2);
        SafeTensorsFile file = SafeTensorsModel.ToFile<float>([net]);
        string[] expected =
        [
            "readout.bias", "readout.weight", "rnn.bias_hh_l0", "rnn.bias_hh_l1", "rnn.bias_ih_l0", "rnn.bias_ih_l1",
            "rnn.weight_hh_l0", "rnn.weight_hh_l1", "rnn.weight_ih_l0", "rnn.weight_ih_l1",
        ];
        SafeTensorsFile written = SafeTensorsFile.Parse(file.ToArray());
        Assert.Equal(expected, written.Tensors.Select(t => t.Name)); // one dtype: the reference writer's name order
        Assert.Equal([16L, 3], written.Find("rnn.weight_ih_l0")!.Shape);
        Assert.Equal([16L, 4], written.Find("rnn.weight_hh_l1")!.Shape);
        Assert.Equal([16L], written.Find("rnn.bias_hh_l1")!.Shape);
        Assert.Equal([1L, 4], written.Find("readout.weight")!.Shape);
        Assert.Equal([1L], written.Find("readout.bias")!.Shape);
        // Row-major W_ih of layer 1: row r (gate block r / H), column c (input unit c) = flat slice element r·I + c.
        ParameterSlice s = net.Layout["weight_ih_l1"];
        float[] w = written.Find("rnn.weight_ih_l1")!.ToSingle();
        Assert.Equal(net.Parameters[s.Offset + 9 * 4 + 2], w[9 * 4 + 2]);
        Assert.Contains("\"cell\":\"LSTM\"", written.Metadata![SafeTensorsModel.DescriptionKey], StringComparison.Ordinal);
    }

    [Fact]
    public void OtherPrefixes_AndABareRnnStateDict_RoundTrip()
    {
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Gru, 2, 3, 1, 2), seed: 4);
        var export = new SafeTensorsExportOptions { RecurrentPrefix = "", ReadoutPrefix = "head." };
        SafeTensorsFile file = SafeTensorsFile.Parse(SafeTensorsModel.ToFile<float>([net], options: export).ToArray());
        Assert.NotNull(file.Find("weight_ih_l0"));
        Assert.NotNull(file.Find("head.weight"));
        // The description carries the prefixes...
        AssertBitwiseEqual<float>(net.Parameters, SafeTensorsModel.Load(file).GetNetwork<float>().Parameters, "from the description");
        // ...and without it (a PyTorch file) the options give them.
        var plain = new SafeTensorsFile(file.Tensors);
        Assert.Contains("'rnn.weight_ih_l0' is missing", Assert.Throws<InvalidDataException>(() => SafeTensorsModel.Load(plain)).Message, StringComparison.Ordinal);
        var import = new SafeTensorsImportOptions { RecurrentPrefix = "", ReadoutPrefix = "head." };
        AssertBitwiseEqual<float>(net.Parameters, SafeTensorsModel.Load(plain, import).GetNetwork<float>().Parameters, "from the options");
    }

    [Fact]
    public void AnEnsemble_IsAModuleListStateDict_AndRoundTrips()
    {
        var arch = NetworkArchitecture.Uniform(CellType.Lstm, 2, 3, 1, 1);
        var members = new[] { new RecurrentNetwork<float>(arch, 1), new RecurrentNetwork<float>(arch, 2), new RecurrentNetwork<float>(arch, 3) };
        SafeTensorsFile file = SafeTensorsFile.Parse(SafeTensorsModel.ToFile<float>(members).ToArray());
        Assert.NotNull(file.Find("2.rnn.weight_hh_l0"));
        Assert.NotNull(file.Find("0.readout.bias"));
        LoadedModel back = SafeTensorsModel.Load(file);
        Assert.Equal(3, back.MemberCount);
        for (int k = 0; k < 3; k++) AssertBitwiseEqual<float>(members[k].Parameters, back.GetMembers<float>()[k].Parameters, $"member {k}");
        // A member dropped from the file contradicts the description's count.
        var two = new SafeTensorsFile(file.Tensors.Where(t => !t.Name.StartsWith("2.", StringComparison.Ordinal)), file.Metadata);
        Assert.Contains("says 3 member(s); the file holds 2", Assert.Throws<InvalidDataException>(() => SafeTensorsModel.Load(two)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SafeTensorsDType.F16)]
    [InlineData(SafeTensorsDType.BF16)]
    [InlineData(SafeTensorsDType.F64)]
    [InlineData(SafeTensorsDType.F32)]
    public void ExportAsAnotherDType_RoundsEachValueOnce(SafeTensorsDType dtype)
    {
        var net = new RecurrentNetwork<double>(NetworkArchitecture.Uniform(CellType.Elman, 2, 3, 1, 1), seed: 9);
        SafeTensorsFile file = SafeTensorsFile.Parse(SafeTensorsModel.ToFile<double>([net], options: new SafeTensorsExportOptions { DType = dtype }).ToArray());
        LoadedModel back = SafeTensorsModel.Load(file, new SafeTensorsImportOptions { ElementType = typeof(double) });
        double[] p = back.GetNetwork<double>().Parameters.ToArray();
        for (int i = 0; i < p.Length; i++)
        {
            double v = net.Parameters[i];
            double want = dtype switch
            {
                SafeTensorsDType.F16 => (double)(Half)v,   // .NET's Half conversion from double, an independent rounding
                SafeTensorsDType.BF16 => BitConverter.Int32BitsToSingle((int)((BitConverter.SingleToUInt32Bits((float)v) + 0x7FFF + ((BitConverter.SingleToUInt32Bits((float)v) >> 16) & 1)) >> 16) << 16),
                SafeTensorsDType.F32 => (float)v,
                _ => v,
            };
            if (dtype == SafeTensorsDType.BF16 && (double)(float)v != v)
            {
                // The float detour above can double-round; check against the two BF16 neighbours of v instead.
                Assert.True(Math.Abs(p[i] - v) <= Math.Abs(want - v) + 1e-300, $"parameter {i}: {p[i]:R} is not the nearest BF16 to {v:R}");
                continue;
            }
            Assert.True(want.Equals(p[i]), $"parameter {i} as {dtype}: {p[i]:R}, expected {want:R}");
        }
        Assert.Equal(dtype == SafeTensorsDType.F64 ? typeof(double) : typeof(float), SafeTensorsModel.Load(file).ElementType);
    }

    [Fact]
    public void ExportRefuses_NonFiniteAndOutOfRangeValues_NamingTheTensor()
    {
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Gru, 2, 3, 1, 1), seed: 9);
        net.Parameter("weight_hh_l0")[4] = 70000f;
        string m = Assert.Throws<ArgumentException>(() => SafeTensorsModel.ToFile<float>([net], options: new SafeTensorsExportOptions { DType = SafeTensorsDType.F16 })).Message;
        Assert.Contains("'rnn.weight_hh_l0' cannot be saved as F16: element 4 (70000) is beyond its range", m, StringComparison.Ordinal);
        SafeTensorsModel.ToFile<float>([net]); // F32 holds it
        net.Parameter("readout.bias")[0] = float.NaN;
        Assert.Contains("'readout.bias' cannot be saved: element 0 is NaN", Assert.Throws<ArgumentException>(() => SafeTensorsModel.ToFile<float>([net])).Message, StringComparison.Ordinal);
        net.Parameter("readout.bias")[0] = 0;
        Assert.Throws<ArgumentException>(() => SafeTensorsModel.ToFile<float>([net], options: new SafeTensorsExportOptions { ReadoutPrefix = "" }));
        Assert.Throws<ArgumentException>(() => SafeTensorsModel.ToFile<float>([net], options: new SafeTensorsExportOptions { RecurrentPrefix = "m.", ReadoutPrefix = "m." }));
        Assert.Throws<ArgumentException>(() => SafeTensorsModel.ToFile<float>([net], metadata: new Dictionary<string, string> { [SafeTensorsModel.DescriptionKey] = "{}" }));
    }

    // ------------------------------------------------------------------------------------------------ bad state dicts

    /// <summary>A PyTorch-like state dict of an LSTM I = 2, H = 3, L = 1, O = 1 without any description.</summary>
    private static List<SafeTensor> StateDict(string prefix = "rnn.")
    {
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Lstm, 2, 3, 1, 1), seed: 5);
        return SafeTensorsModel.ToFile<float>([net], options: new SafeTensorsExportOptions { RecurrentPrefix = prefix }).Tensors.ToList();
    }

    private static string LoadError(IEnumerable<SafeTensor> tensors, SafeTensorsImportOptions? options = null) =>
        Assert.Throws<InvalidDataException>(() => SafeTensorsModel.Load(SafeTensorsFile.Parse(new SafeTensorsFile(tensors).ToArray()), options)).Message;

    private static SafeTensor Replace(SafeTensor t, long[] shape) => SafeTensor.FromValues(t.Name, shape, new float[shape.Aggregate(1L, (a, b) => a * b)]);

    [Fact]
    public void MissingTensors_AreNamed()
    {
        var dict = StateDict();
        Assert.Contains("The tensor 'readout.bias' is missing (the network Lstm I=2 H=[3] O=1 needs it)",
            LoadError(dict.Where(t => t.Name != "readout.bias")), StringComparison.Ordinal);
        Assert.Contains("'rnn.bias_hh_l0' is missing", LoadError(dict.Where(t => t.Name != "rnn.bias_hh_l0")), StringComparison.Ordinal);
        Assert.Contains("bias=False", LoadError(dict.Where(t => t.Name != "rnn.bias_hh_l0")), StringComparison.Ordinal);
        Assert.Contains("'rnn.weight_hh_l0' is missing", LoadError(dict.Where(t => t.Name != "rnn.weight_hh_l0")), StringComparison.Ordinal);
        Assert.Contains("'readout.weight' is missing", LoadError(dict.Where(t => t.Name != "readout.weight")), StringComparison.Ordinal);
        string none = LoadError(StateDict("lstm."));
        Assert.Contains("'rnn.weight_ih_l0' is missing (looked under the recurrent prefix 'rnn.'", none, StringComparison.Ordinal);
        Assert.Contains("lstm.weight_ih_l0", none, StringComparison.Ordinal); // lists what the file holds
    }

    [Fact]
    public void ExtraTensors_AreNamed_UnlessIgnored()
    {
        var dict = StateDict();
        dict.Add(SafeTensor.FromValues("rnn.weight_ih_l0_reverse", [12, 2], new float[24]));
        string m = LoadError(dict);
        Assert.Contains("1 tensor(s) belong to no part of the network Lstm I=2 H=[3] O=1: 'rnn.weight_ih_l0_reverse'", m, StringComparison.Ordinal);
        Assert.Contains("Bidirectional RNNs are not supported", m, StringComparison.Ordinal);
        var ignoring = new SafeTensorsImportOptions { IgnoreExtraTensors = true };
        Assert.Equal(1, SafeTensorsModel.Load(new SafeTensorsFile(dict), ignoring).Architecture.NumLayers);

        var gap = StateDict();
        gap.Add(SafeTensor.FromValues("rnn.weight_hh_l2", [12, 3], new float[36]));
        Assert.Contains("out of sequence", LoadError(gap), StringComparison.Ordinal);
        var proj = StateDict();
        proj.Add(SafeTensor.FromValues("rnn.weight_hr_l0", [2, 3], new float[6]));
        Assert.Contains("projections", LoadError(proj), StringComparison.Ordinal);
    }

    [Fact]
    public void MisshapenTensors_AreNamedWithBothShapes()
    {
        var dict = StateDict();
        int i = dict.FindIndex(t => t.Name == "rnn.bias_ih_l0");
        dict[i] = Replace(dict[i], [11]);
        Assert.Contains("Tensor 'rnn.bias_ih_l0' has shape [11]; the network Lstm I=2 H=[3] O=1 needs [12] (b_ih of layer 0)", LoadError(dict), StringComparison.Ordinal);

        dict = StateDict();
        i = dict.FindIndex(t => t.Name == "readout.weight");
        dict[i] = Replace(dict[i], [1, 4]);
        Assert.Contains("'readout.weight' has shape [1, 4]; the network Lstm I=2 H=[3] O=1 needs [1, 3]", LoadError(dict), StringComparison.Ordinal);

        dict = StateDict();
        i = dict.FindIndex(t => t.Name == "rnn.weight_hh_l0");
        dict[i] = Replace(dict[i], [10, 3]);
        Assert.Contains("'rnn.weight_hh_l0' has shape [10, 3]: its rows must be 1, 3 or 4 times its columns", LoadError(dict), StringComparison.Ordinal);
        dict[i] = Replace(dict[i], [12, 3, 1]);
        Assert.Contains("'rnn.weight_hh_l0' has shape [12, 3, 1]; it must be a matrix", LoadError(dict), StringComparison.Ordinal);

        dict = StateDict();
        i = dict.FindIndex(t => t.Name == "rnn.weight_ih_l0");
        dict[i] = Replace(dict[i], [9, 2]);
        Assert.Contains("'rnn.weight_ih_l0' has shape [9, 2]; it needs 12 rows", LoadError(dict), StringComparison.Ordinal);
    }

    [Fact]
    public void NonFloatAndNonFiniteTensors_AreNamed()
    {
        var dict = StateDict();
        int i = dict.FindIndex(t => t.Name == "rnn.bias_hh_l0");
        dict[i] = SafeTensor.FromBytes("rnn.bias_hh_l0", SafeTensorsDType.I32, [12], new byte[48]);
        Assert.Contains("'rnn.bias_hh_l0' has dtype I32; network parameters must be F32, F64, F16 or BF16", LoadError(dict), StringComparison.Ordinal);

        dict = StateDict();
        i = dict.FindIndex(t => t.Name == "rnn.weight_hh_l0");
        float[] w = dict[i].ToSingle();
        w[7] = float.PositiveInfinity;
        dict[i] = SafeTensor.FromValues("rnn.weight_hh_l0", [12, 3], w);
        Assert.Contains("'rnn.weight_hh_l0' element 7 is Infinity: network parameters must be finite", LoadError(dict), StringComparison.Ordinal);

        dict = StateDict();
        i = dict.FindIndex(t => t.Name == "readout.bias");
        dict[i] = SafeTensor.FromValues("readout.bias", [1], [1e300], SafeTensorsDType.F64);
        Assert.Contains("'readout.bias' element 0 is 1E+300 (beyond float's range)", LoadError(dict, new SafeTensorsImportOptions { ElementType = typeof(float) }), StringComparison.Ordinal);
    }

    [Fact]
    public void TheCell_FromTheGateMultiple_TheDescription_OrTheOptions_MustAgreeWithTheShapes()
    {
        var dict = StateDict(); // LSTM shapes
        Assert.Equal(CellType.Lstm, SafeTensorsModel.InferArchitecture(new SafeTensorsFile(dict)).Cell);
        Assert.Contains("The options give Gru (3 gate blocks), but 'rnn.weight_hh_l0' has 4 gate block(s) (Lstm)",
            LoadError(dict, new SafeTensorsImportOptions { Cell = CellType.Gru }), StringComparison.Ordinal);
        var described = new SafeTensorsFile(dict, new Dictionary<string, string> { [SafeTensorsModel.DescriptionKey] = "{\"cell\":\"GRU\"}" });
        Assert.Contains("The description says Gru", Assert.Throws<InvalidDataException>(() => SafeTensorsModel.Load(described)).Message, StringComparison.Ordinal);
        var bad = new SafeTensorsFile(dict, new Dictionary<string, string> { [SafeTensorsModel.DescriptionKey] = "{\"cell\":\"LSTM\",\"horizon\":3}" });
        Assert.Contains("__metadata__ 'rnn_simd': unknown field 'horizon'", Assert.Throws<InvalidDataException>(() => SafeTensorsModel.Load(bad)).Message, StringComparison.Ordinal);

        // An explicit architecture is checked tensor by tensor.
        var explicitArch = new SafeTensorsImportOptions { Architecture = NetworkArchitecture.Uniform(CellType.Lstm, 2, 4, 1, 1) };
        Assert.Contains("'rnn.weight_ih_l0' has shape [12, 2]; the network Lstm I=2 H=[4] O=1 needs [16, 2]", LoadError(dict, explicitArch), StringComparison.Ordinal);
        var right = new SafeTensorsImportOptions { Architecture = NetworkArchitecture.Uniform(CellType.Lstm, 2, 3, 1, 1) };
        Assert.Equal(3, SafeTensorsModel.Load(new SafeTensorsFile(dict), right).Architecture.TopHiddenSize);
    }

    // ------------------------------------------------------------------------------------------------ sidecar

    [Fact]
    public void ASidecar_GivesAPyTorchFileItsForecastingInformation()
    {
        using var dir = new TempDir();
        string path = dir.File("torch.safetensors");
        new SafeTensorsFile(StateDict()).Save(path); // no metadata: what PyTorch writes
        Assert.Null(SafeTensorsModel.Load(path).Forecasting);

        File.WriteAllText(SafeTensorsModel.SidecarPath(path), """
            { "version": 1, "cell": "LSTM",
              "forecasting": { "columns": ["load"], "mean": [50.5], "std": [7.25], "horizon": 1, "features": "value,lag24" } }
            """, new UTF8Encoding(false));
        LoadedModel model = SafeTensorsModel.Load(path);
        Assert.Equal(["load"], model.Forecasting!.ColumnNames);
        Assert.Equal(50.5, model.Forecasting.Scaler.Mean[0]);
        Assert.Equal(FeatureSpec.Parse("value,lag24"), model.Forecasting.Options.Features);
        Assert.Equal(TargetMode.SingleStep, model.Forecasting.Options.Mode);

        File.WriteAllText(SafeTensorsModel.SidecarPath(path), """{ "forecasting": { "columns": ["load"], "mean": [1], "std": [0], "horizon": 1 } }""");
        Assert.Contains("torch.safetensors.json: forecasting:", Assert.Throws<InvalidDataException>(() => SafeTensorsModel.Load(path)).Message, StringComparison.Ordinal);
        File.WriteAllText(SafeTensorsModel.SidecarPath(path), """{ "forecasting": { "columns": ["load"], "mean": [1], "std": [1], "horizon": 2, "mode": "multi" } }""");
        Assert.Contains("does not fit the network", Assert.Throws<InvalidDataException>(() => SafeTensorsModel.Load(path)).Message, StringComparison.Ordinal);
        File.WriteAllText(SafeTensorsModel.SidecarPath(path), "{ \"forecasting\": ");
        Assert.Contains("torch.safetensors.json: not valid JSON", Assert.Throws<InvalidDataException>(() => SafeTensorsModel.Load(path)).Message, StringComparison.Ordinal);
        File.WriteAllText(SafeTensorsModel.SidecarPath(path), "{ \"cell\": \"LSTM\", \"cell\": \"GRU\" }");
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => SafeTensorsModel.Load(path)).Message, StringComparison.Ordinal);
    }
}

internal static class ForecastingInfoTestExtensions
{
    /// <summary>Checks the info against the architecture's sizes by building a matching architecture when the test's network differs.</summary>
    public static ForecastingInfo CheckInputs(this ForecastingInfo info, NetworkArchitecture a)
    {
        int c = info.Scaler.ColumnCount;
        if (info.Options.InputSize(c) != a.InputSize || info.Options.OutputSize(c) != a.OutputSize)
            throw new InvalidOperationException($"test setup: the info gives I={info.Options.InputSize(c)} O={info.Options.OutputSize(c)}, the network {a}");
        return info;
    }
}
