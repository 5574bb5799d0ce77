using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Kernels;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;

namespace Rnn.Simd.Tests.Forecasting;

public class ForecasterTests
{
    private static float[] Wave(int n, int offset = 0) =>
        Enumerable.Range(offset, n).Select(t => (float)(50 + 10 * Math.Sin(2 * Math.PI * t / 24) + 3 * Math.Cos(2 * Math.PI * t / 7))).ToArray();

    private static RecurrentNetwork<float> Net(int inputSize, int outputSize, CellType cell = CellType.Lstm) =>
        new(NetworkArchitecture.Uniform(cell, inputSize, 5, 2, outputSize), seed: 7);

    // The feature row of time t written out by hand: (value, lag L, sin, cos) for features "value,lagL,phaseP".
    private static float[] Row(Func<int, float> y, double mean, double std, int t, int h, int lag, int period) =>
    [
        (float)((y(t) - mean) / std),
        (float)((y(t + h - lag) - mean) / std),
        (float)Math.Sin(2 * Math.PI * (t % period) / period),
        (float)Math.Cos(2 * Math.PI * (t % period) / period),
    ];

    [Fact]
    public void Forecast_EqualsAHandLoopOfStepCalls()
    {
        float[] y = Wave(40);
        var scaler = new StandardScaler([48.0], [6.5]);
        var options = new ForecastOptions(2, features: FeatureSpec.Parse("value,lag5,phase6"));
        RecurrentNetwork<float> net = Net(4, 1);
        var forecaster = new Forecaster(net, scaler, options);
        Assert.Equal(4, forecaster.MinimumHistory); // rows from t = 5 - 2 = 3

        NetworkState<float> state = net.CreateState();
        var output = new float[1];
        for (int t = 3; t < 40; t++) net.Step(Row(i => y[i], 48, 6.5, t, 2, 5, 6), output, state);
        float expected = (float)(output[0] * 6.5 + 48.0);

        var actual = new float[1];
        forecaster.Forecast(y, actual);
        Assert.Equal(expected, actual[0]);
        Assert.Equal(expected, forecaster.Forecast(new TimeSeries(y))[0]);
        forecaster.Forecast(y, actual); // the state restarts: the same again
        Assert.Equal(expected, actual[0]);
    }

    [Fact]
    public void Forecast_MultiOutput_WritesEveryHorizonStepInOriginalUnits()
    {
        float[] y = Wave(30);
        var scaler = new StandardScaler([50.0], [4.0]);
        var options = new ForecastOptions(3, TargetMode.MultiOutput);
        RecurrentNetwork<float> net = Net(1, 3, CellType.Gru);
        var forecaster = new Forecaster(net, scaler, options);
        NetworkState<float> state = net.CreateState();
        var output = new float[3];
        for (int t = 0; t < 30; t++) net.Step([(float)((y[t] - 50.0) / 4.0)], output, state);
        float[] actual = forecaster.Forecast(new TimeSeries(y));
        Assert.Equal(output.Select(o => (float)(o * 4.0 + 50.0)).ToArray(), actual);
    }

    [Fact]
    public void ForecastPath_SingleStep_IsTheOutputsOfTheLastHRows_OfAnEnsembleMean()
    {
        const int n = 40, h = 3, lag = 5, period = 6;
        float[] y = Wave(n);
        var scaler = new StandardScaler([48.0], [6.5]);
        var options = new ForecastOptions(h, features: FeatureSpec.Parse("value,lag5,phase6"));
        RecurrentNetwork<float> a = Net(4, 1), b = new(NetworkArchitecture.Uniform(CellType.Lstm, 4, 5, 2, 1), seed: 8);
        var forecaster = new Forecaster([a, b], scaler, options);
        Assert.Equal(h, forecaster.PathSize);

        // Hand loop: rows t = L - h .. n - 1; row t predicts y[t + h], so rows n - h .. n - 1 give y[n .. n + h - 1].
        NetworkState<float> sa = a.CreateState(), sb = b.CreateState();
        float[] oa = new float[1], ob = new float[1];
        var expected = new float[h];
        for (int t = lag - h; t < n; t++)
        {
            float[] row = Row(i => y[i], 48, 6.5, t, h, lag, period);
            a.Step(row, oa, sa);
            b.Step(row, ob, sb);
            if (t >= n - h) expected[t - (n - h)] = (float)((float)(((double)oa[0] + ob[0]) / 2) * 6.5 + 48.0);
        }

        Assert.Equal(expected, forecaster.ForecastPath(new TimeSeries(y)));
        // Its last value is the one-shot forecast; the shortest history holds exactly h complete rows.
        Assert.Equal(expected[h - 1], forecaster.Forecast(new TimeSeries(y))[0]);
        forecaster.ForecastPath(y.AsSpan(0, lag - h + h), new float[h]);
        var e = Assert.Throws<SeriesTooShortException>(() => forecaster.ForecastPath(y.AsSpan(0, lag - 1), new float[h]));
        Assert.Contains("at least 5", e.Message);
    }

