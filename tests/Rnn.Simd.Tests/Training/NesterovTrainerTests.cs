using System.Runtime.InteropServices;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using Rnn.Simd.Tests.Reference;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Training;

/// <summary>
/// The trainer with Nesterov momentum (issue #15, section 4): validation, early stopping, the kept best weights and
/// the saved model use the iterate W_k of chapter Eq. 2.5, not the look-ahead point Θ = W + μV the optimiser holds
/// (unless <see cref="TrainerOptions.NesterovEvaluation"/> asks for Θ). Checked against Eq. 2.5 iterated by hand in
/// double with gradients and validation losses of the independent scalar reference; checkpoints keep Θ and V and
/// resume bitwise; checkpoints written before the option resume only as what they were.
/// </summary>
public class NesterovTrainerTests
{
    private const double Mu = 0.9, Eta = 0.05;
    private const int Steps = 24, ValidationSteps = 12, Epochs = 8;

    private static readonly NetworkArchitecture Tiny = new(CellType.Elman, 1, [3], 1);

    /// <summary>x_t = sin(0.5 t) + 0.3 sin(1.3 t), the target x_(t+1); steps start .. start + steps - 1.</summary>
    private static SequenceData<double> Series(int start, int steps)
    {
        static double F(int t) => Math.Sin(0.5 * t) + 0.3 * Math.Sin(1.3 * t);
        var x = new double[steps];
        var y = new double[steps];
        for (int i = 0; i < steps; i++) { x[i] = F(start + i); y[i] = F(start + i + 1); }
        return new SequenceData<double>(x, y, 1, 1);
    }

    /// <summary>The reference network of a flat parameter vector.</summary>
    private static RecurrentReference Reference(double[] parameters)
    {
        var net = new RecurrentNetwork<double>(Tiny, 0);
        parameters.CopyTo(net.Parameters);
        net.MarkParametersChanged();
        return RecurrentReference.FromNetwork(net);
    }

    /// <summary>MSE of the validation series after a batch-1 state run over the training series, by the reference.</summary>
    private static double ValidationMse(double[] parameters, SequenceData<double> train, SequenceData<double> validation)
    {
        RecurrentReference r = Reference(parameters);
        var s = new RecurrentReference.State(r, 1);
        r.Forward(train.Inputs, 1, s);
        double[] y = r.Forward(validation.Inputs, 1, s);
        double sum = 0;
        for (int i = 0; i < y.Length; i++) sum += (y[i] - validation.Targets[i]) * (y[i] - validation.Targets[i]);
        return sum / y.Length;
    }

