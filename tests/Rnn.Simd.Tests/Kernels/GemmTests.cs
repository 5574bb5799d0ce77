using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.GemmCore;
using Rnn.Simd.Tests.Infrastructure;
using static Rnn.Simd.Tests.Infrastructure.TestHelpers;

namespace Rnn.Simd.Tests.Kernels;

/// <summary>
/// <see cref="Gemm"/> and <see cref="PackedMatrix{T}"/> against the naive reference (see <see cref="GemmProblem{T}"/>
/// for the traps and the error bound): shapes either side of every tile and blocking edge, all transposes, leading
/// dimensions wider than the matrices, alpha / beta combinations, the one-row path, threading, and validation.
/// </summary>
public class GemmTests
{
    private static readonly (double Alpha, double Beta)[] AlphaBeta =
        [(1, 0), (1, 1), (1, 0.25), (-0.5, 0), (-0.5, 1), (-0.5, 0.25), (0, 0), (0, 1), (0, 0.25)];

    /// <summary>K either side of the KC = 256 block depth, and the degenerate 0, 1, 2.</summary>
    private static readonly int[] Ks = [0, 1, 2, 17, 255, 256, 257];

    /// <summary>(padA, padB, padC): leading dimension minus stored width, cycled over the cases.</summary>
    private static readonly (int A, int B, int C)[] Pads = [(0, 0, 0), (1, 3, 2), (5, 0, 7), (0, 2, 1)];

    public static TheoryData<IsaPath, bool, bool> PathAndTransposes()
    {
        var d = new TheoryData<IsaPath, bool, bool>();
        foreach (IsaPath p in TestPaths.All)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    d.Add(p, ta, tb);
        return d;
    }

    public static TheoryData<bool, bool> Transposes()
    {
        var d = new TheoryData<bool, bool>();
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                d.Add(ta, tb);
        return d;
    }

    public static TheoryData<IsaPath> Paths() => SupportedPaths();

    // =======================================================================================================
    // Tile edges
    // =======================================================================================================

    [Theory, MemberData(nameof(PathAndTransposes))]
    public void TileEdges_Float_MatchReference(IsaPath path, bool transA, bool transB) => CheckTileEdges<float>(path, transA, transB);

    [Theory, MemberData(nameof(PathAndTransposes))]
    public void TileEdges_Double_MatchReference(IsaPath path, bool transA, bool transB) => CheckTileEdges<double>(path, transA, transB);

