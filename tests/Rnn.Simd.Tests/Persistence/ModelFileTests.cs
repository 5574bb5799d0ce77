using System.Buffers.Binary;
using System.Security.Cryptography;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using static Rnn.Simd.Tests.Persistence.PersistenceTestKit;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>
/// The model file (issue #5, item 6): save/load round trips are bitwise (float and double, every cell, stacked),
/// every truncation and every single-bit flip of a small file is an <see cref="InvalidDataException"/>, foreign, empty,
/// future-version and inconsistent files are refused with a message saying what is wrong, unknown optional sections are
/// skipped, an interrupted save leaves the previous file byte-identical, and a golden file pins the format.
/// </summary>
public class ModelFileTests
{
    // ------------------------------------------------------------------------------------------------ round trips

    public static TheoryData<CellType, Activation, int[], bool> RoundTripCases()
    {
        var data = new TheoryData<CellType, Activation, int[], bool>();
        foreach (bool useDouble in new[] { false, true })
        {
            data.Add(CellType.Elman, Activation.Tanh, [5], useDouble);
            data.Add(CellType.Elman, Activation.Relu, [4, 7], useDouble);
            data.Add(CellType.Elman, Activation.Sigmoid, [3], useDouble);
            data.Add(CellType.Lstm, Activation.Tanh, [6], useDouble);
            data.Add(CellType.Lstm, Activation.Tanh, [5, 3, 9], useDouble);
            data.Add(CellType.Gru, Activation.Tanh, [7], useDouble);
            data.Add(CellType.Gru, Activation.Tanh, [2, 11], useDouble);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void SaveLoad_RoundTrip_IsBitwise(CellType cell, Activation activation, int[] hidden, bool useDouble)
    {
        var arch = new NetworkArchitecture(cell, 3, hidden, 2, activation);
        if (useDouble) RoundTrip(new RecurrentNetwork<double>(arch, seed: 11));
        else RoundTrip(new RecurrentNetwork<float>(arch, seed: 11));
    }

    private static void RoundTrip<T>(RecurrentNetwork<T> net) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        using var dir = new TempDir();
        string path = dir.File("model.rnnsimd");
        var info = new ForecastingInfo
        {
            Scaler = new StandardScaler([10, 20, 30], [1, 2, 3]),
            Options = new ForecastOptions(1, TargetMode.SingleStep, null, [0, 2]),
            ColumnNames = ["a", "b", "c"],
        };
        ModelFile.Save(path, net, info, new Dictionary<string, string> { ["z"] = "last", ["a"] = "first", ["nrmse"] = "0.287" });
        LoadedModel loaded = ModelFile.Load(path);

        Assert.Equal(typeof(T), loaded.ElementType);
        Assert.Equal(ModelFile.FormatVersion, loaded.FormatVersion);
        Assert.Equal(net.Architecture, loaded.Architecture);
        RecurrentNetwork<T> back = loaded.GetNetwork<T>();
        AssertBitwiseEqual<T>(net.Parameters, back.Parameters, "parameters");
        AssertBitwiseEqual<T>(Predict(net, 30, 5), Predict(back, 30, 5), "predictions");
        Assert.Equal(["a", "nrmse", "z"], loaded.Metadata.Keys);
        Assert.Equal("0.287", loaded.Metadata["nrmse"]);
        ForecastingInfo f = Assert.IsType<ForecastingInfo>(loaded.Forecasting);
        Assert.Equal([10.0, 20, 30], f.Scaler.Mean.ToArray());
        Assert.Equal([1.0, 2, 3], f.Scaler.Std.ToArray());
        Assert.Equal(1, f.Options.Horizon);
        Assert.Null(f.Options.InputColumns);
        Assert.Equal([0, 2], f.Options.TargetColumns);
        Assert.Equal(["a", "b", "c"], f.ColumnNames);
        // The other element type is refused, not converted silently.
        if (typeof(T) == typeof(float)) { Assert.Null(loaded.DoubleNetwork); Assert.Throws<InvalidOperationException>(() => loaded.GetNetwork<double>()); }
        else { Assert.Null(loaded.FloatNetwork); Assert.Throws<InvalidOperationException>(() => loaded.GetNetwork<float>()); }
    }

    [Fact]
    public void StreamOverloads_RoundTrip_AndReadExactlyTheDeclaredLength()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 2, [4], 1), seed: 3);
        var ms = new MemoryStream();
        ModelFile.Save(ms, net);
        long first = ms.Length;
        ModelFile.Save(ms, net, metadata: new Dictionary<string, string> { ["second"] = "yes" });
        ms.Position = 0;
        LoadedModel a = ModelFile.Load(ms);
        Assert.Equal(first, ms.Position);
        LoadedModel b = ModelFile.Load(new NonSeekableStream(ms));
        Assert.Empty(a.Metadata);
        Assert.Null(a.Forecasting);
        Assert.Equal("yes", b.Metadata["second"]);
        AssertBitwiseEqual<float>(net.Parameters, b.GetNetwork<float>().Parameters, "parameters");
    }

    [Fact]
    public void Save_RefusesNaNWeightsAndForecastingInfoThatDoesNotFit()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 2, [3], 1), seed: 1);
        using var dir = new TempDir();
        string path = dir.File("m.rnnsimd");
        net.Parameter("weight_hh_l0")[4] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => ModelFile.Save(path, net));
        Assert.Contains("weight_hh_l0[4]", e.Message);
        Assert.False(File.Exists(path));

        net.ResetParameters(1);
        var twoOutputs = new ForecastingInfo
        {
            Scaler = new StandardScaler([0, 0], [1, 1]), Options = new ForecastOptions(2, TargetMode.MultiOutput, null, [0]), ColumnNames = ["a", "b"],
        };
        e = Assert.Throws<ArgumentException>(() => ModelFile.Save(path, net, twoOutputs));
        Assert.Contains("2 outputs", e.Message);
        var wrongNames = new ForecastingInfo { Scaler = new StandardScaler([0, 0], [1, 1]), Options = new ForecastOptions(1, targetColumns: [0]), ColumnNames = ["a"] };
        Assert.Contains("1 column names", Assert.Throws<ArgumentException>(() => ModelFile.Save(path, net, wrongNames)).Message);
        Assert.Throws<ArgumentException>(() => ModelFile.Save(path, net, metadata: new Dictionary<string, string> { [""] = "x" }));
        Assert.Throws<ArgumentException>(() => ModelFile.Save(path, net, metadata: new Dictionary<string, string> { ["bad"] = "\ud800" }));
        Assert.False(File.Exists(path));
    }

    // ------------------------------------------------------------------------------------------------ damaged files

    [Fact]
    public void Truncation_AtEveryOffset_IsInvalidData()
    {
        byte[] bytes = SmallModelBytes(out _);
        Assert.InRange(bytes.Length, 200, 1000);
        for (int n = 0; n < bytes.Length; n++)
        {
            var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(new MemoryStream(bytes, 0, n)));
            string expected = n == 0 ? "empty file" : "truncated";
            Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"length {n}: '{e.Message}' does not say '{expected}'");
        }
        // Whole: loads (the loop above is not vacuous).
        Assert.NotNull(ModelFile.Load(new MemoryStream(bytes)).FloatNetwork);
    }

    [Fact]
    public void Truncation_OfAFileOnDisk_SaysWhereItEnds()
    {
        byte[] bytes = SmallModelBytes(out _);
        using var dir = new TempDir();
        string path = dir.File("cut.rnnsimd");
        File.WriteAllBytes(path, bytes.AsSpan(0, 100).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        Assert.Equal($"truncated: the header declares {bytes.Length} bytes, the data ends at 100.", e.Message);
        File.WriteAllBytes(path, [.. bytes, 0]);
        e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        Assert.Contains("1 unexpected bytes after the end", e.Message);
    }

    [Fact]
    public void SingleBitFlip_AtEveryBit_IsInvalidData()
    {
        byte[] bytes = SmallModelBytes(out _);
        var messages = new HashSet<string>();
        for (int bit = 0; bit < bytes.Length * 8; bit++)
        {
            byte[] copy = (byte[])bytes.Clone();
            copy[bit >> 3] ^= (byte)(1 << (bit & 7));
            var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(new MemoryStream(copy)));
            messages.Add(e.Message.Split(' ')[0]);
        }
        // Flips in the magic, the version, the reserved field, the length and the body each have their own message.
        Assert.Contains("checksum", messages);
        Assert.Contains("not", messages);
        Assert.Contains("format", messages);
    }

    [Fact]
    public void ForeignEmptyAndMissingFiles()
    {
        using var dir = new TempDir();
        string png = dir.File("picture.png");
        File.WriteAllBytes(png, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(png));
        Assert.StartsWith("not an Rnn.Simd model file (magic 89504E470D0A1A0A", e.Message);

        string text = dir.File("data.csv");
        File.WriteAllText(text, "time,load\n0,1\n");
        Assert.StartsWith("not an Rnn.Simd model file", Assert.Throws<InvalidDataException>(() => ModelFile.Load(text)).Message);

        string empty = dir.File("empty.rnnsimd");
        File.WriteAllBytes(empty, []);
        Assert.StartsWith("empty file", Assert.Throws<InvalidDataException>(() => ModelFile.Load(empty)).Message);

        Assert.Throws<FileNotFoundException>(() => ModelFile.Load(dir.File("absent.rnnsimd")));
    }

    [Fact]
    public void FutureVersion_IsRefusedWithBothVersions()
    {
        byte[] bytes = SmallModelBytes(out _);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), 9);
        Reseal(bytes);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(new MemoryStream(bytes)));
        Assert.StartsWith("format version 9 is newer than this library supports (1)", e.Message);
    }

    [Fact]
    public void ACheckpoint_IsNotAModel()
    {
        byte[] bytes = SmallModelBytes(out _);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(10), 2);
        Reseal(bytes);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(new MemoryStream(bytes)));
        Assert.Contains("training checkpoint, not a model file", e.Message);
        var e2 = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(new MemoryStream(SmallModelBytes(out _))));
        Assert.Contains("model file, not a training checkpoint", e2.Message);
    }

    // ------------------------------------------------------------------------------------------------ inconsistent files with a valid checksum

    private static readonly NetworkArchitecture Small = new(CellType.Elman, 2, [3], 1);

    private static byte[] Craft(params (SectionId Id, bool Required, PayloadWriter Payload)[] sections)
    {
        var w = new ContainerWriter(FileKind.Model);
        foreach (var s in sections) w.Add(s.Id, s.Required, s.Payload);
        return w.ToArray();
    }

    private static PayloadWriter Params(int count, float value = 0.5f, int at = -1, float special = 0)
    {
        var v = new float[count];
        Array.Fill(v, value);
        if (at >= 0) v[at] = special;
        var p = new PayloadWriter();
        p.Values<float>(v);
        return p;
    }

    private static PayloadWriter Raw(Action<PayloadWriter> write)
    {
        var p = new PayloadWriter();
        write(p);
        return p;
    }

    private static string LoadError(byte[] bytes) => Assert.Throws<InvalidDataException>(() => ModelFile.Load(new MemoryStream(bytes))).Message;

    [Fact]
    public void ParameterCountNotMatchingTheArchitecture_IsRefused()
    {
        int count = new ParameterLayout(Small).TotalLength;
        string m = LoadError(Craft((SectionId.Architecture, true, Sections.WriteArchitecture(Small)), (SectionId.Parameters, true, Params(count + 1))));
        Assert.Equal($"section 'parameters': the parameter vector holds {count + 1} values, the architecture needs {count}.", m);
    }

    [Fact]
    public void NaNOrInfiniteWeight_IsRefused()
    {
        int count = new ParameterLayout(Small).TotalLength;
        string m = LoadError(Craft((SectionId.Architecture, true, Sections.WriteArchitecture(Small)), (SectionId.Parameters, true, Params(count, at: 7, special: float.NaN))));
        Assert.StartsWith("section 'parameters': the parameter vector[7] is NaN", m);
        m = LoadError(Craft((SectionId.Architecture, true, Sections.WriteArchitecture(Small)), (SectionId.Parameters, true, Params(count, at: 0, special: float.NegativeInfinity))));
        Assert.StartsWith($"section 'parameters': the parameter vector[0] is {float.NegativeInfinity} (offset ", m);
    }

    [Fact]
    public void AbsurdSizes_AreRefusedBeforeAnythingIsAllocated()
    {
        PayloadWriter Arch(int input, int layers, int hidden, int output) => Raw(p =>
        {
            p.U32(1); p.U32(0); p.I32(input); p.I32(output); p.I32(layers);
            for (int l = 0; l < Math.Min(layers, 4); l++) p.I32(hidden);
        });
        Assert.Equal("section 'architecture': the hidden size of layer 0 is 1073741824 at offset 56, outside [1, 16777216].",
            LoadError(Craft((SectionId.Architecture, true, Arch(2, 1, 1 << 30, 1)), (SectionId.Parameters, true, Params(4)))));
        Assert.Contains("the input size is -5", LoadError(Craft((SectionId.Architecture, true, Arch(-5, 1, 3, 1)), (SectionId.Parameters, true, Params(4)))));
        Assert.Contains("the number of layers is 100000", LoadError(Craft((SectionId.Architecture, true, Arch(2, 100000, 3, 1)), (SectionId.Parameters, true, Params(4)))));
        // Within the per-dimension bounds but 4·H·(I + H) far beyond an array: refused from the 64-bit count.
        PayloadWriter huge = Raw(p => { p.U32(1); p.U32(0); p.I32(1 << 24); p.I32(1); p.I32(1); p.I32(1 << 24); });
        Assert.Contains("more than an array can hold", LoadError(Craft((SectionId.Architecture, true, huge), (SectionId.Parameters, true, Params(4)))));
        // A parameter count the file cannot hold: refused from the bytes left, not allocated.
        var wide = new NetworkArchitecture(CellType.Elman, 1, [4096], 1);
        int wideCount = new ParameterLayout(wide).TotalLength;
        PayloadWriter lying = Raw(p => { p.U32(1); p.U64((ulong)wideCount); p.F64(0); });
        Assert.StartsWith($"truncated: expected {wideCount} values of 4 bytes (the parameter vector) in section 'parameters' at offset ",
            LoadError(Craft((SectionId.Architecture, true, Sections.WriteArchitecture(wide)), (SectionId.Parameters, true, lying))));
        PayloadWriter names = Raw(p => p.U32(uint.MaxValue));
        string m = LoadError(Craft((SectionId.Architecture, true, Sections.WriteArchitecture(Small)), (SectionId.Parameters, true, Params(new ParameterLayout(Small).TotalLength)), (SectionId.Metadata, false, names)));
        Assert.StartsWith("truncated: section 'metadata' declares 4294967295 entries", m);
    }

    [Fact]
    public void UnknownSections_OptionalAreSkipped_RequiredAreRefused_MissingRequiredIsAnError()
    {
        int count = new ParameterLayout(Small).TotalLength;
        var arch = (SectionId.Architecture, true, Sections.WriteArchitecture(Small));
        var pars = (SectionId.Parameters, true, Params(count));
        var future = Raw(p => p.Str("a section from the future"));
        LoadedModel ok = ModelFile.Load(new MemoryStream(Craft(arch, ((SectionId)200, false, future), pars)));
        Assert.Equal(Small, ok.Architecture);
        Assert.Equal(0.5f, ok.GetNetwork<float>().Parameters[count - 1]);

        Assert.StartsWith("section id 200 at offset", LoadError(Craft(arch, ((SectionId)200, true, future), pars)));
        Assert.Equal("the required section 'parameters' is missing from this model file.", LoadError(Craft(arch)));
        Assert.Equal("the required section 'architecture' is missing from this model file.", LoadError(Craft(pars)));
        Assert.StartsWith("section 'parameters' appears twice", LoadError(Craft(arch, pars, pars)));
        var longer = Raw(p => { p.Values<float>(new float[count]); p.U8(0); });
        Assert.StartsWith("section 'parameters' has 1 unexpected bytes", LoadError(Craft(arch, (SectionId.Parameters, true, longer))));
        var badScaler = Raw(p => { p.U32(1); p.Str("x"); p.F64(0); p.F64(-1); p.I32(1); p.I32(0); p.U32(0); p.U32(0); });
        Assert.Equal("section 'forecasting': the standard deviation of column 0 is -1, not positive.", LoadError(Craft(arch, pars, (SectionId.Forecasting, false, badScaler))));
    }

    // ------------------------------------------------------------------------------------------------ atomic save

    /// <summary>Passes writes through until <c>limit</c> bytes, then throws, as a full disk or a killed process would stop a write.</summary>
    private sealed class FailingStream(Stream inner, long limit) : Stream
    {
        private long _written;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, limit - _written);
            inner.Write(buffer.Slice(0, n));
            _written += n;
            if (n < buffer.Length) throw new IOException($"simulated failure after {_written} bytes");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    public void InterruptedSave_LeavesThePreviousFileByteIdentical_AndNoTempFile(int failAfter)
    {
        using var dir = new TempDir();
        string path = dir.File("model.rnnsimd");
        var old = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 2, [4], 1), seed: 1);
        ModelFile.Save(path, old);
        byte[] before = File.ReadAllBytes(path);

        var newer = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 2, [4], 1), seed: 2);
        var e = Assert.Throws<IOException>(() => ModelFile.Save(path, newer, null, null, s => new FailingStream(s, failAfter)));
        Assert.StartsWith("simulated failure", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));

        // Without a previous file: nothing at all is left behind.
        string fresh = dir.File("fresh.rnnsimd");
        Assert.Throws<IOException>(() => ModelFile.Save(fresh, newer, null, null, s => new FailingStream(s, failAfter)));
        Assert.Equal([path], Directory.GetFiles(dir.Path));

        // And a save that completes replaces the file.
        ModelFile.Save(path, newer);
        AssertBitwiseEqual<float>(newer.Parameters, ModelFile.Load(path).GetNetwork<float>().Parameters, "replaced");
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    // ------------------------------------------------------------------------------------------------ format stability

    /// <summary>
    /// <see cref="PersistenceTestKit.SmallModelBytes"/> as written by format version 1. If this test fails, the writer's
    /// output changed: either that is a mistake, or it is a deliberate format change, which needs a new version number,
    /// a reader for version 1 files, and a new golden file next to this one.
    /// </summary>
    private const string GoldenV1 =
        "Uk5OU0lNRAABAAEAAAAAAIABAAAAAAAAAQABABgAAAAAAAAAAAAAAAAAAAACAAAAAQAAAAEAAAADAAAAAgABAHAAAAAAAAAAAQAAABkAAAAAAAAA4wX2vmoYD76/4lQ+0BT7Pv5gET/GeJ8+jKCBPmXtzj66hpo+TxvFPRa8Vz5igXe+s/exPk8qU76hqnk+qFbfPncPCj6Bvs8+DGZ1Pni9dT4vtPC+jMO9vnTilr0+P/E9KPFbvgMAAABdAAAAAAAAAAIAAAAJAAAAbG9hZCAoTVcpDAAAAHRlbXDDqXJhdHVyZQAAAAAAAPg/AAAAAAAAAsAAAAAAAADgPwAAAAAAAAhAAwAAAAAAAAACAAAAAAAAAAEAAAABAAAAAQAAAAQAAAAzAAAAAAAAAAIAAAAEAAAAZGF0YQkAAAB1bml0LXRlc3QEAAAAdG9vbA4AAABybm4tc2ltZCAwLjEuMJaB61A23Uokd0So15GRD4LxIjBvRt2AiNnFWqfZblYQ";

    [Fact]
    public void GoldenFile_WriterOutputIsUnchanged_AndTheReaderReadsIt()
    {
        byte[] bytes = SmallModelBytes(out RecurrentNetwork<float> net);
        byte[] golden = Convert.FromBase64String(GoldenV1);
        Assert.True(golden.AsSpan().SequenceEqual(bytes),
            $"The model file format changed (SHA-256 {Convert.ToHexString(SHA256.HashData(bytes))}, golden {Convert.ToHexString(SHA256.HashData(golden))}). New bytes: {Convert.ToBase64String(bytes)}");
        LoadedModel loaded = ModelFile.Load(new MemoryStream(golden));
        AssertBitwiseEqual<float>(net.Parameters, loaded.GetNetwork<float>().Parameters, "golden parameters");
        Assert.Equal("unit-test", loaded.Metadata["data"]);
        Assert.Equal(["load (MW)", "température"], loaded.Forecasting!.ColumnNames);
        Assert.Equal(3, loaded.Forecasting.Options.Horizon);
    }

    /// <summary>Recomputes the SHA-256 trailer after a deliberate edit, so that the check under test is the one after the checksum.</summary>
    private static void Reseal(byte[] bytes) => SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32), bytes.AsSpan(bytes.Length - 32));

    private sealed class NonSeekableStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
