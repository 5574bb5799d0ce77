using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Tests.Forecasting;

public class ChronologicalSplitTests
{
    [Fact]
    public void Default_70_15_15_OnTheHourlyAceaLength()
    {
        var s = ChronologicalSplit.Create(22896);
        Assert.Equal(new TimeRange(0, 16027), s.Train);
        Assert.Equal(new TimeRange(16027, 19461), s.Validation);
        Assert.Equal(new TimeRange(19461, 22896), s.Test); // the test part takes the rounding remainder
        Assert.Equal(s.Test, s[SplitPart.Test]);
    }

    [Theory]
    [InlineData(100, 70, 15, 15)]
    [InlineData(10, 7, 1, 2)]
    [InlineData(7, 4, 1, 2)]
    public void Default_PartsCoverTheSeries(int length, int train, int validation, int test)
    {
        var s = ChronologicalSplit.Create(length);
        Assert.Equal(train, s.Train.Length);
        Assert.Equal(validation, s.Validation.Length);
        Assert.Equal(test, s.Test.Length);
        Assert.Equal(s.Train.End, s.Validation.Start);
        Assert.Equal(s.Validation.End, s.Test.Start);
        Assert.Equal(length, s.Test.End);
    }

    [Fact]
    public void FractionsBelowOne_LeaveTheTailOut()
    {
        var s = ChronologicalSplit.Create(100, new SplitFractions(0.5, 0.2, 0.1));
        Assert.Equal(new TimeRange(0, 50), s.Train);
        Assert.Equal(new TimeRange(50, 70), s.Validation);
        Assert.Equal(new TimeRange(70, 80), s.Test);
    }

    [Fact]
    public void ZeroFraction_MeansNoSuchPart()
    {
        var s = ChronologicalSplit.Create(10, new SplitFractions(0.8, 0, 0.2));
        Assert.True(s.Validation.IsEmpty);
        Assert.Equal(new TimeRange(8, 10), s.Test);
        var trainOnly = ChronologicalSplit.Create(10, new SplitFractions(1, 0, 0));
        Assert.Equal(new TimeRange(0, 10), trainOnly.Train);
    }

    [Theory]
    [InlineData(0.7, 0.2, 0.15, "sum to at most 1")]
    [InlineData(0.0, 0.5, 0.5, "training fraction must be positive")]
    [InlineData(-0.1, 0.5, 0.5, "between 0 and 1")]
    [InlineData(1.5, 0, 0, "between 0 and 1")]
    [InlineData(double.NaN, 0.15, 0.15, "finite")]
    [InlineData(0.7, double.PositiveInfinity, 0.15, "finite")]
    public void InvalidFractions_Throw(double train, double validation, double test, string expected)
    {
        var ex = Assert.Throws<InvalidSplitException>(() => ChronologicalSplit.Create(1000, new SplitFractions(train, validation, test)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APositiveFractionThatRoundsToAnEmptyPart_Throws_WithTheLengthNeeded()
    {
        var ex = Assert.Throws<InvalidSplitException>(() => ChronologicalSplit.Create(5));
        Assert.Contains("validation part empty", ex.Message, StringComparison.Ordinal);
        Assert.Contains("at least 7 values", ex.Message, StringComparison.Ordinal);
        ChronologicalSplit.Create(7); // and 7 works

        ex = Assert.Throws<InvalidSplitException>(() => ChronologicalSplit.Create(9, new SplitFractions(0.5, 0.2, 0.1)));
        Assert.Contains("test part empty", ex.Message, StringComparison.Ordinal);
        Assert.Contains("at least 10 values", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptySeries_Throws()
    {
        Assert.Throws<EmptySeriesException>(() => ChronologicalSplit.Create(0));
    }

    [Fact]
    public void FromRanges_AcceptsOrderedRangesWithGaps_AndRejectsTheRest()
    {
        var s = ChronologicalSplit.FromRanges(22896, new TimeRange(0, 16000), new TimeRange(17848, 19461), new TimeRange(19461, 22896));
        Assert.Equal(new TimeRange(17848, 19461), s.Validation);

        Assert.Throws<InvalidSplitException>(() => ChronologicalSplit.FromRanges(10, new TimeRange(0, 0), default, default));
        Assert.Throws<InvalidSplitException>(() => ChronologicalSplit.FromRanges(10, new TimeRange(0, 6), new TimeRange(5, 8), default));
        Assert.Throws<InvalidSplitException>(() => ChronologicalSplit.FromRanges(10, new TimeRange(0, 6), new TimeRange(6, 8), new TimeRange(7, 10)));
        Assert.Throws<InvalidSplitException>(() => ChronologicalSplit.FromRanges(10, new TimeRange(0, 6), new TimeRange(6, 8), new TimeRange(8, 11)));
    }
}
