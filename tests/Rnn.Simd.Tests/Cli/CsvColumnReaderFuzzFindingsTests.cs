using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Cli.Train;

namespace Rnn.Simd.Tests.Cli;

/// <summary>
/// What the fuzzing of <see cref="CsvColumnReader"/> found (tests/Rnn.Simd.Fuzz/README.md), as plain cases: each of
/// these escaped as a non-<see cref="CliException"/> (a stack trace instead of one line for the user).
/// </summary>
public class CsvColumnReaderFuzzFindingsTests
{
    private static CsvColumn Read(string content, CsvColumnOptions? options = null)
    {
        using var dir = new TempDir();
        string path = dir.File("f.csv");
        File.WriteAllText(path, content);
        return CsvColumnReader.Read(path, options ?? new CsvColumnOptions());
    }

    [Fact]
    public void ARepeatedHeaderName_IsOneLineForTheUser()
    {
        // Was: Sep's ArgumentException ("Col name 'a' found 2 times ...").
        var e = Assert.Throws<CliException>(() => Read("a,a\n1,2\n"));
        Assert.Contains("f.csv: the header names a column more than once", e.Message);
        Assert.Contains("'a'", e.Message);
    }

    [Fact]
    public void ABlankHeaderCell_NamesTheColumnByItsIndex()
    {
        // Was: TimeSeries' ArgumentException "Column name 0 is empty".
        CsvColumn c = Read(" ,x\n1,y\n2,z\n");
        Assert.Equal(0, c.ColumnIndex);
        Assert.Equal("column 0", c.Series.ColumnNames[0]);
        Assert.Equal([1f, 2f], c.Series.Values.ToArray());
        Assert.Equal("column 0", Read(" ,x\n1,y\n", new CsvColumnOptions(Column: "0")).Series.ColumnNames[0]);
    }

    [Fact]
    public void ARowLongerThanTheHeader_ItsNumericFieldIsNamedByIndex()
    {
        // Was: ArgumentOutOfRangeException reading the header name of field 1 of a one-name header.
        // (The separator is given: Sep would detect it from the header line, which has none.)
        CsvColumn c = Read("a\nx,1\ny,2\n", new CsvColumnOptions(Separator: ','));
        Assert.Equal(1, c.ColumnIndex);
        Assert.Equal("column 1", c.Series.ColumnNames[0]);
        Assert.Equal([1f, 2f], c.Series.Values.ToArray());
    }
}
