using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Rnn.Simd.Cli;
using Rnn.Simd.Cli.Train;
using static Rnn.Simd.Tests.Cli.CliSeries;

namespace Rnn.Simd.Tests.Cli;

/// <summary>
/// <c>rnn-simd train</c> in process on user CSV files (Sep), gzip, gaps, multi-output mode, plots, quiet mode and
/// cancellation, and every bad input with its exit code and message. Budgets are tiny (1-2 epochs, H = 4): nothing
/// here asserts model quality or speed. Baselines are checked against values computed here from the formula of the
/// synthetic series.
/// </summary>
public class TrainDataTests
{
    private const int N = 3000;
    private static readonly string[] Small = ["--epochs", "1", "--hidden", "4", "--batch", "4", "--window", "24"];

    private static (int Code, string Out, string Err) Train(params string[] args) => Run(["train", .. Small, .. args]);

    [Fact]
    public void UserCsv_HeaderAndNamedColumn_Json_BaselinesMatchHandComputedValues()
    {
        using var dir = new TempDir();
        string path = dir.Write("load.csv", ThreeColumns(N));

        (int code, string stdout, string stderr) = Train("--data", path, "--column", "load", "--json");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal("load.csv", root.GetProperty("data").GetString());
        Assert.Equal("load", root.GetProperty("column").GetString());
        Assert.Equal(N, root.GetProperty("length").GetInt32());
        Assert.Equal(0, root.GetProperty("maskedRanges").GetArrayLength());
        int testLength = root.GetProperty("split").GetProperty("test").GetInt32();
        Assert.Equal(N, root.GetProperty("split").GetProperty("train").GetInt32() + root.GetProperty("split").GetProperty("validation").GetInt32() + testLength);

        // Hand-computed: the test targets are the last testLength times s; seasonal naive with season m predicts
        // value(s - m). Period 168 makes lag 168 exact (the CSV rounds both to the same text).
        double sum = 0, abs = 0;
        for (int s = N - testLength; s < N; s++)
        {
            double e = Value(s) - Value(s - 24);
            sum += e * e;
            abs += Math.Abs(e);
        }
        double rmse24 = Math.Sqrt(sum / testLength), mae24 = abs / testLength;
        JsonElement[] baselines = root.GetProperty("baselines").EnumerateArray().ToArray();
        Assert.Equal(new[] { "persistence", "seasonalNaive", "seasonalNaive" }, baselines.Select(b => b.GetProperty("name").GetString()!).ToArray());
        Assert.Equal([24, 24, 168], baselines.Select(b => b.GetProperty("lag").GetInt32()).ToArray());
        Assert.Equal(rmse24, baselines[0].GetProperty("rmse").GetDouble(), 3);
        Assert.Equal(mae24, baselines[0].GetProperty("mae").GetDouble(), 3);
        Assert.Equal(rmse24, baselines[1].GetProperty("rmse").GetDouble(), 3);
        Assert.Equal(0.0, baselines[2].GetProperty("rmse").GetDouble());
        Assert.Equal(0.0, baselines[2].GetProperty("nrmse").GetDouble());
        Assert.Equal(testLength, baselines[2].GetProperty("count").GetInt32());
        Assert.Contains("load.csv, column 'load', 3000 steps", stderr);
    }

    [Fact]
    public void UserCsv_ColumnByIndex_OnlyNumericColumnByDefault_AndNoHeaderDetected()
    {
        using var dir = new TempDir();
        string three = dir.Write("three.csv", ThreeColumns(N));
        string single = dir.Write("single.csv", OneColumn(N, header: "mw"));
        string bare = dir.Write("bare.csv", OneColumn(N, header: null));
        string semicolon = dir.Write("semi.csv", ThreeColumns(N).Replace(',', ';'));

        (int c1, string o1, string e1) = Train("--data", three, "--column", "1", "--json");
        (int c2, string o2, string e2) = Train("--data", single, "--json");
        (int c3, string o3, string e3) = Train("--data", bare, "--json");
        (int c4, string o4, string e4) = Train("--data", semicolon, "--separator", ";", "--column", "load", "--json");

        Assert.True(c1 == 0 && c2 == 0 && c3 == 0 && c4 == 0, e1 + e2 + e3 + e4);
        using JsonDocument d1 = JsonDocument.Parse(o1), d2 = JsonDocument.Parse(o2), d3 = JsonDocument.Parse(o3), d4 = JsonDocument.Parse(o4);
        Assert.Equal("load", d1.RootElement.GetProperty("column").GetString());
        Assert.Equal("mw", d2.RootElement.GetProperty("column").GetString());
        Assert.Equal("column 0", d3.RootElement.GetProperty("column").GetString());
        Assert.Equal(N, d3.RootElement.GetProperty("length").GetInt32()); // the first line is data, not a header
        Assert.Equal("load", d4.RootElement.GetProperty("column").GetString());
        // The same values give the same model, whichever way the column was found.
        double rmse = d1.RootElement.GetProperty("test").GetProperty("rmse").GetDouble();
        Assert.Equal(rmse, d2.RootElement.GetProperty("test").GetProperty("rmse").GetDouble());
        Assert.Equal(rmse, d4.RootElement.GetProperty("test").GetProperty("rmse").GetDouble());
    }

