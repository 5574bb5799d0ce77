using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;

namespace Rnn.Simd.Analysis;

/// <summary>Settings of <see cref="GradientFlow.Analyze{T}"/>.</summary>
public sealed record GradientFlowOptions
{
    /// <summary>K, the largest lag (steps back in time) analysed; 1 ≤ K ≤ T - 1 for a sequence of T steps. Default 50.</summary>
    public int MaxLag { get; init; } = 50;

    /// <summary>Power iterations (each one JVP and one VJP pass through the k factors) per σ_max estimate. Default 20.</summary>
    public int PowerIterations { get; init; } = 20;

    /// <summary>The power iteration of a lag stops once σ changes by less than this fraction between two iterations
    /// (0: always <see cref="PowerIterations"/>). Default 1e-6.</summary>
    public double Tolerance { get; init; } = 1e-6;

    /// <summary>Seed of the power iteration's random start vectors. Default 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>The lags at which σ_max of the Jacobian product is estimated (each in 1..K); null: 1, 2, 4, 8, … and K
    /// (a power iteration over lag k costs 2k Jacobian products per iteration, so all K lags cost K² / 2 times more).</summary>
    public IReadOnlyList<int>? SingularValueLags { get; init; }

    /// <summary>At most this many end steps t (evenly spaced over K ≤ t ≤ T - 1) over which the per-lag gradient norms
    /// are averaged. Default 16.</summary>
    public int MaxOrigins { get; init; } = 16;

    /// <summary>Iterations of the spectral-radius estimate of each W_hh gate block. Default 300.</summary>
    public int SpectralIterations { get; init; } = 300;
}

/// <summary>The fraction of saturated activations of one kind in a layer, over every unit and step of the sequence.</summary>
/// <param name="Name">The activation: <c>h</c> (Elman), <c>i f g o tanh(c)</c> (LSTM), <c>r z n</c> (GRU).</param>
/// <param name="Rule">The threshold used: |tanh| &gt; 0.99, σ outside [0.01, 0.99], or a ReLU's a ≤ 0.</param>
/// <param name="Fraction">Saturated share in [0, 1].</param>
public sealed record GateSaturation(string Name, string Rule, double Fraction);

/// <summary>σ_max of one layer's Jacobian product ∏_(τ=t-k+1..t) ∂s_τ/∂s_(τ-1) over k steps (chapter Eq. 2.10).</summary>
/// <param name="Lag">k.</param>
/// <param name="SigmaMax">Largest singular value, by <see cref="GradientFlowOptions.PowerIterations"/> power iterations
/// on PᵀP (a lower bound that converges to σ_max).</param>
public sealed record LagSingularValue(int Lag, double SigmaMax);

/// <summary>What <see cref="GradientFlow.Analyze{T}"/> found for one layer.</summary>
/// <param name="Layer">Layer index (0 = bottom).</param>
/// <param name="Hidden">H of the layer.</param>
/// <param name="StateSize">Elements of the state s whose Jacobian is analysed: H, or 2H for LSTM (s = [h; c]).</param>
/// <param name="RecurrentSpectralRadius">Spectral radius of each H x H gate block of W_hh, in the cell's gate order
/// (one for Elman, i f g o for LSTM, r z n for GRU).</param>
/// <param name="Saturation">Saturated fractions of the layer's activations.</param>
/// <param name="JacobianSingularValues">σ_max of the layer's own Jacobian product at the lags analysed, for the
/// product ending at the last step t = T - 1 (the layer's input from below held fixed).</param>
public sealed record LayerGradientFlow(int Layer, int Hidden, int StateSize, IReadOnlyList<double> RecurrentSpectralRadius,
    IReadOnlyList<GateSaturation> Saturation, IReadOnlyList<LagSingularValue> JacobianSingularValues);

/// <summary>The result of <see cref="GradientFlow.Analyze{T}"/>.</summary>
/// <param name="Cell">The network's cell.</param>
/// <param name="Steps">T, steps of the sequence.</param>
/// <param name="MaxLag">K.</param>
/// <param name="Origins">How many end steps t the gradient norms were averaged over.</param>
/// <param name="GradientNorms">K entries, entry k - 1 the mean over t of ‖∂L_t/∂s_(t-k)‖₂ of the top layer's state
/// (chapter Eq. 2.9; s = [h; c] for LSTM), L_t the step-t loss (see <see cref="GradientFlow.Analyze{T}"/>).</param>
/// <param name="DecayPerLag">exp of the least-squares slope of ln(norm) over the lag: the mean factor by which the
/// gradient shrinks (&lt; 1) or grows (&gt; 1) per step back (NaN when a norm is zero).</param>
/// <param name="Layers">Per-layer results, bottom first.</param>
public sealed record GradientFlowReport(CellType Cell, int Steps, int MaxLag, int Origins, IReadOnlyList<double> GradientNorms,
    double DecayPerLag, IReadOnlyList<LayerGradientFlow> Layers);

