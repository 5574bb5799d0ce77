using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.GemmCore;
using Rnn.Simd.Kernels.Recurrent;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Tests.Reference;
using static Rnn.Simd.Tests.Infrastructure.TestHelpers;

namespace Rnn.Simd.Tests.Kernels.Recurrent;

/// <summary>
/// The fused gate kernels of <see cref="GateKernels"/> on every path (<see cref="TestPaths.All"/>), float and double,
/// against <see cref="GateReference"/> (scalar, double, written from the PyTorch formulas): LSTM and GRU forward and
/// backward for B = 1..3 rows and H = 0..70 plus 127, 128, 129, 255, 256, 257, 512 columns (every tail length of every
/// vector width, several full vectors, and the row stride G·H off any vector multiple), and the batch-1 gate products
/// (<see cref="GateKernels.FusedGates{T}"/>) for K either side of the KC block depth.
/// </summary>
/// <remarks>
/// <para>
/// Tolerance: each element's own bound from <see cref="ErrorModel"/> (running error analysis from the documented
/// activation accuracy, 1e-6 absolute in float and a few ulp in double, and one rounding per operation). Forward
/// elements of float are allowed a few 1e-6; every backward element and every product, pure arithmetic on exact
/// inputs, only a few units of roundoff of its terms. A wrong lane, gate offset or row, a skipped tail, an unwritten
/// or stale element or a wrong sign is off by 1e-3 or more on these random inputs.
/// </para>
/// <para>
/// Traps: every output starts as a sentinel NaN (an unwritten element fails the comparison); every buffer sits
/// between guard zones that must keep their sentinel bits (nothing is written past H columns, before a row or after
/// the last one); inputs must come back bitwise unchanged. The in-place forms the callers use are tested too: LSTM
/// with c and c_prev the same buffer, GRU with h and h_prev the same and the activations over the pre-activations;
/// gates in / out (LSTM) and dc in / out (LSTM backward) are in place by design.
/// </para>
/// </remarks>
public unsafe class GateKernelTests
{
    /// <summary>H = 0..70 and a few large H (vector multiples and either side of them).</summary>
    internal static readonly int[] Hiddens = BuildHiddens();

    private const int MaxBatch = 3;

    private static int[] BuildHiddens()
    {
        var h = new List<int>();
        for (int i = 0; i <= 70; i++) h.Add(i);
        h.AddRange([127, 128, 129, 255, 256, 257, 512]);
        return h.ToArray();
    }

    private static readonly int MaxHidden = Hiddens.Max();

    public static TheoryData<IsaPath> Paths() => TestPaths.Theory();

    [Theory, MemberData(nameof(Paths))]
    public void LstmForward_MatchesReference(IsaPath path)
    {
        LstmForward<float>(path);
        LstmForward<double>(path);
    }

    [Theory, MemberData(nameof(Paths))]
    public void LstmBackward_MatchesReference(IsaPath path)
    {
        LstmBackward<float>(path);
        LstmBackward<double>(path);
    }

    [Theory, MemberData(nameof(Paths))]
    public void GruForward_MatchesReference(IsaPath path)
    {
        GruForward<float>(path);
        GruForward<double>(path);
    }

    [Theory, MemberData(nameof(Paths))]
    public void GruBackward_MatchesReference(IsaPath path)
    {
        GruBackward<float>(path);
        GruBackward<double>(path);
    }

    [Theory, MemberData(nameof(Paths))]
    public void FusedGates_MatchReference_KEitherSideOfKc(IsaPath path)
    {
        FusedGates<float>(path);
        FusedGates<double>(path);
    }

