using System.Text.Json;
using Rnn.Simd.Cells;
using Rnn.Simd.Cli;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Onnx;
using Rnn.Simd.Persistence;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Tests.Onnx;

namespace Rnn.Simd.Tests.Cli;

/// <summary>
/// <c>rnn-simd export --format onnx</c> in process: the written file runs in ONNX Runtime and equals the saved
/// network's forward (one network, an ensemble, a double model), carries the forecasting information in its metadata,
/// and every bad command line or file is one error line with the right exit code. Also the onnxruntime rows of
/// <c>bench</c> (shape of the JSON only: no timing assertion).
/// </summary>
[Collection(Rnn.Simd.Tests.Onnx.OnnxRuntimeCollection.Name)]
public class OnnxExportCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static ForecastingInfo Info(int outputs) => new()
    {
        Scaler = new StandardScaler([49.5], [7.25]),
        Options = new ForecastOptions(outputs, outputs > 1 ? TargetMode.MultiOutput : TargetMode.SingleStep),
        ColumnNames = ["load"],
    };

    private static float[] Forward(RecurrentNetwork<float> net, float[] x, int steps)
    {
        var y = new float[steps * net.Architecture.OutputSize];
        net.Forward(x, y, net.CreateState());
        return y;
    }

    [Theory]
    [InlineData("--format", "onnx")]
    [InlineData("--format", "ONNX")]
    [InlineData(null, null)] // from the .onnx extension
    public void Export_WritesAModelThatOnnxRuntimeRuns_EqualToTheSavedNetwork(string? option, string? value)
    {
        using var dir = new TempDir();
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Lstm, 1, 5, 2, 3), 4);
        string model = dir.File("m.rnn"), onnx = dir.File("m.onnx");
        ModelFile.Save(model, net, Info(3), new Dictionary<string, string> { ["data"] = "unit-test" });

        string[] args = option is null ? ["export", "--model", model, "-o", onnx] : ["export", "--model", model, option, value!, "--output", onnx];
        var (code, stdout, stderr) = Run(args);
        Assert.True(code == 0, stderr);
        Assert.Equal("", stdout);
        Assert.Contains("ONNX opset 17, 2 x LSTM", stderr);

        const int steps = 9;
        float[] x = OnnxRuntimeParityTests.Sequence(steps, 1, 1, 3);
        using var ort = new OnnxRuntimeHarness(File.ReadAllBytes(onnx));
        var outputs = ort.Run(OnnxRuntimeHarness.Feeds(net.Architecture, x, steps, 1, [net.CreateState()]));
        RecurrentTestKit.AssertClose(RecurrentTestKit.ToDouble<float>(Forward(net, x, steps)),
            RecurrentTestKit.ToDouble<float>(outputs[OnnxNames.Output].Values), 1e-5, 0.1, "exported model");

        IDictionary<string, string> meta = ort.Session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("3", meta["rnn_simd.forecasting.horizon"]);
        Assert.Equal("multi", meta["rnn_simd.forecasting.mode"]);
        Assert.Equal("load", meta["rnn_simd.forecasting.columns"]);
        Assert.Equal("49.5", meta["rnn_simd.forecasting.scaler_mean"]);
        Assert.Equal("7.25", meta["rnn_simd.forecasting.scaler_std"]);
        Assert.Equal("unit-test", meta["model.data"]);
        Assert.Equal(new[] { model, onnx }.Order(StringComparer.Ordinal), Directory.GetFiles(dir.Path).Order(StringComparer.Ordinal)); // no temporary file left
    }

    [Fact]
    public void Export_OfAnEnsemble_AveragesTheMembers_AndOfADoubleModel_RoundsToFloat()
    {
        using var dir = new TempDir();
        NetworkArchitecture arch = NetworkArchitecture.Uniform(CellType.Gru, 1, 4, 1, 1);
        RecurrentNetwork<float>[] members = [new(arch, 1), new(arch, 2), new(arch, 3)];
        ModelFile.Save(dir.File("e.rnn"), members, Info(1));
        var (code, _, stderr) = Run("export", "--model", dir.File("e.rnn"), "-o", dir.File("e.onnx"));
        Assert.True(code == 0, stderr);
        Assert.Contains("mean of 3 members", stderr);

        const int steps = 6;
        float[] x = OnnxRuntimeParityTests.Sequence(steps, 1, 1, 8);
        var mean = new double[steps];
        foreach (RecurrentNetwork<float> m in members)
        {
            float[] y = Forward(m, x, steps);
            for (int t = 0; t < steps; t++) mean[t] += y[t] / 3.0;
        }
        using (var ort = new OnnxRuntimeHarness(File.ReadAllBytes(dir.File("e.onnx"))))
        {
            var feeds = OnnxRuntimeHarness.Feeds(arch, x, steps, 1, [.. members.Select(m => m.CreateState())]);
            RecurrentTestKit.AssertClose(mean, RecurrentTestKit.ToDouble<float>(ort.Run(feeds)[OnnxNames.Output].Values), 1e-5, 0.1, "ensemble");
        }

        var dbl = new RecurrentNetwork<double>(arch, 5);
        ModelFile.Save(dir.File("d.rnn"), dbl, Info(1));
        (code, _, stderr) = Run("export", "--model", dir.File("d.rnn"), "--format", "onnx", "-o", dir.File("d.onnx"));
        Assert.True(code == 0, stderr);
        Assert.Contains("rounded from float64", stderr);
        RecurrentNetwork<float> rounded = RecurrentTestKit.Copy<double, float>(dbl, Rnn.Simd.Kernels.IsaPath.Auto);
        using var ortD = new OnnxRuntimeHarness(File.ReadAllBytes(dir.File("d.onnx")));
        var outD = ortD.Run(OnnxRuntimeHarness.Feeds(arch, x, steps, 1, [rounded.CreateState()]));
        RecurrentTestKit.AssertClose(RecurrentTestKit.ToDouble<float>(Forward(rounded, x, steps)),
            RecurrentTestKit.ToDouble<float>(outD[OnnxNames.Output].Values), 1e-5, 0.1, "double model");
    }

    [Theory]
    [InlineData(2, "--format", "onnx", "-o", "x.onnx")]                          // no --model
    [InlineData(2, "--model", "m.rnn", "--format", "onnx")]                      // no -o
    [InlineData(2, "--model", "m.rnn", "--format", "tflite", "-o", "x.onnx")]    // unknown format
    [InlineData(2, "--model", "m.rnn", "-o", "x.bin")]                           // no format, extension says none
    [InlineData(2, "--model", "m.rnn", "--format", "onnx", "--dtype", "f16", "-o", "x.onnx")]       // safetensors-only option
    [InlineData(2, "--model", "m.rnn", "--format", "onnx", "--prefix", "lstm.", "-o", "x.onnx")]    // safetensors-only option
    [InlineData(1, "--model", "missing.rnn", "-o", "x.onnx")]                    // model file absent
    [InlineData(1, "--model", "m.rnn", "-o", "no-such-dir/x.onnx")]              // output directory absent
    [InlineData(1, "--model", "bad.rnn", "-o", "x.onnx")]                        // damaged model file
    public void BadCommandLinesAndFiles_AreOneErrorLine_WithTheRightExitCode(int expected, params string[] args)
    {
        using var dir = new TempDir();
        ModelFile.Save(dir.File("m.rnn"), new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Elman, 1, 3, 1, 1), 1), Info(1));
        byte[] bytes = File.ReadAllBytes(dir.File("m.rnn"));
        bytes[^5] ^= 0x40;
        File.WriteAllBytes(dir.File("bad.rnn"), bytes);
        string[] rooted = [.. args.Select(a => a.EndsWith(".rnn", StringComparison.Ordinal) || a.Contains(".onnx") || a.EndsWith(".bin", StringComparison.Ordinal) ? dir.File(a) : a)];

        var (code, stdout, stderr) = Run(["export", .. rooted]);
        Assert.Equal(expected, code);
        Assert.Equal("", stdout);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("rnn-simd: error: ", lines[0]);
        Assert.False(File.Exists(dir.File("x.onnx")));
    }

    [Fact]
    public void Export_OfANetworkWithANaNWeight_IsRefused_NamingTheTensor()
    {
        using var dir = new TempDir();
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Elman, 1, 3, 1, 1), 1);
        ModelFile.Save(dir.File("m.rnn"), net, Info(1));
        // A model file refuses NaN on save, so the NaN reaches the exporter through the library instead.
        net.Parameter("weight_hh_l0")[2] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => OnnxExporter.Export(net, dir.File("x.onnx")));
        Assert.Contains("weight_hh_l0 element 2 is NaN", e.Message);
        Assert.False(File.Exists(dir.File("x.onnx")));
    }

    [Fact]
    public void BenchJson_OnnxRuntimeSection_HasARowPerInferenceCase_WithTheRatioAgainstOurStep()
    {
        var (code, stdout, stderr) = Run("bench", "--json", "--quick", "--sections", "onnxruntime");
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.StartsWith("ONNX Runtime 1.32", root.GetProperty("onnxRuntimeVersion").GetString());
        Assert.Equal(0, root.GetProperty("inference").GetArrayLength()); // not asked for: ours is timed for the ratio only
        var cells = new List<string>();
        foreach (JsonElement row in root.GetProperty("onnxRuntime").EnumerateArray())
        {
            cells.Add(row.GetProperty("cell").GetString()!);
            Assert.Equal(1, row.GetProperty("batch").GetInt32());
            Assert.Equal(32, row.GetProperty("hidden").GetInt32());
            Assert.Equal(1, row.GetProperty("threads").GetInt32());
            foreach (string name in new[] { "microsecondsPerStep", "rnnSimdMicrosecondsPerStep", "ratio" })
                Assert.True(row.GetProperty(name).GetDouble() is > 0 and < double.PositiveInfinity, name);
            PrintedFigures.AssertQuotient(row.GetProperty("ratio"), row.GetProperty("microsecondsPerStep"), row.GetProperty("rnnSimdMicrosecondsPerStep"), "ratio");
        }
        Assert.Equal(["Elman", "Lstm", "Gru"], cells);
    }

    [Fact]
    public void Bench_OnnxRuntimeRows_SitNextToOurs_InATableThatFitsEightyColumns()
    {
        var (code, stdout, stderr) = Run("bench", "--quick", "--sections", "inference,onnxruntime");
        Assert.True(code == 0, stderr);
        Assert.Contains("ORT: ONNX Runtime 1.32", stdout);
        Assert.Contains("x ours", stdout);
        foreach (string line in stdout.Split('\n'))
            Assert.True(line.TrimEnd('\r').Length <= 80, $"line wider than a redirected console: '{line}'");
    }
}
