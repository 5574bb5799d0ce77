namespace Rnn.Simd.Tests.Reference;

/// <summary>
/// A double that also carries M, a running bound of the magnitudes of everything that entered it. A computation in
/// precision u that follows the same formula is then within about (operations) · u · M of V, even where terms cancel,
/// which gives each comparison a tolerance derived from its own data instead of a blanket one.
/// </summary>
public readonly record struct Md(double V, double M)
{
    public static implicit operator Md(double x) => new(x, Math.Abs(x));

    public static Md operator +(Md a, Md b) => new(a.V + b.V, a.M + b.M);
    public static Md operator -(Md a, Md b) => new(a.V - b.V, a.M + b.M);
    public static Md operator -(Md a) => new(-a.V, a.M);
    public static Md operator *(Md a, Md b) => new(a.V * b.V, a.M * b.M);

    /// <summary>Quotient; the denominators here are sums of non-negative terms, so |b.V| bounds them from below without cancellation.</summary>
    public static Md operator /(Md a, Md b) => new(a.V / b.V, a.M / Math.Abs(b.V));

    /// <summary>Square root of a non-negative quantity.</summary>
    public static Md Sqrt(Md a) => new(Math.Sqrt(a.V), Math.Sqrt(a.M));

    public static Md Clamp(Md a, double lo, double hi) => a.V < lo ? new Md(lo, Math.Max(a.M, -lo)) : a.V > hi ? new Md(hi, Math.Max(a.M, hi)) : a;
}

/// <summary>The optimiser rules of chapter section 2.3 as written there, per element, in double.</summary>
public static class OptimizerReference
{
    /// <summary>The method whose rule <see cref="Step"/> applies.</summary>
    public enum Rule { Sgd, Momentum, Nesterov, Adagrad, RmsProp, RmsPropGains, Adam }

    /// <summary>Hyper-parameters and per-step inputs of one reference step.</summary>
    public sealed record Config
    {
        public Rule Rule { get; init; }
        /// <summary>η of the step.</summary>
        public double LearningRate { get; init; }
        /// <summary>k, the index of the step (1 for the first): Adam's bias correction.</summary>
        public long StepIndex { get; init; } = 1;
        /// <summary>Gradient scale (global-norm clipping factor).</summary>
        public double Scale { get; init; } = 1;
        /// <summary>Clip-by-value threshold (+∞ for none).</summary>
        public double Clip { get; init; } = double.PositiveInfinity;
        public double L1 { get; init; }
        public double L2 { get; init; }
        /// <summary>Decoupled weight decay (AdamW).</summary>
        public double WeightDecay { get; init; }
        public double Mu { get; init; } = 0.9;
        public double Epsilon { get; init; } = 1e-8;
        public double Beta1 { get; init; } = 0.9;
        public double Beta2 { get; init; } = 0.999;
        /// <summary>RMSprop's δ: weight of the new squared gradient.</summary>
        public double Decay { get; init; } = 0.01;
        public double GainStep { get; init; } = 0.01;
        public double MaxGain { get; init; } = double.PositiveInfinity;
    }

    /// <summary>
    /// Eq. 2.1 with R_λ = λ1 ‖W‖₁ + λ2 ‖W‖²: the gradient the rule sees, clamp(s·g, ±c) + 2 λ2 w + λ1 sign(w) with
    /// sign(0) = 0; only on regularised elements do the λ terms apply.
    /// </summary>
    public static Md EffectiveGradient(double g, double w, bool regularized, Config c)
    {
        Md ge = Md.Clamp((Md)c.Scale * g, -c.Clip, c.Clip);
        if (!regularized) return ge;
        return ge + (Md)(2 * c.L2) * w + (Md)(c.L1 * Math.Sign(w));
    }

