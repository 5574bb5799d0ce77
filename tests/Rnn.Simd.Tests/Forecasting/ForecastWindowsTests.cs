using Rnn.Simd.Forecasting;
using Rnn.Simd.Training;

namespace Rnn.Simd.Tests.Forecasting;

public class ForecastWindowsTests
{
    // y[t] = t for t = 0..9; an identity scaler keeps scaled = original so the alignment is readable.
    private static readonly TimeSeries Ramp = new([0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f]);
    private static readonly StandardScaler Identity = new([0.0], [1.0]);

    [Fact]
    public void SingleStep_RowTReadsYtAndTargetsYtPlusH()
    {
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(5, 10), new ForecastOptions(horizon: 3));
        Assert.Equal(2, w.FirstTime);                       // max(0, 5 - 3)
        Assert.Equal(5, w.Length);                          // input times 2..6
        Assert.Equal(1, w.InputSize);
        Assert.Equal(1, w.OutputSize);
        Assert.Equal([2f, 3f, 4f, 5f, 6f], w.Inputs.ToArray());
        Assert.Equal([5f, 6f, 7f, 8f, 9f], w.Targets.ToArray()); // exactly the target range
        Assert.Equal([1f, 1f, 1f, 1f, 1f], w.Weights.ToArray());
        Assert.Equal(5, w.IncludedCount);
        Assert.Equal(3, w.HorizonStep(0));
        Assert.Equal(9, w.TargetTime(4, 0));
    }

    [Fact]
    public void SingleStep_PartAtTheSeriesStart_LosesItsFirstHTargets()
    {
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(0, 5), new ForecastOptions(3));
        Assert.Equal(0, w.FirstTime);
        Assert.Equal([0f, 1f], w.Inputs.ToArray());
        Assert.Equal([3f, 4f], w.Targets.ToArray());
    }

    [Fact]
    public void SingleStep_ConsecutivePartsTileTheInputTimes()
    {
        var split = ChronologicalSplit.FromRanges(10, new TimeRange(0, 5), new TimeRange(5, 8), new TimeRange(8, 10));
        var options = new ForecastOptions(2);
        var train = ForecastWindows.Create(Ramp, Identity, split.Train, options);
        var validation = ForecastWindows.Create(Ramp, Identity, split.Validation, options);
        var test = ForecastWindows.Create(Ramp, Identity, split.Test, options);
        Assert.Equal(train.FirstTime + train.Length, validation.FirstTime);
        Assert.Equal(validation.FirstTime + validation.Length, test.FirstTime);
        Assert.Equal(10 - 2, test.FirstTime + test.Length);
        Assert.Equal([5f, 6f, 7f], validation.Targets.ToArray());
    }

    [Fact]
    public void MultiOutput_TargetsEveryStep_StepMajor_WithWeightsOnlyInsideThePart()
    {
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(5, 8), new ForecastOptions(3, TargetMode.MultiOutput));
        Assert.Equal(2, w.FirstTime);
        Assert.Equal(5, w.Length); // input times 2..6: each has a target in [5, 8)
        Assert.Equal(3, w.OutputSize);
        Assert.Equal([2f, 3f, 4f, 5f, 6f], w.Inputs.ToArray());
        Assert.Equal(
            [3f, 4f, 5f,
             4f, 5f, 6f,
             5f, 6f, 7f,
             6f, 7f, 8f,
             7f, 8f, 9f], w.Targets.ToArray());
        Assert.Equal(
            [0f, 0f, 1f,
             0f, 1f, 1f,
             1f, 1f, 1f,
             1f, 1f, 0f,
             1f, 0f, 0f], w.Weights.ToArray());
        Assert.Equal(9, w.IncludedCount); // 3 target times x 3 horizon steps, each once
        Assert.Equal(2, w.HorizonStep(1));
        Assert.Equal(8, w.TargetTime(4, 1));
    }

    [Fact]
    public void MultiOutput_TargetsPastTheSeriesEnd_AreZeroWithWeightZero()
    {
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(8, 10), new ForecastOptions(3, TargetMode.MultiOutput));
        Assert.Equal(5, w.FirstTime);
        Assert.Equal(4, w.Length); // input times 5..8
        ReadOnlySpan<float> last = w.Targets.Slice(3 * 3, 3);
        Assert.Equal([9f, 0f, 0f], last.ToArray());
        Assert.Equal([1f, 0f, 0f], w.Weights.Slice(3 * 3, 3).ToArray());
        foreach (float v in w.Targets) Assert.True(float.IsFinite(v));
    }

    [Fact]
    public void Mask_ZeroesTheWeightOfExcludedTargets()
    {
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(5, 10), new ForecastOptions(3), TimeMask.Exclude(6, 8));
        Assert.Equal([1f, 0f, 0f, 1f, 1f], w.Weights.ToArray());
        Assert.Equal(3, w.IncludedCount);
        Assert.Equal([2f, 3f, 4f, 5f, 6f], w.Inputs.ToArray()); // inputs inside the masked stretch are still read

        // A masked target contributes no error: a wild prediction there changes nothing.
        float[] perfect = w.ActualTargets.ToArray();
        float[] wild = (float[])perfect.Clone();
        wild[1] = 1e6f;
        wild[2] = float.NaN;
        Assert.Equal(0.0, w.Evaluate(wild).Rmse);
        Assert.Equal(3, w.Evaluate(wild).Count);
    }

    [Fact]
    public void Multivariate_SelectsAndOrdersInputAndTargetColumns()
    {
        // column 0: t, column 1: 100 + t
        var s = TimeSeries.FromColumns([[0f, 1f, 2f, 3f, 4f, 5f], [100f, 101f, 102f, 103f, 104f, 105f]], ["load", "temp"]);
        var scaler = new StandardScaler([0.0, 0.0], [1.0, 1.0]);
        var options = new ForecastOptions(2, TargetMode.MultiOutput, inputColumns: [1, 0], targetColumns: [0]);
        var w = ForecastWindows.Create(s, scaler, new TimeRange(3, 6), options);
        Assert.Equal(2, w.InputSize);
        Assert.Equal(2, w.OutputSize);
        Assert.Equal(1, w.FirstTime);
        Assert.Equal([101f, 1f, 102f, 2f, 103f, 3f, 104f, 4f], w.Inputs.ToArray());
        Assert.Equal([2f, 3f, 3f, 4f, 4f, 5f, 5f, 0f], w.Targets.ToArray());
        Assert.Equal(0, w.TargetColumn(1));

        var both = ForecastWindows.Create(s, scaler, new TimeRange(3, 6), new ForecastOptions(2, TargetMode.MultiOutput));
        Assert.Equal(4, both.OutputSize); // (y[t+1] load, temp, y[t+2] load, temp)
        Assert.Equal([2f, 102f, 3f, 103f], both.Targets[..4].ToArray());
        Assert.Equal(1, both.TargetColumn(3));
        Assert.Equal(2, both.HorizonStep(3));
    }

    [Fact]
    public void Scaling_TargetsAreScaled_ActualTargetsAreOriginal_AndOutputsInvert()
    {
        var scaler = new StandardScaler([1.0], [2.0]);
        var w = ForecastWindows.Create(Ramp, scaler, new TimeRange(7, 10), new ForecastOptions(1));
        Assert.Equal([2.5f, 3f, 3.5f], w.Inputs.ToArray());     // (6..8 - 1) / 2
        Assert.Equal([3f, 3.5f, 4f], w.Targets.ToArray());      // (7..9 - 1) / 2
        Assert.Equal([7f, 8f, 9f], w.ActualTargets.ToArray());
        float[] original = new float[3];
        w.InverseTransformOutputs(w.Targets, original);
        Assert.Equal([7f, 8f, 9f], original);
        var m = w.EvaluateScaled(w.Targets);
        Assert.Equal(0.0, m.Rmse);
        // Predicting 1 scaled unit too high is 2 original units too high.
        float[] high = [4f, 4.5f, 5f];
        Assert.Equal(2.0, w.EvaluateScaled(high).Rmse, 12);
        Assert.Equal(2.0, w.EvaluateScaled(high).Mae, 12);
    }

    [Fact]
    public void EvaluateOneOutput_ScoresOneHorizonStep()
    {
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(5, 10), new ForecastOptions(2, TargetMode.MultiOutput));
        float[] p = w.ActualTargets.ToArray();
        for (int r = 0; r < w.Length; r++) p[r * 2 + 1] += 3; // step 2 is off by 3, step 1 exact
        Assert.Equal(0.0, w.Evaluate(p, 0).Rmse);
        Assert.Equal(3.0, w.Evaluate(p, 1).Rmse, 12);
        Assert.Equal(5, w.Evaluate(p, 1).Count);
    }

    [Fact]
    public void NonFinitePrediction_OnAnIncludedTarget_ThrowsWithRowAndTime()
    {
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(5, 10), new ForecastOptions(3));
        float[] p = w.ActualTargets.ToArray();
        p[3] = float.NaN;
        var ex = Assert.Throws<NonFiniteValueException>(() => w.Evaluate(p));
        Assert.Equal(8, ex.Index); // target time
        Assert.Contains("row 3", ex.Message, StringComparison.Ordinal);
        Assert.Throws<NonFiniteValueException>(() => w.EvaluateScaled(p));
        Assert.Throws<ArgumentException>(() => w.Evaluate(new float[4]));
    }

    [Fact]
    public void AllTargetsMasked_EvaluateThrows()
    {
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(5, 10), new ForecastOptions(3), TimeMask.Exclude(0, 10));
        Assert.Equal(0, w.IncludedCount);
        Assert.Throws<EmptySeriesException>(() => w.Evaluate(w.ActualTargets));
    }

    [Theory]
    [InlineData(TargetMode.SingleStep, 3, 4)]
    [InlineData(TargetMode.MultiOutput, 1, 2)]
    public void PartEndingBeforeTheFirstPossibleTarget_ThrowsTooShort(TargetMode mode, int end, int required)
    {
        var ex = Assert.Throws<SeriesTooShortException>(() =>
            ForecastWindows.Create(Ramp, Identity, new TimeRange(0, end), new ForecastOptions(3, mode)));
        Assert.Equal(required, ex.RequiredLength);
        Assert.Equal(end, ex.ActualLength);
        Assert.Contains($"must end at index {required}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadArguments_Throw()
    {
        var options = new ForecastOptions(1);
        Assert.Throws<EmptySeriesException>(() => ForecastWindows.Create(Ramp, Identity, new TimeRange(4, 4), options));
        Assert.Throws<ArgumentOutOfRangeException>(() => ForecastWindows.Create(Ramp, Identity, new TimeRange(5, 11), options));
        Assert.Throws<ArgumentException>(() => ForecastWindows.Create(Ramp, new StandardScaler([0.0, 0.0], [1.0, 1.0]), new TimeRange(5, 10), options));
        Assert.Throws<ArgumentException>(() => ForecastWindows.Create(Ramp, Identity, new TimeRange(5, 10), new ForecastOptions(1, inputColumns: [1])));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ForecastOptions(0));
        Assert.Throws<ArgumentException>(() => new ForecastOptions(1, targetColumns: []));
        Assert.Throws<ArgumentException>(() => new ForecastOptions(1, inputColumns: [0, 0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ForecastOptions(1, (TargetMode)7));
    }

    [Fact]
    public void Options_ReportNetworkSizes()
    {
        var o = new ForecastOptions(24, TargetMode.MultiOutput, targetColumns: [0]);
        Assert.Equal(3, o.InputSize(3));
        Assert.Equal(24, o.OutputSize(3));
        Assert.Equal(1, new ForecastOptions(24).OutputSize(1));
    }

    [Fact]
    public void ToSequenceData_PairsEachInputRowWithItsTargetRowAndWeights_InCopies()
    {
        // Multi-output h = 2 on [4, 10) masked at 7: rows t = 2..8, targets y[t+1], y[t+2]; weight 0 outside the range or masked.
        var w = ForecastWindows.Create(Ramp, Identity, new TimeRange(4, 10), new ForecastOptions(2, TargetMode.MultiOutput), TimeMask.Exclude(7, 8));
        SequenceData<float> d = w.ToSequenceData();
        Assert.Equal(w.Length, d.Steps);
        Assert.Equal(w.InputSize, d.InputSize);
        Assert.Equal(w.OutputSize, d.OutputSize);
        Assert.Equal([2f, 3f, 4f, 5f, 6f, 7f, 8f], d.Inputs);
        Assert.Equal([3f, 4f, 4f, 5f, 5f, 6f, 6f, 7f, 7f, 8f, 8f, 9f, 9f, 0f], d.Targets);
        Assert.Equal([0f, 1f, 1f, 1f, 1f, 1f, 1f, 0f, 0f, 1f, 1f, 1f, 1f, 0f], d.TargetWeights!);
        Assert.Equal(w.Weights.ToArray(), d.TargetWeights);

        // Copies: changing the data changes neither the windows nor a second conversion.
        d.Inputs[0] = 99f;
        d.TargetWeights![1] = 0f;
        Assert.Equal(2f, w.Inputs[0]);
        Assert.Equal(1f, w.Weights[1]);
        Assert.Equal(2f, w.ToSequenceData().Inputs[0]);

        SequenceData<double> wide = w.ToSequenceData<double>();
        Assert.Equal(w.Inputs.ToArray().Select(v => (double)v), wide.Inputs);
        Assert.Equal(w.Targets.ToArray().Select(v => (double)v), wide.Targets);
        Assert.Equal(w.Weights.ToArray().Select(v => (double)v), wide.TargetWeights!);
    }
}
