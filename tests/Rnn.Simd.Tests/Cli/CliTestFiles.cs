using System.Globalization;
using System.IO.Compression;
using System.Text;
using Rnn.Simd.Cli;

namespace Rnn.Simd.Tests.Cli;

/// <summary>A temporary directory for one test, deleted on dispose, with helpers to write CSV files into it.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rnn-simd-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, string text)
    {
        string path = File(name);
        System.IO.File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    public string WriteGzip(string name, string text)
    {
        string path = File(name);
        System.IO.File.WriteAllBytes(path, Gzip(text));
        return path;
    }

    public static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, CompressionLevel.Optimal)) gz.Write(Encoding.UTF8.GetBytes(text));
        return buffer.ToArray();
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Synthetic series for the CLI tests, and an in-process runner.</summary>
internal static class CliSeries
{
    /// <summary>value(t) = 50 + 10 sin(2πt/24) + 3 sin(2πt/168): exactly periodic with period 168.</summary>
    public static double Value(int t) => 50 + 10 * Math.Sin(2 * Math.PI * t / 24) + 3 * Math.Sin(2 * Math.PI * t / 168);

    /// <summary>A CSV "time,load,temp" of n rows, load = <see cref="Value"/> with 4 decimals, temp a second numeric column.</summary>
    public static string ThreeColumns(int n)
    {
        var s = new StringBuilder("time,load,temp\n");
        for (int t = 0; t < n; t++) s.Append(CultureInfo.InvariantCulture, $"d{t},{Value(t):F4},{20 + t % 7}\n");
        return s.ToString();
    }

    /// <summary>A one-column CSV (optionally with a header) of n values; <paramref name="replace"/> swaps the text of value t.</summary>
    public static string OneColumn(int n, string? header = "load", int replaceAt = -1, string replace = "")
    {
        var s = new StringBuilder();
        if (header is not null) s.Append(header).Append('\n');
        for (int t = 0; t < n; t++)
            s.Append(t == replaceAt ? replace : Value(t).ToString("F4", CultureInfo.InvariantCulture)).Append('\n');
        return s.ToString();
    }

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The error line of a failed run, asserting that stderr holds exactly one "rnn-simd: error:" line and no stack trace.</summary>
    public static string SingleErrorLine(string stderr)
    {
        string[] errors = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("rnn-simd: error:", StringComparison.Ordinal)).ToArray();
        Assert.Single(errors);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        return errors[0];
    }
}
