using System.Numerics;
using System.Numerics.Tensors;

namespace Rnn.Simd.Alternatives.Reservoir;

/// <summary>
/// The spectral radius ρ(W) = max |λ_i(W)| of a real, generally NON-symmetric square matrix, which an echo state
/// network's reservoir is rescaled by (Lukoševičius 2012 §3.2.4).
/// </summary>
/// <remarks>
/// <para>
/// Power iteration is not enough: a real non-symmetric matrix's dominant eigenvalue is often a complex-conjugate
/// pair, and then W^k v oscillates in a plane instead of converging (the Rayleigh quotient never settles). This uses
/// explicitly restarted Arnoldi (Saad, "Numerical Methods for Large Eigenvalue Problems", 2nd ed. 2011, §6.2 and
/// Algorithm 6.1 with modified Gram-Schmidt plus one re-orthogonalisation pass): an m-step Krylov basis V_m and the
/// Hessenberg H_m = V_mᵀ W V_m, whose eigenvalues (the Ritz values) come from the real double-shift Francis QR
/// iteration (Golub and Van Loan, "Matrix Computations", 4th ed., Algorithm 7.5.2, in the EISPACK hqr form); the
/// largest-modulus Ritz value θ is accepted when the Arnoldi residual ‖W x - θ x‖ = h_(m+1,m) |e_mᵀ y| is below
/// <c>tolerance</c>·|θ|; otherwise the iteration restarts from Re(x) + Im(x), which lies in the real invariant plane
/// of a conjugate pair as much as in the eigenvector of a real eigenvalue. A Krylov space that becomes invariant
/// (h_(j+1,j) ≈ 0, always for n ≤ m) gives eigenvalues that are exact to rounding.
/// </para>
/// <para>
/// For random reservoirs the outermost eigenvalues are close together (the circular law), so convergence to 1e-10
/// can take several restarts; the estimate converges from below (Ritz values of such matrices lie inside the disk).
/// Cost: m sparse products and O(n m²) for the basis per restart; no dense n x n work.
/// </para>
/// </remarks>
internal static class SpectralRadius
{
    /// <summary>A matrix-vector product y = W x (x and y of length n, not aliased).</summary>
    public delegate void MatVec(ReadOnlySpan<double> x, Span<double> y);

