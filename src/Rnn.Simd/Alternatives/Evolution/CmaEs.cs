using System.Numerics.Tensors;

namespace Rnn.Simd.Alternatives.Evolution;

/// <summary>Which covariance model <see cref="CmaEs"/> adapts.</summary>
public enum CmaEsVariant
{
    /// <summary>The full n x n covariance matrix C (Hansen 2016): O(n²) per sample, an O(n³) eigendecomposition every
    /// ⌈1 / (10 n (c_1 + c_μ))⌉ generations. Learns correlations (rotated problems).</summary>
    Full,

    /// <summary>sep-CMA-ES (Ros and Hansen 2008): C restricted to its diagonal, c_1 and c_μ multiplied by (n + 2) / 3;
    /// O(n) time and memory per sample, no eigendecomposition. For large n and (nearly) separable problems.</summary>
    Separable,

    /// <summary><see cref="Full"/> up to <see cref="CmaEsOptions.AutoSeparableAbove"/> dimensions, <see cref="Separable"/> above.</summary>
    Auto,
}

/// <summary>Options of <see cref="CmaEs"/>; the defaults are Hansen's (2016, Table 1).</summary>
public sealed record CmaEsOptions
{
    /// <summary>Above this many dimensions <see cref="CmaEsVariant.Auto"/> is separable: the full model's eigendecomposition
    /// (O(n³)) and covariance update (O(μ n²)) then dominate a small network's forward pass.</summary>
    public const int AutoSeparableAbove = 100;

    /// <summary>λ, candidates per generation; null (default) is Hansen's λ = 4 + ⌊3 ln n⌋. At least 2.</summary>
    public int? PopulationSize { get; init; }

    /// <summary>The covariance model (default <see cref="CmaEsVariant.Full"/>).</summary>
    public CmaEsVariant Variant { get; init; } = CmaEsVariant.Full;

    /// <summary>Seed of the sampling (the library's <see cref="Rng"/>); the same seed gives bitwise the same run.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (PopulationSize is int p && p < 2)
            throw new ArgumentOutOfRangeException(nameof(PopulationSize), p, "The population size must be at least 2 (null: 4 + ⌊3 ln n⌋).");
        if (!Enum.IsDefined(Variant)) throw new ArgumentOutOfRangeException(nameof(Variant), Variant, "Not a CmaEsVariant.");
    }

    /// <summary>The variant <see cref="CmaEsVariant.Auto"/> resolves to in <paramref name="dimension"/> dimensions.</summary>
    public CmaEsVariant Resolve(int dimension) =>
        Variant != CmaEsVariant.Auto ? Variant : dimension > AutoSeparableAbove ? CmaEsVariant.Separable : CmaEsVariant.Full;
}

