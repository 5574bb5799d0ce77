using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using static Rnn.Simd.Tests.Persistence.PersistenceTestKit;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>
/// Seed ensembles in the model file (section 6, `members`): M members round-trip bitwise, a list of one writes the
/// single-network bytes, bad ensembles are refused on save naming the member, and every truncation, bit flip and
/// inconsistent `members` section of a small M = 2 file is an <see cref="InvalidDataException"/>.
/// </summary>
public sealed class EnsembleFileTests
{
    private static readonly NetworkArchitecture Small = new(CellType.Elman, 2, [3], 1);

    private static RecurrentNetwork<T>[] Members<T>(NetworkArchitecture arch, int m) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var members = new RecurrentNetwork<T>[m];
        for (int k = 0; k < m; k++) members[k] = new RecurrentNetwork<T>(arch, seed: (ulong)(100 + k));
        return members;
    }

    /// <summary>A small fixed M = 2 file: the golden single network's architecture, forecasting info and metadata, seeds 42 and 43.</summary>
    private static byte[] SmallEnsembleBytes(out RecurrentNetwork<float>[] members)
    {
        members = [new RecurrentNetwork<float>(Small, seed: 42), new RecurrentNetwork<float>(Small, seed: 43)];
        return ModelFile.ToBytes<float>(members, TwoColumnInfo(), new Dictionary<string, string> { ["tool"] = "rnn-simd 0.1.0", ["data"] = "unit-test" });
    }

    // ------------------------------------------------------------------------------------------------ round trips

    [Theory]
    [InlineData(CellType.Lstm, false)]
    [InlineData(CellType.Lstm, true)]
    [InlineData(CellType.Gru, false)]
    [InlineData(CellType.Elman, true)]
    public void ThreeMembers_RoundTripBitwise(CellType cell, bool useDouble)
    {
        var arch = new NetworkArchitecture(cell, 3, [5, 4], 2);
        if (useDouble) RoundTrip(Members<double>(arch, 3));
        else RoundTrip(Members<float>(arch, 3));
    }

    private static void RoundTrip<T>(RecurrentNetwork<T>[] members) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        using var dir = new TempDir();
        string path = dir.File("ensemble.rnnsimd");
        ModelFile.Save<T>(path, members, metadata: new Dictionary<string, string> { ["members"] = "3" });
        LoadedModel loaded = ModelFile.Load(path);

        Assert.Equal(3, loaded.MemberCount);
        Assert.Equal(typeof(T), loaded.ElementType);
        Assert.Equal(members[0].Architecture, loaded.Architecture);
        IReadOnlyList<RecurrentNetwork<T>> back = loaded.GetMembers<T>();
        Assert.Equal(3, back.Count);
        Assert.Same(back[0], loaded.GetNetwork<T>());
        for (int k = 0; k < 3; k++)
        {
            AssertBitwiseEqual<T>(members[k].Parameters, back[k].Parameters, $"parameters of member {k}");
            AssertBitwiseEqual<T>(Predict(members[k], 20, 9), Predict(back[k], 20, 9), $"predictions of member {k}");
        }
        // The members differ (different seeds), so the loop above checks three distinct vectors.
        Assert.False(back[0].Parameters.SequenceEqual(back[1].Parameters));
        Assert.False(back[1].Parameters.SequenceEqual(back[2].Parameters));
        Assert.Equal("3", loaded.Metadata["members"]);
        if (typeof(T) == typeof(float)) Assert.Throws<InvalidOperationException>(() => loaded.GetMembers<double>());
        else Assert.Throws<InvalidOperationException>(() => loaded.GetMembers<float>());
    }

    [Fact]
    public void AListOfOne_WritesTheSingleNetworkBytes_AndASingleFileHasOneMember()
    {
        byte[] single = SmallModelBytes(out RecurrentNetwork<float> net);
        byte[] listOfOne = ModelFile.ToBytes<float>([net], TwoColumnInfo(), new Dictionary<string, string> { ["tool"] = "rnn-simd 0.1.0", ["data"] = "unit-test" });
        Assert.Equal(single, listOfOne);

        var ms = new MemoryStream();
        ModelFile.Save<float>(ms, [net], TwoColumnInfo());
        ms.Position = 0;
        LoadedModel loaded = ModelFile.Load(ms);
        Assert.Equal(1, loaded.MemberCount);
        RecurrentNetwork<float> only = Assert.Single(loaded.GetMembers<float>());
        Assert.Same(loaded.GetNetwork<float>(), only);
    }

    [Fact]
    public void StreamOverload_RoundTrips_AndTheLoadedListIsReadOnly()
    {
        RecurrentNetwork<float>[] members = Members<float>(Small, 2);
        var ms = new MemoryStream();
        ModelFile.Save<float>(ms, members);
        ms.Position = 0;
        LoadedModel loaded = ModelFile.Load(ms);
        Assert.Equal(ms.Length, ms.Position);
        IReadOnlyList<RecurrentNetwork<float>> back = loaded.GetMembers<float>();
        AssertBitwiseEqual<float>(members[1].Parameters, back[1].Parameters, "member 1");
        Assert.False(back is RecurrentNetwork<float>[], "the members must not be handed out as a mutable array");
    }

    [Fact]
    public void Save_RefusesBadEnsembles_NamingTheMember()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.rnnsimd");
        Assert.Contains("no members", Assert.Throws<ArgumentException>(() => ModelFile.Save<float>(path, Array.Empty<RecurrentNetwork<float>>())).Message);
        Assert.Throws<ArgumentNullException>(() => ModelFile.Save(path, (IReadOnlyList<RecurrentNetwork<float>>)null!));

        RecurrentNetwork<float>[] members = Members<float>(Small, 3);
        Assert.Contains("Member 1 of the ensemble is null", Assert.Throws<ArgumentException>(() => ModelFile.Save<float>(path, [members[0], null!, members[2]])).Message);

        var wider = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 2, [4], 1), seed: 1);
        string m = Assert.Throws<ArgumentException>(() => ModelFile.Save<float>(path, [members[0], members[1], wider])).Message;
        Assert.Contains("Member 2 has architecture Elman(Tanh) I=2 H=[4] O=1, member 0 has Elman(Tanh) I=2 H=[3] O=1", m);
        var lstm = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 2, [3], 1), seed: 1);
        Assert.Contains("Member 1 has architecture Lstm", Assert.Throws<ArgumentException>(() => ModelFile.Save<float>(path, [members[0], lstm])).Message);

        members[2].Parameter("weight_hh_l0")[5] = float.PositiveInfinity;
        m = Assert.Throws<ArgumentException>(() => ModelFile.Save<float>(path, members)).Message;
        Assert.Contains("parameters of member 2", m);
        Assert.Contains("weight_hh_l0[5]", m);
        members[0].Parameter("readout.bias")[0] = float.NaN;
        Assert.Contains("parameters of member 0", Assert.Throws<ArgumentException>(() => ModelFile.Save<float>(path, members)).Message);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    // ------------------------------------------------------------------------------------------------ damaged files

    [Fact]
    public void Truncation_AtEveryOffset_OfATwoMemberFile_IsInvalidData()
    {
        byte[] bytes = SmallEnsembleBytes(out _);
        Assert.InRange(bytes.Length, 300, 1000);
        for (int n = 0; n < bytes.Length; n++)
        {
            var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(new MemoryStream(bytes, 0, n)));
            string expected = n == 0 ? "empty file" : "truncated";
            Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"length {n}: '{e.Message}' does not say '{expected}'");
        }
        Assert.Equal(2, ModelFile.Load(new MemoryStream(bytes)).MemberCount);
    }

    [Fact]
    public void SingleBitFlip_AtEveryBit_OfATwoMemberFile_IsInvalidData()
    {
        byte[] bytes = SmallEnsembleBytes(out _);
        var messages = new HashSet<string>();
        for (int bit = 0; bit < bytes.Length * 8; bit++)
        {
            byte[] copy = (byte[])bytes.Clone();
            copy[bit >> 3] ^= (byte)(1 << (bit & 7));
            var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(new MemoryStream(copy)));
            messages.Add(e.Message.Split(' ')[0]);
        }
        Assert.Contains("checksum", messages);
        Assert.Contains("not", messages);
        Assert.Contains("format", messages);
    }

    private static int ParamCount => new ParameterLayout(Small).TotalLength;

    private static byte[] Craft(PayloadWriter members, uint elementCode = 1)
    {
        var w = new ContainerWriter(FileKind.Model);
        w.Add(SectionId.Architecture, true, Sections.WriteArchitecture(Small));
        var p = new PayloadWriter();
        if (elementCode == 1) p.Values<float>(Filled<float>(ParamCount, 0.25f));
        else p.Values<double>(Filled<double>(ParamCount, 0.25));
        w.Add(SectionId.Parameters, true, p);
        w.Add(SectionId.Members, true, members);
        return w.ToArray();
    }

    private static T[] Filled<T>(int n, T value)
    {
        var v = new T[n];
        Array.Fill(v, value);
        return v;
    }

    private static PayloadWriter MembersPayload(uint count, params float[][] members)
    {
        var p = new PayloadWriter();
        p.U32(count);
        foreach (float[] m in members) p.Values<float>(m);
        return p;
    }

    private static string LoadError(byte[] bytes) => Assert.Throws<InvalidDataException>(() => ModelFile.Load(new MemoryStream(bytes))).Message;

    [Fact]
    public void CorruptMembersSection_IsInvalidData_SayingWhat()
    {
        float[] ok = Filled(ParamCount, -0.5f);
        // The crafted file loads when the section is right (the cases below differ from it in one thing each).
        LoadedModel good = ModelFile.Load(new MemoryStream(Craft(MembersPayload(2, ok, ok))));
        Assert.Equal(3, good.MemberCount);
        Assert.Equal(-0.5f, good.GetMembers<float>()[2].Parameters[0]);
        Assert.Equal(0.25f, good.GetMembers<float>()[0].Parameters[0]);

        Assert.Equal("section 'members': the member count is 0 (an ensemble section holds at least member 1; a single network has no 'members' section).",
            LoadError(Craft(MembersPayload(0))));
        Assert.StartsWith("truncated: section 'members' declares 4294967295 members at offset ", LoadError(Craft(MembersPayload(uint.MaxValue, ok))));
        Assert.StartsWith("truncated: section 'members' declares 2 members at offset ", LoadError(Craft(MembersPayload(2, ok))));
        Assert.Equal($"section 'members': the parameter vector of member 1 holds {ParamCount + 1} values, the architecture needs {ParamCount}.",
            LoadError(Craft(MembersPayload(1, Filled(ParamCount + 1, 0f)))));
        // As many bytes as two members need (so the count passes), but member 1 one value short and member 2 one long.
        Assert.Equal($"section 'members': the parameter vector of member 1 holds {ParamCount - 1} values, the architecture needs {ParamCount}.",
            LoadError(Craft(MembersPayload(2, Filled(ParamCount - 1, 0f), Filled(ParamCount + 1, 0f)))));
        float[] nan = Filled(ParamCount, 0f);
        nan[6] = float.NaN;
        Assert.StartsWith("section 'members': the parameter vector of member 2[6] is NaN", LoadError(Craft(MembersPayload(2, ok, nan))));
        // A float member in a file of double parameters (2P floats: the bytes of one double member, so the count passes).
        Assert.Equal("section 'members': the parameter vector of member 1 is float32 but the file's parameters are float64.",
            LoadError(Craft(MembersPayload(1, Filled(2 * ParamCount, 0f)), elementCode: 2)));
        Assert.StartsWith("truncated: section 'members' declares 1 members", LoadError(Craft(MembersPayload(1, ok), elementCode: 2)));
        var trailing = MembersPayload(1, ok);
        trailing.U8(7);
        Assert.StartsWith("section 'members' has 1 unexpected bytes", LoadError(Craft(trailing)));
    }

    // ------------------------------------------------------------------------------------------------ documented layout

    [Fact]
    public void TheDocumentedLayout_ReadsTheMembersSection()
    {
        // An independent reading of README-format.md: sections in id order, `members` (id 6) flagged required, u32
        // K = M - 1, then K `values` blocks (u32 element code, u64 count, the values).
        byte[] f = SmallEnsembleBytes(out RecurrentNetwork<float>[] members);
        ReadOnlySpan<byte> s = f;
        Assert.Equal(SHA256.HashData(s.Slice(0, f.Length - 32)), s.Slice(f.Length - 32).ToArray());
        var ids = new List<int>();
        var flags = new List<int>();
        byte[]? payload = null;
        for (int at = 24; at < f.Length - 32;)
        {
            int id = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(at));
            int len = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(at + 4)));
            ids.Add(id);
            flags.Add(BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(at + 2)));
            if (id == 6) payload = s.Slice(at + 12, len).ToArray();
            at += 12 + len;
        }
        Assert.Equal([1, 2, 3, 4, 6], ids);
        Assert.Equal([1, 1, 0, 0, 1], flags);
        Assert.NotNull(payload);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(payload));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(4)));
        int count = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(8)));
        Assert.Equal(members[1].Parameters.Length, count);
        Assert.Equal(16 + 4 * count, payload.Length);
        for (int i = 0; i < count; i++) Assert.Equal(members[1].Parameters[i], BinaryPrimitives.ReadSingleLittleEndian(payload.AsSpan(16 + 4 * i)));
        // Everything before section 6 is the single-network file of member 0 but for the total length in the header.
        byte[] single = SmallModelBytes(out _);
        Assert.True(f.AsSpan(24, single.Length - 24 - 32).SequenceEqual(single.AsSpan(24, single.Length - 24 - 32)));
    }
}