/// <summary>
/// Vanishing and exploding gradient diagnostics (chapter section 2.4, Eq. 2.9 and 2.10) of a network on one sequence,
/// in double precision from the network's current parameters: per-lag gradient norms, σ_max of the per-layer Jacobian
/// products by power iteration with Jacobian-vector and vector-Jacobian products (nothing H x H·k is formed), the
/// spectral radius of each W_hh and the fraction of saturated units per layer. Reads the network; changes nothing.
/// </summary>
public static class GradientFlow
{
    /// <summary>
    /// Analyses <paramref name="network"/> on one sequence (batch 1, from the zero state).
    /// </summary>
    /// <param name="network">The network (any cell with a Jacobian here: Elman, LSTM, GRU).</param>
    /// <param name="inputs">T x I, time-major.</param>
    /// <param name="targets">T x O; the step loss is L_t = ½‖y_t - d_t‖². Empty: L_t = Σ_o y_(t,o) (so ∂L_t/∂h_t =
    /// W_outᵀ 1, independent of any target).</param>
    /// <param name="options">Lags, iterations, seed; null for the defaults.</param>
    /// <exception cref="ArgumentException">Inputs not a whole number of steps, targets of the wrong length, K &lt; 1 or
    /// K ≥ T, a σ lag outside 1..K, or fewer than one iteration / origin.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static GradientFlowReport Analyze<T>(RecurrentNetwork<T> network, ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets = default, GradientFlowOptions? options = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        options ??= new GradientFlowOptions();
        NetworkArchitecture arch = network.Architecture;
        int inSize = arch.InputSize, outSize = arch.OutputSize;
        if (inputs.Length == 0 || inputs.Length % inSize != 0)
            throw new ArgumentException($"Inputs have {inputs.Length} elements; a sequence of T steps x {inSize} inputs needs a positive multiple of {inSize}.", nameof(inputs));
        int steps = inputs.Length / inSize;
        if (!targets.IsEmpty && targets.Length != steps * outSize)
            throw new ArgumentException($"Targets have {targets.Length} elements; {steps} steps x {outSize} outputs need {steps * outSize}.", nameof(targets));
        int k = options.MaxLag;
        if (k < 1) throw new ArgumentException($"MaxLag is {k}; it must be at least 1.", nameof(options));
        if (k >= steps) throw new ArgumentException($"MaxLag is {k} but the sequence has {steps} steps; it must be at most T - 1 = {steps - 1}.", nameof(options));
        if (options.PowerIterations < 1) throw new ArgumentException($"PowerIterations is {options.PowerIterations}; it must be at least 1.", nameof(options));
        if (options.MaxOrigins < 1) throw new ArgumentException($"MaxOrigins is {options.MaxOrigins}; it must be at least 1.", nameof(options));
        if (!(options.Tolerance >= 0)) throw new ArgumentException($"Tolerance is {options.Tolerance}; it must be zero or positive.", nameof(options));
        if (options.SpectralIterations < 2) throw new ArgumentException($"SpectralIterations is {options.SpectralIterations}; it must be at least 2.", nameof(options));
        int[] lags = (options.SingularValueLags ?? DefaultLags(k)).ToArray();
        foreach (int lag in lags)
            if (lag < 1 || lag > k) throw new ArgumentException($"Singular-value lag {lag} is outside 1..{k}.", nameof(options));

        LayerTrace[] traces = Trace(network, inputs);
        double[] p = ToDouble(network.Parameters);
        ParameterSlice ro = network.Layout.Get(-1, ParameterKind.ReadoutWeight), rb = network.Layout.Get(-1, ParameterKind.ReadoutBias);
        LayerTrace top = traces[^1];

        // Origins: end steps t in [K, T - 1], evenly spaced, the last step always included.
        int span = steps - 1 - k, count = Math.Min(options.MaxOrigins, span + 1);
        var origins = new int[count];
        for (int i = 0; i < count; i++) origins[i] = steps - 1 - (count == 1 ? 0 : (int)Math.Round((double)i * span / (count - 1)));