    /// <summary>
    /// One step for one element. <paramref name="state"/> holds the element's state in the library's order
    /// (velocity | sum_sq | mean_sq, gain, prev_grad | m, v) and receives the new values; returns the new parameter.
    /// </summary>
    public static Md Step(double w, double g, ReadOnlySpan<double> state, Span<Md> newState, bool regularized, Config c)
    {
        Md ge = EffectiveGradient(g, w, regularized, c);
        double eta = c.LearningRate;
        // Decoupled weight decay (Loshchilov and Hutter): W ← (1 - η λ_wd) W, outside the gradient.
        Md wd = regularized && c.WeightDecay != 0 ? (Md)w * (1 - eta * c.WeightDecay) : (Md)w;
        switch (c.Rule)
        {
            case Rule.Sgd:
                // Eq. 2.3: W_(k+1) = W_k - η ∇L(W_k)
                return wd - (Md)eta * ge;
            case Rule.Momentum:
            {
                // Eq. 2.4: V_k = μ V_(k-1) - η ∇L(W_k); W_(k+1) = W_k + V_k
                Md v = (Md)c.Mu * state[0] - (Md)eta * ge;
                newState[0] = v;
                return wd + v;
            }
            case Rule.Nesterov:
            {
                // Eq. 2.5 on the look-ahead point Θ_k = W_k + μ V_(k-1) (whose gradient is ge):
                // V_k = μ V_(k-1) - η ∇L(Θ_k); Θ_(k+1) = W_(k+1) + μ V_k = Θ_k - μ V_(k-1) + V_k + μ V_k = Θ_k + μ V_k - η ∇L(Θ_k)
                Md v = (Md)c.Mu * state[0] - (Md)eta * ge;
                newState[0] = v;
                return wd + (Md)c.Mu * v - (Md)eta * ge;
            }
            case Rule.Adagrad:
            {
                // Eq. 2.6: W_(k+1) = W_k - η ∇L(W_k) / sqrt(Σ_j ∇L(W_j)² + ε)
                Md sum = (Md)state[0] + ge * ge;
                newState[0] = sum;
                return wd - (Md)eta * ge / Md.Sqrt(sum + (Md)c.Epsilon);
            }
            case Rule.RmsProp:
            {
                // Eq. 2.7 without gains: r_k = (1 - δ) r_(k-1) + δ ∇L²; W_(k+1) = W_k - η ∇L / (sqrt(r_k) + ε)
                Md r = (Md)(1 - c.Decay) * state[0] + (Md)c.Decay * ge * ge;
                newState[0] = r;
                return wd - (Md)eta * ge / (Md.Sqrt(r) + (Md)c.Epsilon);
            }
            case Rule.RmsPropGains:
            {
                // Eq. 2.7 with gains: γ grows by δ_γ while the gradient keeps its sign, shrinks by (1 - δ_γ) when it flips.
                double prev = state[2];
                Md gain = state[1];
                double product = Math.Sign(ge.V) * Math.Sign(prev);
                if (product > 0) gain = gain + (Md)c.GainStep;
                else if (product < 0) gain = gain * (1 - c.GainStep);
                if (gain.V > c.MaxGain) gain = c.MaxGain;
                Md r = (Md)(1 - c.Decay) * state[0] + (Md)c.Decay * ge * ge;
                newState[0] = r;
                newState[1] = gain;
                newState[2] = ge;
                return wd - (Md)eta * gain * ge / (Md.Sqrt(r) + (Md)c.Epsilon);
            }
            case Rule.Adam:
            {
                // Eq. 2.8 with bias correction.
                Md m = (Md)c.Beta1 * state[0] + (Md)(1 - c.Beta1) * ge;
                Md v = (Md)c.Beta2 * state[1] + (Md)(1 - c.Beta2) * ge * ge;
                newState[0] = m;
                newState[1] = v;
                Md mHat = m / (1 - Math.Pow(c.Beta1, c.StepIndex));
                Md vHat = v / (1 - Math.Pow(c.Beta2, c.StepIndex));
                return wd - (Md)eta * mHat / (Md.Sqrt(vHat) + (Md)c.Epsilon);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(c), c.Rule, "Unknown rule.");
        }
    }

    /// <summary>R_λ(W) = λ1 Σ|w| + λ2 Σ w² over the masked elements.</summary>
    public static double Penalty(ReadOnlySpan<double> w, ReadOnlySpan<bool> regularized, double l1, double l2)
    {
        double r = 0;
        for (int i = 0; i < w.Length; i++)
        {
            if (regularized[i]) r += l1 * Math.Abs(w[i]) + l2 * w[i] * w[i];
        }
        return r;
    }
}
