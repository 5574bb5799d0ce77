using Rnn.Simd.Network;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Training;

/// <summary>How far an analytic gradient is from its finite-difference estimate, for one group of entries.</summary>
/// <param name="Name">The parameter slice (e.g. <c>weight_hh_l0</c>), <c>inputs</c> or <c>initial_state</c>.</param>
/// <param name="Checked">Entries compared.</param>
/// <param name="MaxRelativeError">max |a - n| / max(|a|, |n|, floor) over the entries (floor: see <see cref="GradientCheck.RelativeErrorFloor"/>).</param>
/// <param name="MaxAbsoluteError">max |a - n|.</param>
public sealed record GradientCheckEntry(string Name, int Checked, double MaxRelativeError, double MaxAbsoluteError);

/// <summary>The outcome of <see cref="GradientCheck.Run"/>.</summary>
/// <param name="Schedule">The BPTT schedule whose (truncated) objective was differentiated.</param>
/// <param name="Parameters">One entry per parameter slice.</param>
/// <param name="Inputs">dJ/dx over every input of the sequence.</param>
/// <param name="InitialState">dJ/d(h_0, c_0) over every layer's initial state.</param>
public sealed record GradientCheckReport(BpttSchedule Schedule, IReadOnlyList<GradientCheckEntry> Parameters, GradientCheckEntry Inputs, GradientCheckEntry InitialState)
{
    /// <summary>The largest relative error of every entry.</summary>
    public double MaxRelativeError
    {
        get
        {
            double m = Math.Max(Inputs.MaxRelativeError, InitialState.MaxRelativeError);
            foreach (GradientCheckEntry e in Parameters) m = Math.Max(m, e.MaxRelativeError);
            return m;
        }
    }
}

/// <summary>
/// Compares the analytic gradient of a network + MSE loss under truncated BPTT with central finite differences, in
/// double precision: users property-test their own models with it.
/// </summary>
/// <remarks>
/// <para>
/// The objective is the one truncated BPTT(τb, τf) differentiates: J = Σ over windows w of mean((y - target)²) over
/// the τf new outputs of w (with target weights, Σ w (y - target)² / Σ w over them, 0 for a window without weight), where the state entering the τb steps that w back-propagates through is held fixed (it
/// depends on the parameters only through steps the truncation cuts). With τb ≥ the sequence length this is plain
/// full BPTT of the whole sequence's loss. Parameters are not updated between windows.
/// </para>
/// <para>
/// Finite differences use the fourth-order central stencil (8(J(+h) - J(-h)) - (J(+2h) - J(-2h))) / 12h, whose
/// truncation error is O(h⁴), so agreement to ~1e-9 is typical in double; the relative error of an entry is
/// |a - n| / max(|a|, |n|, <see cref="RelativeErrorFloor"/>). The check is exact only for smooth cells: a ReLU
/// pre-activation within 2h of its kink can disagree.
/// </para>
/// </remarks>
public static class GradientCheck
{
    /// <summary>
    /// Entries whose analytic and numeric values are both below this magnitude (1e-4) are compared by absolute
    /// error divided by it: a relative error of 1e-6 then means an absolute error of 1e-10. Without a floor, entries
    /// that are zero up to rounding would report the stencil's round-off (about 1e-12 / |J|) as large relative errors.
    /// For scale: PyTorch's gradcheck accepts |a - n| ≤ 1e-5 + 1e-3·|n|.
    /// </summary>
    public const double RelativeErrorFloor = 1e-4;

