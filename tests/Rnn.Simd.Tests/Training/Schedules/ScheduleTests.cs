using FsCheck.Xunit;
using Rnn.Simd.Training.Schedules;

namespace Rnn.Simd.Tests.Training.Schedules;

/// <summary>Learning-rate schedules of chapter section 2.3 against their formulas, and the step-decay patience rule.</summary>
public class ScheduleTests
{
    [Fact]
    public void Constant_NeverChanges()
    {
        var s = new ConstantSchedule(0.05);
        for (int k = 0; k < 20; k++) Assert.Equal(0.05, s.EndEpoch(1.0 / (k + 1)));
        Assert.Equal(20, s.Epoch);
    }

    [Property(MaxTest = 50, Replay = "(112358132,1345589)")]
    public void Exponential_And_Fractional_MatchTheirFormulas(int seed)
    {
        var rng = new Rng((uint)seed);
        double eta0 = rng.NextUniform(1e-4, 1), alpha = rng.NextUniform(0, 0.5);
        var exp = new ExponentialDecaySchedule(eta0, alpha);
        var frac = new FractionalDecaySchedule(eta0, alpha);
        Assert.Equal(eta0, exp.CurrentRate);
        Assert.Equal(eta0, frac.CurrentRate);
        for (int k = 1; k <= 40; k++)
        {
            // η = η0 e^(-αk) and η = η0 / (1 + αk), k the epoch index.
            Assert.Equal(eta0 * Math.Exp(-alpha * k), exp.EndEpoch(), 1e-15);
            Assert.Equal(eta0 / (1 + alpha * k), frac.EndEpoch(), 1e-15);
            Assert.Equal(exp.RateAt(k), exp.CurrentRate);
            Assert.Equal(k, frac.Epoch);
        }
        exp.Reset();
        Assert.Equal(0, exp.Epoch);
        Assert.Equal(eta0, exp.CurrentRate);
    }

    [Fact]
    public void FixedStepDecay_MultipliesEveryInterval()
    {
        var s = new FixedStepDecaySchedule(0.8, 0.5, 3);
        double[] expected = [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1];
        Assert.Equal(expected[0], s.CurrentRate);
        for (int k = 1; k < expected.Length; k++) Assert.Equal(expected[k], s.EndEpoch(), 1e-15);
    }

    [Fact]
    public void StepDecayOnPlateau_FiresExactlyAfterPatienceEpochsWithoutDecrease()
    {
        var s = new StepDecayOnPlateau(1.0, factor: 0.5, patience: 3);
        // Losses per epoch, and the rate expected for the following epoch.
        (double Loss, double Next)[] script =
        [
            (10, 1.0),   // epoch 0: first loss is a decrease from +inf
            (9, 1.0),    // decrease
            (9, 1.0),    // equal is not a decrease: 1 epoch without
            (9.5, 1.0),  // 2
            (9.1, 0.5),  // 3 = patience: fire, counter restarts
            (9.2, 0.5),  // 1 (best is still 9)
            (8.9, 0.5),  // decrease: counter restarts
            (8.95, 0.5), // 1
            (8.95, 0.5), // 2
            (8.95, 0.25),// 3: fire again
            (9, 0.25),   // 1
            (9, 0.25),   // 2
            (9, 0.125),  // 3: fire
        ];
        for (int k = 0; k < script.Length; k++)
        {
            Assert.Equal(script[k].Next, s.EndEpoch(script[k].Loss));
            Assert.Equal(k + 1, s.Epoch);
        }
        Assert.Equal(3, s.Reductions);
        Assert.Equal(8.9, s.BestLoss);
        s.Reset();
        Assert.Equal(1.0, s.CurrentRate);
        Assert.Equal(double.PositiveInfinity, s.BestLoss);
        Assert.Equal(0, s.Reductions);
    }

    [Property(MaxTest = 100, Replay = "(998877665,4433221)")]
    public void StepDecayOnPlateau_AgreesWithAnIndependentCounter(int seed, byte patienceRaw)
    {
        int patience = 1 + patienceRaw % 6;
        var rng = new Rng((uint)seed);
        var s = new StepDecayOnPlateau(0.1, factor: 0.7, patience: patience, minDecrease: 0.01, minRate: 0.01);
        double best = double.PositiveInfinity, rate = 0.1;
        int bad = 0;
        for (int k = 0; k < 80; k++)
        {
            double loss = 1 + rng.NextUniform(-0.2, 0.2) - 0.002 * k;
            if (loss < best - 0.01) { best = loss; bad = 0; }
            else if (++bad == patience) { bad = 0; rate = Math.Max(rate * 0.7, 0.01); }
            Assert.Equal(rate, s.EndEpoch(loss));
            Assert.Equal(bad, s.EpochsWithoutDecrease);
        }
    }

    [Fact]
    public void StepDecayOnPlateau_RejectsNaNLoss_AndBadArguments()
    {
        var s = new StepDecayOnPlateau(0.1);
        Assert.Throws<ArgumentException>(() => s.EndEpoch(double.NaN));
        Assert.Throws<ArgumentException>(() => s.EndEpoch());
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecayOnPlateau(0.1, factor: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecayOnPlateau(0.1, patience: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialDecaySchedule(-1, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FractionalDecaySchedule(0.1, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FixedStepDecaySchedule(0.1, 0.5, 0));
    }
}
