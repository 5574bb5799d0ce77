using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Rnn.Simd.Network;
using static Rnn.Simd.Tests.Persistence.PersistenceTestKit;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>
/// Reads a model file with an independent parser written from the tables of src/Rnn.Simd/Persistence/README-format.md
/// (it calls nothing of the library's reader), so the document and the writer cannot drift apart.
/// </summary>
public class FormatDocumentTests
{
    [Fact]
    public void TheDocumentedLayout_ReadsTheWrittenFile()
    {
        byte[] f = SmallModelBytes(out RecurrentNetwork<float> net);
        ReadOnlySpan<byte> s = f;

        // Header.
        Assert.Equal("RNNSIMD\0"u8.ToArray(), s.Slice(0, 8).ToArray());
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(8)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(10)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(12)));
        Assert.Equal((ulong)f.Length, BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(16)));
        Assert.Equal(SHA256.HashData(s.Slice(0, f.Length - 32)), s.Slice(f.Length - 32).ToArray());

        // Sections: id, flags, length, payload, in id order.
        var sections = new List<(int Id, int Flags, byte[] Payload)>();
        for (int at = 24; at < f.Length - 32;)
        {
            int id = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(at)), flags = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(at + 2));
            int len = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(at + 4)));
            sections.Add((id, flags, s.Slice(at + 12, len).ToArray()));
            at += 12 + len;
        }
        Assert.Equal([1, 2, 3, 4], sections.Select(x => x.Id));
        Assert.Equal([1, 1, 0, 0], sections.Select(x => x.Flags));

        // 1 architecture: cell, activation, I, O, L, hidden sizes.
        int[] arch = Ints(sections[0].Payload);
        Assert.Equal([0, 0, 2, 1, 1, 3], arch);

        // 2 parameters: element code 1 (float32), u64 count, values.
        byte[] p = sections[1].Payload;
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(p));
        ulong count = BinaryPrimitives.ReadUInt64LittleEndian(p.AsSpan(4));
        Assert.Equal((ulong)net.Parameters.Length, count);
        for (int i = 0; i < (int)count; i++) Assert.Equal(net.Parameters[i], BinaryPrimitives.ReadSingleLittleEndian(p.AsSpan(12 + 4 * i)));
        Assert.Equal(12 + 4 * (int)count, p.Length);

        // 3 forecasting: C, C names, C means, C stds, horizon, mode, input columns, target columns.
        var r = new Cursor(sections[2].Payload);
        Assert.Equal(2u, r.U32());
        Assert.Equal("load (MW)", r.Str());
        Assert.Equal("température", r.Str());
        Assert.Equal([1.5, -2.25, 0.5, 3.0], new[] { r.F64(), r.F64(), r.F64(), r.F64() });
        Assert.Equal([3u, 0u], new[] { r.U32(), r.U32() });
        Assert.Equal([2u, 0u, 1u], new[] { r.U32(), r.U32(), r.U32() });
        Assert.Equal([1u, 1u], new[] { r.U32(), r.U32() });
        Assert.True(r.AtEnd);

        // 4 metadata: N, then key/value strings in ordinal key order.
        r = new Cursor(sections[3].Payload);
        Assert.Equal(2u, r.U32());
        Assert.Equal(["data", "unit-test", "tool", "rnn-simd 0.1.0"], new[] { r.Str(), r.Str(), r.Str(), r.Str() });
        Assert.True(r.AtEnd);
    }

    private static int[] Ints(byte[] b)
    {
        var v = new int[b.Length / 4];
        for (int i = 0; i < v.Length; i++) v[i] = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(4 * i));
        return v;
    }

    private sealed class Cursor(byte[] data)
    {
        private int _at;
        public bool AtEnd => _at == data.Length;
        public uint U32() { uint v = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(_at)); _at += 4; return v; }
        public double F64() { double v = BinaryPrimitives.ReadDoubleLittleEndian(data.AsSpan(_at)); _at += 8; return v; }
        public string Str() { int n = (int)U32(); string v = Encoding.UTF8.GetString(data, _at, n); _at += n; return v; }
    }
}
