using System.Text.Json;
using Rnn.Simd.Cli;

namespace Rnn.Simd.Tests.Cli;

/// <summary><c>rnn-simd diagnose</c> in process: the JSON document, the plot, and bad input (one line, exit 2).</summary>
public class DiagnoseCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Json_HasOneNetworkPerCell_AndTheSchema()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"diag-{Guid.NewGuid():N}");
        try
        {
            var (code, stdout, stderr) = Run("diagnose", "--cell", "elman,lstm", "--hidden", "6", "--max-lag", "12", "--steps", "20", "--json", "--plot", dir);
            Assert.True(code == 0, stderr);
            using JsonDocument doc = JsonDocument.Parse(stdout);
            JsonElement root = doc.RootElement;
            Assert.Equal(1, root.GetProperty("SchemaVersion").GetInt32());
            Assert.Equal(12, root.GetProperty("MaxLag").GetInt32());
            JsonElement nets = root.GetProperty("Networks");
            Assert.Equal(2, nets.GetArrayLength());
            Assert.Equal("lstm", nets[1].GetProperty("Cell").GetString());
            Assert.Equal(12, nets[1].GetProperty("GradientNorms").GetArrayLength());
            Assert.Equal(12, nets[1].GetProperty("Layers")[0].GetProperty("StateSize").GetInt32());
            Assert.Equal(4, nets[1].GetProperty("Layers")[0].GetProperty("SpectralRadius").GetArrayLength());
            Assert.True(File.Exists(Path.Combine(dir, "gradient-norms.png")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("--max-lag", "0")]
    [InlineData("--max-lag", "20", "--steps", "20")]
    [InlineData("--cell", "transformer")]
    [InlineData("--model", "x.rnn", "--cell", "lstm")]
    public void BadInput_OneLine_Exit2(params string[] args)
    {
        var (code, _, stderr) = Run(["diagnose", .. args]);
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void AdditionProblem_HasTwoMarkers()
    {
        float[] x = Rnn.Simd.Cli.Commands.DiagnoseCommand.AdditionProblem(50, 3);
        Assert.Equal(100, x.Length);
        Assert.Equal(2, Enumerable.Range(0, 50).Count(t => x[2 * t + 1] == 1));
        Assert.All(Enumerable.Range(0, 50), t => Assert.InRange(x[2 * t], 0f, 1f));
    }
}
