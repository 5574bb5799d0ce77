using System.Text.Json;
using Rnn.Simd.Cli;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Tests.Cli;

// Runs rnn-simd in process through Program.Run with captured writers. No performance assertions: figures only have
// to be positive and finite. Every run uses --quick, so the whole class takes a few seconds.
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

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("info", "--bogus")]
    [InlineData("bench", "--json", "--bogus")]
    [InlineData("bench", "--threads", "many")]
    [InlineData("bench", "--threads", "-1")]
    [InlineData("bench", "--threads")]
    [InlineData("bench", "--isa", "avx9000")]
    [InlineData("bench", "--isa")]
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

    [Fact]
    public void Help_ListsCommands()
    {
        var (code, stdout, _) = Run("--help");

        Assert.Equal(0, code);
        Assert.Contains("info", stdout, StringComparison.Ordinal);
        Assert.Contains("bench", stdout, StringComparison.Ordinal);
    }
}