    [Fact]
    public void Gzip_ReadsLikeThePlainFile()
    {
        using var dir = new TempDir();
        string plain = dir.Write("load.csv", ThreeColumns(N));
        string gz = dir.WriteGzip("load.csv.gz", ThreeColumns(N));
        string gzNoExtension = dir.WriteGzip("load.data", ThreeColumns(N));

        (int c1, string o1, string e1) = Train("--data", plain, "--column", "load", "--json");
        (int c2, string o2, string e2) = Train("--data", gz, "--column", "load", "--json");
        (int c3, string o3, string e3) = Train("--data", gzNoExtension, "--column", "load", "--json");

        Assert.True(c1 == 0 && c2 == 0 && c3 == 0, e1 + e2 + e3);
        using JsonDocument d1 = JsonDocument.Parse(o1), d2 = JsonDocument.Parse(o2), d3 = JsonDocument.Parse(o3);
        Assert.Equal(d1.RootElement.GetProperty("test").GetRawText(), d2.RootElement.GetProperty("test").GetRawText());
        Assert.Equal(d1.RootElement.GetProperty("test").GetRawText(), d3.RootElement.GetProperty("test").GetRawText());
    }

    [Fact]
    public void Aggregate_AveragesRows_AndDropsAnIncompleteTail()
    {
        using var dir = new TempDir();
        string path = dir.Write("load.csv", OneColumn(N + 2));

        (int code, string stdout, string stderr) = Train("--data", path, "--aggregate", "3", "--horizon", "8", "--seasons", "8,56", "--json");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        Assert.Equal(N / 3, doc.RootElement.GetProperty("length").GetInt32());
        Assert.Equal(3, doc.RootElement.GetProperty("aggregate").GetInt32());
        Assert.Contains("last 2 rows dropped", stderr);
        // Means of 3 rows of a series of period 168 = 3 · 56 have period 56: seasonal naive 56 is (almost) exact.
        JsonElement[] b = doc.RootElement.GetProperty("baselines").EnumerateArray().ToArray();
        Assert.Equal(56, b[2].GetProperty("lag").GetInt32());
        Assert.True(b[2].GetProperty("rmse").GetDouble() < 1e-3, b[2].GetRawText());
    }

    [Fact]
    public void FillGapsLinear_InterpolatesEmptyAndNaNCells()
    {
        using var dir = new TempDir();
        string blank = dir.Write("blank.csv", OneColumn(N, replaceAt: 200, replace: ""));
        string nan = dir.Write("nan.csv", OneColumn(N, replaceAt: 300, replace: "NaN"));

        (int c1, string o1, string e1) = Train("--data", blank, "--fill-gaps", "linear", "--json");
        (int c2, string o2, string e2) = Train("--data", nan, "--fill-gaps", "linear", "--json");

        Assert.True(c1 == 0 && c2 == 0, e1 + e2);
        using JsonDocument d1 = JsonDocument.Parse(o1), d2 = JsonDocument.Parse(o2);
        Assert.Equal(1, d1.RootElement.GetProperty("filledGaps").GetInt32());
        Assert.Equal(N, d1.RootElement.GetProperty("length").GetInt32());
        Assert.Equal(1, d2.RootElement.GetProperty("filledGaps").GetInt32());
        Assert.Contains("1 missing value(s) interpolated", e1);
    }