        // All origins at once: sweeping τ down from the last origin, the vector of origin t is active while
        // t - K < τ ≤ t; after J_τᵀ it holds ∂L_t/∂s_(τ-1), lag t - τ + 1 (Eq. 2.9, one pass over W_hh per τ).
        var norms = new double[k];
        int n = top.StateSize, ht = top.Hidden;
        double[][] u = Vectors(count, n), w = Vectors(count, n);
        double[] e = new double[outSize];
        for (int i = 0; i < count; i++)
        {
            int t = origins[i];
            // ∂L_t/∂h_t = W_outᵀ e, e = y_t - d_t (or 1); the c part of an LSTM state starts at zero.
            ReadOnlySpan<double> h = top.H(t);
            for (int o = 0; o < outSize; o++)
            {
                double y = p[rb.Offset + o] + TensorPrimitives.Dot(p.AsSpan(ro.Offset + o * ht, ht), h) + DirectReadout(network, p, inputs, t, o);
                e[o] = targets.IsEmpty ? 1 : y - double.CreateChecked(targets[t * outSize + o]);
            }
            for (int o = 0; o < outSize; o++) TensorPrimitives.MultiplyAdd(p.AsSpan(ro.Offset + o * ht, ht), e[o], u[i].AsSpan(0, ht), u[i].AsSpan(0, ht));
        }
        var au = new double[count][];
        var aw = new double[count][];
        var active = new int[count];
        for (int tau = origins[0]; tau > origins[^1] - k; tau--)
        {
            int m = 0;
            for (int i = 0; i < count; i++) if (origins[i] >= tau && origins[i] - k < tau) { active[m] = i; au[m] = u[i]; aw[m] = w[i]; m++; }
            top.VjpMany(tau, au, aw, m);
            for (int j = 0; j < m; j++)
            {
                int i = active[j];
                (u[i], w[i]) = (w[i], u[i]);
                norms[origins[i] - tau] += TensorPrimitives.Norm<double>(u[i]) / count;
            }
        }

