using System.Globalization;
using System.Text.Json;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using static Rnn.Simd.Tests.Cli.CliSeries;

namespace Rnn.Simd.Tests.Cli;

/// <summary>
/// <c>rnn-simd export</c> and safetensors models in <c>train --out</c>, <c>forecast</c> and <c>evaluate</c>, in process:
/// a model exported to safetensors forecasts and evaluates exactly as the .rnn model it came from (ensembles, float
/// and double); <c>train --out FILE.safetensors</c> equals the .rnn run; a PyTorch-written file forecasts with a
/// sidecar and is refused with a message that names what is missing without one; bad files are one error line
/// (exit 1) and bad options exit 2.
/// </summary>
public class ExportCommandTests
{
    private static readonly string[] TinyTrain = ["--hidden", "4", "--batch", "4", "--window", "24", "--patience", "0", "--epochs", "2", "-q"];

    private static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", name);

    [Fact]
    public void ExportThenForecastAndEvaluate_FromTheSafeTensorsFile_EqualTheRnnModel()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(600));
        string rnn = dir.File("m.rnn"), st = dir.File("m.safetensors");
        (int code, _, string err) = Run(["train", "--data", csv, "--column", "load", "--ensemble", "2", "--horizon", "6", "--out", rnn, .. TinyTrain]);
        Assert.True(code == 0, err);

        (int eCode, string eOut, string eErr) = Run("export", "--model", rnn, "--format", "safetensors", "-o", st);
        Assert.True(eCode == 0, eErr);
        Assert.Equal("", eOut);
        Assert.Contains("wrote " + st + ": safetensors, 12 tensors (F32", eErr, StringComparison.Ordinal);
        SafeTensorsFile file = SafeTensorsFile.Load(st);
        Assert.NotNull(file.Find("1.rnn.weight_hh_l0"));

        string[] data = ["--data", csv, "--column", "load", "-q"];
        (int f1, string fromRnn, string err1) = Run(["forecast", "--model", rnn, .. data]);
        (int f2, string fromSt, string err2) = Run(["forecast", "--model", st, .. data]);
        Assert.True(f1 == 0 && f2 == 0, err1 + err2);
        Assert.Equal(fromRnn, fromSt);
        Assert.Equal(7, fromSt.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // header + h = 6 values

        (int v1, string evalRnn, _) = Run(["evaluate", "--model", rnn, "--json", .. data]);
        (int v2, string evalSt, _) = Run(["evaluate", "--model", st, "--json", .. data]);
        Assert.Equal(0, v1 + v2);
        using JsonDocument a = JsonDocument.Parse(evalRnn), b = JsonDocument.Parse(evalSt);
        Assert.Equal(a.RootElement.GetProperty("metrics").GetRawText(), b.RootElement.GetProperty("metrics").GetRawText());
        Assert.Equal("safetensors", b.RootElement.GetProperty("model").GetProperty("format").GetString());
        Assert.Equal("rnn-simd", a.RootElement.GetProperty("model").GetProperty("format").GetString());
        // The tool's metadata travels along (forecast reads data.aggregate from it).
        Assert.Equal("load", b.RootElement.GetProperty("model").GetProperty("metadata").GetProperty("data.column").GetString());
    }

    [Fact]
    public void ADoubleModel_ExportsAsF64_AndForecastsTheSame()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(300));
        string rnn = dir.File("d.rnn"), st = dir.File("d.safetensors");
        var options = new ForecastOptions(3);
        var net = new RecurrentNetwork<double>(NetworkArchitecture.Uniform(CellType.Gru, 1, 5, 2, 1), seed: 3);
        ModelFile.Save(rnn, net, new ForecastingInfo { Scaler = new StandardScaler([49.5], [7.25]), Options = options, ColumnNames = ["load"] });

        Assert.Equal(0, Run("export", "--model", rnn, "-o", st, "-q").Code); // the format from the extension
        Assert.All(SafeTensorsFile.Load(st).Tensors, t => Assert.Equal(SafeTensorsDType.F64, t.DType));
        Assert.Equal(Run("forecast", "--model", rnn, "--data", csv, "-q").Out, Run("forecast", "--model", st, "--data", csv, "-q").Out);

        // f16: every tensor F16, a forecast close to (not equal to) the double one.
        string half = dir.File("h.safetensors");
        Assert.Equal(0, Run("export", "--model", rnn, "-o", half, "--dtype", "f16", "--prefix", "gru.", "--readout-prefix", "head.", "-q").Code);
        SafeTensorsFile h = SafeTensorsFile.Load(half);
        Assert.All(h.Tensors, t => Assert.Equal(SafeTensorsDType.F16, t.DType));
        Assert.NotNull(h.Find("gru.weight_ih_l1"));
        Assert.NotNull(h.Find("head.bias"));
        float[] exact = Values(Run("forecast", "--model", rnn, "--data", csv, "-q").Out);
        float[] rounded = Values(Run("forecast", "--model", half, "--data", csv, "-q").Out);
        Assert.Equal(exact.Length, rounded.Length);
        for (int i = 0; i < exact.Length; i++) Assert.True(Math.Abs(exact[i] - rounded[i]) < 0.5, $"{exact[i]} vs {rounded[i]}");
    }

    private static float[] Values(string csv) =>
        csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => float.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();

    [Fact]
    public void TrainOut_ASafeTensorsName_WritesPyTorchNames_AndEqualsTheRnnRun()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(600));
        string rnn = dir.File("m.rnn"), st = dir.File("m.safetensors");
        string[] train = ["train", "--data", csv, "--column", "load", "--ensemble", "1", "--horizon", "4", .. TinyTrain];
        (int c1, _, string e1) = Run([.. train, "--out", rnn]);
        (int c2, _, string e2) = Run([.. train, "--out", st]);
        Assert.True(c1 == 0 && c2 == 0, e1 + e2);
        SafeTensorsFile file = SafeTensorsFile.Load(st);
        Assert.Equal(
            ["readout.bias", "readout.weight", "rnn.bias_hh_l0", "rnn.bias_ih_l0", "rnn.weight_hh_l0", "rnn.weight_ih_l0"],
            file.Tensors.Select(t => t.Name));
        Assert.Equal("pt", file.Metadata!["format"]);
        Assert.Equal(Run("forecast", "--model", rnn, "--data", csv, "-q").Out, Run("forecast", "--model", st, "--data", csv, "-q").Out);
    }

    [Fact]
    public void APyTorchFile_ForecastsWithASidecar_AndWithoutOneSaysWhatIsMissing()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(200));
        string st = dir.File("torch.safetensors");
        File.Copy(Golden("lstm_l1.safetensors"), st); // PyTorch's LSTM(3, 5) + Linear(5, 2): no metadata at all

        (int code, string stdout, string stderr) = Run("forecast", "--model", st, "--data", csv);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        string line = SingleErrorLine(stderr);
        Assert.Contains("holds PyTorch weights (Lstm I=3 H=[5] O=2) but no forecasting information", line, StringComparison.Ordinal);
        Assert.Contains(st + ".json", line, StringComparison.Ordinal);

        // Two outputs: a multi-output horizon 2 of the one column; three inputs: value, lag 2, lag 3.
        File.WriteAllText(st + ".json", """
            { "forecasting": { "columns": ["load"], "mean": [50], "std": [7.5], "horizon": 2, "mode": "multi", "features": "value,lag2,lag3" } }
            """);
        (int okCode, string okOut, string okErr) = Run("forecast", "--model", st, "--data", csv);
        Assert.True(okCode == 0, okErr);
        Assert.Contains("(safetensors, description from " + st + ".json)", okErr, StringComparison.Ordinal);
        float[] got = Values(okOut);
        LoadedModel model = SafeTensorsModel.Load(st);
        float[] series = File.ReadAllLines(csv).Skip(1).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(new Forecaster(model.GetNetwork<float>(), model.Forecasting!.Scaler, model.Forecasting.Options).ForecastPath(new TimeSeries(series)), got);

        File.WriteAllText(st + ".json", """{ "forecasting": { "columns": ["load"], "mean": [50], "std": [7.5], "horizon": 2 } }""");
        (int badCode, _, string badErr) = Run("forecast", "--model", st, "--data", csv);
        Assert.Equal(1, badCode);
        Assert.Contains("does not fit the network", SingleErrorLine(badErr), StringComparison.Ordinal);
    }

    [Fact]
    public void DamagedSafeTensorsFiles_AreOneLineErrors_ExitCode1()
    {
        using var dir = new TempDir();
        string csv = dir.Write("load.csv", OneColumn(200));
        byte[] good = File.ReadAllBytes(Golden("gru_l1.safetensors"));
        var cases = new List<(string Name, byte[] Bytes, string Expected)>
        {
            ("cut.safetensors", good[..(good.Length - 10)], "truncated: tensor"),
            ("short.safetensors", good[..5], "the file has 5 bytes"),
            ("long.safetensors", [.. BitConverter.GetBytes((ulong)good.Length), .. good[8..]], "runs past the end of the file"),
            ("json.safetensors", Corrupt(good, "{\"", "[\""), "starts with byte 0x5B"),
            ("shape.safetensors", Corrupt(good, "[15,5]", "[5,15]"), "'rnn.weight_hh_l0' has shape [5, 15]: its rows must be 1, 3 or 4 times its columns"),
        };
        foreach ((string name, byte[] bytes, string expected) in cases)
        {
            string path = dir.File(name);
            File.WriteAllBytes(path, bytes);
            foreach (string command in new[] { "forecast", "evaluate", "export" })
            {
                string[] args = command == "export" ? ["export", "--model", path, "-o", dir.File("x.safetensors")] : [command, "--model", path, "--data", csv];
                (int code, string stdout, string stderr) = Run(args);
                Assert.True(code == 1, $"{name} {command}: exit {code}: {stderr}");
                Assert.Equal("", stdout);
                string line = SingleErrorLine(stderr);
                Assert.Contains("--model " + path, line, StringComparison.Ordinal);
                Assert.Contains(expected, line, StringComparison.Ordinal);
            }
        }
        Assert.False(File.Exists(dir.File("x.safetensors")));
    }

    private static byte[] Corrupt(byte[] file, string from, string to)
    {
        string text = System.Text.Encoding.Latin1.GetString(file);
        int at = text.IndexOf(from, StringComparison.Ordinal);
        Assert.True(at >= 0 && from.Length == to.Length);
        byte[] copy = (byte[])file.Clone();
        System.Text.Encoding.Latin1.GetBytes(to).CopyTo(copy, at);
        return copy;
    }

    [Theory]
    [InlineData(new[] { "export", "-o", "x.safetensors" }, "--model FILE is required")]
    [InlineData(new[] { "export", "--model", "m.rnn" }, "-o|--output FILE is required")]
    [InlineData(new[] { "export", "--model", "m.rnn", "-o", "m.bin" }, "--format is required: the extension of 'm.bin' names no format (safetensors, onnx)")]
    [InlineData(new[] { "export", "--model", "m.rnn", "-o", "m.x", "--format", "tflite" }, "--format must be one of safetensors, onnx, got 'tflite'")]
    [InlineData(new[] { "export", "--model", "m.rnn", "-o", "m.safetensors", "--dtype", "int8" }, "--dtype must be f32, f64, f16 or bf16, got 'int8'")]
    [InlineData(new[] { "export", "--model", "m.rnn", "-o", "m.safetensors", "--prefix", "a.", "--readout-prefix", "a." }, "--prefix and --readout-prefix must differ")]
    public void BadExportOptions_ExitWithCode2(string[] args, string expected)
    {
        (int code, string stdout, string stderr) = Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(expected, SingleErrorLine(stderr), StringComparison.Ordinal);
    }

    [Fact]
    public void ExportHelp_ListsItsOptions()
    {
        (int code, string stdout, string stderr) = Run("export", "--help");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        foreach (string option in new[] { "--model <FILE>", "--format <FORMAT>", "--output <FILE>", "--dtype <TYPE>", "--prefix <PREFIX>", "--readout-prefix <PREFIX>" })
            Assert.Contains(option, stdout, StringComparison.Ordinal);
        (int missing, _, string err) = Run("export", "--model", "nothing.rnn", "-o", "x.safetensors");
        Assert.Equal(1, missing);
        Assert.Contains("does not exist", SingleErrorLine(err), StringComparison.Ordinal);
    }
}
