using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace Rnn.Simd.Persistence;

/// <summary>What a container file holds (the kind tag of its header).</summary>
internal enum FileKind : ushort
{
    /// <summary>A trained model (<see cref="ModelFile"/>).</summary>
    Model = 1,

    /// <summary>A training checkpoint (<see cref="TrainingCheckpoint"/>).</summary>
    Checkpoint = 2,
}

/// <summary>
/// Section ids of the container. The table in README-format.md is the reference; keep both in step. A new section is
/// one more id here, one writer and one reader: readers of older versions skip it unless it is flagged required.
/// </summary>
internal enum SectionId : ushort
{
    Architecture = 1,
    Parameters = 2,
    Forecasting = 3,
    Metadata = 4,
    Features = 5,
    Members = 6,
    CellOptions = 7,
    ReadoutOptions = 8,
    // 9..15 are free for model sections.
    BestParameters = 16,
    Optimizer = 17,
    Schedule = 18,
    DropoutRng = 19,
    TrainerLoop = 20,
    Fingerprint = 21,
}

/// <summary>
/// The container shared by model files and checkpoints: a 24-byte header (magic "RNNSIMD\0", format version, kind,
/// reserved, total length), tagged sections (id, flags, length, payload), and a SHA-256 trailer over every byte before
/// it. Every number is little-endian through <see cref="BinaryPrimitives"/>; nothing is a raw struct dump.
/// </summary>
/// <remarks>
/// SHA-256 rather than a hand-written CRC-64: it is in the base library (no code of ours to get wrong), it is
/// hardware-accelerated where the CPU has SHA extensions, and a model file is read once, so its cost (about 1-2 ms
/// per megabyte) does not matter. It detects every bit flip, burst and truncation that a CRC would, and it cannot be
/// fooled by an accidental linear combination of errors. 32 bytes of trailer are nothing next to the weights.
/// </remarks>
internal static class Container
{
    /// <summary>"RNNSIMD\0".</summary>
    public static ReadOnlySpan<byte> Magic => "RNNSIMD\0"u8;

    /// <summary>The format version this library writes and the newest it reads.</summary>
    public const ushort FormatVersion = 1;

    /// <summary>magic (8) + version (2) + kind (2) + reserved (4) + total length (8).</summary>
    public const int HeaderSize = 24;

    /// <summary>id (2) + flags (2) + payload length (8).</summary>
    public const int SectionHeaderSize = 12;

    /// <summary>SHA-256.</summary>
    public const int ChecksumSize = 32;

    /// <summary>Flag bit 0 of a section: a reader that does not know the id must refuse the file.</summary>
    public const ushort RequiredFlag = 1;