    /// <summary>
    /// m in {1, MR-1, MR, MR+1, 2MR+1}, n in {1, NR-1, NR, NR+1, 2NR+1} (MR, NR of this path's micro-kernel),
    /// k in {0, 1, 2, 17, 255, 256, 257}, every alpha / beta combination, unpacked and pre-packed.
    /// </summary>
    private static void CheckTileEdges<T>(IsaPath path, bool transA, bool transB) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int mr = GemmDriver.PanelHeight<T>(path), nr = GemmDriver.PanelWidth<T>(path);
        int[] ms = Distinct(1, mr - 1, mr, mr + 1, 2 * mr + 1);
        int[] ns = Distinct(1, nr - 1, nr, nr + 1, 2 * nr + 1);
        int caseIndex = 0;
        foreach (int m in ms)
            foreach (int n in ns)
                foreach (int k in Ks)
                    foreach ((double alpha, double beta) in AlphaBeta)
                    {
                        var pad = Pads[caseIndex % Pads.Length];
                        var p = new GemmProblem<T>(m, n, k, transA, transB, pad.A, pad.B, pad.C, alpha, beta, seed: 1000 + caseIndex);
                        caseIndex++;
                        p.Verify(p.RunUnpacked(path), $"unpacked on {path}");
                        p.Verify(p.RunPacked(path), $"packed on {path}");
                    }
    }

    private static int[] Distinct(params int[] values)
    {
        var l = new List<int>();
        foreach (int v in values) if (v >= 1 && !l.Contains(v)) l.Add(v);
        return l.ToArray();
    }

    // =======================================================================================================
    // Beyond the blocking constants MC = 144, KC = 256, NC = 2048
    // =======================================================================================================

    [Theory, MemberData(nameof(Transposes))]
    public void BeyondBlocking_Float_MatchesReference(bool transA, bool transB) => CheckBeyondBlocking<float>(transA, transB);

    [Theory, MemberData(nameof(Transposes))]
    public void BeyondBlocking_Double_MatchesReference(bool transA, bool transB) => CheckBeyondBlocking<double>(transA, transB);

    private static void CheckBeyondBlocking<T>(bool transA, bool transB) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Assert.True(GemmBlocking.MC < 147 && GemmBlocking.NC < 2053 && GemmBlocking.KC < 259, "The shapes below must exceed the blocking constants.");
        // M, N and K each one block plus an odd remainder.
        var big = new GemmProblem<T>(147, 2053, 259, transA, transB, 3, 1, 5, -0.5, 0.25, seed: 77);
        // K over several blocks: beta must be applied once (first block), the later blocks accumulate.
        var deep = new GemmProblem<T>(13, 37, 3 * GemmBlocking.KC + 5, transA, transB, 0, 2, 1, 1, 0.25, seed: 78);
        var deepOverwrite = new GemmProblem<T>(7, 19, 2 * GemmBlocking.KC + 1, transA, transB, 1, 0, 0, 1, 0, seed: 79);
        foreach (IsaPath path in TestPaths.All)
        {
            foreach (var p in new[] { big, deep, deepOverwrite })
            {
                p.Verify(p.RunUnpacked(path), $"unpacked on {path}");
                p.Verify(p.RunPacked(path), $"packed on {path}");
            }
        }
    }

    // =======================================================================================================
    // The one-row path (M = 1)
    // =======================================================================================================

    [Theory, MemberData(nameof(Paths))]
    public void OneRow_Float_MatchesReference(IsaPath path) => CheckOneRow<float>(path);

    [Theory, MemberData(nameof(Paths))]
    public void OneRow_Double_MatchesReference(IsaPath path) => CheckOneRow<double>(path);

    /// <summary>
    /// M = 1 with op(A) from a contiguous row (transA = None), from a K x 1 column with lda = 1, and from a strided
    /// column (transA, lda = 3 or 8, gathered); N across every vector block size of the row-streaming and packed
    /// one-row kernels; both B layouts, unpacked and packed.
    /// </summary>
    private static void CheckOneRow<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int[] ns = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200];
        int[] ks = [1, 2, 17, 300];
        (bool TransA, int PadA)[] aLayouts = [(false, 0), (false, 4), (true, 0), (true, 2), (true, 7)];
        (double, double)[] alphaBeta = [(1, 0), (-0.5, 0.25), (1, 1), (0, 0.25)];
        int seed = 0;
        foreach (int n in ns)
            foreach (int k in ks)
                foreach ((bool transA, int padA) in aLayouts)
                    foreach (bool transB in new[] { false, true })
                        foreach ((double alpha, double beta) in alphaBeta)
                        {
                            var p = new GemmProblem<T>(1, n, k, transA, transB, padA, 1, 2, alpha, beta, seed: 5000 + seed++);
                            p.Verify(p.RunUnpacked(path), $"one row, unpacked on {path}");
                            p.Verify(p.RunPacked(path), $"one row, packed on {path}");
                        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void OneRow_LongStridedColumn_Float_MatchesReference(IsaPath path) => CheckOneRowLong<float>(path);

    [Theory, MemberData(nameof(Paths))]
    public void OneRow_LongStridedColumn_Double_MatchesReference(IsaPath path) => CheckOneRowLong<double>(path);

    /// <summary>A strided op(A) row at the gather buffer's capacity (4096) and one past it (which takes another route).</summary>
    private static void CheckOneRowLong<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int cap = GemmScratch<T>.RowCapacity;
        foreach (int k in new[] { cap, cap + 1 })
        {
            var p = new GemmProblem<T>(1, 37, k, true, false, 1, 0, 3, -0.5, 0.25, seed: k);
            p.Verify(p.RunUnpacked(path), $"one row, unpacked on {path}");
            p.Verify(p.RunPacked(path), $"one row, packed on {path}");
        }
    }

    // =======================================================================================================
    // Pre-packed B
    // =======================================================================================================

    [Theory, MemberData(nameof(Paths))]
    public void Packed_Float_RepackAndPathProperties(IsaPath path) => CheckRepack<float>(path);

    [Theory, MemberData(nameof(Paths))]
    public void Packed_Double_RepackAndPathProperties(IsaPath path) => CheckRepack<double>(path);

    /// <summary>
    /// A PackedMatrix reports its shape and path, and Pack into an existing matrix replaces the contents (the
    /// repacking use: weights change after every update), for both source layouts.
    /// </summary>
    private static void CheckRepack<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        foreach (bool transB in new[] { false, true })
        {
            var first = new GemmProblem<T>(9, 45, 33, false, transB, 0, 3, 1, 1, 0, seed: 11);
            var second = new GemmProblem<T>(9, 45, 33, false, transB, 0, 3, 1, 1, 0, seed: 12);
            var packed = new PackedMatrix<T>(33, 45, path);
            Assert.Equal(33, packed.Rows);
            Assert.Equal(45, packed.Columns);
            Assert.Equal(path, packed.Path);
            packed.Pack(first.OpB, first.B, first.Ldb);
            first.Verify(first.RunPacked(packed), $"packed on {path}, first contents");
            packed.Pack(second.OpB, second.B, second.Ldb);
            second.Verify(second.RunPacked(packed), $"packed on {path}, repacked");
            // A third repack, multiplied by a one-row A (its own random B, same shape and ldb).
            var oneRow = new GemmProblem<T>(1, 45, 33, false, transB, 0, 3, 1, 1, 0, seed: 13);
            packed.Pack(oneRow.OpB, oneRow.B, oneRow.Ldb);
            oneRow.Verify(oneRow.RunPacked(packed), $"one row, packed on {path}, repacked");
        }
        Assert.Equal(Isa.Best, new PackedMatrix<T>(3, 3).Path);
    }

    // =======================================================================================================
    // Threading: bitwise identical for maxThreads 1, 2 and 0 (automatic)
    // =======================================================================================================

    [Theory, MemberData(nameof(Paths))]
    public void Threads_Float_BitwiseIdentical(IsaPath path) => CheckThreads<float>(path);

    [Theory, MemberData(nameof(Paths))]
    public void Threads_Double_BitwiseIdentical(IsaPath path) => CheckThreads<double>(path);

    /// <summary>
    /// Products above the 2^18 multiply-add threshold, so that maxThreads = 0 really threads: wide N (split over
    /// column panels), N narrower than one panel (split over row panels), and one crossing the MC and NC blocks.
    /// </summary>
    private static void CheckThreads<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        (int M, int N, int K, bool TA, bool TB)[] shapes =
            [(70, 200, 40, false, false), (1000, 3, 100, true, false), (150, 2100, 9, false, true), (37, 517, 300, true, true)];
        foreach (var s in shapes)
        {
            Assert.True((long)s.M * s.N * s.K >= GemmBlocking.ParallelThreshold);
            var p = new GemmProblem<T>(s.M, s.N, s.K, s.TA, s.TB, 1, 2, 3, -0.5, 0.25, seed: s.M + s.N);
            T[] one = p.RunUnpacked(path, maxThreads: 1);
            p.Verify(one, $"maxThreads 1 on {path}");
            foreach (int threads in new[] { 2, 0 })
                AssertBitwiseEqual<T>(one, p.RunUnpacked(path, threads), $"maxThreads {threads} vs 1 on {path} [{p.Describe()}]");

            PackedMatrix<T> packed = p.Pack(path);
            T[] onePacked = p.RunPacked(packed, maxThreads: 1);
            p.Verify(onePacked, $"packed, maxThreads 1 on {path}");
            foreach (int threads in new[] { 2, 0 })
                AssertBitwiseEqual<T>(onePacked, p.RunPacked(packed, threads), $"packed, maxThreads {threads} vs 1 on {path} [{p.Describe()}]");
        }
    }

    [Fact]
    public void Threads_ConcurrentCallers_BitwiseIdentical()
    {
        // Several threads ask for a threaded product at once: the pool serves one, the others run inline; every
        // caller must still get exactly the single-threaded result.
        IsaPath path = Isa.Best;
        var p = new GemmProblem<float>(96, 160, 64, false, true, 0, 1, 2, 1, 0.25, seed: 3);
        float[] expected = p.RunUnpacked(path, maxThreads: 1);
        p.Verify(expected, "single-threaded reference run");
        PackedMatrix<float> packed = p.Pack(path);
        var failures = new string?[4];
        var threads = new Thread[failures.Length];
        for (int t = 0; t < threads.Length; t++)
        {
            int id = t;
            threads[t] = new Thread(() =>
            {
                for (int r = 0; r < 8 && failures[id] is null; r++)
                {
                    float[] got = (id + r) % 2 == 0 ? p.RunUnpacked(path, maxThreads: id % 2 == 0 ? 0 : 2) : p.RunPacked(packed, maxThreads: 2);
                    for (int i = 0; i < got.Length; i++)
                    {
                        if (BitConverter.SingleToInt32Bits(got[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                        {
                            failures[id] = $"caller {id}, round {r}: element {i} is {got[i]}, expected {expected[i]}";
                            break;
                        }
                    }
                }
            });
            threads[t].Start();
        }
        foreach (Thread t in threads) t.Join();
        foreach (string? f in failures) Assert.Null(f);
    }

    // =======================================================================================================
    // BLAS conventions
    // =======================================================================================================

    [Theory, MemberData(nameof(Paths))]
    public void AlphaZero_DoesNotReadAOrB(IsaPath path)
    {
        // alpha = 0: C = beta · C exactly, A and B not referenced (NaN there must not leak).
        var a = new float[6 * 5];
        var b = new float[5 * 7];
        a.AsSpan().Fill(float.NaN);
        b.AsSpan().Fill(float.PositiveInfinity);
        var c = new float[6 * 7];
        for (int i = 0; i < c.Length; i++) c[i] = i - 20.5f;
        float[] expected = new float[c.Length];
        for (int i = 0; i < c.Length; i++) expected[i] = 0.25f * c[i];
        Gemm.Multiply(Transpose.None, Transpose.None, 6, 7, 5, 0f, a, 5, b, 7, 0.25f, c, 7, path: path);
        AssertBitwiseEqual<float>(expected, c, $"alpha = 0 on {path}");
        var packed = PackedMatrix<float>.Create(Transpose.None, 5, 7, b, 7, path);
        for (int i = 0; i < c.Length; i++) c[i] = i - 20.5f;
        Gemm.Multiply(Transpose.None, 6, 0f, a, 5, packed, 0.25f, c, 7);
        AssertBitwiseEqual<float>(expected, c, $"alpha = 0, packed on {path}");
    }

    [Theory, MemberData(nameof(Paths))]
    public void EmptyOutput_LeavesCUntouched(IsaPath path)
    {
        var c = new double[10];
        c.AsSpan().Fill(SentinelNaN<double>());
        Gemm.Multiply(Transpose.None, Transpose.None, 0, 5, 3, 1.0, ReadOnlySpan<double>.Empty, 3, new double[15], 5, 0.0, c, 5, path: path);
        Gemm.Multiply(Transpose.None, Transpose.None, 2, 0, 3, 1.0, new double[6], 3, ReadOnlySpan<double>.Empty, 1, 0.0, c, 1, path: path);
        Gemm.Multiply(Transpose.None, 0, 1.0, ReadOnlySpan<double>.Empty, 3, PackedMatrix<double>.Create(Transpose.None, 3, 5, new double[15], 5, path), 0.0, c, 5);
        foreach (double x in c) Assert.Equal(Bits(SentinelNaN<double>()), Bits(x));
    }

    // =======================================================================================================
    // Validation
    // =======================================================================================================

    private static void Mul(Transpose ta, Transpose tb, int m, int n, int k, float[] a, int lda, float[] b, int ldb, float[] c, int ldc,
        int maxThreads = 1, IsaPath path = IsaPath.Auto)
        => Gemm.Multiply(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, ldc, maxThreads, path);

    private static void AssertArgument(string param, Action call)
    {
        var ex = Assert.Throws<ArgumentException>(call);
        Assert.Equal(param, ex.ParamName);
    }

    [Fact]
    public void SpansTooShort_Throw_NamingTheOperand()
    {
        const Transpose N = Transpose.None, T = Transpose.Transposed;
        // m = 2, n = 3, k = 4. A: 2 x 4 (lda 4) needs 8, or 4 x 2 (lda 2) needs 8; B: 4 x 3 needs 12, or 3 x 4 needs 12.
        AssertArgument("a", () => Mul(N, N, 2, 3, 4, new float[7], 4, new float[12], 3, new float[6], 3));
        AssertArgument("a", () => Mul(T, N, 2, 3, 4, new float[7], 2, new float[12], 3, new float[6], 3));
        // A wider leading dimension raises the requirement: (2 - 1) · 6 + 4 = 10.
        AssertArgument("a", () => Mul(N, N, 2, 3, 4, new float[9], 6, new float[12], 3, new float[6], 3));
        AssertArgument("b", () => Mul(N, N, 2, 3, 4, new float[8], 4, new float[11], 3, new float[6], 3));
        AssertArgument("b", () => Mul(N, T, 2, 3, 4, new float[8], 4, new float[11], 4, new float[6], 3));
        AssertArgument("c", () => Mul(N, N, 2, 3, 4, new float[8], 4, new float[12], 3, new float[5], 3));
        AssertArgument("c", () => Mul(N, N, 2, 3, 4, new float[8], 4, new float[12], 3, new float[7], 5));
        // The packed overload and Pack.
        var packed = PackedMatrix<float>.Create(N, 4, 3, new float[12], 3);
        AssertArgument("a", () => Gemm.Multiply(N, 2, 1f, new float[7], 4, packed, 0f, new float[6], 3));
        AssertArgument("c", () => Gemm.Multiply(N, 2, 1f, new float[8], 4, packed, 0f, new float[5], 3));
        AssertArgument("b", () => packed.Pack(N, new float[11], 3));
        AssertArgument("b", () => packed.Pack(T, new float[11], 4));
        Assert.Throws<ArgumentNullException>(() => Gemm.Multiply(N, 2, 1f, new float[8], 4, null!, 0f, new float[6], 3));
        // Too short only in an operand that is not empty: k = 0 needs no A or B at all.
        Mul(N, N, 2, 3, 0, [], 1, [], 3, new float[6], 3);
    }

    [Fact]
    public void LeadingDimensionsTooSmall_Throw_NamingTheLeadingDimension()
    {
        const Transpose N = Transpose.None, T = Transpose.Transposed;
        AssertArgument("lda", () => Mul(N, N, 2, 3, 4, new float[100], 3, new float[100], 3, new float[6], 3));
        AssertArgument("lda", () => Mul(T, N, 5, 3, 4, new float[100], 4, new float[100], 3, new float[15], 3));
        AssertArgument("lda", () => Mul(N, N, 2, 3, 0, new float[100], 0, new float[100], 3, new float[6], 3));
        AssertArgument("ldb", () => Mul(N, N, 2, 3, 4, new float[100], 4, new float[100], 2, new float[6], 3));
        AssertArgument("ldb", () => Mul(N, T, 2, 3, 4, new float[100], 4, new float[100], 3, new float[6], 3));
        AssertArgument("ldc", () => Mul(N, N, 2, 3, 4, new float[100], 4, new float[100], 3, new float[100], 2));
        var packed = PackedMatrix<float>.Create(N, 4, 3, new float[12], 3);
        AssertArgument("lda", () => Gemm.Multiply(T, 5, 1f, new float[100], 4, packed, 0f, new float[100], 3));
        AssertArgument("ldc", () => Gemm.Multiply(N, 2, 1f, new float[100], 4, packed, 0f, new float[100], 2));
        AssertArgument("ldb", () => packed.Pack(N, new float[100], 2));
        AssertArgument("ldb", () => packed.Pack(T, new float[100], 3));
    }

    [Fact]
    public void NegativeDimensions_Throw_ArgumentOutOfRange()
    {
        const Transpose N = Transpose.None;
        var x = new double[100];
        foreach ((string name, int m, int n, int k) in new[] { ("m", -1, 3, 4), ("n", 2, -1, 4), ("k", 2, 3, -1) })
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(N, N, m, n, k, 1.0, x, 10, new double[100], 10, 0.0, new double[100], 10));
            Assert.Equal(name, ex.ParamName);
        }
        var threads = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(N, N, 2, 3, 4, 1.0, x, 10, new double[100], 10, 0.0, new double[100], 10, maxThreads: -1));
        Assert.Equal("maxThreads", threads.ParamName);
        var packed = PackedMatrix<double>.Create(N, 4, 3, new double[12], 3);
        var pm = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(N, -1, 1.0, x, 10, packed, 0.0, new double[100], 10));
        Assert.Equal("m", pm.ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => new PackedMatrix<double>(-1, 3)).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => new PackedMatrix<double>(3, -1)).ParamName);
    }

    [Fact]
    public void COverlappingAOrB_Throws()
    {
        const Transpose N = Transpose.None;
        // m = 3, n = 4, k = 5: A needs 15, B 20, C 12.
        AssertArgument("c", () => { var buf = new float[100]; Gemm.Multiply(N, N, 3, 4, 5, 1f, buf.AsSpan(0, 15), 5, new float[20], 4, 0f, buf.AsSpan(10, 12), 4); });
        AssertArgument("c", () => { var buf = new float[100]; Gemm.Multiply(N, N, 3, 4, 5, 1f, buf.AsSpan(0, 15), 5, new float[20], 4, 0f, buf.AsSpan(0, 15), 4); });
        AssertArgument("c", () => { var buf = new float[100]; Gemm.Multiply(N, N, 3, 4, 5, 1f, buf.AsSpan(20, 15), 5, new float[20], 4, 0f, buf.AsSpan(14, 12), 4); });
        AssertArgument("c", () => { var buf = new double[100]; Gemm.Multiply(N, N, 3, 4, 5, 1.0, new double[15], 5, buf.AsSpan(30, 20), 4, 0.0, buf.AsSpan(40, 12), 4); });
        AssertArgument("c", () => { var buf = new double[100]; Gemm.Multiply(N, N, 3, 4, 5, 1.0, new double[15], 5, buf.AsSpan(50, 20), 4, 0.0, buf.AsSpan(45, 12), 4); });
        // One-row shapes take the same checks.
        AssertArgument("c", () => { var buf = new float[100]; Gemm.Multiply(N, N, 1, 4, 5, 1f, buf.AsSpan(0, 5), 5, new float[20], 4, 0f, buf.AsSpan(2, 4), 4); });
        var packed = PackedMatrix<float>.Create(N, 5, 4, new float[20], 4);
        AssertArgument("c", () => { var buf = new float[100]; Gemm.Multiply(N, 3, 1f, buf.AsSpan(0, 15), 5, packed, 0f, buf.AsSpan(12, 12), 4); });
    }

    [Fact]
    public void UnsupportedOrUnknownPath_Throws()
    {
        foreach (IsaPath p in new[] { IsaPath.Scalar, IsaPath.Vector128, IsaPath.Vector256, IsaPath.Vector512 })
        {
            // Every path runs in the tests (emulated where the CPU lacks it); production refuses a missing one.
            var c = new float[4];
            Gemm.Multiply(Transpose.None, Transpose.None, 2, 2, 1, 1f, [1f, 2f], 1, [3f, 4f], 2, 0f, c, 2, path: p);
            Assert.Equal(new float[] { 3, 4, 6, 8 }, c);
            Assert.Equal(p, new PackedMatrix<float>(1, 2, p).Path);
            if (!Isa.IsSupported(p)) Assert.Throws<PlatformNotSupportedException>(() => Isa.Resolve(p, allowEmulated: false));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(Transpose.None, Transpose.None, 2, 2, 1, 1f, [1f, 2f], 1, [3f, 4f], 2, 0f, new float[4], 2, path: (IsaPath)9));
    }
}