    [Fact]
    public void ForecastPath_MultiOutput_IsTheLastOutput()
    {
        float[] y = Wave(30);
        var options = new ForecastOptions(3, TargetMode.MultiOutput);
        var forecaster = new Forecaster(Net(1, 3, CellType.Gru), new StandardScaler([50.0], [4.0]), options);
        Assert.Equal(forecaster.Forecast(new TimeSeries(y)), forecaster.ForecastPath(new TimeSeries(y)));
    }

    [Fact]
    public void Generate_EqualsAHandLoopThatFeedsPredictionsBack()
    {
        const int n = 30, steps = 12, lag = 4, period = 5;
        float[] history = Wave(n);
        var scaler = new StandardScaler([49.0], [7.0]);
        var options = new ForecastOptions(1, features: FeatureSpec.Parse("value,lag4,phase5"));
        RecurrentNetwork<float> net = Net(4, 1);
        var forecaster = new Forecaster(net, scaler, options);
        Assert.True(forecaster.CanGenerate);

        // Hand loop: rows t = 3 .. n - 1 on the history, then each prediction becomes y[t] of the next row.
        var y = new List<float>(history);
        NetworkState<float> state = net.CreateState();
        var output = new float[1];
        for (int t = lag - 1; t < n; t++) net.Step(Row(i => y[i], 49, 7, t, 1, lag, period), output, state);
        var expected = new float[steps];
        for (int k = 0; k < steps; k++)
        {
            expected[k] = (float)(output[0] * 7.0 + 49.0);
            y.Add(expected[k]);
            int t = n + k;
            net.Step(Row(i => y[i], 49, 7, t, 1, lag, period), output, state);
        }

        var actual = new float[steps];
        forecaster.Generate(history, steps, actual);
        Assert.Equal(expected, actual);
        Assert.Equal(expected, forecaster.Generate(new TimeSeries(history), steps));
        // Its first step is the one-shot forecast of y[n].
        Assert.Equal(expected[0], forecaster.Forecast(new TimeSeries(history))[0]);
    }

    [Fact]
    public void Generate_HorizonAboveOne_ThrowsSayingWhy()
    {
        var forecaster = new Forecaster(Net(1, 1), new StandardScaler([0.0], [1.0]), new ForecastOptions(24));
        Assert.False(forecaster.CanGenerate);
        var e = Assert.Throws<InvalidOperationException>(() => forecaster.Generate(Wave(50), 3, new float[3]));
        Assert.Contains("horizon 24", e.Message);
        Assert.Contains("horizon 1", e.Message);
    }

    [Fact]
    public void Generate_InputColumnThatIsNotATarget_ThrowsSayingWhich()
    {
        var options = new ForecastOptions(1, targetColumns: [0]); // reads columns 0 and 1, predicts 0 only
        var forecaster = new Forecaster(Net(2, 1), new StandardScaler([0.0, 0.0], [1.0, 1.0]), options);
        var e = Assert.Throws<InvalidOperationException>(() => forecaster.Generate(new float[20], 2, new float[2]));
        Assert.Contains("column 1", e.Message);
        // Lags and phases alone are always computable.
        var lagsOnly = new ForecastOptions(1, targetColumns: [0], features: FeatureSpec.Parse("lag1,lag2,day"));
        Assert.True(new Forecaster(Net(4, 1), new StandardScaler([0.0, 0.0], [1.0, 1.0]), lagsOnly).CanGenerate);
    }

