using System.Buffers.Binary;

namespace Rnn.Simd.Persistence;

/// <summary>
/// The element types of the safetensors format (huggingface/safetensors, <c>Dtype</c>), in the reference's order, which
/// is increasing alignment: its writer lays tensors out by descending order of this enum, then by name. Every type can
/// be read and written as raw bytes; <see cref="SafeTensor"/> converts <see cref="F16"/>, <see cref="BF16"/>,
/// <see cref="F32"/> and <see cref="F64"/> to and from float and double.
/// </summary>
public enum SafeTensorsDType
{
    /// <summary><c>BOOL</c>, one byte.</summary>
    Bool,
    /// <summary><c>F4</c> (MXFP4), 4 bits.</summary>
    F4,
    /// <summary><c>F6_E2M3</c> (MXFP6), 6 bits.</summary>
    F6E2M3,
    /// <summary><c>F6_E3M2</c> (MXFP6), 6 bits.</summary>
    F6E3M2,
    /// <summary><c>U8</c>.</summary>
    U8,
    /// <summary><c>I8</c>.</summary>
    I8,
    /// <summary><c>F8_E5M2</c>.</summary>
    F8E5M2,
    /// <summary><c>F8_E4M3</c>.</summary>
    F8E4M3,
    /// <summary><c>F8_E8M0</c>.</summary>
    F8E8M0,
    /// <summary><c>F8_E4M3FNUZ</c>.</summary>
    F8E4M3Fnuz,
    /// <summary><c>F8_E5M2FNUZ</c>.</summary>
    F8E5M2Fnuz,
    /// <summary><c>I16</c>.</summary>
    I16,
    /// <summary><c>U16</c>.</summary>
    U16,
    /// <summary><c>F16</c>: IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits; largest finite 65504).</summary>
    F16,
    /// <summary><c>BF16</c>: bfloat16, the top 16 bits of a float32 (1 sign, 8 exponent, 7 mantissa bits).</summary>
    BF16,
    /// <summary><c>I32</c>.</summary>
    I32,
    /// <summary><c>U32</c>.</summary>
    U32,
    /// <summary><c>F32</c>: IEEE 754 binary32.</summary>
    F32,
    /// <summary><c>C64</c>: complex with two float32 parts.</summary>
    C64,
    /// <summary><c>F64</c>: IEEE 754 binary64.</summary>
    F64,
    /// <summary><c>I64</c>.</summary>
    I64,
    /// <summary><c>U64</c>.</summary>
    U64,
}

/// <summary>Names, sizes and the 16-bit float conversions of <see cref="SafeTensorsDType"/>.</summary>
internal static class SafeTensorsDTypes
{
    private static readonly string[] s_names =
    [
        "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ",
        "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64",
    ];

    private static readonly int[] s_bits = [8, 4, 6, 6, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64];

    /// <summary>The header spelling, e.g. "F8_E4M3".</summary>
    public static string Name(SafeTensorsDType dtype) => s_names[(int)dtype];

    /// <summary>Bits per element.</summary>
    public static int BitSize(SafeTensorsDType dtype) => s_bits[(int)dtype];

    /// <summary>True for the four types <see cref="SafeTensor"/> converts to numbers.</summary>
    public static bool IsConvertible(SafeTensorsDType dtype) =>
        dtype is SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.F32 or SafeTensorsDType.F64;

