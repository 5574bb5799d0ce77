using System.Numerics;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Tests.Infrastructure;

/// <summary>Shared plumbing for kernel tests: the paths to run, numeric constants, conversions and bit comparisons.</summary>
public static class TestHelpers
{
    /// <summary>Every concrete ISA path this machine supports, as xunit MemberData rows.</summary>
    public static TheoryData<IsaPath> SupportedPaths()
    {
        var data = new TheoryData<IsaPath>();
        foreach (IsaPath p in TestPaths.All) data.Add(p);
        return data;
    }

    /// <summary>The supported paths as an array (no interface enumerator, so loops over it do not allocate).</summary>
    public static IsaPath[] PathArray()
    {
        var paths = new IsaPath[TestPaths.All.Count];
        for (int i = 0; i < paths.Length; i++) paths[i] = TestPaths.All[i];
        return paths;
    }

    /// <summary>Unit roundoff u of T: 2^-24 for float, 2^-53 for double (half the machine epsilon).</summary>
    public static double UnitRoundoff<T>() where T : IBinaryFloatingPointIeee754<T>
        => typeof(T) == typeof(float) ? Math.ScaleB(1.0, -24) : Math.ScaleB(1.0, -53);

    /// <summary>Unit roundoff of double, 2^-53.</summary>
    public static readonly double UDouble = Math.ScaleB(1.0, -53);

    /// <summary>Higham's γ_n = n·u / (1 - n·u): the relative error bound of n successive roundings.</summary>
    public static double Gamma(int n, double u) => n * u / (1 - n * u);

    /// <summary>The largest finite value of T, as a double.</summary>
    public static double MaxFinite<T>() where T : IBinaryFloatingPointIeee754<T>
        => typeof(T) == typeof(float) ? float.MaxValue : double.MaxValue;

    public static double D<T>(T x) where T : IBinaryFloatingPointIeee754<T> => double.CreateTruncating(x);

    public static T Of<T>(double x) where T : IBinaryFloatingPointIeee754<T> => T.CreateTruncating(x);

    public static double[] ToDouble<T>(ReadOnlySpan<T> x) where T : IBinaryFloatingPointIeee754<T>
    {
        var r = new double[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = double.CreateTruncating(x[i]);
        return r;
    }

    /// <summary>The raw IEEE bits of x (so NaN payloads and the sign of zero compare exactly).</summary>
    public static long Bits<T>(T x) where T : IBinaryFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return BitConverter.SingleToInt32Bits(float.CreateTruncating(x));
        return BitConverter.DoubleToInt64Bits(double.CreateTruncating(x));
    }

    /// <summary>A quiet NaN with a payload no arithmetic produces, to recognise untouched memory.</summary>
    public static T SentinelNaN<T>() where T : IBinaryFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return (T)(object)BitConverter.Int32BitsToSingle(0x7FC0_5A5A);
        return (T)(object)BitConverter.Int64BitsToDouble(0x7FF8_0000_DEAD_5A5AL);
    }

    /// <summary>Uniform values in [lo, hi), rounded to T.</summary>
    public static T[] Uniform<T>(Random rng, int length, double lo, double hi) where T : IBinaryFloatingPointIeee754<T>
    {
        var r = new T[length];
        for (int i = 0; i < length; i++) r[i] = T.CreateTruncating(lo + (hi - lo) * rng.NextDouble());
        return r;
    }

    /// <summary>Asserts that two spans hold the same bits, reporting the first difference.</summary>
    public static void AssertBitwiseEqual<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what)
        where T : IBinaryFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (Bits(expected[i]) != Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]} (bits 0x{Bits(actual[i]):X}), expected {expected[i]} (bits 0x{Bits(expected[i]):X}).");
        }
    }

    public static string Name<T>() => typeof(T) == typeof(float) ? "float" : "double";
}
