using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Alternatives.Readout;

/// <summary>
/// A linear readout y = β z fitted in closed form by weighted ridge regression (Tikhonov regularisation): the readout
/// of echo state networks (Lukoševičius and Jaeger 2009, §3.1; Lukoševičius 2012, "A Practical Guide to Applying Echo
/// State Networks", §4.1 Eq. 9, W_out = Y_target Xᵀ (X Xᵀ + β I)⁻¹) and of Evolino (Schmidhuber, Wierstra, Gagliolo and
/// Gomez 2007, §2: the output layer computed by linear regression over the collected hidden states).
/// </summary>
/// <remarks>
/// <para>
/// Rows (z_t, y_t, w_t) with a feature row z_t of length D (the caller decides what it holds: [state; input; 1] for an
/// echo state network, [h; 1] for Evolino), a target row y_t of length O and a weight w_t ≥ 0 accumulate the weighted
/// Gram matrix G = Σ_t w_t z_t z_tᵀ (D x D) and the cross term B = Σ_t w_t z_t y_tᵀ (D x O), in double whatever the
/// element type of the rows. <see cref="Solve(double)"/> solves (G + λ I′) βᵀ = B by Cholesky in double and returns β,
/// O x D row-major (the layout of the network's readout weight, <c>readout.weight</c>).
/// </para>
/// <para>
/// I′ is the identity, except that with <c>lastFeatureIsBias</c> its last diagonal entry is 0: the bias column (a
/// constant 1 the caller appends) is then not shrunk toward zero, so the fit is invariant to a shift of the targets
/// (as scikit-learn's Ridge with an intercept, which the study authors' ESN example uses). Without it every column is
/// regularised, as in Lukoševičius 2012 Eq. 9 taken literally.
/// </para>
/// <para>
/// Accumulation: rows are buffered in blocks of <see cref="BlockRows"/> (scaled copies w_t z_t beside z_t), and each
/// full block is one symmetric rank-k update G += (W Z)ᵀ Z computed as GEMMs over column panels of G's lower
/// triangle only (half the work of a full product), and one GEMM B += (W Z)ᵀ Y. Rows of weight 0 are skipped: they
/// contribute nothing, exactly. Nothing allocates after construction except the GEMM's per-thread packing buffers at
/// its first call on a thread. The summation order depends on the block size and the ISA path, not on threads.
/// </para>
/// <para>
/// Per-row weights only: a target weight that differs between the O outputs of one step needs one readout per output
/// column (O = 1 each); the callers do that.
/// </para>
/// </remarks>
public sealed class RidgeReadout
{
    /// <summary>Rows buffered before one rank-k update: K of the GEMM, one of its K blocks (GemmBlocking KC = 256).</summary>
    public const int BlockRows = 256;

    /// <summary>Width of a column panel of G's lower triangle in the symmetric update: small enough that the skipped
    /// upper triangle is most of the upper half, large enough that each GEMM is a full micro-kernel tile tall.</summary>
    private const int PanelColumns = 96;

    private readonly double[] _gram;      // D x D, lower triangle (j ≤ i) maintained
    private readonly double[] _cross;     // D x O
    private readonly double[] _block;     // BlockRows x D, the buffered z rows
    private readonly double[] _weighted;  // BlockRows x D, w · z
    private readonly double[] _targets;   // BlockRows x O
    private readonly double[] _factor;    // D x D, Cholesky factor L (lower)
    private readonly double[] _column;    // D, one right-hand side / solution
    private readonly double[] _targetSquares; // O, Σ w y_j²
    private int _buffered;

    /// <summary>16 ε (ε = 2⁻⁵² the double machine epsilon): a pivot at most 16·D·ε of its diagonal is rounding noise.</summary>
    private const double PivotTolerance = 16 * 2.220446049250313e-16;

