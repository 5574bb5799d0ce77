using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Operators;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Tests.Reference;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;
using Rule = Rnn.Simd.Tests.Reference.OptimizerReference.Rule;

namespace Rnn.Simd.Tests.Training.Optimizers;

/// <summary>
/// Builds random optimiser problems (parameters, gradients, state, hyper-parameters, regularisation plan), runs the
/// library on a chosen ISA path and checks every output element against <see cref="OptimizerReference"/>.
/// </summary>
public static class OptimizerHarness
{
    /// <summary>Operations in the longest chain of a rule, times a safety factor of 2: the tolerance is Ops · u · M.</summary>
    private const double Ops = 32;

    public static readonly OptimizerKind[] Kinds = Enum.GetValues<OptimizerKind>();

    public static IEnumerable<object[]> KindData() => Kinds.Select(k => new object[] { k });

    /// <summary>Unit roundoff of T.</summary>
    public static double U<T>() => typeof(T) == typeof(float) ? 1.0 / (1 << 24) : 1.0 / (1L << 53);

    /// <summary>Smallest magnitude below which T loses relative precision (a floor for the tolerance).</summary>
    public static double Tiny<T>() => typeof(T) == typeof(float) ? 1e-37 : 1e-300;

    public static Rule RuleOf(OptimizerKind kind) => kind switch
    {
        OptimizerKind.Sgd => Rule.Sgd,
        OptimizerKind.Momentum => Rule.Momentum,
        OptimizerKind.Nesterov => Rule.Nesterov,
        OptimizerKind.Adagrad => Rule.Adagrad,
        OptimizerKind.RmsProp => Rule.RmsProp,
        OptimizerKind.RmsPropGains => Rule.RmsPropGains,
        OptimizerKind.Adam or OptimizerKind.AdamW => Rule.Adam,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Creates the library optimiser with the hyper-parameters of <paramref name="c"/>.</summary>
    public static Optimizer<T> Create<T>(OptimizerKind kind, int n, OptimizerReference.Config c, RegularizationPlan? plan, IsaPath path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Optimizer<T> o = kind switch
        {
            OptimizerKind.Sgd => new Sgd<T>(n, plan, path),
            OptimizerKind.Momentum => new Momentum<T>(n, c.Mu, plan, path),
            OptimizerKind.Nesterov => new Nesterov<T>(n, c.Mu, plan, path),
            OptimizerKind.Adagrad => new Adagrad<T>(n, c.Epsilon, plan, path),
            OptimizerKind.RmsProp => new RmsProp<T>(n, c.Decay, c.Epsilon, false, c.GainStep, c.MaxGain, plan, path),
            OptimizerKind.RmsPropGains => new RmsProp<T>(n, c.Decay, c.Epsilon, true, c.GainStep, c.MaxGain, plan, path),
            OptimizerKind.Adam => new Adam<T>(n, c.Beta1, c.Beta2, c.Epsilon, plan, path),
            OptimizerKind.AdamW => new AdamW<T>(n, c.WeightDecay, c.Beta1, c.Beta2, c.Epsilon, plan, path),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        if (!double.IsPositiveInfinity(c.Clip)) o.ClipValue = c.Clip;
        return o;
    }

    /// <summary>Random hyper-parameters and per-step inputs for <paramref name="kind"/>; defaults when <paramref name="defaults"/>.</summary>
    public static OptimizerReference.Config RandomConfig(OptimizerKind kind, Rng rng, bool defaults = false)
    {
        var c = new OptimizerReference.Config
        {
            Rule = RuleOf(kind),
            LearningRate = rng.NextUniform(1e-3, 0.5),
            StepIndex = 1 + rng.NextInt(4) switch { 0 => 0, 1 => 1, 2 => 2, _ => rng.NextInt(5000) },
            Scale = rng.NextInt(2) == 0 ? 1 : rng.NextUniform(0.05, 1),
            Clip = rng.NextInt(2) == 0 ? double.PositiveInfinity : rng.NextUniform(0.3, 2),
            L1 = rng.NextInt(2) == 0 ? 0 : rng.NextUniform(1e-3, 0.1),
            L2 = rng.NextInt(2) == 0 ? 0 : rng.NextUniform(1e-3, 0.1),
            WeightDecay = kind == OptimizerKind.AdamW ? rng.NextUniform(1e-3, 0.2) : 0,
        };
        if (defaults) return c;
        return c with
        {
            Mu = rng.NextUniform(0, 0.99),
            Epsilon = Math.Pow(10, rng.NextUniform(-8, -3)),
            Beta1 = rng.NextUniform(0.5, 0.99),
            Beta2 = rng.NextUniform(0.9, 0.9999),
            Decay = rng.NextUniform(0.001, 0.2),
            GainStep = rng.NextUniform(0.001, 0.2),
            MaxGain = rng.NextInt(2) == 0 ? double.PositiveInfinity : rng.NextUniform(1.2, 3),
        };
    }

    /// <summary>Random regularised ranges: alternating runs of 0..24 elements on and off.</summary>
    public static RegularizationPlan RandomPlan(int n, double l1, double l2, Rng rng)
    {
        var ranges = new List<(int, int)>();
        int pos = 0;
        bool on = rng.NextInt(2) == 0;
        while (pos < n)
        {
            int len = Math.Min(n - pos, rng.NextInt(25));
            if (on && len > 0) ranges.Add((pos, len));
            pos += len;
            on = !on;
        }
        return new RegularizationPlan(n, l1, l2, ranges);
    }

    public static bool[] Mask(RegularizationPlan plan)
    {
        var mask = new bool[plan.ParameterCount];
        foreach ((int o, int l) in plan.RegularizedRanges) mask.AsSpan(o, l).Fill(true);
        return mask;
    }

    /// <summary>A value in ±[0.001, range] or, with probability 1/8, exactly zero (no tiny values: they would be subnormal in float).</summary>
    public static double Value(Rng rng, double range) =>
        rng.NextInt(8) == 0 ? 0 : (rng.NextInt(2) == 0 ? -1 : 1) * rng.NextUniform(1e-3, range);

    /// <summary>Random state of the rule in its natural domain (second moments and sums non-negative, gains around 1).</summary>
    public static void FillState<T>(Optimizer<T> o, Rng rng) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int s = 0; s < o.StateCount; s++)
        {
            Span<T> state = o.State(s);
            string name = o.StateName(s);
            for (int i = 0; i < state.Length; i++)
            {
                double v = name switch
                {
                    "v" or "sum_sq" or "mean_sq" => Math.Abs(Value(rng, 2)),
                    "gain" => rng.NextUniform(0.3, 2.5),
                    _ => Value(rng, 1.5),
                };
                state[i] = T.CreateTruncating(v);
            }
        }
    }

