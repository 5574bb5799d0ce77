using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Kernels;

namespace Rnn.Simd.Tests.Forecasting;

/// <summary>
/// What the forecaster gained from the tool: the one-shot outputs of every row of a part of a series
/// (<see cref="Forecaster.Predict(ForecastWindows)"/>, <see cref="Forecaster.PredictRows"/>) and double networks, each
/// against a hand loop of <see cref="RecurrentNetwork{T}.Step"/> over rows written out from the feature definitions.
/// </summary>
public class ForecasterPredictTests
{
    private const double Mean = 48.0, Std = 6.5;

    private static float[] Wave(int n) =>
        Enumerable.Range(0, n).Select(t => (float)(50 + 10 * Math.Sin(2 * Math.PI * t / 24) + 3 * Math.Cos(2 * Math.PI * t / 7))).ToArray();

    // The row of time t for features "value,lagL,phaseP", written out.
    private static float[] Row(IReadOnlyList<float> y, int t, int h, int lag, int period) =>
    [
        (float)((y[t] - Mean) / Std),
        (float)((y[t + h - lag] - Mean) / Std),
        (float)Math.Sin(2 * Math.PI * (t % period) / period),
        (float)Math.Cos(2 * Math.PI * (t % period) / period),
    ];

    private static RecurrentNetwork<T> Net<T>(int inputSize, int outputSize, ulong seed, CellType cell = CellType.Lstm)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        new(NetworkArchitecture.Uniform(cell, inputSize, 5, 2, outputSize), seed);