/// <summary>
/// The covariance matrix adaptation evolution strategy, (μ/μ_W, λ)-CMA-ES with positive recombination weights, as
/// summarised in Hansen, "The CMA Evolution Strategy: A Tutorial" (2016, arXiv:1604.00772), Appendix A, with the default
/// parameters of its Table 1; or its separable variant sep-CMA-ES (Ros and Hansen 2008, "A Simple Modification in
/// CMA-ES Achieving Linear Time and Space Complexity"). Minimises; ask / tell (<see cref="IPopulationOptimizer"/>).
/// </summary>
/// <remarks>
/// <para>
/// One generation g: sample z_k ~ N(0, I), y_k = B D z_k (C = B D² Bᵀ), x_k = m + σ y_k for k = 1..λ (Eq. 38-40);
/// rank by fitness; ⟨y⟩_w = Σ_(i ≤ μ) w_i y_(i:λ), m ← m + σ⟨y⟩_w (Eq. 41, c_m = 1); cumulative step-size adaptation
/// p_σ ← (1 - c_σ) p_σ + √(c_σ(2 - c_σ)μ_eff) C^(-1/2) ⟨y⟩_w, σ ← σ exp(c_σ/d_σ (‖p_σ‖ / E‖N(0, I)‖ - 1)) (Eq. 43-44);
/// p_c ← (1 - c_c) p_c + h_σ √(c_c(2 - c_c)μ_eff) ⟨y⟩_w with the stall indicator h_σ = [‖p_σ‖ / √(1 - (1 - c_σ)^(2(g+1)))
/// &lt; (1.4 + 2/(n + 1)) E‖N(0, I)‖] (Eq. 45); and the rank-one plus rank-μ update
/// C ← (1 + c_1 δ(h_σ) - c_1 - c_μ) C + c_1 p_c p_cᵀ + c_μ Σ w_i y_(i:λ) y_(i:λ)ᵀ, δ(h_σ) = (1 - h_σ) c_c (2 - c_c) (Eq. 47).
/// </para>
/// <para>
/// Defaults (Table 1): λ = 4 + ⌊3 ln n⌋, μ = ⌊λ/2⌋, w_i ∝ ln((λ + 1)/2) - ln i summing to 1, μ_eff = 1 / Σ w_i²,
/// c_σ = (μ_eff + 2) / (n + μ_eff + 5), d_σ = 1 + 2 max(0, √((μ_eff - 1)/(n + 1)) - 1) + c_σ, c_c = (4 + μ_eff/n) /
/// (n + 4 + 2μ_eff/n), c_1 = 2 / ((n + 1.3)² + μ_eff), c_μ = min(1 - c_1, 2(μ_eff - 2 + 1/μ_eff) / ((n + 2)² + μ_eff)).
/// E‖N(0, I)‖ ≈ √n (1 - 1/(4n) + 1/(21n²)). The full model's eigendecomposition (cyclic Jacobi, in double) is refreshed
/// every max(1, ⌊1 / (10 n (c_1 + c_μ))⌋) generations (the tutorial's lazy update of B and D, O(n²) per sample on average).
/// </para>
/// <para>Equation numbers are those of the tutorial's Appendix A summary (arXiv:1604.00772). Every random number is drawn in
/// <see cref="Ask"/> on the caller's thread; nothing allocates after construction.</para>
/// </remarks>
public sealed class CmaEs : IPopulationOptimizer
{
    private readonly int _n, _lambda, _mu, _lazyGap;
    private readonly bool _separable;
    private readonly Rng _rng;
    private readonly double[] _weights;
    private readonly double[] _mean, _ps, _pc, _yw, _tmp, _tmp2;
    private readonly double[] _c;        // full: n x n row-major; separable: the diagonal, n
    private readonly double[] _b;        // full: eigenvectors, column j = eigenvector j (n x n row-major); separable: unused
    private readonly double[] _d;        // √ of the eigenvalues (separable: √ of the diagonal of C)
    private readonly double[] _work;     // full: the copy of C the eigendecomposition destroys
    private readonly double[] _y, _x;    // λ x n each: the steps y_k and the candidates x_k of the last Ask
    private readonly double[] _keys;
    private readonly int[] _order;
    private readonly double[] _best;
    private double _sigma;
    private int _generation, _eigenGeneration;
    private long _evaluations;
    private double _bestFitness = double.PositiveInfinity;
    private bool _asked, _canContinue = true;