    /// <summary>ρ(W) by restarted Arnoldi.</summary>
    /// <param name="n">Order of W.</param>
    /// <param name="product">y = W x.</param>
    /// <param name="seed">Seed of the random start vector.</param>
    /// <param name="krylovDimension">m, the basis size per restart (capped at n).</param>
    /// <param name="tolerance">Relative residual at which the dominant Ritz pair is accepted.</param>
    /// <param name="maxRestarts">Most restarts; the last estimate is returned when they run out.</param>
    /// <returns>The estimate of ρ(W) (0 for a nilpotent W whose Krylov space collapses).</returns>
    public static double Estimate(int n, MatVec product, ulong seed, int krylovDimension = 80, double tolerance = 1e-10, int maxRestarts = 300)
    {
        ArgumentNullException.ThrowIfNull(product);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        int m = Math.Min(krylovDimension, n);
        var basis = new double[(m + 1) * n];
        var h = new double[(m + 1) * m];
        var work = new double[m * m];
        var re = new double[m];
        var im = new double[m];
        var y = new Complex[m];
        var rng = new Rng(seed);
        Span<double> v0 = basis.AsSpan(0, n);
        for (int i = 0; i < n; i++) v0[i] = rng.NextUniform(-1, 1);
        double estimate = 0;
        for (int restart = 0; restart <= maxRestarts; restart++)
        {
            double norm0 = TensorPrimitives.Norm(basis.AsSpan(0, n));
            if (norm0 == 0) return estimate;
            TensorPrimitives.Divide(basis.AsSpan(0, n), norm0, basis.AsSpan(0, n));
            Array.Clear(h);
            int k = m;
            bool invariant = false;
            for (int j = 0; j < m; j++)
            {
                Span<double> w = basis.AsSpan((j + 1) * n, n);
                product(basis.AsSpan(j * n, n), w);
                double wNorm = TensorPrimitives.Norm(w);
                for (int pass = 0; pass < 2; pass++)
                {
                    for (int i = 0; i <= j; i++)
                    {
                        ReadOnlySpan<double> vi = basis.AsSpan(i * n, n);
                        double c = TensorPrimitives.Dot(w, vi);
                        h[i * m + j] += c;
                        TensorPrimitives.MultiplyAdd(vi, -c, w, w);
                    }
                }
                double beta = TensorPrimitives.Norm(w);
                if (j + 1 < m) h[(j + 1) * m + j] = beta; else h[m * m + j] = beta; // row m of h holds h_(m+1,m)
                if (beta <= 1e-13 * Math.Max(wNorm, double.Epsilon))
                {
                    k = j + 1;
                    invariant = true;
                    break;
                }
                TensorPrimitives.Divide(w, beta, w);
            }
            // Ritz values: eigenvalues of the leading k x k Hessenberg block.
            for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) work[i * k + j] = h[i * m + j];
            HessenbergEigenvalues(work.AsSpan(0, k * k), k, re.AsSpan(0, k), im.AsSpan(0, k));
            int best = 0;
            for (int i = 1; i < k; i++) if (Hypot(re[i], im[i]) > Hypot(re[best], im[best])) best = i;
            var theta = new Complex(re[best], im[best]);
            estimate = theta.Magnitude;
            if (invariant || estimate == 0) return estimate;
            // The Ritz vector's coefficients y: (H_k - θ I) y = 0, by inverse iteration in complex arithmetic.
            for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) work[i * k + j] = h[i * m + j];
            RitzCoefficients(work.AsSpan(0, k * k), k, theta, y.AsSpan(0, k));
            double residual = Math.Abs(h[m * m + (k - 1)]) * y[k - 1].Magnitude;
            if (residual <= tolerance * estimate || restart == maxRestarts) return estimate;
            // Restart from Re(V y) + Im(V y).
            Span<double> next = basis.AsSpan(m * n, n); // the unnormalised last vector is not needed any more
            next.Clear();
            for (int i = 0; i < k; i++) TensorPrimitives.MultiplyAdd(basis.AsSpan(i * n, n), y[i].Real + y[i].Imaginary, next, next);
            next.CopyTo(basis.AsSpan(0, n));
        }
        return estimate;
    }

    private static double Hypot(double a, double b) => Math.Sqrt(a * a + b * b);

    /// <summary>
    /// y with (H - θ I) y ≈ 0, ‖y‖ = 1: two steps of inverse iteration on the Hessenberg H - θ I (Gaussian
    /// elimination with partial pivoting in complex arithmetic, O(k²) per solve since H is Hessenberg; a zero pivot,
    /// when θ is exact to rounding, is replaced by ε·‖H‖, as inverse iteration does).
    /// </summary>
    private static void RitzCoefficients(ReadOnlySpan<double> hk, int k, Complex theta, Span<Complex> y)
    {
        var a = new Complex[k * k];
        double scale = 0;
        for (int i = 0; i < k * k; i++) scale = Math.Max(scale, Math.Abs(hk[i]));
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < k; j++) a[i * k + j] = hk[i * k + j];
            a[i * k + i] -= theta;
        }
        // LU of the Hessenberg matrix: only the subdiagonal needs eliminating (row swaps between i and i + 1).
        var swap = new bool[k];
        for (int i = 0; i < k - 1; i++)
        {
            if (a[(i + 1) * k + i].Magnitude > a[i * k + i].Magnitude)
            {
                swap[i] = true;
                for (int j = i; j < k; j++) (a[i * k + j], a[(i + 1) * k + j]) = (a[(i + 1) * k + j], a[i * k + j]);
            }
            if (a[i * k + i] == Complex.Zero) a[i * k + i] = 1e-300 + scale * 2.2e-16;
            Complex f = a[(i + 1) * k + i] / a[i * k + i];
            a[(i + 1) * k + i] = f;
            for (int j = i + 1; j < k; j++) a[(i + 1) * k + j] -= f * a[i * k + j];
        }
        if (a[(k - 1) * k + k - 1].Magnitude < scale * 2.2e-16) a[(k - 1) * k + k - 1] = 1e-300 + scale * 2.2e-16;
        for (int i = 0; i < k; i++) y[i] = 1;
        for (int iteration = 0; iteration < 2; iteration++)
        {
            for (int i = 0; i < k - 1; i++)
            {
                if (swap[i]) (y[i], y[i + 1]) = (y[i + 1], y[i]);
                y[i + 1] -= a[(i + 1) * k + i] * y[i];
            }
            for (int i = k - 1; i >= 0; i--)
            {
                Complex s = y[i];
                for (int j = i + 1; j < k; j++) s -= a[i * k + j] * y[j];
                y[i] = s / a[i * k + i];
            }
            double norm = 0;
            for (int i = 0; i < k; i++) norm += y[i].Real * y[i].Real + y[i].Imaginary * y[i].Imaginary;
            norm = Math.Sqrt(norm);
            for (int i = 0; i < k; i++) y[i] /= norm;
        }
    }

    /// <summary>
    /// Every eigenvalue (re + i·im) of an upper Hessenberg matrix (k x k row-major, destroyed) by the real
    /// double-shift Francis QR iteration with deflation and exceptional shifts (EISPACK hqr; Golub and Van Loan
    /// Algorithm 7.5.2). Conjugate pairs come out adjacent, the one with positive imaginary part first.
    /// </summary>
    /// <exception cref="InvalidOperationException">No convergence in 60 iterations for one eigenvalue.</exception>
    public static void HessenbergEigenvalues(Span<double> a, int k, Span<double> re, Span<double> im)
    {
        double anorm = 0;
        for (int i = 0; i < k; i++) for (int j = Math.Max(i - 1, 0); j < k; j++) anorm += Math.Abs(a[i * k + j]);
        int nn = k - 1;
        double t = 0;
        while (nn >= 0)
        {
            int its = 0, l;
            do
            {
                for (l = nn; l >= 1; l--)
                {
                    double s0 = Math.Abs(a[(l - 1) * k + l - 1]) + Math.Abs(a[l * k + l]);
                    if (s0 == 0) s0 = anorm;
                    if (Math.Abs(a[l * k + l - 1]) + s0 == s0)
                    {
                        a[l * k + l - 1] = 0;
                        break;
                    }
                }
                double x = a[nn * k + nn];
                if (l == nn)
                {
                    re[nn] = x + t;
                    im[nn] = 0;
                    nn--;
                }
                else
                {
                    double y = a[(nn - 1) * k + nn - 1], w = a[nn * k + nn - 1] * a[(nn - 1) * k + nn];
                    if (l == nn - 1)
                    {
                        double p = 0.5 * (y - x), q = p * p + w, z = Math.Sqrt(Math.Abs(q));
                        x += t;
                        if (q >= 0)
                        {
                            z = p + Sign(z, p);
                            re[nn - 1] = re[nn] = x + z;
                            if (z != 0) re[nn] = x - w / z;
                            im[nn - 1] = im[nn] = 0;
                        }
                        else
                        {
                            re[nn - 1] = re[nn] = x + p;
                            im[nn - 1] = z;
                            im[nn] = -z;
                        }
                        nn -= 2;
                    }
                    else
                    {
                        if (its == 60) throw new InvalidOperationException($"The QR iteration for the reservoir's eigenvalues did not converge at eigenvalue {nn} of {k}.");
                        if (its == 10 || its == 20 || its == 40)
                        {
                            // Exceptional shift (EISPACK): breaks the rare cycles of the standard shift.
                            t += x;
                            for (int i = 0; i <= nn; i++) a[i * k + i] -= x;
                            double s1 = Math.Abs(a[nn * k + nn - 1]) + Math.Abs(a[(nn - 1) * k + nn - 2]);
                            y = x = 0.75 * s1;
                            w = -0.4375 * s1 * s1;
                        }
                        its++;
                        FrancisStep(a, k, l, nn, x, y, w);
                    }
                }
            } while (l < nn - 1);
        }
    }

    /// <summary>One implicit double-shift QR sweep over the active block [l, nn] (shifts from x, y, w), by 3 x 3
    /// Householder reflectors chasing the bulge down the subdiagonal.</summary>
    private static void FrancisStep(Span<double> a, int k, int l, int nn, double x, double y, double w)
    {
        int m;
        double p = 0, q = 0, r = 0, z;
        for (m = nn - 2; m >= l; m--)
        {
            z = a[m * k + m];
            r = x - z;
            double s = y - z;
            p = (r * s - w) / a[(m + 1) * k + m] + a[m * k + m + 1];
            q = a[(m + 1) * k + m + 1] - z - r - s;
            r = a[(m + 2) * k + m + 1];
            s = Math.Abs(p) + Math.Abs(q) + Math.Abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m == l) break;
            double u = Math.Abs(a[m * k + m - 1]) * (Math.Abs(q) + Math.Abs(r));
            double v = Math.Abs(p) * (Math.Abs(a[(m - 1) * k + m - 1]) + Math.Abs(z) + Math.Abs(a[(m + 1) * k + m + 1]));
            if (u + v == v) break;
        }
        for (int i = m + 2; i <= nn; i++)
        {
            a[i * k + i - 2] = 0;
            if (i != m + 2) a[i * k + i - 3] = 0;
        }
        for (int kk = m; kk <= nn - 1; kk++)
        {
            if (kk != m)
            {
                p = a[kk * k + kk - 1];
                q = a[(kk + 1) * k + kk - 1];
                r = 0;
                if (kk != nn - 1) r = a[(kk + 2) * k + kk - 1];
                x = Math.Abs(p) + Math.Abs(q) + Math.Abs(r);
                if (x != 0)
                {
                    p /= x;
                    q /= x;
                    r /= x;
                }
            }
            double s = Sign(Math.Sqrt(p * p + q * q + r * r), p);
            if (s == 0) continue;
            if (kk == m)
            {
                if (l != m) a[kk * k + kk - 1] = -a[kk * k + kk - 1];
            }
            else
            {
                a[kk * k + kk - 1] = -s * x;
            }
            p += s;
            x = p / s;
            y = q / s;
            z = r / s;
            q /= p;
            r /= p;
            for (int j = kk; j <= nn; j++)
            {
                p = a[kk * k + j] + q * a[(kk + 1) * k + j];
                if (kk != nn - 1)
                {
                    p += r * a[(kk + 2) * k + j];
                    a[(kk + 2) * k + j] -= p * z;
                }
                a[(kk + 1) * k + j] -= p * y;
                a[kk * k + j] -= p * x;
            }
            int mmin = nn < kk + 3 ? nn : kk + 3;
            for (int i = l; i <= mmin; i++)
            {
                p = x * a[i * k + kk] + y * a[i * k + kk + 1];
                if (kk != nn - 1)
                {
                    p += z * a[i * k + kk + 2];
                    a[i * k + kk + 2] -= p * r;
                }
                a[i * k + kk + 1] -= p * q;
                a[i * k + kk] -= p;
            }
        }
    }

    private static double Sign(double magnitude, double sign) => sign >= 0 ? Math.Abs(magnitude) : -Math.Abs(magnitude);
}
