using Rnn.Simd.Alternatives.Kalman;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;
using Xunit.Abstractions;

namespace Rnn.Simd.Tests.Alternatives.Kalman;

/// <summary>
/// On a small non-linear task the global EKF reaches a given loss in fewer passes over the data than SGD with
/// truncated BPTT (the library's <see cref="Trainer{T}"/>, <see cref="OptimizerKind.Sgd"/>, its best learning rate of
/// a grid), from the same initial weights: the figure quoted in the README.
/// </summary>
public class EkfConvergenceTests(ITestOutputHelper output)
{
    // Task: predict the next value of a sum of two sines from the current one (the network must keep the phase).
    private const int Hidden = 6, TrainSteps = 400, ValidationSteps = 200, Seed = 3;
    private const double Target = 1e-3;

    private static (SequenceData<double> Train, SequenceData<double> Validation) Task()
    {
        static double F(int t) => 0.6 * Math.Sin(0.21 * t) + 0.3 * Math.Sin(0.63 * t + 1);
        SequenceData<double> Part(int start, int steps)
        {
            var x = new double[steps];
            var y = new double[steps];
            for (int t = 0; t < steps; t++) { x[t] = F(start + t); y[t] = F(start + t + 1); }
            return new SequenceData<double>(x, y, 1, 1);
        }
        return (Part(0, TrainSteps), Part(TrainSteps, ValidationSteps));
    }

    private static RecurrentNetwork<double> Network() => new(new NetworkArchitecture(CellType.Elman, 1, [Hidden], 1), Seed);

    private static int EpochsTo(IReadOnlyList<EpochProgress> history, double target)
    {
        foreach (EpochProgress p in history)
        {
            if (p.ValidationLoss < target) return p.Epoch;
        }
        return int.MaxValue;
    }

    /// <summary>Epoch at which the validation MSE first falls below the target (int.MaxValue if never).</summary>
    private static int EpochsToTarget(IReadOnlyList<EpochProgress> history)
    {
        foreach (EpochProgress p in history)
        {
            if (p.ValidationLoss < Target) return p.Epoch;
        }
        return int.MaxValue;
    }

    /// <summary>The book's settings for a short series (400 steps an epoch): R from 10 to 1, P0 = 10, Q from 1e-3 to 1e-6.</summary>
    private static readonly EkfOptions Bold = new()
    {
        Variant = EkfVariant.Global,
        MeasurementNoise = 10,
        FinalMeasurementNoise = 1,
        InitialCovariance = 10,
        ProcessNoise = 1e-3,
        FinalProcessNoise = 1e-6,
        Epochs = 10,
        Patience = 0,
    };

    [Fact]
    public void GlobalEkf_ReachesTheTargetLossInFewerPassesThanSgd()
    {
        (SequenceData<double> train, SequenceData<double> validation) = Task();
        const int ekfEpochs = 10, sgdEpochs = 100;
        var ekf = new EkfTrainer<double>(Network(), Bold);
        TrainingResult ekfResult = ekf.Fit(train, validation);
        int ekfPasses = EpochsToTarget(ekfResult.History);
        output.WriteLine($"  GEKF epochs to 1e-2: {EpochsTo(ekfResult.History, 1e-2)}, 1e-4: {EpochsTo(ekfResult.History, 1e-4)}");
        output.WriteLine($"GEKF: n = {ekf.StateSize}, epochs to validation MSE < {Target}: {ekfPasses}; best {ekfResult.BestLoss:E3} at epoch {ekfResult.BestEpoch}, {ekfResult.Elapsed.TotalSeconds:F2} s");

        int sgdPasses = int.MaxValue;
        double sgdBest = double.PositiveInfinity;
        foreach (double rate in new[] { 0.01, 0.03, 0.1, 0.3 })
        {
            var sgd = new Trainer<double>(Network(), new TrainerOptions
            {
                Optimizer = OptimizerKind.Sgd,
                LearningRate = rate,
                BatchSize = 1,
                Bptt = BpttSchedule.Default(10),
                ClipNorm = 5,
                Epochs = sgdEpochs,
                Patience = 0,
            });
            TrainingResult r;
            try { r = sgd.Fit(train, validation); }
            catch (TrainingDivergedException) { output.WriteLine($"SGD η = {rate}: diverged"); continue; }
            int passes = EpochsToTarget(r.History);
            output.WriteLine($"  SGD η = {rate}: epochs to 1e-2: {EpochsTo(r.History, 1e-2)}, 1e-4: {EpochsTo(r.History, 1e-4)}");
            output.WriteLine($"SGD η = {rate}: epochs to target {(passes == int.MaxValue ? $"> {sgdEpochs}" : passes)}; best {r.BestLoss:E3} at epoch {r.BestEpoch}");
            sgdPasses = Math.Min(sgdPasses, passes);
            sgdBest = Math.Min(sgdBest, r.BestLoss);
        }
        Assert.True(ekfPasses <= ekfEpochs, $"GEKF did not reach {Target} in {ekfEpochs} epochs (best {ekfResult.BestLoss})");
        Assert.True(ekfPasses < sgdPasses, $"GEKF took {ekfPasses} passes, SGD {sgdPasses}");
    }
}
