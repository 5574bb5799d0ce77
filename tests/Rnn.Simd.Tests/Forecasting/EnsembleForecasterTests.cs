using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using Rnn.Simd.Tests.Kernels;

namespace Rnn.Simd.Tests.Forecasting;

/// <summary>
/// A <see cref="Forecaster"/> over a seed ensemble: one-shot and generative forecasts equal a hand loop of
/// <see cref="RecurrentNetwork{T}.Step"/> per member with the outputs averaged in scaled units; a list of one is the
/// single-network forecaster bit for bit; an ensemble saved and loaded forecasts the same; and <see cref="EnsembleAverage"/>
/// computes the documented mean.
/// </summary>
public class EnsembleForecasterTests
{
    private static float[] Wave(int n) =>
        Enumerable.Range(0, n).Select(t => (float)(50 + 10 * Math.Sin(2 * Math.PI * t / 24) + 3 * Math.Cos(2 * Math.PI * t / 7))).ToArray();

    private static RecurrentNetwork<float>[] Members(int m, int inputSize, int outputSize, CellType cell = CellType.Lstm)
    {
        var members = new RecurrentNetwork<float>[m];
        for (int k = 0; k < m; k++) members[k] = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(cell, inputSize, 5, 2, outputSize), seed: (ulong)(7 + k));
        return members;
    }

    // (value, lag L) scaled, the feature row of time t for features "value,lagL".
    private static float[] Row(IReadOnlyList<float> y, double mean, double std, int t, int h, int lag) =>
        [(float)((y[t] - mean) / std), (float)((y[t + h - lag] - mean) / std)];

    // The documented ensemble arithmetic, written out: sum in member order in double, divide by M, round once.
    private static float Mean(float[][] outputs, int o)
    {
        double sum = 0;
        foreach (float[] m in outputs) sum += m[o];
        return (float)(sum / outputs.Length);
    }

    [Fact]
    public void Forecast_OfThreeMembers_EqualsAHandLoopAveragingTheirOutputs()
    {
        const int n = 40, h = 2, lag = 5;
        float[] y = Wave(n);
        var scaler = new StandardScaler([48.0], [6.5]);
        var options = new ForecastOptions(h, features: FeatureSpec.Parse("value,lag5"));
        RecurrentNetwork<float>[] members = Members(3, 2, 1);
        var forecaster = new Forecaster(members, scaler, options);
        Assert.Equal(3, forecaster.MemberCount);

        var outputs = new float[3][];
        for (int k = 0; k < 3; k++)
        {
            NetworkState<float> state = members[k].CreateState();
            outputs[k] = new float[1];
            for (int t = lag - h; t < n; t++) members[k].Step(Row(y, 48, 6.5, t, h, lag), outputs[k], state);
        }
        float expected = (float)(Mean(outputs, 0) * 6.5 + 48.0);
        // The members disagree, so the mean is not any one member's forecast.
        Assert.NotEqual(outputs[0][0], outputs[1][0]);
        Assert.NotEqual(outputs[1][0], outputs[2][0]);

        var actual = new float[1];
        forecaster.Forecast(y, actual);
        Assert.Equal(expected, actual[0]);
        forecaster.Forecast(y, actual); // every state restarts
        Assert.Equal(expected, actual[0]);
        Assert.Equal(expected, forecaster.Forecast(new TimeSeries(y))[0]);
    }

    [Fact]
    public void Forecast_MultiOutput_AveragesEveryOutputBeforeUnscaling()
    {
        float[] y = Wave(30);
        var scaler = new StandardScaler([50.0], [4.0]);
        var options = new ForecastOptions(3, TargetMode.MultiOutput);
        RecurrentNetwork<float>[] members = Members(2, 1, 3, CellType.Gru);
        var outputs = new float[2][];
        for (int k = 0; k < 2; k++)
        {
            NetworkState<float> state = members[k].CreateState();
            outputs[k] = new float[3];
            for (int t = 0; t < 30; t++) members[k].Step([(float)((y[t] - 50.0) / 4.0)], outputs[k], state);
        }
        float[] expected = [.. Enumerable.Range(0, 3).Select(o => (float)(Mean(outputs, o) * 4.0 + 50.0))];
        Assert.Equal(expected, new Forecaster(members, scaler, options).Forecast(new TimeSeries(y)));
    }

    [Fact]
    public void Generate_FeedsTheAverageBackToEveryMember()
    {
        const int n = 30, steps = 12, lag = 4;
        float[] history = Wave(n);
        var scaler = new StandardScaler([49.0], [7.0]);
        var options = new ForecastOptions(1, features: FeatureSpec.Parse("value,lag4"));
        RecurrentNetwork<float>[] members = Members(3, 2, 1);
        var forecaster = new Forecaster(members, scaler, options);
        Assert.True(forecaster.CanGenerate);

        var y = new List<float>(history);
        var states = members.Select(m => m.CreateState()).ToArray();
        var outputs = new float[3][];
        for (int k = 0; k < 3; k++) outputs[k] = new float[1];
        for (int t = lag - 1; t < n; t++)
            for (int k = 0; k < 3; k++) members[k].Step(Row(y, 49, 7, t, 1, lag), outputs[k], states[k]);
        var expected = new float[steps];
        for (int s = 0; s < steps; s++)
        {
            expected[s] = (float)(Mean(outputs, 0) * 7.0 + 49.0);
            y.Add(expected[s]); // the mean, not a member's own prediction, is y[t] of the next row for every member
            for (int k = 0; k < 3; k++) members[k].Step(Row(y, 49, 7, n + s, 1, lag), outputs[k], states[k]);
        }

        var actual = new float[steps];
        forecaster.Generate(history, steps, actual);
        Assert.Equal(expected, actual);
        Assert.Equal(expected, forecaster.Generate(new TimeSeries(history), steps));
        Assert.Equal(expected[0], forecaster.Forecast(new TimeSeries(history))[0]);
    }

    [Fact]
    public void AListOfOne_IsTheSingleNetworkForecasterBitForBit()
    {
        float[] y = Wave(60);
        var scaler = new StandardScaler([51.0], [6.0]);
        var options = new ForecastOptions(1, features: FeatureSpec.Parse("value,lag24,day"));
        RecurrentNetwork<float> net = Members(1, options.InputSize(1), 1)[0];
        var single = new Forecaster(net, scaler, options);
        var listOfOne = new Forecaster([net], scaler, options);
        Assert.Equal(1, single.MemberCount);
        Assert.Equal(1, listOfOne.MemberCount);

        // And both equal the plain network stepped by hand over the rows (features 'value,lag24,day': 4 inputs).
        NetworkState<float> state = net.CreateState();
        var output = new float[1];
        for (int t = 23; t < 60; t++)
        {
            double phase = 2 * Math.PI * (t % 24) / 24;
            net.Step([(float)((y[t] - 51.0) / 6.0), (float)((y[t + 1 - 24] - 51.0) / 6.0), (float)Math.Sin(phase), (float)Math.Cos(phase)], output, state);
        }
        float expected = (float)(output[0] * 6.0 + 51.0);
        Assert.Equal(expected, single.Forecast(new TimeSeries(y))[0]);
        Assert.Equal(expected, listOfOne.Forecast(new TimeSeries(y))[0]);
        float[] a = single.Generate(new TimeSeries(y), 30), b = listOfOne.Generate(new TimeSeries(y), 30);
        Assert.Equal(a.Select(BitConverter.SingleToInt32Bits), b.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void AnEnsembleSavedAndLoaded_ForecastsTheSame()
    {
        float[] y = Wave(80);
        var options = new ForecastOptions(24, features: FeatureSpec.Parse("value,lag48"));
        var info = new ForecastingInfo { Scaler = new StandardScaler([50.0], [7.5]), Options = options, ColumnNames = ["load"] };
        RecurrentNetwork<float>[] members = Members(3, 2, 1);
        var ms = new MemoryStream();
        ModelFile.Save<float>(ms, members, info);
        ms.Position = 0;
        LoadedModel loaded = ModelFile.Load(ms);
        ForecastingInfo back = loaded.Forecasting!;
        float[] before = new Forecaster(members, info.Scaler, options).Forecast(new TimeSeries(y));
        float[] after = new Forecaster(loaded.GetMembers<float>(), back.Scaler, back.Options).Forecast(new TimeSeries(y));
        Assert.Equal(before, after);
        // Member 0 alone forecasts something else: the file's model is the ensemble.
        Assert.NotEqual(before, new Forecaster(loaded.GetNetwork<float>(), back.Scaler, back.Options).Forecast(new TimeSeries(y)));
    }

    [Fact]
    public void BadEnsembles_ThrowNamingTheMember()
    {
        var scaler = new StandardScaler([0.0], [1.0]);
        var options = new ForecastOptions(1, features: FeatureSpec.Parse("value,lag3"));
        Assert.Contains("no members", Assert.Throws<ArgumentException>(() => new Forecaster(Array.Empty<RecurrentNetwork<float>>(), scaler, options)).Message);
        Assert.Throws<ArgumentNullException>(() => new Forecaster((IReadOnlyList<RecurrentNetwork<float>>)null!, scaler, options));
        RecurrentNetwork<float>[] ok = Members(2, 2, 1);
        Assert.Contains("Member 1 of the ensemble is null", Assert.Throws<ArgumentException>(() => new Forecaster([ok[0], null!], scaler, options)).Message);
        RecurrentNetwork<float> oneInput = Members(1, 1, 1)[0], twoOutputs = Members(1, 2, 2)[0];
        var e = Assert.Throws<ArgumentException>(() => new Forecaster([ok[0], ok[1], oneInput], scaler, options));
        Assert.StartsWith("Member 2 reads 1 input(s) per step, but the features 'value,lag3'", e.Message);
        Assert.Equal("members", e.ParamName);
        Assert.StartsWith("Member 1 writes 2 output(s) per step", Assert.Throws<ArgumentException>(() => new Forecaster([ok[0], twoOutputs], scaler, options)).Message);
        // A single network keeps its message and parameter name.
        e = Assert.Throws<ArgumentException>(() => new Forecaster(oneInput, scaler, options));
        Assert.StartsWith("The network reads 1 input(s)", e.Message);
        Assert.Equal("network", e.ParamName);
    }

    [Fact]
    public void EnsembleAverage_IsTheMeanInMemberOrder_InPlaceToo()
    {
        float[][] members = [[1f, -2f, 0.1f], [2f, 4f, 0.2f], [4f, 1f, 0.7f]];
        float[] expected = [.. Enumerable.Range(0, 3).Select(i => Mean(members, i))];
        Assert.Equal([7f / 3, 1f, (float)((0.1f + (double)0.2f + 0.7f) / 3)], expected);

        var fromList = new float[3];
        EnsembleAverage.Mean(members, fromList);
        Assert.Equal(expected, fromList);
        var fromStacked = new float[4];
        fromStacked[3] = 99f;
        float[] stacked = [.. members.SelectMany(m => m)];
        EnsembleAverage.Mean(stacked, 3, fromStacked);
        Assert.Equal([.. expected, 99f], fromStacked); // writes n values, leaves the rest
        EnsembleAverage.Mean(stacked, 3, stacked); // in place over member 0's block
        Assert.Equal(expected, stacked[..3]);
        float[][] copy = [.. members.Select(m => (float[])m.Clone())];
        EnsembleAverage.Mean(copy, copy[0]);
        Assert.Equal(expected, copy[0]);
        // One member: its values bit for bit.
        float[] one = [0.1f, float.Epsilon, -3.3e38f];
        var same = new float[3];
        EnsembleAverage.Mean(one, 1, same);
        Assert.Equal(one, same);
    }

    [Fact]
    public void EnsembleAverage_BadInput_ThrowsSayingWhat()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EnsembleAverage.Mean(new float[4], 0, new float[4]));
        Assert.Contains("not 3 equal blocks", Assert.Throws<ArgumentException>(() => EnsembleAverage.Mean(new float[4], 3, new float[4])).Message);
        Assert.Throws<ArgumentException>(() => EnsembleAverage.Mean(new float[6], 2, new float[2]));
        Assert.Contains("no members", Assert.Throws<ArgumentException>(() => EnsembleAverage.Mean(Array.Empty<float[]>(), new float[1])).Message);
        Assert.Contains("Member 2 has 2 predictions, member 0 has 3", Assert.Throws<ArgumentException>(() => EnsembleAverage.Mean([new float[3], new float[3], new float[2]], new float[3])).Message);
        Assert.Contains("Member 1's predictions are null", Assert.Throws<ArgumentException>(() => EnsembleAverage.Mean([new float[3], null!], new float[3])).Message);
        Assert.Throws<ArgumentException>(() => EnsembleAverage.Mean([new float[3], new float[3]], new float[2]));
    }
}

[Collection(AllocationCollection.Name)]
public class EnsembleForecasterAllocationTests
{
    [Fact]
    public void EnsembleForecastAndGenerate_AllocateNothingAfterConstruction()
    {
        float[] history = Enumerable.Range(0, 300).Select(t => (float)Math.Sin(t * 0.26)).ToArray();
        var options = new ForecastOptions(1, features: FeatureSpec.Parse("value,lag24,day,week"));
        var members = new RecurrentNetwork<float>[3];
        for (int k = 0; k < 3; k++) members[k] = new RecurrentNetwork<float>(NetworkArchitecture.Uniform(CellType.Lstm, options.InputSize(1), 9, 2, 1), seed: (ulong)k + 1);
        var forecaster = new Forecaster(members, new StandardScaler([0.0], [1.0]), options);
        var state = (forecaster, history, one: new float[1], many: new float[200]);
        AllocationTests.AssertNoAllocation(state, static s =>
        {
            s.forecaster.Forecast(s.history, s.one);
            s.forecaster.Generate(s.history, 200, s.many);
        }, "Forecaster (3 members).Forecast + Generate(200 steps)");
    }
}