    /// <summary>Files above this size are refused before anything is allocated (the largest byte array .NET can hold).</summary>
    public static long MaxFileLength => Array.MaxLength;

    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The name of a section id for messages ("parameters", or "section 42" for an unknown id).</summary>
    public static string Name(ushort id) => id switch
    {
        (ushort)SectionId.Architecture => "architecture",
        (ushort)SectionId.Parameters => "parameters",
        (ushort)SectionId.Forecasting => "forecasting",
        (ushort)SectionId.Metadata => "metadata",
        (ushort)SectionId.Features => "features",
        (ushort)SectionId.Members => "members",
        (ushort)SectionId.CellOptions => "cell_options",
        (ushort)SectionId.BestParameters => "best_parameters",
        (ushort)SectionId.Optimizer => "optimizer",
        (ushort)SectionId.Schedule => "schedule",
        (ushort)SectionId.DropoutRng => "dropout_rng",
        (ushort)SectionId.TrainerLoop => "trainer_loop",
        (ushort)SectionId.Fingerprint => "fingerprint",
        _ => "section " + id.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The name of a kind for messages.</summary>
    public static string Name(FileKind kind) => kind switch
    {
        FileKind.Model => "model file",
        FileKind.Checkpoint => "training checkpoint",
        _ => "file of kind " + ((ushort)kind).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Sections known to this version (an unknown id is skipped unless flagged required).</summary>
    public static bool IsKnown(ushort id) => Enum.IsDefined((SectionId)id);

    /// <summary>
    /// Reads one container from <paramref name="stream"/>: the header first, then exactly the length it declares. Never
    /// allocates more than the stream holds: a seekable stream is measured first; a non-seekable one is read in chunks.
    /// </summary>
    /// <param name="stream">Positioned at the first byte of the container.</param>
    /// <param name="requireEnd">True for a whole file: bytes after the declared end are an error.</param>
    /// <exception cref="InvalidDataException">Foreign, truncated, future-version or oversized data.</exception>
    public static byte[] ReadAll(Stream stream, bool requireEnd)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        int got = ReadAtMost(stream, header);
        CheckHeader(header.Slice(0, got), out ulong declared);
        long total = (long)declared;
        byte[] data;
        if (stream.CanSeek)
        {
            long available = stream.Length - stream.Position + HeaderSize;
            if (available < total)
                throw Invalid($"truncated: the header declares {total} bytes, the data ends at {available}.");
            if (requireEnd && available > total)
                throw Invalid($"{available - total} unexpected bytes after the end declared by the header ({total} bytes).");
            data = new byte[total];
            header.CopyTo(data);
            int read = ReadAtMost(stream, data.AsSpan(HeaderSize));
            if (read != total - HeaderSize) throw Invalid($"truncated: the header declares {total} bytes, the data ends at {HeaderSize + read}.");
        }
        else
        {
            // Grow with what arrives, never from the declared length alone.
            var buffer = new ArrayBufferWriter<byte>(4096);
            buffer.Write(header);
            while (buffer.WrittenCount < total)
            {
                int want = (int)Math.Min(total - buffer.WrittenCount, 1 << 16);
                int n = stream.Read(buffer.GetSpan(want).Slice(0, want));
                if (n == 0) throw Invalid($"truncated: the header declares {total} bytes, the data ends at {buffer.WrittenCount}.");
                buffer.Advance(n);
            }
            if (requireEnd)
            {
                Span<byte> one = stackalloc byte[1];
                if (stream.Read(one) != 0) throw Invalid($"unexpected bytes after the end declared by the header ({total} bytes).");
            }
            data = buffer.WrittenSpan.ToArray();
        }
        return data;
    }

    private static int ReadAtMost(Stream stream, Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = stream.Read(destination.Slice(total));
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>Validates magic, version, reserved field and declared length of the (possibly short) header.</summary>
    private static void CheckHeader(ReadOnlySpan<byte> header, out ulong declaredLength)
    {
        if (header.Length == 0) throw Invalid("empty file: not an Rnn.Simd model file (0 bytes).");
        int m = Math.Min(header.Length, Magic.Length);
        if (!header.Slice(0, m).SequenceEqual(Magic.Slice(0, m)))
            throw Invalid($"not an Rnn.Simd model file (magic {Convert.ToHexString(header.Slice(0, m))}, expected {Convert.ToHexString(Magic)} \"RNNSIMD\\0\").");
        if (header.Length < HeaderSize)
            throw Invalid($"truncated: the header needs {HeaderSize} bytes, the data ends at {header.Length}.");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(8));
        if (version > FormatVersion)
            throw Invalid($"format version {version} is newer than this library supports ({FormatVersion}); update Rnn.Simd (or the file is corrupted).");
        if (version == 0) throw Invalid("format version 0 is invalid (corrupted header).");
        uint reserved = BinaryPrimitives.ReadUInt32LittleEndian(header.Slice(12));
        if (reserved != 0) throw Invalid($"the reserved header field is 0x{reserved:X8}, expected 0 (corrupted header).");
        declaredLength = BinaryPrimitives.ReadUInt64LittleEndian(header.Slice(16));
        if (declaredLength < HeaderSize + ChecksumSize)
            throw Invalid($"the header declares {declaredLength} bytes, less than the {HeaderSize + ChecksumSize} of an empty container (corrupted header).");
        if (declaredLength > (ulong)MaxFileLength)
            throw Invalid($"the header declares {declaredLength} bytes, more than the {MaxFileLength} this library reads (corrupted header).");
    }

    internal static InvalidDataException Invalid(string message) => new(message);
}

/// <summary>Builds a container in memory: header, sections in the order added, SHA-256 trailer.</summary>
internal sealed class ContainerWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);

    public ContainerWriter(FileKind kind)
    {
        Span<byte> h = _buffer.GetSpan(Container.HeaderSize).Slice(0, Container.HeaderSize);
        h.Clear();
        Container.Magic.CopyTo(h);
        BinaryPrimitives.WriteUInt16LittleEndian(h.Slice(8), Container.FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(h.Slice(10), (ushort)kind);
        // h[12..16] reserved (0); h[16..24] total length, patched by ToArray.
        _buffer.Advance(Container.HeaderSize);
    }

    /// <summary>Appends one section.</summary>
    public void Add(SectionId id, bool required, PayloadWriter payload)
    {
        Span<byte> h = _buffer.GetSpan(Container.SectionHeaderSize).Slice(0, Container.SectionHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h, (ushort)id);
        BinaryPrimitives.WriteUInt16LittleEndian(h.Slice(2), required ? Container.RequiredFlag : (ushort)0);
        BinaryPrimitives.WriteUInt64LittleEndian(h.Slice(4), (ulong)payload.Length);
        _buffer.Advance(Container.SectionHeaderSize);
        _buffer.Write(payload.Written);
    }

    /// <summary>The finished container: total length patched into the header, SHA-256 of everything before appended.</summary>
    public byte[] ToArray()
    {
        var data = new byte[_buffer.WrittenCount + Container.ChecksumSize];
        _buffer.WrittenSpan.CopyTo(data);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(16), (ulong)data.Length);
        SHA256.HashData(data.AsSpan(0, _buffer.WrittenCount), data.AsSpan(_buffer.WrittenCount));
        return data;
    }
}