    /// <summary>
    /// Reference results of one step for every element, from the library's current inputs. For the gain rule,
    /// gradients whose effective sign the two precisions could disagree on (|g_eff| within rounding of 0) are moved
    /// away from 0 first, so the test compares the rule, not a coin flip.
    /// </summary>
    public static (Md[] P, Md[][] S) Reference<T>(Optimizer<T> o, T[] p, T[] g, bool[] mask, OptimizerReference.Config c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = p.Length, sc = o.StateCount;
        var pOut = new Md[n];
        var sOut = new Md[sc][];
        for (int s = 0; s < sc; s++) sOut[s] = new Md[n];
        Span<double> st = stackalloc double[3];
        Span<Md> ns = stackalloc Md[3];
        for (int i = 0; i < n; i++)
        {
            double w = double.CreateTruncating(p[i]);
            if (c.Rule == Rule.RmsPropGains)
            {
                while (true)
                {
                    Md ge = OptimizerReference.EffectiveGradient(double.CreateTruncating(g[i]), w, mask[i], c);
                    bool ambiguous = ge.M != 0 && Math.Abs(ge.V) <= 1024 * U<T>() * ge.M;
                    if (!ambiguous) break;
                    g[i] = T.CreateTruncating(double.CreateTruncating(g[i]) + 0.75);
                }
            }
            for (int s = 0; s < sc; s++) st[s] = double.CreateTruncating(o.State(s)[i]);
            pOut[i] = OptimizerReference.Step(w, double.CreateTruncating(g[i]), st, ns, mask[i], c);
            for (int s = 0; s < sc; s++) sOut[s][i] = ns[s];
        }
        return (pOut, sOut);
    }

