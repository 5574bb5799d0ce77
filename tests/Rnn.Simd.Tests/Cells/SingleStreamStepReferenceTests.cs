using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Tests.Reference;
using static Rnn.Simd.Tests.Infrastructure.TestHelpers;

namespace Rnn.Simd.Tests.Cells;

/// <summary>
/// <see cref="RecurrentNetwork{T}.Step"/> with one stream (the fused batch-1 step for LSTM and GRU, the batched step
/// with B = 1 for Elman) against <see cref="BoundedNetworkReference"/>, a scalar double forward that carries a bound
/// on every element (<see cref="ErrorModel"/>: the documented activation accuracy and one rounding per operation,
/// propagated through the weights and the layers). Every H from 1 to 70 (H = 0 is refused by the architecture),
/// input sizes 1 and 3 with one and two layers, three steps from a random state so that the state carries, float and
/// double, on every path (<see cref="TestPaths.All"/>); and H = 128 and 257 (several NR blocks and a partial last one).
/// Outputs, h and c of every layer are checked after every step. Each step is bounded from the state the library
/// carried into it (<see cref="BoundedNetworkReference.Resync"/>): bounds stay those of one step instead of compounding,
/// and a state the library did not carry (or a stale copy of h_(t-1)) fails the step that uses it.
/// </summary>
public class SingleStreamStepReferenceTests
{
    private const int Steps = 3;

    public static TheoryData<CellType, IsaPath> CellsPaths()
    {
        var data = new TheoryData<CellType, IsaPath>();
        foreach (CellType c in new[] { CellType.Elman, CellType.Lstm, CellType.Gru })
            foreach (IsaPath p in TestPaths.All) data.Add(c, p);
        return data;
    }

    [Fact]
    public void HiddenSizeZero_IsRefusedByTheArchitecture()
    {
        foreach (CellType c in new[] { CellType.Elman, CellType.Lstm, CellType.Gru })
            Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkArchitecture(c, 1, [0], 1));
    }

    [Theory, MemberData(nameof(CellsPaths))]
    public void EveryHiddenSizeUpTo70_MatchesBoundedReference(CellType cell, IsaPath path)
    {
        // Two of the four (input size, layers) pairs per H, alternating, so that each pair meets 35 sizes.
        for (int hidden = 1; hidden <= 70; hidden++)
            foreach ((int input, int layers) in hidden % 2 == 0 ? new[] { (1, 1), (3, 2) } : new[] { (1, 2), (3, 1) })
            {
                ulong seed = (ulong)(1000 * hidden + 10 * input + layers);
                Check<float>(cell, path, input, layers, hidden, seed);
                Check<double>(cell, path, input, layers, hidden, seed);
            }
    }

    [Theory, MemberData(nameof(CellsPaths))]
    public void LargeHiddenSizes_MatchBoundedReference(CellType cell, IsaPath path)
    {
        Check<float>(cell, path, 3, 2, 128, 71);
        Check<double>(cell, path, 3, 2, 128, 72);
        Check<float>(cell, path, 3, 1, 257, 73);
        Check<double>(cell, path, 1, 1, 257, 74);
    }

    /// <summary>Elman runs each activation in turn over the H sweep.</summary>
    internal static Activation ElmanActivation(int hidden) => (hidden % 3) switch { 0 => Activation.Tanh, 1 => Activation.Relu, _ => Activation.Sigmoid };

    private static void Check<T>(CellType cell, IsaPath path, int input, int layers, int hidden, ulong seed)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int[] sizes = layers == 1 ? [hidden] : [hidden, hidden];
        var arch = new NetworkArchitecture(cell, input, sizes, 2, cell == CellType.Elman ? ElmanActivation(hidden) : Activation.Tanh);
        var net = new RecurrentNetwork<T>(arch, seed, path);
        NetworkState<T> state = RandomState(net, 1, seed + 1);
        BoundedNetworkReference reference = BoundedNetworkReference.FromNetwork(net, state);
        var rng = new Random((int)seed);
        var y = new T[2];
        for (int t = 0; t < Steps; t++)
        {
            T[] x = Uniform<T>(rng, input, -1, 1);
            reference.Resync(state); // bound this step from the state the library carried
            net.Step(x, y, state);
            Bounded[] ey = reference.Step(ToDouble<T>(x));
            string what = $"{Name<T>()} {arch} on {path}, step {t}";
            CompareStep(net, state, reference, y, ey, what);
        }
    }

    /// <summary>Outputs, then h (and c) of every layer.</summary>
    internal static void CompareStep<T>(RecurrentNetwork<T> net, NetworkState<T> state, BoundedNetworkReference reference, ReadOnlySpan<T> y, Bounded[] ey, string what)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int o = net.Architecture.OutputSize;
        BoundedAssert.Within<T>(y.Slice(0, ey.Length), ey, $"{what}: outputs", i => $"(row {i / o}, output {i % o})");
        for (int l = 0; l < net.Architecture.NumLayers; l++)
        {
            int h = net.Architecture.HiddenSizes[l];
            BoundedAssert.Within<T>(state.Hidden(l), reference.H[l], $"{what}: h of layer {l}", i => $"(row {i / h}, unit {i % h})");
            if (net.Architecture.Cell == CellType.Lstm)
                BoundedAssert.Within<T>(state.Cell(l), reference.C[l], $"{what}: c of layer {l}", i => $"(row {i / h}, unit {i % h})");
        }
    }

    /// <summary>A random state: h in [-0.5, 0.5], c in [-1, 1] (values of T, so the reference starts from them exactly).</summary>
    internal static NetworkState<T> RandomState<T>(RecurrentNetwork<T> net, int batch, ulong seed) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        NetworkState<T> s = net.CreateState(batch);
        var rng = new Random((int)(seed % int.MaxValue));
        for (int l = 0; l < net.Architecture.NumLayers; l++)
        {
            Uniform<T>(rng, s.Hidden(l).Length, -0.5, 0.5).CopyTo(s.Hidden(l));
            Uniform<T>(rng, s.Cell(l).Length, -1, 1).CopyTo(s.Cell(l));
        }
        return s;
    }
}
