using System.IO.Compression;
using System.Text;
using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Tests.Forecasting;

public class CsvSeriesReaderTests
{
    private static TimeSeries Read(string text, CsvSeriesOptions? options = null) => CsvSeriesReader.Read(new StringReader(text), options);

    [Fact]
    public void ReadsHeaderAndOneNumberPerLine_InvariantCulture()
    {
        var s = Read("load\n1.5\n-2e1\n\"3.25\"\r\n  4 \n\n\n");
        Assert.Equal(["load"], s.ColumnNames);
        Assert.Equal([1.5f, -20f, 3.25f, 4f], s.Values.ToArray());
    }

    [Fact]
    public void QuotedHeader_IsUnquoted()
    {
        Assert.Equal(["value"], Read("\"value\"\n1\n").ColumnNames);
    }

    [Fact]
    public void WithoutHeader_ReadsFromLine1()
    {
        var s = Read("1\n2\n", new CsvSeriesOptions { HasHeader = false });
        Assert.Equal([1f, 2f], s.Values.ToArray());
        Assert.Equal(["value"], s.ColumnNames);
    }

    [Fact]
    public void NumericHeader_IsRejectedRatherThanSwallowed()
    {
        var ex = Assert.Throws<SeriesFormatException>(() => Read("1.5\n2\n"));
        Assert.Equal(1, ex.LineNumber);
        Assert.Contains("HasHeader = false", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NotANumber_NamesTheLine()
    {
        var ex = Assert.Throws<SeriesFormatException>(() => Read("value\n1\n2\n3,5\n"));
        Assert.Equal(4, ex.LineNumber);
        Assert.Contains("Line 4", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<SeriesFormatException>(() => Read("value\n1\nabc\n"));
        Assert.Equal(3, ex.LineNumber);
        Assert.Contains("'abc' is not a number", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SeveralFieldsInTheHeader_AreRejected()
    {
        var ex = Assert.Throws<SeriesFormatException>(() => Read("time,value\n1\n"));
        Assert.Equal(1, ex.LineNumber);
    }

    [Theory]
    [InlineData("value\n1\nNaN\n3\n", 3, 1)]
    [InlineData("value\n1\n2\nNA\n4\n", 4, 2)]
    [InlineData("value\n1\n\n3\n", 3, 1)] // a blank line between values is a gap
    public void MissingValue_ThrowsWithLineAndIndex(string text, int line, int index)
    {
        var ex = Assert.Throws<NonFiniteValueException>(() => Read(text));
        Assert.Equal(line, ex.LineNumber);
        Assert.Equal(index, ex.Index);
        Assert.True(ex.IsMissing);
        Assert.Contains($"Line {line}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("InterpolateLinear", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingValues_CanBeInterpolated()
    {
        var s = Read("value\n1\nNaN\n\n4\n\n", new CsvSeriesOptions { Gaps = GapHandling.InterpolateLinear });
        Assert.Equal([1f, 2f, 3f, 4f], s.Values.ToArray());
    }

    [Fact]
    public void MissingValueAtTheEnd_CannotBeInterpolated_AndNamesTheLines()
    {
        var ex = Assert.Throws<NonFiniteValueException>(() => Read("value\n1\n2\nnull\nNaN\n", new CsvSeriesOptions { Gaps = GapHandling.InterpolateLinear }));
        Assert.Equal(4, ex.LineNumber);
        Assert.Equal(2, ex.Index);
        Assert.Contains("lines 4 to 5", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("1e39")] // overflows float
    public void Infinity_ThrowsWithLine(string token)
    {
        var ex = Assert.Throws<NonFiniteValueException>(() => Read($"value\n1\n{token}\n", new CsvSeriesOptions { Gaps = GapHandling.InterpolateLinear }));
        Assert.Equal(3, ex.LineNumber);
        Assert.Equal(1, ex.Index);
        Assert.False(ex.IsMissing);
    }

    [Theory]
    [InlineData("")]
    [InlineData("value\n")]
    [InlineData("value\n\n\n")]
    public void NoValue_ThrowsEmptySeries(string text)
    {
        Assert.Throws<EmptySeriesException>(() => Read(text));
    }

    [Fact]
    public void Stream_PlainUtf8WithBom_AndGzip_ReadTheSame()
    {
        byte[] plain = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("value\n1.25\n2.5\n")).ToArray();
        var fromPlain = CsvSeriesReader.Read(new MemoryStream(plain));
        Assert.Equal(["value"], fromPlain.ColumnNames);
        Assert.Equal([1.25f, 2.5f], fromPlain.Values.ToArray());

        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true)) z.Write(plain);
        gz.Position = 0;
        var fromGzip = CsvSeriesReader.Read(gz);
        Assert.Equal(fromPlain.Values.ToArray(), fromGzip.Values.ToArray());
    }

    [Fact]
    public void ReadFile_ReadsAFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rnn-simd-csv-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, "x\n3\n4\n");
            Assert.Equal([3f, 4f], CsvSeriesReader.ReadFile(path).Values.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
