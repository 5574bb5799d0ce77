using System.Buffers.Binary;
using System.Text;

namespace GoldenGenerator;

/// <summary>
/// TorchSharp 0.107.0's libLibTorchSharp.so was linked against GCC 13+ and declares a
/// version need on GLIBCXX_3.4.32, used only by the relocation-less marker symbol
/// std::ios_base_library_init() that GCC 13's &lt;iostream&gt; emits. Debian 12 ships
/// libstdc++ 3.4.30, so dlopen fails with "version `GLIBCXX_3.4.32' not found".
/// This marks that version need as VER_FLG_WEAK in the copy of the library inside the
/// build output (never the NuGet cache), which makes glibc skip the check. Nothing else
/// in the library needs a newer libstdc++. Harmless on systems that already have 3.4.32.
/// </summary>
static class NativeFix
{
    const uint SHT_GNU_verneed = 0x6ffffffe;
    const ushort VER_FLG_WEAK = 0x2;
    static readonly string[] WeakenVersions = { "GLIBCXX_3.4.31", "GLIBCXX_3.4.32", "GLIBCXX_3.4.33" };

    public static void PatchTorchSharpNative(TextWriter log)
    {
        if (!OperatingSystem.IsLinux()) return;
        var baseDir = AppContext.BaseDirectory;
        foreach (var path in new[] { Path.Combine(baseDir, "libLibTorchSharp.so"), Path.Combine(baseDir, "cpu", "libLibTorchSharp.so") })
        {
            if (!File.Exists(path)) continue;
            int n = Patch(path);
            if (n > 0) log.WriteLine($"# NativeFix: weakened {n} libstdc++ version need(s) in {Path.GetRelativePath(baseDir, path)}");
        }
    }

    static int Patch(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
            return 0; // not ELF64 little-endian
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(0x28));
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(0x3A));
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(0x3C));
        int changed = 0;
        for (int s = 0; s < shnum; s++)
        {
            int sh = checked((int)shoff + s * shentsize);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(sh + 4));
            if (type != SHT_GNU_verneed) continue;
            long off = (long)BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(sh + 0x18));
            uint link = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(sh + 0x28));
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(sh + 0x2C));
            int strSh = checked((int)shoff + (int)link * shentsize);
            long strOff = (long)BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(strSh + 0x18));
            long vn = off;
            for (uint i = 0; i < count; i++)
            {
                ushort cnt = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)vn + 2));
                uint aux = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)vn + 8));
                uint next = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)vn + 12));
                long va = vn + aux;
                for (int j = 0; j < cnt; j++)
                {
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)va + 4));
                    uint name = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)va + 8));
                    uint vnext = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)va + 12));
                    string nm = ReadCString(b, strOff + name);
                    if (Array.IndexOf(WeakenVersions, nm) >= 0 && (flags & VER_FLG_WEAK) == 0)
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan((int)va + 4), (ushort)(flags | VER_FLG_WEAK));
                        changed++;
                    }
                    if (vnext == 0) break;
                    va += vnext;
                }
                if (next == 0) break;
                vn += next;
            }
        }
        if (changed > 0)
        {
            string tmp = path + ".tmp";
            File.WriteAllBytes(tmp, b);
            File.Move(tmp, path, overwrite: true);
        }
        return changed;
    }

    static string ReadCString(byte[] b, long off)
    {
        int end = (int)off;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)off, end - (int)off);
    }
}
