using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Training.Bptt;

namespace Rnn.Simd.Tests.Infrastructure;

/// <summary>Shared helpers of the cell, network and BPTT tests: seeded data, parameter copies, comparisons with a
/// message that names the worst element (and its parameter slice), and a driver that runs a sequence through
/// <see cref="TruncatedBptt{T}"/> window by window.</summary>
public static class RecurrentTestKit
{
    public static readonly CellType[] AllCells = [CellType.Elman, CellType.Lstm, CellType.Gru];

    /// <summary>n values uniform in [lo, hi) from a fixed seed (the library's deterministic generator).</summary>
    public static double[] Uniform(ulong seed, int n, double lo = -1, double hi = 1)
    {
        var rng = new Rng(seed);
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = rng.NextUniform(lo, hi);
        return v;
    }

    public static T[] Convert<T>(double[] v) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var r = new T[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = T.CreateTruncating(v[i]);
        return r;
    }

    public static double[] ToDouble<T>(ReadOnlySpan<T> v) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var r = new double[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = double.CreateTruncating(v[i]);
        return r;
    }

    /// <summary>Architecture of one or two layers (two layers get different hidden sizes when h2 differs).</summary>
    public static NetworkArchitecture Arch(CellType cell, int input, int output, Activation act, params int[] hidden) =>
        new(cell, input, hidden, output, act);

    /// <summary>A copy of a network's parameters in another precision (and/or on another path): same values, rounded once.</summary>
    public static RecurrentNetwork<TTo> Copy<TFrom, TTo>(RecurrentNetwork<TFrom> src, IsaPath path)
        where TFrom : unmanaged, IBinaryFloatingPointIeee754<TFrom>
        where TTo : unmanaged, IBinaryFloatingPointIeee754<TTo>
    {
        var dst = new RecurrentNetwork<TTo>(src.Architecture, 0, path);
        Span<TFrom> p = src.Parameters;
        Span<TTo> q = dst.Parameters;
        for (int i = 0; i < p.Length; i++) q[i] = TTo.CreateTruncating(p[i]);
        dst.MarkParametersChanged();
        return dst;
    }

    /// <summary>Rounds every parameter of a double network to float, so a float copy holds the very same values.</summary>
    public static void RoundParametersToFloat(RecurrentNetwork<double> net)
    {
        Span<double> p = net.Parameters;
        for (int i = 0; i < p.Length; i++) p[i] = (float)p[i];
        net.MarkParametersChanged();
    }

    /// <summary>Runs S = inputs / (B·I) steps as S/τf windows; returns the window losses (and fills outputs, S x B x O, if given).</summary>
    public static double[] RunWindows<T>(TruncatedBptt<T> engine, ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, Span<T> outputs = default)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        NetworkArchitecture a = engine.State.Architecture;
        int tf = engine.Schedule.ForwardSteps, b = engine.BatchSize;
        int inW = tf * b * a.InputSize, outW = tf * b * a.OutputSize;
        int windows = inputs.Length / inW;
        var losses = new double[windows];
        for (int w = 0; w < windows; w++)
        {
            Span<T> o = outputs.IsEmpty ? default : outputs.Slice(w * outW, outW);
            losses[w] = double.CreateTruncating(engine.Window(inputs.Slice(w * inW, inW), targets.Slice(w * outW, outW), o));
        }
        return losses;
    }

    /// <summary>Relative error of one element, with an absolute floor: |a - e| / max(|a|, |e|, floor).</summary>
    public static double RelativeError(double actual, double expected, double floor) =>
        Math.Abs(actual - expected) / Math.Max(Math.Max(Math.Abs(actual), Math.Abs(expected)), floor);

    /// <summary>
    /// Asserts max_i |a_i - e_i| / max(|a_i|, |e_i|, floor) ≤ tolerance, naming the worst element (and its slice when
    /// a layout is given) in the failure message.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double tolerance, double floor, string what, ParameterLayout? layout = null)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        double worst = 0; int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = RelativeError(actual[i], expected[i], floor);
            if (double.IsNaN(e)) e = double.PositiveInfinity;
            if (e > worst || at < 0) { worst = e; at = i; }
        }
        if (worst <= tolerance) return;
        Assert.Fail($"{what}: max relative error {worst:E3} > {tolerance:E1} at [{at}]{SliceName(layout, at)}: actual {actual[at]:R}, expected {expected[at]:R}");
    }

    /// <summary>
    /// Whether a batch of streams must equal the streams stepped one by one bit for bit. It must in float (the float
    /// tanh / sigmoid are one FMA formula on every path and in the scalar tail) and for LSTM / GRU in double (their
    /// gate math runs per batch row, so a row's vector / scalar-tail split does not depend on the batch). An Elman
    /// layer's activation runs over the whole B x H block, and in double the scalar form (Math.Tanh, 1 / (1 + Math.Exp))
    /// and the vector form ((1 - e)/(1 + e) on Vector.Exp) differ in the last bit, so which form an element gets, and
    /// with it its last bit, depends on B·H against the vector width: there the comparison allows 1e-13 relative.
    /// </summary>
    public static bool BatchIsBitwise<T>(CellType cell) => typeof(T) == typeof(float) || cell != CellType.Elman;

    /// <summary>Exact equality, or |a - e| ≤ 1e-13 · max(|a|, |e|, 1e-3) when <paramref name="bitwise"/> is false.</summary>
    public static bool SameStreamValues<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, bool bitwise) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (expected.Length != actual.Length) return false;
        if (bitwise) return expected.SequenceEqual(actual);
        for (int i = 0; i < expected.Length; i++)
        {
            if (RelativeError(double.CreateTruncating(actual[i]), double.CreateTruncating(expected[i]), 1e-3) > 1e-13) return false;
        }
        return true;
    }

    /// <summary>‖a - e‖₂ / ‖e‖₂ (the norm-relative error), for comparisons across precisions.</summary>
    public static double NormRelativeError(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual)
    {
        double num = 0, den = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = actual[i] - expected[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        return Math.Sqrt(num) / Math.Sqrt(den);
    }

    public static string SliceName(ParameterLayout? layout, int index)
    {
        if (layout is null || index < 0) return "";
        foreach (ParameterSlice s in layout.Slices)
        {
            if (index >= s.Offset && index < s.Offset + s.Length)
            {
                int k = index - s.Offset;
                return $" ({s.Name}[{k / s.Columns},{k % s.Columns}])";
            }
        }
        return "";
    }
}
