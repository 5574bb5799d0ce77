using Rnn.Simd.Alternatives.Evolution;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Training;

namespace Rnn.Simd.Tests.Alternatives.Evolution;

public class RandomSearchTests
{
    [Fact]
    public void Candidates_LieInTheirBoxes_AndTheBestIsTheMinimumOfAllSeen()
    {
        double[] center = [1, -2, 0.5], scale = [0.1, 2, 0];
        var search = new RandomSearch(center, scale, new RandomSearchOptions { PopulationSize = 5, Seed = 8 });
        double bestSeen = double.PositiveInfinity;
        double[] bestX = [];
        var fit = new double[5];
        double sumFirst = 0;
        for (int g = 0; g < 200; g++)
        {
            search.Ask();
            for (int k = 0; k < 5; k++)
            {
                ReadOnlySpan<double> x = search.Candidate(k);
                for (int i = 0; i < 3; i++) Assert.InRange(x[i], center[i] - scale[i], center[i] + scale[i]);
                sumFirst += x[0];
                fit[k] = Math.Abs(x[0] - 1.05) + Math.Abs(x[1] + 1);
                if (fit[k] < bestSeen) { bestSeen = fit[k]; bestX = x.ToArray(); }
            }
            search.Tell(fit);
        }
        Assert.Equal(bestSeen, search.BestFitness);
        Assert.Equal(bestX, search.BestSolution.ToArray());
        Assert.Equal(1000, search.Evaluations);
        // Uniform: the mean of 1000 draws of x_0 is within 4 standard errors (0.1/√3/√1000) of the center.
        Assert.InRange(sumFirst / 1000, 1 - 4 * 0.1 / Math.Sqrt(3000), 1 + 4 * 0.1 / Math.Sqrt(3000));
    }

    [Fact]
    public void Trainer_OneAndTwoThreads_Agree_AndKeepTheBestGuess()
    {
        SequenceData<double> train = CmaEsTrainerTests.SineData<double>(100), validation = CmaEsTrainerTests.SineData<double>(30, 100);
        (double[] w, TrainingResult r) Run(int threads)
        {
            var net = new RecurrentNetwork<double>(NetworkArchitecture.Uniform(CellType.Lstm, 2, 3, 1, 1), 5);
            TrainingResult r = new RandomSearchTrainer<double>(net, new RandomSearchTrainerOptions { MaxGenerations = 6, Threads = threads, Seed = 2 }).Fit(train, validation);
            return (net.Parameters.ToArray(), r);
        }
        var one = Run(1);
        var two = Run(2);
        Assert.Equal(one.w, two.w);
        Assert.Equal(one.r.BestLoss, two.r.BestLoss);
        Assert.Equal(one.r.History.Min(p => p.ValidationLoss), one.r.BestLoss);
        Assert.Equal(96, one.r.Windows);
        Assert.All(one.r.History, p => Assert.True(double.IsNaN(p.LearningRate)));
    }

    [Fact]
    public void Trainer_DrawsEachSliceWithinItsInitialisationBound()
    {
        var net = new RecurrentNetwork<double>(NetworkArchitecture.Uniform(CellType.Gru, 2, 9, 1, 1), 5);
        new RandomSearchTrainer<double>(net, new RandomSearchTrainerOptions { MaxGenerations = 1 }).Fit(CmaEsTrainerTests.SineData<double>(20));
        foreach (ParameterSlice s in net.Layout.Slices)
        {
            double bound = s.Layer >= 0 ? 1 / 3.0 : 1 / 3.0;
            foreach (double v in net.Parameters.Slice(s.Offset, s.Length)) Assert.InRange(v, -bound, bound);
        }
        var scaled = new RecurrentNetwork<double>(NetworkArchitecture.Uniform(CellType.Gru, 2, 9, 1, 1), 5);
        new RandomSearchTrainer<double>(scaled, new RandomSearchTrainerOptions { MaxGenerations = 1, Scale = 5 }).Fit(CmaEsTrainerTests.SineData<double>(20));
        Assert.Contains(scaled.Parameters.ToArray(), v => Math.Abs(v) > 1);
    }

    [Fact]
    public void BadOptions_AreRefusedWithTheOptionNamed()
    {
        var net = new RecurrentNetwork<double>(NetworkArchitecture.Uniform(CellType.Lstm, 2, 3, 1, 1));
        Assert.Equal("PopulationSize", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomSearchTrainer<double>(net, new RandomSearchTrainerOptions { PopulationSize = 1 })).ParamName);
        Assert.Equal("Scale", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomSearchTrainer<double>(net, new RandomSearchTrainerOptions { Scale = 0 })).ParamName);
        Assert.Equal("PopulationSize", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomSearch(new double[2], new double[2], new RandomSearchOptions { PopulationSize = 0 })).ParamName);
        Assert.Throws<ArgumentException>(() => new RandomSearch(new double[2], new double[] { 1, -1 }));
        Assert.Throws<ArgumentException>(() => new RandomSearch(new double[2], new double[3]));
    }
}
