using System.Buffers.Binary;
using Rnn.Simd.Persistence;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>
/// F16 and BF16 conversions of the safetensors codec against independent oracles: decoding of all 65536 patterns
/// against <see cref="Half"/> and against the float whose top 16 bits they are; encoding against the nearest entry of
/// the sorted table of every finite value (ties to the even pattern), over random doubles, every midpoint between
/// neighbours (the ties) and the points just either side of each midpoint.
/// </summary>
public class HalfPrecisionTests
{
    [Fact]
    public void Decoding_AllPatterns_MatchesHalfAndTheTopBitsOfAFloat()
    {
        for (int b = 0; b < 65536; b++)
        {
            double f16 = SafeTensorsDTypes.HalfToDouble((ushort)b);
            double expected16 = (double)BitConverter.UInt16BitsToHalf((ushort)b);
            Assert.True(f16.Equals(expected16), $"F16 0x{b:X4}: {f16}, expected {expected16}");
            double bf16 = SafeTensorsDTypes.BFloat16ToDouble((ushort)b);
            double expectedBf = BitConverter.Int32BitsToSingle(b << 16);
            Assert.True(bf16.Equals(expectedBf), $"BF16 0x{b:X4}: {bf16}, expected {expectedBf}");
        }
    }

    /// <summary>Sorted non-negative finite values with their patterns (for F16: 0 .. 0x7BFF; for BF16: 0 .. 0x7F7F).</summary>
    private static (double[] Values, ushort[] Bits) Table(Func<ushort, double> decode, ushort maxFinite)
    {
        var values = new double[maxFinite + 1];
        var bits = new ushort[maxFinite + 1];
        for (int b = 0; b <= maxFinite; b++)
        {
            values[b] = decode((ushort)b);
            bits[b] = (ushort)b;
        }
        return (values, bits);
    }

    /// <summary>The nearest table value to |x| (ties: the even pattern); beyond the largest finite + half an ulp, infinity.</summary>
    private static ushort Oracle(double x, (double[] Values, ushort[] Bits) t, ushort infinity, ushort signBit)
    {
        double a = Math.Abs(x);
        ushort sign = x < 0 || (x == 0 && double.IsNegative(x)) ? signBit : (ushort)0;
        int n = t.Values.Length;
        double max = t.Values[n - 1], ulp = max - t.Values[n - 2];
        if (a >= max + ulp / 2) return (ushort)(sign | infinity); // the tie at max + ulp/2 goes to the even neighbour: infinity (max is odd)
        int i = Array.BinarySearch(t.Values, a);
        if (i >= 0) return (ushort)(sign | t.Bits[i]);
        int hi = ~i, lo = hi - 1;
        if (hi == n) return (ushort)(sign | t.Bits[lo]); // above the largest finite, below the overflow threshold
        double dlo = a - t.Values[lo], dhi = t.Values[hi] - a;
        int pick = dlo < dhi ? lo : dhi < dlo ? hi : (t.Bits[lo] % 2 == 0 ? lo : hi);
        return (ushort)(sign | t.Bits[pick]);
    }

    [Fact]
    public void Encoding_IsRoundToNearestEven_AgainstTheTableOracle()
    {
        var f16 = Table(SafeTensorsDTypes.HalfToDouble, 0x7BFF);
        var bf16 = Table(SafeTensorsDTypes.BFloat16ToDouble, 0x7F7F);
        var probes = new List<double> { 0.0, -0.0, 1e-300, -1e-300, 65504, 65519.99, 65520, 65536, 1e10, double.MaxValue, -65520, 5.96e-8, 2.98e-8, 2.99e-8 };
        foreach (var t in new[] { f16, bf16 })
        {
            for (int i = 0; i + 1 < t.Values.Length; i++)
            {
                double mid = (t.Values[i] + t.Values[i + 1]) / 2; // exact in double: the neighbours differ in 8-11 significant bits
                probes.Add(mid);
                probes.Add(Math.BitDecrement(mid));
                probes.Add(Math.BitIncrement(mid));
                probes.Add(-mid);
            }
        }
        var rng = new Random(99);
        for (int k = 0; k < 20000; k++) probes.Add((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-140, 130)));

        foreach (double x in probes)
        {
            ushort got16 = SafeTensorsDTypes.DoubleToHalf(x), want16 = Oracle(x, f16, 0x7C00, 0x8000);
            Assert.True(got16 == want16, $"F16 of {x:R}: 0x{got16:X4}, expected 0x{want16:X4}");
            ushort gotBf = SafeTensorsDTypes.DoubleToBFloat16(x), wantBf = Oracle(x, bf16, 0x7F80, 0x8000);
            Assert.True(gotBf == wantBf, $"BF16 of {x:R}: 0x{gotBf:X4}, expected 0x{wantBf:X4}");
        }
    }

    [Fact]
    public void Encoding_OfFloats_EqualsHalfsConversionAndTheBf16BitTrick()
    {
        var rng = new Random(3);
        for (int k = 0; k < 200000; k++)
        {
            float f = BitConverter.Int32BitsToSingle(rng.Next() ^ (rng.Next(2) << 31));
            if (float.IsNaN(f)) continue;
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)f), SafeTensorsDTypes.DoubleToHalf(f));
            // Round to nearest even on the float's bits: add 0x7FFF plus the lowest kept bit, then truncate.
            uint bits = BitConverter.SingleToUInt32Bits(f);
            ushort trick = (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
            Assert.Equal(trick, SafeTensorsDTypes.DoubleToBFloat16(f));
        }
    }

    [Fact]
    public void NaNAndInfinity_StayNaNAndInfinity()
    {
        Assert.True(double.IsNaN(SafeTensorsDTypes.HalfToDouble(SafeTensorsDTypes.DoubleToHalf(double.NaN))));
        Assert.True(double.IsNaN(SafeTensorsDTypes.BFloat16ToDouble(SafeTensorsDTypes.DoubleToBFloat16(double.NaN))));
        Assert.Equal(0x7C00, SafeTensorsDTypes.DoubleToHalf(double.PositiveInfinity));
        Assert.Equal(0xFC00, SafeTensorsDTypes.DoubleToHalf(double.NegativeInfinity));
        Assert.Equal(0xFF80, SafeTensorsDTypes.DoubleToBFloat16(double.NegativeInfinity));
    }

    [Fact]
    public void SafeTensorFromValues_StoresTheRoundedPatterns_LittleEndian()
    {
        SafeTensor t = SafeTensor.FromValues("x", [3], [1f / 3, -2.5f, 70000f], SafeTensorsDType.F16);
        ReadOnlySpan<byte> d = t.Data.Span;
        Assert.Equal(BitConverter.HalfToUInt16Bits((Half)(1f / 3)), BinaryPrimitives.ReadUInt16LittleEndian(d));
        Assert.Equal(0xC100, BinaryPrimitives.ReadUInt16LittleEndian(d.Slice(2)));
        Assert.Equal(0x7C00, BinaryPrimitives.ReadUInt16LittleEndian(d.Slice(4))); // beyond 65504: +inf, as torch's .half()
        Assert.Equal([(float)(Half)(1f / 3), -2.5f, float.PositiveInfinity], t.ToSingle());
    }
}