    /// <summary>
    /// The members stepped by hand over rows first .. end - 1 from zero states; returns the averaged outputs in
    /// scaled float units, one row per time (the documented arithmetic: each member's outputs rounded to float, summed
    /// in member order in double, divided by M, rounded once).
    /// </summary>
    private static float[][] HandRun<T>(RecurrentNetwork<T>[] members, Func<int, float[]> row, int first, int end, int outputSize)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        NetworkState<T>[] states = members.Select(m => m.CreateState()).ToArray();
        var y = new T[outputSize];
        var result = new float[end][];
        for (int t = first; t < end; t++)
        {
            T[] x = row(t).Select(v => T.CreateTruncating(v)).ToArray();
            var sums = new double[outputSize];
            for (int k = 0; k < members.Length; k++)
            {
                members[k].Step(x, y, states[k]);
                for (int o = 0; o < outputSize; o++) sums[o] += float.CreateTruncating(y[o]);
            }
            result[t] = sums.Select(s => (float)(s / members.Length)).ToArray();
        }
        return result;
    }

    private static float Original(float scaled) => (float)(scaled * Std + Mean);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Predict_TestPart_EqualsAChronologicalHandRunThroughTheWholeSeries(int memberCount)
    {
        const int n = 400, h = 3, lag = 5, period = 6;
        float[] y = Wave(n);
        var options = new ForecastOptions(h, features: FeatureSpec.Parse("value,lag5,phase6"));
        var data = ForecastDataset.Create(new TimeSeries(y), options);
        var scaler = new StandardScaler([Mean], [Std]); // not the dataset's: the forecaster's own scaler builds the rows
        RecurrentNetwork<float>[] members = Enumerable.Range(0, memberCount).Select(k => Net<float>(4, 1, (ulong)(3 + k))).ToArray();
        var forecaster = new Forecaster(members, scaler, options);
        ForecastWindows test = data.Test!;

        // Rows t = L - h .. (the last test row); the test rows start at FirstTime.
        int end = test.FirstTime + test.Length;
        float[][] hand = HandRun(members, t => Row(y, t, h, lag, period), lag - h, end, 1);
        float[] expected = Enumerable.Range(test.FirstTime, test.Length).Select(t => Original(hand[t][0])).ToArray();

        float[] actual = forecaster.Predict(test);
        Assert.Equal(expected, actual);
        var span = new float[test.Length + 3];
        span.AsSpan().Fill(float.NaN);
        forecaster.Predict(test, span);
        Assert.Equal(expected, span[..test.Length]);
        Assert.All(span[test.Length..], v => Assert.True(float.IsNaN(v))); // nothing written past T x O
        // The same rows from the series prefix; its last row is the one-shot forecast.
        var rows = new float[test.Length];
        forecaster.PredictRows(y.AsSpan(0, end), test.FirstTime, rows);
        Assert.Equal(expected, rows);
        Assert.Equal(expected[^1], forecaster.Forecast(new TimeSeries(y.AsSpan(0, end)))[0]);
        // Scored against the part's own targets, as evaluate does: every test target counts.
        Assert.Equal(test.IncludedCount, test.Evaluate(actual).Count);
    }

    [Fact]
    public void Predict_MultiOutputPart_WritesEveryHorizonStepOfEveryRow()
    {
        const int n = 300, h = 4;
        float[] y = Wave(n);
        var options = new ForecastOptions(h, TargetMode.MultiOutput);
        var data = ForecastDataset.Create(new TimeSeries(y), options);
        RecurrentNetwork<float> net = Net<float>(1, h, 5, CellType.Gru);
        var forecaster = new Forecaster(net, new StandardScaler([Mean], [Std]), options);
        ForecastWindows validation = data.Validation!;

        int end = validation.FirstTime + validation.Length;
        float[][] hand = HandRun([net], t => [(float)((y[t] - Mean) / Std)], 0, end, h);
        float[] expected = Enumerable.Range(validation.FirstTime, validation.Length).SelectMany(t => hand[t].Select(Original)).ToArray();

        Assert.Equal(expected, forecaster.Predict(validation));
    }

    [Fact]
    public void Predict_WindowsOfAnotherModel_ThrowSayingWhatDiffers()
    {
        var series = new TimeSeries(Wave(300));
        var options = new ForecastOptions(3, features: FeatureSpec.Parse("value,lag12"));
        var forecaster = new Forecaster(Net<float>(2, 1, 1), new StandardScaler([Mean], [Std]), options);
        var scaler = new StandardScaler([Mean], [Std]);
        var range = new TimeRange(200, 300);

        var horizon = Assert.Throws<ArgumentException>(() => forecaster.Predict(ForecastWindows.Create(series, scaler, range, new ForecastOptions(4))));
        Assert.Contains("horizon 4", horizon.Message);
        var mode = Assert.Throws<ArgumentException>(() => forecaster.Predict(ForecastWindows.Create(series, scaler, range, new ForecastOptions(3, TargetMode.MultiOutput))));
        Assert.Contains("MultiOutput", mode.Message);
        // Windows of a value-only model start at input time 0; this model's first complete row is 12 - 3 = 9.
        var early = Assert.Throws<ArgumentException>(() => forecaster.Predict(ForecastWindows.Create(series, scaler, new TimeRange(0, 100), new ForecastOptions(3))));
        Assert.Contains("first complete input row 9", early.Message);
        var two = new TimeSeries(Wave(600), 2);
        var twoColumns = Assert.Throws<ArgumentException>(() => forecaster.Predict(ForecastWindows.Create(two, new StandardScaler([0.0, 0.0], [1.0, 1.0]), range, new ForecastOptions(3, targetColumns: [0]))));
        Assert.Contains("2 column(s)", twoColumns.Message);
        // Windows with other input features but the same targets are fine: the forecaster builds its own rows.
        float[] p = forecaster.Predict(ForecastWindows.Create(series, scaler, range, new ForecastOptions(3, features: FeatureSpec.Parse("value,lag24"))));
        Assert.Equal(100, p.Length); // rows t = 197 .. 296 predict y[200 .. 299]

        float[] y = Wave(40);
        Assert.Throws<ArgumentOutOfRangeException>(() => forecaster.PredictRows(y, 8, new float[40]));
        Assert.Throws<ArgumentOutOfRangeException>(() => forecaster.PredictRows(y, 40, new float[40]));
        Assert.Throws<ArgumentException>(() => forecaster.PredictRows(y, 9, new float[30]));
        forecaster.PredictRows(y, 9, new float[31]);
        Assert.Throws<SeriesTooShortException>(() => forecaster.PredictRows(y.AsSpan(0, 9), 9, new float[1]));
    }

    [Fact]
    public void DoubleNetworks_EveryMethod_EqualsAHandLoopInDoubleRoundedToFloat()
    {
        const int n = 60, h = 1, lag = 4, period = 5, steps = 9;
        float[] y = Wave(n);
        var options = new ForecastOptions(h, features: FeatureSpec.Parse("value,lag4,phase5"));
        var scaler = new StandardScaler([Mean], [Std]);
        RecurrentNetwork<double>[] members = [Net<double>(4, 1, 11), Net<double>(4, 1, 12)];
        var single = new Forecaster(members[0], scaler, options);
        var ensemble = new Forecaster(members, scaler, options);
        Assert.Equal(typeof(double), ensemble.ElementType);
        Assert.Equal(typeof(float), new Forecaster(Net<float>(4, 1, 11), scaler, options).ElementType);

        foreach ((Forecaster forecaster, RecurrentNetwork<double>[] nets) in new[] { (single, members[..1]), (ensemble, members) })
        {
            float[][] hand = HandRun(nets, t => Row(y, t, h, lag, period), lag - h, n, 1);
            Assert.Equal(Original(hand[n - 1][0]), forecaster.Forecast(new TimeSeries(y))[0]);
            Assert.Equal(Original(hand[n - 1][0]), forecaster.ForecastPath(new TimeSeries(y))[0]);
            var rows = new float[n - 10];
            forecaster.PredictRows(y, 10, rows);
            Assert.Equal(Enumerable.Range(10, n - 10).Select(t => Original(hand[t][0])), rows);

            // Generative: the reported value becomes y[t] of the next row, for every member.
            var history = new List<float>(y);
            NetworkState<double>[] states = nets.Select(m => m.CreateState()).ToArray();
            var output = new double[1];
            float last = 0;
            for (int t = lag - h; t < n + steps - 1; t++)
            {
                double[] x = Row(history, t, h, lag, period).Select(v => (double)v).ToArray();
                double sum = 0;
                for (int k = 0; k < nets.Length; k++)
                {
                    nets[k].Step(x, output, states[k]);
                    sum += (float)output[0];
                }
                last = Original((float)(sum / nets.Length));
                if (t >= n - 1) history.Add(last);
            }
            Assert.Equal(history.Skip(n).ToArray(), forecaster.Generate(new TimeSeries(y), steps));
        }
    }

    [Fact]
    public void DoubleNetworks_BadInput_ThrowLikeFloat()
    {
        var scaler = new StandardScaler([0.0], [1.0]);
        Assert.Contains("features 'value,lag10'",
            Assert.Throws<ArgumentException>(() => new Forecaster(Net<double>(1, 1, 1), scaler, new ForecastOptions(1, features: FeatureSpec.Parse("value,lag10")))).Message);
        Assert.Contains("no members", Assert.Throws<ArgumentException>(() => new Forecaster(Array.Empty<RecurrentNetwork<double>>(), scaler, new ForecastOptions(1))).Message);
        Assert.Throws<ArgumentNullException>(() => new Forecaster((RecurrentNetwork<double>)null!, scaler, new ForecastOptions(1)));
        var forecaster = new Forecaster(Net<double>(1, 1, 1), scaler, new ForecastOptions(24));
        Assert.False(forecaster.CanGenerate);
        Assert.Contains("horizon 24", forecaster.GenerativeProblem);
        Assert.Contains("horizon 24", Assert.Throws<InvalidOperationException>(() => forecaster.Generate(Wave(30), 2, new float[2])).Message);
    }

    [Fact]
    public void GenerativeProblem_IsNullExactlyWhenGenerateRuns()
    {
        var scaler = new StandardScaler([0.0, 0.0], [1.0, 1.0]);
        var ok = new Forecaster(Net<float>(4, 2, 1), scaler, new ForecastOptions(1, features: FeatureSpec.Parse("value,lag3")));
        Assert.True(ok.CanGenerate);
        Assert.Null(ok.GenerativeProblem);
        var notPredicted = new Forecaster(Net<float>(2, 1, 1), scaler, new ForecastOptions(1, targetColumns: [0]));
        Assert.False(notPredicted.CanGenerate);
        Assert.Contains("column 1", notPredicted.GenerativeProblem);
        Assert.Contains(notPredicted.GenerativeProblem!, Assert.Throws<InvalidOperationException>(() => notPredicted.Generate(new float[20], 2, new float[2])).Message);
    }
}

