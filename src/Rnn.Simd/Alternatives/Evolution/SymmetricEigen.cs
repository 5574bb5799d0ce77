namespace Rnn.Simd.Alternatives.Evolution;

/// <summary>
/// Eigendecomposition of a real symmetric matrix by the cyclic Jacobi method (Golub and Van Loan, "Matrix Computations",
/// 4th ed., section 8.5): plane rotations J(p, q, θ) chosen to zero a_pq are applied as A ← Jᵀ A J, V ← V J, sweep after
/// sweep over every p &lt; q, until the off-diagonal mass is negligible. A = V diag(λ) Vᵀ with V orthogonal. In double; it
/// serves CMA-ES's C = B D² Bᵀ (Hansen 2016, Eq. 16), so accuracy matters more than speed (O(n³) per sweep, usually
/// 6-10 sweeps), and the decomposition is done lazily, every few generations.
/// </summary>
internal static class SymmetricEigen
{
    private const int MaxSweeps = 100;

    /// <summary>
    /// Decomposes the n x n row-major symmetric <paramref name="a"/> (only its upper triangle is read; it is overwritten):
    /// <paramref name="eigenvalues"/>[j] and column j of the row-major n x n <paramref name="vectors"/> (V[i, j] =
    /// vectors[i·n + j]) are the j-th eigenpair, unsorted. Allocates nothing.
    /// </summary>
    /// <returns>The number of sweeps used.</returns>
    public static int Decompose(Span<double> a, int n, Span<double> eigenvalues, Span<double> vectors)
    {
        // Symmetrise from the upper triangle, so rounding in the caller's update cannot leave A slightly non-symmetric.
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) a[j * n + i] = a[i * n + j];
        vectors.Slice(0, n * n).Clear();
        for (int i = 0; i < n; i++) vectors[i * n + i] = 1;
        int sweep = 0;
        for (; sweep < MaxSweeps; sweep++)
        {
            double off = 0, diag = 0;
            for (int i = 0; i < n; i++)
            {
                diag += a[i * n + i] * a[i * n + i];
                for (int j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
            }
            // Converged when the off-diagonal Frobenius mass is below the rounding level of the diagonal.
            if (off <= 1e-30 * diag || off == 0) break;
            for (int p = 0; p < n - 1; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (apq == 0) continue;
                    double app = a[p * n + p], aqq = a[q * n + q];
                    // Skip an element too small to move the diagonal at all (after the first sweeps).
                    if (sweep > 3 && Math.Abs(apq) < 1e-18 * Math.Sqrt(Math.Abs(app * aqq)))
                    {
                        a[p * n + q] = 0; a[q * n + p] = 0;
                        continue;
                    }
                    // θ = (a_qq - a_pp) / (2 a_pq); t = tan of the rotation angle, the smaller root of t² + 2θt - 1 = 0.
                    double theta = (aqq - app) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    // Columns p, q of A J, then rows p, q of Jᵀ (A J).
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k * n + p], akq = a[k * n + q];
                        a[k * n + p] = c * akp - s * akq;
                        a[k * n + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p * n + k], aqk = a[q * n + k];
                        a[p * n + k] = c * apk - s * aqk;
                        a[q * n + k] = s * apk + c * aqk;
                    }
                    a[p * n + q] = 0; a[q * n + p] = 0;
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = vectors[k * n + p], vkq = vectors[k * n + q];
                        vectors[k * n + p] = c * vkp - s * vkq;
                        vectors[k * n + q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        for (int i = 0; i < n; i++) eigenvalues[i] = a[i * n + i];
        return sweep;
    }
}