/// <summary>A growable little-endian payload.</summary>
internal sealed class PayloadWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    private Span<byte> Take(int n)
    {
        Span<byte> s = _buffer.GetSpan(n).Slice(0, n);
        _buffer.Advance(n);
        return s;
    }

    public void U8(byte v) => Take(1)[0] = v;
    public void U16(ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(Take(2), v);
    public void I32(int v) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), v);
    public void U32(uint v) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), v);
    public void I64(long v) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), v);
    public void U64(ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), v);
    public void F64(double v) => BinaryPrimitives.WriteDoubleLittleEndian(Take(8), v);
    public void Bytes(ReadOnlySpan<byte> v) => v.CopyTo(Take(v.Length));

    /// <summary>u32 byte count + UTF-8 (strict: a lone surrogate throws <see cref="ArgumentException"/>).</summary>
    public void Str(string v)
    {
        int n = Container.StrictUtf8.GetByteCount(v);
        U32((uint)n);
        Container.StrictUtf8.GetBytes(v, Take(n));
    }

    /// <summary>Element code (1 = float32, 2 = float64), u64 count, then the values.</summary>
    public void Values<T>(ReadOnlySpan<T> values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        U32(ElementCode<T>());
        U64((ulong)values.Length);
        if (typeof(T) == typeof(float))
        {
            Span<byte> d = Take(4 * values.Length);
            for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(d.Slice(4 * i), float.CreateTruncating(values[i]));
        }
        else
        {
            Span<byte> d = Take(8 * values.Length);
            for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(d.Slice(8 * i), double.CreateTruncating(values[i]));
        }
    }

    /// <summary>1 for float, 2 for double.</summary>
    public static uint ElementCode<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? 1u
        : typeof(T) == typeof(double) ? 2u
        : throw new NotSupportedException($"Element type {typeof(T).Name} cannot be saved: only float and double.");
}

/// <summary>The parsed layout of a container: kind, version and the byte range of each section.</summary>
internal sealed class ContainerReader
{
    private readonly Dictionary<ushort, (int Offset, int Length)> _sections = [];

    private ContainerReader(byte[] data) => Data = data;

    public byte[] Data { get; }
    public FileKind Kind { get; private set; }
    public int Version { get; private set; }