    /// <summary>Creates the strategy at mean m = <paramref name="initialMean"/> with step size σ = <paramref name="initialSigma"/> and C = I.</summary>
    /// <exception cref="ArgumentException">The mean is empty or holds a non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">σ is not positive and finite, or an option is invalid.</exception>
    public CmaEs(ReadOnlySpan<double> initialMean, double initialSigma, CmaEsOptions? options = null)
    {
        options ??= new CmaEsOptions();
        options.Validate();
        if (initialMean.Length == 0) throw new ArgumentException("The initial mean is empty: the dimension must be at least 1.", nameof(initialMean));
        for (int i = 0; i < initialMean.Length; i++)
        {
            if (!double.IsFinite(initialMean[i])) throw new ArgumentException($"The initial mean holds {initialMean[i]} at index {i}.", nameof(initialMean));
        }
        if (!(initialSigma > 0) || !double.IsFinite(initialSigma))
            throw new ArgumentOutOfRangeException(nameof(initialSigma), initialSigma, "The initial step size σ must be positive and finite.");
        int n = _n = initialMean.Length;
        _separable = options.Resolve(n) == CmaEsVariant.Separable;
        Variant = _separable ? CmaEsVariant.Separable : CmaEsVariant.Full;
        _lambda = options.PopulationSize ?? 4 + (int)Math.Floor(3 * Math.Log(n));
        _mu = _lambda / 2;
        _rng = new Rng(options.Seed);

        // Recombination weights w_i ∝ ln((λ + 1)/2) - ln i, i = 1..μ, normalised to sum 1 (Table 1).
        _weights = new double[_mu];
        double sum = 0, sumSq = 0;
        for (int i = 0; i < _mu; i++) sum += _weights[i] = Math.Log((_lambda + 1) / 2.0) - Math.Log(i + 1);
        for (int i = 0; i < _mu; i++) { _weights[i] /= sum; sumSq += _weights[i] * _weights[i]; }
        MuEff = 1 / sumSq;
        double mueff = MuEff;
        CSigma = (mueff + 2) / (n + mueff + 5);
        DSigma = 1 + 2 * Math.Max(0, Math.Sqrt((mueff - 1) / (n + 1)) - 1) + CSigma;
        Cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n);
        double c1 = 2 / ((n + 1.3) * (n + 1.3) + mueff);
        double cmu = Math.Min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((n + 2.0) * (n + 2.0) + mueff));
        if (_separable)
        {
            // Ros and Hansen (2008): the diagonal model learns (n + 2) / 3 times faster.
            c1 = Math.Min(1, c1 * (n + 2) / 3.0);
            cmu = Math.Min(1 - c1, cmu * (n + 2) / 3.0);
        }
        C1 = c1;
        CMu = cmu;
        ExpectedNorm = Math.Sqrt(n) * (1 - 1.0 / (4 * n) + 1.0 / (21.0 * n * n));
        _lazyGap = Math.Max(1, (int)Math.Floor(1 / (10 * n * (c1 + cmu))));

        _mean = initialMean.ToArray();
        _best = initialMean.ToArray();
        _sigma = initialSigma;
        _ps = new double[n];
        _pc = new double[n];
        _yw = new double[n];
        _tmp = new double[n];
        _tmp2 = new double[n];
        _d = new double[n];
        Array.Fill(_d, 1.0);
        if (_separable)
        {
            _c = new double[n];
            Array.Fill(_c, 1.0);
            _b = [];
            _work = [];
        }
        else
        {
            _c = new double[n * n];
            _b = new double[n * n];
            _work = new double[n * n];
            for (int i = 0; i < n; i++) { _c[i * n + i] = 1; _b[i * n + i] = 1; }
        }
        _y = new double[_lambda * n];
        _x = new double[_lambda * n];
        _keys = new double[_lambda];
        _order = new int[_lambda];
    }

    /// <inheritdoc/>
    public int Dimension => _n;

    /// <inheritdoc/>
    public int PopulationSize => _lambda;

    /// <summary>μ = ⌊λ/2⌋, the number of candidates recombined.</summary>
    public int ParentCount => _mu;

    /// <summary>The covariance model in use (<see cref="CmaEsVariant.Auto"/> resolved).</summary>
    public CmaEsVariant Variant { get; }

    /// <summary>The recombination weights w_1 ≥ ... ≥ w_μ &gt; 0, summing to 1.</summary>
    public ReadOnlySpan<double> Weights => _weights;

    /// <summary>μ_eff = 1 / Σ w_i², the variance effective selection mass.</summary>
    public double MuEff { get; }

    /// <summary>c_σ, the learning rate of the step-size path.</summary>
    public double CSigma { get; }

    /// <summary>d_σ, the damping of the step-size update.</summary>
    public double DSigma { get; }

    /// <summary>c_c, the learning rate of the rank-one path p_c.</summary>
    public double Cc { get; }

    /// <summary>c_1, the learning rate of the rank-one update (sep-CMA: multiplied by (n + 2)/3).</summary>
    public double C1 { get; }

    /// <summary>c_μ, the learning rate of the rank-μ update (sep-CMA: multiplied by (n + 2)/3).</summary>
    public double CMu { get; }

    /// <summary>E‖N(0, I)‖ ≈ √n (1 - 1/(4n) + 1/(21n²)).</summary>
    public double ExpectedNorm { get; }

    /// <summary>σ, the current step size.</summary>
    public double Sigma => _sigma;

    /// <summary>m, the current mean of the search distribution.</summary>
    public ReadOnlySpan<double> Mean => _mean;

    /// <summary>p_σ, the conjugate evolution path of the step size.</summary>
    internal ReadOnlySpan<double> PathSigma => _ps;

    /// <summary>p_c, the evolution path of the rank-one update.</summary>
    internal ReadOnlySpan<double> PathC => _pc;

    /// <summary>The covariance C: n x n row-major (full), or its diagonal (separable).</summary>
    public ReadOnlySpan<double> Covariance => _c;

    /// <summary>The condition number of C as of the last eigendecomposition (max eigenvalue / min eigenvalue).</summary>
    public double ConditionNumber
    {
        get
        {
            double max = 0, min = double.PositiveInfinity;
            foreach (double d in _d) { max = Math.Max(max, d); min = Math.Min(min, d); }
            return max * max / (min * min);
        }
    }

    /// <summary>False once C's condition number exceeds 1e14 or σ·√(max eigenvalue) is no longer a positive finite
    /// number (the limit pycma and purecma stop at): further generations would be numerically meaningless.</summary>
    public bool CanContinue => _canContinue;

    /// <inheritdoc/>
    public int Generation => _generation;

    /// <inheritdoc/>
    public long Evaluations => _evaluations;

    /// <inheritdoc/>
    public double BestFitness => _bestFitness;

    /// <inheritdoc/>
    public ReadOnlySpan<double> BestSolution => _best;

    /// <inheritdoc/>
    public ReadOnlySpan<double> Candidate(int index)
    {
        if ((uint)index >= (uint)_lambda) ThrowHelper.ThrowArgumentOutOfRange(nameof(index), $"Candidate {index} does not exist; the population has {_lambda}.");
        return _x.AsSpan(index * _n, _n);
    }

    /// <inheritdoc/>
    public void Ask()
    {
        int n = _n;
        if (!_separable && _generation - _eigenGeneration >= _lazyGap) UpdateEigensystem();
        Span<double> dz = _tmp;
        for (int k = 0; k < _lambda; k++)
        {
            Span<double> y = _y.AsSpan(k * n, n), x = _x.AsSpan(k * n, n);
            // z ~ N(0, I); y = B D z (Eq. 39); separable: y = D z with D = √diag(C).
            for (int j = 0; j < n; j++) dz[j] = _d[j] * _rng.NextNormal();
            if (_separable) dz.CopyTo(y);
            else
            {
                for (int i = 0; i < n; i++) y[i] = TensorPrimitives.Dot(_b.AsSpan(i * n, n), dz);
            }
            // x = m + σ y (Eq. 40).
            TensorPrimitives.MultiplyAdd(y, _sigma, _mean, x);
        }
        _asked = true;
    }

    /// <inheritdoc/>
    public void Tell(ReadOnlySpan<double> fitness)
    {
        if (!_asked) throw new InvalidOperationException("Tell needs the candidates of an Ask first.");
        if (fitness.Length != _lambda) ThrowHelper.ThrowArgument(nameof(fitness), $"{fitness.Length} fitness values given for a population of {_lambda}.");
        _asked = false;
        int n = _n;
        PopulationOptimizer.Rank(fitness, _keys, _order);
        if (_keys[0] < _bestFitness)
        {
            _bestFitness = _keys[0];
            _x.AsSpan(_order[0] * n, n).CopyTo(_best);
        }

        // ⟨y⟩_w = Σ w_i y_(i:λ); m ← m + σ ⟨y⟩_w (Eq. 41).
        Span<double> yw = _yw;
        yw.Clear();
        for (int i = 0; i < _mu; i++) TensorPrimitives.MultiplyAdd(_y.AsSpan(_order[i] * n, n), _weights[i], yw, yw);
        TensorPrimitives.MultiplyAdd(yw, _sigma, _mean, _mean);

        // C^(-1/2) ⟨y⟩_w = B D⁻¹ Bᵀ ⟨y⟩_w (separable: ⟨y⟩_w / D).
        Span<double> invSqrtCy = _tmp;
        if (_separable) TensorPrimitives.Divide(yw, _d, invSqrtCy);
        else
        {
            Span<double> t = _tmp2;
            t.Clear();
            for (int i = 0; i < n; i++) TensorPrimitives.MultiplyAdd(_b.AsSpan(i * n, n), yw[i], t, t); // t = Bᵀ yw
            TensorPrimitives.Divide(t, _d, t);
            for (int i = 0; i < n; i++) invSqrtCy[i] = TensorPrimitives.Dot(_b.AsSpan(i * n, n), t);
        }

        // p_σ (Eq. 43) and the stall indicator h_σ.
        double mueff = MuEff, cs = CSigma, cc = Cc;
        TensorPrimitives.Multiply(_ps, 1 - cs, _ps);
        TensorPrimitives.MultiplyAdd(invSqrtCy, Math.Sqrt(cs * (2 - cs) * mueff), _ps, _ps);
        double psNorm = TensorPrimitives.Norm<double>(_ps);
        int g1 = _generation + 1;
        bool hsig = psNorm / Math.Sqrt(1 - Math.Pow(1 - cs, 2.0 * g1)) < (1.4 + 2.0 / (n + 1)) * ExpectedNorm;

        // p_c (Eq. 45).
        TensorPrimitives.Multiply(_pc, 1 - cc, _pc);
        if (hsig) TensorPrimitives.MultiplyAdd(yw, Math.Sqrt(cc * (2 - cc) * mueff), _pc, _pc);

        // C ← (1 + c_1 δ(h_σ) - c_1 - c_μ) C + c_1 p_c p_cᵀ + c_μ Σ w_i y_(i:λ) y_(i:λ)ᵀ (Eq. 47, Σ w_i = 1).
        double c1 = C1, cmu = CMu;
        double delta = hsig ? 0 : cc * (2 - cc);
        double keep = 1 + c1 * delta - c1 - cmu;
        if (_separable)
        {
            for (int j = 0; j < n; j++)
            {
                double rankMu = 0;
                for (int i = 0; i < _mu; i++) { double v = _y[_order[i] * n + j]; rankMu += _weights[i] * v * v; }
                _c[j] = keep * _c[j] + c1 * _pc[j] * _pc[j] + cmu * rankMu;
                _d[j] = Math.Sqrt(_c[j]);
            }
        }
        else
        {
            for (int r = 0; r < n; r++)
            {
                Span<double> row = _c.AsSpan(r * n, n);
                TensorPrimitives.Multiply(row, keep, row);
                TensorPrimitives.MultiplyAdd(_pc, c1 * _pc[r], row, row);
                for (int i = 0; i < _mu; i++)
                {
                    ReadOnlySpan<double> y = _y.AsSpan(_order[i] * n, n);
                    TensorPrimitives.MultiplyAdd(y, cmu * _weights[i] * y[r], row, row);
                }
            }
        }

        // σ (Eq. 44).
        _sigma *= Math.Exp(cs / DSigma * (psNorm / ExpectedNorm - 1));
        _generation++;
        _evaluations += _lambda;
        if (_separable) CheckNumerics();
    }

    /// <summary>C = B D² Bᵀ by the cyclic Jacobi method; negative eigenvalues from rounding are clamped to a tiny positive value.</summary>
    private void UpdateEigensystem()
    {
        int n = _n;
        _c.AsSpan().CopyTo(_work);
        Span<double> eigenvalues = _tmp;
        SymmetricEigen.Decompose(_work, n, eigenvalues, _b);
        double max = 0;
        for (int j = 0; j < n; j++) max = Math.Max(max, eigenvalues[j]);
        for (int j = 0; j < n; j++) _d[j] = Math.Sqrt(Math.Max(eigenvalues[j], max * 1e-300));
        // C itself is kept symmetric from its upper triangle, which the decomposition read.
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) _c[j * n + i] = _c[i * n + j];
        _eigenGeneration = _generation;
        CheckNumerics();
    }

    private void CheckNumerics()
    {
        double max = 0, min = double.PositiveInfinity;
        foreach (double d in _d) { max = Math.Max(max, d); min = Math.Min(min, d); }
        double spread = _sigma * max;
        if (!(spread > 0) || !double.IsFinite(spread) || !(min > 0) || max * max > 1e14 * min * min) _canContinue = false;
    }
}
