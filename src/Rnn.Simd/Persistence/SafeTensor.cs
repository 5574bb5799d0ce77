using System.Collections.ObjectModel;
using System.Globalization;
using System.Numerics;

namespace Rnn.Simd.Persistence;

/// <summary>
/// One tensor of a safetensors file: a name, a dtype, a shape (row-major, C order) and its raw little-endian bytes.
/// Immutable. Tensors read from a file share the file's buffer (no copy); <see cref="ToSingle"/> and
/// <see cref="ToDouble"/> convert <see cref="SafeTensorsDType.F16"/>, <see cref="SafeTensorsDType.BF16"/>,
/// <see cref="SafeTensorsDType.F32"/> and <see cref="SafeTensorsDType.F64"/> elements into new arrays.
/// </summary>
public sealed class SafeTensor
{
    private readonly long[] _shape;

    private SafeTensor(string name, SafeTensorsDType dtype, long[] shape, long elementCount, ReadOnlyMemory<byte> data)
    {
        Name = name;
        DType = dtype;
        _shape = shape;
        ElementCount = elementCount;
        Data = data;
    }

    /// <summary>The tensor's key in the header (any string except <c>__metadata__</c>).</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public SafeTensorsDType DType { get; }

    /// <summary>The dimensions, outermost first (empty for a scalar, rank 0).</summary>
    public IReadOnlyList<long> Shape => new ReadOnlyCollection<long>(_shape);

    /// <summary>Product of the dimensions (1 for a scalar, 0 when a dimension is 0).</summary>
    public long ElementCount { get; }

    /// <summary>The raw bytes: <see cref="ElementCount"/> elements of <see cref="DType"/>, little-endian, row-major.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The shape as text, e.g. <c>[20, 3]</c>.</summary>
    public string ShapeText => FormatShape(_shape);

