using System.Buffers;
using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Rnn.Simd.Persistence;

/// <summary>
/// A safetensors file (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// (an object mapping each tensor name to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c>, plus an optional
/// <c>"__metadata__"</c> map of strings to strings), then the data region, which the tensors' byte ranges (relative to
/// its start) cover exactly, without holes or overlaps. Immutable; reads and writes as the reference implementation
/// does (layout in src/Rnn.Simd/Persistence/README-format.md, section "safetensors").
/// </summary>
/// <remarks>
/// The reader checks every length against the bytes actually present before it allocates: a file of S bytes costs at
/// most S bytes of buffer (tensors are views into it, not copies) plus a header parse proportional to N ≤ S. Every
/// problem is an <see cref="InvalidDataException"/> whose message names the tensor, the offsets or the byte position.
/// </remarks>
public sealed class SafeTensorsFile
{
    /// <summary>The header key of the metadata map.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The largest header the format allows (the reference's MAX_HEADER_SIZE, 100,000,000 bytes).</summary>
    public const int MaxHeaderLength = 100_000_000;

    /// <summary>The reference writer pads the header with spaces to a multiple of this (so that data starts 8-byte aligned).</summary>
    public const int HeaderAlignment = 8;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly SafeTensor[] _tensors;
    private readonly Dictionary<string, int> _byName;

    /// <summary>Creates a file from tensors (any order; names unique) and an optional metadata map.</summary>
    /// <param name="tensors">The tensors; <see cref="ToArray"/> lays them out as the reference writer does.</param>
    /// <param name="metadata">String pairs for <c>__metadata__</c>, or null for none. Values not null.</param>
    /// <exception cref="ArgumentException">A tensor is null or a name repeats, or a metadata value is null.</exception>
    public SafeTensorsFile(IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = new List<SafeTensor>();
        _byName = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (SafeTensor? t in tensors)
        {
            if (t is null) throw new ArgumentException("A tensor is null.", nameof(tensors));
            if (!_byName.TryAdd(t.Name, list.Count)) throw new ArgumentException($"Two tensors are named '{t.Name}'.", nameof(tensors));
            list.Add(t);
        }
        _tensors = list.ToArray();
        if (metadata is not null)
        {
            var copy = new Dictionary<string, string>(metadata.Count, StringComparer.Ordinal);
            foreach (KeyValuePair<string, string> kv in metadata)
            {
                ArgumentNullException.ThrowIfNull(kv.Key, nameof(metadata));
                copy[kv.Key] = kv.Value ?? throw new ArgumentException($"The metadata value of '{kv.Key}' is null.", nameof(metadata));
            }
            Metadata = new ReadOnlyDictionary<string, string>(copy);
        }
    }

    private SafeTensorsFile(SafeTensor[] tensors, Dictionary<string, int> byName, IReadOnlyDictionary<string, string>? metadata, int headerLength)
    {
        _tensors = tensors;
        _byName = byName;
        Metadata = metadata;
        HeaderLength = headerLength;
    }

    /// <summary>The tensors: in data-offset order when read from a file, in the given order when constructed.</summary>
    public IReadOnlyList<SafeTensor> Tensors => _tensors;

    /// <summary>The <c>__metadata__</c> map, or null when the header has none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; }

    /// <summary>N, the header's byte length, when read from a file (0 for a constructed file).</summary>
    public int HeaderLength { get; }