        var rng = new Rng(options.Seed);
        var layers = new LayerGradientFlow[traces.Length];
        for (int l = 0; l < traces.Length; l++)
        {
            LayerTrace tr = traces[l];
            double[] sigma = SigmaMax(tr, steps - 1, lags, options.PowerIterations, options.Tolerance, rng);
            var sv = new LagSingularValue[lags.Length];
            for (int i = 0; i < lags.Length; i++) sv[i] = new LagSingularValue(lags[i], sigma[i]);
            int g = tr.GateCount, hh = tr.Hidden;
            var rho = new double[g];
            for (int b = 0; b < g; b++) rho[b] = SpectralRadius(tr.Whh.AsSpan(b * hh * hh, hh * hh), hh, options.SpectralIterations, rng);
            layers[l] = new LayerGradientFlow(l, hh, tr.StateSize, rho, tr.Saturation(), sv);
        }
        return new GradientFlowReport(arch.Cell, steps, k, count, norms, DecayRate(norms), layers);
    }

    /// <summary>1, 2, 4, … below K, then K.</summary>
    internal static int[] DefaultLags(int k)
    {
        var lags = new List<int>();
        for (int l = 1; l < k; l *= 2) lags.Add(l);
        lags.Add(k);
        return [.. lags];
    }

    /// <summary>Runs every layer's double-precision forward over the sequence (internal: tests read the traces).</summary>
    internal static LayerTrace[] Trace<T>(RecurrentNetwork<T> network, ReadOnlySpan<T> inputs) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        NetworkArchitecture arch = network.Architecture;
        int steps = inputs.Length / arch.InputSize;
        double[] p = ToDouble(network.Parameters);
        double[] x = ToDouble(inputs);
        var traces = new LayerTrace[arch.NumLayers];
        for (int l = 0; l < arch.NumLayers; l++)
        {
            double[] Slice(ParameterKind kind) { ParameterSlice s = network.Layout.Get(l, kind); return p.AsSpan(s.Offset, s.Length).ToArray(); }
            traces[l] = LayerTrace.Create(arch.Cell, arch.Activation, steps, arch.LayerInputSize(l), arch.HiddenSizes[l],
                Slice(ParameterKind.InputWeight), Slice(ParameterKind.RecurrentWeight), Slice(ParameterKind.InputBias), Slice(ParameterKind.RecurrentBias));
            traces[l].Run(l == 0 ? x : traces[l - 1].HOut);
        }
        return traces;
    }

    /// <summary>
    /// σ_max of P_k = J_t ⋯ J_(t-k+1) for every k of <paramref name="lags"/>, by power iteration on P_kᵀP_k:
    /// v ← P_kᵀ P_k v / ‖·‖, σ = ‖P_k v‖. All lags iterate together: a forward sweep τ = t - max k + 1 … t applies J_τ
    /// (JVP) to the vectors whose product contains it, a backward sweep J_τᵀ (VJP), so each step's W_hh is read once per
    /// sweep for all lags. A lag stops when σ changes by less than <paramref name="tolerance"/> (relative).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double[] SigmaMax(LayerTrace trace, int t, IReadOnlyList<int> lags, int iterations, double tolerance, Rng rng)
    {
        int n = trace.StateSize, count = lags.Count, kmax = lags.Max();
        double[][] v = Vectors(count, n), w = Vectors(count, n);
        var sigma = new double[count];
        var done = new bool[count];
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < n; j++) v[i][j] = rng.NextDouble() - 0.5;
            Normalize(v[i]);
        }
        var av = new double[count][];
        var aw = new double[count][];
        var active = new int[count];
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        int Active(int tau)
        {
            int m = 0;
            for (int i = 0; i < count; i++) if (!done[i] && t - lags[i] < tau) { active[m] = i; av[m] = v[i]; aw[m] = w[i]; m++; }
            return m;
        }
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Swap(int m) { for (int j = 0; j < m; j++) { int i = active[j]; (v[i], w[i]) = (w[i], v[i]); } }
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Forward()
        {
            for (int tau = t - kmax + 1; tau <= t; tau++) { int m = Active(tau); trace.JvpMany(tau, av, aw, m); Swap(m); }
        }
        for (int it = 0; it <= iterations; it++)
        {
            Forward();
            bool any = false;
            for (int i = 0; i < count; i++)
            {
                if (done[i]) continue;
                double s = TensorPrimitives.Norm<double>(v[i]);
                if (it == iterations || s == 0 || !double.IsFinite(s) || (it > 0 && Math.Abs(s - sigma[i]) <= tolerance * s)) done[i] = true;
                else any = true;
                sigma[i] = Math.Max(s, double.IsFinite(sigma[i]) ? sigma[i] : 0);
                if (s == 0 || !double.IsFinite(s)) sigma[i] = s;
            }
            if (!any) break;
            for (int tau = t; tau > t - kmax; tau--) { int m = Active(tau); trace.VjpMany(tau, av, aw, m); Swap(m); }
            for (int i = 0; i < count; i++) if (!done[i] && Normalize(v[i]) == 0) { done[i] = true; sigma[i] = 0; }
        }
        return sigma;
    }

    private static double[][] Vectors(int count, int length)
    {
        var v = new double[count][];
        for (int i = 0; i < count; i++) v[i] = new double[length];
        return v;
    }

    /// <summary>
    /// Spectral radius ρ(A) of a real n x n matrix (row-major) by Gelfand's formula ρ = lim ‖Aᵐ v‖^(1/m): power
    /// iteration with normalisation, ρ ≈ exp of the mean log growth ln‖A v_i‖ over the second half of the iterations.
    /// Unlike the Rayleigh quotient this converges when the dominant eigenvalues are a complex pair (error
    /// O(1/iterations) in ln ρ; exact for normal matrices with a single dominant modulus in the limit).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double SpectralRadius(ReadOnlySpan<double> a, int n, int iterations, Rng rng)
    {
        double[] v = new double[n], w = new double[n];
        for (int i = 0; i < n; i++) v[i] = rng.NextDouble() - 0.5;
        Normalize(v);
        double logSum = 0;
        int counted = 0;
        for (int it = 0; it < iterations; it++)
        {
            for (int r = 0; r < n; r++) w[r] = TensorPrimitives.Dot(a.Slice(r * n, n), v);
            double g = Normalize(w);
            if (g == 0) return 0;
            if (it >= iterations / 2) { logSum += Math.Log(g); counted++; }
            (v, w) = (w, v);
        }
        return Math.Exp(logSum / counted);
    }

    private static double DecayRate(double[] norms)
    {
        int n = norms.Length;
        if (n < 2) return double.NaN;
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < n; i++)
        {
            if (!(norms[i] > 0) || !double.IsFinite(norms[i])) return double.NaN;
            double x = i + 1, y = Math.Log(norms[i]);
            sx += x; sy += y; sxx += x * x; sxy += x * y;
        }
        return Math.Exp((n * sxy - sx * sy) / (n * sxx - sx * sx));
    }

    private static double Normalize(Span<double> v)
    {
        double norm = TensorPrimitives.Norm<double>(v);
        if (norm > 0) TensorPrimitives.Multiply(v, 1 / norm, v);
        return norm;
    }

    /// <summary>W_xo x_t of output <paramref name="o"/> (0 without <see cref="NetworkArchitecture.InputToOutput"/>).</summary>
    private static double DirectReadout<T>(RecurrentNetwork<T> network, double[] p, ReadOnlySpan<T> inputs, int t, int o)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        NetworkArchitecture a = network.Architecture;
        if (!a.InputToOutput) return 0;
        int i = a.InputSize, offset = network.Layout.Get(-1, ParameterKind.ReadoutInputWeight).Offset + o * i;
        double sum = 0;
        for (int j = 0; j < i; j++) sum += p[offset + j] * double.CreateChecked(inputs[t * i + j]);
        return sum;
    }

    private static double[] ToDouble<T>(ReadOnlySpan<T> values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var d = new double[values.Length];
        for (int i = 0; i < d.Length; i++) d[i] = double.CreateChecked(values[i]);
        return d;
    }
}