    [Theory]
    // name, file content (see Content), extra arguments, expected exit code, expected message fragments ('|'-separated)
    [InlineData("missing", "none", "", 1, "does not exist")]
    [InlineData("three", "three", "--column nope", 1, "no column 'nope'|0: 'time', 1: 'load', 2: 'temp'")]
    [InlineData("three", "three", "--column 9", 1, "no column 9|2: 'temp'")]
    [InlineData("three", "three", "", 1, "2 numeric columns|--column|0: 'time', 1: 'load', 2: 'temp'")]
    [InlineData("text", "text", "", 1, "line 101, column 'load'|'12abc' is not a number")]
    [InlineData("blank", "blank", "", 1, "line 202, column 'load'|missing value|--fill-gaps linear")]
    [InlineData("nan", "nan", "", 1, "line 302, column 'load'|'NaN' is a missing value|--fill-gaps linear")]
    [InlineData("inf", "inf", "", 1, "line 12, column 'load'|'Infinity' is not finite")]
    [InlineData("edge", "edgegap", "--fill-gaps linear", 1, "line 2, column 'load'|start of the series")]
    [InlineData("ragged", "ragged", "--column temp", 1, "line 6|column 'temp'")]
    [InlineData("short", "short", "", 1, "--horizon 24 does not fit the data|The series has 30 values|needs at least")]
    [InlineData("empty", "empty", "", 1, "is empty")]
    [InlineData("header", "headeronly", "", 1, "has a header but no value")]
    [InlineData("horizon", "one", "--horizon 5000", 1, "--horizon 5000 does not fit the data|needs at least")]
    [InlineData("window", "one", "--window 600", 1, "--batch 4 streams|τf = 600")]
    [InlineData("trunc", "truncgz", "", 1, "gzip|corrupt or truncated")]
    [InlineData("flip", "flipgz", "", 1, "gzip|corrupt or truncated")]
    [InlineData("both", "one", "--has-header --no-header", 2, "--has-header and --no-header")]
    public void BadInput_OneLineError_AndExitCode(string name, string content, string extra, int exitCode, string fragments)
    {
        using var dir = new TempDir();
        string path = dir.File(name + ".csv");
        WriteContent(path, content);
        string[] args = ["--data", path, .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)];

        (int code, string stdout, string stderr) = Train(args);

