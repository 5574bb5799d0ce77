using System.Globalization;
using System.Text.Json;

namespace Rnn.Simd.Tests.Cli;

/// <summary>
/// Checks between figures the tool prints rounded: a printed quotient q of two printed operands x / y may differ from
/// x / y only by what the rounding of the three explains (half a unit of each one's last printed decimal), so the
/// check is exact up to rounding instead of a relative tolerance that a small operand (0.207 printed to 3 decimals is
/// ±0.24 %) can exceed.
/// </summary>
internal static class PrintedFigures
{
    /// <summary>Half a unit of the last decimal printed in the element's raw JSON text (0 for an integer, which is exact).</summary>
    public static double HalfUnit(JsonElement e)
    {
        string raw = e.GetRawText();
        int exp = raw.IndexOfAny(['e', 'E']);
        string mantissa = exp < 0 ? raw : raw[..exp];
        int dot = mantissa.IndexOf('.');
        int decimals = dot < 0 ? 0 : mantissa.Length - dot - 1;
        int power = exp < 0 ? 0 : int.Parse(raw[(exp + 1)..], CultureInfo.InvariantCulture);
        return dot < 0 && exp < 0 ? 0 : 0.5 * Math.Pow(10, power - decimals);
    }

    /// <summary>Asserts printed q = x / y up to the rounding of q, x and y (x, y as printed, or exact when given as numbers).</summary>
    public static void AssertQuotient(JsonElement q, double x, double hx, double y, double hy, string what)
    {
        double printed = q.GetDouble(), ratio = x / y;
        double bound = HalfUnit(q) + (hx + Math.Abs(ratio) * hy) / (Math.Abs(y) - hy) + 1e-12 * Math.Abs(ratio);
        Assert.True(Math.Abs(printed - ratio) <= bound, $"{what}: printed {printed} vs {x} / {y} = {ratio} (rounding allows ±{bound:G3})");
    }

    /// <summary>Asserts printed q = x / y with x and y printed JSON figures.</summary>
    public static void AssertQuotient(JsonElement q, JsonElement x, JsonElement y, string what) =>
        AssertQuotient(q, x.GetDouble(), HalfUnit(x), y.GetDouble(), HalfUnit(y), what);
}
