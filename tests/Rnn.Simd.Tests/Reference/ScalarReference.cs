namespace Rnn.Simd.Tests.Reference;

/// <summary>
/// The oracle for every kernel test: the plain mathematical definitions evaluated in double, one element at a time,
/// written from the formulas and never calling Rnn.Simd. Only <see cref="System.Math"/> is used (Math.Tanh and
/// Math.Exp are within an ulp or two of the true value, far below every tolerance the tests use).
/// </summary>
public static class ScalarReference
{
    // ---- activations --------------------------------------------------------------------------------------

    /// <summary>tanh(x).</summary>
    public static double Tanh(double x) => Math.Tanh(x);

    /// <summary>σ(x) = 1 / (1 + e^-x).</summary>
    public static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>max(x, 0); NaN stays NaN.</summary>
    public static double Relu(double x) => double.IsNaN(x) ? x : x > 0 ? x : 0.0;

    // ---- derivatives expressed from the activation's output y --------------------------------------------

    /// <summary>d tanh(a)/da = 1 - tanh(a)² = 1 - y².</summary>
    public static double TanhDerivative(double y) => 1.0 - y * y;

    /// <summary>dσ(a)/da = σ(a)(1 - σ(a)) = y (1 - y).</summary>
    public static double SigmoidDerivative(double y) => y * (1.0 - y);

    /// <summary>d max(a, 0)/da from y = max(a, 0): 1 where y &gt; 0, else 0 (0 at the kink); NaN stays NaN.</summary>
    public static double ReluDerivative(double y) => double.IsNaN(y) ? y : y > 0 ? 1.0 : 0.0;

    // ---- fused backward forms: dInput = dOutput · f'(a), f' expressed from y = f(a) ------------------------

    /// <summary>dy · (1 - y²).</summary>
    public static double TanhBackward(double y, double dy) => dy * (1.0 - y * y);

    /// <summary>dy · y (1 - y).</summary>
    public static double SigmoidBackward(double y, double dy) => dy * (y * (1.0 - y));

    /// <summary>dy where y &gt; 0, else 0 (a selection, not a product: an infinite dy where y ≤ 0 gives 0); NaN in y stays NaN.</summary>
    public static double ReluBackward(double y, double dy) => double.IsNaN(y) ? y : y > 0 ? dy : 0.0;

    // ---- BLAS level 1 ------------------------------------------------------------------------------------

    /// <summary>destination[i] = x[i] + y[i].</summary>
    public static void Add(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> destination)
    {
        for (int i = 0; i < x.Length; i++) destination[i] = x[i] + y[i];
    }

    /// <summary>destination[i] = x[i] · y[i].</summary>
    public static void Multiply(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<double> destination)
    {
        for (int i = 0; i < x.Length; i++) destination[i] = x[i] * y[i];
    }

    /// <summary>y[i] = alpha · x[i] + y[i], evaluated with one rounding (fused), so the reference is correctly rounded.</summary>
    public static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = Math.FusedMultiplyAdd(alpha, x[i], y[i]);
    }

    /// <summary>destination[i] = alpha · x[i].</summary>
    public static void Scale(double alpha, ReadOnlySpan<double> x, Span<double> destination)
    {
        for (int i = 0; i < x.Length; i++) destination[i] = alpha * x[i];
    }

    /// <summary>Σ x[i], left to right.</summary>
    public static double Sum(ReadOnlySpan<double> x)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += x[i];
        return s;
    }

    /// <summary>Σ x[i] · y[i], left to right.</summary>
    public static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += x[i] * y[i];
        return s;
    }

    /// <summary>Σ x[i]², left to right.</summary>
    public static double SumOfSquares(ReadOnlySpan<double> x)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += x[i] * x[i];
        return s;
    }

    // ---- BLAS level 3 ------------------------------------------------------------------------------------

    /// <summary>
    /// Naive triple loop C = alpha · op(A) · op(B) + beta · C, row-major with leading dimensions.
    /// op(A) is m x k: A[i·lda + p], or A[p·lda + i] when <paramref name="transA"/>.
    /// op(B) is k x n: B[p·ldb + j], or B[j·ldb + p] when <paramref name="transB"/>.
    /// BLAS convention: when beta == 0, C is not read (a NaN in C does not propagate).
    /// <para>
    /// <c>magnitude</c> is optional (may be empty); if given it is m x n with leading dimension ldc and receives
    /// |alpha| · Σ_p |op(A)_ip| |op(B)_pj| + |beta| · |C_ij| (the beta term only when beta ≠ 0), the quantity that
    /// forward error bounds of a dot product are proportional to.
    /// </para>
    /// </summary>
    public static void Gemm(bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc,
        Span<double> magnitude = default)
    {
        bool wantMagnitude = !magnitude.IsEmpty;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, abs = 0;
                for (int p = 0; p < k; p++)
                {
                    double aip = transA ? a[p * lda + i] : a[i * lda + p];
                    double bpj = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += aip * bpj;
                    abs += Math.Abs(aip * bpj);
                }
                double old = beta == 0 ? 0 : c[i * ldc + j];
                c[i * ldc + j] = beta == 0 ? alpha * sum : alpha * sum + beta * old;
                if (wantMagnitude) magnitude[i * ldc + j] = Math.Abs(alpha) * abs + Math.Abs(beta) * Math.Abs(old);
            }
        }
    }
}