    /// <summary>The tensor of that name, or null.</summary>
    public SafeTensor? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out int i) ? _tensors[i] : null;
    }

    // ------------------------------------------------------------------------------------------------ reading

    /// <summary>Reads a whole file.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a valid safetensors file (the message says what and where).</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static SafeTensorsFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream);
    }

    /// <summary>Reads a file from the current position of <paramref name="stream"/> to its end (the stream is not closed).</summary>
    /// <remarks>A seekable stream is measured first; a non-seekable one is read in chunks, so the buffer never outgrows what arrived.</remarks>
    /// <exception cref="InvalidDataException">The bytes are not a valid safetensors file, or more than 2 GiB.</exception>
    public static SafeTensorsFile Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] data;
        if (stream.CanSeek)
        {
            long length = stream.Length - stream.Position;
            if (length > Array.MaxLength) throw Invalid($"the file has {length} bytes, more than the {Array.MaxLength} this reader handles");
            data = new byte[length];
            int read = 0;
            while (read < data.Length)
            {
                int n = stream.Read(data, read, data.Length - read);
                if (n == 0) break;
                read += n;
            }
            if (read != data.Length) Array.Resize(ref data, read);
        }
        else
        {
            var buffer = new ArrayBufferWriter<byte>(1 << 12);
            while (true)
            {
                if (buffer.WrittenCount >= Array.MaxLength - (1 << 16)) throw Invalid($"the stream holds more than the {Array.MaxLength} bytes this reader handles");
                int n = stream.Read(buffer.GetSpan(1 << 16));
                if (n == 0) break;
                buffer.Advance(n);
            }
            data = buffer.WrittenSpan.ToArray();
        }
        return Parse(data);
    }

    /// <summary>Parses a whole file held in memory. The tensors' <see cref="SafeTensor.Data"/> are views into <paramref name="file"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a valid safetensors file (the message says what and where).</exception>
    public static SafeTensorsFile Parse(ReadOnlyMemory<byte> file)
    {
        ReadOnlySpan<byte> f = file.Span;
        if (f.Length < 8)
            throw Invalid($"the file has {f.Length} bytes; a safetensors file starts with an 8-byte header length");
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(f);
        if (declared > MaxHeaderLength)
            throw Invalid($"the header length {declared} exceeds the format's limit of {MaxHeaderLength} bytes (not a safetensors file, or a corrupted one)");
        if (declared > (ulong)(f.Length - 8))
            throw Invalid($"the header length {declared} runs past the end of the file: only {f.Length - 8} bytes follow the 8-byte length (truncated, or not a safetensors file)");
        int n = (int)declared;
        ReadOnlySpan<byte> header = f.Slice(8, n);
        if (n == 0 || header[0] != (byte)'{')
            throw Invalid(n == 0 ? "the header is empty; it must be a JSON object" : $"the header starts with byte 0x{header[0]:X2}, not '{{': it must be a JSON object");
        int bad = FirstInvalidUtf8(header);
        if (bad >= 0) throw Invalid($"the header is not valid UTF-8 (byte {bad} of the header, file offset {8 + bad})");

        var entries = new List<Entry>();
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        Dictionary<string, string>? metadata = null;
        bool sawMetadata = false;
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
        try
        {
            reader.Read(); // the '{' checked above
            while (true)
            {
                if (!reader.Read()) throw Invalid("the header's JSON object is not closed");
                if (reader.TokenType == JsonTokenType.EndObject) break;
                string name = reader.GetString()!;
                if (name == MetadataKey)
                {
                    if (sawMetadata) throw Invalid($"the header has the key '{MetadataKey}' twice (duplicate keys are not allowed)");
                    sawMetadata = true;
                    reader.Read();
                    metadata = ReadMetadata(ref reader);
                    continue;
                }
                if (byName.ContainsKey(name)) throw Invalid($"the header has the tensor '{name}' twice (duplicate keys are not allowed)");
                reader.Read();
                byName.Add(name, entries.Count);
                entries.Add(ReadEntry(ref reader, name));
            }
            // Only whitespace may follow the object (the reference writer pads with spaces); Read throws on anything else.
            if (reader.Read()) throw Invalid($"unexpected JSON after the header object at header byte {reader.TokenStartIndex}");
        }
        catch (JsonException e)
        {
            throw Invalid($"the header is not valid JSON: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            throw Invalid($"the header is not valid JSON: {e.Message}");
        }

        // The tensors' byte ranges, in offset order, must tile [0, data length) exactly (the reference's validate()).
        var order = new int[entries.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) =>
        {
            int c = entries[a].Begin.CompareTo(entries[b].Begin);
            return c != 0 ? c : entries[a].End.CompareTo(entries[b].End);
        });
        ulong dataLength = (ulong)(f.Length - 8 - n);
        ulong covered = 0;
        string? previous = null;
        ulong previousBegin = 0;
        foreach (int i in order)
        {
            Entry e = entries[i];
            if (e.End < e.Begin) throw Invalid($"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] end before they begin");
            string? problem = SafeTensor.ByteSize(e.DType, e.Shape, out _, out ulong bytes);
            if (problem is not null) throw Invalid($"tensor '{e.Name}': {problem}");
            if (e.End - e.Begin != bytes)
                throw Invalid($"tensor '{e.Name}': {SafeTensorsDTypes.Name(e.DType)} {SafeTensor.FormatShape(e.Shape)} takes {bytes} bytes, but data_offsets [{e.Begin}, {e.End}] span {e.End - e.Begin}");
            if (e.Begin < covered)
                throw Invalid($"tensor '{e.Name}' (data_offsets [{e.Begin}, {e.End}]) overlaps tensor '{previous}' ([{previousBegin}, {covered}])");
            if (e.Begin > covered)
                throw Invalid($"bytes [{covered}, {e.Begin}) of the data region belong to no tensor ({(previous is null ? "before the first tensor" : $"between '{previous}' and '{e.Name}'")}); the tensors must cover it without holes");
            covered = e.End;
            previous = e.Name;
            previousBegin = e.Begin;
        }
        if (covered > dataLength)
            throw Invalid($"truncated: tensor '{previous}' ends at byte {covered} of the data region, but the file holds only {dataLength} bytes after the {n}-byte header");
        if (covered < dataLength)
            throw Invalid($"the last {dataLength - covered} bytes of the file belong to no tensor (the tensors end at byte {covered} of the {dataLength}-byte data region); the tensors must cover it exactly");

        var tensors = new SafeTensor[order.Length];
        var index = new Dictionary<string, int>(order.Length, StringComparer.Ordinal);
        int start = 8 + n;
        for (int k = 0; k < order.Length; k++)
        {
            Entry e = entries[order[k]];
            SafeTensor.ByteSize(e.DType, e.Shape, out long count, out _);
            tensors[k] = SafeTensor.FromFile(e.Name, e.DType, e.Shape, count, file.Slice(start + (int)e.Begin, (int)(e.End - e.Begin)));
            index.Add(e.Name, k);
        }
        return new SafeTensorsFile(tensors, index, metadata is null ? null : new ReadOnlyDictionary<string, string>(metadata), n);
    }

    private readonly record struct Entry(string Name, SafeTensorsDType DType, long[] Shape, ulong Begin, ulong End);

    private static Dictionary<string, string>? ReadMetadata(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Invalid($"'{MetadataKey}' is a JSON {Describe(reader.TokenType)}; it must be an object of strings");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.EndObject) return map;
            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw Invalid($"'{MetadataKey}' entry '{key}' is a JSON {Describe(reader.TokenType)}; every metadata value must be a string");
            if (!map.TryAdd(key, reader.GetString()!)) throw Invalid($"'{MetadataKey}' has the key '{key}' twice");
        }
    }

    private static Entry ReadEntry(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Invalid($"tensor '{name}' is a JSON {Describe(reader.TokenType)}; it must be an object with dtype, shape and data_offsets");
        SafeTensorsDType? dtype = null;
        long[]? shape = null;
        ulong[]? offsets = null;
        while (true)
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.EndObject) break;
            string field = reader.GetString()!;
            reader.Read();
            switch (field)
            {
                case "dtype":
                    if (dtype is not null) throw Invalid($"tensor '{name}' has the field 'dtype' twice");
                    if (reader.TokenType != JsonTokenType.String) throw Invalid($"tensor '{name}': dtype is a JSON {Describe(reader.TokenType)}, not a string");
                    string text = reader.GetString()!;
                    if (!SafeTensorsDTypes.TryParse(text, out SafeTensorsDType d))
                        throw Invalid($"tensor '{name}': unknown dtype \"{text}\" (the format's dtypes are BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64, C64 and the F4 / F6 / F8 kinds)");
                    dtype = d;
                    break;
                case "shape":
                    if (shape is not null) throw Invalid($"tensor '{name}' has the field 'shape' twice");
                    ulong[] dims = ReadIntegers(ref reader, name, "shape");
                    shape = new long[dims.Length];
                    for (int i = 0; i < dims.Length; i++)
                    {
                        if (dims[i] > long.MaxValue) throw Invalid($"tensor '{name}': shape entry {i} ({dims[i]}) is too large");
                        shape[i] = (long)dims[i];
                    }
                    break;
                case "data_offsets":
                    if (offsets is not null) throw Invalid($"tensor '{name}' has the field 'data_offsets' twice");
                    offsets = ReadIntegers(ref reader, name, "data_offsets");
                    if (offsets.Length != 2) throw Invalid($"tensor '{name}': data_offsets has {offsets.Length} entries; it must be [begin, end]");
                    break;
                default:
                    // The reference (serde without deny_unknown_fields) ignores unknown fields; so does this reader.
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null) throw Invalid($"tensor '{name}' has no dtype");
        if (shape is null) throw Invalid($"tensor '{name}' has no shape");
        if (offsets is null) throw Invalid($"tensor '{name}' has no data_offsets");
        return new Entry(name, dtype.Value, shape, offsets[0], offsets[1]);
    }

    /// <summary>A JSON array of non-negative integers (no fraction, no exponent, no sign), as serde reads a usize list.</summary>
    private static ulong[] ReadIntegers(ref Utf8JsonReader reader, string name, string field)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw Invalid($"tensor '{name}': {field} is a JSON {Describe(reader.TokenType)}, not an array");
        var values = new List<ulong>();
        while (true)
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.EndArray) return values.ToArray();
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetUInt64(out ulong v))
            {
                string shown = reader.TokenType == JsonTokenType.Number ? Encoding.UTF8.GetString(reader.ValueSpan) : "a JSON " + Describe(reader.TokenType);
                throw Invalid($"tensor '{name}': {field} entry {values.Count} is {shown}, not a non-negative integer");
            }
            values.Add(v);
        }
    }

    private static string Describe(JsonTokenType t) => t switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => t.ToString(),
    };

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return -1;
        int at = 0;
        while (at < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes.Slice(at), out _, out int consumed) != OperationStatus.Done) return at;
            at += consumed;
        }
        return at;
    }

    private static InvalidDataException Invalid(string problem) => new($"Not a valid safetensors file: {problem}.");

    // ------------------------------------------------------------------------------------------------ writing

    /// <summary>
    /// The file's bytes, as the reference writer lays them out: tensors by descending dtype (the order of
    /// <see cref="SafeTensorsDType"/>), then by name (UTF-8 byte order), data back to back in that order; the header is
    /// compact JSON with <c>__metadata__</c> first (keys in UTF-8 byte order), padded with spaces to a multiple of 8.
    /// </summary>
    /// <exception cref="ArgumentException">The header would exceed <see cref="MaxHeaderLength"/>, the file 2 GiB, or a name is not valid Unicode.</exception>
    public byte[] ToArray()
    {
        var order = (SafeTensor[])_tensors.Clone();
        Array.Sort(order, (a, b) =>
        {
            int c = b.DType.CompareTo(a.DType);
            return c != 0 ? c : CompareUtf8(a.Name, b.Name);
        });
        var json = new ArrayBufferWriter<byte>(256 + 96 * order.Length);
        Put(json, "{"u8);
        bool first = true;
        if (Metadata is not null)
        {
            Put(json, "\""u8);
            Put(json, Utf8(MetadataKey));
            Put(json, "\":{"u8);
            var keys = new List<string>(Metadata.Keys);
            keys.Sort(CompareUtf8);
            for (int i = 0; i < keys.Count; i++)
            {
                if (i > 0) Put(json, ","u8);
                WriteString(json, keys[i]);
                Put(json, ":"u8);
                WriteString(json, Metadata[keys[i]]);
            }
            Put(json, "}"u8);
            first = false;
        }
        ulong offset = 0;
        for (int k = 0; k < order.Length; k++)
        {
            SafeTensor t = order[k];
            if (!first) Put(json, ","u8);
            first = false;
            WriteString(json, t.Name);
            Put(json, ":{\"dtype\":\""u8);
            Put(json, Encoding.ASCII.GetBytes(SafeTensorsDTypes.Name(t.DType)));
            Put(json, "\",\"shape\":["u8);
            for (int d = 0; d < t.Shape.Count; d++)
            {
                if (d > 0) Put(json, ","u8);
                Put(json, Encoding.ASCII.GetBytes(t.Shape[d].ToString(CultureInfo.InvariantCulture)));
            }
            ulong end = offset + (ulong)t.Data.Length;
            Put(json, Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"],\"data_offsets\":[{offset},{end}]}}")));
            offset = end;
        }
        Put(json, "}"u8);
        int padded = (json.WrittenCount + HeaderAlignment - 1) / HeaderAlignment * HeaderAlignment;
        if (padded > MaxHeaderLength) throw new ArgumentException($"The safetensors header would take {padded} bytes, more than the format's {MaxHeaderLength}.");
        ulong total = 8 + (ulong)padded + offset;
        if (total > (ulong)Array.MaxLength) throw new ArgumentException($"The safetensors file would take {total} bytes, more than the {Array.MaxLength} of one array.");
        var bytes = new byte[total];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        json.WrittenSpan.CopyTo(bytes.AsSpan(8));
        bytes.AsSpan(8 + json.WrittenCount, padded - json.WrittenCount).Fill((byte)' ');
        int at = 8 + padded;
        foreach (SafeTensor t in order)
        {
            t.Data.Span.CopyTo(bytes.AsSpan(at));
            at += t.Data.Length;
        }
        return bytes;
    }

    /// <summary>Writes the file to <paramref name="path"/> atomically (temporary file in the same directory, flushed, renamed).</summary>
    /// <exception cref="ArgumentException">See <see cref="ToArray"/>.</exception>
    /// <exception cref="IOException">The file could not be written (a previous file at the path is untouched).</exception>
    public void Save(string path) => AtomicFile.Write(path, ToArray());

    /// <summary>Writes the file to a stream at its current position (the stream is not closed).</summary>
    /// <exception cref="ArgumentException">See <see cref="ToArray"/>.</exception>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToArray());
    }

    private static void Put(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> bytes) => w.Write(bytes);

    private static byte[] Utf8(string s)
    {
        try
        {
            return s_strictUtf8.GetBytes(s);
        }
        catch (EncoderFallbackException)
        {
            throw new ArgumentException($"The name or metadata text \"{s}\" is not valid Unicode (a lone surrogate).");
        }
    }

    /// <summary>Rust's string order: the UTF-8 bytes compared lexicographically (= code-point order, unlike UTF-16 ordinal order).</summary>
    internal static int CompareUtf8(string a, string b) => Utf8(a).AsSpan().SequenceCompareTo(Utf8(b));

    /// <summary>A JSON string escaped as serde_json escapes it: <c>\"</c>, <c>\\</c>, <c>\b \f \n \r \t</c>, other control characters as <c>\u00xx</c>, everything else raw UTF-8.</summary>
    private static void WriteString(ArrayBufferWriter<byte> w, string s)
    {
        Put(w, "\""u8);
        byte[] bytes = Utf8(s);
        int run = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            byte c = bytes[i];
            ReadOnlySpan<byte> escape = c switch
            {
                (byte)'"' => "\\\""u8,
                (byte)'\\' => "\\\\"u8,
                (byte)'\b' => "\\b"u8,
                (byte)'\f' => "\\f"u8,
                (byte)'\n' => "\\n"u8,
                (byte)'\r' => "\\r"u8,
                (byte)'\t' => "\\t"u8,
                _ => default,
            };
            if (escape.IsEmpty && c >= 0x20) continue;
            Put(w, bytes.AsSpan(run, i - run));
            if (escape.IsEmpty) Put(w, Encoding.ASCII.GetBytes($"\\u{c:x4}"));
            else Put(w, escape);
            run = i + 1;
        }
        Put(w, bytes.AsSpan(run));
        Put(w, "\""u8);
    }
}