    /// <summary>Creates an empty accumulator (allocates G, B, the block buffers and the factor: about 16·D² bytes).</summary>
    /// <param name="features">D, the length of every feature row z.</param>
    /// <param name="outputs">O, the length of every target row y.</param>
    /// <param name="lastFeatureIsBias">Whether the last feature is the constant bias column, left unregularised.</param>
    /// <exception cref="ArgumentOutOfRangeException">features or outputs is below 1.</exception>
    public RidgeReadout(int features, int outputs, bool lastFeatureIsBias = false)
    {
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "The readout needs at least 1 feature.");
        if (outputs < 1) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "The readout needs at least 1 output.");
        if ((long)features * features > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(features), features, $"A Gram matrix of {features} x {features} does not fit in one array.");
        Features = features;
        Outputs = outputs;
        LastFeatureIsBias = lastFeatureIsBias;
        _gram = new double[features * features];
        _cross = new double[features * outputs];
        _block = new double[BlockRows * features];
        _weighted = new double[BlockRows * features];
        _targets = new double[BlockRows * outputs];
        _factor = new double[features * features];
        _column = new double[features];
        _targetSquares = new double[outputs];
    }

    /// <summary>D, the length of a feature row.</summary>
    public int Features { get; }

    /// <summary>O, the length of a target row.</summary>
    public int Outputs { get; }

    /// <summary>Whether the last feature is the bias column, which <see cref="Solve(double)"/> does not regularise.</summary>
    public bool LastFeatureIsBias { get; }

    /// <summary>Rows of positive weight added since construction or <see cref="Reset"/>.</summary>
    public long Rows { get; private set; }

    /// <summary>Σ w_t over the rows added.</summary>
    public double WeightSum { get; private set; }

    /// <summary>Forgets every row (G = 0, B = 0).</summary>
    public void Reset()
    {
        Array.Clear(_gram);
        Array.Clear(_cross);
        Array.Clear(_targetSquares);
        _buffered = 0;
        Rows = 0;
        WeightSum = 0;
    }

    /// <summary>Adds one row: G += w z zᵀ, B += w z yᵀ. A row of weight 0 is ignored. Allocates nothing.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="z">The feature row, length D.</param>
    /// <param name="y">The target row, length O.</param>
    /// <param name="weight">w ≥ 0, finite.</param>
    /// <exception cref="ArgumentException">A length differs from D or O.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The weight is negative, NaN or infinite.</exception>
    public void Add<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> y, double weight) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (z.Length != Features) ThrowHelper.ThrowArgument(nameof(z), $"The feature row has {z.Length} values; the readout has {Features} features.");
        if (y.Length != Outputs) ThrowHelper.ThrowArgument(nameof(y), $"The target row has {y.Length} values; the readout has {Outputs} outputs.");
        if (!(weight >= 0) || double.IsPositiveInfinity(weight)) ThrowHelper.ThrowArgumentOutOfRange(nameof(weight), $"A row weight must be finite and non-negative; got {weight}.");
        if (weight == 0) return;
        int d = Features, o = Outputs, r = _buffered;
        Span<double> row = _block.AsSpan(r * d, d);
        Span<double> scaled = _weighted.AsSpan(r * d, d);
        Span<double> target = _targets.AsSpan(r * o, o);
        if (typeof(T) == typeof(double))
        {
            MemoryMarshal.Cast<T, double>(z).CopyTo(row);
            MemoryMarshal.Cast<T, double>(y).CopyTo(target);
        }
        else
        {
            for (int i = 0; i < d; i++) row[i] = double.CreateTruncating(z[i]);
            for (int j = 0; j < o; j++) target[j] = double.CreateTruncating(y[j]);
        }
        TensorPrimitives.Multiply(row, weight, scaled);
        for (int j = 0; j < o; j++) _targetSquares[j] += weight * target[j] * target[j];
        Rows++;
        WeightSum += weight;
        if (++_buffered == BlockRows) Flush();
    }

    /// <summary>Adds <paramref name="rows"/> rows at once (each as <see cref="Add{T}"/>); weights null means 1 for every row.</summary>
    /// <param name="z">rows x D feature rows, row-major.</param>
    /// <param name="y">rows x O target rows, row-major.</param>
    /// <param name="weights">rows weights ≥ 0, or empty for 1 everywhere.</param>
    /// <param name="rows">The number of rows.</param>
    /// <typeparam name="T">float or double.</typeparam>
    public void AddRows<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> y, ReadOnlySpan<T> weights, int rows) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (rows < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), $"The row count must be non-negative; got {rows}.");
        if (z.Length != (long)rows * Features) ThrowHelper.ThrowArgument(nameof(z), $"{rows} feature rows of {Features} need {(long)rows * Features} values; got {z.Length}.");
        if (y.Length != (long)rows * Outputs) ThrowHelper.ThrowArgument(nameof(y), $"{rows} target rows of {Outputs} need {(long)rows * Outputs} values; got {y.Length}.");
        if (!weights.IsEmpty && weights.Length != rows) ThrowHelper.ThrowArgument(nameof(weights), $"{rows} rows need {rows} weights (or none); got {weights.Length}.");
        for (int t = 0; t < rows; t++)
        {
            double w = weights.IsEmpty ? 1.0 : double.CreateTruncating(weights[t]);
            Add(z.Slice(t * Features, Features), y.Slice(t * Outputs, Outputs), w);
        }
    }

    /// <summary>
    /// Solves (G + λ I′) βᵀ = B and returns β, O x D row-major (a new array; see the overload that writes into a span).
    /// </summary>
    /// <param name="lambda">The ridge parameter λ ≥ 0 (Lukoševičius 2012 §4.1: β in his Eq. 9).</param>
    /// <exception cref="ArgumentOutOfRangeException">λ is negative, NaN or infinite.</exception>
    /// <exception cref="InvalidOperationException">G + λ I′ is not positive definite (λ = 0 and collinear or constant
    /// features, or no rows at all); the message names the column whose pivot failed.</exception>
    public double[] Solve(double lambda)
    {
        var beta = new double[Outputs * Features];
        Solve(lambda, beta.AsSpan());
        return beta;
    }

    /// <summary>
    /// Solves (G + λ I′) βᵀ = B by Cholesky in double and writes β, O x D row-major, into <paramref name="weights"/>
    /// (overwritten; converted to T). The accumulated G and B are kept: solving again with another λ, or adding more
    /// rows first, is allowed. Allocates nothing.
    /// </summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="lambda">The ridge parameter λ ≥ 0.</param>
    /// <param name="weights">Destination, length O·D: row o holds output o's weights over the D features.</param>
    /// <exception cref="ArgumentOutOfRangeException">λ is negative, NaN or infinite.</exception>
    /// <exception cref="ArgumentException">The destination is too short.</exception>
    /// <exception cref="InvalidOperationException">G + λ I′ is not positive definite; the column is named.</exception>
    public void Solve<T>(double lambda, Span<T> weights) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (!(lambda >= 0) || double.IsPositiveInfinity(lambda)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, $"The ridge parameter must be finite and non-negative; got {lambda}.");
        int d = Features, o = Outputs;
        if (weights.Length < o * d) ThrowHelper.ThrowDestinationTooShort(nameof(weights), o * d, weights.Length);
        Flush();
        Factor(lambda);
        Span<double> x = _column;
        for (int j = 0; j < o; j++)
        {
            for (int i = 0; i < d; i++) x[i] = _cross[i * o + j];
            SolveFactored(x);
            Span<T> dest = weights.Slice(j * d, d);
            for (int i = 0; i < d; i++) dest[i] = T.CreateTruncating(x[i]);
        }
    }

    /// <summary>
    /// Σ_t w_t ‖y_t - β z_t‖² over the rows added, for any β (O x D row-major), from the accumulated sums without
    /// revisiting the rows: Σ w y² - 2 Σ_j β_j·B_j + Σ_j β_jᵀ G β_j. Rounding: the terms cancel when the fit is
    /// nearly exact, so the result is accurate to about 1e-12 of Σ w y², and clamped at 0. Allocates nothing.
    /// </summary>
    /// <param name="beta">β, length O·D.</param>
    public double WeightedSquaredError(ReadOnlySpan<double> beta)
    {
        int d = Features, o = Outputs;
        if (beta.Length < o * d) ThrowHelper.ThrowArgument(nameof(beta), $"β needs {o * d} values; got {beta.Length}.");
        Flush();
        double total = 0;
        for (int j = 0; j < o; j++)
        {
            ReadOnlySpan<double> b = beta.Slice(j * d, d);
            double cross = 0, quad = 0;
            for (int i = 0; i < d; i++)
            {
                cross += b[i] * _cross[i * o + j];
                // Row i of G's lower triangle: G_ii b_i² + 2 b_i Σ_(k<i) G_ik b_k.
                quad += b[i] * (_gram[i * d + i] * b[i] + 2 * TensorPrimitives.Dot(_gram.AsSpan(i * d, i), b[..i]));
            }
            total += Math.Max(0, _targetSquares[j] - 2 * cross + quad);
        }
        return total;
    }

    /// <summary>Writes the full symmetric G (D x D) and B (D x O) accumulated so far (for tests and diagnostics).</summary>
    internal void CopyNormalEquations(Span<double> gram, Span<double> cross)
    {
        Flush();
        int d = Features;
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                gram[i * d + j] = _gram[i * d + j];
                gram[j * d + i] = _gram[i * d + j];
            }
        }
        _cross.AsSpan().CopyTo(cross);
    }

    /// <summary>G's lower triangle += (W Z)ᵀ Z, B += (W Z)ᵀ Y over the buffered rows.</summary>
    private void Flush()
    {
        int k = _buffered;
        if (k == 0) return;
        int d = Features, o = Outputs;
        ReadOnlySpan<double> z = _block.AsSpan(0, k * d), wz = _weighted.AsSpan(0, k * d);
        // Panel [i0, i1) of rows of G, columns [0, i1): op(A) = (W Z)[:, i0..i1)ᵀ (stored k x D, lda = D), B = Z[:, 0..i1).
        for (int i0 = 0; i0 < d; i0 += PanelColumns)
        {
            int m = Math.Min(PanelColumns, d - i0), n = i0 + m;
            Gemm.Multiply(Transpose.Transposed, Transpose.None, m, n, k, 1.0, wz[i0..], d, z, d, 1.0, _gram.AsSpan(i0 * d), d);
        }
        Gemm.Multiply(Transpose.Transposed, Transpose.None, d, o, k, 1.0, wz, d, _targets.AsSpan(0, k * o), o, 1.0, _cross.AsSpan(), o);
        _buffered = 0;
    }

    /// <summary>
    /// L Lᵀ = G + λ I′ (Cholesky-Crout by rows, each entry one SIMD dot product of two contiguous row prefixes of L).
    /// A pivot that is not clearly positive (at most 16·D·ε of its diagonal entry, or NaN) means the matrix is not
    /// positive definite to working precision.
    /// </summary>
    private void Factor(double lambda)
    {
        int d = Features;
        double[] l = _factor;
        for (int i = 0; i < d; i++)
        {
            ReadOnlySpan<double> li = l.AsSpan(i * d, i);
            for (int j = 0; j < i; j++)
            {
                double s = _gram[i * d + j] - TensorPrimitives.Dot(li[..j], l.AsSpan(j * d, j));
                l[i * d + j] = s / l[j * d + j];
            }
            double diagonal = _gram[i * d + i] + (LastFeatureIsBias && i == d - 1 ? 0 : lambda);
            double pivot = diagonal - TensorPrimitives.Dot(li, li);
            if (!(pivot > PivotTolerance * d * diagonal) || !double.IsFinite(pivot))
                ThrowNotPositiveDefinite(i, pivot, diagonal, lambda);
            l[i * d + i] = Math.Sqrt(pivot);
        }
    }

    /// <summary>x ← (L Lᵀ)⁻¹ x: forward substitution L c = x, then back substitution Lᵀ x = c by row axpys of L.</summary>
    private void SolveFactored(Span<double> x)
    {
        int d = Features;
        double[] l = _factor;
        for (int i = 0; i < d; i++) x[i] = (x[i] - TensorPrimitives.Dot(l.AsSpan(i * d, i), x[..i])) / l[i * d + i];
        for (int i = d - 1; i >= 0; i--)
        {
            double xi = x[i] / l[i * d + i];
            x[i] = xi;
            // x[0..i) -= xi · L[i, 0..i): row i of L is column i of Lᵀ.
            TensorPrimitives.MultiplyAdd(l.AsSpan(i * d, i), -xi, x[..i], x[..i]);
        }
    }

    private void ThrowNotPositiveDefinite(int column, double pivot, double diagonal, double lambda)
    {
        string what = Rows == 0 ? " (no rows of positive weight were added)" : "";
        throw new InvalidOperationException(
            $"The ridge system is not positive definite{what}: Cholesky pivot {pivot:G4} at feature column {column} of {Features} " +
            $"(diagonal {diagonal:G4}, λ = {lambda}); the features are collinear, constant or NaN: use a ridge λ > 0.");
    }
}