    // ---------------------------------------------------------------------------------------------- LSTM

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LstmForward<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ErrorModel m = ErrorModel.For<T>();
        int cap = MaxBatch * MaxHidden;
        var gates = new GuardedBuffer<T>(4 * cap);
        var cPrev = new GuardedBuffer<T>(cap);
        var c = new GuardedBuffer<T>(cap);
        var tanhC = new GuardedBuffer<T>(cap);
        var h = new GuardedBuffer<T>(cap);
        var eg = new Bounded[4 * cap];
        var ec = new Bounded[cap];
        var etc = new Bounded[cap];
        var eh = new Bounded[cap];
        var rng = new Random(101);
        foreach (bool alias in new[] { false, true })
            for (int batch = 1; batch <= MaxBatch; batch++)
                foreach (int hidden in Hiddens)
                {
                    int n = batch * hidden;
                    PreActivations(gates, 4 * n, rng);
                    cPrev.Fill(n, rng, -2, 2);
                    double[] a = gates.ToDouble(), cp = cPrev.ToDouble();
                    T[] cPrevCopy = cPrev.Data.ToArray();
                    // In place as the network's batched step calls it: c_t overwrites c_(t-1).
                    if (alias) c.CopyFrom(cPrev.Data); else c.Reset(n);
                    tanhC.Reset(n);
                    h.Reset(n);

                    GateKernels.LstmForward(path, batch, hidden, gates.Ptr, alias ? c.Ptr : cPrev.Ptr, c.Ptr, tanhC.Ptr, h.Ptr);

                    for (int b = 0; b < batch; b++)
                        for (int j = 0; j < hidden; j++)
                        {
                            int g0 = b * 4 * hidden + j, s = b * hidden + j;
                            GateReference.LstmOut o = GateReference.LstmForward(m, X(a[g0]), X(a[g0 + hidden]), X(a[g0 + 2 * hidden]), X(a[g0 + 3 * hidden]), X(cp[s]));
                            eg[g0] = o.I; eg[g0 + hidden] = o.F; eg[g0 + 2 * hidden] = o.G; eg[g0 + 3 * hidden] = o.O;
                            ec[s] = o.C; etc[s] = o.TanhC; eh[s] = o.H;
                        }
                    string what = $"LstmForward {Name<T>()} {path} B={batch} H={hidden}{(alias ? " (c aliases c_prev)" : "")}";
                    BoundedAssert.Within<T>(gates.Data, eg.AsSpan(0, 4 * n), $"{what}: activations in the gate array", GateAt(hidden, "ifgo"));
                    BoundedAssert.Within<T>(c.Data, ec.AsSpan(0, n), $"{what}: c", UnitAt(hidden));
                    BoundedAssert.Within<T>(tanhC.Data, etc.AsSpan(0, n), $"{what}: tanh(c)", UnitAt(hidden));
                    BoundedAssert.Within<T>(h.Data, eh.AsSpan(0, n), $"{what}: h", UnitAt(hidden));
                    if (!alias)
                    {
                        AssertBitwiseEqual<T>(cPrevCopy, cPrev.Data, $"{what}: c_prev modified");
                        cPrev.AssertGuardsIntact($"{what}: c_prev");
                    }
                    gates.AssertGuardsIntact($"{what}: gates");
                    c.AssertGuardsIntact($"{what}: c");
                    tanhC.AssertGuardsIntact($"{what}: tanh(c)");
                    h.AssertGuardsIntact($"{what}: h");
                }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LstmBackward<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ErrorModel m = ErrorModel.For<T>();
        int cap = MaxBatch * MaxHidden;
        var gates = new GuardedBuffer<T>(4 * cap);
        var cPrev = new GuardedBuffer<T>(cap);
        var tanhC = new GuardedBuffer<T>(cap);
        var dh = new GuardedBuffer<T>(cap);
        var dc = new GuardedBuffer<T>(cap);
        var dGates = new GuardedBuffer<T>(4 * cap);
        var eg = new Bounded[4 * cap];
        var ec = new Bounded[cap];
        var rng = new Random(102);
        for (int batch = 1; batch <= MaxBatch; batch++)
            foreach (int hidden in Hiddens)
            {
                int n = batch * hidden;
                Activations(gates, batch, hidden, "sstS", rng); // i, f, o in (0, 1); g in (-1, 1)
                cPrev.Fill(n, rng, -2, 2);
                tanhC.Fill(n, rng, -1, 1);
                dh.Fill(n, rng, -1, 1);
                dc.Fill(n, rng, -1, 1);
                dGates.Reset(4 * n);
                double[] a = gates.ToDouble(), cp = cPrev.ToDouble(), tc = tanhC.ToDouble(), dhv = dh.ToDouble(), dcv = dc.ToDouble();
                T[] gatesCopy = gates.Data.ToArray(), cPrevCopy = cPrev.Data.ToArray(), tanhCCopy = tanhC.Data.ToArray(), dhCopy = dh.Data.ToArray();

                GateKernels.LstmBackward(path, batch, hidden, gates.Ptr, cPrev.Ptr, tanhC.Ptr, dh.Ptr, dc.Ptr, dGates.Ptr);

                for (int b = 0; b < batch; b++)
                    for (int j = 0; j < hidden; j++)
                    {
                        int g0 = b * 4 * hidden + j, s = b * hidden + j;
                        GateReference.LstmGrad d = GateReference.LstmBackward(m, X(a[g0]), X(a[g0 + hidden]), X(a[g0 + 2 * hidden]), X(a[g0 + 3 * hidden]),
                            X(cp[s]), X(tc[s]), X(dhv[s]), X(dcv[s]));
                        eg[g0] = d.DI; eg[g0 + hidden] = d.DF; eg[g0 + 2 * hidden] = d.DG; eg[g0 + 3 * hidden] = d.DO;
                        ec[s] = d.DCPrev;
                    }
                string what = $"LstmBackward {Name<T>()} {path} B={batch} H={hidden}";
                BoundedAssert.Within<T>(dGates.Data, eg.AsSpan(0, 4 * n), $"{what}: pre-activation gradients", GateAt(hidden, "ifgo"));
                BoundedAssert.Within<T>(dc.Data, ec.AsSpan(0, n), $"{what}: dc (in place: dJ/dc_t in, dJ/dc_(t-1) out)", UnitAt(hidden));
                AssertBitwiseEqual<T>(gatesCopy, gates.Data, $"{what}: gates modified");
                AssertBitwiseEqual<T>(cPrevCopy, cPrev.Data, $"{what}: c_prev modified");
                AssertBitwiseEqual<T>(tanhCCopy, tanhC.Data, $"{what}: tanh(c) modified");
                AssertBitwiseEqual<T>(dhCopy, dh.Data, $"{what}: dh modified");
                foreach ((GuardedBuffer<T> buf, string name) in new[] { (gates, "gates"), (cPrev, "c_prev"), (tanhC, "tanh(c)"), (dh, "dh"), (dc, "dc"), (dGates, "dGates") })
                    buf.AssertGuardsIntact($"{what}: {name}");
            }
    }

    // ----------------------------------------------------------------------------------------------- GRU

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GruForward<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ErrorModel m = ErrorModel.For<T>();
        int cap = MaxBatch * MaxHidden;
        var gx = new GuardedBuffer<T>(3 * cap);
        var gh = new GuardedBuffer<T>(3 * cap);
        var bhh = new GuardedBuffer<T>(3 * MaxHidden);
        var hPrev = new GuardedBuffer<T>(cap);
        var act = new GuardedBuffer<T>(3 * cap);
        var ghn = new GuardedBuffer<T>(cap);
        var h = new GuardedBuffer<T>(cap);
        var ea = new Bounded[3 * cap];
        var en = new Bounded[cap];
        var eh = new Bounded[cap];
        var rng = new Random(103);
        foreach (bool alias in new[] { false, true })
            for (int batch = 1; batch <= MaxBatch; batch++)
                foreach (int hidden in Hiddens)
                {
                    int n = batch * hidden;
                    PreActivations(gx, 3 * n, rng);
                    gh.Fill(3 * n, rng, -4, 4);
                    bhh.Fill(3 * hidden, rng, -1, 1);
                    hPrev.Fill(n, rng, -1, 1);
                    double[] x = gx.ToDouble(), hv = gh.ToDouble(), bv = bhh.ToDouble(), hp = hPrev.ToDouble();
                    T[] gxCopy = gx.Data.ToArray(), ghCopy = gh.Data.ToArray(), bhhCopy = bhh.Data.ToArray(), hPrevCopy = hPrev.Data.ToArray();
                    // In place as the network's batched step calls it: activations over the input-side
                    // pre-activations, h_t over h_(t-1).
                    if (alias) { act.CopyFrom(gx.Data); h.CopyFrom(hPrev.Data); }
                    else { act.Reset(3 * n); h.Reset(n); }
                    ghn.Reset(n);

                    GateKernels.GruForward(path, batch, hidden, alias ? act.Ptr : gx.Ptr, gh.Ptr, bhh.Ptr, alias ? h.Ptr : hPrev.Ptr, act.Ptr, ghn.Ptr, h.Ptr);

                    for (int b = 0; b < batch; b++)
                        for (int j = 0; j < hidden; j++)
                        {
                            int g0 = b * 3 * hidden + j, s = b * hidden + j;
                            GateReference.GruOut o = GateReference.GruForward(m,
                                X(x[g0]), X(x[g0 + hidden]), X(x[g0 + 2 * hidden]), X(hv[g0]), X(hv[g0 + hidden]), X(hv[g0 + 2 * hidden]),
                                X(bv[j]), X(bv[hidden + j]), X(bv[2 * hidden + j]), X(hp[s]));
                            ea[g0] = o.R; ea[g0 + hidden] = o.Z; ea[g0 + 2 * hidden] = o.N;
                            en[s] = o.GhnPlusBias; eh[s] = o.H;
                        }
                    string what = $"GruForward {Name<T>()} {path} B={batch} H={hidden}{(alias ? " (act aliases gx, h aliases h_prev)" : "")}";
                    BoundedAssert.Within<T>(act.Data, ea.AsSpan(0, 3 * n), $"{what}: activations r, z, n", GateAt(hidden, "rzn"));
                    BoundedAssert.Within<T>(ghn.Data, en.AsSpan(0, n), $"{what}: W_hn h + b_hn", UnitAt(hidden));
                    BoundedAssert.Within<T>(h.Data, eh.AsSpan(0, n), $"{what}: h", UnitAt(hidden));
                    AssertBitwiseEqual<T>(ghCopy, gh.Data, $"{what}: gh modified");
                    AssertBitwiseEqual<T>(bhhCopy, bhh.Data, $"{what}: b_hh modified");
                    if (!alias)
                    {
                        AssertBitwiseEqual<T>(gxCopy, gx.Data, $"{what}: gx modified");
                        AssertBitwiseEqual<T>(hPrevCopy, hPrev.Data, $"{what}: h_prev modified");
                    }
                    foreach ((GuardedBuffer<T> buf, string name) in new[] { (gx, "gx"), (gh, "gh"), (bhh, "b_hh"), (hPrev, "h_prev"), (act, "act"), (ghn, "ghn"), (h, "h") })
                        buf.AssertGuardsIntact($"{what}: {name}");
                }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GruBackward<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ErrorModel m = ErrorModel.For<T>();
        int cap = MaxBatch * MaxHidden;
        var act = new GuardedBuffer<T>(3 * cap);
        var ghn = new GuardedBuffer<T>(cap);
        var hPrev = new GuardedBuffer<T>(cap);
        var dh = new GuardedBuffer<T>(cap);
        var dGx = new GuardedBuffer<T>(3 * cap);
        var dGh = new GuardedBuffer<T>(3 * cap);
        var dhPrev = new GuardedBuffer<T>(cap);
        var ex = new Bounded[3 * cap];
        var eh = new Bounded[3 * cap];
        var ep = new Bounded[cap];
        var rng = new Random(104);
        for (int batch = 1; batch <= MaxBatch; batch++)
            foreach (int hidden in Hiddens)
            {
                int n = batch * hidden;
                Activations(act, batch, hidden, "ssS", rng); // r, z in (0, 1); n in (-1, 1)
                ghn.Fill(n, rng, -2, 2);
                hPrev.Fill(n, rng, -1, 1);
                dh.Fill(n, rng, -1, 1);
                dGx.Reset(3 * n);
                dGh.Reset(3 * n);
                dhPrev.Reset(n);
                double[] a = act.ToDouble(), gn = ghn.ToDouble(), hp = hPrev.ToDouble(), dhv = dh.ToDouble();
                T[] actCopy = act.Data.ToArray(), ghnCopy = ghn.Data.ToArray(), hPrevCopy = hPrev.Data.ToArray(), dhCopy = dh.Data.ToArray();

                GateKernels.GruBackward(path, batch, hidden, act.Ptr, ghn.Ptr, hPrev.Ptr, dh.Ptr, dGx.Ptr, dGh.Ptr, dhPrev.Ptr);

                for (int b = 0; b < batch; b++)
                    for (int j = 0; j < hidden; j++)
                    {
                        int g0 = b * 3 * hidden + j, s = b * hidden + j;
                        GateReference.GruGrad d = GateReference.GruBackward(m, X(a[g0]), X(a[g0 + hidden]), X(a[g0 + 2 * hidden]), X(gn[s]), X(hp[s]), X(dhv[s]));
                        ex[g0] = d.DR; ex[g0 + hidden] = d.DZ; ex[g0 + 2 * hidden] = d.DN;
                        eh[g0] = d.DR; eh[g0 + hidden] = d.DZ; eh[g0 + 2 * hidden] = d.DGhN;
                        ep[s] = d.DHPrev;
                    }
                string what = $"GruBackward {Name<T>()} {path} B={batch} H={hidden}";
                BoundedAssert.Within<T>(dGx.Data, ex.AsSpan(0, 3 * n), $"{what}: input-side pre-activation gradients", GateAt(hidden, "rzn"));
                BoundedAssert.Within<T>(dGh.Data, eh.AsSpan(0, 3 * n), $"{what}: hidden-side pre-activation gradients", GateAt(hidden, "rzn"));
                BoundedAssert.Within<T>(dhPrev.Data, ep.AsSpan(0, n), $"{what}: direct dJ/dh_prev", UnitAt(hidden));
                AssertBitwiseEqual<T>(actCopy, act.Data, $"{what}: act modified");
                AssertBitwiseEqual<T>(ghnCopy, ghn.Data, $"{what}: ghn modified");
                AssertBitwiseEqual<T>(hPrevCopy, hPrev.Data, $"{what}: h_prev modified");
                AssertBitwiseEqual<T>(dhCopy, dh.Data, $"{what}: dh modified");
                foreach ((GuardedBuffer<T> buf, string name) in new[] { (act, "act"), (ghn, "ghn"), (hPrev, "h_prev"), (dh, "dh"), (dGx, "dGx"), (dGh, "dGh"), (dhPrev, "dhPrev") })
                    buf.AssertGuardsIntact($"{what}: {name}");
            }
    }

    // -------------------------------------------------------------------------------------- batch-1 products

    /// <summary>K = 0, 1, 2, 3, 17 and either side of one and two KC blocks.</summary>
    private static readonly int[] Ks = [0, 1, 2, 3, 17, GemmBlocking.KC - 1, GemmBlocking.KC, GemmBlocking.KC + 1, 2 * GemmBlocking.KC + 5];

    /// <summary>
    /// dst[e] (+)= Σ_k x[k] rows[k·G·NR + e] over the G·NR columns of one block, NR the path's panel width, for G = 3
    /// and 4, accumulating onto random dst and overwriting a NaN dst. Rows past K and x past K are NaN guards (reading
    /// them poisons the result); the bound is γ_{2n}(u) Σ |terms| for the n = K (+1) terms.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FusedGates<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ErrorModel m = ErrorModel.For<T>();
        int nr = GemmDriver.PanelWidth<T>(path), maxK = Ks.Max();
        var rows = new GuardedBuffer<T>(maxK * 4 * nr);
        var x = new GuardedBuffer<T>(maxK);
        var dst = new GuardedBuffer<T>(4 * nr);
        var expected = new Bounded[4 * nr];
        var rng = new Random(105);
        foreach (int gates in new[] { 3, 4 })
            foreach (int k in Ks)
                foreach (bool overwrite in new[] { false, true })
                {
                    // With K = 0 there is no first chunk to store, so an overwrite leaves dst as it was; no caller
                    // passes K = 0 (input and hidden sizes are at least 1).
                    if (k == 0 && overwrite) continue;
                    int stride = gates * nr;
                    rows.Fill(k * stride, rng, -1, 1);
                    x.Fill(k, rng, -1, 1);
                    if (overwrite) dst.Reset(stride); else dst.Fill(stride, rng, -1, 1);
                    double[] r = rows.ToDouble(), xv = x.ToDouble(), d0 = dst.ToDouble();
                    T[] rowsCopy = rows.Data.ToArray(), xCopy = x.Data.ToArray();

                    GateKernels.FusedGates(path, gates, k, x.Ptr, rows.Ptr, dst.Ptr, overwrite, nr);

                    for (int e = 0; e < stride; e++)
                    {
                        var s = new BoundedSum();
                        if (!overwrite) s.Add(X(d0[e]));
                        for (int kk = 0; kk < k; kk++) s.AddProduct(r[kk * stride + e], X(xv[kk]));
                        expected[e] = s.Result(m);
                    }
                    string what = $"FusedGates {Name<T>()} {path} G={gates} NR={nr} K={k} {(overwrite ? "overwrite" : "accumulate")}";
                    BoundedAssert.Within<T>(dst.Data, expected.AsSpan(0, stride), what, e => $"(gate {e / nr}, column {e % nr})");
                    AssertBitwiseEqual<T>(rowsCopy, rows.Data, $"{what}: rows modified");
                    AssertBitwiseEqual<T>(xCopy, x.Data, $"{what}: x modified");
                    dst.AssertGuardsIntact($"{what}: dst");
                    rows.AssertGuardsIntact($"{what}: rows");
                    x.AssertGuardsIntact($"{what}: x");
                }
    }

    // ------------------------------------------------------------------------------------------- helpers

    private static Bounded X(double v) => Bounded.Exact(v);

    /// <summary>Pre-activations: uniform in [-8, 8], every 11th element out in the saturated range ±[12, 25].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PreActivations<T>(GuardedBuffer<T> buf, int length, Random rng) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        buf.Fill(length, rng, -8, 8);
        Span<T> d = buf.Data;
        for (int i = 5; i < d.Length; i += 11) d[i] = T.CreateTruncating((rng.Next(2) * 2 - 1) * (12 + 13 * rng.NextDouble()));
    }

    /// <summary>Saved activations per gate block: 's' a sigmoid output in (0, 1), 'S' a tanh output in (-1, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Activations<T>(GuardedBuffer<T> buf, int batch, int hidden, string kinds, Random rng) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int g = kinds.Length;
        buf.Fill(batch * g * hidden, rng, 0, 1);
        Span<T> d = buf.Data;
        for (int i = 0; i < d.Length; i++)
            if (kinds[i / hidden % g] == 'S') d[i] = T.CreateTruncating(2 * rng.NextDouble() - 1);
    }

    private static Func<int, string> GateAt(int hidden, string names) =>
        i => $"(row {i / (names.Length * hidden)}, gate {names[i / hidden % names.Length]}, unit {i % hidden})";

    private static Func<int, string> UnitAt(int hidden) => i => $"(row {i / hidden}, unit {i % hidden})";
}
