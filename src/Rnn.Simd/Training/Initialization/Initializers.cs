using System.Numerics;
using Rnn.Simd.Network;

namespace Rnn.Simd.Training.Initialization;

/// <summary>A random initialisation scheme for a weight matrix (chapter section 2.4).</summary>
public enum WeightInit
{
    /// <summary>Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (n_in + n_out)), so Var = 2 / (n_in + n_out).</summary>
    GlorotUniform = 0,
    /// <summary>Glorot/Xavier normal: N(0, 2 / (n_in + n_out)).</summary>
    GlorotNormal = 1,
    /// <summary>He (Kaiming) normal: N(0, 2 / n_in), for ReLU units.</summary>
    HeNormal = 2,
    /// <summary>He (Kaiming) uniform: U(-a, a), a = sqrt(6 / n_in), so Var = 2 / n_in.</summary>
    HeUniform = 3,
    /// <summary>The chapter's description of He et al.: U[0, 1) rescaled by 1 / sqrt(N_h), N_h the total number of hidden units of the network. Note every weight is then non-negative.</summary>
    UniformRescaled = 4,
    /// <summary>(Semi-)orthogonal: the Q factor of a random normal matrix (Haar distributed); square blocks satisfy WᵀW = I.</summary>
    Orthogonal = 5,
}

/// <summary>How <see cref="Initializers.Initialize{T}"/> sets up a network.</summary>
public sealed record InitializationOptions
{
    /// <summary>Scheme of each gate block of weight_ih (H x I_l). Default Glorot uniform.</summary>
    public WeightInit InputWeights { get; init; } = WeightInit.GlorotUniform;

    /// <summary>Scheme of each gate block of weight_hh (H x H). Default orthogonal.</summary>
    public WeightInit RecurrentWeights { get; init; } = WeightInit.Orthogonal;

    /// <summary>Scheme of readout.weight (O x H_top). Default Glorot uniform.</summary>
    public WeightInit ReadoutWeights { get; init; } = WeightInit.GlorotUniform;

    /// <summary>When set, each gate block of each weight_hh is then rescaled to this spectral radius (finite, positive); null leaves the scheme's scale.</summary>
    public double? RecurrentSpectralRadius { get; init; }

    /// <summary>Total forget-gate bias of LSTM layers (b_if + b_hf; default 1, Jozefowicz et al. 2015); ignored for other cells. Other biases are zero.</summary>
    public double LstmForgetGateBias { get; init; } = 1.0;

    /// <summary>Transform-gate bias b_T of every micro-layer of a recurrent highway network (default -2; Zilly et al.
    /// 2017 use about -2 to -4, so each micro-layer starts near carrying its state); ignored for other cells.</summary>
    public double HighwayTransformBias { get; init; } = -2.0;
}

