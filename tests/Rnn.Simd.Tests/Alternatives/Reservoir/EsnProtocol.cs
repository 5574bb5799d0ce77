using Rnn.Simd.Alternatives.Reservoir;
using Rnn.Simd.Cli.Train;
using Rnn.Simd.Network;
using Rnn.Simd.Training;

namespace Rnn.Simd.Tests.Alternatives.Reservoir;

/// <summary>
/// The study authors' public ESN forecasting example on the ACEA Rome load (FilippoMB,
/// Time-series-classification-and-clustering-with-Reservoir-Computing, notebook "forecasting", with
/// reservoir_computing.utils.make_forecasting_dataset and modules.RC_forecaster), re-done with this library:
/// hourly means of 6 ten-minute values, the first 3000 hours; n_te = ceil(0.1·3000) = 300 test hours at the end, the
/// first 2700 for training; input u(t) = load(t), target load(t + 24), inside each part (Xtr = tr[:-24], Ytr = tr[24:],
/// Xte = te[:-24], Yte = te[24:]: 2676 training pairs, 276 test pairs); z-scored with the mean and population std of
/// Xtr; a constant input column 1 (here: the reservoir bias with the same ±input_scaling draw); the reservoir run from
/// a zero state, the first n_drop = 10 states dropped, a ridge readout with an unpenalised intercept (scikit-learn
/// Ridge); the test reservoir run again from zero over Xte, its first 10 states dropped, the 266 predictions rescaled
/// and scored by MSE against Yte[10:] in original units. Their stored result: 22.01 (with PCA to 75 dimensions).
/// </summary>
internal static class EsnProtocol
{
    public const int Hours = 3000, Horizon = 24, Drop = 10;
    public const double AuthorsTestMse = 22.01;

    /// <summary>The first 3000 hourly means of the embedded 10-minute series (the same file as ../shared/data).</summary>
    public static double[] LoadHours()
    {
        ReadOnlySpan<float> hourly = SeriesSource.LoadEmbedded(6).Series.Values;
        var h = new double[Hours];
        for (int i = 0; i < Hours; i++) h[i] = hourly[i];
        return h;
    }

    public sealed record Split(double[] Series, int TrainEnd, int TestStart, double Mean, double Std)
    {
        public double Scale(double v) => (v - Mean) / Std;
        public double Unscale(double v) => v * Std + Mean;
    }

    public static Split MakeSplit(double[] series)
    {
        int nTe = (int)Math.Ceiling(0.1 * series.Length), nTr = series.Length - nTe;
        int trainPairs = nTr - Horizon;
        double mean = 0;
        for (int t = 0; t < trainPairs; t++) mean += series[t];
        mean /= trainPairs;
        double variance = 0;
        for (int t = 0; t < trainPairs; t++) variance += (series[t] - mean) * (series[t] - mean);
        double std = Math.Sqrt(variance / trainPairs); // StandardScaler: population std
        return new Split(series, nTr, nTr, mean, std);
    }

    /// <summary>Pairs (u(t), load(t + 24)) for t in [from, to), scaled.</summary>
    public static SequenceData<double> Pairs(Split s, int from, int to)
    {
        var x = new double[to - from];
        var y = new double[to - from];
        for (int t = from; t < to; t++)
        {
            x[t - from] = s.Scale(s.Series[t]);
            y[t - from] = s.Scale(s.Series[t + Horizon]);
        }
        return new SequenceData<double>(x, y, 1, 1);
    }

    /// <summary>Trains on all 2676 training pairs (λ fixed, or selected on <paramref name="validationPairs"/> held out
    /// at the end of them) and returns the network and the λ used.</summary>
    public static (RecurrentNetwork<double> Net, double Lambda) Train(Split s, EsnOptions options, int validationPairs = 0)
    {
        int trainPairs = s.TrainEnd - Horizon;
        double lambda = options.Ridge;
        if (validationPairs > 0)
        {
            RecurrentNetwork<double> probe = EchoStateNetwork.CreateNetwork<double>(options, 1, 1);
            var selector = new EsnTrainer<double>(probe, options);
            selector.Fit(Pairs(s, 0, trainPairs - validationPairs), Pairs(s, trainPairs - validationPairs, trainPairs));
            lambda = selector.SelectedRidge;
        }
        EsnOptions final = options with { Ridge = lambda, RidgeCandidates = null };
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(final, 1, 1);
        new EsnTrainer<double>(net, final).Fit(Pairs(s, 0, trainPairs));
        return (net, lambda);
    }

    /// <summary>Validation MSE (scaled units) of options on the last <paramref name="validationPairs"/> training pairs,
    /// the readout fitted on the ones before (state carried on), λ selected among the candidates.</summary>
    public static (double Mse, double Lambda) Validate(Split s, EsnOptions options, int validationPairs)
    {
        int trainPairs = s.TrainEnd - Horizon;
        RecurrentNetwork<double> net = EchoStateNetwork.CreateNetwork<double>(options, 1, 1);
        var trainer = new EsnTrainer<double>(net, options);
        TrainingResult r = trainer.Fit(Pairs(s, 0, trainPairs - validationPairs), Pairs(s, trainPairs - validationPairs, trainPairs));
        return (r.BestLoss, trainer.SelectedRidge);
    }

    /// <summary>The authors' scoring: the reservoir restarted from zero over Xte, the first 10 outputs dropped, MSE in
    /// original units against Yte[10:] (266 hours).</summary>
    public static double TestMseColdStart(Split s, RecurrentNetwork<double> net)
    {
        NetworkState<double> state = net.CreateState();
        var y = new double[1];
        double sse = 0;
        int n = 0;
        for (int t = s.TestStart; t < s.Series.Length - Horizon; t++)
        {
            net.Step([s.Scale(s.Series[t])], y, state);
            if (t - s.TestStart < Drop) continue;
            double e = s.Unscale(y[0]) - s.Series[t + Horizon];
            sse += e * e;
            n++;
        }
        Assert.Equal(276 - Drop, n);
        return sse / n;
    }

    /// <summary>The same 266 target hours, the reservoir run continuously over every earlier hour (only past loads
    /// enter, so nothing leaks) instead of restarting at the test part.</summary>
    public static double TestMseWarm(Split s, RecurrentNetwork<double> net)
    {
        NetworkState<double> state = net.CreateState();
        var y = new double[1];
        double sse = 0;
        int n = 0;
        for (int t = 0; t < s.Series.Length - Horizon; t++)
        {
            net.Step([s.Scale(s.Series[t])], y, state);
            if (t < s.TestStart + Drop) continue;
            double e = s.Unscale(y[0]) - s.Series[t + Horizon];
            sse += e * e;
            n++;
        }
        Assert.Equal(276 - Drop, n);
        return sse / n;
    }

    /// <summary>The authors' configuration: 900 units, ρ 0.95, connectivity 0.25, input scaling 0.1 (also on the
    /// constant input, our bias), ±scale input weights, no leak, ridge 1.0, 10 dropped states. No PCA.</summary>
    public static EsnOptions AuthorsOptions(ulong seed) => new()
    {
        Units = 900, SpectralRadius = 0.95, Density = 0.25, InputScaling = 0.1, BiasScaling = 0.1, BinaryInputWeights = true,
        LeakRate = 1, Ridge = 1.0, Washout = Drop, Seed = seed,
    };
}