    /// <summary>Asserts |actual - expected.V| ≤ Ops · u · expected.M (plus a floor) for every element.</summary>
    public static void AssertClose<T>(ReadOnlySpan<T> actual, Md[] expected, string what) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        double u = U<T>();
        for (int i = 0; i < expected.Length; i++)
        {
            double a = double.CreateTruncating(actual[i]);
            double tol = Ops * u * expected[i].M + Tiny<T>();
            if (!(Math.Abs(a - expected[i].V) <= tol))
                Assert.Fail($"{what}[{i}] = {a:R}, reference {expected[i].V:R} (magnitude {expected[i].M:G3}, tolerance {tol:G3}).");
        }
    }

    /// <summary>
    /// One checked step: random problem of length n for kind on path, library step vs reference for parameters and
    /// every state. Returns the resulting parameters and states (for cross-path comparison).
    /// </summary>
    public static (T[] P, T[][] S) CheckOneStep<T>(OptimizerKind kind, int n, ulong seed, IsaPath path, bool defaults = false)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        OptimizerReference.Config c = RandomConfig(kind, rng, defaults);
        RegularizationPlan plan = RandomPlan(n, c.L1, c.L2, rng);
        bool[] mask = Mask(plan);
        Optimizer<T> o = Create<T>(kind, n, c, plan, path);
        FillState(o, rng);
        o.StepCount = c.StepIndex - 1;
        var p = new T[n];
        var g = new T[n];
        for (int i = 0; i < n; i++)
        {
            p[i] = T.CreateTruncating(Value(rng, 1.5));
            // A few large gradients, so that clipping by value has work to do.
            g[i] = T.CreateTruncating(Value(rng, rng.NextInt(10) == 0 ? 8 : 2));
        }
        (Md[] pRef, Md[][] sRef) = Reference(o, p, g, mask, c);
        T[] gCopy = (T[])g.Clone();
        o.Step(p, g, T.CreateTruncating(c.LearningRate), T.CreateTruncating(c.Scale));
        Assert.Equal(gCopy, g);
        Assert.Equal(c.StepIndex, o.StepCount);
        string ctx = $"{kind} {typeof(T).Name} n={n} path={path} seed={seed}";
        AssertClose<T>(p, pRef, $"{ctx} parameters");
        var states = new T[o.StateCount][];
        for (int s = 0; s < o.StateCount; s++)
        {
            AssertClose<T>(o.State(s), sRef[s], $"{ctx} {o.StateName(s)}");
            states[s] = o.State(s).ToArray();
        }
        return (p, states);
    }

    /// <summary>Runs <see cref="CheckOneStep{T}"/> on every supported path and asserts the paths agree bitwise.</summary>
    public static void CheckAllPaths<T>(OptimizerKind kind, int n, ulong seed, bool defaults = false) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        (T[] P, T[][] S)? scalar = null;
        foreach (IsaPath path in TestPaths.All)
        {
            var r = CheckOneStep<T>(kind, n, seed, path, defaults);
            if (scalar is null) { scalar = r; continue; }
            // Every path runs the same operation sequence (FMA included), so results are bitwise equal where the
            // 128-bit path has a hardware FMA.
            if (path == IsaPath.Vector128 && !VectorHelpers.HasFma128) continue;
            Assert.True(scalar.Value.P.AsSpan().SequenceEqual(r.P), $"{kind} {typeof(T).Name} n={n}: parameters on {path} differ from scalar");
            for (int s = 0; s < r.S.Length; s++)
                Assert.True(scalar.Value.S[s].AsSpan().SequenceEqual(r.S[s]), $"{kind} {typeof(T).Name} n={n}: state {s} on {path} differs from scalar");
        }
    }
}
