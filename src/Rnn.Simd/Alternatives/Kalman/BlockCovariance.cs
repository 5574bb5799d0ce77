using System.Numerics.Tensors;

namespace Rnn.Simd.Alternatives.Kalman;

/// <summary>
/// The weight covariance P of an extended Kalman filter, block diagonal over groups of consecutive (permuted) weight
/// indices: one block for the global EKF, one per node for the node-decoupled EKF (Puskorius and Feldkamp 1994). Each
/// block is symmetric and stored once, as its packed upper triangle by rows (row i of an n_g block holds P[i, i..n_g)),
/// so P is symmetric by construction and takes half the memory of a full matrix.
/// </summary>
/// <remarks>
/// The filter's two passes over P are fused into one (<see cref="UpdateAndMultiply"/>): the pending rank-m downdate of
/// the previous update, P ← P - VᵀV + q·I with V = L⁻¹ H P (S = L Lᵀ the innovation covariance; this is the Joseph
/// form (I - K H) P (I - K H)ᵀ + K R Kᵀ evaluated at the optimal gain, written as a symmetric downdate so that no
/// n x n product is formed), followed by M = H P of the next instance, reading and writing each row once while it is
/// in cache. Rows are streamed with TensorPrimitives (multiply-add and dot products).
/// </remarks>
internal sealed class BlockCovariance
{
    private readonly double[] _p;
    private readonly int[] _start;
    private readonly long[] _offset;

    /// <summary>Bytes the packed blocks of these sizes take.</summary>
    public static long BytesFor(ReadOnlySpan<int> groupSizes)
    {
        long elements = 0;
        foreach (int n in groupSizes) elements += (long)n * (n + 1) / 2;
        return elements * sizeof(double);
    }

    /// <summary>Allocates the blocks (group g covers indices [Σ_(h&lt;g) n_h, Σ_(h≤g) n_h)).</summary>
    public BlockCovariance(ReadOnlySpan<int> groupSizes)
    {
        _start = new int[groupSizes.Length + 1];
        _offset = new long[groupSizes.Length + 1];
        for (int g = 0; g < groupSizes.Length; g++)
        {
            _start[g + 1] = checked(_start[g] + groupSizes[g]);
            _offset[g + 1] = _offset[g] + (long)groupSizes[g] * (groupSizes[g] + 1) / 2;
        }
        if (_offset[^1] > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(groupSizes), $"A covariance of {_offset[^1]} elements exceeds the largest array.");
        _p = new double[_offset[^1]];
    }

    /// <summary>n, the number of weights.</summary>
    public int Count => _start[^1];

    /// <summary>Number of blocks.</summary>
    public int Groups => _start.Length - 1;

    /// <summary>First index of group g.</summary>
    public int GroupStart(int g) => _start[g];

    /// <summary>P = p0 · I.</summary>
    public void Reset(double p0)
    {
        Array.Clear(_p);
        for (int g = 0; g < Groups; g++)
        {
            int n = _start[g + 1] - _start[g];
            for (int i = 0; i < n; i++) _p[_offset[g] + RowOffset(i, n)] = p0;
        }
    }

    /// <summary>P[i, j] (0 outside the blocks): for tests.</summary>
    public double this[int i, int j]
    {
        get
        {
            if (i > j) (i, j) = (j, i);
            int g = 0;
            while (_start[g + 1] <= i) g++;
            if (j >= _start[g + 1]) return 0;
            int n = _start[g + 1] - _start[g], a = i - _start[g], b = j - _start[g];
            return _p[_offset[g] + RowOffset(a, n) + (b - a)];
        }
    }

    private static long RowOffset(int i, int n) => (long)i * n - (long)i * (i - 1) / 2;

    /// <summary>
    /// One pass over every block: when <paramref name="downdate"/> is not empty, first P ← P - VᵀV + q·I with V =
    /// <paramref name="downdate"/> (m x n row-major; V's entries across blocks are ignored: each block uses its own
    /// columns), then <paramref name="product"/> = H P (m x n, overwritten) for H = <paramref name="jacobian"/> (m x n).
    /// Returns -1, or the first index whose diagonal became non-positive or non-finite (P lost positive definiteness):
    /// then <paramref name="product"/> is not valid.
    /// </summary>
    public int UpdateAndMultiply(ReadOnlySpan<double> downdate, double q, ReadOnlySpan<double> jacobian, Span<double> product, int m)
    {
        int n = Count;
        product.Slice(0, m * n).Clear();
        bool update = !downdate.IsEmpty;
        Span<double> p = _p;
        for (int g = 0; g < Groups; g++)
        {
            int s = _start[g], ng = _start[g + 1] - s;
            long blockOffset = _offset[g];
            for (int i = 0; i < ng; i++)
            {
                int a = s + i, len = ng - i;
                Span<double> row = p.Slice((int)(blockOffset + RowOffset(i, ng)), len);
                if (update)
                {
                    // Row a of P - VᵀV: P[a, a..] -= Σ_k V[k, a] · V[k, a..].
                    for (int k = 0; k < m; k++)
                    {
                        double v = downdate[k * n + a];
                        if (v != 0) TensorPrimitives.MultiplyAdd(downdate.Slice(k * n + a, len), -v, row, row);
                    }
                    row[0] += q;
                }
                if (!(row[0] > 0) || !double.IsFinite(row[0])) return a;
                // M[k, j] = Σ_i H[k, i] P[i, j] from the upper row a alone: H[k, a] · P[a, a..] into M[k, a..], and the
                // mirrored lower part Σ_(j>a) H[k, j] P[a, j] into M[k, a].
                for (int k = 0; k < m; k++)
                {
                    ReadOnlySpan<double> hk = jacobian.Slice(k * n + a, len);
                    Span<double> mk = product.Slice(k * n + a, len);
                    double h = hk[0];
                    double lower = len > 1 ? TensorPrimitives.Dot(hk[1..], row[1..]) : 0;
                    if (h != 0) TensorPrimitives.MultiplyAdd(row, h, mk, mk);
                    mk[0] += lower;
                }
            }
        }
        return -1;
    }
}