[Collection(AllocationCollection.Name)]
public class ForecasterPredictAllocationTests
{
    [Fact]
    public void PredictAndPredictRows_AllocateNothingAfterConstruction()
    {
        float[] y = Enumerable.Range(0, 400).Select(t => (float)(50 + 10 * Math.Sin(t * 0.26))).ToArray();
        var options = new ForecastOptions(3, features: FeatureSpec.Parse("value,lag24,day"));
        var data = ForecastDataset.Create(new TimeSeries(y), options);
        RecurrentNetwork<float>[] members = [new(NetworkArchitecture.Uniform(CellType.Lstm, options.InputSize(1), 7, 1, 1), 1), new(NetworkArchitecture.Uniform(CellType.Lstm, options.InputSize(1), 7, 1, 1), 2)];
        var forecaster = new Forecaster(members, data.Scaler, options);
        var state = (forecaster, y, test: data.Test!, destination: new float[data.Test!.Length], rows: new float[400]);
        AllocationTests.AssertNoAllocation(state, static s =>
        {
            s.forecaster.Predict(s.test, s.destination);
            s.forecaster.PredictRows(s.y, 100, s.rows);
        }, "Forecaster (2 members).Predict(test) + PredictRows");
    }

    [Fact]
    public void DoubleForecaster_AllocatesNothingAfterConstruction()
    {
        float[] history = Enumerable.Range(0, 300).Select(t => (float)Math.Sin(t * 0.26)).ToArray();
        var options = new ForecastOptions(1, features: FeatureSpec.Parse("value,lag24,day"));
        var net = new RecurrentNetwork<double>(NetworkArchitecture.Uniform(CellType.Gru, options.InputSize(1), 9, 2, 1), seed: 1);
        var forecaster = new Forecaster(net, new StandardScaler([0.0], [1.0]), options);
        var state = (forecaster, history, one: new float[1], many: new float[200], rows: new float[300]);
        AllocationTests.AssertNoAllocation(state, static s =>
        {
            s.forecaster.Forecast(s.history, s.one);
            s.forecaster.Generate(s.history, 200, s.many);
            s.forecaster.PredictRows(s.history, 23, s.rows);
        }, "Forecaster<double>.Forecast + Generate(200 steps) + PredictRows");
    }
}
