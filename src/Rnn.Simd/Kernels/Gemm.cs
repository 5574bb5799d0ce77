using System.Numerics;
using Rnn.Simd.Kernels.GemmCore;
using Rnn.Simd.Kernels.Operators;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels;

/// <summary>
/// General matrix multiply, C = alpha · op(A) · op(B) + beta · C, for float and double, row-major with leading
/// dimensions (BLAS sgemm / dgemm semantics).
/// </summary>
/// <remarks>
/// <para>
/// Shapes: op(A) is M x K, op(B) is K x N, C is M x N. A stored row-major M x K (lda ≥ K), or K x M when
/// transposed (lda ≥ M); likewise B is K x N (ldb ≥ N) or N x K when transposed (ldb ≥ K); C is M x N with
/// ldc ≥ N. Only the M x N elements of C are written; elements between rows (columns N .. ldc) stay untouched.
/// </para>
/// <para>
/// beta = 0 overwrites C without reading it (NaN in C does not leak); beta = 1 accumulates. When K = 0 or alpha = 0
/// the product is skipped and C = beta · C, as in BLAS.
/// </para>
/// <para>
/// Implementation: blocked loops with packing into zero-padded panels and a register-tiled micro-kernel per ISA
/// path (8 x 32 floats on AVX-512, 6 x 16 on AVX2, 6 x 8 on 128-bit vectors, 4 x 4 scalar); a one-row path for
/// M = 1 (batch 1 is a GEMV) that streams B instead of packing it; optional threading over output blocks. The
/// summation order of every element depends on K, the ISA path and whether M = 1 (the one-row path sums K in one
/// chain, the blocked path in blocks of 256), never on the thread count, so results are bitwise identical for any
/// <c>maxThreads</c>. With a pre-packed B and K ≤ 256 the one-row path keeps the micro-kernel's order, so a row
/// computed alone equals the same row of a batched product bitwise (batched inference of several streams equals
/// stepping each stream alone); otherwise the last bits may differ. Nothing allocates after a thread's first call (which allocates its
/// packing buffers, about 2.6 MiB for float).
/// </para>
/// </remarks>
public static unsafe class Gemm
{
    /// <summary>C = alpha · op(A) · op(B) + beta · C.</summary>
    /// <param name="transA">Whether op(A) = A or Aᵀ.</param>
    /// <param name="transB">Whether op(B) = B or Bᵀ.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A, row-major.</param>
    /// <param name="lda">Leading dimension (row stride) of the stored A.</param>
    /// <param name="b">B, row-major.</param>
    /// <param name="ldb">Leading dimension of the stored B.</param>
    /// <param name="beta">Scale of the existing C; 0 overwrites, 1 accumulates.</param>
    /// <param name="c">C, row-major M x N with leading dimension ldc; overwritten or accumulated into.</param>
    /// <param name="ldc">Leading dimension of C (≥ N).</param>
    /// <param name="maxThreads">Most threads to use: 1 (the default) runs on the caller only; 0 uses every core.
    /// Either way a product smaller than 2^18 multiply-adds (M·N·K) runs on the caller: waking a worker would cost
    /// more than it saves.</param>
    /// <param name="path">ISA path; <see cref="IsaPath.Auto"/> is the widest supported.</param>
    /// <exception cref="ArgumentException">A span is too short for its shape, a leading dimension is too small, or C's
    /// extent (from its first to its last element, padding columns included) overlaps A or B.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or maxThreads is negative.</exception>
    /// <exception cref="NotSupportedException">T is neither float nor double.</exception>
    public static void Multiply<T>(Transpose transA, Transpose transB, int m, int n, int k,
        T alpha, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc,
        int maxThreads = 1, IsaPath path = IsaPath.Auto)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        VectorHelpers.EnsureSupported<T>();
        ValidateDims(m, n, k, maxThreads);
        GemmDriver.ValidateOperand(transA, m, k, a.Length, lda, nameof(a), nameof(lda));
        GemmDriver.ValidateOperand(transB, k, n, b.Length, ldb, nameof(b), nameof(ldb));
        GemmDriver.ValidateOperand(Transpose.None, m, n, c.Length, ldc, nameof(c), nameof(ldc));
        IsaPath resolved = Isa.Resolve(path);
        if (m == 0 || n == 0) return;
        CheckNoOverlap(a, b, c, m, n, ldc);
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            var g = new GemmArgs<T>
            {
                M = m, N = n, K = k, TransA = transA, TransB = transB,
                A = pa, B = pb, C = pc, Lda = lda, Ldb = ldb, Ldc = ldc, PackedB = null, Alpha = alpha, Beta = beta,
            };
            Execute(resolved, ref g, maxThreads);
        }
    }

    /// <summary>C = alpha · op(A) · B + beta · C with B pre-packed (see <see cref="PackedMatrix{T}"/>); N and K come from B.</summary>
    /// <param name="transA">Whether op(A) = A or Aᵀ.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A, row-major: M x K (lda ≥ K), or K x M when transposed (lda ≥ M).</param>
    /// <param name="lda">Leading dimension of the stored A.</param>
    /// <param name="b">The packed right-hand operand, K = b.Rows, N = b.Columns; its path is the path used.</param>
    /// <param name="beta">Scale of the existing C; 0 overwrites, 1 accumulates.</param>
    /// <param name="c">C, row-major M x N, leading dimension ldc.</param>
    /// <param name="ldc">Leading dimension of C (≥ N).</param>
    /// <param name="maxThreads">As in the unpacked overload.</param>
    public static void Multiply<T>(Transpose transA, int m, T alpha, ReadOnlySpan<T> a, int lda,
        PackedMatrix<T> b, T beta, Span<T> c, int ldc, int maxThreads = 1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = b.Columns, k = b.Rows;
        ValidateDims(m, n, k, maxThreads);
        GemmDriver.ValidateOperand(transA, m, k, a.Length, lda, nameof(a), nameof(lda));
        GemmDriver.ValidateOperand(Transpose.None, m, n, c.Length, ldc, nameof(c), nameof(ldc));
        if (m == 0 || n == 0) return;
        CheckNoOverlap(a, default, c, m, n, ldc);
        fixed (T* pa = a)
        fixed (T* pc = c)
        {
            var g = new GemmArgs<T>
            {
                M = m, N = n, K = k, TransA = transA, TransB = Transpose.None,
                A = pa, B = null, C = pc, Lda = lda, Ldb = 0, Ldc = ldc, PackedB = b.Pointer, Alpha = alpha, Beta = beta,
            };
            Execute(b.Path, ref g, maxThreads);
        }
        // The product reads b's storage through a raw pointer. Its array is pinned, but pinned is not rooted: without
        // this, the JIT may end b's lifetime at b.Path, and a GC during the product could free the array while it is
        // read (seen: a wrong C[0, 0] under a parallel test run, when the caller passed a temporary PackedMatrix).
        GC.KeepAlive(b);
    }

    private static void ValidateDims(int m, int n, int k, int maxThreads)
    {
        if (m < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(m), "M must be non-negative.");
        if (n < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(n), "N must be non-negative.");
        if (k < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(k), "K must be non-negative.");
        if (maxThreads < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(maxThreads), "maxThreads must be 0 (automatic) or positive.");
    }

    private static void CheckNoOverlap<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int n, int ldc)
    {
        ReadOnlySpan<T> used = c.Slice(0, (m - 1) * ldc + n);
        if (used.Overlaps(a)) ThrowHelper.ThrowArgument(nameof(c), "C overlaps A; the output must not alias an input.");
        if (used.Overlaps(b)) ThrowHelper.ThrowArgument(nameof(c), "C overlaps B; the output must not alias an input.");
    }

    private static void Execute<T>(IsaPath path, ref GemmArgs<T> g, int maxThreads) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (g.K == 0 || g.Alpha == T.Zero)
        {
            GemmDriver.ScaleC(g.C, g.Ldc, g.M, g.N, g.Beta);
            return;
        }
        int threads = maxThreads == 1 ? 1 : Math.Min(maxThreads == 0 ? int.MaxValue : maxThreads, WorkerPool.Shared.MaxDegreeOfParallelism);
        if (threads > 1 && (long)g.M * g.N * g.K < GemmBlocking.ParallelThreshold) threads = 1;
        if (g.M == 1 && (g.PackedB != null || g.TransB == Transpose.None))
        {
            T* x = g.A;
            if (g.TransA == Transpose.Transposed && g.Lda != 1)
            {
                x = g.K <= GemmScratch<T>.RowCapacity ? GemmScratch<T>.ForCurrentThread().Row : null;
                if (x != null) for (int kk = 0; kk < g.K; kk++) x[kk] = g.A[kk * g.Lda];
            }
            if (x != null)
            {
                if (threads <= 1)
                {
                    GemmDriver.OneRow(path, g, x);
                    return;
                }
                GemmJob<T> rowJob = GemmJob<T>.ForCurrentThread();
                rowJob.PrepareOneRow(path, g, x, threads);
                WorkerPool.Shared.Run(rowJob, rowJob.Parts);
                rowJob.Clear();
                return;
            }
        }

        if (threads <= 1)
        {
            RunRange(path, g, 0, g.M, 0, g.N);
            return;
        }
        GemmJob<T> job = GemmJob<T>.ForCurrentThread();
        job.Prepare(path, g, threads);
        WorkerPool.Shared.Run(job, job.Parts);
        job.Clear();
    }

    internal static void RunRange<T>(IsaPath path, in GemmArgs<T> g, int i0, int i1, int j0, int j1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var job = new RangeJob<T>(g, i0, i1, j0, j1);
        IsaDispatch.Run<T, RangeJob<T>>(path, ref job);
    }

    /// <summary>The blocked driver over the micro-kernel of one width (the scalar path has its own 4 x 4 tile).</summary>
    private readonly struct RangeJob<T>(GemmArgs<T> g, int i0, int i1, int j0, int j1) : IVecJob<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            if (TV.Count == 1) GemmDriver.RunRange<T, MicroKernel4x4Scalar<T>>(g, i0, i1, j0, j1);
            else GemmDriver.RunRange<T, MicroKernel<T, TV>>(g, i0, i1, j0, j1);
        }
    }

    /// <summary>
    /// One parallel GEMM: the output is cut into contiguous blocks of whole NR-column panels (or of MR-row panels when
    /// N is too narrow), one per part. Each element is computed by exactly one part in the same order as on one thread.
    /// </summary>
    private sealed unsafe class GemmJob<T> : IParallelJob where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        [ThreadStatic] private static GemmJob<T>? t_job;
        private GemmArgs<T> _args;
        private IsaPath _path;
        private bool _splitColumns, _oneRow;
        private T* _row;
        private int _unit, _units;

        public int Parts { get; private set; }

        public static GemmJob<T> ForCurrentThread() => t_job ??= new GemmJob<T>();

        /// <summary>A one-row product split into column ranges of whole NR panels.</summary>
        public void PrepareOneRow(IsaPath path, in GemmArgs<T> g, T* row, int threads)
        {
            _args = g;
            _path = path;
            _oneRow = true;
            _row = row;
            _splitColumns = true;
            _unit = GemmDriver.PanelWidth<T>(path);
            _units = (g.N + _unit - 1) / _unit;
            Parts = Math.Min(threads, _units);
        }

        public void Prepare(IsaPath path, in GemmArgs<T> g, int threads)
        {
            _args = g;
            _path = path;
            _oneRow = false;
            int nr = GemmDriver.PanelWidth<T>(path), mr = GemmDriver.PanelHeight<T>(path);
            int colUnits = (g.N + nr - 1) / nr, rowUnits = (g.M + mr - 1) / mr;
            _splitColumns = colUnits >= threads || colUnits >= rowUnits;
            _unit = _splitColumns ? nr : mr;
            _units = _splitColumns ? colUnits : rowUnits;
            Parts = Math.Min(threads, _units);
        }

        public void Clear()
        {
            _args = default;
            _row = null;
        }

        public void Execute(int index)
        {
            int u0 = (int)((long)_units * index / Parts), u1 = (int)((long)_units * (index + 1) / Parts);
            if (_oneRow)
            {
                int j0 = u0 * _unit, j1 = Math.Min(_args.N, u1 * _unit);
                GemmArgs<T> part = _args;
                part.N = j1 - j0;
                part.C += j0;
                if (part.PackedB != null) part.PackedB += (nint)(j0 / _unit) * part.K * _unit;
                else part.B += j0;
                GemmDriver.OneRow(_path, part, _row);
            }
            else if (_splitColumns)
                RunRange(_path, _args, 0, _args.M, u0 * _unit, Math.Min(_args.N, u1 * _unit));
            else
                RunRange(_path, _args, u0 * _unit, Math.Min(_args.M, u1 * _unit), 0, _args.N);
        }
    }
}