    [Fact]
    public void BadInput_ThrowsSpecificExceptions()
    {
        var scaler = new StandardScaler([0.0], [1.0]);
        var options = new ForecastOptions(1, features: FeatureSpec.Parse("value,lag10"));
        Assert.Contains("features 'value,lag10'", Assert.Throws<ArgumentException>(() => new Forecaster(Net(1, 1), scaler, options)).Message);
        Assert.Contains("needs 3", Assert.Throws<ArgumentException>(() => new Forecaster(Net(1, 1), scaler, new ForecastOptions(3, TargetMode.MultiOutput))).Message);

        var forecaster = new Forecaster(Net(2, 1), scaler, options);
        Assert.Equal(10, forecaster.MinimumHistory);
        var shortE = Assert.Throws<SeriesTooShortException>(() => forecaster.Forecast(new float[9], new float[1]));
        Assert.Equal(10, shortE.RequiredLength);
        forecaster.Forecast(new float[10], new float[1]);

        float[] gap = Wave(20);
        gap[13] = float.NaN;
        var nan = Assert.Throws<NonFiniteValueException>(() => forecaster.Generate(gap, 2, new float[2]));
        Assert.Contains("time 13", nan.Message);
        Assert.Throws<ArgumentException>(() => forecaster.Forecast(Wave(20), Span<float>.Empty));
        Assert.Throws<ArgumentException>(() => forecaster.Generate(Wave(20), 3, new float[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => forecaster.Generate(Wave(20), 0, new float[2]));
        var twoColumns = new Forecaster(Net(2, 2), new StandardScaler([0.0, 0.0], [1.0, 1.0]), new ForecastOptions(1));
        Assert.Throws<ArgumentException>(() => twoColumns.Forecast(new float[7], new float[2])); // not whole rows
        Assert.Throws<ArgumentException>(() => twoColumns.Forecast(new TimeSeries(Wave(5))));
    }

    [Fact]
    public void Generate_TrainedOneStepModelOnASine_FollowsTheSineForTwoPeriods()
    {
        // A one-step-ahead LSTM trained on a sine of period 24 and run free for 48 steps stays near the sine.
        const int period = 24, n = 2400;
        var series = new TimeSeries(Enumerable.Range(0, n + 48).Select(t => (float)Math.Sin(2 * Math.PI * t / period)).ToArray());
        TimeSeries history = series.Slice(0, n);
        var options = new ForecastOptions(1);
        var data = ForecastDataset.Create(history, options);
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Lstm, 1, 16, 1, 1), seed: 3);
        var trainer = new Trainer<float>(net, new TrainerOptions
        {
            BatchSize = 8, Bptt = BpttSchedule.Default(24), LearningRate = 1e-2, Epochs = 30, Patience = 0, ClipNorm = 5,
        });
        trainer.Fit(data.Train.ToSequenceData(), data.Validation!.ToSequenceData());

        float[] generated = new Forecaster(net, data.Scaler, options).Generate(history, 48);
        double sum = 0;
        for (int k = 0; k < 48; k++)
        {
            double e = generated[k] - series[n + k, 0];
            sum += e * e;
        }
        double rmse = Math.Sqrt(sum / 48);
        Assert.True(rmse < 0.1, $"generative RMSE {rmse:F4} over 48 steps of a unit sine");
    }
}

[Collection(AllocationCollection.Name)]
public class ForecasterAllocationTests
{
    [Fact]
    public void ForecastAndGenerate_AllocateNothingAfterConstruction()
    {
        float[] history = Enumerable.Range(0, 300).Select(t => (float)Math.Sin(t * 0.26)).ToArray();
        var options = new ForecastOptions(1, features: FeatureSpec.Parse("value,lag24,day,week"));
        var net = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Lstm, options.InputSize(1), 9, 2, 1), seed: 1);
        var forecaster = new Forecaster(net, new StandardScaler([0.0], [1.0]), options);
        var state = (forecaster, history, one: new float[1], many: new float[200]);
        AllocationTests.AssertNoAllocation(state, static s =>
        {
            s.forecaster.Forecast(s.history, s.one);
            s.forecaster.ForecastPath(s.history, s.one);
            s.forecaster.Generate(s.history, 200, s.many);
        }, "Forecaster.Forecast + ForecastPath + Generate(200 steps)");
    }
}