    /// <summary>Runs the check.</summary>
    /// <param name="network">The model; its parameters are restored afterwards; its gradients are overwritten with the analytic gradient.</param>
    /// <param name="inputs">S x B x I, time-major; S must be a multiple of τf.</param>
    /// <param name="targets">S x B x O, time-major.</param>
    /// <param name="batchSize">B.</param>
    /// <param name="schedule">τb, τf.</param>
    /// <param name="initialState">State before the first step (null: zero). Not modified.</param>
    /// <param name="step">h of the stencil. The default 1e-3 keeps round-off (about 1e-16·|J| / h) near 1e-13 while the
    /// O(h⁴) truncation error stays below it for the smooth cells.</param>
    /// <param name="maxEntriesPerGroup">Entries per slice (and for inputs / initial state) checked: all when the group is
    /// at most this large, otherwise an evenly spread, seeded sample of this many.</param>
    /// <param name="seed">Seed of the sample.</param>
    /// <param name="dropout">Variational dropout to check with a fixed mask: the masks the engine draws for the sequence
    /// are applied, unchanged, by the finite-difference objective too. Null: none.</param>
    /// <param name="regularization">R_λ of Eq. 2.1, added to every window's loss as the trainer does (so J gains
    /// windows·R_λ and the analytic gradient windows·∇R_λ, the gradient the fused optimiser pass applies). L1 is not
    /// differentiable at 0: a weight within 2h of 0 can disagree. Null: none.</param>
    /// <param name="targetWeights">Optional S x B x O weights w ≥ 0 of the targets, as <see cref="TruncatedBptt{T}.Window"/>
    /// takes them: each window's loss is then Σ w (y - target)² / Σ w over its targets. Empty: every weight 1.</param>
    public static GradientCheckReport Run(RecurrentNetwork<double> network, ReadOnlySpan<double> inputs, ReadOnlySpan<double> targets,
        int batchSize, BpttSchedule schedule, NetworkState<double>? initialState = null, double step = 1e-3, int maxEntriesPerGroup = int.MaxValue, ulong seed = 1,
        DropoutOptions? dropout = null, RegularizationOptions? regularization = null, ReadOnlySpan<double> targetWeights = default)
    {
        if (dropout is not null && dropout.IsActive && dropout.Variant != DropoutVariant.Variational)
            throw new ArgumentException("Gradient checks need a fixed mask: use variational dropout.", nameof(dropout));
        ArgumentNullException.ThrowIfNull(network);
        schedule.Validate();
        NetworkArchitecture arch = network.Architecture;
        int inStep = batchSize * arch.InputSize, outStep = batchSize * arch.OutputSize;
        if (inputs.Length == 0 || inputs.Length % inStep != 0) throw new ArgumentException($"Inputs length {inputs.Length} is not a positive multiple of B x I = {inStep}.", nameof(inputs));
        int steps = inputs.Length / inStep;
        if (steps % schedule.ForwardSteps != 0) throw new ArgumentException($"Sequence length {steps} is not a multiple of τf = {schedule.ForwardSteps}.", nameof(inputs));
        if (targets.Length != steps * outStep) throw new ArgumentException($"Targets length {targets.Length} is not S x B x O = {steps * outStep}.", nameof(targets));
        if (!targetWeights.IsEmpty && targetWeights.Length != targets.Length)
            throw new ArgumentException($"Target weights length {targetWeights.Length} is not S x B x O = {targets.Length}.", nameof(targetWeights));
        NetworkState<double> init = initialState?.Clone() ?? network.CreateState(batchSize);
        if (init.BatchSize != batchSize) throw new ArgumentException("Initial state batch size differs from batchSize.", nameof(initialState));
        double[] x = inputs.ToArray(), y = targets.ToArray();
        double[]? weights = targetWeights.IsEmpty ? null : targetWeights.ToArray();
        int windows = steps / schedule.ForwardSteps;

        // ---- analytic ----
        var engine = new TruncatedBptt<double>(network, batchSize, schedule, 1, dropout) { ComputeInputGradients = true };
        engine.Reset(init);
        RecurrentNetwork<double>.DropoutMasks? masks = null;
        if (dropout is not null && dropout.IsActive)
        {
            var mx = new double[arch.NumLayers][];
            var mh = new double[arch.NumLayers][];
            for (int l = 0; l < arch.NumLayers; l++)
            {
                (ReadOnlyMemory<double> input, ReadOnlyMemory<double> recurrent) = engine.SequenceMasks(l);
                mx[l] = input.ToArray();
                mh[l] = recurrent.ToArray();
            }
            masks = new RecurrentNetwork<double>.DropoutMasks(mx, mh, engine.SequenceOutputMask.ToArray());
        }
        network.ZeroGradients();
        var dx = new double[x.Length];
        for (int w = 0; w < windows; w++)
        {
            int t0 = w * schedule.ForwardSteps;
            engine.Window(x.AsSpan(t0 * inStep, schedule.ForwardSteps * inStep), y.AsSpan(t0 * outStep, schedule.ForwardSteps * outStep), default,
                weights is null ? default : weights.AsSpan(t0 * outStep, schedule.ForwardSteps * outStep));
            int valid = (int)Math.Min(engine.StepsSinceReset, schedule.BackwardSteps);
            for (int slot = 0; slot < schedule.BackwardSteps; slot++)
            {
                long t = engine.SlotTime(slot);
                if (t < engine.StepsSinceReset - valid || t >= engine.StepsSinceReset) continue;
                ReadOnlySpan<double> g = engine.InputGradient(slot);
                for (int i = 0; i < inStep; i++) dx[t * inStep + i] += g[i];
            }
        }
        double[] analytic = network.Gradients.ToArray();
        RegularizationPlan? plan = regularization?.Resolve(network.Layout);
        if (plan is not null && plan.IsActive)
        {
            for (int w = 0; w < windows; w++) plan.AddGradient<double>(network.Parameters, analytic);
        }
        var dInit = new List<double>();
        for (int l = 0; l < arch.NumLayers; l++)
        {
            dInit.AddRange(engine.InitialHiddenGradient(l).ToArray());
            dInit.AddRange(engine.InitialCellGradient(l).ToArray());
        }

        // ---- numeric ----
        var objective = new TruncatedObjective(network, x, y, weights, batchSize, schedule, init, masks);
        Func<double> total = plan is not null && plan.IsActive
            ? () => objective.Evaluate() + windows * plan.Penalty<double>(network.Parameters)
            : objective.Evaluate;
        var rng = new Rng(seed);
        var entries = new List<GradientCheckEntry>();
        double[] parameters = network.ParameterArray;
        foreach (ParameterSlice s in network.Layout.Slices)
        {
            entries.Add(Compare(s.Name, s.Length, maxEntriesPerGroup, rng, i => analytic[s.Offset + i], i => Numeric(ref parameters[s.Offset + i], step, () =>
            {
                network.MarkParametersChanged();
                return total();
            })));
        }
        network.MarkParametersChanged();
        GradientCheckEntry inputEntry = Compare("inputs", x.Length, maxEntriesPerGroup, rng, i => dx[i], i => Numeric(ref x[i], step, objective.Evaluate));
        var initRefs = new List<(int Layer, bool Cell, int Index)>();
        for (int l = 0; l < arch.NumLayers; l++)
        {
            for (int i = 0; i < init.Hidden(l).Length; i++) initRefs.Add((l, false, i));
            for (int i = 0; i < init.Cell(l).Length; i++) initRefs.Add((l, true, i));
        }
        GradientCheckEntry initEntry = Compare("initial_state", initRefs.Count, maxEntriesPerGroup, rng, i => dInit[i], i =>
        {
            (int l, bool cell, int k) = initRefs[i];
            double[] arr = cell ? init.C[l] : init.H[l];
            return Numeric(ref arr[k], step, objective.Evaluate);
        });
        network.Gradients.Clear();
        analytic.CopyTo(network.Gradients);
        return new GradientCheckReport(schedule, entries, inputEntry, initEntry);
    }

