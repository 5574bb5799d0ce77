using Rnn.Simd.Cli.Train;

namespace Rnn.Simd.Tests.Cli;

public class TimeParsingTests
{
    [Theory]
    [InlineData("2024-03-31", 2024, 3, 31, 0, 0, 0)]
    [InlineData("2024-03-31T02:30", 2024, 3, 31, 2, 30, 0)]
    [InlineData("2024-03-31 02:30:15", 2024, 3, 31, 2, 30, 15)]
    [InlineData("2024-03-31T02:30:15.5Z", 2024, 3, 31, 2, 30, 15)]
    [InlineData("\"2024-03-31T02:30:15\"", 2024, 3, 31, 2, 30, 15)]
    [InlineData("1958-03", 1958, 3, 1, 0, 0, 0)]
    public void Iso_AndYearMonth_Parse(string text, int y, int mo, int d, int h, int mi, int s)
    {
        Assert.True(TimeParsing.TryParse(text, null, allowUnixSeconds: false, out DateTimeOffset t), text);
        Assert.Equal(new DateTime(y, mo, d, h, mi, s), new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second));
        Assert.Equal(TimeSpan.Zero, t.Offset);
    }

    [Fact]
    public void Offsets_AreKept_AndConvertedToTheFirstRowsOffset()
    {
        // Across the end of summer time in Paris: 02:30+02:00 then 02:00+01:00 is half an hour later, not earlier.
        Assert.True(TimeParsing.TryParse("2024-10-27T02:30:00+02:00", null, false, out DateTimeOffset a));
        Assert.True(TimeParsing.TryParse("2024-10-27T02:00:00+01:00", null, false, out DateTimeOffset b));
        Assert.Equal(TimeSpan.FromHours(2), a.Offset);
        DateTime[] clock = TimeParsing.InFirstOffset([a, b]);
        Assert.Equal(TimeSpan.FromMinutes(30), clock[1] - clock[0]);
    }

    [Fact]
    public void UnixSeconds_OnlyWhenAllowed()
    {
        Assert.True(TimeParsing.TryParse("1700000000", null, allowUnixSeconds: true, out DateTimeOffset t));
        Assert.Equal(new DateTimeOffset(2023, 11, 14, 22, 13, 20, TimeSpan.Zero), t);
        Assert.False(TimeParsing.TryParse("1700000000", null, allowUnixSeconds: false, out _));
        Assert.False(TimeParsing.TryParse("12.5", null, allowUnixSeconds: true, out _));
    }

    [Fact]
    public void CustomFormat_IsInvariant_AndReplacesTheBuiltInForms()
    {
        Assert.True(TimeParsing.TryParse("31/03/2024 14:05", "dd/MM/yyyy HH:mm", false, out DateTimeOffset t));
        Assert.Equal(new DateTime(2024, 3, 31, 14, 5, 0), t.DateTime);
        Assert.False(TimeParsing.TryParse("2024-03-31", "dd/MM/yyyy HH:mm", false, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("d0")]
    [InlineData("1/2/2020")]
    [InlineData("2024-13-01")]
    [InlineData("2024-02-30")]
    [InlineData("yesterday")]
    [InlineData("12345")]
    public void NotTimes_DoNotParse(string text) => Assert.False(TimeParsing.TryParse(text, null, allowUnixSeconds: false, out _));

    [Theory]
    [InlineData("time", true)]
    [InlineData(" Date ", true)]
    [InlineData("timestamp", true)]
    [InlineData("DateTime", true)]
    [InlineData("ds", true)]
    [InlineData("load", false)]
    [InlineData("value", false)]
    public void TimeNames(string name, bool expected) => Assert.Equal(expected, TimeParsing.IsTimeName(name));
}
