using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Tests.Reference;
using static Rnn.Simd.Tests.Infrastructure.TestHelpers;

namespace Rnn.Simd.Tests.Infrastructure;

/// <summary>Comparisons of computed values with <see cref="Bounded"/> reference values.</summary>
public static class BoundedAssert
{
    /// <summary>
    /// Asserts |actual_i − V_i| ≤ E_i for every i (a NaN fails), naming the first offender, its position as
    /// <paramref name="where"/> describes it, the error and the bound.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Within<T>(ReadOnlySpan<T> actual, ReadOnlySpan<Bounded> expected, string what, Func<int, string>? where = null)
        where T : IBinaryFloatingPointIeee754<T>
    {
        Assert.True(actual.Length == expected.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double a = D(actual[i]), err = Math.Abs(a - expected[i].V);
            if (!(err <= expected[i].E))
                Assert.Fail($"{what}: [{i}]{(where is null ? "" : " " + where(i))} = {a:R}, expected {expected[i].V:R}, |error| {err:E3} > bound {expected[i].E:E3}.");
        }
    }
}
