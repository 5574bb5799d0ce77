using Rnn.Simd.Training.Bptt;

namespace Rnn.Simd.Tests.Training.Bptt;

public class BpttScheduleTests
{
    [Fact]
    public void NamedSchedules_HaveTheirShapes()
    {
        Assert.Equal(new BpttSchedule(9, 1), BpttSchedule.True(9));
        Assert.Equal(new BpttSchedule(9, 9), BpttSchedule.Epochwise(9));
        Assert.Equal(new BpttSchedule(18, 9), BpttSchedule.Default(9));
        Assert.Equal(new BpttSchedule(4, 4), BpttSchedule.Create(4, 4));
        Assert.Equal("BPTT(50,25)", BpttSchedule.Default(25).ToString());
    }

    [Theory]
    [InlineData(3, 4)]  // τb < τf
    [InlineData(0, 0)]  // τf < 1
    [InlineData(5, 0)]
    [InlineData(-1, -1)]
    [InlineData(1, 2)]
    public void Create_RejectsInvalidSchedules(int tb, int tf)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BpttSchedule.Create(tb, tf));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BpttSchedule(tb, tf).Validate());
    }

    [Fact]
    public void NamedSchedules_RejectNonPositiveN()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BpttSchedule.True(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => BpttSchedule.Epochwise(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => BpttSchedule.Default(-3));
    }

    [Theory]
    [InlineData("2n,n", 25, 50, 25)]
    [InlineData("n,1", 25, 25, 1)]
    [InlineData("n,n", 25, 25, 25)]
    [InlineData("7,3", 25, 7, 3)]
    [InlineData("3,3", 1, 3, 3)]
    [InlineData(" 2N , n ", 4, 8, 4)]  // spaces and case do not matter
    [InlineData("N,1", 6, 6, 1)]
    [InlineData("40,1", 0, 40, 1)]    // n is ignored by the numeric form
    public void Parse_ReadsNamedAndNumericForms(string text, int n, int tb, int tf)
    {
        Assert.Equal(new BpttSchedule(tb, tf), BpttSchedule.Parse(text, n));
    }

    [Theory]
    [InlineData("")]
    [InlineData("n")]
    [InlineData("7")]
    [InlineData("7,3,1")]
    [InlineData("7;3")]
    [InlineData("3n,n")]
    [InlineData("n,2")]
    [InlineData("2n,1")]
    [InlineData("x,3")]
    [InlineData("7,")]
    [InlineData(",3")]
    [InlineData("7.5,3")]
    [InlineData("BPTT(7,3)")]
    public void Parse_RejectsOtherText_WithFormatException(string text)
    {
        var e = Assert.Throws<FormatException>(() => BpttSchedule.Parse(text, 5));
        Assert.Contains("2n,n", e.Message); // says which forms are accepted
    }

    [Fact]
    public void Parse_OfAWellFormedButInvalidSchedule_ThrowsOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BpttSchedule.Parse("3,7", 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => BpttSchedule.Parse("2n,n", 0));
        Assert.Throws<ArgumentNullException>(() => BpttSchedule.Parse(null!, 5));
    }
}
