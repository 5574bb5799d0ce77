using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Rnn.Simd.Kernels.Simd;
using static Rnn.Simd.Kernels.GemmCore.GemmBlocking;

namespace Rnn.Simd.Kernels.GemmCore;

/// <summary>The operands of one GEMM call as raw pointers (the caller keeps them pinned for the call).</summary>
internal unsafe struct GemmArgs<T> where T : unmanaged
{
    public int M, N, K;
    public Transpose TransA, TransB;
    public T* A, B, C;
    public nint Lda, Ldb, Ldc;
    /// <summary>Pre-packed op(B) in full-K panels ([panel][K][NR]) or null to pack per block.</summary>
    public T* PackedB;
    public T Alpha, Beta;
}

/// <summary>
/// The blocked GEMM driver (BLIS loop order jc → pc → ic → jr → ir): packs blocks of op(A) into MR-row panels and
/// blocks of op(B) into NR-column panels, both zero-padded, and runs the micro-kernel of one ISA over them. Edge
/// tiles are computed whole into a scratch tile and only their valid part is written, so C outside M x N is never
/// touched.
/// </summary>
internal static unsafe class GemmDriver
{
    /// <summary>NR, the column width of the packed B panels the micro-kernel of <paramref name="path"/> reads.</summary>
    public static int PanelWidth<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        IsaPath p = Isa.Resolve(path);
        return p == IsaPath.Scalar ? MicroKernel4x4Scalar<T>.NR : 2 * IsaDispatch.Lanes<T>(p);
    }

    /// <summary>MR, the row height of the packed A panels of <paramref name="path"/>.</summary>
    public static int PanelHeight<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        IsaPath p = Isa.Resolve(path);
        return p == IsaPath.Scalar ? MicroKernel4x4Scalar<T>.MR : MicroKernelShape.Rows(IsaDispatch.Lanes<T>(p) * Unsafe.SizeOf<T>());
    }

    /// <summary>Checks a stored operand of logical shape rows x cols (op applied) against its span length and leading dimension.</summary>
    public static void ValidateOperand(Transpose transpose, int rows, int cols, int length, int ld, string name, string ldName)
    {
        if ((uint)transpose > 1) ThrowHelper.ThrowArgumentOutOfRange(name, "Unknown Transpose value.");
        int storedRows = transpose == Transpose.None ? rows : cols;
        int storedCols = transpose == Transpose.None ? cols : rows;
        if (ld < Math.Max(1, storedCols))
            ThrowHelper.ThrowArgument(ldName, $"Leading dimension {ld} is smaller than the {storedCols} columns of the stored {storedRows} x {storedCols} matrix.");
        long required = storedRows == 0 || storedCols == 0 ? 0 : (long)(storedRows - 1) * ld + storedCols;
        if (length < required)
            ThrowHelper.ThrowArgument(name, $"Span of {length} elements is too short for a stored {storedRows} x {storedCols} matrix with leading dimension {ld} ({required} needed).");
    }

    /// <summary>
    /// Packs op(B)[k0 .. k0+kc, j0 .. j0+nc) into panels of <paramref name="nr"/> columns: element (kk, c) of panel p
    /// goes to dst[p·kStride·nr + kk·nr + c]; columns past nc are zero.
    /// </summary>
    public static void PackB<T>(Transpose trans, T* b, nint ldb, int k0, int kc, int j0, int nc, int nr, T* dst, nint kStride)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int p = 0; p * nr < nc; p++)
        {
            T* panel = dst + p * kStride * nr;
            int cols = Math.Min(nr, nc - p * nr);
            int col0 = j0 + p * nr;
            if (trans == Transpose.None)
            {
                T* src = b + k0 * ldb + col0;
                for (int kk = 0; kk < kc; kk++, src += ldb)
                {
                    T* d = panel + kk * nr;
                    CopyShort(src, d, cols);
                    for (int c = cols; c < nr; c++) d[c] = T.Zero;
                }
            }
            else
            {
                // op(B)(k, j) = B[j, k]: read each stored row contiguously along k, write with stride nr.
                int c0 = 0;
                if (typeof(T) == typeof(float) && Avx.IsSupported)
                {
                    // 8 x 8 blocks transposed in registers: the recurrent weights are repacked after every update, and
                    // the element-wise strided loop below made that a tenth of a batch-1 training window.
                    for (; c0 + 8 <= cols; c0 += 8)
                    {
                        int kk = 0;
                        for (; kk + 8 <= kc; kk += 8)
                            Transpose8x8((float*)(b + (col0 + c0) * ldb + k0 + kk), ldb, (float*)(panel + kk * nr + c0), nr);
                        for (; kk < kc; kk++)
                            for (int c = c0; c < c0 + 8; c++) panel[kk * nr + c] = b[(col0 + c) * ldb + k0 + kk];
                    }
                }
                for (int c = c0; c < cols; c++)
                {
                    T* src = b + (col0 + c) * ldb + k0;
                    T* d = panel + c;
                    for (int kk = 0; kk < kc; kk++) d[kk * nr] = src[kk];
                }
                if (cols < nr)
                {
                    for (int kk = 0; kk < kc; kk++)
                        for (int c = cols; c < nr; c++) panel[kk * nr + c] = T.Zero;
                }
            }
        }
    }

    /// <summary>dst[i·6 + r] = src[r·lds + i] for 6 rows x 8 columns; writes 8 values per output row (the last two zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose6x8(float* src, nint lds, float* dst)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + lds), r2 = Avx.LoadVector256(src + 2 * lds), r3 = Avx.LoadVector256(src + 3 * lds);
        Vector256<float> r4 = Avx.LoadVector256(src + 4 * lds), r5 = Avx.LoadVector256(src + 5 * lds), z = Vector256<float>.Zero;
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, z, 0x44), u5 = Avx.Shuffle(t4, z, 0xEE), u6 = Avx.Shuffle(t5, z, 0x44), u7 = Avx.Shuffle(t5, z, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20)); Avx.Store(dst + 6, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 12, Avx.Permute2x128(u2, u6, 0x20)); Avx.Store(dst + 18, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 24, Avx.Permute2x128(u0, u4, 0x31)); Avx.Store(dst + 30, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 36, Avx.Permute2x128(u2, u6, 0x31)); Avx.Store(dst + 42, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>dst[i·ldd + r] = src[r·lds + i] for an 8 x 8 float block (AVX unpack / shuffle / lane permute).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint lds, float* dst, nint ldd)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + lds), r2 = Avx.LoadVector256(src + 2 * lds), r3 = Avx.LoadVector256(src + 3 * lds);
        Vector256<float> r4 = Avx.LoadVector256(src + 4 * lds), r5 = Avx.LoadVector256(src + 5 * lds), r6 = Avx.LoadVector256(src + 6 * lds), r7 = Avx.LoadVector256(src + 7 * lds);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20)); Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20)); Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31)); Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31)); Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>
    /// Copies a few elements (one panel row: MR or NR values). Unsafe.CopyBlockUnaligned becomes a call to Memmove
    /// for a runtime length, which cost more than the copy itself here: packing the transposed gate gradients of a
    /// B = 32 training window made ~10^5 such calls of 24 bytes each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyShort<T>(T* src, T* dst, int count) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int c = 0;
        for (; c + Vector128<T>.Count <= count; c += Vector128<T>.Count) Vector128.Load(src + c).Store(dst + c);
        for (; c < count; c++) dst[c] = src[c];
    }

    /// <summary>
    /// Packs op(A)[i0 .. i0+mc, k0 .. k0+kc) into panels of <paramref name="mr"/> rows: element (r, kk) of panel q
    /// goes to dst[q·kc·mr + kk·mr + r]; rows past mc are zero.
    /// </summary>
    public static void PackA<T>(Transpose trans, T* a, nint lda, int i0, int mc, int k0, int kc, int mr, T* dst)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int q = 0; q * mr < mc; q++)
        {
            T* panel = dst + (nint)q * kc * mr;
            int rows = Math.Min(mr, mc - q * mr);
            int row0 = i0 + q * mr;
            if (trans == Transpose.None)
            {
                int kk0 = 0;
                if (typeof(T) == typeof(float) && Avx.IsSupported && rows == 6 && mr == 6)
                {
                    // Full 6-row float panels (the per-step h and dGates operands): 6 x 8 blocks transposed in
                    // registers. Each store writes 8 values at stride 6; the 2 extra are overwritten by the next
                    // store, the next panel, the scalar tail below, or land in the slack of the packing buffer.
                    for (; kk0 + 8 <= kc; kk0 += 8)
                        Transpose6x8((float*)(a + row0 * lda + k0 + kk0), lda, (float*)(panel + kk0 * mr));
                }
                for (int r = 0; r < rows; r++)
                {
                    T* src = a + (row0 + r) * lda + k0;
                    T* d = panel + r;
                    for (int kk = kk0; kk < kc; kk++) d[kk * mr] = src[kk];
                }
            }
            else
            {
                // op(A)(i, k) = A[k, i]: each k gives mr contiguous values.
                T* src = a + k0 * lda + row0;
                for (int kk = 0; kk < kc; kk++, src += lda) CopyShort(src, panel + kk * mr, rows);
            }
            if (rows < mr)
            {
                for (int kk = 0; kk < kc; kk++)
                    for (int r = rows; r < mr; r++) panel[kk * mr + r] = T.Zero;
            }
        }
    }

    /// <summary>Computes rows [i0, i1) x columns [j0, j1) of C; j0 must be a multiple of NR when B is pre-packed.</summary>
    public static void RunRange<T, TK>(in GemmArgs<T> g, int i0, int i1, int j0, int j1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TK : IGemmMicroKernel<T>
    {
        int mr = TK.MR, nr = TK.NR;
        GemmScratch<T> scratch = GemmScratch<T>.ForCurrentThread();
        T* aBuf = scratch.A, bBuf = scratch.B, tile = scratch.Tile;
        for (int jc = j0; jc < j1; jc += NC)
        {
            int nc = Math.Min(NC, j1 - jc);
            for (int pc = 0; pc < g.K; pc += KC)
            {
                int kc = Math.Min(KC, g.K - pc);
                T beta = pc == 0 ? g.Beta : T.One;
                // Small M: each B panel serves only a few MR panels of A, so packing a whole KC x NC block of B
                // (which spills to L3 and is read back) would cost about as much as the product: full micro-panels
                // are read in place (row stride ldb).
                bool inPlace = g.PackedB == null && g.TransB == Transpose.None && i1 - i0 <= InPlaceBMaxRows;
                T* bBlock = null;
                nint panelStride = 0;
                if (g.PackedB != null)
                {
                    bBlock = g.PackedB + (nint)(jc / nr) * g.K * nr + (nint)pc * nr;
                    panelStride = (nint)g.K * nr;
                }
                else if (!inPlace)
                {
                    PackB(g.TransB, g.B, g.Ldb, pc, kc, jc, nc, nr, bBuf, kc);
                    bBlock = bBuf;
                    panelStride = (nint)kc * nr;
                }
                for (int ic = i0; ic < i1; ic += MC)
                {
                    int mc = Math.Min(MC, i1 - ic);
                    PackA(g.TransA, g.A, g.Lda, ic, mc, pc, kc, mr, aBuf);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int ncols = Math.Min(nr, nc - jr);
                        T* bp;
                        nint ldb;
                        if (!inPlace) { bp = bBlock + (jr / nr) * panelStride; ldb = nr; }
                        else if (ncols == nr) { bp = g.B + pc * g.Ldb + jc + jr; ldb = g.Ldb; }
                        else
                        {
                            // The ragged last micro-panel cannot be read in place (its rows would run past N): pack
                            // it, zero-padded. (Packing every micro-panel into L1 first was measured slower: 58 vs
                            // 63 GFLOP/s at (32 x 128)(128 x 512), 50 vs 55 at (32 x 512)(512 x 2048).)
                            PackB(Transpose.None, g.B, g.Ldb, pc, kc, jc + jr, ncols, nr, bBuf, kc);
                            bp = bBuf; ldb = nr;
                        }
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int nrows = Math.Min(mr, mc - ir);
                            T* ap = aBuf + (nint)ir * kc;
                            T* cp = g.C + (ic + ir) * g.Ldc + jc + jr;
                            if (nrows == mr && ncols == nr)
                            {
                                TK.Run(kc, ap, bp, ldb, cp, g.Ldc, g.Alpha, beta);
                            }
                            else if (ncols == nr && TK.RunPartialRows(kc, ap, bp, ldb, cp, g.Ldc, g.Alpha, beta, nrows))
                            {
                            }
                            else
                            {
                                TK.Run(kc, ap, bp, ldb, tile, nr, T.One, T.Zero);
                                StoreEdge(tile, nr, cp, g.Ldc, nrows, ncols, g.Alpha, beta);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Rows of C (per thread) up to which B is read in place instead of packed (see <see cref="RunRange{T, TK}"/>):
    /// with 48 rows or fewer each B micro-panel serves at most eight MR panels, too few to repay packing a whole block
    /// (measured on this machine: (32 x 128)(128 x 512) 68 vs 48 GFLOP/s, (32 x 32)(32 x 128) 55 vs 48).
    /// </summary>
    private const int InPlaceBMaxRows = 48;

    private static void StoreEdge<T>(T* tile, nint ldt, T* c, nint ldc, int rows, int cols, T alpha, T beta)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < rows; i++)
        {
            T* t = tile + i * ldt;
            T* ci = c + i * ldc;
            if (beta == T.Zero)
                for (int j = 0; j < cols; j++) ci[j] = alpha * t[j];
            else
                for (int j = 0; j < cols; j++) ci[j] = T.FusedMultiplyAdd(alpha, t[j], beta * ci[j]);
        }
    }

    /// <summary>C = beta · C over M x N (beta = 0 writes zeros without reading C): the whole product when K = 0 or alpha = 0.</summary>
    public static void ScaleC<T>(T* c, nint ldc, int m, int n, T beta) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<T>(c + i * ldc, n);
            if (beta == T.Zero) row.Clear();
            else if (beta != T.One) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>One-row product on the given path (resolved). x is op(A)'s single row (contiguous, K elements).</summary>
    public static void OneRow<T>(IsaPath path, in GemmArgs<T> g, T* x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var job = new OneRowJob<T>(g, x);
        IsaDispatch.Run<T, OneRowJob<T>>(path, ref job);
    }

    private readonly struct OneRowJob<T>(GemmArgs<T> g, T* x) : IVecJob<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public void Run<TV>() where TV : unmanaged, IVec<TV, T>
        {
            if (TV.Count > 1)
            {
                if (g.PackedB != null) OneRow<T, TV>.Packed(g.K, x, g.PackedB, g.N, g.C, g.Alpha, g.Beta);
                else OneRow<T, TV>.Rows(g.K, x, g.B, g.Ldb, g.N, g.C, g.Alpha, g.Beta);
                return;
            }
            // The scalar path: one chain per output over the scalar panels (NR = 4) or the rows of B.
            int nr = MicroKernel4x4Scalar<T>.NR;
            for (int j = 0; j < g.N; j++)
            {
                T* col = g.PackedB != null ? g.PackedB + (nint)(j / nr) * g.K * nr + j % nr : g.B + j;
                nint step = g.PackedB != null ? nr : g.Ldb;
                T acc = T.Zero;
                for (int kk = 0; kk < g.K; kk++) acc = T.FusedMultiplyAdd(x[kk], col[kk * step], acc);
                g.C[j] = g.Beta == T.Zero ? g.Alpha * acc : T.FusedMultiplyAdd(g.Alpha, acc, g.Beta * g.C[j]);
            }
        }
    }
}

/// <summary>Per-thread packing buffers, allocated on a thread's first GEMM and reused for every later call.</summary>
internal sealed unsafe class GemmScratch<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    [ThreadStatic] private static GemmScratch<T>? t_current;

    private readonly T[] _a, _b, _tile, _row;
    public readonly T* A, B, Tile, Row;

    /// <summary>Elements in <see cref="Row"/>: the longest gathered op(A) row the one-row path accepts from scratch.</summary>
    public const int RowCapacity = 4096;

    private GemmScratch()
    {
        const int maxMr = 8, maxNr = 64;
        int offA, offB, offT, offR;
        (_a, offA) = AlignedBuffer.Allocate<T>((MC + maxMr) * KC);
        (_b, offB) = AlignedBuffer.Allocate<T>((NC + maxNr) * KC);
        (_tile, offT) = AlignedBuffer.Allocate<T>(maxMr * maxNr);
        (_row, offR) = AlignedBuffer.Allocate<T>(RowCapacity);
        A = (T*)Unsafe.AsPointer(ref _a[offA]);
        B = (T*)Unsafe.AsPointer(ref _b[offB]);
        Tile = (T*)Unsafe.AsPointer(ref _tile[offT]);
        Row = (T*)Unsafe.AsPointer(ref _row[offR]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GemmScratch<T> ForCurrentThread() => t_current ??= new GemmScratch<T>();
}
