using System.Text.Json;
using Rnn.Simd.Cli;
using Rnn.Simd.Kernels;
using Rnn.Simd.Training.Optimizers;

namespace Rnn.Simd.Tests.Cli;

// Runs rnn-simd in process through Program.Run with captured writers. No performance assertions: figures only have
// to be positive and finite. Every run uses --quick, so the whole class takes a few seconds.
[Collection(Rnn.Simd.Tests.Onnx.OnnxRuntimeCollection.Name)]
public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static void AssertPositiveFinite(JsonElement e, string name)
    {
        Assert.Equal(JsonValueKind.Number, e.GetProperty(name).ValueKind);
        double v = e.GetProperty(name).GetDouble();
        Assert.True(double.IsFinite(v) && v > 0, $"{name} = {v}");
    }

    [Fact]
    public void Info_PrintsMachineDescription()
    {
        var (code, stdout, stderr) = Run("info", "--quick");

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Contains(Isa.Describe(Isa.Best), stdout, StringComparison.Ordinal);
        foreach (string label in new[] { "ISA path", "Supported paths", "Vector width", "Logical cores", "CPU model", "Runtime", "FP32 peak" })
            Assert.Contains(label, stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", stdout, StringComparison.Ordinal); // no ANSI codes when not a terminal
    }

    [Fact]
    public void InfoJson_IsOneDocumentWithEveryField()
    {
        var (code, stdout, _) = Run("info", "--json", "--quick");

        Assert.Equal(0, code);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("rnn-simd", root.GetProperty("tool").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("version").GetString()));
        Assert.Equal(Isa.Best.ToString(), root.GetProperty("isa").GetString());
        Assert.Equal(Isa.Describe(Isa.Best), root.GetProperty("isaDescription").GetString());
        Assert.Contains(Isa.Best.ToString(), root.GetProperty("supportedPaths").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(Isa.VectorBytes(Isa.Best), root.GetProperty("vectorBytes").GetInt32());
        Assert.True(root.GetProperty("vectorFloats").GetInt32() >= 1);
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("cores").GetInt32());
        Assert.True(root.TryGetProperty("cpuModel", out _));
        foreach (string name in new[] { "architecture", "os", "runtime" })
            Assert.False(string.IsNullOrEmpty(root.GetProperty(name).GetString()), name);
        AssertPositiveFinite(root, "peakGflops");
    }

    [Fact]
    public void BenchJson_Quick_IsOneDocumentWithTheSchemaAndRequiredRows()
    {
        var (code, stdout, stderr) = Run("bench", "--json", "--quick");

        Assert.Equal(0, code);
        Assert.Contains("done in", stderr, StringComparison.Ordinal); // progress goes to stderr, not stdout
        using JsonDocument doc = JsonDocument.Parse(stdout); // throws on anything besides one document
        JsonElement root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("rnn-simd", root.GetProperty("tool").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("version").GetString()));
        Assert.Equal(Isa.Best.ToString(), root.GetProperty("isa").GetString());
        Assert.Equal(Isa.Describe(Isa.Best), root.GetProperty("isaDescription").GetString());
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("cores").GetInt32());
        AssertPositiveFinite(root, "peakGflops");
        AssertPositiveFinite(root, "bandwidthGBps");

        var rows = new List<(int M, int N, int K, int Threads, bool Prepacked)>();
        foreach (JsonElement row in root.GetProperty("gemm").EnumerateArray())
        {
            AssertPositiveFinite(row, "gflops");
            AssertPositiveFinite(row, "fractionOfPeak");
            rows.Add((row.GetProperty("m").GetInt32(), row.GetProperty("n").GetInt32(), row.GetProperty("k").GetInt32(),
                row.GetProperty("threads").GetInt32(), row.GetProperty("prepacked").GetBoolean()));
        }

        Assert.Contains((512, 512, 512, 1, false), rows);
        Assert.Contains((512, 512, 512, 2, false), rows);
        foreach (int b in new[] { 1, 32 })
        {
            foreach (int h in new[] { 32, 128, 512 })
            {
                Assert.Contains((b, 4 * h, h, 1, false), rows);
                Assert.Contains((b, 4 * h, h, 1, true), rows);
            }
        }
        Assert.Equal(14, rows.Count);

        // --quick runs the train and inference sections at H = 32 only.
        var train = new List<(string Cell, int B, int H, int Threads)>();
        foreach (JsonElement row in root.GetProperty("train").EnumerateArray())
        {
            Assert.Equal(1, row.GetProperty("input").GetInt32());
            Assert.Equal(1, row.GetProperty("output").GetInt32());
            Assert.Equal(50, row.GetProperty("window").GetInt32());
            Assert.Equal("BPTT(50,50)", row.GetProperty("bptt").GetString());
            AssertPositiveFinite(row, "microsecondsPerWindow");
            AssertPositiveFinite(row, "gflops");
            AssertPositiveFinite(row, "fractionOfPeak");
            AssertNonNegativeFinite(row, "allocatedBytes");
            train.Add((row.GetProperty("cell").GetString()!, row.GetProperty("batch").GetInt32(),
                row.GetProperty("hidden").GetInt32(), row.GetProperty("threads").GetInt32()));
        }
        foreach (string cell in new[] { "Elman", "Lstm", "Gru", "rhn" })
        {
            foreach (int b in new[] { 1, 32 })
            {
                foreach (int threads in new[] { 1, 2 })
                    Assert.Contains((cell, b, 32, threads), train);
            }
        }
        Assert.Equal(16, train.Count);

        var inference = new List<(string Cell, int H)>();
        foreach (JsonElement row in root.GetProperty("inference").EnumerateArray())
        {
            Assert.Equal(1, row.GetProperty("batch").GetInt32());
            AssertPositiveFinite(row, "microsecondsPerStep");
            AssertPositiveFinite(row, "gflops");
            AssertPositiveFinite(row, "fractionOfPeak");
            AssertNonNegativeFinite(row, "allocatedBytes");
            inference.Add((row.GetProperty("cell").GetString()!, row.GetProperty("hidden").GetInt32()));
        }
        Assert.Equal([("Elman", 32), ("Lstm", 32), ("Gru", 32), ("rhn", 32)], inference);

        AssertOptimizerRows(root);
    }

    /// <summary>
    /// The optimizer section: one row per OptimizerKind in declaration order, 1,000,000 parameters each, the bytes per
    /// parameter of the optimiser's state count, positive figures, and figures consistent with each other (GB/s is
    /// bytes per parameter over nanoseconds per parameter; the fractions are the quotients they name) up to rounding.
    /// </summary>
    private static void AssertOptimizerRows(JsonElement root)
    {
        var kinds = new List<string>();
        foreach (JsonElement row in root.GetProperty("optimizer").EnumerateArray())
        {
            string kind = row.GetProperty("kind").GetString()!;
            Assert.True(Enum.TryParse(kind, out OptimizerKind parsed), kind);
            Optimizer<float> optimizer = OptimizerFactory.Create<float>(parsed, 1);
            Assert.Equal(optimizer.Name, row.GetProperty("name").GetString());
            Assert.Equal(1_000_000, row.GetProperty("parameters").GetInt32());
            Assert.Equal(optimizer.BytesPerParameter, row.GetProperty("bytesPerParameter").GetInt32());
            foreach (string name in new[] { "nanosecondsPerParameter", "gbPerSecond", "fractionOfBandwidth", "copyGBps", "fractionOfCopy" })
                AssertPositiveFinite(row, name);
            AssertNonNegativeFinite(row, "allocatedBytes");
            double ns = row.GetProperty("nanosecondsPerParameter").GetDouble(), gbps = row.GetProperty("gbPerSecond").GetDouble();
            JsonElement nsE = row.GetProperty("nanosecondsPerParameter"), gbpsE = row.GetProperty("gbPerSecond");
            PrintedFigures.AssertQuotient(gbpsE, optimizer.BytesPerParameter, 0, ns, PrintedFigures.HalfUnit(nsE), $"{kind}: gbPerSecond vs bytesPerParameter / nanosecondsPerParameter");
            PrintedFigures.AssertQuotient(row.GetProperty("fractionOfBandwidth"), gbpsE, root.GetProperty("bandwidthGBps"), $"{kind}: fractionOfBandwidth");
            PrintedFigures.AssertQuotient(row.GetProperty("fractionOfCopy"), gbpsE, row.GetProperty("copyGBps"), $"{kind}: fractionOfCopy");
            kinds.Add(kind);
        }
        Assert.Equal(OptimizerFactory.AllKinds.Select(k => k.ToString()), kinds);
    }

    [Fact]
    public void BenchJson_Sections_RunsOnlyTheChosenSections()
    {
        var (code, stdout, _) = Run("bench", "--json", "--quick", "--sections", "inference");

        Assert.Equal(0, code);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal(0, root.GetProperty("gemm").GetArrayLength());
        Assert.Equal(0, root.GetProperty("train").GetArrayLength());
        Assert.Equal(4, root.GetProperty("inference").GetArrayLength());
        Assert.Equal(0, root.GetProperty("optimizer").GetArrayLength());
        AssertPositiveFinite(root, "peakGflops");
        AssertPositiveFinite(root, "bandwidthGBps");
    }

    [Fact]
    public void BenchJson_OptimizerSectionOnly_HasEveryOptimizer()
    {
        var (code, stdout, stderr) = Run("bench", "--json", "--quick", "--sections", "optimizer");

        Assert.Equal(0, code);
        Assert.Contains("optimizer Adam", stderr, StringComparison.Ordinal); // progress names each case
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(0, root.GetProperty("gemm").GetArrayLength());
        Assert.Equal(0, root.GetProperty("train").GetArrayLength());
        Assert.Equal(0, root.GetProperty("inference").GetArrayLength());
        Assert.Equal(OptimizerFactory.AllKinds.Count, root.GetProperty("optimizer").GetArrayLength());
        AssertOptimizerRows(root);
    }

    [Fact]
    public void BenchJson_RtrlSection_HasEveryHiddenSize_WithTheSensitivityBytes()
    {
        var (code, stdout, stderr) = Run("bench", "--json", "--quick", "--sections", "rtrl");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal(0, root.GetProperty("train").GetArrayLength());
        JsonElement[] rows = root.GetProperty("rtrl").EnumerateArray().ToArray();
        Assert.Equal([8, 16, 32, 64], rows.Select(r => r.GetProperty("hidden").GetInt32()));
        foreach (JsonElement r in rows)
        {
            int h = r.GetProperty("hidden").GetInt32();
            var arch = new Rnn.Simd.Network.NetworkArchitecture(Rnn.Simd.Cells.CellType.Lstm, 1, [h], 1);
            // State (h and c: 2H) x every parameter x 4 bytes, counted here from the layout.
            long parameters = new Rnn.Simd.Network.ParameterLayout(arch).TotalLength;
            Assert.Equal(parameters, r.GetProperty("parameters").GetInt32());
            Assert.Equal(Rnn.Simd.Alternatives.Rtrl.RtrlGradient<float>.SensitivityBytes(arch, 4), r.GetProperty("stateBytes").GetInt64());
            Assert.True(r.GetProperty("microsecondsPerStep").GetDouble() > 0);
            Assert.True(r.GetProperty("tbpttMicrosecondsPerStep").GetDouble() > 0);
            Assert.Equal(0, r.GetProperty("allocatedBytes").GetDouble());
        }
        // The state grows by more than 4x per doubling of H (O(H³)).
        for (int i = 1; i < rows.Length; i++)
            Assert.True(rows[i].GetProperty("stateBytes").GetInt64() > 4 * rows[i - 1].GetProperty("stateBytes").GetInt64());
    }

    [Fact]
    public void Bench_Quick_OptimizerTable()
    {
        var (code, stdout, _) = Run("bench", "--quick", "--sections", "optimizer");

        Assert.Equal(0, code);
        Assert.Contains("Optimizer step, FP32, 1,000,000 parameters", stdout, StringComparison.Ordinal);
        foreach (string label in new[] { "ns/param", "% BW", "% copy", "SGD", "RMSprop+gains", "AdamW" })
            Assert.Contains(label, stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("µs/window", stdout, StringComparison.Ordinal); // no training table
        foreach (string line in stdout.Split('\n'))
            Assert.True(line.TrimEnd('\r').Length <= 80, $"line wider than a redirected console: '{line}'");
    }

    [Fact]
    public void Bench_Quick_TrainAndInferenceTables()
    {
        var (code, stdout, _) = Run("bench", "--quick", "--sections", "train,inference");

        Assert.Equal(0, code);
        Assert.Contains("BPTT(50,50) + Adam", stdout, StringComparison.Ordinal); // the update after each window is Adam's
        Assert.Contains("µs/window", stdout, StringComparison.Ordinal);
        Assert.Contains("µs/step", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("pre-packed", stdout, StringComparison.Ordinal); // no GEMM table
        Assert.DoesNotContain("ns/param", stdout, StringComparison.Ordinal); // no optimizer table
    }

    [Fact]
    public void GradcheckJson_AllEighteenCombinationsPass()
    {
        var (code, stdout, stderr) = Run("gradcheck", "--json");

        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        var seen = new List<(string Cell, int Layers, string Bptt)>();
        var depths = new List<int>();
        foreach (JsonElement row in doc.RootElement.EnumerateArray())
        {
            double error = row.GetProperty("maxRelativeError").GetDouble();
            Assert.True(double.IsFinite(error) && error >= 0 && error <= 1e-6, $"maxRelativeError = {error}");
            Assert.True(row.GetProperty("passed").GetBoolean());
            Assert.False(string.IsNullOrEmpty(row.GetProperty("worstSlice").GetString()));
            Assert.True(row.GetProperty("checkedEntries").GetInt32() > 0);
            int layers = row.GetProperty("layers").GetInt32();
            Assert.Equal(layers, row.GetProperty("hidden").GetArrayLength());
            int depth = row.GetProperty("depth").GetInt32();
            depths.Add(depth);
            seen.Add((row.GetProperty("cell").GetString()! + (depth == 1 ? "" : "-" + depth), layers, row.GetProperty("bptt").GetString()!));
        }
        Assert.Equal(30, seen.Count);
        Assert.Equal(30, seen.Distinct().Count());
        foreach (string cell in new[] { "Elman", "Lstm", "Gru", "Rhn", "Rhn-3" })
        {
            foreach (int layers in new[] { 1, 2 })
            {
                foreach (string bptt in new[] { "BPTT(4,1)", "BPTT(4,4)", "BPTT(8,4)" })
                    Assert.Contains((cell, layers, bptt), seen);
            }
        }
    }

    [Theory]
    [InlineData("--cell", "lstm", "--depth", "2", "--depth above 1 needs --cell rhn")]
    [InlineData("--cell", "rhn", "--depth", "0", "--depth")]
    [InlineData("--cell", "rnh", "--depth", "2", "--cell must be one of elman, lstm, gru, rhn")]
    public void Train_BadCellOrDepth_ExitsTwoWithOneLine(string o1, string v1, string o2, string v2, string expected)
    {
        var (code, _, stderr) = Run("train", o1, v1, o2, v2, "--epochs", "1");
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Gradcheck_PrintsTableAndIsDeterministic()
    {
        var (code, stdout, _) = Run("gradcheck", "--hidden", "3,2", "--steps", "2", "--seed", "7");
        var (_, again, _) = Run("gradcheck", "--hidden", "3,2", "--steps", "2", "--seed", "7");

        Assert.Equal(0, code);
        Assert.Equal(stdout, again);
        foreach (string label in new[] { "Elman/tanh", "LSTM", "GRU", "RHN L=1", "RHN L=3", "BPTT(2,1)", "BPTT(2,2)", "BPTT(4,2)", "pass" })
            Assert.Contains(label, stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Gradcheck_AboveTolerance_ExitsOneWithTheResultsAndOneErrorLine()
    {
        // No analytic gradient matches finite differences to 1e-15: every combination fails.
        var (code, stdout, stderr) = Run("gradcheck", "--json", "--steps", "1", "--hidden", "2", "--tolerance", "1e-15");

        Assert.Equal(1, code);
        using JsonDocument doc = JsonDocument.Parse(stdout); // the results are still printed
        Assert.Equal(30, doc.RootElement.GetArrayLength());
        Assert.Contains(doc.RootElement.EnumerateArray(), row => !row.GetProperty("passed").GetBoolean());
        string[] errors = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains("error:", StringComparison.Ordinal)).ToArray();
        Assert.Single(errors);
        Assert.Contains("exceed the tolerance", errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_Quick_PrintsTableAndHonoursIsaAndThreads()
    {
        var (code, stdout, _) = Run("bench", "--quick", "--isa", "vector128", "--threads", "3");

        Assert.Equal(0, code);
        Assert.Contains("Vector128", stdout, StringComparison.Ordinal);
        Assert.Contains("GFLOP/s", stdout, StringComparison.Ordinal);
        Assert.Contains("pre-packed", stdout, StringComparison.Ordinal);
        Assert.Contains("│       3 │", stdout, StringComparison.Ordinal); // the extra 512³ row on 3 threads
    }

    private static void AssertNonNegativeFinite(JsonElement e, string name)
    {
        Assert.Equal(JsonValueKind.Number, e.GetProperty(name).ValueKind);
        double v = e.GetProperty(name).GetDouble();
        Assert.True(double.IsFinite(v) && v >= 0, $"{name} = {v}");
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("info", "--bogus")]
    [InlineData("bench", "--json", "--bogus")]
    [InlineData("bench", "--threads", "many")]
    [InlineData("bench", "--threads", "-1")]
    [InlineData("bench", "--threads")]
    [InlineData("bench", "--isa", "avx9000")]
    [InlineData("bench", "--isa")]
    [InlineData("bench", "--sections", "gemm,forecast")]
    [InlineData("bench", "--sections", "optimizers")]
    [InlineData("bench", "--sections")]
    [InlineData("gradcheck", "--hidden", "0")]
    [InlineData("gradcheck", "--hidden", "5,4,3")]
    [InlineData("gradcheck", "--hidden", "5,")]
    [InlineData("gradcheck", "--steps", "x")]
    [InlineData("gradcheck", "--seed", "-1")]
    [InlineData("gradcheck", "--tolerance", "0")]
    [InlineData("gradcheck", "--tolerance", "NaN")]
    [InlineData("gradcheck", "--batch")]
    [InlineData("gradcheck", "--bogus")]
    public void BadCommandLine_GivesUsageExitCodeAndOneLineError(params string[] args)
    {
        var (code, stdout, stderr) = Run(args);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("rnn-simd: error: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("__default_command", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void UnsupportedIsa_IsAOneLineFailure()
    {
        IsaPath? unsupported = null;
        foreach (IsaPath p in new[] { IsaPath.Vector512, IsaPath.Vector256, IsaPath.Vector128 })
        {
            if (!Isa.IsSupported(p)) { unsupported = p; break; }
        }
        if (unsupported is null) return; // this machine supports every path

        var (code, stdout, stderr) = Run("bench", "--quick", "--isa", unsupported.Value.ToString().ToLowerInvariant());

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("not supported", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Version_PrintsToolVersion()
    {
        var (code, stdout, _) = Run("--version");

        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+", stdout.Trim());
    }

    [Theory]
    [InlineData("info")]
    [InlineData("bench")]
    [InlineData("gradcheck")]
    public void CommandHelp_RendersEveryOption(string command)
    {
        var (code, stdout, stderr) = Run(command, "--help");

        Assert.Equal(0, code); // an unescaped [ ] in a description is Spectre markup and fails rendering
        Assert.Equal("", stderr);
        Assert.Contains("--json", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_ListsCommands()
    {
        var (code, stdout, _) = Run("--help");

        Assert.Equal(0, code);
        Assert.Contains("info", stdout, StringComparison.Ordinal);
        Assert.Contains("bench", stdout, StringComparison.Ordinal);
        Assert.Contains("gradcheck", stdout, StringComparison.Ordinal);
    }
}