        Assert.True(code == exitCode, $"exit {code}: {stderr}");
        Assert.Equal("", stdout);
        string line = SingleErrorLine(stderr);
        foreach (string fragment in fragments.Split('|'))
            Assert.Contains(fragment, line, StringComparison.Ordinal);
    }

    private static void WriteContent(string path, string content)
    {
        switch (content)
        {
            case "none": break;
            case "three": File.WriteAllText(path, ThreeColumns(N)); break;
            case "one": File.WriteAllText(path, OneColumn(N)); break;
            case "text": File.WriteAllText(path, OneColumn(N, replaceAt: 99, replace: "12abc")); break;   // line 101
            case "blank": File.WriteAllText(path, OneColumn(N, replaceAt: 200, replace: "")); break;     // line 202
            case "nan": File.WriteAllText(path, OneColumn(N, replaceAt: 300, replace: "NaN")); break;    // line 302
            case "inf": File.WriteAllText(path, OneColumn(N, replaceAt: 10, replace: "Infinity")); break; // line 12
            case "edgegap": File.WriteAllText(path, OneColumn(N, replaceAt: 0, replace: "NA")); break;   // line 2
            case "ragged":
                string[] lines = ThreeColumns(N).Split('\n');
                lines[5] = "d4,51.0"; // line 6 lacks the temp field
                File.WriteAllText(path, string.Join('\n', lines));
                break;
            case "short": File.WriteAllText(path, OneColumn(30)); break;
            case "empty": File.WriteAllText(path, "\n\n"); break;
            case "headeronly": File.WriteAllText(path, "load\n"); break;
            case "truncgz":
                byte[] gz = TempDir.Gzip(OneColumn(N));
                File.WriteAllBytes(path, gz.AsSpan(0, gz.Length / 2).ToArray());
                break;
            case "flipgz":
                byte[] flipped = TempDir.Gzip(OneColumn(N));
                flipped[flipped.Length / 2] ^= 0x5A;
                File.WriteAllBytes(path, flipped);
                break;
            default: throw new ArgumentException(content);
        }
    }

    [Fact]
    public void MultiMode_ReportsAllStepsAndStepH_AndSkipsSeasonsShorterThanTheHorizon()
    {
        using var dir = new TempDir();
        string path = dir.Write("load.csv", OneColumn(N));

        (int code, string stdout, string stderr) = Train("--data", path, "--mode", "multi", "--horizon", "30", "--json");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal("multi", root.GetProperty("mode").GetString());
        int testLength = root.GetProperty("split").GetProperty("test").GetInt32();
        // Every test time is the target of each of the 30 steps once; step h alone has one target per time.
        Assert.Equal(30 * testLength, root.GetProperty("test").GetProperty("count").GetInt32());
        Assert.Equal(testLength, root.GetProperty("testLastStep").GetProperty("count").GetInt32());
        JsonElement[] b = root.GetProperty("baselines").EnumerateArray().ToArray();
        Assert.Equal(new[] { "persistence", "seasonalNaive" }, b.Select(e => e.GetProperty("name").GetString()!).ToArray());
        Assert.Equal([30, 168], b.Select(e => e.GetProperty("lag").GetInt32()).ToArray());
        // Persistence at step h is y[s - 30]; over all steps it is y[s - k], k = 1..30: hand-computed at step h.
        double sum = 0;
        for (int s = N - testLength; s < N; s++) sum += Math.Pow(Value(s) - Value(s - 30), 2);
        Assert.Equal(Math.Sqrt(sum / testLength), b[0].GetProperty("lastStep").GetProperty("rmse").GetDouble(), 3);
        Assert.NotEqual(b[0].GetProperty("rmse").GetDouble(), b[0].GetProperty("lastStep").GetProperty("rmse").GetDouble());
        Assert.Equal(0.0, b[1].GetProperty("rmse").GetDouble());
    }

    [Fact]
    public void MultiMode_Table_HasTheStepHColumn()
    {
        using var dir = new TempDir();
        string path = dir.Write("load.csv", OneColumn(N));

        (int code, string stdout, string stderr) = Train("--data", path, "--mode", "multi", "--horizon", "6");

        Assert.True(code == 0, stderr);
        Assert.Contains("NRMSE step h", stdout);
        Assert.Contains("y[t+1..t+6]", stdout);
        Assert.Contains("persistence (lag 6)", stdout);
    }

    [Fact]
    public void Plot_WritesTwoPngsOfTheFixedSize_AndNoTemporaryFiles()
    {
        using var dir = new TempDir();
        string data = dir.Write("load.csv", OneColumn(N));
        string plots = dir.File("plots");

        (int code, string stdout, string stderr) = Train("--data", data, "--epochs", "2", "--plot", plots, "--json");

        Assert.True(code == 0, stderr);
        foreach (string name in new[] { "forecast.png", "loss.png" })
        {
            byte[] png = File.ReadAllBytes(Path.Combine(plots, name));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
            Assert.Equal("IHDR", Encoding.ASCII.GetString(png, 12, 4));
            Assert.Equal(TrainPlots.Width, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
            Assert.Equal(TrainPlots.Height, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
            Assert.True(png.Length > 5000, $"{name}: {png.Length} bytes is too small for a plot with lines and text");
        }
        Assert.Equal(2, Directory.GetFiles(plots).Length);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        Assert.Equal(2, doc.RootElement.GetProperty("files").GetArrayLength());
    }

    [Fact]
    public void Plot_IntoAPathThatIsAFile_IsAOneLineError()
    {
        using var dir = new TempDir();
        string data = dir.Write("load.csv", OneColumn(N));
        string notADirectory = dir.Write("file.txt", "x");

        (int code, string stdout, string stderr) = Train("--data", data, "--plot", notADirectory);

        Assert.Equal(1, code);
        Assert.Contains("--plot", SingleErrorLine(stderr));
    }

    [Fact]
    public void Quiet_WritesNothingToStderr_AndJsonIsTheOnlyThingOnStdout()
    {
        using var dir = new TempDir();
        string path = dir.Write("load.csv", OneColumn(N));

        (int code, string stdout, string stderr) = Train("--data", path, "--quiet", "--json");
        (int code2, string stdout2, string stderr2) = Train("--data", path, "--json");

        Assert.True(code == 0 && code2 == 0, stderr + stderr2);
        Assert.Equal("", stderr);
        Assert.Contains("epoch 1/1", stderr2); // redirected: plain lines on stderr
        using JsonDocument doc = JsonDocument.Parse(stdout2); // throws on anything besides one document
        Assert.Equal('{', stdout2[0]);
    }

    [Fact]
    public void Cancellation_AfterTheFirstEpoch_ReportsTheBestModel_WithExitCode130()
    {
        using var dir = new TempDir();
        string path = dir.Write("load.csv", OneColumn(N));
        using var cts = new CancellationTokenSource();
        var stdout = new StringWriter();
        var stderr = new CancelOnWrite("epoch 1/", cts);

        int code = Program.Run(["train", "--data", path, "--epochs", "1000", "--patience", "0", "--hidden", "4", "--batch", "4", "--window", "24", "--json"],
            stdout, stderr, cts.Token);

        Assert.True(code == 130, stderr.ToString());
        using JsonDocument doc = JsonDocument.Parse(stdout.ToString());
        Assert.True(doc.RootElement.GetProperty("cancelled").GetBoolean());
        Assert.Equal(1, doc.RootElement.GetProperty("epochs").GetInt32());
        Assert.Equal(1, doc.RootElement.GetProperty("bestEpoch").GetInt32());
        Assert.True(double.IsFinite(doc.RootElement.GetProperty("test").GetProperty("rmse").GetDouble()));
        Assert.Contains("cancelled after 1 complete epoch", stderr.ToString());
    }

    /// <summary>A stderr that cancels a token the first time a line containing a marker is written.</summary>
    private sealed class CancelOnWrite(string marker, CancellationTokenSource cts) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value is not null && value.Contains(marker, StringComparison.Ordinal)) cts.Cancel();
        }
    }
}