    /// <summary>Parses a header spelling (exact, case-sensitive, as serde does).</summary>
    public static bool TryParse(ReadOnlySpan<char> name, out SafeTensorsDType dtype)
    {
        for (int i = 0; i < s_names.Length; i++)
        {
            if (name.SequenceEqual(s_names[i]))
            {
                dtype = (SafeTensorsDType)i;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    // ------------------------------------------------------------------------------------------------ 16-bit floats
    // binary16: 5 exponent bits, 10 mantissa bits; bfloat16: 8 and 7. Decoding is exact in double. Encoding rounds the
    // double once to nearest, ties to even (so a float, exact in double, is rounded once too): never double rounding
    // through float, which a double -> float -> half chain would do.

    /// <summary>The value of binary16 bits, exactly.</summary>
    public static double HalfToDouble(ushort bits) => Decode(bits, mantissaBits: 10, exponentBits: 5);

    /// <summary>The value of bfloat16 bits, exactly.</summary>
    public static double BFloat16ToDouble(ushort bits) => Decode(bits, mantissaBits: 7, exponentBits: 8);

    /// <summary>binary16 bits of <paramref name="value"/> rounded to nearest, ties to even; beyond the range ±infinity, NaN a quiet NaN.</summary>
    public static ushort DoubleToHalf(double value) => Encode(value, mantissaBits: 10, exponentBits: 5);

    /// <summary>bfloat16 bits of <paramref name="value"/> rounded to nearest, ties to even; beyond the range ±infinity, NaN a quiet NaN.</summary>
    public static ushort DoubleToBFloat16(double value) => Encode(value, mantissaBits: 7, exponentBits: 8);

    private static double Decode(ushort bits, int mantissaBits, int exponentBits)
    {
        int bias = (1 << (exponentBits - 1)) - 1;
        int allOnes = (1 << exponentBits) - 1;
        int mantissa = bits & ((1 << mantissaBits) - 1);
        int exponent = (bits >> mantissaBits) & allOnes;
        double sign = (bits >> (mantissaBits + exponentBits)) != 0 ? -1.0 : 1.0;
        if (exponent == allOnes) return mantissa == 0 ? sign * double.PositiveInfinity : double.NaN;
        // Subnormal: m · 2^(1 - bias - mantissaBits); normal: (2^mantissaBits + m) · 2^(e - bias - mantissaBits).
        return exponent == 0
            ? sign * Math.ScaleB(mantissa, 1 - bias - mantissaBits)
            : sign * Math.ScaleB((1 << mantissaBits) + mantissa, exponent - bias - mantissaBits);
    }

    private static ushort Encode(double value, int mantissaBits, int exponentBits)
    {
        int bias = (1 << (exponentBits - 1)) - 1;
        int allOnes = (1 << exponentBits) - 1;
        int minExponent = 1 - bias;
        int sign = BitConverter.DoubleToUInt64Bits(value) >> 63 != 0 ? 1 << (mantissaBits + exponentBits) : 0;
        if (double.IsNaN(value)) return (ushort)(sign | (allOnes << mantissaBits) | (1 << (mantissaBits - 1)));
        double a = Math.Abs(value);
        if (double.IsPositiveInfinity(a)) return (ushort)(sign | (allOnes << mantissaBits));
        if (a == 0) return (ushort)sign;
        // Quantum of a's binade (clamped to the subnormal quantum 2^(minExponent - mantissaBits)); a / quantum is exact
        // (a power-of-two scaling within double's range) and below 2^(mantissaBits + 1), so Math.Round rounds once.
        int e = Math.Max(Math.ILogB(a), minExponent);
        long m = (long)Math.Round(Math.ScaleB(a, mantissaBits - e), MidpointRounding.ToEven);
        // In the lowest binade (e = minExponent) the field is m itself: subnormal below 2^mantissaBits, the smallest
        // normal at or above it. Elsewhere m in [2^mb, 2^(mb+1)]; m = 2^(mb+1) carries into the exponent by itself.
        long field = e == minExponent ? m : ((long)(e + bias) << mantissaBits) + m - (1L << mantissaBits);
        if (field >= (long)allOnes << mantissaBits) field = (long)allOnes << mantissaBits;
        return (ushort)(sign | (int)field);
    }

    // ------------------------------------------------------------------------------------------------ element codecs

    /// <summary>Element <paramref name="i"/> of little-endian <paramref name="data"/> of a convertible type, as double (exact).</summary>
    public static double Read(SafeTensorsDType dtype, ReadOnlySpan<byte> data, long i) => dtype switch
    {
        SafeTensorsDType.F16 => HalfToDouble(BinaryPrimitives.ReadUInt16LittleEndian(data.Slice((int)(2 * i)))),
        SafeTensorsDType.BF16 => BFloat16ToDouble(BinaryPrimitives.ReadUInt16LittleEndian(data.Slice((int)(2 * i)))),
        SafeTensorsDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(data.Slice((int)(4 * i))),
        SafeTensorsDType.F64 => BinaryPrimitives.ReadDoubleLittleEndian(data.Slice((int)(8 * i))),
        _ => throw new InvalidOperationException($"{Name(dtype)} is not a convertible dtype."),
    };

    /// <summary>Writes <paramref name="value"/> as element <paramref name="i"/> (F16 / BF16 / F32 round to nearest even).</summary>
    public static void Write(SafeTensorsDType dtype, Span<byte> data, int i, double value)
    {
        switch (dtype)
        {
            case SafeTensorsDType.F16: BinaryPrimitives.WriteUInt16LittleEndian(data.Slice(2 * i), DoubleToHalf(value)); break;
            case SafeTensorsDType.BF16: BinaryPrimitives.WriteUInt16LittleEndian(data.Slice(2 * i), DoubleToBFloat16(value)); break;
            case SafeTensorsDType.F32: BinaryPrimitives.WriteSingleLittleEndian(data.Slice(4 * i), (float)value); break;
            case SafeTensorsDType.F64: BinaryPrimitives.WriteDoubleLittleEndian(data.Slice(8 * i), value); break;
            default: throw new ArgumentException($"Values can be written as F16, BF16, F32 or F64, not {Name(dtype)}.", nameof(dtype));
        }
    }
}