    /// <summary>Verifies the checksum and walks the sections (<see cref="Container.ReadAll"/> checked the header).</summary>
    /// <exception cref="InvalidDataException">Checksum mismatch, overlapping or overrunning sections, a duplicate or an unknown required section, the wrong kind.</exception>
    public static ContainerReader Parse(byte[] data, FileKind expected)
    {
        var r = new ContainerReader(data);
        int body = data.Length - Container.ChecksumSize;
        Span<byte> hash = stackalloc byte[Container.ChecksumSize];
        SHA256.HashData(data.AsSpan(0, body), hash);
        if (!hash.SequenceEqual(data.AsSpan(body)))
            throw Container.Invalid($"checksum mismatch: the SHA-256 of bytes 0..{body} is {Convert.ToHexString(hash)}, the trailer says {Convert.ToHexString(data.AsSpan(body))} (the file is corrupted).");
        r.Version = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(8));
        r.Kind = (FileKind)BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(10));
        if (r.Kind != expected)
        {
            string hint = expected == FileKind.Model && r.Kind == FileKind.Checkpoint ? " (load it with TrainingCheckpoint.Load or resume training from it)" : "";
            throw Container.Invalid($"this is a {Container.Name(r.Kind)}, not a {Container.Name(expected)}{hint}.");
        }
        int at = Container.HeaderSize;
        while (at < body)
        {
            if (body - at < Container.SectionHeaderSize)
                throw Container.Invalid($"truncated: expected a {Container.SectionHeaderSize}-byte section header at offset {at}, the sections end at {body}.");
            ushort id = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(at));
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(at + 2));
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(at + 4));
            int payload = at + Container.SectionHeaderSize;
            if (length > (ulong)(body - payload))
                throw Container.Invalid($"truncated: expected {length} bytes of section '{Container.Name(id)}' at offset {payload}, the sections end at {body}.");
            if (Container.IsKnown(id))
            {
                if (!r._sections.TryAdd(id, (payload, (int)length)))
                    throw Container.Invalid($"section '{Container.Name(id)}' appears twice (second at offset {at}).");
            }
            else if ((flags & Container.RequiredFlag) != 0)
            {
                throw Container.Invalid($"section id {id} at offset {at} is required but unknown to this library (format version {Container.FormatVersion}); it was written by a newer Rnn.Simd.");
            }
            at = payload + (int)length;
        }
        return r;
    }

    public bool Has(SectionId id) => _sections.ContainsKey((ushort)id);

    /// <summary>A reader over a section that must be present.</summary>
    public SectionReader Open(SectionId id)
    {
        if (!_sections.TryGetValue((ushort)id, out var s))
            throw Container.Invalid($"the required section '{Container.Name((ushort)id)}' is missing from this {Container.Name(Kind)}.");
        return new SectionReader(Data, s.Offset, s.Length, Container.Name((ushort)id));
    }
}

/// <summary>Reads one section's payload with bounds checks that name the section and the offset.</summary>
internal ref struct SectionReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _end;
    private int _at;

    public SectionReader(byte[] data, int offset, int length, string name)
    {
        _data = data;
        _at = offset;
        _end = offset + length;
        Name = name;
    }

    public string Name { get; }

    public int Remaining => _end - _at;

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n > _end - _at) throw Container.Invalid($"truncated: expected {n} bytes of section '{Name}' at offset {_at}, the section ends at {_end}.");
        ReadOnlySpan<byte> s = _data.Slice(_at, n);
        _at += n;
        return s;
    }

    public byte U8() => Take(1)[0];
    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public double F64() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
    public ReadOnlySpan<byte> Bytes(int n) => Take(n);

    /// <summary>An i32 in [min, max], else an error naming <paramref name="what"/>.</summary>
    public int I32(string what, int min, int max)
    {
        int at = _at;
        int v = I32();
        if (v < min || v > max) throw Fail($"{what} is {v} at offset {at}, outside [{min}, {max}]");
        return v;
    }

    /// <summary>A finite double, else an error naming <paramref name="what"/>.</summary>
    public double Finite(string what)
    {
        int at = _at;
        double v = F64();
        if (!double.IsFinite(v)) throw Fail($"{what} is {v} at offset {at}");
        return v;
    }

    /// <summary>A u32 count of items of at least <paramref name="minItemBytes"/> bytes each, checked against the bytes left.</summary>
    public int Count(string what, long minItemBytes)
    {
        int at = _at;
        uint n = U32();
        // n · size > remaining, without overflow for item sizes up to a whole parameter vector of doubles.
        ulong size = (ulong)Math.Max(minItemBytes, 1);
        if (n > (ulong)Remaining / size)
            throw Container.Invalid($"truncated: section '{Name}' declares {n} {what} at offset {at} ({(UInt128)n * (ulong)Math.Max(minItemBytes, 0)} bytes at least), only {Remaining} bytes remain in it.");
        return (int)n;
    }

    public string Str(string what)
    {
        int at = _at;
        int n = Count($"bytes of {what}", 1);
        try
        {
            return Container.StrictUtf8.GetString(Take(n));
        }
        catch (DecoderFallbackException)
        {
            throw Fail($"{what} at offset {at} is not valid UTF-8");
        }
    }

    /// <summary>Reads a value vector written by <see cref="PayloadWriter.Values{T}"/> whose element code must be <paramref name="elementCode"/>.</summary>
    /// <param name="what">Name for messages.</param>
    /// <param name="elementCode">1 (float) or 2 (double); 0 accepts either and reports it.</param>
    /// <param name="expectedCount">Required count (-1: any that fits).</param>
    /// <param name="finite">Rejects NaN and infinities.</param>
    public Array Values(string what, ref uint elementCode, long expectedCount, bool finite = true)
    {
        int at = _at;
        uint code = U32();
        if (code is not (1 or 2)) throw Fail($"{what} has element code {code} at offset {at}; expected 1 (float32) or 2 (float64)");
        if (elementCode != 0 && code != elementCode)
            throw Fail($"{what} is {(code == 1 ? "float32" : "float64")} but the file's parameters are {(elementCode == 1 ? "float32" : "float64")}");
        elementCode = code;
        int size = code == 1 ? 4 : 8;
        ulong count = U64();
        if (expectedCount >= 0 && count != (ulong)expectedCount)
            throw Fail($"{what} holds {count} values, the architecture needs {expectedCount}");
        if (count > (ulong)Remaining / (ulong)size)
            throw Container.Invalid($"truncated: expected {count} values of {size} bytes ({what}) in section '{Name}' at offset {_at}, the section ends at {_end}.");
        int n = (int)count;
        ReadOnlySpan<byte> src = Take(n * size);
        if (code == 1)
        {
            var v = new float[n];
            for (int i = 0; i < n; i++)
            {
                v[i] = BinaryPrimitives.ReadSingleLittleEndian(src.Slice(4 * i));
                if (finite && !float.IsFinite(v[i])) throw Fail($"{what}[{i}] is {v[i]} (offset {_at - src.Length + 4 * i})");
            }
            return v;
        }
        else
        {
            var v = new double[n];
            for (int i = 0; i < n; i++)
            {
                v[i] = BinaryPrimitives.ReadDoubleLittleEndian(src.Slice(8 * i));
                if (finite && !double.IsFinite(v[i])) throw Fail($"{what}[{i}] is {v[i]} (offset {_at - src.Length + 8 * i})");
            }
            return v;
        }
    }

    /// <summary>Every byte of the section must have been read.</summary>
    public readonly void End()
    {
        if (_at != _end) throw Container.Invalid($"section '{Name}' has {_end - _at} unexpected bytes at offset {_at} after its last field.");
    }

    public readonly InvalidDataException Fail(string problem) => Container.Invalid($"section '{Name}': {problem}.");
}

