using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Tests.Reference;
using static Rnn.Simd.Tests.Infrastructure.TestHelpers;

namespace Rnn.Simd.Tests.Infrastructure;

/// <summary>
/// One GEMM test problem C = alpha · op(A) · op(B) + beta · C with random operands, its reference result and its
/// per-element error bound, and runners for the unpacked and pre-packed entry points.
/// </summary>
/// <remarks>
/// <para>
/// Traps: the padding of A and B between rows (columns beyond the stored width, up to the leading dimension) holds
/// NaN, so a kernel that reads it poisons its result. C lives in a larger buffer filled with a sentinel NaN:
/// everything outside the M x N region (before C, the columns N .. ldc of every row, and after the last row) must
/// keep its bits. With beta = 0 the M x N region itself starts as NaN, which must not leak (C is not read).
/// </para>
/// <para>
/// Error bound, per element: |C - C_ref| ≤ (γ_{2k+4}(u_T) + γ_{k+2}(u_double)) · (|alpha| Σ_p |a_ip| |b_pj| + |beta| |c_ij|),
/// γ_n = n·u / (1 - n·u), u_T = 2^-24 (float) or 2^-53 (double). Why 2k + 4: each KC-deep block is one FMA chain
/// (at most k roundings over all blocks), every block is merged into C with one more rounding (at most k merges,
/// as a block holds at least one k), and alpha·acc + beta·c adds up to 2 more (beta · c and the final FMA); the
/// one-row path is a single chain plus those 2. The reference, summed left to right in double, adds γ_{k+2}(u_double)
/// (k products and sums, the alpha product and the beta sum); for float inputs its products are exact. The bound
/// holds for any summation order, so it does not depend on the ISA path or the blocking.
/// </para>
/// </remarks>
public sealed class GemmProblem<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Sentinel elements before C's span.</summary>
    public const int COffset = 2;

    /// <summary>Sentinel elements after the last row of C, inside the span passed to the kernel.</summary>
    public const int CTail = 3;

    public int M { get; }
    public int N { get; }
    public int K { get; }
    public bool TransA { get; }
    public bool TransB { get; }
    public int Lda { get; }
    public int Ldb { get; }
    public int Ldc { get; }
    public T Alpha { get; }
    public T Beta { get; }
    public T[] A { get; }
    public T[] B { get; }

    private readonly T[] _aCopy, _bCopy, _c0;
    private readonly double[] _expected, _tolerance;

    public GemmProblem(int m, int n, int k, bool transA, bool transB, int padA, int padB, int padC,
        double alpha, double beta, int seed)
    {
        if (m < 1 || n < 1 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), "The harness needs m, n >= 1 and k >= 0.");
        M = m; N = n; K = k; TransA = transA; TransB = transB;
        Alpha = Of<T>(alpha); Beta = Of<T>(beta);
        var rng = new Random(seed);

        int rowsA = transA ? k : m, colsA = transA ? m : k;
        int rowsB = transB ? n : k, colsB = transB ? k : n;
        Lda = Math.Max(1, colsA) + padA;
        Ldb = Math.Max(1, colsB) + padB;
        Ldc = n + padC;
        A = Operand(rng, rowsA, colsA, Lda);
        B = Operand(rng, rowsB, colsB, Ldb);
        _aCopy = A.ToArray();
        _bCopy = B.ToArray();

        int cUsed = (m - 1) * Ldc + n;
        _c0 = new T[COffset + cUsed + CTail];
        _c0.AsSpan().Fill(SentinelNaN<T>());
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                _c0[COffset + i * Ldc + j] = Beta == T.Zero ? T.NaN : Of<T>(2 * rng.NextDouble() - 1);

        // The reference sees exactly the values the kernel sees (alpha, beta and all operands rounded to T).
        _expected = new double[cUsed];
        for (int i = 0; i < cUsed; i++) _expected[i] = D(_c0[COffset + i]);
        var magnitude = new double[cUsed];
        ScalarReference.Gemm(transA, transB, m, n, k, D(Alpha), ToDouble<T>(A), Lda, ToDouble<T>(B), Ldb, D(Beta),
            _expected, Ldc, magnitude);
        double gamma = Gamma(2 * k + 4, UnitRoundoff<T>()) + Gamma(k + 2, UDouble);
        _tolerance = new double[cUsed];
        for (int i = 0; i < cUsed; i++) _tolerance[i] = gamma * magnitude[i];
    }

    /// <summary>A stored rows x cols operand with leading dimension ld, exactly as long as the shape needs; padding is NaN.</summary>
    private static T[] Operand(Random rng, int rows, int cols, int ld)
    {
        var x = new T[rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols];
        x.AsSpan().Fill(T.NaN);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                x[r * ld + c] = Of<T>(2 * rng.NextDouble() - 1);
        return x;
    }

    public Transpose OpA => TransA ? Transpose.Transposed : Transpose.None;
    public Transpose OpB => TransB ? Transpose.Transposed : Transpose.None;

    /// <summary>A fresh copy of the initial C buffer (sentinels included); the kernel's C span starts at <see cref="COffset"/>.</summary>
    public T[] NewC() => (T[])_c0.Clone();

    /// <summary>The span of C handed to the kernel: M rows at stride ldc plus <see cref="CTail"/> trailing sentinels.</summary>
    public static Span<T> CSpan(T[] c) => c.AsSpan(COffset);

    public T[] RunUnpacked(IsaPath path, int maxThreads = 1)
    {
        T[] c = NewC();
        Gemm.Multiply(OpA, OpB, M, N, K, Alpha, A, Lda, B, Ldb, Beta, CSpan(c), Ldc, maxThreads, path);
        return c;
    }

    public PackedMatrix<T> Pack(IsaPath path) => PackedMatrix<T>.Create(OpB, K, N, B, Ldb, path);

    public T[] RunPacked(PackedMatrix<T> packed, int maxThreads = 1)
    {
        T[] c = NewC();
        Gemm.Multiply(OpA, M, Alpha, A, Lda, packed, Beta, CSpan(c), Ldc, maxThreads);
        return c;
    }

    public T[] RunPacked(IsaPath path, int maxThreads = 1) => RunPacked(Pack(path), maxThreads);

    public string Describe() =>
        $"{Name<T>()} m={M} n={N} k={K} transA={TransA} transB={TransB} lda={Lda} ldb={Ldb} ldc={Ldc} alpha={Alpha} beta={Beta}";

    /// <summary>Checks the M x N region against the reference, every other element of the buffer bit for bit, and that A and B are unchanged.</summary>
    public void Verify(T[] c, string what)
    {
        long sentinel = Bits(SentinelNaN<T>());
        for (int idx = 0; idx < c.Length; idx++)
        {
            int rel = idx - COffset;
            int i = rel >= 0 ? rel / Ldc : -1, j = rel >= 0 ? rel % Ldc : -1;
            bool inside = rel >= 0 && i < M && j < N;
            if (inside)
            {
                double actual = D(c[idx]);
                double err = Math.Abs(actual - _expected[rel]);
                if (!(err <= _tolerance[rel]))
                    Assert.Fail($"{what} [{Describe()}]: C[{i},{j}] = {actual:R}, expected {_expected[rel]:R}, |error| {err:E3} > bound {_tolerance[rel]:E3}.");
            }
            else if (Bits(c[idx]) != sentinel)
            {
                string where = rel < 0 ? $"{-rel} before C" : i >= M ? $"{rel - ((M - 1) * Ldc + N)} after the last row" : $"row {i}, padding column {j}";
                Assert.Fail($"{what} [{Describe()}]: element outside the M x N region ({where}) was overwritten with {c[idx]}.");
            }
        }
        AssertBitwiseEqual<T>(_aCopy, A, $"{what} [{Describe()}]: A modified");
        AssertBitwiseEqual<T>(_bCopy, B, $"{what} [{Describe()}]: B modified");
    }
}
