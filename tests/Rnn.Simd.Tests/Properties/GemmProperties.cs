using System.Numerics;
using FsCheck.Xunit;
using Rnn.Simd.Kernels;
using Rnn.Simd.Tests.Infrastructure;

namespace Rnn.Simd.Tests.Properties;

/// <summary>
/// FsCheck properties: for random shapes m, n, k in 1..70 (mostly off every vector width and tile size), random
/// transposes, leading-dimension padding, alpha / beta and operand seeds, <see cref="Gemm"/> matches the reference
/// within the bound of <see cref="GemmProblem{T}"/> on every supported path, unpacked and pre-packed, and never
/// touches C outside M x N. Replay pins FsCheck's generator seed, so every run tests the same cases.
/// </summary>
public class GemmProperties
{
    private const int MaxDim = 70;

    private static readonly (double Alpha, double Beta)[] AlphaBeta =
        [(1, 0), (1, 1), (1, 0.25), (-0.5, 0), (-0.5, 1), (-0.5, 0.25), (0, 0), (0, 1), (0, 0.25), (1.75, -2)];

    /// <summary>Maps any int onto 0 .. count-1 (no Math.Abs, which overflows on int.MinValue).</summary>
    private static int Pick(int raw, int count) => (int)((uint)raw % (uint)count);

    [Property(MaxTest = 80, Replay = "(987654321,1234567)")]
    public void Gemm_Float_MatchesReference_OnEveryPath(int mRaw, int nRaw, int kRaw, bool transA, bool transB,
        int pads, int alphaBeta, int seed)
        => Check<float>(mRaw, nRaw, kRaw, transA, transB, pads, alphaBeta, seed);

    [Property(MaxTest = 80, Replay = "(192837465,7654321)")]
    public void Gemm_Double_MatchesReference_OnEveryPath(int mRaw, int nRaw, int kRaw, bool transA, bool transB,
        int pads, int alphaBeta, int seed)
        => Check<double>(mRaw, nRaw, kRaw, transA, transB, pads, alphaBeta, seed);

    private static void Check<T>(int mRaw, int nRaw, int kRaw, bool transA, bool transB, int pads, int alphaBeta, int seed)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int m = 1 + Pick(mRaw, MaxDim), n = 1 + Pick(nRaw, MaxDim), k = 1 + Pick(kRaw, MaxDim);
        // Three independent paddings 0..4 packed into one generated int.
        int padA = Pick(pads, 5), padB = Pick(pads / 5, 5), padC = Pick(pads / 25, 5);
        (double alpha, double beta) = AlphaBeta[Pick(alphaBeta, AlphaBeta.Length)];
        var p = new GemmProblem<T>(m, n, k, transA, transB, padA, padB, padC, alpha, beta, seed);
        foreach (IsaPath path in TestPaths.All)
        {
            p.Verify(p.RunUnpacked(path), $"unpacked on {path}");
            p.Verify(p.RunPacked(path), $"packed on {path}");
        }
    }
}