/// <summary>Writes a file so that a failure never leaves a half-written file at the destination.</summary>
/// <remarks>
/// The sequence, and what each step gives on each system:
/// <list type="number">
/// <item>Write the bytes to a new temporary file <c>.NAME.GUID.tmp</c> in the destination's directory, opened with
/// <see cref="FileShare.None"/> (on Linux and macOS .NET takes an exclusive <c>flock</c> on it; on Windows the share
/// mode excludes every other opener), so a concurrent cleaner can tell that it is live.</item>
/// <item>Flush it to the device (<see cref="FileStream.Flush(bool)"/> with true): <c>fsync</c> on Linux,
/// <c>fcntl(F_FULLFSYNC)</c> on macOS (through the drive's cache; plain <c>fsync</c> where the file system refuses
/// it), <c>FlushFileBuffers</c> on Windows. The new bytes are durable before any name points at them.</item>
/// <item>Rename it over the destination (<see cref="File.Move(string, string, bool)"/>: <c>rename(2)</c> on Linux and
/// macOS, atomic within a directory; <c>MoveFileEx</c> with replace on Windows, atomic on NTFS). A reader sees the old
/// file or the new one, never a mixture; a process killed at any point leaves one of the two at the path.</item>
/// <item>Flush the directory, so that the rename itself survives a power cut: <c>open</c> + <c>fsync</c> of the
/// directory through libc on Linux, macOS and the other Unix systems (where the directory entry is not durable until
/// then). Windows has no directory flush: NTFS records the rename in its metadata journal, which it commits on its
/// own schedule, so after a power cut shortly after a save the path may still show the previous file (never a torn
/// one).</item>
/// <item>Delete stale temporary files of the same destination that a killed save left behind: a file named exactly
/// <c>.NAME.</c> + 32 hex digits + <c>.tmp</c> that can be opened exclusively (no live writer holds it) is removed.
/// A save in progress in another process keeps its lock until it closes the file just before its rename; a cleaner
/// that runs in that instant removes the closed file, and that save then fails with an <see cref="IOException"/>
/// (its destination untouched): two processes saving to the same path at the same moment is the only way to meet it.</item>
/// </list>
/// </remarks>
internal static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="path"/> through the steps of the remarks. On any failure
    /// before the rename the temporary file is deleted and the previous file, if any, is untouched.
    /// </summary>
    /// <param name="path">Destination.</param>
    /// <param name="bytes">The whole file.</param>
    /// <param name="wrap">Test hook: wraps the temporary file's stream (e.g. to fail mid-way); null in production.</param>
    public static void Write(string path, byte[] bytes, Func<Stream, Stream>? wrap = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no directory.", nameof(path));
        string name = Path.GetFileName(full);
        string temp = Path.Combine(directory, TempName(name, Guid.NewGuid()));
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.None))
            {
                Stream s = wrap is null ? file : wrap(file);
                s.Write(bytes);
                s.Flush();
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        DirectorySync.Flush(directory);
        DeleteStaleTemporaryFiles(directory, name);
    }

    /// <summary>".NAME.GUID.tmp": hidden on Unix, next to the destination (a rename never crosses a file system).</summary>
    internal static string TempName(string name, Guid id) => $".{name}.{id:N}.tmp";

    /// <summary>True for exactly the names <see cref="TempName"/> gives for <paramref name="name"/>.</summary>
    internal static bool IsTempName(string candidate, string name)
    {
        // "." + name + "." + 32 lower-case hex digits + ".tmp"
        int guidAt = name.Length + 2;
        if (candidate.Length != guidAt + 32 + 4) return false;
        if (candidate[0] != '.' || candidate[guidAt - 1] != '.' || !candidate.AsSpan(1, name.Length).SequenceEqual(name)) return false;
        if (!candidate.AsSpan(guidAt + 32).SequenceEqual(".tmp")) return false;
        foreach (char c in candidate.AsSpan(guidAt, 32))
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        return true;
    }

    /// <summary>Best effort: removes the temporary files of <paramref name="name"/> that no live writer holds (see the remarks).</summary>
    internal static void DeleteStaleTemporaryFiles(string directory, string name)
    {
        // '*' and '?' are wildcards to the enumeration (and cannot be escaped): match loosely, then exactly.
        string pattern = name.AsSpan().IndexOfAny('*', '?') >= 0 ? ".*.tmp" : "." + name + ".*.tmp";
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(directory, pattern);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        try
        {
            foreach (string candidate in candidates)
            {
                if (!IsTempName(Path.GetFileName(candidate), name)) continue;
                try
                {
                    // Exclusive open: fails while a writer holds the file. DeleteOnClose removes it as the handle closes
                    // (unlink on Unix, FILE_FLAG_DELETE_ON_CLOSE on Windows), under our own lock.
                    using var stale = new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Live (locked), already gone, or not ours to delete: leave it.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The directory changed or became unreadable while being listed: the save itself has succeeded.
        }
    }
}

/// <summary>
/// <c>fsync</c> of a directory through libc (Linux, macOS, the BSDs): .NET cannot open a directory as a file, so
/// <c>open</c>, <c>fsync</c> and <c>close</c> are bound directly ("libc" resolves to glibc's or musl's libc on Linux
/// and to libSystem on macOS, as in the runtime's own interop). Nothing on Windows, which has no such operation (see
/// <see cref="AtomicFile"/>).
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0, Eintr = 4, Eio = 5;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "open", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    /// <summary>
    /// Flushes the directory entries of <paramref name="directory"/> to the device (after a rename in it). Best effort
    /// where the directory cannot be opened, libc cannot be bound, or the file system does not flush directories
    /// (EINVAL, ENOTSUP): the rename has happened either way. An I/O error of the device is reported.
    /// </summary>
    /// <returns>True when the directory was flushed.</returns>
    /// <exception cref="IOException">fsync reported EIO: the device failed to write the directory.</exception>
    public static bool Flush(string directory)
    {
        if (OperatingSystem.IsWindows() || OperatingSystem.IsBrowser() || OperatingSystem.IsWasi()) return false;
        int fd;
        try
        {
            do fd = Open(directory, ReadOnly);
            while (fd < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Eintr);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        if (fd < 0) return false;
        try
        {
            int result;
            do result = FSync(fd);
            while (result < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Eintr);
            if (result == 0) return true;
            if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Eio)
                throw new IOException($"The directory '{directory}' could not be flushed to its device (fsync: EIO); the file was renamed into it, but the rename may not survive a power cut.");
            return false;
        }
        finally
        {
            Close(fd);
        }
    }
}