    private static double Numeric(ref double value, double h, Func<double> f)
    {
        double original = value;
        value = original + h; double p1 = f();
        value = original - h; double m1 = f();
        value = original + 2 * h; double p2 = f();
        value = original - 2 * h; double m2 = f();
        value = original;
        return (8 * (p1 - m1) - (p2 - m2)) / (12 * h);
    }

    private static GradientCheckEntry Compare(string name, int count, int maxEntries, Rng rng, Func<int, double> analytic, Func<int, double> numeric)
    {
        double maxRel = 0, maxAbs = 0;
        int checkedCount = Math.Min(count, Math.Max(1, maxEntries));
        for (int k = 0; k < checkedCount && count > 0; k++)
        {
            int i = checkedCount == count ? k : (int)(((long)k * count + rng.NextInt(Math.Max(1, count / checkedCount))) / checkedCount) % count;
            double a = analytic(i), n = numeric(i);
            double abs = Math.Abs(a - n);
            double rel = abs / Math.Max(Math.Max(Math.Abs(a), Math.Abs(n)), RelativeErrorFloor);
            if (double.IsNaN(abs)) { rel = double.PositiveInfinity; abs = double.PositiveInfinity; }
            maxAbs = Math.Max(maxAbs, abs);
            maxRel = Math.Max(maxRel, rel);
        }
        return new GradientCheckEntry(name, count == 0 ? 0 : checkedCount, maxRel, maxAbs);
    }

