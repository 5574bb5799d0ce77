using System.Buffers.Binary;
using System.Text;
using Rnn.Simd.Persistence;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>
/// The safetensors format itself (huggingface/safetensors README "Format" and safetensors/src/tensor.rs): files built
/// byte by byte here from the specification parse; the writer produces exactly the bytes the reference writer would
/// (tensors by descending dtype then name, compact JSON, <c>__metadata__</c> first, space padding to 8); every
/// violation of the specification is an <see cref="InvalidDataException"/> naming the tensor or the offset; random
/// corruptions never escape as another exception nor allocate beyond a bound of the file size.
/// </summary>
public class SafeTensorsFormatTests
{
    /// <summary>A file from a header string and data bytes, exactly as the specification lays it out (no padding added).</summary>
    internal static byte[] Build(string header, byte[] data, ulong? declaredLength = null)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var f = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(f, declaredLength ?? (ulong)h.Length);
        h.CopyTo(f, 8);
        data.CopyTo(f, 8 + h.Length);
        return f;
    }

    private static byte[] Floats(params float[] v)
    {
        var b = new byte[4 * v.Length];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), v[i]);
        return b;
    }

    private static string Error(byte[] file) => Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Parse(file)).Message;

    // ------------------------------------------------------------------------------------------------ reading

    [Fact]
    public void AHandBuiltFile_Parses_WithOffsetsRelativeToTheDataRegion()
    {
        // Tensors listed out of offset order, 'b' first in the data; metadata in the middle; trailing space padding.
        string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[8,16]},\"__metadata__\":{\"k\":\"v\",\"é\":\"ü\\n\"}," +
                        "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[16,20]}," +
                        "\"e\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[20,20]}}   ";
        var data = new byte[20];
        BinaryPrimitives.WriteDoubleLittleEndian(data, -2.5);
        Floats(1.25f, 3f, 7f).CopyTo(data, 8);
        SafeTensorsFile file = SafeTensorsFile.Parse(Build(header, data));

        Assert.Equal(["b", "a", "s", "e"], file.Tensors.Select(t => t.Name));
        Assert.Equal([-2.5], file.Find("b")!.ToDouble());
        Assert.Equal([1.25f, 3f], file.Find("a")!.ToSingle());
        Assert.Equal([2L, 1L], file.Find("a")!.Shape);
        Assert.Empty(file.Find("s")!.Shape);
        Assert.Equal(1, file.Find("s")!.ElementCount);
        Assert.Equal([7f], file.Find("s")!.ToSingle());
        Assert.Equal(0, file.Find("e")!.ElementCount);
        Assert.Equal(SafeTensorsDType.F16, file.Find("e")!.DType);
        Assert.Equal("v", file.Metadata!["k"]);
        Assert.Equal("ü\n", file.Metadata["é"]);
        Assert.Null(file.Find("missing"));
    }

    [Fact]
    public void NoMetadata_IsNull_AndUnknownTensorFieldsAreIgnoredAsTheReferenceDoes()
    {
        SafeTensorsFile file = SafeTensorsFile.Parse(Build("{\"x\":{\"extra\":[1,{\"y\":null}],\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}\n\t ", [1, 2, 3]));
        Assert.Null(file.Metadata);
        Assert.Equal(SafeTensorsDType.U8, file.Tensors[0].DType);
        Assert.Equal(new byte[] { 1, 2, 3 }, file.Tensors[0].Data.ToArray());
        Assert.Throws<InvalidDataException>(() => file.Tensors[0].ToSingle());
        Assert.Null(SafeTensorsFile.Parse(Build("{\"__metadata__\":null}", [])).Metadata);
        Assert.Empty(SafeTensorsFile.Parse(Build("{}", [])).Tensors);
    }

    public static TheoryData<string, byte[], string> BadHeaders() => new()
    {
        { " {}", [], "starts with byte 0x20" },
        { "", [], "header is empty" },
        { "[]", [], "starts with byte 0x5B" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", new byte[4], "not valid JSON" },
        { "{\"a\":1", [], "not valid JSON" },
        { "{} x", [], "not valid JSON" },
        { "{}{}", [], "not valid JSON" },
        { "{/*c*/}", [], "not valid JSON" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8], "tensor 'a' twice" },
        { "{\"__metadata__\":{},\"__metadata__\":{}}", [], "'__metadata__' twice" },
        { "{\"__metadata__\":{\"k\":1}}", [], "entry 'k' is a JSON number" },
        { "{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", [], "the key 'k' twice" },
        { "{\"__metadata__\":[]}", [], "must be an object of strings" },
        { "{\"a\":[]}", [], "tensor 'a' is a JSON array" },
        { "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4], "tensor 'a' has no dtype" },
        { "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4], "tensor 'a' has no shape" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4], "tensor 'a' has no data_offsets" },
        { "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4], "field 'dtype' twice" },
        { "{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4], "unknown dtype \"f32\"" },
        { "{\"a\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4], "dtype is a JSON number" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4], "shape entry 0 is -1" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", new byte[4], "shape entry 0 is 1.0" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", new byte[4], "shape entry 0 is 1e0" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", new byte[4], "shape entry 0 is a JSON string" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", new byte[4], "shape is a JSON number" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", new byte[4], "data_offsets has 3 entries" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", new byte[4], "end before they begin" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4], "tensor 'a': F32 [2] takes 8 bytes, but data_offsets [0, 4] span 4" },
        { "{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", new byte[2], "not a whole number of bytes" },
        { "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,2]}}", new byte[2], "more than 2^63 elements" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8], "'b' (data_offsets [4, 8]) overlaps tensor 'a' ([0, 8])" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4], "overlaps" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[12], "bytes [4, 8) of the data region belong to no tensor (between 'a' and 'b')" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8], "before the first tensor" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[6], "the last 2 bytes of the file belong to no tensor" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", new byte[8], "truncated: tensor 'a' ends at byte 12 of the data region, but the file holds only 8" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void ViolationsOfTheSpecification_AreInvalidData_NamingTheProblem(string header, byte[] data, string expected)
    {
        string message = Error(Build(header, data));
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.StartsWith("Not a valid safetensors file: ", message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeaderLengths_AreCheckedAgainstTheLimitAndTheFile_BeforeAnythingIsRead()
    {
        Assert.Contains("has 5 bytes", Error(new byte[5]), StringComparison.Ordinal);
        Assert.Contains("has 0 bytes", Error([]), StringComparison.Ordinal);
        Assert.Contains("exceeds the format's limit of 100000000", Error(Build("{}", [], declaredLength: 100_000_001)), StringComparison.Ordinal);
        Assert.Contains("exceeds the format's limit", Error(Build("{}", [], declaredLength: ulong.MaxValue)), StringComparison.Ordinal);
        Assert.Contains("header length 3 runs past the end of the file: only 2 bytes follow", Error(Build("{}", [], declaredLength: 3)), StringComparison.Ordinal);
        // A header length just under the limit on a small file: refused from the length alone.
        Assert.Contains("runs past the end", Error(Build("{}", [], declaredLength: 99_999_999)), StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidUtf8InTheHeader_IsNamedWithItsOffset()
    {
        byte[] f = Build("{\"ab\":{}}", []);
        f[8 + 3] = 0xFF;
        Assert.Contains("not valid UTF-8 (byte 3 of the header, file offset 11)", Error(f), StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------------------------------------ writing

    [Fact]
    public void TheWriter_LaysOutAsTheReferenceWriter_ByDescendingDTypeThenName_PaddedWithSpaces()
    {
        var tensors = new[]
        {
            SafeTensor.FromValues("b", [2], [1f, 2f]),
            SafeTensor.FromValues("c", [1, 1], [0.5f], SafeTensorsDType.F16),
            SafeTensor.FromValues("a", [1], [3.0], SafeTensorsDType.F64),
            SafeTensor.FromValues("B", [1], [4f]),
        };
        var meta = new Dictionary<string, string> { ["z"] = "1", ["q\"\\\u0001\t"] = "é" };
        byte[] bytes = new SafeTensorsFile(tensors, meta).ToArray();

        // serde_json compact form; escapes \" \\ \t and \u0001 (lowercase hex); F64 > F32 > F16; "B" < "b" bytewise.
        string json = "{\"__metadata__\":{\"q\\\"\\\\\\u0001\\t\":\"é\",\"z\":\"1\"}," +
                      "\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}," +
                      "\"B\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}," +
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}," +
                      "\"c\":{\"dtype\":\"F16\",\"shape\":[1,1],\"data_offsets\":[20,22]}}";
        int n = Encoding.UTF8.GetByteCount(json);
        int padded = (n + 7) / 8 * 8;
        var data = new byte[22];
        BinaryPrimitives.WriteDoubleLittleEndian(data, 3.0);
        Floats(4f, 1f, 2f).CopyTo(data, 8);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(20), 0x3800); // 0.5 in binary16
        byte[] expected = Build(json + new string(' ', padded - n), data);

        Assert.Equal(expected, bytes);
        Assert.Equal(0, (8 + padded) % 8);
    }

    [Fact]
    public void WriteThenRead_RoundTripsEveryDTypeBitwise()
    {
        var rng = new Random(5);
        var tensors = new List<SafeTensor>();
        foreach (SafeTensorsDType d in Enum.GetValues<SafeTensorsDType>())
        {
            int bits = d switch { SafeTensorsDType.F4 => 4, SafeTensorsDType.F6E2M3 or SafeTensorsDType.F6E3M2 => 6, _ => 0 };
            long count = bits == 0 ? 3 : 4;
            var raw = new byte[bits == 0 ? 3 * (d is SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.I16 or SafeTensorsDType.U16 ? 2
                : d is SafeTensorsDType.F32 or SafeTensorsDType.I32 or SafeTensorsDType.U32 ? 4
                : d is SafeTensorsDType.F64 or SafeTensorsDType.I64 or SafeTensorsDType.U64 or SafeTensorsDType.C64 ? 8 : 1) : 4 * bits / 8];
            rng.NextBytes(raw);
            tensors.Add(SafeTensor.FromBytes("t_" + d, d, [count], raw));
        }
        var file = new SafeTensorsFile(tensors, new Dictionary<string, string> { ["x"] = "y" });
        SafeTensorsFile back = SafeTensorsFile.Parse(file.ToArray());
        Assert.Equal(tensors.Count, back.Tensors.Count);
        foreach (SafeTensor t in tensors)
        {
            SafeTensor r = back.Find(t.Name)!;
            Assert.Equal(t.DType, r.DType);
            Assert.Equal(t.Shape, r.Shape);
            Assert.Equal(t.Data.ToArray(), r.Data.ToArray());
        }
        Assert.Equal(file.ToArray(), back.ToArray());
    }

    [Fact]
    public void Construction_RefusesMisuse()
    {
        Assert.Throws<ArgumentException>(() => SafeTensor.FromValues("__metadata__", [1], [1f]));
        Assert.Throws<ArgumentException>(() => SafeTensor.FromValues("a", [2], [1f]));
        Assert.Throws<ArgumentException>(() => SafeTensor.FromValues("a", [1], [1f], SafeTensorsDType.I32));
        Assert.Throws<ArgumentException>(() => SafeTensor.FromBytes("a", SafeTensorsDType.F32, [2], new byte[4]));
        Assert.Throws<ArgumentException>(() => SafeTensor.FromBytes("a", SafeTensorsDType.F32, [-1], new byte[4]));
        Assert.Throws<ArgumentException>(() => new SafeTensorsFile([SafeTensor.FromValues("a", [1], [1f]), SafeTensor.FromValues("a", [1], [2f])]));
    }

    [Fact]
    public void Save_IsAtomic_AndLoadReadsItBack_FromAPathAndANonSeekableStream()
    {
        using var dir = new PersistenceTestKit.TempDir();
        string path = dir.File("t.safetensors");
        var file = new SafeTensorsFile([SafeTensor.FromValues("w", [2, 2], [1f, 2f, 3f, 4f])]);
        file.Save(path);
        Assert.Equal([1f, 2f, 3f, 4f], SafeTensorsFile.Load(path).Find("w")!.ToSingle());
        Assert.Single(Directory.GetFiles(dir.Path));
        using var pipe = new NonSeekable(File.ReadAllBytes(path));
        Assert.Equal([1f, 2f, 3f, 4f], SafeTensorsFile.Read(pipe).Find("w")!.ToSingle());
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override int Read(Span<byte> buffer) => base.Read(buffer.Length > 3 ? buffer.Slice(0, 3) : buffer);
    }

    // ------------------------------------------------------------------------------------------------ robustness

    /// <summary>
    /// 3000 seeded corruptions of a valid file (bit flips, byte overwrites, truncations, extensions, random header
    /// lengths): each either parses or is an <see cref="InvalidDataException"/>, and never allocates more than
    /// 4 x the file size + 64 KiB (the whole-file buffer is the caller's here; the bound covers the parse).
    /// </summary>
    [Fact]
    public void RandomCorruptions_OnlyInvalidData_AndAllocationBoundedByTheFileSize()
    {
        var tensors = new[]
        {
            SafeTensor.FromValues("rnn.weight_ih_l0", [8, 3], new float[24]),
            SafeTensor.FromValues("rnn.bias_ih_l0", [8], new float[8], SafeTensorsDType.BF16),
            SafeTensor.FromValues("readout.weight", [1, 2], new double[2]),
        };
        byte[] valid = new SafeTensorsFile(tensors, new Dictionary<string, string> { ["format"] = "pt" }).ToArray();
        var rng = new Random(12345);
        int parsed = 0, refused = 0;
        for (int k = 0; k < 3000; k++)
        {
            byte[] f = (byte[])valid.Clone();
            switch (k % 5)
            {
                case 0: f[rng.Next(f.Length)] ^= (byte)(1 << rng.Next(8)); break;
                case 1: f[rng.Next(Math.Min(f.Length, 8 + 200))] = (byte)rng.Next(256); break;
                case 2: Array.Resize(ref f, rng.Next(f.Length)); break;
                case 3: Array.Resize(ref f, f.Length + rng.Next(1, 40)); break;
                default: BinaryPrimitives.WriteUInt64LittleEndian(f, (ulong)rng.NextInt64() >> rng.Next(64)); break;
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                SafeTensorsFile file = SafeTensorsFile.Parse(f);
                foreach (SafeTensor t in file.Tensors)
                    if (t.DType is SafeTensorsDType.F32 or SafeTensorsDType.F64 or SafeTensorsDType.F16 or SafeTensorsDType.BF16) t.ToDouble();
                parsed++;
            }
            catch (InvalidDataException)
            {
                refused++;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated <= 4L * f.Length + (64 << 10), $"corruption {k}: {allocated} bytes allocated for a {f.Length}-byte file");
        }
        Assert.True(refused > 1000, $"only {refused} of 3000 corruptions were refused");
        Assert.True(parsed > 0);
    }
}
