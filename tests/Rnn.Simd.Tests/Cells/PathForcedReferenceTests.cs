using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Tests.Reference;
using Rnn.Simd.Training.Bptt;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;
using static Rnn.Simd.Tests.Infrastructure.TestHelpers;

namespace Rnn.Simd.Tests.Cells;

/// <summary>
/// The whole network forced onto each path (<see cref="TestPaths.All"/>), float and double, at H in {1, 7, 16, 17, 33}
/// (one unit; below, at and above a float Vector512 / double Vector256 width; two float Vector512 widths plus one):
/// a batched step of B = 3 streams against <see cref="BoundedNetworkReference"/>, and the gradient of truncated BPTT
/// windows against <see cref="RecurrentReference"/>.
/// </summary>
public class PathForcedReferenceTests
{
    internal static readonly int[] Hiddens = [1, 7, 16, 17, 33];

    private const int Batch = 3, Input = 3, Output = 2;

    public static TheoryData<CellType, int, IsaPath> CellsLayersPaths()
    {
        var data = new TheoryData<CellType, int, IsaPath>();
        foreach (CellType c in new[] { CellType.Elman, CellType.Lstm, CellType.Gru })
            for (int layers = 1; layers <= 2; layers++)
                foreach (IsaPath p in TestPaths.All) data.Add(c, layers, p);
        return data;
    }

    /// <summary>One layer of H, or H over another size of the set (so both layers see every size somewhere).</summary>
    private static NetworkArchitecture Arch(CellType cell, int layers, int index)
    {
        int h = Hiddens[index];
        int[] sizes = layers == 1 ? [h] : [h, Hiddens[(index + 2) % Hiddens.Length]];
        return new NetworkArchitecture(cell, Input, sizes, Output, cell == CellType.Elman ? SingleStreamStepReferenceTests.ElmanActivation(h) : Activation.Tanh);
    }

    // ------------------------------------------------------------------------------------- batched step

    [Theory, MemberData(nameof(CellsLayersPaths))]
    public void BatchedStep_ThreeStreams_MatchesBoundedReference(CellType cell, int layers, IsaPath path)
    {
        for (int k = 0; k < Hiddens.Length; k++)
        {
            CheckBatchedStep<float>(Arch(cell, layers, k), path, (ulong)(200 + k));
            CheckBatchedStep<double>(Arch(cell, layers, k), path, (ulong)(300 + k));
        }
    }

    private static void CheckBatchedStep<T>(NetworkArchitecture arch, IsaPath path, ulong seed) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        const int steps = 5;
        var net = new RecurrentNetwork<T>(arch, seed, path);
        NetworkState<T> state = SingleStreamStepReferenceTests.RandomState(net, Batch, seed + 1);
        BoundedNetworkReference reference = BoundedNetworkReference.FromNetwork(net, state);
        var rng = new Random((int)seed);
        var y = new T[Batch * Output];
        for (int t = 0; t < steps; t++)
        {
            T[] x = Uniform<T>(rng, Batch * Input, -1, 1);
            reference.Resync(state); // bound this step from the state the library carried
            net.Step(x, y, state);
            Bounded[] ey = reference.Step(TestHelpers.ToDouble<T>(x));
            SingleStreamStepReferenceTests.CompareStep(net, state, reference, y, ey, $"{Name<T>()} {arch} B={Batch} on {path}, step {t}");
        }
    }

    // ------------------------------------------------------------------------------------ TBPTT gradient

    [Theory, MemberData(nameof(CellsLayersPaths))]
    public void TruncatedBpttWindows_Gradient_MatchesReference(CellType cell, int layers, IsaPath path)
    {
        for (int k = 0; k < Hiddens.Length; k++)
        {
            CheckWindows<float>(Arch(cell, layers, k), path, (ulong)(400 + k));
            CheckWindows<double>(Arch(cell, layers, k), path, (ulong)(500 + k));
        }
    }

    /// <summary>
    /// BPTT(8, 4) over 12 steps of B = 3 streams from a random state: three windows whose gradients accumulate; the
    /// first two reach step 0 (the initial state is a leaf), the third is cut at step 4 and straddles the ring's wrap.
    /// </summary>
    private static void CheckWindows<T>(NetworkArchitecture arch, IsaPath path, ulong seed) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        const int steps = 12, tb = 8, tf = 4;
        var net = new RecurrentNetwork<T>(arch, seed, path);
        var rng = new Random((int)seed);
        T[] x = Uniform<T>(rng, steps * Batch * Input, -1, 1), target = Uniform<T>(rng, steps * Batch * Output, -1, 1);
        NetworkState<T> init = SingleStreamStepReferenceTests.RandomState(net, Batch, seed + 1);
        var reference = RecurrentReference.FromNetwork(net);
        RecurrentReference.Gradient expected = reference.TruncatedGradient(TestHelpers.ToDouble<T>(x), TestHelpers.ToDouble<T>(target), Batch, tb, tf,
            RecurrentReference.State.From(reference, init));

        var engine = new TruncatedBptt<T>(net, Batch, BpttSchedule.Create(tb, tf));
        engine.Reset(init);
        net.ZeroGradients();
        var y = new T[target.Length];
        double[] losses = RunWindows<T>(engine, x, target, y);

        string what = $"{Name<T>()} {arch} B={Batch} BPTT({tb},{tf}) on {path}";
        double[] g = TestHelpers.ToDouble<T>(net.Gradients), eg = expected.ToFlat(net.Layout);
        double largest = 0;
        foreach (double v in eg) largest = Math.Max(largest, Math.Abs(v));
        Tolerances tol = Tolerances.For<T>(largest);
        AssertClose(expected.WindowLosses, losses, tol.Loss, 1e-4, $"window losses {what}");
        AssertClose(expected.Outputs, TestHelpers.ToDouble<T>(y), tol.Output, 1e-2, $"outputs {what}");
        AssertClose(eg, g, tol.Gradient, tol.Floor, $"parameter gradient {what}", net.Layout);
    }

    /// <summary>
    /// Relative tolerances with an absolute floor (<see cref="RecurrentTestKit.AssertClose"/>). double: as
    /// <c>TruncatedBpttReferenceTests</c>: both sides compute in double and differ only in summation order and the last
    /// bits of tanh / exp, ~1e-14 over these windows; so 1e-12 for losses and outputs, 1e-10 for gradients, floor 1e-4.
    /// float: forward values are within a few 1e-6 of exact (activations within 1e-6 absolute, VectorMath's docs;
    /// <see cref="BoundedNetworkReference"/>'s per-step bounds at these sizes), so outputs and losses within 1e-4
    /// relative (floor 1e-2 for outputs: 1e-6 absolute). A window's gradient entry sums up to τb·B = 24 terms, each a product of up
    /// to 2τb such factors, so it is off by at most ~2τb · 3e-6 ≈ 5e-5 of its largest term: 1e-4 relative, measured
    /// against at least 1% of the largest gradient entry (entries that cancel keep the absolute error of their
    /// terms). Measured worst: 1.2e-5 on that scale. A wrong lane, gate or row is off by the entry's own size.
    /// </summary>
    private readonly record struct Tolerances(double Loss, double Output, double Gradient, double Floor)
    {
        public static Tolerances For<T>(double largestGradient) => typeof(T) == typeof(double)
            ? new(1e-12, 1e-12, 1e-10, 1e-4)
            : new(1e-4, 1e-4, 1e-4, Math.Max(1e-2 * largestGradient, 1e-12));
    }
}