    /// <summary>
    /// J of the truncated objective, written independently of the BPTT engine: it runs the network's inference step
    /// from a state held at its unperturbed value (detached) at the start of each window's back-propagation span.
    /// </summary>
    private sealed class TruncatedObjective
    {
        private readonly RecurrentNetwork<double> _net;
        private readonly double[] _x, _y;
        private readonly double[]? _w;
        private readonly int _inStep, _outStep, _steps;
        private readonly BpttSchedule _schedule;
        private readonly NetworkState<double> _init;
        private readonly NetworkState<double>[] _detached;
        private readonly NetworkState<double> _work;
        private readonly double[] _out;
        private readonly RecurrentNetwork<double>.DropoutMasks? _masks;

        public TruncatedObjective(RecurrentNetwork<double> net, double[] x, double[] y, double[]? w, int batch, BpttSchedule schedule, NetworkState<double> init,
            RecurrentNetwork<double>.DropoutMasks? masks)
        {
            _net = net; _x = x; _y = y; _w = w; _schedule = schedule; _init = init; _masks = masks;
            _inStep = batch * net.Architecture.InputSize;
            _outStep = batch * net.Architecture.OutputSize;
            _steps = x.Length / _inStep;
            _work = net.CreateState(batch);
            _out = new double[_outStep];
            // States entering each step with the unperturbed parameters and inputs: the detached starting points.
            _detached = new NetworkState<double>[_steps + 1];
            NetworkState<double> s = init.Clone();
            _detached[0] = s.Clone();
            for (int t = 0; t < _steps; t++)
            {
                Step(x.AsSpan(t * _inStep, _inStep), s);
                _detached[t + 1] = s.Clone();
            }
        }

        private void Step(ReadOnlySpan<double> input, NetworkState<double> state)
        {
            if (_masks is null) _net.Step(input, _out, state);
            else _net.StepMasked(input, _out, state, _masks.X, _masks.H, _masks.O);
        }

        public double Evaluate()
        {
            double total = 0;
            int tf = _schedule.ForwardSteps;
            for (int end = tf; end <= _steps; end += tf)
            {
                int start = Math.Max(0, end - _schedule.BackwardSteps);
                _work.CopyFrom(start == 0 ? _init : _detached[start]);
                double sum = 0, weight = 0;
                for (int t = start; t < end; t++)
                {
                    Step(_x.AsSpan(t * _inStep, _inStep), _work);
                    if (t < end - tf) continue;
                    for (int i = 0; i < _outStep; i++)
                    {
                        double d = _out[i] - _y[t * _outStep + i], w = _w is null ? 1 : _w[t * _outStep + i];
                        sum += w * d * d;
                        weight += w;
                    }
                }
                if (weight > 0) total += sum / weight;
            }
            return total;
        }
    }
}