    /// <summary>Wraps raw bytes as a tensor, after checking that their length is what dtype and shape give.</summary>
    /// <param name="name">Key in the header; not <c>__metadata__</c>.</param>
    /// <param name="dtype">Element type.</param>
    /// <param name="shape">Dimensions, each ≥ 0.</param>
    /// <param name="data">Little-endian, row-major bytes (kept, not copied).</param>
    /// <exception cref="ArgumentException">A reserved name, a negative dimension, a size that overflows or is not whole bytes, or a byte count that does not match.</exception>
    public static SafeTensor FromBytes(string name, SafeTensorsDType dtype, IReadOnlyList<long> shape, ReadOnlyMemory<byte> data)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (!Enum.IsDefined(dtype)) throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype.");
        long[] s = new long[shape.Count];
        for (int d = 0; d < s.Length; d++)
        {
            if (shape[d] < 0) throw new ArgumentException($"Tensor '{name}': dimension {d} of shape {FormatShape(shape)} is negative.", nameof(shape));
            s[d] = shape[d];
        }
        string? problem = ByteSize(dtype, s, out long count, out ulong bytes);
        if (problem is not null) throw new ArgumentException($"Tensor '{name}': {problem}.", nameof(shape));
        if ((ulong)data.Length != bytes)
            throw new ArgumentException($"Tensor '{name}': {SafeTensorsDTypes.Name(dtype)} {FormatShape(s)} needs {bytes} bytes, {data.Length} were given.", nameof(data));
        return new SafeTensor(name, dtype, s, count, data);
    }

    /// <summary>A tensor of <paramref name="values"/> stored as <paramref name="dtype"/> (F16 and BF16 round to nearest, ties to even).</summary>
    /// <param name="name">Key in the header; not <c>__metadata__</c>.</param>
    /// <param name="shape">Dimensions whose product is the number of values.</param>
    /// <param name="values">Row-major values.</param>
    /// <param name="dtype">F16, BF16, F32 or F64. A finite value beyond F16's range (65504) becomes infinity, as in PyTorch.</param>
    /// <exception cref="ArgumentException">The shape does not hold the values, or another dtype.</exception>
    public static SafeTensor FromValues(string name, IReadOnlyList<long> shape, ReadOnlySpan<float> values, SafeTensorsDType dtype = SafeTensorsDType.F32) =>
        FromValues<float>(name, shape, values, dtype);

    /// <summary>A tensor of <paramref name="values"/> stored as <paramref name="dtype"/> (F32, F16 and BF16 round to nearest, ties to even, once from the double).</summary>
    /// <inheritdoc cref="FromValues(string, IReadOnlyList{long}, ReadOnlySpan{float}, SafeTensorsDType)"/>
    public static SafeTensor FromValues(string name, IReadOnlyList<long> shape, ReadOnlySpan<double> values, SafeTensorsDType dtype = SafeTensorsDType.F64) =>
        FromValues<double>(name, shape, values, dtype);

    internal static SafeTensor FromValues<T>(string name, IReadOnlyList<long> shape, ReadOnlySpan<T> values, SafeTensorsDType dtype)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (!SafeTensorsDTypes.IsConvertible(dtype))
            throw new ArgumentException($"Tensor '{name}': values are stored as F16, BF16, F32 or F64, not {SafeTensorsDTypes.Name(dtype)}.", nameof(dtype));
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0 || (d > 0 && count > long.MaxValue / d)) throw new ArgumentException($"Tensor '{name}': shape {FormatShape(shape)} is invalid.", nameof(shape));
            count *= d;
        }
        if (count != values.Length)
            throw new ArgumentException($"Tensor '{name}': shape {FormatShape(shape)} holds {count} values, {values.Length} were given.", nameof(values));
        var data = new byte[checked(values.Length * (SafeTensorsDTypes.BitSize(dtype) / 8))];
        for (int i = 0; i < values.Length; i++) SafeTensorsDTypes.Write(dtype, data, i, double.CreateTruncating(values[i]));
        return FromBytes(name, dtype, shape, data);
    }

    /// <summary>The elements as float (F64 rounds to nearest even; F16, BF16 and F32 are exact).</summary>
    /// <exception cref="InvalidDataException">The dtype is not F16, BF16, F32 or F64 (the message names the tensor).</exception>
    public float[] ToSingle() => To<float>();

    /// <summary>The elements as double (exact for F16, BF16, F32 and F64).</summary>
    /// <exception cref="InvalidDataException">The dtype is not F16, BF16, F32 or F64 (the message names the tensor).</exception>
    public double[] ToDouble() => To<double>();

    internal T[] To<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckConvertible();
        var result = new T[ElementCount];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>Converts the elements into <paramref name="destination"/> (length <see cref="ElementCount"/>).</summary>
    internal void CopyTo<T>(Span<T> destination) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckConvertible();
        if (destination.Length != ElementCount) throw new ArgumentException($"Tensor '{Name}' has {ElementCount} elements, the destination {destination.Length}.", nameof(destination));
        ReadOnlySpan<byte> data = Data.Span;
        if (DType == SafeTensorsDType.F32 && typeof(T) == typeof(float))
        {
            for (int i = 0; i < destination.Length; i++) destination[i] = T.CreateTruncating(System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(data.Slice(4 * i)));
            return;
        }
        // Through double: exact for every source type, then one rounding to float where T is float.
        for (int i = 0; i < destination.Length; i++) destination[i] = T.CreateTruncating(SafeTensorsDTypes.Read(DType, data, i));
    }

    private void CheckConvertible()
    {
        if (!SafeTensorsDTypes.IsConvertible(DType))
            throw new InvalidDataException($"Tensor '{Name}' has dtype {SafeTensorsDTypes.Name(DType)}; only F16, BF16, F32 and F64 convert to numbers.");
    }

    /// <summary>A tensor read from a file (already validated by the reader).</summary>
    internal static SafeTensor FromFile(string name, SafeTensorsDType dtype, long[] shape, long count, ReadOnlyMemory<byte> data) =>
        new(name, dtype, shape, count, data);

    /// <summary>Element count and byte size of a dtype and shape, or the problem (overflow, a size that is not whole bytes).</summary>
    internal static string? ByteSize(SafeTensorsDType dtype, ReadOnlySpan<long> shape, out long count, out ulong bytes)
    {
        count = 1;
        bytes = 0;
        UInt128 n = 1;
        foreach (long d in shape)
        {
            n *= (ulong)d;
            if (n > (UInt128)long.MaxValue) return $"shape {FormatShape(shape.ToArray())} has more than 2^63 elements";
        }
        UInt128 bits = n * (ulong)SafeTensorsDTypes.BitSize(dtype);
        if (bits % 8 != 0) return $"{n} elements of {SafeTensorsDTypes.Name(dtype)} ({SafeTensorsDTypes.BitSize(dtype)} bits each) are not a whole number of bytes";
        count = (long)n;
        bytes = (ulong)(bits / 8);
        return null;
    }

    internal static void CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == SafeTensorsFile.MetadataKey) throw new ArgumentException($"'{SafeTensorsFile.MetadataKey}' is reserved for the metadata map; it cannot name a tensor.", nameof(name));
    }

    internal static string FormatShape(IReadOnlyList<long> shape)
    {
        var parts = new string[shape.Count];
        for (int i = 0; i < parts.Length; i++) parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", parts) + "]";
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {SafeTensorsDTypes.Name(DType)} {ShapeText}";
}
