using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Reference;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Training;

/// <summary>
/// Masked targets (issue #15, section 4): a window's loss with target weights is the mean over the targets that count,
/// L = Σ w (y - t)² / Σ w (chapter Eq. 2.2 over the counted targets), with Σ w = 0 giving loss 0 and no gradient. Its
/// gradient is checked against fourth-order central differences of that loss written here over the independent
/// scalar reference, and against the reference's analytic gradient under truncation; a window whose second stream is
/// masked equals the window of the first stream alone; the trainer's epoch loss is the mean over every counted target
/// of the epoch; data whose targets are all masked is refused.
/// </summary>
public class MaskedLossTests
{
    /// <summary>Weights with masked targets (0), fractional and heavier ones: 0 with probability 0.4, else uniform in [0.25, 2).</summary>
    private static double[] MaskWeights(ulong seed, int n)
    {
        double[] u = Uniform(seed, n, 0, 1), w = Uniform(seed + 1, n, 0.25, 2);
        for (int i = 0; i < n; i++) if (u[i] < 0.4) w[i] = 0;
        return w;
    }

    /// <summary>Σ w (y - t)² / Σ w of the reference network's outputs over the whole sequence from a zero state.</summary>
    private static double MaskedLoss(RecurrentNetwork<double> net, double[] x, double[] y, double[] w, int batch)
    {
        var reference = RecurrentReference.FromNetwork(net);
        double[] outputs = reference.Forward(x, batch, new RecurrentReference.State(reference, batch));
        double sum = 0, weight = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double d = outputs[i] - y[i];
            sum += w[i] * d * d;
            weight += w[i];
        }
        return sum / weight;
    }

    /// <summary>
    /// One window over the whole sequence (BPTT(S, S), full BPTT): the engine's gradient of the masked loss equals the
    /// fourth-order central difference (h = 1e-3, truncation error O(h⁴)) of Σ w (y - t)² / Σ w computed here from the
    /// independent scalar forward, for every parameter, to 1e-7 relative (floor 1e-4); and the returned loss is that
    /// loss. The old normaliser (τf·B·O) scales the gradient by Σ w / (τf·B·O) ≈ 0.6 here, far outside the bound.
    /// </summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void MaskedWindow_Gradient_EqualsFiniteDifferencesOfTheMaskedLoss(CellType cell)
    {
        const int batch = 2, steps = 6, inputs = 2, outputs = 2;
        var net = new RecurrentNetwork<double>(Arch(cell, inputs, outputs, Activation.Tanh, 3), 301);
        double[] x = Uniform(302, steps * batch * inputs), y = Uniform(303, steps * batch * outputs), w = MaskWeights(304, steps * batch * outputs);
        Assert.Contains(0.0, w);

        var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(steps, steps));
        net.ZeroGradients();
        double loss = engine.Window(x, y, default, w);
        double[] analytic = net.Gradients.ToArray();
        Assert.Equal(MaskedLoss(net, x, y, w, batch), loss, 1e-13);
        double weightSum = 0;
        foreach (double v in w) weightSum += v;
        Assert.Equal(weightSum, engine.TargetWeightSum, 1e-13);

        const double h = 1e-3;
        var numeric = new double[analytic.Length];
        Span<double> p = net.Parameters;
        for (int i = 0; i < p.Length; i++)
        {
            double original = p[i];
            double J(double at)
            {
                net.Parameters[i] = at;
                net.MarkParametersChanged();
                return MaskedLoss(net, x, y, w, batch);
            }
            numeric[i] = (8 * (J(original + h) - J(original - h)) - (J(original + 2 * h) - J(original - 2 * h))) / (12 * h);
            net.Parameters[i] = original;
            net.MarkParametersChanged();
        }
        AssertClose(numeric, analytic, 1e-7, 1e-4, $"{cell}: masked-loss gradient vs finite differences", net.Layout);
    }

    public static TheoryData<CellType, string> TruncatedCases()
    {
        var data = new TheoryData<CellType, string>();
        foreach (CellType c in AllCells)
            foreach (string mode in new[] { "n,1", "n,n", "2n,n" }) data.Add(c, mode);
        return data;
    }

    /// <summary>
    /// Under truncation (S = 12, n = 3, 2 layers), with one window entirely masked: the engine's gradient equals the
    /// independent reference's analytic gradient of Σ over windows of Σ w (y - t)² / Σ w (to 1e-10) and the library's
    /// finite-difference check of the same objective (to the suite's 1e-6); the window losses equal the reference's.
    /// </summary>
    [Theory]
    [MemberData(nameof(TruncatedCases))]
    public void MaskedTruncatedBptt_EqualsTheReference_AndFiniteDifferences(CellType cell, string mode)
    {
        const int batch = 2, steps = 12, inputs = 3, outputs = 2;
        BpttSchedule schedule = BpttSchedule.Parse(mode, 3);
        var net = new RecurrentNetwork<double>(Arch(cell, inputs, outputs, Activation.Tanh, 4, 3), 311);
        double[] x = Uniform(312, steps * batch * inputs), y = Uniform(313, steps * batch * outputs), w = MaskWeights(314, steps * batch * outputs);
        int tf = schedule.ForwardSteps, perWindow = tf * batch * outputs;
        Array.Clear(w, perWindow, perWindow); // the second window: every target masked

        var engine = new TruncatedBptt<double>(net, batch, schedule);
        net.ZeroGradients();
        var losses = new double[steps / tf];
        for (int k = 0; k < losses.Length; k++)
            losses[k] = engine.Window(x.AsSpan(k * tf * batch * inputs, tf * batch * inputs), y.AsSpan(k * perWindow, perWindow), default, w.AsSpan(k * perWindow, perWindow));
        double[] analytic = net.Gradients.ToArray();

        RecurrentReference.Gradient expected = RecurrentReference.FromNetwork(net).TruncatedGradient(x, y, batch, schedule.BackwardSteps, tf, weights: w);
        Assert.Equal(0.0, losses[1]);
        for (int k = 0; k < losses.Length; k++) Assert.Equal(expected.WindowLosses[k], losses[k], 1e-12);
        AssertClose(expected.ToFlat(net.Layout), analytic, 1e-10, 1e-8, $"{cell} {mode}: masked gradient vs reference", net.Layout);

        GradientCheckReport report = GradientCheck.Run(net, x, y, batch, schedule, targetWeights: w);
        Assert.True(report.MaxRelativeError <= GradientCheckTests.Tolerance, $"{cell} {GradientCheckTests.Format(report)}");
    }

    /// <summary>
    /// A window of B = 2 streams whose second stream is masked (half its targets) gives the loss and the parameter
    /// gradient of the unweighted window of the first stream alone (B = 1), over three windows of BPTT(4, 2): the masked
    /// half contributes nothing and the counted half is not diluted by it. Under the old normaliser (every target) the
    /// masked window's gradient was half the other.
    /// </summary>
    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void HalfMaskedWindow_EqualsTheUnmaskedWindowOfTheTargetsThatCount(CellType cell)
    {
        const int steps = 6, inputs = 2, outputs = 2, tf = 2;
        var arch = Arch(cell, inputs, outputs, Activation.Tanh, 5);
        var two = new RecurrentNetwork<double>(arch, 321);
        var one = new RecurrentNetwork<double>(arch, 321);
        double[] x2 = Uniform(322, steps * 2 * inputs), y2 = Uniform(323, steps * 2 * outputs);
        var w2 = new double[y2.Length];
        var x1 = new double[steps * inputs];
        var y1 = new double[steps * outputs];
        for (int t = 0; t < steps; t++)
        {
            Array.Copy(x2, (t * 2) * inputs, x1, t * inputs, inputs);    // stream 0 of step t
            Array.Copy(y2, (t * 2) * outputs, y1, t * outputs, outputs);
            for (int o = 0; o < outputs; o++) w2[(t * 2) * outputs + o] = 1; // stream 0 counts, stream 1 is masked
        }

        var engine2 = new TruncatedBptt<double>(two, 2, BpttSchedule.Create(4, tf));
        var engine1 = new TruncatedBptt<double>(one, 1, BpttSchedule.Create(4, tf));
        two.ZeroGradients();
        one.ZeroGradients();
        for (int k = 0; k < steps / tf; k++)
        {
            double masked = engine2.Window(x2.AsSpan(k * tf * 2 * inputs, tf * 2 * inputs), y2.AsSpan(k * tf * 2 * outputs, tf * 2 * outputs), default,
                w2.AsSpan(k * tf * 2 * outputs, tf * 2 * outputs));
            double alone = engine1.Window(x1.AsSpan(k * tf * inputs, tf * inputs), y1.AsSpan(k * tf * outputs, tf * outputs));
            Assert.Equal(alone, masked, 1e-14);
            Assert.Equal(engine1.TargetWeightSum, engine2.TargetWeightSum);
        }
        AssertClose(one.Gradients.ToArray(), two.Gradients.ToArray(), 1e-12, 1e-10, $"{cell}: half-masked B = 2 vs. the counted stream alone", two.Layout);
    }

    /// <summary>
    /// A window whose every target is masked has loss 0 and adds exactly nothing to the gradients (not NaN, even with
    /// huge targets), yet runs forward: its outputs and the carried state equal those of the same window unweighted.
    /// </summary>
    [Theory]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void FullyMaskedWindow_HasLossZero_NoGradient_AndStillAdvancesTheState(CellType cell)
    {
        const int batch = 3, tf = 4, inputs = 2, outputs = 2;
        var arch = Arch(cell, inputs, outputs, Activation.Tanh, 5);
        var masked = new RecurrentNetwork<float>(arch, 331);
        var plain = new RecurrentNetwork<float>(arch, 331);
        float[] x = Convert<float>(Uniform(332, tf * batch * inputs)), y = Convert<float>(Uniform(333, tf * batch * outputs, -1e30, 1e30));
        var zeros = new float[y.Length];
        var em = new TruncatedBptt<float>(masked, batch, BpttSchedule.Create(8, tf));
        var ep = new TruncatedBptt<float>(plain, batch, BpttSchedule.Create(8, tf));
        var ym = new float[y.Length];
        var yp = new float[y.Length];
        masked.ZeroGradients();

        Assert.Equal(0f, em.Window(x, y, ym, zeros));
        Assert.Equal(0.0, em.TargetWeightSum);
        foreach (float g in masked.Gradients) Assert.Equal(0f, g);
        ep.Window(x, y, yp);
        Assert.Equal(yp, ym);
        for (int l = 0; l < arch.NumLayers; l++) Assert.Equal(ep.State.Hidden(l).ToArray(), em.State.Hidden(l).ToArray());
    }

    /// <summary>
    /// The weighted mean is invariant to the scale of the weights: weights 4w (a power of two, so exact) give bitwise
    /// the loss and gradient of w, and 3w the same to 1e-12. Dividing by τf·B·O instead would multiply both by 4 and 3.
    /// </summary>
    [Fact]
    public void ScalingEveryWeight_ChangesNeitherLossNorGradient()
    {
        const int batch = 2, tf = 5, inputs = 2, outputs = 1;
        var arch = Arch(CellType.Lstm, inputs, outputs, Activation.Tanh, 4);
        double[] x = Uniform(342, tf * batch * inputs), y = Uniform(343, tf * batch * outputs), w = MaskWeights(344, tf * batch * outputs);

        (double Loss, double[] Gradient) Run(double scale)
        {
            var net = new RecurrentNetwork<double>(arch, 341);
            var engine = new TruncatedBptt<double>(net, batch, BpttSchedule.Create(tf, tf));
            net.ZeroGradients();
            double loss = engine.Window(x, y, default, w.Select(v => v * scale).ToArray());
            return (loss, net.Gradients.ToArray());
        }

        var one = Run(1);
        var four = Run(4);
        var three = Run(3);
        Assert.Equal(one.Loss, four.Loss);
        Assert.Equal(one.Gradient, four.Gradient);
        Assert.Equal(one.Loss, three.Loss, 1e-14);
        AssertClose(one.Gradient, three.Gradient, 1e-12, 1e-10, "weights 3w vs w");
    }

    /// <summary>
    /// The trainer's epoch loss with masked targets is the MSE over every counted target of the epoch: Σ over windows
    /// of Σ w (y - t)² over Σ over windows of Σ w, computed here from each window's outputs and the weights (windows
    /// replayed with the same SGD steps as the trainer; one window entirely masked, the others with masked stretches).
    /// The plain mean of the window losses differs by more than 1 %, so the test tells the two apart.
    /// </summary>
    [Fact]
    public void EpochLoss_IsTheMseOverEveryCountedTargetOfTheEpoch()
    {
        const int b = 2, tf = 5, windows = 4, steps = b * tf * windows;
        var arch = new NetworkArchitecture(CellType.Gru, 1, [6], 1);
        double[] xs = Uniform(351, steps), ys = Uniform(352, steps), ws = MaskWeights(353, steps);
        // Steps 0..4 of both streams: the first window, entirely masked.
        for (int r = 0; r < b; r++) Array.Clear(ws, r * tf * windows, tf);
        var data = new SequenceData<double>(xs, ys, 1, 1, ws);
        var options = new TrainerOptions { BatchSize = b, Bptt = BpttSchedule.Create(2 * tf, tf), Optimizer = OptimizerKind.Sgd, LearningRate = 0.1, Epochs = 1, Patience = 0 };
        TrainingResult result = new Trainer<double>(new RecurrentNetwork<double>(arch, 350), options).Fit(data);

        var net = new RecurrentNetwork<double>(arch, 350);
        var engine = new TruncatedBptt<double>(net, b, options.Bptt);
        Optimizer<double> sgd = OptimizerFactory.Create<double>(OptimizerKind.Sgd, net.Parameters.Length);
        double squares = 0, weights = 0, meanOfWindows = 0;
        var x = new double[tf * b];
        var y = new double[tf * b];
        var w = new double[tf * b];
        var output = new double[tf * b];
        int length = steps / b;
        for (int k = 0; k < windows; k++)
        {
            for (int s = 0; s < tf; s++)
                for (int r = 0; r < b; r++)
                {
                    int t = r * length + k * tf + s;
                    x[s * b + r] = xs[t];
                    y[s * b + r] = ys[t];
                    w[s * b + r] = ws[t];
                }
            net.ZeroGradients();
            meanOfWindows += engine.Window(x, y, output, w) / windows;
            sgd.Step(net.Parameters, net.Gradients, 0.1);
            net.MarkParametersChanged();
            for (int i = 0; i < x.Length; i++)
            {
                squares += w[i] * (output[i] - y[i]) * (output[i] - y[i]);
                weights += w[i];
            }
        }
        double expected = squares / weights;
        Assert.Equal(expected, result.History[0].TrainLoss, 1e-13);
        Assert.True(Math.Abs(meanOfWindows - expected) > 0.01 * expected, $"mean of windows {meanOfWindows} vs weighted {expected}: the data cannot tell them apart");
    }

    /// <summary>Data in which no target counts is refused with a message, for training (the part used) and validation.</summary>
    [Fact]
    public void Fit_RefusesDataWithoutACountedTarget()
    {
        var arch = new NetworkArchitecture(CellType.Elman, 1, [3], 1);
        var options = new TrainerOptions { BatchSize = 2, Bptt = BpttSchedule.Create(4, 2), Epochs = 1, Patience = 0 };
        double[] x = Uniform(361, 20), y = Uniform(362, 20);
        // 2 streams of 10 steps, every weight 0.
        var noneCount = new SequenceData<double>(x, y, 1, 1, new double[20]);
        var good = new SequenceData<double>(x, y, 1, 1);
        var e1 = Assert.Throws<ArgumentException>(() => new Trainer<double>(new RecurrentNetwork<double>(arch, 1), options).Fit(noneCount, good));
        Assert.Contains("training steps", e1.Message);
        Assert.Equal("train", e1.ParamName);
        var e2 = Assert.Throws<ArgumentException>(() => new Trainer<double>(new RecurrentNetwork<double>(arch, 1), options).Fit(good, noneCount));
        Assert.Contains("validation", e2.Message);
        // A weight on the unused tail (21 steps: 2 streams of 10, step 20 unused) does not count either.
        double[] x21 = Uniform(363, 21), y21 = Uniform(364, 21), w21 = new double[21];
        w21[20] = 1;
        Assert.Throws<ArgumentException>(() => new Trainer<double>(new RecurrentNetwork<double>(arch, 1), options).Fit(new SequenceData<double>(x21, y21, 1, 1, w21)));
        // One counted target is enough; Evaluate of data without one is 0, not NaN.
        var trainer = new Trainer<double>(new RecurrentNetwork<double>(arch, 1), options);
        w21[19] = 1;
        trainer.Fit(new SequenceData<double>(x21, y21, 1, 1, w21));
        Assert.Equal(0.0, trainer.Evaluate(null, noneCount));
    }
}
