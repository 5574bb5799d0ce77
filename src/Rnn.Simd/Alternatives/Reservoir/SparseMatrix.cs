using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Rnn.Simd.Alternatives.Reservoir;

/// <summary>
/// A square sparse matrix in compressed sparse row form (CSR: per row, the column indices and values of its non-zero
/// entries in column order), for the reservoir product W x of an echo state network.
/// </summary>
/// <remarks>
/// Why CSR and scalar gathers: a reservoir row has Density·N non-zeros at random columns, so there is no block
/// structure for a block-sparse or SIMD-tile format to exploit; the product is bound by streaming the values and
/// indices (8 bytes per non-zero in float) while x (N values) stays in L1/L2. Each row is summed with four
/// independent accumulators so the additions do not form one latency-bound chain. The summation order is fixed (by
/// row, in column order), so results do not depend on the machine's vector width.
/// </remarks>
/// <typeparam name="T">float or double.</typeparam>
internal sealed class SparseMatrix<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly int[] _rowStart;
    private readonly int[] _columns;
    private readonly T[] _values;

    private SparseMatrix(int n, int[] rowStart, int[] columns, T[] values)
    {
        Order = n;
        _rowStart = rowStart;
        _columns = columns;
        _values = values;
    }

    /// <summary>N, the order.</summary>
    public int Order { get; }

    /// <summary>Stored (non-zero) entries.</summary>
    public int NonZeros => _values.Length;

    /// <summary>The non-zero entries of a dense N x N row-major matrix (rows of stride <paramref name="stride"/>).</summary>
    public static SparseMatrix<T> FromDense(ReadOnlySpan<T> dense, int n, int stride)
    {
        int count = 0;
        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<T> row = dense.Slice(r * stride, n);
            for (int c = 0; c < n; c++) if (row[c] != T.Zero) count++;
        }
        var rowStart = new int[n + 1];
        var columns = new int[count];
        var values = new T[count];
        int k = 0;
        for (int r = 0; r < n; r++)
        {
            rowStart[r] = k;
            ReadOnlySpan<T> row = dense.Slice(r * stride, n);
            for (int c = 0; c < n; c++)
            {
                if (row[c] == T.Zero) continue;
                columns[k] = c;
                values[k++] = row[c];
            }
        }
        rowStart[n] = k;
        return new SparseMatrix<T>(n, rowStart, columns, values);
    }

    /// <summary>y += W x (both length N, not aliased). Allocates nothing.</summary>
    public void MultiplyAdd(ReadOnlySpan<T> x, Span<T> y)
    {
        if (x.Length < Order || y.Length < Order) ThrowHelper.ThrowArgument(nameof(x), $"The reservoir product needs vectors of {Order}.");
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref int cols = ref MemoryMarshal.GetArrayDataReference(_columns);
        ref T vals = ref MemoryMarshal.GetArrayDataReference(_values);
        for (int r = 0; r < Order; r++)
        {
            int k = _rowStart[r], end = _rowStart[r + 1];
            T s0 = T.Zero, s1 = T.Zero, s2 = T.Zero, s3 = T.Zero;
            for (; k + 4 <= end; k += 4)
            {
                s0 += Unsafe.Add(ref vals, k) * Unsafe.Add(ref xr, Unsafe.Add(ref cols, k));
                s1 += Unsafe.Add(ref vals, k + 1) * Unsafe.Add(ref xr, Unsafe.Add(ref cols, k + 1));
                s2 += Unsafe.Add(ref vals, k + 2) * Unsafe.Add(ref xr, Unsafe.Add(ref cols, k + 2));
                s3 += Unsafe.Add(ref vals, k + 3) * Unsafe.Add(ref xr, Unsafe.Add(ref cols, k + 3));
            }
            for (; k < end; k++) s0 += Unsafe.Add(ref vals, k) * Unsafe.Add(ref xr, Unsafe.Add(ref cols, k));
            y[r] += (s0 + s1) + (s2 + s3);
        }
    }

    /// <summary>y = W x in double (for the spectral radius).</summary>
    public void Multiply(ReadOnlySpan<double> x, Span<double> y)
    {
        for (int r = 0; r < Order; r++)
        {
            double s = 0;
            for (int k = _rowStart[r]; k < _rowStart[r + 1]; k++) s += double.CreateTruncating(_values[k]) * x[_columns[k]];
            y[r] = s;
        }
    }

    /// <summary>Multiplies every stored value by <paramref name="factor"/>.</summary>
    public void Scale(T factor)
    {
        for (int k = 0; k < _values.Length; k++) _values[k] *= factor;
    }

    /// <summary>Writes the matrix densely into an N x N row-major span of stride <paramref name="stride"/> (zeros included).</summary>
    public void CopyToDense(Span<T> dense, int stride)
    {
        for (int r = 0; r < Order; r++)
        {
            Span<T> row = dense.Slice(r * stride, Order);
            row.Clear();
            for (int k = _rowStart[r]; k < _rowStart[r + 1]; k++) row[_columns[k]] = _values[k];
        }
    }
}