/// <summary>
/// Weight initialisation against vanishing and exploding gradients (chapter section 2.4): Glorot, He, the chapter's
/// rescaled uniform, orthogonal recurrent weights, spectral-radius scaling and the LSTM forget-gate bias. All
/// randomness comes from <see cref="Rng"/>, so a seed gives bitwise the same weights everywhere.
/// </summary>
/// <remarks>
/// <para>
/// Gate blocks: weight_ih_l* is (G·H) x I and weight_hh_l* is (G·H) x H with the G gate blocks of H rows stacked
/// along the rows (i, f, g, o for LSTM; r, z, n for GRU). Each block maps its n_in = columns inputs to H units, so the
/// network-level methods initialise each block as its own H x columns matrix: n_in = columns, n_out = H (Keras,
/// which initialises the concatenated kernel, uses n_out = G·H instead). Orthogonality and spectral radius are per
/// block too.
/// </para>
/// <para>
/// The span-level methods overwrite a row-major rows x cols matrix; they allocate nothing except
/// <see cref="Orthogonal{T}"/> and the spectral-radius methods, which work in double on a scratch copy.
/// </para>
/// </remarks>
public static class Initializers
{
    /// <summary>Overwrites a row-major rows x cols matrix with Glorot/Xavier uniform values U(-a, a), a = sqrt(6 / (cols + rows)): Var = 2 / (n_in + n_out) with n_in = cols, n_out = rows.</summary>
    /// <exception cref="ArgumentException">The span is not rows · cols long, or a dimension is not positive.</exception>
    public static void GlorotUniform<T>(Span<T> weights, int rows, int cols, Rng rng) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckMatrix(weights.Length, rows, cols);
        ArgumentNullException.ThrowIfNull(rng);
        FillUniform(weights, Math.Sqrt(6.0 / (rows + cols)), rng);
    }

    /// <summary>Overwrites a row-major rows x cols matrix with Glorot/Xavier normal values N(0, 2 / (cols + rows)).</summary>
    /// <exception cref="ArgumentException">The span is not rows · cols long, or a dimension is not positive.</exception>
    public static void GlorotNormal<T>(Span<T> weights, int rows, int cols, Rng rng) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckMatrix(weights.Length, rows, cols);
        ArgumentNullException.ThrowIfNull(rng);
        FillNormal(weights, Math.Sqrt(2.0 / (rows + cols)), rng);
    }

    /// <summary>Overwrites a row-major rows x cols matrix with He normal values N(0, 2 / cols) (n_in = cols).</summary>
    /// <exception cref="ArgumentException">The span is not rows · cols long, or a dimension is not positive.</exception>
    public static void HeNormal<T>(Span<T> weights, int rows, int cols, Rng rng) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckMatrix(weights.Length, rows, cols);
        ArgumentNullException.ThrowIfNull(rng);
        FillNormal(weights, Math.Sqrt(2.0 / cols), rng);
    }

    /// <summary>Overwrites a row-major rows x cols matrix with He uniform values U(-a, a), a = sqrt(6 / cols): Var = 2 / n_in.</summary>
    /// <exception cref="ArgumentException">The span is not rows · cols long, or a dimension is not positive.</exception>
    public static void HeUniform<T>(Span<T> weights, int rows, int cols, Rng rng) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckMatrix(weights.Length, rows, cols);
        ArgumentNullException.ThrowIfNull(rng);
        FillUniform(weights, Math.Sqrt(6.0 / cols), rng);
    }

    /// <summary>
    /// Overwrites every element with the chapter's scheme (section 2.4): a uniform sample in [0, 1) rescaled by
    /// 1 / sqrt(N_h), N_h the total number of hidden neurons of the network. Mean 1 / (2 sqrt(N_h)), variance 1 / (12 N_h).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">totalHidden is not positive.</exception>
    public static void UniformRescaled<T>(Span<T> weights, int totalHidden, Rng rng) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (totalHidden < 1) throw new ArgumentOutOfRangeException(nameof(totalHidden), totalHidden, "The number of hidden units must be positive.");
        ArgumentNullException.ThrowIfNull(rng);
        double scale = 1.0 / Math.Sqrt(totalHidden);
        for (int i = 0; i < weights.Length; i++) weights[i] = T.CreateTruncating(rng.NextDouble() * scale);
    }

    /// <summary>
    /// Overwrites a row-major rows x cols matrix with a random (semi-)orthogonal matrix times <paramref name="gain"/>:
    /// the Q factor of the QR decomposition of a standard normal matrix (Haar distributed, since Gram-Schmidt gives
    /// R a positive diagonal). rows ≥ cols: orthonormal columns, WᵀW = gain² I; rows &lt; cols: orthonormal rows,
    /// WWᵀ = gain² I. Square matrices are orthogonal with every eigenvalue on the circle of radius gain.
    /// </summary>
    /// <remarks>Modified Gram-Schmidt in double, each column orthogonalised twice ("twice is enough"), so the result
    /// is orthogonal to double rounding before the cast to T. Allocates a double scratch matrix.</remarks>
    /// <exception cref="ArgumentException">The span is not rows · cols long, a dimension is not positive, or the gain is not finite and positive.</exception>
    public static void Orthogonal<T>(Span<T> weights, int rows, int cols, Rng rng, double gain = 1.0) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckMatrix(weights.Length, rows, cols);
        ArgumentNullException.ThrowIfNull(rng);
        if (!(gain > 0 && double.IsFinite(gain))) throw new ArgumentOutOfRangeException(nameof(gain), gain, "The gain must be finite and positive.");
        int tall = Math.Max(rows, cols), narrow = Math.Min(rows, cols);
        // q holds `narrow` column vectors of length `tall`, each contiguous: q[j * tall + i].
        var q = new double[tall * narrow];
        for (int k = 0; k < q.Length; k++) q[k] = rng.NextNormal();
        for (int j = 0; j < narrow; j++)
        {
            Span<double> v = q.AsSpan(j * tall, tall);
            for (int pass = 0; pass < 2; pass++)
            {
                for (int i = 0; i < j; i++)
                {
                    ReadOnlySpan<double> u = q.AsSpan(i * tall, tall);
                    double r = Dot(u, v);
                    for (int k = 0; k < tall; k++) v[k] -= r * u[k];
                }
            }
            double norm = Math.Sqrt(Dot(v, v));
            // A standard normal column lies in the span of the previous ones with probability 0.
            for (int k = 0; k < tall; k++) v[k] /= norm;
        }
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                // rows ≥ cols: W[r, c] = Q[r, c] (column c of q); otherwise W = Qᵀ: W[r, c] = Q[c, r].
                double value = rows >= cols ? q[c * tall + r] : q[r * tall + c];
                weights[r * cols + c] = T.CreateTruncating(gain * value);
            }
        }
    }

    /// <summary>
    /// Estimates the spectral radius ρ(W) = max |λ_i| of a square n x n matrix by power iteration: x ← Wx / ‖Wx‖
    /// from a seeded random start; after a burn-in of a quarter of the iterations, ρ is the geometric mean of the
    /// growth factors ‖Wx‖ over the rest.
    /// </summary>
    /// <remarks>
    /// Plain power iteration reads the dominant eigenvalue off ‖Wx‖ only when it is real and isolated; a random
    /// matrix usually has a dominant complex pair, around which ‖Wx‖ oscillates. The geometric mean over K steps is
    /// (‖W^K x‖ / ‖x‖)^(1/K), which tends to ρ for any matrix (Gelfand's formula) with a relative error of order
    /// log(oscillation) / K. With the default 1000 iterations, on Glorot-normal matrices of order 8 to 256 it agreed
    /// with an independent estimate (Gelfand's formula by repeated squaring, k = 2^16) to 3e-4 relative; the tests
    /// require 1 %. Cost:
    /// iterations · n² multiply-adds in double; allocates a double copy of W.
    /// </remarks>
    /// <param name="matrix">Row-major n x n.</param>
    /// <param name="n">Order of the matrix, at least 1.</param>
    /// <param name="iterations">Power iterations, at least 8.</param>
    /// <param name="seed">Seed of the start vector.</param>
    /// <returns>The estimate; 0 when an iterate vanishes (a nilpotent matrix such as a strictly triangular one).</returns>
    /// <exception cref="ArgumentException">The span is not n² long, or an argument is out of range.</exception>
    public static double EstimateSpectralRadius<T>(ReadOnlySpan<T> matrix, int n, int iterations = 1000, ulong seed = 0x5EC7_A1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckMatrix(matrix.Length, n, n);
        if (iterations < 8) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "At least 8 iterations are needed.");
        var a = new double[n * n];
        for (int k = 0; k < a.Length; k++) a[k] = double.CreateTruncating(matrix[k]);
        var x = new double[n];
        var y = new double[n];
        var rng = new Rng(seed);
        for (int i = 0; i < n; i++) x[i] = rng.NextNormal();
        Normalize(x);
        int burn = iterations / 4;
        double logSum = 0;
        for (int it = 0; it < iterations; it++)
        {
            for (int r = 0; r < n; r++) y[r] = Dot(a.AsSpan(r * n, n), x);
            double norm = Math.Sqrt(Dot(y, y));
            if (norm == 0 || !double.IsFinite(norm)) return norm == 0 ? 0 : double.NaN;
            if (it >= burn) logSum += Math.Log(norm);
            for (int i = 0; i < n; i++) x[i] = y[i] / norm;
        }
        return Math.Exp(logSum / (iterations - burn));
    }

    /// <summary>
    /// Rescales a square n x n matrix in place so that its spectral radius becomes <paramref name="radius"/>:
    /// W ← W · radius / ρ̂(W), with ρ̂ from <see cref="EstimateSpectralRadius{T}"/> (so it is reached to the accuracy
    /// of that estimate).
    /// </summary>
    /// <returns>ρ̂ of the matrix before scaling.</returns>
    /// <exception cref="ArgumentException">The span is not n² long, or the radius is not finite and positive.</exception>
    /// <exception cref="InvalidOperationException">The matrix has spectral radius 0 (or non-finite entries), so no scaling reaches the target.</exception>
    public static double ScaleToSpectralRadius<T>(Span<T> matrix, int n, double radius, int iterations = 1000)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (!(radius > 0 && double.IsFinite(radius))) throw new ArgumentOutOfRangeException(nameof(radius), radius, "The spectral radius must be finite and positive.");
        double rho = EstimateSpectralRadius<T>(matrix, n, iterations);
        if (!(rho > 0 && double.IsFinite(rho)))
            throw new InvalidOperationException($"Cannot scale a matrix of spectral radius {rho} to {radius}.");
        double factor = radius / rho;
        for (int k = 0; k < matrix.Length; k++) matrix[k] = T.CreateTruncating(double.CreateTruncating(matrix[k]) * factor);
        return rho;
    }

    /// <summary>
    /// Initialises every parameter of a network from one seed: each gate block of weight_ih and weight_hh with its
    /// scheme (as an H x columns matrix), the readout weight with its scheme, all biases zero, then the optional
    /// spectral-radius scaling of each weight_hh gate block and, for LSTM layers, the forget-gate bias. Overwrites
    /// <see cref="RecurrentNetwork{T}.Parameters"/> and calls <see cref="RecurrentNetwork{T}.MarkParametersChanged"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static void Initialize<T>(RecurrentNetwork<T> network, InitializationOptions options, ulong seed)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        if (options.RecurrentSpectralRadius is double r && !(r > 0 && double.IsFinite(r)))
            throw new ArgumentOutOfRangeException(nameof(options), r, "RecurrentSpectralRadius must be finite and positive.");
        if (!double.IsFinite(options.HighwayTransformBias))
            throw new ArgumentOutOfRangeException(nameof(options), options.HighwayTransformBias, "HighwayTransformBias must be finite.");
        if (!double.IsFinite(options.LstmForgetGateBias))
            throw new ArgumentOutOfRangeException(nameof(options), options.LstmForgetGateBias, "LstmForgetGateBias must be finite.");
        NetworkArchitecture arch = network.Architecture;
        int totalHidden = 0;
        foreach (int h in arch.HiddenSizes) totalHidden += h;
        var rng = new Rng(seed);
        Span<T> all = network.Parameters;
        foreach (ParameterSlice s in network.Layout.Slices)
        {
            Span<T> p = all.Slice(s.Offset, s.Length);
            switch (s.Kind)
            {
                case ParameterKind.InputWeight:
                    FillBlocks(p, arch.GateCount, s.Columns, options.InputWeights, totalHidden, rng);
                    break;
                case ParameterKind.RecurrentWeight:
                    FillBlocks(p, arch.GateCount, s.Columns, options.RecurrentWeights, totalHidden, rng);
                    break;
                case ParameterKind.ReadoutWeight:
                    Fill(p, s.Rows, s.Columns, options.ReadoutWeights, totalHidden, rng);
                    break;
                default:
                    p.Clear();
                    break;
            }
        }
        if (options.RecurrentSpectralRadius is double radius) ScaleRecurrentSpectralRadius(network, radius, markChanged: false);
        if (arch.CellDefinition.ForgetGate >= 0) SetLstmForgetGateBias(network, options.LstmForgetGateBias, markChanged: false);
        network.SetTransformBias(options.HighwayTransformBias);
        network.MarkParametersChanged();
    }

    /// <summary>
    /// Sets the forget-gate block (rows [H, 2H)) of every LSTM layer's biases so that b_if + b_hf = value:
    /// bias_ih's f block to <paramref name="value"/>, bias_hh's f block to 0 (PyTorch adds both biases). A positive
    /// value (1 is customary, Gers et al. 2000; Jozefowicz et al. 2015) keeps the cell state open early in training.
    /// Overwrites only those blocks and marks the parameters changed.
    /// </summary>
    /// <exception cref="InvalidOperationException">The network is not an LSTM.</exception>
    public static void SetLstmForgetGateBias<T>(RecurrentNetwork<T> network, double value = 1.0)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => SetLstmForgetGateBias(network, value, markChanged: true);

    /// <summary>
    /// Rescales each H x H gate block of every weight_hh to spectral radius <paramref name="radius"/> with
    /// <see cref="ScaleToSpectralRadius{T}"/> (for an Elman layer the block is the whole recurrent matrix). Marks the
    /// parameters changed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The radius is not finite and positive.</exception>
    /// <exception cref="InvalidOperationException">A block has spectral radius 0.</exception>
    public static void ScaleRecurrentSpectralRadius<T>(RecurrentNetwork<T> network, double radius, int iterations = 1000)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => ScaleRecurrentSpectralRadius(network, radius, markChanged: true, iterations);

    private static void ScaleRecurrentSpectralRadius<T>(RecurrentNetwork<T> network, double radius, bool markChanged, int iterations = 1000)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        NetworkArchitecture arch = network.Architecture;
        for (int l = 0; l < arch.NumLayers; l++)
        {
            ParameterSlice s = network.Layout.Get(l, ParameterKind.RecurrentWeight);
            int h = arch.HiddenSizes[l];
            for (int gate = 0; gate < arch.GateCount; gate++)
                ScaleToSpectralRadius(network.Parameters.Slice(s.Offset + gate * h * h, h * h), h, radius, iterations);
        }
        if (markChanged) network.MarkParametersChanged();
    }

    private static void SetLstmForgetGateBias<T>(RecurrentNetwork<T> network, double value, bool markChanged)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        NetworkArchitecture arch = network.Architecture;
        int forget = arch.CellDefinition.ForgetGate;
        if (forget < 0) throw new InvalidOperationException($"The forget-gate bias exists only in LSTM layers; this network has {arch.Cell} cells.");
        if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "The bias must be finite.");
        for (int l = 0; l < arch.NumLayers; l++)
        {
            int h = arch.HiddenSizes[l];
            // The forget gate's block (LSTM gate order i, f, g, o: rows [H, 2H)).
            ParameterSlice bih = network.Layout.Get(l, ParameterKind.InputBias), bhh = network.Layout.Get(l, ParameterKind.RecurrentBias);
            network.Parameters.Slice(bih.Offset + forget * h, h).Fill(T.CreateTruncating(value));
            network.Parameters.Slice(bhh.Offset + forget * h, h).Clear();
        }
        if (markChanged) network.MarkParametersChanged();
    }

    private static void FillBlocks<T>(Span<T> weights, int gates, int cols, WeightInit scheme, int totalHidden, Rng rng)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int h = weights.Length / (gates * cols);
        for (int gate = 0; gate < gates; gate++) Fill(weights.Slice(gate * h * cols, h * cols), h, cols, scheme, totalHidden, rng);
    }

    private static void Fill<T>(Span<T> weights, int rows, int cols, WeightInit scheme, int totalHidden, Rng rng)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        switch (scheme)
        {
            case WeightInit.GlorotUniform: GlorotUniform(weights, rows, cols, rng); break;
            case WeightInit.GlorotNormal: GlorotNormal(weights, rows, cols, rng); break;
            case WeightInit.HeNormal: HeNormal(weights, rows, cols, rng); break;
            case WeightInit.HeUniform: HeUniform(weights, rows, cols, rng); break;
            case WeightInit.UniformRescaled: UniformRescaled(weights, totalHidden, rng); break;
            case WeightInit.Orthogonal: Orthogonal(weights, rows, cols, rng); break;
            default: throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Unknown initialisation scheme.");
        }
    }

    private static void FillUniform<T>(Span<T> weights, double bound, Rng rng) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < weights.Length; i++) weights[i] = T.CreateTruncating(rng.NextUniform(-bound, bound));
    }

    private static void FillNormal<T>(Span<T> weights, double sigma, Rng rng) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < weights.Length; i++) weights[i] = T.CreateTruncating(sigma * rng.NextNormal());
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static void Normalize(Span<double> x)
    {
        double norm = Math.Sqrt(Dot(x, x));
        for (int i = 0; i < x.Length; i++) x[i] /= norm;
    }

    private static void CheckMatrix(int length, int rows, int cols)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "Rows must be positive.");
        if (cols < 1) throw new ArgumentOutOfRangeException(nameof(cols), cols, "Columns must be positive.");
        if ((long)rows * cols != length) throw new ArgumentException($"The matrix span has {length} elements, not {rows} x {cols}.");
    }
}