    private static double MaxAbsDifference(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    public static TheoryData<NesterovEvaluationPoint> Points() => new() { NesterovEvaluationPoint.Iterate, NesterovEvaluationPoint.LookAhead };

    /// <summary>
    /// B = 1 and BPTT(24, 24) over a 24-step series: an epoch is one window, so one Nesterov step, from a zero state.
    /// Eq. 2.5 by hand in double: V_k = μ V_(k-1) - η ∇L(W_k + μ V_(k-1)), W_(k+1) = W_k + V_k (μ = 0.9, η = 0.05),
    /// with the gradient of the reference's full BPTT. Every epoch's reported validation loss is the reference's MSE at
    /// W_k (Iterate, the default) or at W_k + μ V_(k-1) (LookAhead), the best flags follow those losses, and the network
    /// at the end, its model file and a loaded copy hold that point of the best epoch (to 1e-10); the two points differ
    /// by more than 1e-3 there, so the test tells them apart.
    /// </summary>
    [Theory]
    [MemberData(nameof(Points))]
    public void Fit_EvaluatesKeepsAndSavesTheChosenPoint_OfEq25ByHand(NesterovEvaluationPoint point)
    {
        SequenceData<double> train = Series(0, Steps), validation = Series(Steps, ValidationSteps);
        var options = new TrainerOptions
        {
            BatchSize = 1, Bptt = BpttSchedule.Create(Steps, Steps), Optimizer = OptimizerKind.Nesterov, LearningRate = Eta,
            Epochs = Epochs, Patience = 0, NesterovEvaluation = point,
        };
        var net = new RecurrentNetwork<double>(Tiny, 41);
        double[] w = net.Parameters.ToArray(), v = new double[w.Length];
        var trainer = new Trainer<double>(net, options);
        Assert.Equal(Mu, Assert.IsType<Nesterov<double>>(trainer.Optimizer).Mu);
        TrainingResult result = trainer.Fit(train, validation);

        double best = double.PositiveInfinity;
        double[] kept = w, keptOther = w;
        var layout = new ParameterLayout(Tiny);
        for (int k = 0; k < Epochs; k++)
        {
            var look = new double[w.Length];
            for (int i = 0; i < w.Length; i++) look[i] = w[i] + Mu * v[i];
            double[] g = Reference(look).TruncatedGradient(train.Inputs, train.Targets, 1, Steps, Steps).ToFlat(layout);
            for (int i = 0; i < w.Length; i++)
            {
                v[i] = Mu * v[i] - Eta * g[i];
                w[i] += v[i];
            }
            // After epoch k + 1 the optimiser holds Θ = W + μV (the next look-ahead point).
            var theta = new double[w.Length];
            for (int i = 0; i < w.Length; i++) theta[i] = w[i] + Mu * v[i];
            double[] evaluated = point == NesterovEvaluationPoint.Iterate ? (double[])w.Clone() : theta;
            double loss = ValidationMse(evaluated, train, validation);
            EpochProgress p = result.History[k];
            Assert.True(RelativeError(p.ValidationLoss, loss, 1e-12) < 1e-10, $"epoch {k + 1}: validation loss {p.ValidationLoss:R}, Eq. 2.5 by hand {loss:R}");
            Assert.Equal(loss < best, p.IsBest);
            if (loss < best)
            {
                best = loss;
                kept = evaluated;
                keptOther = point == NesterovEvaluationPoint.Iterate ? theta : (double[])w.Clone();
            }
        }
        Assert.True(MaxAbsDifference(kept, keptOther) > 1e-3, "W and Θ of the best epoch are too close for the test to tell them apart");
        AssertClose(kept, net.Parameters.ToArray(), 1e-10, 1e-8, $"{point}: the network after Fit vs. Eq. 2.5 by hand", layout);

        using var dir = new Persistence.PersistenceTestKit.TempDir();
        string path = dir.File("nesterov.rnn");
        ModelFile.Save(path, net);
        double[] saved = ModelFile.Load(path).GetNetwork<double>().Parameters.ToArray();
        AssertClose(kept, saved, 1e-10, 1e-8, $"{point}: the saved model vs. Eq. 2.5 by hand", layout);
    }

    [Fact]
    public void TheDefault_IsTheIterateOfEq25()
    {
        Assert.Equal(NesterovEvaluationPoint.Iterate, new TrainerOptions().NesterovEvaluation);
        var bad = new TrainerOptions { NesterovEvaluation = (NesterovEvaluationPoint)7 };
        Assert.Equal(nameof(TrainerOptions.NesterovEvaluation), Assert.Throws<ArgumentOutOfRangeException>(bad.Validate).ParamName);
    }

    /// <summary>Float options of the resume tests: LSTM, 4 streams, BPTT(10, 5), dropout, L2 and clipping.</summary>
    private static TrainerOptions ResumeOptions(NesterovEvaluationPoint point = NesterovEvaluationPoint.Iterate) => new()
    {
        BatchSize = 4, Bptt = BpttSchedule.Create(10, 5), Optimizer = OptimizerKind.Nesterov, LearningRate = 0.02, Epochs = 6, Patience = 0,
        Dropout = new DropoutOptions(Input: 0.1, Recurrent: 0.1, Seed: 9), Regularization = RegularizationOptions.Ridge(1e-4), ClipNorm = 1,
        NesterovEvaluation = point,
    };

    private static readonly NetworkArchitecture Small = new(CellType.Lstm, 1, [6], 1);

    private static (SequenceData<float> Train, SequenceData<float> Validation) FloatData()
    {
        static SequenceData<float> F(SequenceData<double> d) => new(Convert<float>(d.Inputs), Convert<float>(d.Targets), 1, 1);
        return (F(Series(0, 4 * 5 * 6)), F(Series(120, 40)));
    }

    /// <summary>
    /// At every epoch boundary (in an EpochCompleted handler) the network holds W = Θ - μV while the captured state holds
    /// Θ (its Parameters, which differ) and V: Θ - μV of the state is bitwise the network's weights. Resuming from the
    /// state of epoch 3, in memory and through a checkpoint file, gives bitwise the uninterrupted run's weights and
    /// history.
    /// </summary>
    [Fact]
    public void Resume_FromTheLookAheadInTheState_IsBitwiseTheUninterruptedRun()
    {
        var (train, validation) = FloatData();
        var straightNet = new RecurrentNetwork<float>(Small, 5);
        var straightTrainer = new Trainer<float>(straightNet, ResumeOptions());
        var nesterov = Assert.IsType<Nesterov<float>>(straightTrainer.Optimizer);
        int checkedEpochs = 0;
        straightTrainer.EpochCompleted += p =>
        {
            TrainerState<float> s = straightTrainer.CaptureState();
            Assert.False(s.Parameters.Span.SequenceEqual(straightNet.Parameters), $"epoch {p.Epoch}: the state holds the evaluated weights, not Θ");
            var w = new float[s.Parameters.Length];
            nesterov.CopyWeights(s.Parameters.Span, w);
            Assert.True(MemoryMarshal.AsBytes(w.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(straightNet.Parameters)), $"epoch {p.Epoch}: the network does not hold Θ - μV");
            Assert.Equal(straightTrainer.Evaluate(train, validation), p.ValidationLoss);
            checkedEpochs++;
        };
        TrainingResult straight = straightTrainer.Fit(train, validation);
        Assert.Equal(6, checkedEpochs);

        TrainerState? state = null;
        var first = new Trainer<float>(new RecurrentNetwork<float>(Small, 5), ResumeOptions());
        using var cts = new CancellationTokenSource();
        first.EpochCompleted += p =>
        {
            if (p.Epoch != 3) return;
            state = first.CaptureState();
            cts.Cancel();
        };
        Assert.True(first.Fit(train, validation, cts.Token).Cancelled);

        using var dir = new Persistence.PersistenceTestKit.TempDir();
        string path = dir.File("nesterov.ckpt");
        new TrainingCheckpoint(state!).Save(path);
        foreach (TrainerState from in new[] { state!, TrainingCheckpoint.Load(path).State })
        {
            var resumedNet = new RecurrentNetwork<float>(Small, 77);
            TrainingResult resumed = new Trainer<float>(resumedNet, ResumeOptions()).Fit(train, validation, from);
            Assert.True(MemoryMarshal.AsBytes(straightNet.Parameters).SequenceEqual(MemoryMarshal.AsBytes(resumedNet.Parameters)), "resumed weights differ");
            Assert.Equal(straight.History.Select(h => (h.TrainLoss, h.ValidationLoss, h.IsBest)), resumed.History.Select(h => (h.TrainLoss, h.ValidationLoss, h.IsBest)));
            Assert.Equal(straight.BestEpoch, resumed.BestEpoch);
        }
    }

    /// <summary>A copy of a state with other options (as a checkpoint written by an earlier version would carry).</summary>
    private static TrainerState<float> WithOptions(TrainerState<float> s, Func<KeyValuePair<string, string>, bool> keep) => new()
    {
        Architecture = s.Architecture, CompletedEpochs = s.CompletedEpochs, BestEpoch = s.BestEpoch, BestLoss = s.BestLoss,
        EpochsSinceBest = s.EpochsSinceBest, Windows = s.Windows, Elapsed = s.Elapsed, History = s.History, Parameters = s.Parameters,
        BestParameters = s.BestParameters, OptimizerName = s.OptimizerName, OptimizerSteps = s.OptimizerSteps,
        OptimizerStateNames = s.OptimizerStateNames, OptimizerStates = s.OptimizerStates, ScheduleType = s.ScheduleType,
        ScheduleEpoch = s.ScheduleEpoch, ScheduleRate = s.ScheduleRate, ScheduleExtra = s.ScheduleExtra, DropoutRngState = s.DropoutRngState,
        Options = s.Options.Where(keep).ToArray(), DataHash = s.DataHash,
    };

    private static TrainerState<float> StateAfter(int epochs, TrainerOptions options, SequenceData<float> train, SequenceData<float> validation)
    {
        TrainerState<float>? state = null;
        var trainer = new Trainer<float>(new RecurrentNetwork<float>(Small, 5), options with { Epochs = epochs });
        trainer.EpochCompleted += p => { if (p.Epoch == epochs) state = trainer.CaptureState(); };
        trainer.Fit(train, validation);
        return state!;
    }

    /// <summary>
    /// A Nesterov checkpoint from before the option (no NesterovEvaluation entry) evaluated the look-ahead point: it
    /// resumes under LookAhead, and under the default Iterate it is refused with what differs. A checkpoint from before
    /// losses were means over the counted targets (no Loss entry) resumes on unweighted data, where both definitions
    /// agree, and is refused on weighted data, whose recorded losses are on the old scale.
    /// </summary>
    [Fact]
    public void CheckpointsFromBeforeTheOptions_ResumeOnlyAsWhatTheyWere()
    {
        var (train, validation) = FloatData();
        TrainerState<float> lookAhead = StateAfter(2, ResumeOptions(NesterovEvaluationPoint.LookAhead), train, validation);
        Assert.Contains(lookAhead.Options, kv => kv.Key == "NesterovEvaluation" && kv.Value == "LookAhead");
        TrainerState<float> old = WithOptions(lookAhead, kv => kv.Key is not ("NesterovEvaluation" or "Loss"));
        TrainingResult r = new Trainer<float>(new RecurrentNetwork<float>(Small, 5), ResumeOptions(NesterovEvaluationPoint.LookAhead)).Fit(train, validation, old);
        Assert.Equal(6, r.EpochsRun);
        var e = Assert.Throws<ArgumentException>(() => new Trainer<float>(new RecurrentNetwork<float>(Small, 5), ResumeOptions()).Fit(train, validation, old));
        Assert.Contains("NesterovEvaluation = LookAhead in the checkpoint, Iterate now", e.Message);

        // Other optimisers carry no NesterovEvaluation entry at all.
        TrainerOptions adam = ResumeOptions() with { Optimizer = OptimizerKind.Adam };
        Assert.DoesNotContain(StateAfter(1, adam, train, validation).Options, kv => kv.Key == "NesterovEvaluation");

        float[] weights = Enumerable.Range(0, train.Steps).Select(i => i % 7 == 0 ? 0f : 1f).ToArray();
        var weighted = new SequenceData<float>(train.Inputs, train.Targets, 1, 1, weights);
        TrainerState<float> masked = WithOptions(StateAfter(2, adam, weighted, validation), kv => kv.Key != "Loss");
        var e2 = Assert.Throws<ArgumentException>(() => new Trainer<float>(new RecurrentNetwork<float>(Small, 5), adam).Fit(weighted, validation, masked));
        Assert.Contains("Loss = WeightedMean (not in the checkpoint)", e2.Message);
    }
}
