using System.Numerics;
using Rnn.Simd.Kernels;
using static Rnn.Simd.Tests.Infrastructure.TestHelpers;

namespace Rnn.Simd.Tests.Kernels;

/// <summary>Allocation tests run alone: other tests' allocations trigger GCs, which disturb the per-thread counter.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "Allocation (not parallel)";
}

/// <summary>
/// Steady-state kernels allocate nothing: after a warm-up (which may allocate a thread's GEMM packing buffers once),
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/> does not move across many repeated calls. The measured loops
/// themselves avoid anything that allocates (no foreach over interfaces, no lambdas, no string formatting).
/// </summary>
/// <remarks>
/// A garbage collection during the measurement retires the thread's allocation context and makes the counter jump
/// by up to one allocation quantum (~8 KiB) although this thread allocated nothing (observed on .NET 10 with another
/// thread allocating, also for background GCs that do not move the gen-0 count). Such a measurement is void and is
/// repeated; only a measurement with no GC in it counts, and there the bound is exactly 0 bytes.
/// </remarks>
[Collection(AllocationCollection.Name)]
public class AllocationTests
{
    private const int WarmUp = 3;
    private const int Repeats = 50;
    private const int MaxAttempts = 20;

    /// <summary>Warms up, then asserts that Repeats runs of <paramref name="calls"/> allocate exactly 0 bytes on this thread, in a measurement no GC interrupted.</summary>
    internal static void AssertNoAllocation<TState>(TState state, Action<TState> calls, string what)
    {
        for (int r = 0; r < WarmUp; r++) calls(state);
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            (long Index, int Collections, TimeSpan Pause) gc = GcState();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int r = 0; r < Repeats; r++) calls(state);
            long after = GC.GetAllocatedBytesForCurrentThread();
            if (GcState() != gc) continue;
            Assert.True(after == before, $"{what}: {after - before} bytes allocated over {Repeats} repeated calls after warm-up.");
            return;
        }
        Assert.Fail($"{what}: every one of {MaxAttempts} measurements was interrupted by a garbage collection; inconclusive.");
    }

    /// <summary>
    /// Changes whenever any GC ran: the index of the last GC of any kind (a background GC moves it without moving
    /// the gen-0 count), the total collection count, and the total pause time (every suspension for a GC).
    /// </summary>
    private static (long, int, TimeSpan) GcState() =>
        (GC.GetGCMemoryInfo(GCKind.Any).Index, GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2), GC.GetTotalPauseDuration());

    // =======================================================================================================
    // GEMM
    // =======================================================================================================

    [Fact]
    public void Gemm_Float_AllocatesNothingAfterWarmUp() => CheckGemm<float>();

    [Fact]
    public void Gemm_Double_AllocatesNothingAfterWarmUp() => CheckGemm<double>();

    /// <summary>Operands for one size of the allocation test: C = op(A) · op(B) with M rows, N = 70, K = 300 (over KC).</summary>
    private sealed class GemmOperands<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public const int N = 70, K = 300;
        public readonly int M;
        public readonly T[] A, AT, B, BT, C;
        public readonly PackedMatrix<T>[] Packed;

        public GemmOperands(int m, IsaPath[] paths)
        {
            M = m;
            var rng = new Random(m);
            A = Uniform<T>(rng, m * K, -1, 1);            // M x K, lda = K
            AT = Uniform<T>(rng, K * (m + 3), -1, 1);     // K x M, lda = M + 3 (strided when M = 1)
            B = Uniform<T>(rng, K * N, -1, 1);            // K x N, ldb = N
            BT = Uniform<T>(rng, N * K, -1, 1);           // N x K, ldb = K
            C = new T[m * N];
            Packed = new PackedMatrix<T>[paths.Length];
            for (int i = 0; i < paths.Length; i++) Packed[i] = PackedMatrix<T>.Create(Transpose.None, K, N, B, N, paths[i]);
        }
    }

    private static void GemmCalls<T>(GemmOperands<T> o, IsaPath[] paths) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T one = T.One, quarter = Of<T>(0.25);
        int m = o.M, n = GemmOperands<T>.N, k = GemmOperands<T>.K;
        for (int i = 0; i < paths.Length; i++)
        {
            IsaPath path = paths[i];
            Gemm.Multiply(Transpose.None, Transpose.None, m, n, k, one, o.A, k, o.B, n, T.Zero, o.C, n, 1, path);
            Gemm.Multiply(Transpose.Transposed, Transpose.None, m, n, k, one, o.AT, m + 3, o.B, n, quarter, o.C, n, 1, path);
            Gemm.Multiply(Transpose.None, Transpose.Transposed, m, n, k, one, o.A, k, o.BT, k, quarter, o.C, n, 1, path);
            Gemm.Multiply(Transpose.Transposed, Transpose.Transposed, m, n, k, one, o.AT, m + 3, o.BT, k, T.Zero, o.C, n, 1, path);
            Gemm.Multiply(Transpose.None, Transpose.None, m, n, 0, one, o.A, k, o.B, n, quarter, o.C, n, 1, path);
            Gemm.Multiply(Transpose.None, o.M, one, o.A, k, o.Packed[i], quarter, o.C, n, 1);
            Gemm.Multiply(Transpose.Transposed, o.M, one, o.AT, m + 3, o.Packed[i], T.Zero, o.C, n, 1);
        }
    }

    private static void CheckGemm<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        IsaPath[] paths = PathArray();
        foreach (int m in new[] { 1, 32 })
        {
            var o = new GemmOperands<T>(m, paths);
            AssertNoAllocation((o, paths), static s => GemmCalls(s.o, s.paths), $"Gemm.Multiply<{Name<T>()}>, M = {m}, maxThreads = 1, unpacked and packed");
        }
    }

    [Fact]
    public void Pack_Float_AllocatesNothing() => CheckPack<float>();

    [Fact]
    public void Pack_Double_AllocatesNothing() => CheckPack<double>();

    private static void CheckPack<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        IsaPath[] paths = PathArray();
        var o = new GemmOperands<T>(1, paths);
        AssertNoAllocation(o, static o => PackCalls(o), $"PackedMatrix<{Name<T>()}>.Pack");

        static void PackCalls(GemmOperands<T> o)
        {
            const int n = GemmOperands<T>.N, k = GemmOperands<T>.K;
            for (int i = 0; i < o.Packed.Length; i++)
            {
                o.Packed[i].Pack(Transpose.None, o.B, n);
                o.Packed[i].Pack(Transpose.Transposed, o.BT, k);
            }
        }
    }

    // =======================================================================================================
    // Element-wise kernels and reductions
    // =======================================================================================================

    [Fact]
    public void VectorMath_Float_AllocatesNothing() => CheckVectorMath<float>();

    [Fact]
    public void VectorMath_Double_AllocatesNothing() => CheckVectorMath<double>();

    private sealed class VectorOperands<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public readonly T[] X, Y, Dy, D;
        public T Sink;

        public VectorOperands(int length)
        {
            var rng = new Random(length);
            X = Uniform<T>(rng, length, -3, 3);
            Y = Uniform<T>(rng, length, 0, 1);
            Dy = Uniform<T>(rng, length, -1, 1);
            D = new T[length + 5];
        }
    }

    private static void VectorCalls<T>(VectorOperands<T> o, IsaPath[] paths) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < paths.Length; i++)
        {
            IsaPath p = paths[i];
            VectorMath.Tanh<T>(o.X, o.D, p);
            VectorMath.Sigmoid<T>(o.X, o.D, p);
            VectorMath.Relu<T>(o.X, o.D, p);
            VectorMath.TanhDerivative<T>(o.Y, o.D, p);
            VectorMath.SigmoidDerivative<T>(o.Y, o.D, p);
            VectorMath.ReluDerivative<T>(o.Y, o.D, p);
            VectorMath.TanhBackward<T>(o.Y, o.Dy, o.D, p);
            VectorMath.SigmoidBackward<T>(o.Y, o.Dy, o.D, p);
            VectorMath.ReluBackward<T>(o.Y, o.Dy, o.D, p);
        }
        VectorMath.Add<T>(o.X, o.Y, o.D);
        VectorMath.Multiply<T>(o.X, o.Y, o.D);
        VectorMath.Scale<T>(Of<T>(0.5), o.X, o.D);
        VectorMath.Fill(T.One, o.D.AsSpan());
        VectorMath.Axpy<T>(Of<T>(1e-3), o.X, o.D.AsSpan(0, o.X.Length));
        o.Sink += VectorMath.Sum<T>(o.X) + VectorMath.Dot<T>(o.X, o.Y) + VectorMath.SumOfSquares<T>(o.Dy);
    }

    private static void CheckVectorMath<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        IsaPath[] paths = PathArray();
        foreach (int length in new[] { 3, 37, 1000 })
        {
            var o = new VectorOperands<T>(length);
            AssertNoAllocation((o, paths), static s => VectorCalls(s.o, s.paths), $"VectorMath<{Name<T>()}> ops, length {length}");
            Assert.True(T.IsFinite(o.Sink));
        }
    }
}
